#!/usr/bin/env node
// Engine benchmark: the reference flow of BENCHMARKS.md (transform → branch amount > 10000 → Slack
// send_message on the sandbox → transform) run by the compiled API and 1, then 2, worker processes.
// Asynchronous: events fired at a fixed client concurrency, runs finished in the background
// (sustained runs/s, trigger-to-done latency, lost runs, engine overhead per step, RSS).
// Synchronous: a request-triggered variant (same steps + respond) with `wait: true`, at concurrency
// 10, then one at a time (the engine's own latency and per-step overhead, no queueing).
// Then the workers alone: events accepted while the queue is paused, then drained.
// Prints one line per measure.
// Usage: npm run build && node bench/engine.mjs [--events 2000] [--requests 500] [--single-requests 100] [--users 20] [--workers 1,2]
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createServer } from 'node:net';
import pg from 'pg';
import Redis from 'ioredis';
import Queue from 'bull';
import { consentInSandbox, startSandbox } from '../connectors/dist/sandbox/index.js';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'server', 'dist');
const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '2000' },
    'event-concurrency': { type: 'string', default: '20' },
    requests: { type: 'string', default: '500' },
    'single-requests': { type: 'string', default: '100' },
    'request-concurrency': { type: 'string', default: '10' },
    users: { type: 'string', default: '20' },
    workers: { type: 'string', default: '1,2' },
  },
});
const EVENTS = Number(values.events);
const EVENT_CONCURRENCY = Number(values['event-concurrency']);
const REQUESTS = Number(values.requests);
const REQUEST_CONCURRENCY = Number(values['request-concurrency']);
const SINGLE_REQUESTS = Number(values['single-requests']);
const USERS = Number(values.users);
const WORKER_COUNTS = values.workers.split(',').map(Number);
const adminUrl = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const HOST_ORIGIN = 'https://host.example';
// n8n 1.123 on a 2-core machine, same flow (BENCHMARKS.md).
const N8N = { queueRunsPerSecond: 56, queueP50: 853, regularPgPerSecond: 36, regularPgP50: 267, regularPgP99: 454, rssMb: 1150 };

