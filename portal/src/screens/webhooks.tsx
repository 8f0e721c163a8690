import { useSignal } from '@preact/signals';
import { useEffect, useId, useRef } from 'preact/hooks';
import { api, ApiError, messageOf, type WebhookDelivery, type WebhookEndpoint, type WebhookEventType } from '../api';
import { formatDuration } from '../format';
import { Link, navigate } from '../router';
import { can } from '../session';
import { Alert, Badge, Spinner } from '../ui/alert';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { CopyBox } from '../ui/copy-box';
import { TextField } from '../ui/field';
import { LoadMore } from '../ui/load-more';
import { Breadcrumb, EmptyState, PageHeader, RoleNotice } from '../ui/page';
import { Loaded, useResource } from '../ui/resource';
import { Switch } from '../ui/switch';
import { Time } from '../ui/time';
import { toast } from '../ui/toast';
import { FlushCard, Table } from '../ui/table';

/** By every event type the API sends: a type it adds that this lacks fails to compile. */
const EVENT_LABELS: Record<WebhookEventType, string> = {
  'connection.created': 'An end user connected an account',
  'connection.needs_reauth': 'A connection needs to be reconnected',
  'connection.deleted': 'A connection was removed',
  'flow.enabled': 'An end user switched a flow on',
  'flow.disabled': 'An end user switched a flow off',
  'run.succeeded': 'A run succeeded',
  'run.failed': 'A run failed',
  'approval.requested': 'A step waits for approval',
  'alert.fired': 'An alert rule fired',
  'alert.resolved': 'An alert rule resolved',
};
const WEBHOOK_EVENT_TYPES = Object.keys(EVENT_LABELS) as WebhookEventType[];

/** The secret shown once after create or rotate, kept while the user moves from the list to the endpoint. */
const revealed = { endpointId: '', secret: '' };

function EventTypesField({ value, onChange, error }: { value: WebhookEventType[]; onChange: (v: WebhookEventType[]) => void; error?: string }) {
  const id = useId();
  return (
    <fieldset class={`checkbox-group${error ? ' field-invalid' : ''}`} aria-describedby={error ? `${id}-error` : undefined}>
      <legend>Events to send</legend>
      <div class="checkbox-grid">
        {WEBHOOK_EVENT_TYPES.map((type) => (
          <label key={type} class="checkbox">
            <input
              type="checkbox"
              name="eventTypes"
              value={type}
              checked={value.includes(type)}
              onChange={(e) => onChange(e.currentTarget.checked ? [...value, type] : value.filter((v) => v !== type))}
            />
            <span>
              <code>{type}</code>
              <span class="muted small block">{EVENT_LABELS[type]}</span>
            </span>
          </label>
        ))}
      </div>
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </fieldset>
  );
}

function urlProblem(url: string): string | null {
  if (!url.trim()) return 'Give the URL your backend receives webhooks at.';
  try {
    const parsed = new URL(url.trim());
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'The URL must start with https://';
    return null;
  } catch {
    return 'That is not a URL: write it like https://api.example.com/webhooks/switchboard';
  }
}

export function Webhooks() {
  return (
    <>
      <PageHeader
        title="Webhooks"
        description="Switchboard tells your backend when things happen: connections made or broken, runs finished, approvals waiting. Each request is signed (Standard Webhooks)."
      />
      {can('admin') ? <WebhooksBody /> : <RoleNotice needed="admin" what="manage webhook endpoints" />}
    </>
  );
}

