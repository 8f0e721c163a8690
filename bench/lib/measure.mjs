// What the scripts measure with: percentiles, a bounded pool of concurrent jobs, and the CPU time
// and RSS of processes read from /proc (Linux).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentile `p` of `xs` (NaN when empty). */
export const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const sorted = Float64Array.from(xs).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
};
export const median = (xs) => Float64Array.from(xs).sort()[Math.floor(xs.length / 2)];

/** Runs `job(i)` for i in [0, count) with `concurrency` in flight. */
export async function pool(count, concurrency, job) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (let i = next++; i < count; i = next++) await job(i);
    }),
  );
}

/** Resident memory of a process in MB (0 once it exited). */
export const rssMb = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  } catch {
    return 0;
  }
};

/** Samples the RSS of the given pids every 50 ms; `stop()` answers the peaks in MB, in the same order. */
export function sampleRss(pids) {
  const peaks = pids.map(() => 0);
  const take = () => pids.forEach((pid, i) => (peaks[i] = Math.max(peaks[i], rssMb(pid))));
  take();
  const timer = setInterval(take, 50);
  return { stop: () => (clearInterval(timer), take(), peaks) };
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU ms of a process so far (null once it exited); with `children`, also that of the exited children it waited for. */
export const cpuMs = (pid, children = false) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state): utime is 14, stime 15, cutime 16, cstime 17
    const ticks = Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
    return (ticks * 1000) / CLK_TCK;
  } catch {
    return null;
  }
};

/**
 * CPU ms so far of every process whose command name is `comm` (for PostgreSQL: backends, background
 * processes, and through the postmaster's children time the backends that exited).
 */
export const cpuOfCommand = (comm) => {
  let sum = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) sum += cpuMs(pid, true) ?? 0;
    } catch {
      // gone
    }
  }
  return sum;
};

/** CPU ms of this script so far (the in-process sandbox and the load client). */
export const selfCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * `count` calls of `call(i)` with `concurrency` in flight, each timed; `call` answers whether it
 * succeeded (a throw is a failure too, its message kept as `firstError`). `latencies` are in the
 * order the calls finished, `latencyOf[i]` is call i's.
 */
export async function load(count, concurrency, call) {
  const latencies = [];
  const latencyOf = new Array(count);
  let failures = 0;
  let firstError;
  const t0 = performance.now();
  await pool(count, concurrency, async (i) => {
    const s = performance.now();
    try {
      if (!(await call(i))) failures++;
    } catch (error) {
      failures++;
      firstError ??= error.message;
    }
    latencyOf[i] = performance.now() - s;
    latencies.push(latencyOf[i]);
  });
  return { latencies, latencyOf, failures, firstError, rps: count / ((performance.now() - t0) / 1000), p50: pct(latencies, 50), p99: pct(latencies, 99) };
}
