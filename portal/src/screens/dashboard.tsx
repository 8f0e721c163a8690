import { useSignal } from '@preact/signals';
import { api, type Stats, type StatsWindow } from '../api';
import { formatCount, formatDuration, formatPercent } from '../format';
import { Link } from '../router';
import { can } from '../session';
import { BarList, LineChart, Ring, StackedBars } from '../ui/charts';
import { EmptyState, PageHeader } from '../ui/page';
import { Loaded, useResource } from '../ui/resource';
import { Time } from '../ui/time';
import { FlushCard, Table } from '../ui/table';
import { useVisiblePolling } from './runs';

const WINDOWS: { value: StatsWindow; label: string; long: string }[] = [
  { value: '1h', label: '1 hour', long: 'the last hour' },
  { value: '24h', label: '24 hours', long: 'the last 24 hours' },
  { value: '7d', label: '7 days', long: 'the last 7 days' },
];

const REFRESH_MS = 15_000;

const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const day = new Intl.DateTimeFormat(undefined, { weekday: 'short', hour: '2-digit' });

function bucketLabel(iso: string, window: StatsWindow): string {
  return window === '7d' ? day.format(new Date(iso)) : time.format(new Date(iso));
}

/** The runs explorer's failed runs of a flow, or of an MCP tool (counted as `mcp:<tool>`). */
function failedRunsLink(flow: string): string {
  return flow.startsWith('mcp:') ? `runs?status=failed&triggerType=mcp&tool=${encodeURIComponent(flow.slice(4))}` : `runs?status=failed&flow=${encodeURIComponent(flow)}`;
}

export function Dashboard() {
  const window = useSignal<StatsWindow>('24h');
  const stats = useResource(() => api.stats(window.value), [window.value]);
  useVisiblePolling(() => void stats.reload(), REFRESH_MS, stats.data.value !== null);
  const chosen = WINDOWS.find((w) => w.value === window.value)!;
  return (
    <>
      <PageHeader
        title="Dashboard"
        description={`How your flows ran over ${chosen.long}.`}
        actions={
          <div class="segmented" role="radiogroup" aria-label="Time window">
            {WINDOWS.map((w) => (
              <button
                key={w.value}
                type="button"
                role="radio"
                aria-checked={window.value === w.value}
                tabIndex={window.value === w.value ? 0 : -1}
                class="segmented-option"
                onClick={() => (window.value = w.value)}
                onKeyDown={(e) => {
                  const i = WINDOWS.findIndex((x) => x.value === window.value);
                  const step = e.key === 'ArrowRight' || e.key === 'ArrowDown' ? 1 : e.key === 'ArrowLeft' || e.key === 'ArrowUp' ? -1 : 0;
                  if (!step) return;
                  e.preventDefault();
                  const next = WINDOWS[(i + step + WINDOWS.length) % WINDOWS.length];
                  window.value = next.value;
                  const group = e.currentTarget.parentElement;
                  requestAnimationFrame(() => group?.querySelector<HTMLButtonElement>('[aria-checked="true"]')?.focus());
                }}
              >
                {w.label}
              </button>
            ))}
          </div>
        }
      />
      <Loaded resource={stats} what="the statistics">
        {(s) => <DashboardBody stats={s} longWindow={chosen.long} />}
      </Loaded>
    </>
  );
}

