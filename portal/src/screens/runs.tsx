import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { api, messageOf, RUN_STATUSES, type Run, type RunFilters } from '../api';
import { formatDuration } from '../format';
import { Link, query, setQuery } from '../router';
import { Alert, Spinner } from '../ui/alert';
import { Field } from '../ui/field';
import { ClearFilters, EndUserFilter } from '../ui/filters';
import { LoadMore } from '../ui/load-more';
import { EmptyState, PageHeader } from '../ui/page';
import { useResource } from '../ui/resource';
import { RunStatusBadge, runStatusLabel } from '../ui/status';
import { Time } from '../ui/time';
import { FlushCard } from '../ui/table';

const PAGE_SIZE = 50;
export const LIVE_INTERVAL_MS = 4000;

const PERIODS: { value: string; label: string; seconds: number | null }[] = [
  { value: '', label: 'Any time', seconds: null },
  { value: '1h', label: 'Last hour', seconds: 3600 },
  { value: '24h', label: 'Last 24 hours', seconds: 86400 },
  { value: '7d', label: 'Last 7 days', seconds: 7 * 86400 },
  { value: '30d', label: 'Last 30 days', seconds: 30 * 86400 },
];

const TRIGGERS: Record<string, string> = { event: 'Event', request: 'Request', schedule: 'Schedule', webhook: 'Webhook', poll: 'Poll', mcp: 'MCP tool call', retry: 'Retry' };
const TRIGGER_FILTERS = ['event', 'request', 'schedule', 'webhook', 'poll', 'mcp'];

/** Runs every `ms` while the tab is visible (and once when it becomes visible again). */
export function useVisiblePolling(callback: () => void, ms: number, active: boolean): void {
  const latest = useRef(callback);
  latest.current = callback;
  useEffect(() => {
    if (!active) return;
    const tick = () => {
      if (document.visibilityState === 'visible') latest.current();
    };
    const timer = setInterval(tick, ms);
    document.addEventListener('visibilitychange', tick);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', tick);
    };
  }, [ms, active]);
}

function filtersFromQuery(params: URLSearchParams): RunFilters & { period: string } {
  return {
    status: params.get('status') ?? '',
    flow: params.get('flow') ?? '',
    triggerType: params.get('triggerType') ?? '',
    tool: params.get('tool') ?? '',
    endUserId: params.get('endUserId') ?? '',
    period: params.get('period') ?? '',
  };
}

function sinceOf(period: string): string | undefined {
  const seconds = PERIODS.find((p) => p.value === period)?.seconds;
  return seconds ? new Date(Date.now() - seconds * 1000).toISOString() : undefined;
}

