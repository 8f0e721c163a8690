import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { api, ApiError, messageOf, type ApiKey } from '../api';
import { formatDateTime, formatRelative } from '../format';
import { can } from '../session';
import { Alert, Badge, Spinner } from '../ui/alert';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { CopyBox } from '../ui/copy-box';
import { TextField } from '../ui/field';
import { EmptyState, PageHeader, RoleNotice } from '../ui/page';
import { toast } from '../ui/toast';
import { FlushCard, Table } from '../ui/table';

function Time({ iso, relative }: { iso: string; relative?: boolean }) {
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {relative ? formatRelative(iso) : formatDateTime(iso)}
    </time>
  );
}

/** Active keys first, then newest first. */
const byStatusThenNewest = (a: ApiKey, b: ApiKey) => Number(Boolean(a.revokedAt)) - Number(Boolean(b.revokedAt)) || b.createdAt.localeCompare(a.createdAt);

export function ApiKeys() {
  const allowed = can('developer');
  return (
    <>
      <PageHeader title="API keys" description="Secret keys let your backend call the Switchboard API. Keep them on your servers: never in a browser, an app or source control." />
      {allowed ? <ApiKeysBody /> : <RoleNotice needed="developer" what="see or manage API keys" />}
    </>
  );
}

function ApiKeysBody() {
  const keys = useSignal<ApiKey[] | null>(null);
  const loadError = useSignal<string | null>(null);
  const name = useSignal('');
  const creating = useSignal(false);
  const createError = useSignal<string | null>(null);
  const created = useSignal<{ apiKey: ApiKey; secret: string } | null>(null);
  const revoking = useSignal<ApiKey | null>(null);
  const revokeBusy = useSignal(false);
  const revokeError = useSignal<string | null>(null);
  const nameInput = useRef<HTMLInputElement>(null);

  async function load() {
    try {
      keys.value = (await api.apiKeys()).data.sort(byStatusThenNewest);
      loadError.value = null;
    } catch (caught) {
      loadError.value = messageOf(caught);
    }
  }

  useEffect(() => {
    void load();
  }, []);

  async function create(event: Event) {
    event.preventDefault();
    if (creating.value) return;
    if (!name.value.trim()) {
      createError.value = 'Give the key a name, such as “Production backend”.';
      nameInput.current?.focus();
      return;
    }
    creating.value = true;
    createError.value = null;
    try {
      const result = await api.createApiKey(name.value.trim());
      created.value = result;
      name.value = '';
      await load();
    } catch (caught) {
      createError.value = caught instanceof ApiError ? (caught.fieldErrors.name ? `Name ${caught.fieldErrors.name.replace(/^name /, '')}` : caught.message) : messageOf(caught);
      nameInput.current?.focus();
    } finally {
      creating.value = false;
    }
  }

  async function revoke() {
    const key = revoking.value;
    if (!key) return;
    revokeBusy.value = true;
    revokeError.value = null;
    try {
      await api.revokeApiKey(key.id);
      revoking.value = null;
      toast(`Revoked “${key.name}”`);
      if (created.value?.apiKey.id === key.id) created.value = null;
      await load();
    } catch (caught) {
      revokeError.value = messageOf(caught);
    } finally {
      revokeBusy.value = false;
    }
  }

  return (
    <>
      <section class="card" aria-labelledby="create-key-title">
        <h2 id="create-key-title" class="card-title">
          Create a secret key
        </h2>
        <form class="inline-form" onSubmit={create} noValidate>
          <TextField
            label="Key name"
            name="name"
            placeholder="e.g. Production backend"
            autoComplete="off"
            maxLength={100}
            hint="A name that tells you where the key is used."
            value={name.value}
            onValue={(v) => (name.value = v)}
            error={createError.value ?? undefined}
            inputRef={nameInput}
            class="grow"
          />
          <button type="submit" class="btn btn-primary" disabled={creating.value}>
            {creating.value ? 'Creating…' : 'Create key'}
          </button>
        </form>
      </section>

      {created.value && (
        <section class="callout" aria-labelledby="new-key-title">
          <h2 id="new-key-title" class="callout-title">
            Your new key “{created.value.apiKey.name}” is ready
          </h2>
          <p>
            <strong>Copy it now: you will not see it again.</strong> Store it in your backend's secret manager and send it as <code>Authorization: Bearer sk_…</code>.
          </p>
          <CopyBox label="Secret key" value={created.value.secret} autoFocus />
          <div class="callout-actions">
            <button type="button" class="btn btn-secondary" onClick={() => (created.value = null)}>
              I have stored it
            </button>
          </div>
        </section>
      )}

      <FlushCard titleId="keys-title" title="Keys" aside={keys.value && <span class="muted small">{keys.value.filter((k) => !k.revokedAt).length} active</span>}>
        {loadError.value && (
          <div class="card-pad">
            <Alert tone="error" title="Could not load the keys">
              {loadError.value}{' '}
              <button type="button" class="link-button" onClick={load}>
                Try again
              </button>
            </Alert>
          </div>
        )}
        {!keys.value && !loadError.value && (
          <div class="card-pad">
            <Spinner label="Loading keys…" />
          </div>
        )}
        {keys.value && keys.value.length === 0 && <EmptyState title="No keys yet">Create one above to let your backend call the API.</EmptyState>}
        {keys.value && keys.value.length > 0 && (
          <Table columns={['Name', 'Key', 'Created', 'Last used', 'Status', <span class="sr-only">Actions</span>]}>
            {keys.value.map((key) => (
              <tr key={key.id} class={key.revokedAt ? 'row-muted' : ''} data-key-id={key.id}>
                <th scope="row" class="cell-strong">
                  {key.name}
                </th>
                <td>
                  <code class="key-prefix">{key.prefix}…</code>
                </td>
                <td>
                  <Time iso={key.createdAt} />
                </td>
                <td>{key.lastUsedAt ? <Time iso={key.lastUsedAt} relative /> : <span class="muted">Never</span>}</td>
                <td>
                  {key.revokedAt ? (
                    <span title={`Revoked ${formatDateTime(key.revokedAt)}`}>
                      <Badge tone="danger">Revoked</Badge>
                    </span>
                  ) : (
                    <Badge tone="success">Active</Badge>
                  )}
                </td>
                <td class="cell-actions">
                  {!key.revokedAt && (
                    <button
                      type="button"
                      class="btn btn-danger-quiet btn-small"
                      aria-label={`Revoke ${key.name}`}
                      onClick={() => {
                        revokeError.value = null;
                        revoking.value = key;
                      }}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </FlushCard>

      {revoking.value && (
        <ConfirmDialog
          title={`Revoke “${revoking.value.name}”?`}
          confirmLabel="Revoke key"
          busy={revokeBusy.value}
          error={revokeError.value}
          onConfirm={revoke}
          onCancel={() => (revoking.value = null)}
        >
          <p>
            Requests that use <code>{revoking.value.prefix}…</code> will be refused from now on. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