const pct = (xs, p) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))] : NaN);
const rssMb = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  } catch {
    return 0; // exited
  }
};
const print = (measure, value, extra = '') => console.log(`${measure.padEnd(38)} ${value}${extra ? `  (${extra})` : ''}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () =>
  new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
const ms = (x) => `${x.toFixed(2)} ms`;
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100;
  } catch {
    return 100;
  }
})();
/** User + system CPU time of a process so far, in ms; with `children`, also that of its exited children it waited for. */
const cpuMs = (pid, children = false) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state): utime is 14, stime 15, cutime 16, cstime 17
    const ticks = Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
    return (ticks * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
};
const cpuOf = (procs) => procs.reduce((sum, p) => sum + cpuMs(p.child.pid), 0);
/**
 * CPU ms so far of every process whose command name is `comm` (all of PostgreSQL on this box:
 * backends, background processes, and through the postmaster's children time the backends that exited).
 */
const cpuOfCommand = (comm) => {
  let sum = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) sum += cpuMs(pid, true);
    } catch {
      // gone
    }
  }
  return sum;
};
const selfCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

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

// Everything started here, so it can be stopped on any exit path.
const children = new Set();
let sandbox;
let admin;
let db;
let redis;
let runsQueue;
let databaseCreated = false;
const database = `sb_bench_${Date.now().toString(36)}`;
const redisPrefix = `sbbench:${randomBytes(3).toString('hex')}`;

async function stop(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

let cleaning;
/** Stops what this script started: processes, database, Redis keys, then the in-process sandbox. */
function cleanup() {
  cleaning ??= (async () => {
    await Promise.all([...children].map((c) => stop(c).catch(() => undefined)));
    await runsQueue?.close().catch(() => undefined);
    redis?.disconnect();
    if (db) await db.end().catch(() => undefined);
    if (admin) {
      if (databaseCreated) await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch((e) => console.error(`could not drop database ${database}: ${e.message}`));
      await admin.end().catch(() => undefined);
    }
    const cleaner = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    cleaner.on('error', () => undefined);
    try {
      await cleaner.connect();
      let cursor = '0';
      do {
        const [next, keys] = await cleaner.scan(cursor, 'MATCH', `${redisPrefix}:*`, 'COUNT', 1000);
        if (keys.length) await cleaner.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } catch {
      // Redis unreachable: nothing of ours is in it.
    } finally {
      cleaner.disconnect();
    }
    if (sandbox) await Promise.race([sandbox.close().catch(() => undefined), sleep(2000)]);
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}

// BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the API and workers (NODE_OPTIONS refuses --cpu-prof).
const childNodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

function startProcess(script, env) {
  const child = spawn(process.execPath, [...childNodeArgs, join(dist, script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  const keep = (c) => (out = (out + c).slice(-20_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return { child, output: () => out };
}

async function untilReady(api, url, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (api.child.exitCode !== null || api.child.signalCode !== null) throw new Error(`API exited early: ${api.output().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`API not ready after ${timeoutMs} ms: ${api.output().slice(-2000)}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      /* not yet */
    }
    await sleep(20);
  }
}

/** Workers log nothing at LOG_LEVEL=warn; a worker is ready once its blocking Redis client for the runs queue has its name. */
async function untilWorkers(redis, workers, timeoutMs = 30_000) {
  const name = `${redisPrefix}:bull:${Buffer.from('runs').toString('base64')}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const w of workers) if (w.child.exitCode !== null || w.child.signalCode !== null) throw new Error(`worker exited early: ${w.output().slice(-2000)}`);
    const list = await redis.client('LIST');
    const n = list.split('\n').filter((l) => l.includes(` name=${name} `)).length;
    if (n >= workers.length) return;
    if (Date.now() > deadline) throw new Error(`${n} of ${workers.length} workers ready after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** JSON over fetch; remembers the member session cookie. */
function client(base, { bearer, origin } = {}) {
  let cookie;
  return async (method, path, body) => {
    const headers = {};
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (cookie) headers.cookie = cookie;
    if (origin && method !== 'GET') headers.origin = origin;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('sb_session='));
    if (set) cookie = set.split(';')[0];
    const text = await res.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* keep text */
    }
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
    return parsed;
  };
}

/** Samples the RSS of the given processes every 50 ms; `stop()` answers the peaks in MB. */
function sampleRss(procs) {
  const peaks = procs.map(() => 0);
  const take = () => procs.forEach((p, i) => (peaks[i] = Math.max(peaks[i], rssMb(p.child.pid))));
  take();
  const timer = setInterval(take, 50);
  return { stop: () => (clearInterval(timer), take(), peaks) };
}

/** Runs `count` jobs with `concurrency` in flight; `job(i)` answers nothing. */
async function pool(count, concurrency, job) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (let i = next++; i < count; i = next++) await job(i);
    }),
  );
}

try {
  const cpu = cpus();
  console.log(
    `machine: ${cpu.length} cores (${cpu[0].model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM; node ${process.version}; PostgreSQL + Redis on the same box, sandbox and load client in this process`,
  );

  sandbox = await startSandbox();
  admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  databaseCreated = true;
  const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: redisPrefix,
    MASTER_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    SANDBOX_URL: sandbox.url,
    OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}`,
    PORT: String(port),
    PUBLIC_URL: url,
    // Slack's declared 1 call/s per connection would cap 20 end users at 20 runs/s: the bench measures the engine, not the limiter.
    CONNECTION_RATE_LIMITS: 'false',
  };
  const cli = (...args) => execFileSync(process.execPath, [join(dist, 'cli/main.js'), ...args], { env: { ...process.env, ...env } }).toString();
  cli('migrate', 'up');
  const email = `bench-${randomBytes(3).toString('hex')}@example.test`;
  const created = cli('create-tenant', '--name', 'Bench', '--email', email, '--api-key', 'bench');
  const tenant = JSON.parse(created.slice(created.indexOf('{')));
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  redis = new Redis(redisUrl);
  // The runs queue as the processes see it, to pause and resume it (global pause: no worker takes a job).
  runsQueue = new Queue('runs', { prefix: `${redisPrefix}:bull`, redis: redisUrl });

  const api = startProcess('main.js', env);
  await untilReady(api, url);

  // The owner signs in, allows the host's origin, turns Slack on against the sandbox and publishes both flows.
  const owner = client(url, { origin: url });
  await owner('POST', '/v1/auth/login', { email, password: tenant.password });
  await owner('PATCH', '/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
  await owner('PUT', '/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } });
  for (const definition of [EVENT_FLOW, REQUEST_FLOW]) {
    await owner('POST', '/v1/admin/flow-templates', { definition });
    await owner('POST', `/v1/admin/flow-templates/${definition.key}/publish`);
  }

  // USERS end users connect Slack through the popup, driven over HTTP, and get both flows switched on.
  const host = client(url, { bearer: tenant.apiKey });
  const users = Array.from({ length: USERS }, (_, i) => `bench-user-${i}`);
  for (const endUserId of users) {
    const { token } = await host('POST', '/v1/sessions', { endUserId });
    const start = await fetch(`${url}/connect/slack?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
    if (start.status !== 302) throw new Error(`connect page answered ${start.status}: ${(await start.text()).slice(0, 300)}`);
    const page = await (await fetch(await consentInSandbox(start.headers.get('location')))).text();
    const result = JSON.parse(/<script type="application\/json" id="switchboard-result">([^<]*)<\/script>/.exec(page)?.[1] ?? 'null');
    if (result?.message?.status !== 'connected') throw new Error(`connect failed: ${JSON.stringify(result?.message ?? page.slice(0, 300))}`);
    for (const flow of [EVENT_FLOW, REQUEST_FLOW]) await host('POST', `/v1/end-users/${endUserId}/flows/${flow.key}/enable`, { settings: { channel: '#general' } });
  }
  console.log(
    `config: reference flow (transform → branch → slack send_message on the sandbox → transform), ${USERS} end users; API + worker processes NODE_ENV=production LOG_LEVEL=warn, worker concurrency 50 each, TENANT_MAX_CONCURRENT_RUNS ${process.env.TENANT_MAX_CONCURRENT_RUNS ?? '50 (default)'}, connection rate limits off, DATABASE_POOL_SIZE ${process.env.DATABASE_POOL_SIZE ?? '10 (default)'}`,
  );

  // Keep-alive agent for the load: the global fetch (undici) pools connections per origin.
  const headers = { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' };

  /** Fires `count` events at EVENT_CONCURRENCY; answers the accepted run ids, the failures and the wall time of the firing. */
  async function fire(count) {
    const accepted = [];
    let failures = 0;
    let firstError;
    const t0 = performance.now();
    await pool(count, EVENT_CONCURRENCY, async (i) => {
      try {
        const res = await fetch(`${url}/v1/events`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ name: 'deal.won', endUserId: users[i % users.length], payload: { name: 'Acme Corp', amount: 25000, n: i } }),
        });
        const body = await res.json().catch(() => undefined);
        if (res.status !== 202 || !body?.runs?.length) {
          failures++;
          firstError ??= `${res.status} ${JSON.stringify(body).slice(0, 300)}`;
          return;
        }
        for (const r of body.runs) accepted.push(r.id);
      } catch (error) {
        failures++;
        firstError ??= error.message;
      }
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
  const syncLoad = async (requests, concurrency) => {
    const latencies = [];
    let failures = 0;
    let firstError;
    const t0 = performance.now();
    await pool(requests, concurrency, async (i) => {
      const t = performance.now();
      try {
        const res = await fetch(`${url}/v1/flows/${REQUEST_FLOW.key}/runs`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ endUserId: users[i % users.length], input: { name: 'Acme Corp', amount: 25000, n: i }, wait: true }),
        });
        const body = await res.json().catch(() => undefined);
        if (res.status !== 200 || body?.status !== 'succeeded' || body?.result?.ok !== true) {
          failures++;
          firstError ??= `${res.status} ${JSON.stringify(body).slice(0, 300)}`;
        }
      } catch (error) {
        failures++;
        firstError ??= error.message;
      }
      latencies.push(performance.now() - t);
    });
    return { latencies, failures, firstError, rps: requests / ((performance.now() - t0) / 1000) };
  };

  const clearRuns = async () => {
    await db.query(`DELETE FROM runs`);
    await db.query(`VACUUM ANALYZE runs`);
  };

  const summary = [];
  for (const n of WORKER_COUNTS) {
    const workers = Array.from({ length: n }, () => startProcess('worker.js', env));
    await untilWorkers(redis, workers);
    const label = `${n} worker${n > 1 ? 's' : ''}`;

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
    const rssAsync = sampleRss([api, ...workers]);
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
    const { rows } = await db.query(
      `SELECT id, status, steps,
              extract(epoch FROM finished_at - created_at) * 1000 AS total_ms,
              extract(epoch FROM finished_at - started_at) * 1000 AS run_ms,
              extract(epoch FROM created_at) * 1000 AS created, extract(epoch FROM finished_at) * 1000 AS finished
         FROM runs WHERE id = ANY($1::uuid[])`,
      [fired.accepted],
    );
    const finished = rows.filter((r) => r.finished !== null);
    const lost = fired.accepted.length - finished.length;
    const failed = finished.filter((r) => r.status !== 'succeeded').length;
    const firstAccept = Math.min(...rows.map((r) => Number(r.created)));
    const lastFinish = Math.max(...finished.map((r) => Number(r.finished)));
    const runsPerSecond = finished.length / ((lastFinish - firstAccept) / 1000);
    const latencies = finished.map((r) => Number(r.total_ms));
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
      `${finished.length} runs finished in ${((lastFinish - firstAccept) / 1000).toFixed(2)} s, first accept to last finish; ${EVENTS} events at concurrency ${EVENT_CONCURRENCY} accepted at ${(fired.accepted.length / (fired.fireMs / 1000)).toFixed(0)}/s; API CPU ${ms(apiCpuPerEvent)} per event, worker CPU ${ms(workerCpuPerRun)} per run; ${(runsPerSecond / N8N.queueRunsPerSecond).toFixed(1)}× n8n queue mode (56/s)`,
    );
    print(`[${label}] async trigger-to-done`, `p50 ${ms(pct(latencies, 50))}, p99 ${ms(pct(latencies, 99))}`, `runs.finished_at - runs.created_at; n8n queue mode p50 853 ms`);
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
      `API ${budget.api.toFixed(2)}, worker${workers.length > 1 ? 's' : ''} ${budget.workers.toFixed(2)}, PostgreSQL (all of it on this box) ${budget.pg.toFixed(2)}, Redis ${budget.redis.toFixed(2)}, sandbox + load client ${budget.self.toFixed(2)} ms; ${commitsPerRun.toFixed(1)} PostgreSQL transactions per run, API and worker; ≈ ${((cpus().length * 1000) / budgetTotal).toFixed(0)} runs/s on ${cpus().length} cores at most`,
    );
    print(`[${label}] RSS peak, async`, `API ${apiPeakAsync.toFixed(0)} MB, worker ${workerPeaksAsync.map((x) => x.toFixed(0)).join(' / ')} MB`);

    // (b) Synchronous: REQUESTS request runs with wait, at REQUEST_CONCURRENCY.
    await clearRuns();
    const rssSync = sampleRss([api, ...workers]);
    const sync = await syncLoad(REQUESTS, REQUEST_CONCURRENCY);
    const [apiPeakSync, ...workerPeaksSync] = rssSync.stop();
    const syncOverhead = await overheadOfRuns('request');
    const syncLatencies = sync.latencies;
    const syncFailures = sync.failures;
    const syncRps = sync.rps;
    print(
      `[${label}] sync request + wait`,
      `p50 ${ms(pct(syncLatencies, 50))}, p99 ${ms(pct(syncLatencies, 99))}, ${syncRps.toFixed(0)} req/s`,
      `${REQUESTS} requests at concurrency ${REQUEST_CONCURRENCY}, ${syncFailures} failed${sync.firstError ? ` (first: ${sync.firstError})` : ''}; p50 of runs: ${ms(syncOverhead.wait)} created → started, ${ms(syncOverhead.run)} started → finished, engine overhead per step ${ms(syncOverhead.p50)}; n8n regular PostgreSQL: 36/s, p50 267 ms, p99 454 ms → ${(syncRps / N8N.regularPgPerSecond).toFixed(1)}× throughput, p50 ${(N8N.regularPgP50 / pct(syncLatencies, 50)).toFixed(0)}× lower`,
    );
    print(
      `[${label}] RSS peak, sync`,
      `API ${apiPeakSync.toFixed(0)} MB, worker ${workerPeaksSync.map((x) => x.toFixed(0)).join(' / ')} MB`,
      `n8n ~850 MB regular, ~1150 MB queue mode`,
    );

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
      `${backlog.accepted.length} runs accepted while the queue was paused, resume to last finish; ${backlog.accepted.length - drain.done} lost, ${drain.failed} failed; worker CPU ${ms(drainCpuPerRun)} per run (≈ ${(1000 / drainCpuPerRun).toFixed(0)} runs/s per core at most); ${(drainPerSecond / N8N.queueRunsPerSecond).toFixed(1)}× n8n queue mode`,
    );
    summary.push({
      label,
      runsPerSecond,
      drainPerSecond,
      lost: lost + backlog.accepted.length - drain.done,
      failed: failed + fired.failures + syncFailures + single.failures + drain.failed + backlog.failures,
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
  if (summary.some((s) => s.lost || s.failed)) process.exitCode = 1;
} catch (error) {
  // After SIGINT/SIGTERM the cleanup closes what the measures were using: their errors are not news.
  if (!cleaning) console.error(error);
  process.exitCode = 1;
} finally {
  await cleanup();
}