export function Runs() {
  const filters = filtersFromQuery(query.value);
  const templates = useResource(() => api.templates(), []);
  const runs = useSignal<Run[] | null>(null);
  const cursor = useSignal<string | null>(null);
  const loading = useSignal(false);
  const error = useSignal<string | null>(null);
  const live = useSignal(true);
  const endUserDraft = useSignal(filters.endUserId ?? '');
  const generation = useRef(0);

  const apiFilters = (): RunFilters => ({
    status: filters.status || undefined,
    flow: filters.flow || undefined,
    triggerType: filters.triggerType || undefined,
    tool: filters.tool || undefined,
    endUserId: filters.endUserId || undefined,
    since: sinceOf(filters.period),
    limit: PAGE_SIZE,
  });

  async function load(reset: boolean) {
    const mine = reset ? ++generation.current : generation.current;
    loading.value = true;
    error.value = null;
    try {
      const page = await api.runs({ ...apiFilters(), cursor: reset ? null : cursor.value });
      if (mine !== generation.current) return;
      runs.value = reset ? page.data : [...(runs.value ?? []), ...page.data];
      cursor.value = page.nextCursor;
    } catch (caught) {
      if (mine === generation.current) error.value = messageOf(caught);
    } finally {
      if (mine === generation.current) loading.value = false;
    }
  }

  /** New runs go on top and the newest page's statuses are refreshed; older pages stay as they are. */
  async function refresh() {
    const mine = generation.current;
    try {
      const page = await api.runs(apiFilters());
      if (mine !== generation.current || !runs.value) return;
      const fresh = new Map(page.data.map((r) => [r.id, r]));
      const known = new Set(runs.value.map((r) => r.id));
      const added = page.data.filter((r) => !known.has(r.id));
      runs.value = [...added, ...runs.value.map((r) => fresh.get(r.id) ?? r)];
      if (runs.value.length <= PAGE_SIZE) cursor.value = page.nextCursor;
      error.value = null;
    } catch (caught) {
      error.value = messageOf(caught);
    }
  }

  useEffect(() => {
    runs.value = null;
    void load(true);
  }, [filters.status, filters.flow, filters.triggerType, filters.tool, filters.endUserId, filters.period]);

  useVisiblePolling(() => void refresh(), LIVE_INTERVAL_MS, live.value && runs.value !== null);

  const flows = templates.data.value?.data ?? [];
  const names = new Map(flows.map((t) => [t.key, t.name]));
  const filtered = Boolean(filters.status || filters.flow || filters.triggerType || filters.tool || filters.endUserId || filters.period);
  return (
    <>
      <PageHeader title="Runs" description="Every run of every flow, newest first. The list updates itself while this tab is open." />
      <FlushCard
        titleId="runs-title"
        title="Runs"
        aside={
          <button
            type="button"
            class={`live-toggle${live.value ? ' live-on' : ''}`}
            aria-pressed={live.value}
            onClick={() => {
              live.value = !live.value;
              if (live.value) void refresh();
            }}
          >
            <span class="live-dot" aria-hidden="true" />
            {live.value ? 'Live' : 'Paused'}
          </button>
        }
      >
        <form
          class="filters"
          role="search"
          aria-label="Filter runs"
          onSubmit={(e) => {
            e.preventDefault();
            setQuery({ endUserId: endUserDraft.value.trim() });
          }}
        >
          <Field label="Status" class="filter">
            {(aria) => (
              <select {...aria} class="select-small" value={filters.status} onChange={(e) => setQuery({ status: e.currentTarget.value })}>
                <option value="">All statuses</option>
                {RUN_STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {runStatusLabel(s)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Flow" class="filter">
            {(aria) => (
              <select {...aria} class="select-small" value={filters.flow} onChange={(e) => setQuery({ flow: e.currentTarget.value })}>
                <option value="">All flows</option>
                {flows.map((t) => (
                  <option key={t.key} value={t.key}>
                    {t.name}
                  </option>
                ))}
                {filters.flow && !names.has(filters.flow) && <option value={filters.flow}>{filters.flow}</option>}
              </select>
            )}
          </Field>
          <Field label="Trigger" class="filter">
            {(aria) => (
              <select {...aria} class="select-small" value={filters.triggerType} onChange={(e) => setQuery({ triggerType: e.currentTarget.value })}>
                <option value="">All triggers</option>
                {TRIGGER_FILTERS.map((t) => (
                  <option key={t} value={t}>
                    {TRIGGERS[t]}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {filters.tool && (
            <Field label="Tool" class="filter">
              {(aria) => (
                <select {...aria} class="select-small" value={filters.tool} onChange={(e) => setQuery({ tool: e.currentTarget.value })}>
                  <option value="">All tools</option>
                  <option value={filters.tool}>{filters.tool}</option>
                </select>
              )}
            </Field>
          )}
          <Field label="Time" class="filter">
            {(aria) => (
              <select {...aria} class="select-small" value={filters.period} onChange={(e) => setQuery({ period: e.currentTarget.value })}>
                {PERIODS.map((p) => (
                  <option key={p.value} value={p.value}>
                    {p.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <EndUserFilter draft={endUserDraft} />
          {filtered && (
            <ClearFilters
              onClear={() => {
                endUserDraft.value = '';
                setQuery({ status: null, flow: null, triggerType: null, tool: null, endUserId: null, period: null });
              }}
            />
          )}
        </form>
        {error.value && (
          <div class="card-pad">
            <Alert tone="error" title="Could not load the runs">
              {error.value}
            </Alert>
          </div>
        )}
        {runs.value === null && !error.value && (
          <div class="card-pad card-pad-bottom">
            <Spinner label="Loading runs…" />
          </div>
        )}
        {runs.value && runs.value.length === 0 && (
          <EmptyState title={filtered ? 'No runs match these filters' : 'No runs yet'}>
            {filtered ? 'Try another status, flow, trigger or time range.' : 'Runs appear when your backend sends an event or runs a flow for an end user who switched it on.'}
          </EmptyState>
        )}
        {runs.value && runs.value.length > 0 && (
          <>
            <div class="table-wrap">
              <table class="table runs-table">
                <thead>
                  <tr>
                    <th scope="col">Status</th>
                    <th scope="col">Flow</th>
                    <th scope="col">End user</th>
                    <th scope="col">Trigger</th>
                    <th scope="col">Started</th>
                    <th scope="col">Duration</th>
                  </tr>
                </thead>
                <tbody>
                  {runs.value.map((run) => (
                    <tr key={run.id} data-run-id={run.id} data-status={run.status}>
                      <td>
                        <RunStatusBadge status={run.status} />
                      </td>
                      <th scope="row">
                        <Link
                          to={`runs/${run.id}`}
                          class="cell-link"
                          aria-label={`${run.flow ? (names.get(run.flow) ?? run.flow) : run.tool ? `MCP tool ${run.tool}` : 'Run'} ${runStatusLabel(run.status).toLowerCase()}, ${run.id.slice(0, 8)}: details`}
                        >
                          {run.flow ? (
                            (names.get(run.flow) ?? run.flow)
                          ) : run.tool ? (
                            <span>
                              MCP: <code>{run.tool}</code>
                            </span>
                          ) : (
                            <code>{run.id.slice(0, 8)}</code>
                          )}
                        </Link>
                        {run.error && <span class="run-error small block">{run.error.code}</span>}
                      </th>
                      <td>{run.endUserId ? <span class="mono small">{run.endUserId}</span> : <span class="muted">—</span>}</td>
                      <td>{TRIGGERS[run.triggerType] ?? run.triggerType}</td>
                      <td class="nowrap">
                        <Time iso={run.createdAt} relative />
                      </td>
                      <td class="nowrap">{run.durationMs !== null ? formatDuration(run.durationMs) : <span class="muted">{run.status === 'running' ? 'running…' : '—'}</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <LoadMore
              hasMore={cursor.value !== null}
              loading={loading.value}
              onMore={() => load(false)}
              end={filtered ? 'That is every run matching these filters.' : 'That is every run.'}
            />
          </>
        )}
      </FlushCard>
    </>
  );
}