function DashboardBody({ stats, longWindow }: { stats: Stats; longWindow: string }) {
  const { totals } = stats;
  const perMinute = stats.bucketSeconds / 60;
  const unit = stats.bucketSeconds === 60 ? 'minute' : stats.bucketSeconds < 3600 ? `${perMinute} minutes` : `${stats.bucketSeconds / 3600} hours`;
  const buckets = stats.series.map((b) => bucketLabel(b.at, stats.window));
  const other = stats.series.map((b) => Math.max(0, b.total - b.succeeded - b.failed));
  const busiest = stats.series.reduce((best, b) => (b.total > best.total ? b : best), stats.series[0] ?? { total: 0, at: stats.from });
  return (
    <>
      <div class="kpis">
        <div class="kpi card">
          <p class="kpi-label">Runs</p>
          <p class="kpi-value">{formatCount(totals.runs)}</p>
          <p class="kpi-note muted small">{totals.active > 0 ? `${formatCount(totals.active)} in progress` : `in ${longWindow}`}</p>
        </div>
        <div class="kpi card kpi-ring">
          <Ring ratio={totals.successRate} label={`Success rate ${formatPercent(totals.successRate)}`}>
            <span class="ring-figure">{formatPercent(totals.successRate)}</span>
          </Ring>
          <div>
            <p class="kpi-label">Success rate</p>
            <p class="kpi-note muted small">
              {formatCount(totals.succeeded)} succeeded, {formatCount(totals.failed)} failed
            </p>
          </div>
        </div>
        <div class="kpi card">
          <p class="kpi-label">p95 duration</p>
          <p class="kpi-value">{formatDuration(totals.p95DurationMs)}</p>
          <p class="kpi-note muted small">median {formatDuration(totals.p50DurationMs)}</p>
        </div>
        <div class="kpi card">
          <p class="kpi-label">Failed runs</p>
          <p class={`kpi-value${totals.failed > 0 ? ' kpi-bad' : ''}`}>{formatCount(totals.failed)}</p>
          <p class="kpi-note small">{totals.failed > 0 ? <Link to="runs?status=failed">See failed runs</Link> : <span class="muted">Nothing failed</span>}</p>
        </div>
      </div>

      {/* Shown once the tenant's agents have used tokens this month, or it has a cap. */}
      {(stats.tokens.thisMonth.totalTokens > 0 || stats.tokens.monthlyCap !== null) && <TokenCard tokens={stats.tokens} />}

      {totals.runs === 0 ? (
        <section class="card">
          <EmptyState title={`No runs in ${longWindow}`}>
            Runs start when your backend sends an event (<code>POST /v1/events</code>) or runs a flow (<code>POST /v1/flows/:key/runs</code>) for an end user who switched it on.
            Pick a longer window to look further back.
          </EmptyState>
        </section>
      ) : (
        <>
          <section class="card chart-card" aria-labelledby="runs-chart-title">
            <div class="chart-head">
              <h2 id="runs-chart-title" class="card-title">
                Runs per {unit}
              </h2>
              <ul class="legend" aria-label="Legend">
                <li>
                  <span class="legend-swatch chart-fill-ok" aria-hidden="true" />
                  Succeeded
                </li>
                <li>
                  <span class="legend-swatch chart-fill-fail" aria-hidden="true" />
                  Failed
                </li>
                <li>
                  <span class="legend-swatch chart-fill-other" aria-hidden="true" />
                  Other
                </li>
              </ul>
            </div>
            <StackedBars
              summary={`Runs per ${unit} over ${longWindow}: ${totals.runs} in total, ${totals.failed} failed; the busiest ${unit} had ${busiest.total}.`}
              buckets={buckets}
              series={[
                { label: 'succeeded', tone: 'ok', values: stats.series.map((b) => b.succeeded) },
                { label: 'failed', tone: 'fail', values: stats.series.map((b) => b.failed) },
                { label: 'other', tone: 'other', values: other },
              ]}
            />
          </section>
          <div class="two-equal">
            <section class="card chart-card" aria-labelledby="duration-chart-title">
              <h2 id="duration-chart-title" class="card-title">
                p95 duration
              </h2>
              <LineChart
                summary={`95th percentile run duration per ${unit} over ${longWindow}; overall ${formatDuration(totals.p95DurationMs)}.`}
                buckets={buckets}
                values={stats.series.map((b) => b.p95DurationMs)}
                format={(v) => formatDuration(v)}
                height={180}
              />
            </section>
            <section class="card" aria-labelledby="failing-title">
              <h2 id="failing-title" class="card-title">
                Top failing flows
              </h2>
              {stats.topFailingFlows.length === 0 ? (
                <p class="muted">No flow failed in {longWindow}.</p>
              ) : (
                <BarList
                  label="Flows with the most failed runs"
                  items={stats.topFailingFlows.map((f) => ({
                    key: f.flow,
                    label: <Link to={failedRunsLink(f.flow)}>{f.name}</Link>,
                    value: f.failed,
                    detail: `of ${f.total} (${formatPercent(f.failed / f.total)})`,
                  }))}
                  format={(v) => `${formatCount(v)} failed`}
                />
              )}
            </section>
          </div>
          <FlushCard titleId="errors-title" title="Top errors">
            {stats.topErrors.length === 0 ? (
              <EmptyState title="No errors">Every finished run in {longWindow} succeeded.</EmptyState>
            ) : (
              <Table columns={['Error', 'Flow', 'Runs', 'Last seen']}>
                {stats.topErrors.map((e) => (
                  <tr key={`${e.code}-${e.flow}`}>
                    <th scope="row">
                      <code class="error-code">{e.code}</code>
                      <span class="muted small block error-message">{e.message}</span>
                    </th>
                    <td>
                      <Link to={failedRunsLink(e.flow)}>{e.flow}</Link>
                    </td>
                    <td>{formatCount(e.count)}</td>
                    <td class="nowrap">
                      <Time iso={e.lastAt} relative />
                    </td>
                  </tr>
                ))}
              </Table>
            )}
          </FlushCard>
        </>
      )}
    </>
  );
}

const monthName = new Intl.DateTimeFormat(undefined, { month: 'long', timeZone: 'UTC' });

/** This calendar month's AI agent tokens (UTC), against the tenant's monthly cap when it has one. */
function TokenCard({ tokens }: { tokens: NonNullable<Stats['tokens']> }) {
  const { thisMonth: used, monthlyCap: cap } = tokens;
  const ratio = cap === null ? null : cap === 0 ? 1 : Math.min(1, used.totalTokens / cap);
  const over = cap !== null && used.totalTokens >= cap;
  return (
    <section class="card token-card" aria-labelledby="tokens-title">
      <div class="token-figures">
        <h2 id="tokens-title" class="kpi-label">
          AI tokens this month <span class="muted">({monthName.format(new Date())}, UTC)</span>
        </h2>
        <p class="kpi-value">
          {formatCount(used.totalTokens)}
          <span class="muted small"> {cap === null ? 'used · no monthly cap' : `of ${formatCount(cap)} (monthly cap)`}</span>
        </p>
        {ratio !== null && (
          <svg
            class={`token-meter${over ? ' token-meter-over' : ''}`}
            width="100%"
            height="8"
            viewBox="0 0 100 8"
            preserveAspectRatio="none"
            role="img"
            aria-label={`${formatPercent(ratio)} of the monthly cap used`}
          >
            <rect class="token-meter-track" x="0" y="0" width="100" height="8" rx="3" />
            <rect class="token-meter-fill" x="0" y="0" width={Math.max(ratio > 0 ? 1 : 0, ratio * 100)} height="8" rx="3" />
          </svg>
        )}
        <p class="kpi-note muted small">
          {formatCount(used.modelCalls)} model call{used.modelCalls === 1 ? '' : 's'} · {formatCount(used.inputTokens)} in, {formatCount(used.outputTokens)} out
          {over && ' · the cap is reached: agent steps fail until next month or a higher cap'}
        </p>
      </div>
      {can('admin') && (
        <p class="small">
          <Link to="settings">{cap === null ? 'Set a monthly cap' : 'Change the cap'}</Link>
        </p>
      )}
    </section>
  );
}