function WebhooksBody() {
  const endpoints = useResource(() => api.webhookEndpoints(), []);
  const url = useSignal('');
  const description = useSignal('');
  const types = useSignal<WebhookEventType[]>(['run.failed', 'connection.needs_reauth']);
  const errors = useSignal<Record<string, string>>({});
  const formError = useSignal<string | null>(null);
  const busy = useSignal(false);
  const urlInput = useRef<HTMLInputElement>(null);

  async function create(event: Event) {
    event.preventDefault();
    const local: Record<string, string> = {};
    const problem = urlProblem(url.value);
    if (problem) local.url = problem;
    if (types.value.length === 0) local.eventTypes = 'Pick at least one event.';
    errors.value = local;
    formError.value = null;
    if (Object.keys(local).length) {
      if (local.url) urlInput.current?.focus();
      return;
    }
    busy.value = true;
    try {
      const created = await api.createWebhookEndpoint({
        url: url.value.trim(),
        eventTypes: types.value,
        ...(description.value.trim() ? { description: description.value.trim() } : {}),
      });
      Object.assign(revealed, { endpointId: created.id, secret: created.secret });
      navigate(`webhooks/${created.id}`);
    } catch (caught) {
      if (caught instanceof ApiError && Object.keys(caught.fieldErrors).length) {
        errors.value = Object.fromEntries(Object.entries(caught.fieldErrors).map(([path, message]) => [path.split('.')[0], `${path} ${message}`]));
        if (!errors.value.url && !errors.value.eventTypes) formError.value = caught.message;
      } else formError.value = messageOf(caught);
    } finally {
      busy.value = false;
    }
  }

  return (
    <>
      <section class="card" aria-labelledby="new-endpoint-title">
        <h2 id="new-endpoint-title" class="card-title">
          Add an endpoint
        </h2>
        {formError.value && <Alert tone="error">{formError.value}</Alert>}
        <form onSubmit={create} noValidate>
          <div class="inline-form">
            <TextField
              label="URL"
              name="url"
              placeholder="https://api.example.com/webhooks/switchboard"
              autoComplete="off"
              spellcheck={false}
              value={url.value}
              onValue={(v) => (url.value = v)}
              error={errors.value.url}
              inputRef={urlInput}
              class="grow"
            />
            <TextField
              label="Description"
              name="description"
              optional
              value={description.value}
              onValue={(v) => (description.value = v)}
              maxLength={500}
              error={errors.value.description}
              class="grow"
            />
          </div>
          <EventTypesField value={types.value} onChange={(v) => (types.value = v)} error={errors.value.eventTypes} />
          <div class="form-actions">
            <button type="submit" class="btn btn-primary" disabled={busy.value}>
              {busy.value ? 'Adding…' : 'Add endpoint'}
            </button>
          </div>
        </form>
      </section>
      <FlushCard titleId="endpoints-title" title="Endpoints">
        <Loaded resource={endpoints} what="the endpoints">
          {(page) =>
            page.data.length === 0 ? (
              <EmptyState title="No endpoints yet">Add your backend's URL above and pick the events it should hear about.</EmptyState>
            ) : (
              <Table columns={['Endpoint', 'Events', 'State', 'Added']}>
                {page.data.map((e) => (
                  <tr key={e.id} data-endpoint={e.id}>
                    <th scope="row">
                      <Link to={`webhooks/${e.id}`} class="cell-link mono small">
                        {e.url}
                      </Link>
                      {e.description && <span class="muted small block">{e.description}</span>}
                    </th>
                    <td>{e.eventTypes.length === WEBHOOK_EVENT_TYPES.length ? 'All events' : e.eventTypes.join(', ')}</td>
                    <td>
                      <EndpointState endpoint={e} />
                    </td>
                    <td>
                      <Time iso={e.createdAt} relative />
                    </td>
                  </tr>
                ))}
              </Table>
            )
          }
        </Loaded>
      </FlushCard>
    </>
  );
}

function EndpointState({ endpoint }: { endpoint: WebhookEndpoint }) {
  if (endpoint.enabled) return <Badge tone="success">Enabled</Badge>;
  return (
    <span title={endpoint.disabledReason ?? undefined}>
      <Badge tone={endpoint.disabledReason ? 'danger' : 'neutral'}>{endpoint.disabledReason ? 'Disabled by failures' : 'Disabled'}</Badge>
    </span>
  );
}

export function WebhookDetail({ endpointId }: { endpointId: string }) {
  const endpoint = useResource(() => api.webhookEndpoint(endpointId), [endpointId]);
  const found = endpoint.data.value;
  return (
    <>
      <Breadcrumb to="webhooks" section="Webhooks">
        Endpoint
      </Breadcrumb>
      <PageHeader title="Webhook endpoint" description={found ? <span class="mono">{found.url}</span> : ''} actions={found && <EndpointState endpoint={found} />} />
      {!can('admin') ? (
        <RoleNotice needed="admin" what="manage webhook endpoints" />
      ) : endpoint.status.value === 404 || endpoint.status.value === 400 ? (
        <EmptyState title="There is no such endpoint in this tenant.">
          <Link to="webhooks">See every endpoint</Link>
        </EmptyState>
      ) : (
        <Loaded resource={endpoint} what="the endpoint">
          {(e) => (
            <>
              <EndpointSettings endpoint={e} onChanged={(next) => (endpoint.data.value = next)} />
              <Deliveries endpoint={e} />
            </>
          )}
        </Loaded>
      )}
    </>
  );
}

