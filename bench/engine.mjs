#!/usr/bin/env node
// Engine benchmark: the reference flow of BENCHMARKS.md (transform → branch amount > 10000 → Slack
// send_message on the sandbox → transform) run by the compiled API and 1, then 2, worker processes.
// Asynchronous: events fired at a fixed client concurrency, runs finished in the background
// (sustained runs/s, trigger-to-done latency, lost runs, engine overhead per step, RSS).
// Synchronous: a request-triggered variant (same steps + respond) with `wait: true`, at concurrency
// 10, then one at a time (the engine's own latency and per-step overhead, no queueing).
// Then the workers alone: events accepted while the queue is paused, then drained. Then fairness: one
// tenant floods while a second sends a trickle of events. Prints one line per measure, then per
// worker count a table against issue 17's targets; with --profile, where each process spent its CPU.
// Usage: npm run build && node bench/engine.mjs [--events 2000] [--requests 500] [--single-requests 100] [--users 20] [--workers 1,2] [--flood 2000] [--trickle 10] [--profile]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import Queue from 'bull';
import { N8N, rssAnchors, timesCpu, timesLatency, timesRate } from './lib/anchors.mjs';
import { cpuMs, cpuOfCommand, load, pct, sampleRss, selfCpuMs, sleep } from './lib/measure.mjs';
import { printProfiles, profileArgs } from './lib/profile.mjs';
import { args, ms, print, printMachine } from './lib/report.mjs';
import { atCleanup, redisUrl, run, scratchStack, stop } from './lib/stack.mjs';
import { ENGINE, printTargets } from './lib/targets.mjs';
import { connectEndUser, client, signIn } from './lib/tenant.mjs';

const ARGS = args({
  events: 2000,
  'event-concurrency': 20,
  requests: 500,
  'single-requests': 100,
  'request-concurrency': 10,
  users: 20,
  workers: '1,2',
  flood: 2000,
  trickle: 10,
  profile: false,
});
const EVENTS = ARGS.events;
const EVENT_CONCURRENCY = ARGS['event-concurrency'];
const REQUESTS = ARGS.requests;
const REQUEST_CONCURRENCY = ARGS['request-concurrency'];
const SINGLE_REQUESTS = ARGS['single-requests'];
const USERS = ARGS.users;
const WORKER_COUNTS = ARGS.workers.split(',').map(Number);
const cpuOf = (procs) => procs.reduce((sum, p) => sum + cpuMs(p.child.pid), 0);

/** The reference flow: event-triggered, 4 steps. */
const steps = [
  { id: 'text', type: 'transform', output: { text: "='Deal ' & $trigger.name & ' won: $' & $string($trigger.amount)" } },
  {
    id: 'big',
    type: 'branch',
    if: '=$trigger.amount > 10000',
    then: [{ id: 'post', type: 'action', connector: 'slack', action: 'send_message', input: { channel: '=$inputs.channel', text: '=$steps.text.text' } }],
  },
  {
    id: 'result',
    type: 'transform',
    output: { status: "=$exists($steps.post) ? 'posted' : 'skipped'", text: '=$steps.text.text', ok: '=$exists($steps.post.ts)', ts: '=$steps.post.ts' },
  },
];
const inputs = { channel: { type: 'string', title: 'Channel', required: true } };
const EVENT_FLOW = { key: 'bench-deal-won', name: 'Bench: won deal to Slack', trigger: { type: 'event', event: 'deal.won' }, connectors: ['slack'], inputs, steps };
const REQUEST_FLOW = {
  key: 'bench-deal-won-sync',
  name: 'Bench: won deal to Slack, answered',
  trigger: { type: 'request' },
  connectors: ['slack'],
  inputs,
  steps: [...steps, { id: 'answer', type: 'respond', output: '=$steps.result' }],
};

