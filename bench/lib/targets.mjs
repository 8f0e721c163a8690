// Issue 17 ("Engine and proxy ×2"): where the engine and the proxy stood when it was written (a quiet
// 2-core box; `node bench/engine.mjs --events 1000 --requests 200 --single-requests 50`, `node
// bench/proxy.mjs`) and what they should reach. `atMost`: lower is better. No baseline where the issue
// gave none.
import { printTable } from './report.mjs';

export const ENGINE = {
  asyncRunsPerSecond: { measure: 'async end to end', unit: 'runs/s', baseline: 234, target: 500 },
  cpuPerRun: { measure: 'CPU per run, API + worker + PostgreSQL + Redis', unit: 'ms', baseline: 7.0, baselineNote: '8.1 with sandbox + client', target: 4, atMost: true },
  lostOrFailed: { measure: 'runs lost or failed', unit: '', baseline: 0, target: 0, atMost: true },
  drainRunsPerSecond: { measure: 'worker drain', unit: 'runs/s', target: 1000 },
  syncP50: { measure: 'sync request + wait c10, p50', unit: 'ms', baseline: 48, target: 20, atMost: true },
  syncP99: { measure: 'sync request + wait c10, p99', unit: 'ms', baseline: 78, target: 50, atMost: true },
  singleP50: { measure: 'sync one at a time, p50', unit: 'ms', target: 5, atMost: true },
  transactionsPerRun: { measure: 'PostgreSQL transactions per run', unit: '', baseline: 5.9, target: 2, atMost: true },
  apiRssMb: { measure: 'API RSS under load', unit: 'MB', baseline: 308, baselineNote: 'peaks 251–308', target: 150, atMost: true },
  workerRssMb: { measure: 'worker RSS under load', unit: 'MB', target: 150, atMost: true },
};

export const PROXY = {
  apiCpuPerCall: { measure: 'API CPU per proxied call', unit: 'ms', baseline: 1.9, target: 0.5, atMost: true },
  addedP50: { measure: 'added latency over direct c10, p50', unit: 'ms', baseline: 14, target: 2, atMost: true },
  addedP99: { measure: 'added latency over direct c10, p99', unit: 'ms', baseline: 23, target: 5, atMost: true },
  shareOfDirect: { measure: 'throughput, share of direct', unit: '%', baseline: 17, target: 50 },
  requestsPerSecond: { measure: 'proxied requests/s c10', unit: 'req/s', baseline: 693 },
};

const show = (x, unit) => (x === undefined || Number.isNaN(x) ? '—' : `${Number.isInteger(x) || Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2)}${unit ? ` ${unit}` : ''}`);

/** The closing table: measure | now | target | ratio to baseline | met?  `now` holds a figure per key of `targets`. */
export function printTargets(title, targets, now) {
  console.log(`\n${title}`);
  printTable(
    ['measure', 'now', 'target', 'ratio to baseline', 'met?'],
    Object.entries(targets).map(([key, t]) => {
      const x = now[key];
      const known = x !== undefined && !Number.isNaN(x);
      const met = t.target === undefined || !known ? '—' : (t.atMost ? x <= t.target : x >= t.target) ? 'yes' : 'NO';
      const ratio =
        t.baseline === undefined || !known
          ? '—'
          : t.baseline === 0
            ? x === 0
              ? 'same (0)'
              : `${x} vs 0`
            : `${(x / t.baseline).toFixed(2)}× of ${show(t.baseline, t.unit)}${t.baselineNote ? ` (${t.baselineNote})` : ''}`;
      return [t.measure, show(x, t.unit), t.target === undefined ? '—' : `${t.atMost ? '≤' : '≥'} ${show(t.target, t.unit)}`, ratio, met];
    }),
  );
}
