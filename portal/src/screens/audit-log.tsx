import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { api, messageOf, type AuditEvent } from '../api';
import { formatDateTime, formatRelative } from '../format';
import { can } from '../session';
import { Alert, Spinner } from '../ui/alert';
import { Field } from '../ui/field';
import { EmptyState, PageHeader, RoleNotice } from '../ui/page';
import { FlushCard } from '../ui/table';

const PAGE_SIZE = 50;

/**
 * What happened, as a sentence. `{name}` placeholders are filled from the event's data (and
 * `{target}` with what the event is about); the action's code stays visible under it.
 */
const ACTIONS: Record<string, string> = {
  'api_key.created': 'API key {target} created',
  'api_key.revoked': 'API key {target} revoked',
  'approval.approved': 'Request approved',
  'approval.rejected': 'Request rejected',
  'member.invited': '{email} invited as {role}',
  'member.joined': '{email} joined as {role}',
  'member.removed': '{email} removed',
  'member.role_changed': 'Role of {email} changed from {from} to {to}',
  'member.signed_in': 'Signed in to the portal',
  'member.signed_out': 'Signed out of the portal',
  'tenant.created': 'Tenant {name} created',
  'tenant.updated': 'Tenant settings changed',
  'end_user.created': 'End user {externalId} created',
  'end_user.updated': 'End user {externalId} updated',
  'end_user.deleted': 'End user {externalId} deleted',
  'end_user_session.created': 'Session started for end user {externalId}',
  'signing_key.created': 'Session signing key {name} added',
  'signing_key.revoked': 'Session signing key {name} revoked',
  'connector_config.updated': '{target} connector changed',
  'connector_config.deleted': '{target} connector reset to its defaults',
  'connector_openapi.imported': 'OpenAPI document imported into {target}',
  'connector_openapi.option_sources_updated': 'Option sources of {target} chosen',
  'connector_openapi.deleted': 'OpenAPI document removed from {target}',
  'custom_provider.created': 'Custom provider {name} added',
  'custom_provider.replaced': 'Custom provider {name} replaced',
  'custom_provider.deleted': 'Custom provider {name} removed',
  'llm_provider.created': 'AI model provider {name} added',
  'llm_provider.updated': 'AI model provider {key} changed',
  'llm_provider.deleted': 'AI model provider {name} removed',
  'flow_template.created': 'Flow {key} created',
  'flow_template.draft_updated': 'Draft of flow {key} edited',
  'flow_template.published': 'Flow {key} version {version} published',
  'flow_template.options_updated': 'Options of flow {key} changed',
  'flow_rollout.started': 'Rollout of flow {flow} version {version} started ({instances} end users)',
  'flow_rollout.stopped': 'Rollout of flow {flow} stopped',
  'flow_rollout.rollback_started': 'Rollout of flow {flow} being rolled back',
  'flow_rollout.completed': 'Rollout of flow {flow} completed',
  'flow_rollout.rolled_back': 'Rollout of flow {flow} rolled back',
  'flow.enabled': 'Flow {flow} switched on',
  'flow.disabled': 'Flow {flow} switched off',
  'flow.updated': 'Settings of flow {flow} changed',
  'flow.upgraded': 'Flow {flow} upgraded to version {to}',
  'flow.rolled_back': 'Flow {flow} put back on version {version} (rollout rolled back)',
  'flow.rebound': 'Flow {flow} moved to the new connection',
  'connection.created': '{connector} account {account} connected',
  'connection.reconnected': '{connector} account {account} reconnected',
  'connection.deleted': '{connector} account {account} disconnected',
  'connection.needs_reauth': '{connector} connection needs to be reconnected',
  'connection.token_read': '{connector} access token read',
  'run.cancelled': 'Run cancelled',
  'run.retried': 'Run retried (attempt {attempt})',
  'run.poisoned': 'Run stopped: it crashed its worker {crashedExecutions} times',
  'mcp.tool_called': 'AI assistant called {tool} for {endUserId}',
  'mcp.connector_exposure_updated': 'MCP tools of {target} changed',
  'mcp.approval_settings_updated': 'MCP approval settings changed',
  'webhook_endpoint.created': 'Webhook endpoint {url} added',
  'webhook_endpoint.updated': 'Webhook endpoint changed',
  'webhook_endpoint.deleted': 'Webhook endpoint {url} removed',
  'webhook_endpoint.disabled': 'Webhook endpoint disabled after failing deliveries',
  'webhook_endpoint.secret_rotated': 'Webhook signing secret rotated',
  'webhook_endpoint.tested': 'Test event sent to a webhook endpoint',
  'webhook_delivery.resent': 'Webhook delivery of {eventType} sent again',
};

