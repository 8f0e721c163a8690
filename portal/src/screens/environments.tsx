import { useSignal } from '@preact/signals';
import { useRef } from 'preact/hooks';
import { api, ApiError, messageOf, type Environment, type Me } from '../api';
import { can, refreshMe } from '../session';
import { Alert, Badge } from '../ui/alert';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { TextField } from '../ui/field';
import { PageHeader } from '../ui/page';
import { Loaded, useResource } from '../ui/resource';
import { FlushCard, Table } from '../ui/table';
import { Time } from '../ui/time';
import { toast } from '../ui/toast';

/** What the server checks a new environment's name against (ENVIRONMENT_NAME), said the same way. */
const NAME = /^[a-z][a-z0-9-]{0,30}$/;

export function Environments({ me }: { me: Me }) {
  const environments = useResource(() => api.environments(), []);
  /** The list changed: read it again, and the session's copy the switcher shows. */
  async function changed() {
    await Promise.all([environments.reload(), refreshMe()]);
  }
  return (
    <>
      <PageHeader
        title="Environments"
        description="Each environment has its own API keys, allowed origins, connector settings, end users, flows, runs and webhooks; members belong to the whole tenant. Flow templates move between environments by promotion."
      />
      {can('admin') && <AddEnvironment onAdded={changed} />}
      <FlushCard titleId="environments-title" title="Environments">
        <Loaded resource={environments} what="the environments">
          {(list) => <EnvironmentTable environments={list.data} activeId={me.activeTenantId} onChanged={changed} />}
        </Loaded>
      </FlushCard>
    </>
  );
}

function AddEnvironment({ onAdded }: { onAdded: () => Promise<void> }) {
  const name = useSignal('');
  const protect = useSignal(false);
  const errors = useSignal<{ name?: string; protected?: string; form?: string }>({});
  const busy = useSignal(false);
  const nameInput = useRef<HTMLInputElement>(null);

  async function add(event: Event) {
    event.preventDefault();
    if (busy.value) return;
    const value = name.value.trim();
    if (!NAME.test(value)) {
      errors.value = { name: value ? 'Use lowercase letters, digits and dashes, starting with a letter (at most 31).' : 'Name the environment, such as “staging”.' };
      nameInput.current?.focus();
      return;
    }
    busy.value = true;
    errors.value = {};
    try {
      const created = await api.createEnvironment({ name: value, protected: protect.value });
      name.value = '';
      protect.value = false;
      await onAdded();
      toast(`Added ${created.name}`);
    } catch (caught) {
      if (caught instanceof ApiError && (caught.fieldErrors.name || caught.fieldErrors.protected)) {
        errors.value = { name: caught.fieldErrors.name, protected: caught.fieldErrors.protected };
      } else if (caught instanceof ApiError && caught.code === 'conflict') {
        errors.value = { name: caught.message };
      } else {
        errors.value = { form: messageOf(caught) };
      }
      nameInput.current?.focus();
    } finally {
      busy.value = false;
    }
  }

  return (
    <section class="card" aria-labelledby="add-environment-title">
      <h2 id="add-environment-title" class="card-title">
        Add an environment
      </h2>
      {errors.value.form && <Alert tone="error">{errors.value.form}</Alert>}
      <form class="inline-form" onSubmit={add} noValidate>
        <TextField
          label="Environment name"
          name="environment"
          placeholder="e.g. staging"
          autoComplete="off"
          spellcheck={false}
          maxLength={31}
          hint="Lowercase letters, digits and dashes. It starts empty: its own keys, connectors, end users and flows."
          value={name.value}
          onValue={(v) => (name.value = v)}
          error={errors.value.name}
          inputRef={nameInput}
          class="grow"
        />
        <button type="submit" class="btn btn-primary" disabled={busy.value}>
          {busy.value ? 'Adding…' : 'Add environment'}
        </button>
      </form>
      <label class="check-inline env-protect-check">
        <input type="checkbox" name="protected" checked={protect.value} onChange={(e) => (protect.value = e.currentTarget.checked)} />
        Protected: flow templates arrive only by promotion
      </label>
      {errors.value.protected && <p class="field-error">Protected {errors.value.protected}</p>}
    </section>
  );
}

function EnvironmentTable({ environments, activeId, onChanged }: { environments: Environment[]; activeId: string | null; onChanged: () => Promise<void> }) {
  const owner = can('owner');
  const busy = useSignal<string | null>(null);
  const error = useSignal<string | null>(null);
  /** Lifting protection asks first: it lets anyone with the developer role edit flows there directly. */
  const lifting = useSignal<Environment | null>(null);

  async function setProtected(env: Environment, value: boolean) {
    busy.value = env.id;
    error.value = null;
    try {
      await api.setEnvironmentProtected(env.id, value);
      lifting.value = null;
      await onChanged();
      toast(value ? `${env.name} is protected` : `${env.name} is no longer protected`);
    } catch (caught) {
      error.value = messageOf(caught);
    } finally {
      busy.value = null;
    }
  }

  return (
    <>
      {error.value && !lifting.value && (
        <div class="card-pad">
          <Alert tone="error" onDismiss={() => (error.value = null)}>
            {error.value}
          </Alert>
        </div>
      )}
      <Table columns={['Name', 'Flow templates', 'Created', ...(owner ? [<span class="sr-only">Actions</span>] : [])]}>
        {environments.map((env) => (
          <tr key={env.id} data-environment={env.name}>
            <th scope="row" class="cell-strong">
              {env.name}
              {env.primary && (
                <>
                  {' '}
                  <Badge tone="neutral">Primary</Badge>
                </>
              )}
              {env.id === activeId && (
                <>
                  {' '}
                  <Badge tone="accent">Active</Badge>
                </>
              )}
            </th>
            <td>{env.protected ? <Badge tone="danger">Protected: by promotion only</Badge> : <Badge tone="success">Editable</Badge>}</td>
            <td>
              <Time iso={env.createdAt} />
            </td>
            {owner && (
              <td class="cell-actions">
                {env.protected ? (
                  <button type="button" class="btn btn-danger-quiet btn-small" aria-label={`Lift protection of ${env.name}`} onClick={() => (lifting.value = env)}>
                    Lift protection
                  </button>
                ) : (
                  <button
                    type="button"
                    class="btn btn-secondary btn-small"
                    aria-label={`Protect ${env.name}`}
                    disabled={busy.value === env.id}
                    onClick={() => setProtected(env, true)}
                  >
                    {busy.value === env.id ? 'Protecting…' : 'Protect'}
                  </button>
                )}
              </td>
            )}
          </tr>
        ))}
      </Table>
      {lifting.value && (
        <ConfirmDialog
          title={`Lift the protection of ${lifting.value.name}?`}
          confirmLabel="Lift protection"
          busy={busy.value !== null}
          error={error.value}
          onConfirm={() => setProtected(lifting.value!, false)}
          onCancel={() => {
            lifting.value = null;
            error.value = null;
          }}
        >
          <p>Developers could then create and publish flow templates in {lifting.value.name} directly, without a promotion and its review.</p>
        </ConfirmDialog>
      )}
    </>
  );
}