function EndpointSettings({ endpoint, onChanged }: { endpoint: WebhookEndpoint; onChanged: (e: WebhookEndpoint) => void }) {
  const url = useSignal(endpoint.url);
  const description = useSignal(endpoint.description ?? '');
  const types = useSignal(endpoint.eventTypes);
  const enabled = useSignal(endpoint.enabled);
  const errors = useSignal<Record<string, string>>({});
  const formError = useSignal<string | null>(null);
  const busy = useSignal(false);
  const secret = useSignal<string | null>(revealed.endpointId === endpoint.id ? revealed.secret : null);
  const confirm = useSignal<'rotate' | 'delete' | null>(null);
  const confirmError = useSignal<string | null>(null);

  useEffect(() => {
    // Shown once: forget it as soon as it is on screen.
    Object.assign(revealed, { endpointId: '', secret: '' });
  }, []);

  async function save(event: Event) {
    event.preventDefault();
    const local: Record<string, string> = {};
    const problem = urlProblem(url.value);
    if (problem) local.url = problem;
    if (types.value.length === 0) local.eventTypes = 'Pick at least one event.';
    errors.value = local;
    formError.value = null;
    if (Object.keys(local).length) return;
    busy.value = true;
    try {
      const next = await api.updateWebhookEndpoint(endpoint.id, { url: url.value.trim(), description: description.value.trim(), eventTypes: types.value, enabled: enabled.value });
      onChanged(next);
      toast('Endpoint saved');
    } catch (caught) {
      if (caught instanceof ApiError && Object.keys(caught.fieldErrors).length) {
        errors.value = Object.fromEntries(Object.entries(caught.fieldErrors).map(([path, message]) => [path.split('.')[0], `${path} ${message}`]));
      }
      formError.value = messageOf(caught);
    } finally {
      busy.value = false;
    }
  }

  async function confirmed() {
    busy.value = true;
    confirmError.value = null;
    try {
      if (confirm.value === 'rotate') {
        const rotated = await api.rotateWebhookSecret(endpoint.id);
        secret.value = rotated.secret;
        confirm.value = null;
        toast('New signing secret created');
      } else {
        await api.deleteWebhookEndpoint(endpoint.id);
        confirm.value = null;
        toast('Endpoint deleted');
        navigate('webhooks');
      }
    } catch (caught) {
      confirmError.value = messageOf(caught);
    } finally {
      busy.value = false;
    }
  }

  async function sendTest() {
    busy.value = true;
    formError.value = null;
    try {
      await api.testWebhookEndpoint(endpoint.id);
      toast('Test event sent: it appears in the delivery log');
    } catch (caught) {
      formError.value = messageOf(caught);
    } finally {
      busy.value = false;
    }
  }

  return (
    <>
      {secret.value && (
        <section class="callout" aria-labelledby="secret-title">
          <h2 id="secret-title" class="callout-title">
            Your signing secret
          </h2>
          <p>
            <strong>Copy it now: you will not see it again.</strong> Verify each request with it, for example with <code>switchboard.webhooks.verify(body, headers, secret)</code>{' '}
            from the SDK.
          </p>
          <CopyBox label="Signing secret" value={secret.value} autoFocus />
          <div class="callout-actions">
            <button type="button" class="btn btn-secondary" onClick={() => (secret.value = null)}>
              I have stored it
            </button>
          </div>
        </section>
      )}
      <section class="card" aria-labelledby="endpoint-settings-title">
        <h2 id="endpoint-settings-title" class="card-title">
          Settings
        </h2>
        {endpoint.disabledReason && (
          <Alert tone="warning" title="Switchboard disabled this endpoint">
            {endpoint.disabledReason}. Switch it back on once your backend answers again.
          </Alert>
        )}
        {formError.value && <Alert tone="error">{formError.value}</Alert>}
        <form onSubmit={save} noValidate>
          <fieldset class="plain-fieldset" disabled={busy.value}>
            <legend class="sr-only">Endpoint settings</legend>
            <div class="inline-form">
              <TextField label="URL" name="url" spellcheck={false} value={url.value} onValue={(v) => (url.value = v)} error={errors.value.url} class="grow" />
              <TextField
                label="Description"
                name="description"
                optional
                value={description.value}
                onValue={(v) => (description.value = v)}
                maxLength={500}
                error={errors.value.description}
                class="grow"
              />
            </div>
            <Switch label="Enabled" checked={enabled.value} onChange={(v) => (enabled.value = v)} hint="A disabled endpoint gets nothing; events are not queued for it." />
            <EventTypesField value={types.value} onChange={(v) => (types.value = v)} error={errors.value.eventTypes} />
          </fieldset>
          <div class="form-actions form-actions-split">
            <div class="form-actions-left">
              <button type="button" class="btn btn-danger-quiet" onClick={() => ((confirmError.value = null), (confirm.value = 'delete'))}>
                Delete endpoint
              </button>
              <button type="button" class="btn btn-secondary" onClick={() => ((confirmError.value = null), (confirm.value = 'rotate'))}>
                Rotate secret
              </button>
              <button type="button" class="btn btn-secondary" disabled={busy.value || !endpoint.enabled} onClick={sendTest}>
                Send test event
              </button>
            </div>
            <button type="submit" class="btn btn-primary" disabled={busy.value}>
              {busy.value ? 'Saving…' : 'Save changes'}
            </button>
          </div>
        </form>
      </section>
      {confirm.value && (
        <ConfirmDialog
          title={confirm.value === 'delete' ? 'Delete this endpoint?' : 'Rotate the signing secret?'}
          confirmLabel={confirm.value === 'delete' ? 'Delete endpoint' : 'Rotate secret'}
          busy={busy.value}
          error={confirmError.value}
          onConfirm={confirmed}
          onCancel={() => (confirm.value = null)}
        >
          <p>
            {confirm.value === 'delete'
              ? 'Your backend stops receiving these events at once, and the delivery log is deleted with it.'
              : 'The current secret stops working now: requests are signed with the new one, so update your backend right away.'}
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

function Deliveries({ endpoint }: { endpoint: WebhookEndpoint }) {
  const rows = useSignal<WebhookDelivery[] | null>(null);
  const cursor = useSignal<string | null>(null);
  const loading = useSignal(false);
  const error = useSignal<string | null>(null);
  const resending = useSignal<string | null>(null);

  async function load(reset: boolean) {
    loading.value = true;
    error.value = null;
    try {
      const page = await api.webhookDeliveries(endpoint.id, reset ? null : cursor.value);
      rows.value = reset ? page.data : [...(rows.value ?? []), ...page.data];
      cursor.value = page.nextCursor;
    } catch (caught) {
      error.value = messageOf(caught);
    } finally {
      loading.value = false;
    }
  }

  useEffect(() => {
    void load(true);
  }, [endpoint.id, endpoint.updatedAt]);

  async function resend(delivery: WebhookDelivery) {
    resending.value = delivery.id;
    error.value = null;
    try {
      await api.resendDelivery(delivery.id);
      toast(`Resending ${delivery.eventType}`);
      await load(true);
    } catch (caught) {
      error.value = messageOf(caught);
    } finally {
      resending.value = null;
    }
  }

  return (
    <FlushCard
      titleId="deliveries-title"
      title="Delivery log"
      aside={
        <button type="button" class="btn btn-secondary btn-small" disabled={loading.value} onClick={() => load(true)}>
          Refresh
        </button>
      }
    >
      {error.value && (
        <div class="card-pad">
          <Alert tone="error">{error.value}</Alert>
        </div>
      )}
      {rows.value === null && !error.value && (
        <div class="card-pad card-pad-bottom">
          <Spinner label="Loading deliveries…" />
        </div>
      )}
      {rows.value && rows.value.length === 0 && <EmptyState title="Nothing sent yet">Deliveries show up here as events happen. “Send test event” sends a ping now.</EmptyState>}
      {rows.value && rows.value.length > 0 && (
        <>
          <Table columns={['Event', 'Result', 'Attempts', 'Sent', <span class="sr-only">Actions</span>]}>
            {rows.value.map((d) => (
              <tr key={d.id} data-delivery={d.id} data-status={d.status}>
                <th scope="row">
                  <code>{d.eventType}</code>
                  <span class="muted small block mono">{d.eventId.slice(0, 8)}</span>
                </th>
                <td>
                  {d.status === 'succeeded' ? (
                    <Badge tone="success">Delivered</Badge>
                  ) : d.status === 'failed' ? (
                    <Badge tone="danger">Failed</Badge>
                  ) : (
                    <Badge tone="warning">Pending</Badge>
                  )}
                  <span class="muted small block">
                    {[d.responseStatus !== null ? `HTTP ${d.responseStatus}` : null, d.latencyMs !== null ? formatDuration(d.latencyMs) : null, d.error]
                      .filter(Boolean)
                      .join(' · ')}
                    {d.status === 'pending' && d.nextAttemptAt ? (
                      <>
                        {' '}
                        · next try <Time iso={d.nextAttemptAt} relative />
                      </>
                    ) : null}
                  </span>
                </td>
                <td>{d.attempts}</td>
                <td class="nowrap">
                  <Time iso={d.createdAt} relative />
                </td>
                <td class="cell-actions">
                  {d.status !== 'pending' && (
                    <button
                      type="button"
                      class="btn btn-secondary btn-small"
                      disabled={resending.value !== null}
                      aria-label={`Resend ${d.eventType} ${d.eventId.slice(0, 8)}`}
                      onClick={() => resend(d)}
                    >
                      {resending.value === d.id ? 'Resending…' : 'Resend'}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </Table>
          <LoadMore hasMore={cursor.value !== null} loading={loading.value} onMore={() => load(false)} />
        </>
      )}
    </FlushCard>
  );
}