/** A tenant as a customer sets it up: Slack on against the sandbox, both flows published, `userCount` end users who connected Slack through the popup and have both flows on. */
async function benchTenant(stack, api, name, userCount) {
  const tenant = await stack.createTenant(name);
  const owner = await signIn(api.url, tenant);
  await owner('PUT', '/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } });
  for (const definition of [EVENT_FLOW, REQUEST_FLOW]) {
    await owner('POST', '/v1/admin/flow-templates', { definition });
    await owner('POST', `/v1/admin/flow-templates/${definition.key}/publish`);
  }
  const host = client(api.url, { bearer: tenant.apiKey });
  const users = Array.from({ length: userCount }, (_, i) => `bench-user-${i}`);
  for (const endUserId of users) {
    await connectEndUser(api.url, tenant.apiKey, 'slack', endUserId);
    for (const flow of [EVENT_FLOW, REQUEST_FLOW]) await host('POST', `/v1/end-users/${endUserId}/flows/${flow.key}/enable`, { settings: { channel: '#general' } });
  }
  return { users, headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' } };
}

await run(async () => {
  printMachine('PostgreSQL + Redis on the same box, sandbox and load client in this process');
  // Slack's declared 1 call/s per connection would cap 20 end users at 20 runs/s: the bench measures the engine, not the limiter.
  const stack = await scratchStack({ sandbox: 'here', env: { CONNECTION_RATE_LIMITS: 'false' } });
  const { sandbox } = stack;
  const db = await stack.db();
  // The runs queue as the processes see it, to pause and resume it (global pause: no worker takes a job).
  const runsQueue = new Queue('runs', { prefix: `${stack.redisPrefix}:bull`, redis: redisUrl });
  atCleanup(() => runsQueue.close());

  // --profile: each API and worker process writes its CPU profile into its own folder when it exits.
  const profileDir = ARGS.profile ? mkdtempSync(join(tmpdir(), 'sb-bench-prof-')) : undefined;
  if (profileDir && !process.env.KEEP_PROFILE) atCleanup(() => rmSync(profileDir, { recursive: true, force: true }));
  const profiled = (name) => (profileDir ? { nodeArgs: profileArgs(join(profileDir, name)) } : undefined);
  const profiles = [];

  const api = await stack.startApi({}, profiled('api'));
  const { url } = api;
  const main = await benchTenant(stack, api, 'Bench', USERS);
  const { users, headers } = main;
  // The second tenant of the fairness measure: a few end users, a trickle of events.
  const quiet = await benchTenant(stack, api, 'Bench quiet', 2);
  console.log(
    `config: reference flow (transform → branch → slack send_message on the sandbox → transform), ${USERS} end users (and a second tenant with 2, for fairness); API + worker processes NODE_ENV=production LOG_LEVEL=warn, worker concurrency 50 each, TENANT_MAX_CONCURRENT_RUNS ${process.env.TENANT_MAX_CONCURRENT_RUNS ?? '50 (default)'}, connection rate limits off, DATABASE_POOL_SIZE ${process.env.DATABASE_POOL_SIZE ?? '10 (default)'}`,
  );

  // The global fetch (undici) keeps connections alive per origin.

  /** Fires `count` events of a bench tenant (`main` unless told) at `concurrency`; answers the accepted run ids, the failures and the wall time of the firing. */
  async function fire(count, who = main, concurrency = EVENT_CONCURRENCY) {
    const accepted = [];
    const t0 = performance.now();
    const { failures, firstError } = await load(count, concurrency, async (i) => {
      const res = await fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: who.headers,
        body: JSON.stringify({ name: 'deal.won', endUserId: who.users[i % who.users.length], payload: { name: 'Acme Corp', amount: 25000, n: i } }),
      });
      const body = await res.json().catch(() => undefined);
      if (res.status !== 202 || !body?.runs?.length) throw new Error(`${res.status} ${JSON.stringify(body).slice(0, 300)}`);
      for (const r of body.runs) accepted.push(r.id);
      return true;
    });
    return { accepted, failures, firstError, fireMs: performance.now() - t0 };
  }

  /** Polls PostgreSQL until every accepted run is finished, or no run finished for 30 s. */
  let ownQueries = 0;
  async function untilFinished(ids) {
    let last = -1;
    let lastChange = Date.now();
    for (;;) {
      ownQueries++;
      const {
        rows: [row],
      } = await db.query(`SELECT count(*)::int AS done FROM runs WHERE id = ANY($1::uuid[]) AND finished_at IS NOT NULL`, [ids]);
      if (row.done === ids.length) return;
      if (row.done !== last) {
        last = row.done;
        lastChange = Date.now();
      }
      if (Date.now() - lastChange > 30_000) return;
      await sleep(50);
    }
  }

  /** The runs of `ids` as the table has them: finished, lost (never finished), failed, trigger-to-done latencies, runs/s from first accept to last finish. */
  async function outcome(ids) {
    const { rows } = await db.query(
      `SELECT id, status, steps,
              extract(epoch FROM finished_at - created_at) * 1000 AS total_ms,
              extract(epoch FROM finished_at - started_at) * 1000 AS run_ms,
              extract(epoch FROM created_at) * 1000 AS created, extract(epoch FROM finished_at) * 1000 AS finished
         FROM runs WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const finished = rows.filter((r) => r.finished !== null);
    const firstAccept = Math.min(...rows.map((r) => Number(r.created)));
    const lastFinish = Math.max(...finished.map((r) => Number(r.finished)));
    return {
      finished,
      lost: ids.length - finished.length,
      failed: finished.filter((r) => r.status !== 'succeeded').length,
      latencies: finished.map((r) => Number(r.total_ms)),
      runsPerSecond: finished.length / ((lastFinish - firstAccept) / 1000),
      firstAccept,
      lastFinish,
    };
  }

  /** Transactions committed in our database so far (each statement outside a transaction is one). Stats reach the view within a second. */
  const commits = async () => {
    await sleep(1100);
    await db.query('SELECT pg_stat_clear_snapshot()');
    return Number((await db.query(`SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`)).rows[0].xact_commit);
  };

  /** Engine overhead per step of the finished runs in the table: (run time − the Slack call) ÷ steps, p50 and p99, with the Slack call's p50. */
  const overheadOfRuns = async (triggerType) => {
    const { rows } = await db.query(
      `SELECT steps, extract(epoch FROM finished_at - started_at) * 1000 AS run_ms, extract(epoch FROM started_at - created_at) * 1000 AS wait_ms
         FROM runs WHERE trigger_type = $1 AND status = 'succeeded'`,
      [triggerType],
    );
    const perStep = rows.map((r) => (Number(r.run_ms) - (r.steps.find((x) => x.path === 'big/then/post')?.durationMs ?? 0)) / r.steps.length);
    const slack = rows.map((r) => r.steps.find((x) => x.path === 'big/then/post')?.durationMs).filter((x) => x !== undefined);
    const waits = rows.map((r) => Number(r.wait_ms));
    const runs = rows.map((r) => Number(r.run_ms));
    return { p50: pct(perStep, 50), p99: pct(perStep, 99), slack: pct(slack, 50), steps: rows[0]?.steps.length ?? 0, wait: pct(waits, 50), run: pct(runs, 50) };
  };

  /** REQUESTS request runs with wait at `concurrency`: latencies, failures, req/s. */
  const syncLoad = (requests, concurrency) =>
    load(requests, concurrency, async (i) => {
      const res = await fetch(`${url}/v1/flows/${REQUEST_FLOW.key}/runs`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ endUserId: users[i % users.length], input: { name: 'Acme Corp', amount: 25000, n: i }, wait: true }),
      });
      const body = await res.json().catch(() => undefined);
      if (res.status !== 200 || body?.status !== 'succeeded' || body?.result?.ok !== true) throw new Error(`${res.status} ${JSON.stringify(body).slice(0, 300)}`);
      return true;
    });

  const clearRuns = async () => {
    await db.query(`DELETE FROM runs`);
    await db.query(`VACUUM ANALYZE runs`);
  };

  const summary = [];
  const targetRows = [];
  for (const n of WORKER_COUNTS) {
    const label = `${n} worker${n > 1 ? 's' : ''}`;
    const workers = await stack.startWorkers(n, {}, profiled(`workers-${n}`));
    if (profileDir) profiles.push({ label: `worker, with ${label}`, dir: join(profileDir, `workers-${n}`) });

    // Warm-up (JIT, pools, keep-alive sockets, caches), then a clean table.
    const warm = await fire(Math.min(300, EVENTS));
    await untilFinished(warm.accepted);
    for (let i = 0; i < 30; i++)
      await fetch(`${url}/v1/flows/${REQUEST_FLOW.key}/runs`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ endUserId: users[i % users.length], input: { name: 'Acme Corp', amount: 25000 }, wait: true }),
      }).then((r) => r.arrayBuffer());
    await clearRuns();
    sandbox.reset({ calls: true, faults: false, data: true, tokens: false });

    // (a) Asynchronous: EVENTS events, then wait for every run to finish.
    const commits0 = await commits();
    const own0 = ownQueries;
    const rssAsync = sampleRss([api, ...workers].map((p) => p.child.pid));
    const cpu0 = { api: cpuMs(api.child.pid), workers: cpuOf(workers), pg: cpuOfCommand('postgres'), redis: cpuOfCommand('redis-server'), self: selfCpuMs() };
    const fired = await fire(EVENTS);
    const apiCpuPerEvent = (cpuMs(api.child.pid) - cpu0.api) / EVENTS;
    await untilFinished(fired.accepted);
    const accepted = Math.max(1, fired.accepted.length);
    const budget = {
      api: (cpuMs(api.child.pid) - cpu0.api) / accepted,
      workers: (cpuOf(workers) - cpu0.workers) / accepted,
      pg: (cpuOfCommand('postgres') - cpu0.pg) / accepted,
      redis: (cpuOfCommand('redis-server') - cpu0.redis) / accepted,
      self: (selfCpuMs() - cpu0.self) / accepted,
    };
    const workerCpuPerRun = budget.workers;
    // Minus this script's own polling and the three queries of commits() itself.
    const commitsPerRun = ((await commits()) - commits0 - (ownQueries - own0) - 3) / accepted;
    const [apiPeakAsync, ...workerPeaksAsync] = rssAsync.stop();
    const { finished, lost, failed, runsPerSecond, latencies, firstAccept, lastFinish } = await outcome(fired.accepted);
    const overhead = finished
      .filter((r) => r.status === 'succeeded')
      .map((r) => {
        const post = r.steps.find((s) => s.path === 'big/then/post');
        return (Number(r.run_ms) - (post?.durationMs ?? 0)) / r.steps.length;
      });
    const slackMs = finished.map((r) => r.steps.find((s) => s.path === 'big/then/post')?.durationMs).filter((x) => x !== undefined);
    const posted = sandbox.calls({ connector: 'slack', path: '/api/chat.postMessage' }).length;

    print(
      `[${label}] async sustained`,
      `${runsPerSecond.toFixed(0)} runs/s`,
      `${finished.length} runs finished in ${((lastFinish - firstAccept) / 1000).toFixed(2)} s, first accept to last finish; ${EVENTS} events at concurrency ${EVENT_CONCURRENCY} accepted at ${(fired.accepted.length / (fired.fireMs / 1000)).toFixed(0)}/s; API CPU ${ms(apiCpuPerEvent)} per event, worker CPU ${ms(workerCpuPerRun)} per run; ${timesRate(runsPerSecond, N8N.queueC50)}`,
    );
    print(`[${label}] async trigger-to-done`, `p50 ${ms(pct(latencies, 50))}, p99 ${ms(pct(latencies, 99))}`, `runs.finished_at - runs.created_at`);
    print(
      `[${label}] async lost / failed`,
      `${lost} lost, ${failed} failed, ${fired.failures} refused`,
      `accepted ${fired.accepted.length}, finished ${finished.length}; chat.postMessage calls ${posted}${fired.firstError ? `; first refusal: ${fired.firstError}` : ''}`,
    );
    print(
      `[${label}] engine overhead per step`,
      `p50 ${ms(pct(overhead, 50))}, p99 ${ms(pct(overhead, 99))}`,
      `(finished_at - started_at - Slack step duration) ÷ 4 steps; Slack step p50 ${ms(pct(slackMs, 50))}`,
    );
    const budgetTotal = Object.values(budget).reduce((a, b) => a + b, 0);
    print(
      `[${label}] CPU per run, async`,
      `${ms(budgetTotal)}`,
      `API ${budget.api.toFixed(2)}, worker${workers.length > 1 ? 's' : ''} ${budget.workers.toFixed(2)}, PostgreSQL (all of it on this box) ${budget.pg.toFixed(2)}, Redis ${budget.redis.toFixed(2)}, sandbox + load client ${budget.self.toFixed(2)} ms; ${commitsPerRun.toFixed(1)} PostgreSQL transactions per run, API and worker; ≈ ${((cpus().length * 1000) / budgetTotal).toFixed(0)} runs/s on ${cpus().length} cores at most; API + worker ${timesCpu(budget.api + budget.workers, N8N.cpuQueue)}`,
    );
    print(`[${label}] RSS peak, async`, `API ${apiPeakAsync.toFixed(0)} MB, worker ${workerPeaksAsync.map((x) => x.toFixed(0)).join(' / ')} MB`);

    // (b) Synchronous: REQUESTS request runs with wait, at REQUEST_CONCURRENCY.
    await clearRuns();
    const rssSync = sampleRss([api, ...workers].map((p) => p.child.pid));
    const sync = await syncLoad(REQUESTS, REQUEST_CONCURRENCY);
    const [apiPeakSync, ...workerPeaksSync] = rssSync.stop();
    const syncOverhead = await overheadOfRuns('request');
    const syncLatencies = sync.latencies;
    const syncFailures = sync.failures;
    const syncRps = sync.rps;
    print(
      `[${label}] sync request + wait`,
      `p50 ${ms(pct(syncLatencies, 50))}, p99 ${ms(pct(syncLatencies, 99))}, ${syncRps.toFixed(0)} req/s`,
      `${REQUESTS} requests at concurrency ${REQUEST_CONCURRENCY}, ${syncFailures} failed${sync.firstError ? ` (first: ${sync.firstError})` : ''}; without the first ${REQUEST_CONCURRENCY} sent (the synchronous path's first use since the API started) p99 ${ms(pct(sync.latencyOf.slice(REQUEST_CONCURRENCY), 99))}, those ${REQUEST_CONCURRENCY} p50 ${ms(pct(sync.latencyOf.slice(0, REQUEST_CONCURRENCY), 50))}; p50 of runs: ${ms(syncOverhead.wait)} created → started, ${ms(syncOverhead.run)} started → finished, engine overhead per step ${ms(syncOverhead.p50)}; ${timesRate(syncRps, N8N.regularC10)}, ${timesLatency('p50', pct(syncLatencies, 50), N8N.regularC10)}, ${timesLatency('p99', pct(syncLatencies, 99), N8N.regularC10)}`,
    );
    print(`[${label}] RSS peak, sync`, `API ${apiPeakSync.toFixed(0)} MB, worker ${workerPeaksSync.map((x) => x.toFixed(0)).join(' / ')} MB`, rssAnchors);

    // (b') Unloaded: one request at a time, so latency and overhead are the engine's own, not queueing on busy cores.
    await clearRuns();
    const single = await syncLoad(SINGLE_REQUESTS, 1);
    const singleOverhead = await overheadOfRuns('request');
    print(
      `[${label}] sync, one at a time`,
      `p50 ${ms(pct(single.latencies, 50))}, p99 ${ms(pct(single.latencies, 99))}`,
      `${SINGLE_REQUESTS} requests at concurrency 1, ${single.failures} failed; p50 of runs: ${ms(singleOverhead.wait)} created → started, ${ms(singleOverhead.run)} started → finished (Slack step ${ms(singleOverhead.slack)}); engine overhead per step p50 ${ms(singleOverhead.p50)}, p99 ${ms(singleOverhead.p99)} over ${singleOverhead.steps} steps`,
    );

    // (c) The workers alone: the queue paused while EVENTS events are accepted, then resumed.
    await clearRuns();
    await runsQueue.pause();
    const backlog = await fire(EVENTS);
    const resumedAt = Date.now();
    const drainCpu0 = cpuOf(workers);
    await runsQueue.resume();
    await untilFinished(backlog.accepted);
    const drainCpuPerRun = (cpuOf(workers) - drainCpu0) / backlog.accepted.length;
    const {
      rows: [drain],
    } = await db.query(
      `SELECT count(*) FILTER (WHERE finished_at IS NOT NULL)::int AS done, count(*) FILTER (WHERE finished_at IS NOT NULL AND status <> 'succeeded')::int AS failed,
              extract(epoch FROM max(finished_at)) * 1000 AS last FROM runs WHERE id = ANY($1::uuid[])`,
      [backlog.accepted],
    );
    const drainPerSecond = drain.done / ((Number(drain.last) - resumedAt) / 1000);
    print(
      `[${label}] worker drain`,
      `${drainPerSecond.toFixed(0)} runs/s`,
      `${backlog.accepted.length} runs accepted while the queue was paused, resume to last finish; ${backlog.accepted.length - drain.done} lost, ${drain.failed} failed; worker CPU ${ms(drainCpuPerRun)} per run (≈ ${(1000 / drainCpuPerRun).toFixed(0)} runs/s per core at most); ${timesRate(drainPerSecond, N8N.queueC50)}`,
    );
    // (d) Fairness: the main tenant floods FLOOD events while the quiet one sends TRICKLE events a second until the flood has finished.
    await clearRuns();
    let flooding = true;
    const trickled = [];
    let trickleRefused = 0;
    const trickle = (async () => {
      for (let i = 0; flooding; i++) {
        const t = performance.now();
        const one = await fire(1, quiet, 1);
        trickled.push(...one.accepted);
        trickleRefused += one.failures;
        await sleep(Math.max(0, 1000 / ARGS.trickle - (performance.now() - t)));
      }
    })();
    const flood = await fire(ARGS.flood);
    await untilFinished(flood.accepted);
    flooding = false;
    await trickle;
    await untilFinished(trickled);
    const flooded = await outcome(flood.accepted);
    const quietRuns = await outcome(trickled);
    print(
      `[${label}] fairness, quiet tenant`,
      `trigger-to-done p50 ${ms(pct(quietRuns.latencies, 50))}, p99 ${ms(pct(quietRuns.latencies, 99))}`,
      `${trickled.length} events at ${ARGS.trickle}/s while another tenant flooded ${ARGS.flood} events at concurrency ${EVENT_CONCURRENCY}; the flooder: ${flooded.runsPerSecond.toFixed(0)} runs/s, trigger-to-done p50 ${ms(pct(flooded.latencies, 50))}; ${quietRuns.lost + flooded.lost} lost, ${quietRuns.failed + flooded.failed} failed, ${trickleRefused + flood.failures} refused`,
    );

    targetRows.push({
      label,
      now: {
        asyncRunsPerSecond: runsPerSecond,
        cpuPerRun: budget.api + budget.workers + budget.pg + budget.redis,
        lostOrFailed: lost + failed,
        drainRunsPerSecond: drainPerSecond,
        syncP50: pct(syncLatencies, 50),
        syncP99: pct(syncLatencies, 99),
        singleP50: pct(single.latencies, 50),
        transactionsPerRun: commitsPerRun,
        apiRssMb: Math.max(apiPeakAsync, apiPeakSync),
        workerRssMb: Math.max(...workerPeaksAsync, ...workerPeaksSync),
      },
    });
    summary.push({
      label,
      runsPerSecond,
      drainPerSecond,
      lost: lost + backlog.accepted.length - drain.done + quietRuns.lost + flooded.lost,
      failed: failed + fired.failures + syncFailures + single.failures + drain.failed + backlog.failures + quietRuns.failed + flooded.failed + trickleRefused + flood.failures,
    });

    await clearRuns();
    await Promise.all(workers.map((w) => stop(w.child)));
  }
  if (summary.length > 1) {
    print(
      'scaling, async end to end',
      summary.map((s) => `${s.label}: ${s.runsPerSecond.toFixed(0)} runs/s`).join(', '),
      `${(summary.at(-1).runsPerSecond / summary[0].runsPerSecond).toFixed(2)}× on ${cpus().length} cores shared with PostgreSQL, Redis, the API and this client`,
    );
    print(
      'scaling, worker drain',
      summary.map((s) => `${s.label}: ${s.drainPerSecond.toFixed(0)} runs/s`).join(', '),
      `${(summary.at(-1).drainPerSecond / summary[0].drainPerSecond).toFixed(2)}×`,
    );
  }
  for (const { label, now } of targetRows) printTargets(`[${label}] issue 17: now against target, and against the baseline (quiet 2-core box)`, ENGINE, now);
  if (profileDir) {
    await stop(api.child); // its profile is written as it exits
    printProfiles('API', join(profileDir, 'api'));
    for (const p of profiles) printProfiles(p.label, p.dir);
  }
  if (summary.some((s) => s.lost || s.failed)) process.exitCode = 1;
});
