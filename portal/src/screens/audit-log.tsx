import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { api, messageOf, type AuditEvent } from '../api';
import { formatDateTime, formatRelative } from '../format';
import { can } from '../session';
import { Alert, Spinner } from '../ui/alert';
import { Field } from '../ui/field';
import { EmptyState, PageHeader, RoleNotice } from '../ui/page';

const PAGE_SIZE = 50;

const ACTIONS: Record<string, string> = {
  'api_key.created': 'Created an API key',
  'api_key.revoked': 'Revoked an API key',
  'member.invited': 'Invited a member',
  'member.joined': 'Joined the tenant',
  'member.removed': 'Removed a member',
  'member.role_changed': 'Changed a role',
  'member.signed_in': 'Signed in',
  'member.signed_out': 'Signed out',
  'tenant.created': 'Created the tenant',
  'tenant.updated': 'Updated tenant settings',
  'end_user.created': 'Created an end user',
  'end_user.updated': 'Updated an end user',
  'end_user.deleted': 'Deleted an end user',
  'connector_config.updated': 'Changed a connector',
  'connector_config.deleted': 'Reset a connector',
  'connector_openapi.imported': "Imported a connector's OpenAPI document",
  'connector_openapi.option_sources_updated': 'Chose OpenAPI option sources',
  'connector_openapi.deleted': "Removed a connector's OpenAPI document",
  'flow_template.created': 'Created a flow',
  'flow_template.draft_updated': 'Edited a flow draft',
  'flow_template.published': 'Published a flow version',
  'flow.enabled': 'Switched a flow on',
  'flow.disabled': 'Switched a flow off',
  'flow.updated': 'Changed flow settings',
  'flow.upgraded': 'Upgraded a flow',
  'connection.created': 'Connected an account',
  'connection.deleted': 'Removed a connection',
};

const FILTERS: { value: string; label: string }[] = [
  { value: '', label: 'All activity' },
  { value: 'api_key.', label: 'API keys' },
  { value: 'member.', label: 'Members and sign-ins' },
  { value: 'tenant.', label: 'Tenant settings' },
  { value: 'end_user.', label: 'End users' },
  { value: 'connector_config.', label: 'Connectors' },
  { value: 'flow_template.', label: 'Flow templates' },
  { value: 'flow.', label: 'Flows of end users' },
];

interface Names {
  users: Map<string, string>;
  keys: Map<string, string>;
}

const str = (value: unknown): string | null => (typeof value === 'string' && value ? value : null);
const short = (id: string | null) => (id ? id.slice(0, 8) : '');

function actorOf(event: AuditEvent, names: Names): { label: string; kind: string } {
  switch (event.actorType) {
    case 'member':
      return { label: (event.actorId && names.users.get(event.actorId)) || `Member ${short(event.actorId)}`, kind: 'Member' };
    case 'api_key':
      return { label: (event.actorId && names.keys.get(event.actorId)) || `Key ${short(event.actorId)}`, kind: 'API key' };
    case 'end_user':
      return { label: `End user ${short(event.actorId)}`, kind: 'End user' };
    default:
      return { label: 'Switchboard', kind: 'System' };
  }
}

function targetOf(event: AuditEvent, names: Names): { label: string; detail: string | null } {
  const data = event.data ?? {};
  const label =
    str(data.email) ??
    (str(data.name) ? `“${str(data.name)}”` : null) ??
    str(data.externalId) ??
    str(data.key) ??
    str(data.flow) ??
    (event.targetType === 'user' && event.targetId ? names.users.get(event.targetId) : null) ??
    (event.targetType === 'api_key' && event.targetId ? names.keys.get(event.targetId) : null) ??
    (event.targetType ? `${event.targetType.replace(/_/g, ' ')} ${short(event.targetId)}` : '—');
  let detail: string | null = null;
  if (event.action === 'member.role_changed' && str(data.from) && str(data.to)) detail = `${str(data.from)} → ${str(data.to)}`;
  else if (str(data.role)) detail = `as ${str(data.role)}`;
  else if (Array.isArray(data.fields) && data.fields.length) detail = `fields: ${data.fields.join(', ')}`;
  return { label, detail };
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
  const names = useSignal<Names>({ users: new Map(), keys: new Map() });

  async function load(reset: boolean) {
    loading.value = true;
    error.value = null;
    try {
      const page = await api.auditEvents({ limit: PAGE_SIZE, cursor: reset ? null : cursor.value, action: filter.value || undefined });
      events.value = reset ? page.data : [...(events.value ?? []), ...page.data];
      cursor.value = page.nextCursor ?? null;
    } catch (caught) {
      error.value = messageOf(caught);
    } finally {
      loading.value = false;
    }
  }

  useEffect(() => {
    void load(true);
    // Names for actors and targets; the log still shows ids if these fail.
    void Promise.allSettled([api.members(), api.apiKeys()]).then(([members, keys]) => {
      names.value = {
        users: new Map(members.status === 'fulfilled' ? members.value.data.map((m) => [m.userId, m.email]) : []),
        keys: new Map(keys.status === 'fulfilled' ? keys.value.data.map((k) => [k.id, k.name]) : []),
      };
    });
  }, []);

  const list = events.value;
  return (
    <section class="card card-flush" aria-labelledby="events-title">
      <div class="card-header">
        <h2 id="events-title" class="card-title">
          Events
        </h2>
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
      </div>
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
                const actor = actorOf(event, names.value);
                const target = targetOf(event, names.value);
                return (
                  <tr key={event.id} data-id={event.id} data-action={event.action}>
                    <td>
                      <span class="cell-strong action-label">{ACTIONS[event.action] ?? event.action}</span>
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
    </section>
  );
}
