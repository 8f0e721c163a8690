import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { api, messageOf, type Connector, type EndUserFlow, type EndUserSummary } from '../api';
import { Link, query, setQuery } from '../router';
import { Alert, Badge, Spinner } from '../ui/alert';
import { Field } from '../ui/field';
import { JsonBlock } from '../ui/json-block';
import { LoadMore } from '../ui/load-more';
import { Breadcrumb, EmptyState, PageHeader } from '../ui/page';
import { Loaded, useResource } from '../ui/resource';
import { ConnectionStatusBadge } from '../ui/status';
import { Time } from '../ui/time';
import { TriggerHealthView } from '../ui/trigger-health';
import { FlushCard, Table } from '../ui/table';
import { ConnectorLogo } from './connectors';
import { triggerSummary } from './flow-outline';

const SEARCH_DELAY_MS = 300;

export function EndUsers() {
  const search = query.value.get('q') ?? '';
  const draft = useSignal(search);
  const users = useSignal<EndUserSummary[] | null>(null);
  const cursor = useSignal<string | null>(null);
  const loading = useSignal(false);
  const error = useSignal<string | null>(null);
  const generation = useRef(0);

  async function load(reset: boolean) {
    const mine = reset ? ++generation.current : generation.current;
    loading.value = true;
    error.value = null;
    try {
      const page = await api.endUsers({ search: search || undefined, cursor: reset ? null : cursor.value });
      if (mine !== generation.current) return;
      users.value = reset ? page.data : [...(users.value ?? []), ...page.data];
      cursor.value = page.nextCursor;
    } catch (caught) {
      if (mine === generation.current) error.value = messageOf(caught);
    } finally {
      if (mine === generation.current) loading.value = false;
    }
  }

  useEffect(() => {
    void load(true);
  }, [search]);

  // Search as you type, a moment after typing stops.
  useEffect(() => {
    if (draft.value.trim() === search) return;
    const timer = setTimeout(() => setQuery({ q: draft.value.trim() }), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [draft.value]);

  return (
    <>
      <PageHeader title="End users" description="Your customers as Switchboard knows them: their connected accounts and the flows they switched on." />
      <FlushCard
        titleId="end-users-title"
        title="End users"
        aside={
          <form role="search" aria-label="End users" onSubmit={(e) => (e.preventDefault(), setQuery({ q: draft.value.trim() }))}>
            <Field label="Search" class="field-inline">
              {(aria) => (
                <input
                  {...aria}
                  type="search"
                  class="input-small search-input"
                  placeholder="Id, name or email"
                  value={draft.value}
                  onInput={(e) => (draft.value = e.currentTarget.value)}
                />
              )}
            </Field>
          </form>
        }
      >
        {error.value && (
          <div class="card-pad">
            <Alert tone="error" title="Could not load the end users">
              {error.value}
            </Alert>
          </div>
        )}
        {users.value === null && !error.value && (
          <div class="card-pad card-pad-bottom">
            <Spinner label="Loading end users…" />
          </div>
        )}
        {users.value && users.value.length === 0 && (
          <EmptyState title={search ? `Nobody matches “${search}”` : 'No end users yet'}>
            {search
              ? 'Search looks at the id your app gave them, their name and their email.'
              : 'They appear when your backend creates a session for a customer (POST /v1/sessions) or upserts one (PUT /v1/end-users/:id).'}
          </EmptyState>
        )}
        {users.value && users.value.length > 0 && (
          <>
            <Table columns={['End user', 'Connections', 'Flows on', 'Since']}>
              {users.value.map((u) => (
                <tr key={u.id} data-end-user={u.externalId}>
                  <th scope="row">
                    <span class="cell-member">
                      <span class="avatar" aria-hidden="true">
                        {(u.displayName || u.externalId).charAt(0).toUpperCase()}
                      </span>
                      <span class="member-text">
                        <Link to={`end-users/${encodeURIComponent(u.externalId)}`} class="cell-link">
                          {u.displayName || u.externalId}
                        </Link>
                        <span class="muted small">{[u.displayName ? u.externalId : null, u.email].filter(Boolean).join(' · ')}</span>
                      </span>
                    </span>
                  </th>
                  <td>
                    {u.connectionCount}
                    {u.needsReauthCount > 0 && (
                      <>
                        {' '}
                        <Badge tone="warning">{u.needsReauthCount} to reconnect</Badge>
                      </>
                    )}
                  </td>
                  <td>{u.enabledFlowCount}</td>
                  <td>
                    <Time iso={u.createdAt} relative />
                  </td>
                </tr>
              ))}
            </Table>
            <LoadMore hasMore={cursor.value !== null} loading={loading.value} onMore={() => load(false)} />
          </>
        )}
      </FlushCard>
    </>
  );
}

export function EndUserDetail({ externalId }: { externalId: string }) {
  const user = useResource(() => api.endUser(externalId), [externalId]);
  const flows = useResource(() => api.endUserFlows(externalId), [externalId]);
  // Names and logos of the apps; the table falls back to the connector key without them.
  const connectors = useResource(() => api.connectors(), []);
  const connectorOf = (key: string) => connectors.data.value?.data.find((c) => c.key === key);
  const found = user.data.value;
  return (
    <>
      <Breadcrumb to="end-users" section="End users">
        {externalId}
      </Breadcrumb>
      <PageHeader
        title={found?.displayName || externalId}
        description={found ? [found.displayName ? externalId : null, found.email].filter(Boolean).join(' · ') || 'No name or email given by your app' : ''}
        actions={
          found && (
            <Link to={`runs?endUserId=${encodeURIComponent(externalId)}`} class="btn btn-secondary">
              See their runs
            </Link>
          )
        }
      />
      {user.status.value === 404 ? (
        <EmptyState title={`There is no end user “${externalId}”.`}>
          <Link to="end-users">Search end users</Link>
        </EmptyState>
      ) : (
        <Loaded resource={user} what="the end user">
          {(u) => (
            <>
              <FlushCard titleId="connections-title" title="Connections" aside={<span class="muted small">{u.connections.length} in total</span>}>
                {u.connections.length === 0 ? (
                  <EmptyState title="No connected accounts">They connect apps in the widget inside your product.</EmptyState>
                ) : (
                  <Table columns={['App', 'Account', 'Status', 'Last refresh', 'Connected']}>
                    {u.connections.map((c) => (
                      <tr key={c.id} data-connection={c.id}>
                        <th scope="row" class="cell-strong">
                          <span class="cell-app">
                            {connectorOf(c.connector) && <ConnectorLogo connector={connectorOf(c.connector)!} size={24} />}
                            {connectorOf(c.connector)?.name ?? c.connector}
                          </span>
                        </th>
                        <td>
                          {c.accountName}
                          <span class="muted small block mono">{c.accountId}</span>
                        </td>
                        <td>
                          <ConnectionStatusBadge status={c.status} />
                          {c.lastError && <span class="run-error small block">{c.lastError}</span>}
                        </td>
                        <td>{c.lastRefreshedAt ? <Time iso={c.lastRefreshedAt} relative /> : <span class="muted">Never</span>}</td>
                        <td>
                          <Time iso={c.createdAt} relative />
                        </td>
                      </tr>
                    ))}
                  </Table>
                )}
              </FlushCard>
              <FlushCard titleId="user-flows-title" title="Flows">
                <Loaded resource={flows} what="their flows">
                  {(page) => <FlowsOf externalId={externalId} flows={page.data} connectors={connectors.data.value?.data} />}
                </Loaded>
              </FlushCard>
              {Object.keys(u.metadata).length > 0 && (
                <section class="card" aria-labelledby="metadata-title">
                  <h2 id="metadata-title" class="card-title">
                    Metadata from your app
                  </h2>
                  <JsonBlock value={u.metadata} label="Metadata" />
                </section>
              )}
            </>
          )}
        </Loaded>
      )}
    </>
  );
}

function FlowsOf({ externalId, flows, connectors }: { externalId: string; flows: EndUserFlow[]; connectors?: Connector[] }) {
  const used = flows.filter((f) => f.instance);
  if (flows.length === 0) return <EmptyState title="No published flows yet">Publish a flow template and your customers can switch it on.</EmptyState>;
  if (used.length === 0)
    return (
      <EmptyState title="No flows switched on">
        {flows.length} published flow{flows.length === 1 ? ' is' : 's are'} available to them in the widget.
      </EmptyState>
    );
  return (
    <ul class="flow-instances">
      {used.map((f) => {
        const instance = f.instance!;
        const settings = Object.entries(instance.settings);
        return (
          <li key={f.key} class="flow-instance" data-flow={f.key}>
            <div class="flow-instance-head">
              <Link to={`flows/${f.key}`} class="cell-link">
                {f.name}
              </Link>
              {instance.status === 'paused' ? <Badge tone="warning">Paused</Badge> : instance.enabled ? <Badge tone="success">On</Badge> : <Badge tone="neutral">Off</Badge>}
              <span class="muted small">
                version {instance.version}
                {instance.upgradeAvailable ? ` (v${f.version} available)` : ''}
              </span>
            </div>
            <p class="muted small">{triggerSummary(f.trigger, connectors)}</p>
            {instance.enabled && instance.triggerHealth && (
              <p class="flow-instance-trigger">
                <TriggerHealthView health={instance.triggerHealth} />
              </p>
            )}
            {settings.length > 0 ? <SettingsOf externalId={externalId} flow={f} /> : <p class="muted small">No settings.</p>}
          </li>
        );
      })}
    </ul>
  );
}

/**
 * A flow's saved settings, each under its title. A value picked from an option source (a Slack
 * channel id) shows what the provider calls it, looked up live with the flow's connection, and the
 * id below it; until that answers, or when it cannot (the connection is gone), the id alone.
 */
function SettingsOf({ externalId, flow }: { externalId: string; flow: EndUserFlow }) {
  // The definition's inputs (validated on publish), of which this reads the title and option source.
  const inputs = flow.inputs as Record<string, { title?: string; options?: unknown } | undefined>;
  const settings = Object.entries(flow.instance!.settings);
  const picked = settings.some(([key, value]) => inputs[key]?.options && value !== null && value !== '');
  const labels = useResource(() => (picked ? api.endUserSettingLabels(externalId, flow.key) : Promise.resolve(null)), [externalId, flow.key, picked]);
  const found = labels.data.value?.data;
  return (
    <dl class="settings-list">
      {settings.map(([key, value]) => {
        const lookup = found?.[key];
        const values = Array.isArray(value) ? value : [value];
        const named = lookup ? values.map((v) => (typeof v === 'string' ? lookup.labels[v] : undefined)) : [];
        return (
          <div key={key} data-setting={key}>
            <dt>{inputs[key]?.title ?? key}</dt>
            {lookup && named.some(Boolean) ? (
              <dd>
                <span class="setting-label">{values.map((v, i) => named[i] ?? String(v)).join(', ')}</span>
                <span class="muted small block mono">{values.map(String).join(', ')}</span>
              </dd>
            ) : (
              <dd class={inputs[key]?.options ? 'mono' : undefined} title={lookup?.error ? `Name not available: ${lookup.error}` : undefined}>
                {plainValue(value)}
              </dd>
            )}
          </div>
        );
      })}
    </dl>
  );
}

/** A setting as people read it: text as is, yes/no, lists joined. */
function plainValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) return value.map(String).join(', ');
  return JSON.stringify(value);
}
