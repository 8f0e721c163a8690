// The n8n figures our ratios divide by, in one place. Source: BENCHMARKS.md (the project's benchmark
// brief), n8n 1.123 on the same 2-core machine, the same reference flow, webhook answering after the
// last node; the December set, taken on a quiet machine in the same hour as our own bench (the
// November set ran on a busy machine and is too low). Run-to-run noise is about 15 %.
const SOURCE = 'Dec quiet';

export const N8N = {
  regularC10: { name: 'n8n regular c10', perSecond: 100, p50: 95, p99: 161, rssMb: 790 },
  regularC50: { name: 'n8n regular c50', perSecond: 82, p50: 579, p99: 849, rssMb: 790 },
  // 79–91/s over the runs: the best of them, so a ratio is never flattered.
  queueC10: { name: 'n8n queue c10', perSecond: 91, range: '79–91', rssMb: 1240 },
  queueC50: { name: 'n8n queue c50', perSecond: 97, rssMb: 1240 },
  // n8n's own processes only; queue mode 13.8–16.7 ms: the lowest.
  cpuRegular: { name: 'n8n regular', cpuMs: 9.6 },
  cpuQueue: { name: 'n8n queue mode', cpuMs: 13.8, range: '13.8–16.7' },
};

/** "1.52× n8n regular c10 (100/s, Dec quiet)": our rate over the anchor's. */
export const timesRate = (perSecond, anchor) => `${(perSecond / anchor.perSecond).toFixed(2)}× ${anchor.name} (${anchor.range ?? anchor.perSecond}/s, ${SOURCE})`;

/** "p50 0.45× n8n regular c10 (95 ms, Dec quiet)": our latency over the anchor's (below 1 is faster). */
export const timesLatency = (which, ms, anchor) => `${which} ${(ms / anchor[which]).toFixed(2)}× ${anchor.name} (${anchor[which]} ms, ${SOURCE})`;

/** "0.61× the CPU of n8n regular (9.6 ms per execution, Dec quiet)". */
export const timesCpu = (ms, anchor) => `${(ms / anchor.cpuMs).toFixed(2)}× the CPU of ${anchor.name} (${anchor.range ?? anchor.cpuMs} ms per execution, ${SOURCE})`;

/** "vs n8n regular ~790 MB, queue mode ~1,000–1,240 MB (Dec quiet)". */
export const rssAnchors = `n8n regular ~${N8N.regularC10.rssMb} MB, queue mode ~1,000–${N8N.queueC10.rssMb.toLocaleString('en')} MB (${SOURCE})`;