const FILTERS: { value: string; label: string }[] = [
  { value: '', label: 'All activity' },
  { value: 'api_key.', label: 'API keys' },
  { value: 'member.', label: 'Members and sign-ins' },
  { value: 'tenant.', label: 'Tenant settings' },
  { value: 'end_user.', label: 'End users' },
  { value: 'end_user_session.', label: 'End-user sessions' },
  { value: 'connection.', label: 'Connections' },
  { value: 'connector_config.', label: 'Connectors' },
  { value: 'flow_template.', label: 'Flow templates' },
  { value: 'flow_rollout.', label: 'Flow rollouts' },
  { value: 'flow.', label: 'Flows of end users' },
  { value: 'run.', label: 'Runs' },
  { value: 'webhook_endpoint.', label: 'Webhook endpoints' },
  { value: 'mcp.', label: 'MCP' },
];

const str = (value: unknown): string | null => (typeof value === 'string' && value ? value : null);
const short = (id: string | null) => (id ? id.slice(0, 8) : '');

const ACTOR_KINDS: Record<AuditEvent['actorType'], string> = { member: 'Member', api_key: 'API key', end_user: 'End user', system: 'Switchboard' };

/** Who did it: the name the API resolved (a member's email, a key's name, an end user's id), else a short id. */
export function actorOf(event: AuditEvent): { label: string; kind: string } {
  const kind = ACTOR_KINDS[event.actorType] ?? event.actorType;
  if (event.actorType === 'system') return { label: 'Switchboard', kind: 'System' };
  return { label: event.actorName ?? `${kind} ${short(event.actorId)}`, kind };
}

/** What it is about: its name when the API or the event's data gives one, else its type and a short id. */
export function targetOf(event: AuditEvent, connectorName: (key: string) => string): { label: string; detail: string | null } {
  const data = event.data ?? {};
  const type = event.targetType?.replace(/_/g, ' ') ?? null;
  const label =
    event.targetName ??
    (event.targetType === 'connector' && event.targetId ? connectorName(event.targetId) : null) ??
    (event.targetType === 'connection' && str(data.connector) ? [connectorName(str(data.connector)!), str(data.account)].filter(Boolean).join(' · ') : null) ??
    (event.targetType === 'tenant' ? 'This tenant' : null) ??
    str(data.email) ??
    str(data.name) ??
    str(data.externalId) ??
    str(data.key) ??
    str(data.flow) ??
    str(data.url) ??
    (type ? `${type.charAt(0).toUpperCase()}${type.slice(1)} ${short(event.targetId)}` : '—');
  let detail: string | null = null;
  if (event.action === 'member.role_changed' && str(data.from) && str(data.to)) detail = `${str(data.from)} → ${str(data.to)}`;
  else if (str(data.role)) detail = `as ${str(data.role)}`;
  else if (Array.isArray(data.fields) && data.fields.length) detail = `fields: ${data.fields.join(', ')}`;
  return { label, detail };
}

/** The sentence for an event; an action this portal does not know yet reads as its code. */
export function describe(event: AuditEvent, target: string, names: { connector(key: string): string; flow(key: string): string }): string {
  const template = ACTIONS[event.action];
  if (!template) return event.action;
  const data = event.data ?? {};
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (name === 'target') return target;
    const value = data[name];
    if (name === 'connector' && typeof value === 'string') return names.connector(value);
    // A flow by its name ("Post won deals to Slack"), its key when it is gone.
    if ((name === 'flow' || (name === 'key' && event.action.startsWith('flow_template.'))) && typeof value === 'string') return `“${names.flow(value)}”`;
    if (name === 'externalId' && typeof value !== 'string') return target;
    return typeof value === 'string' || typeof value === 'number' ? String(value) : '…';
  });
}

export function AuditLog() {
  const allowed = can('developer');
  return (
    <>
      <PageHeader title="Audit log" description="Every change made by your team, your API keys and your end users, newest first." />
      {allowed ? <AuditLogBody /> : <RoleNotice needed="developer" what="read the audit log" />}
    </>
  );
}

function AuditLogBody() {
  const events = useSignal<AuditEvent[] | null>(null);
  const cursor = useSignal<string | null>(null);
  const loading = useSignal(false);
  const error = useSignal<string | null>(null);
  const filter = useSignal('');
  // Connector and flow keys (slack, won-deals) read as their names (Slack, Post won deals) once these answer.
  const connectors = useSignal<Map<string, string>>(new Map());
  const flows = useSignal<Map<string, string>>(new Map());
  const connectorName = (key: string) => connectors.value.get(key) ?? key;
  const flowName = (key: string) => flows.value.get(key) ?? key;

  async function load(reset: boolean) {
    loading.value = true;
    error.value = null;
    try {
      const page = await api.auditEvents({ limit: PAGE_SIZE, cursor: reset ? null : cursor.value, action: filter.value || undefined });
      events.value = reset ? page.data : [...(events.value ?? []), ...page.data];
      cursor.value = page.nextCursor;
    } catch (caught) {
      error.value = messageOf(caught);
    } finally {
      loading.value = false;
    }
  }

  useEffect(() => {
    void load(true);
    void api.connectors().then(
      (page) => (connectors.value = new Map(page.data.map((c) => [c.key, c.name]))),
      () => undefined,
    );
    void api.templates().then(
      (page) => (flows.value = new Map(page.data.map((t) => [t.key, t.name]))),
      () => undefined,
    );
  }, []);

  const list = events.value;
  return (
    <FlushCard
      titleId="events-title"
      title="Events"
      aside={
        <Field label="Show" class="field-inline">
          {(aria) => (
            <select
              {...aria}
              class="select-small"
              value={filter.value}
              onChange={(e) => {
                filter.value = e.currentTarget.value;
                void load(true);
              }}
            >
              {FILTERS.map((f) => (
                <option key={f.value} value={f.value}>
                  {f.label}
                </option>
              ))}
            </select>
          )}
        </Field>
      }
    >
      {error.value && (
        <div class="card-pad">
          <Alert tone="error" title="Could not load the audit log">
            {error.value}
          </Alert>
        </div>
      )}
      {!list && loading.value && (
        <div class="card-pad">
          <Spinner label="Loading events…" />
        </div>
      )}
      {list && list.length === 0 && <EmptyState title="Nothing here yet">Actions by your team, keys and end users will show up here.</EmptyState>}
      {list && list.length > 0 && (
        <div class="table-wrap">
          <table class="table" aria-describedby="events-title">
            <thead>
              <tr>
                <th scope="col">Action</th>
                <th scope="col">Actor</th>
                <th scope="col">Target</th>
                <th scope="col">Time</th>
              </tr>
            </thead>
            <tbody>
              {list.map((event) => {
                const actor = actorOf(event);
                const target = targetOf(event, connectorName);
                return (
                  <tr key={event.id} data-id={event.id} data-action={event.action}>
                    <td>
                      <span class="cell-strong action-label">{describe(event, target.label, { connector: connectorName, flow: flowName })}</span>
                      <code class="action-code">{event.action}</code>
                    </td>
                    <td>
                      <span>{actor.label}</span>
                      <span class="muted small block">{actor.kind}</span>
                    </td>
                    <td>
                      <span>{target.label}</span>
                      {target.detail && <span class="muted small block">{target.detail}</span>}
                    </td>
                    <td class="nowrap">
                      <time dateTime={event.createdAt} title={formatDateTime(event.createdAt)}>
                        {formatRelative(event.createdAt)}
                      </time>
                      <span class="muted small block">{formatDateTime(event.createdAt)}</span>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {list && list.length > 0 && (
        <div class="card-footer">
          {cursor.value ? (
            <button type="button" class="btn btn-secondary" disabled={loading.value} onClick={() => load(false)}>
              {loading.value ? 'Loading…' : 'Load more'}
            </button>
          ) : (
            <span class="muted small">That is everything{filter.value ? ' for this filter' : ''}.</span>
          )}
        </div>
      )}
    </FlushCard>
  );
}
