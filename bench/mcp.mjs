#!/usr/bin/env node
// MCP benchmark: what a tool call costs over the plain proxy call of the same provider request.
// Each MCP call (tools/call slack_list_users, secret key + end user) is an engine run executed by a
// worker; the proxy call (GET /v1/proxy/:id/users.list) goes straight out. Prints latency p50/p99,
// the engine's own overhead per call (provider time excluded, from the runs' timelines) and CPU per
// call of the API and the worker. Usage: npm run build && node bench/mcp.mjs [--calls 300] [--concurrency 1] [--runs 3]
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createServer } from 'node:net';
import pg from 'pg';
import Redis from 'ioredis';
import { consentInSandbox, startSandbox } from '../connectors/dist/sandbox/index.js';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'server', 'dist');
const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '1' },
    runs: { type: 'string', default: '3' },
  },
});
const CALLS = Number(values.calls);
const CONCURRENCY = Number(values.concurrency);
const RUNS = Number(values.runs);
const adminUrl = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const HOST_ORIGIN = 'https://host.example';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100;
  } catch {
    return 100;
  }
})();
/** User + system CPU time of a process so far, in ms. */
const cpuMs = (pid) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state): utime is 14, stime 15
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
};
const print = (measure, value, extra = '') => console.log(`${measure.padEnd(34)} ${value}${extra ? `  (${extra})` : ''}`);
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
const signed = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(2)} ms`;

// Everything started here, so it can be stopped on any exit path.
const children = [];
let sandbox;
let admin;
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
/** Stops what this script started, the lasting things first: API processes, database, Redis keys, then the in-process sandbox. */
function cleanup() {
  cleaning ??= (async () => {
    await Promise.all(children.map((c) => stop(c).catch(() => undefined)));
    if (admin) {
      if (databaseCreated) await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch((e) => console.error(`could not drop database ${database}: ${e.message}`));
      await admin.end().catch(() => undefined);
    }
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}:*`, 'COUNT', 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } catch {
      // Redis unreachable: nothing of ours is in it.
    } finally {
      redis.disconnect();
    }
    if (sandbox) await Promise.race([sandbox.close().catch(() => undefined), sleep(2000)]);
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}

// BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the API and the worker (NODE_OPTIONS refuses --cpu-prof).
const childNodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

function startProcess(script, env) {
  const child = spawn(process.execPath, [...childNodeArgs, join(dist, script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  return { child, url: env.PUBLIC_URL, output: () => out };
}

async function untilReady(api, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (api.child.exitCode !== null || api.child.signalCode !== null) throw new Error(`API exited early: ${api.output().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`API not ready after ${timeoutMs} ms: ${api.output().slice(-2000)}`);
    try {
      if ((await fetch(`${api.url}/readyz`)).ok) return;
    } catch {
      /* not yet */
    }
    await sleep(20);
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
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return parsed;
  };
}

/** CALLS calls of `once` at CONCURRENCY; `once` answers whether the call succeeded. */
async function load(once, calls = CALLS) {
  const latencies = [];
  let failures = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < calls) {
        const s = performance.now();
        if (!(await once())) failures++;
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { rps: calls / seconds, p50: pct(latencies, 50), p99: pct(latencies, 99), failures };
}

try {
  console.log(
    `machine: ${cpus().length} cores (${cpus()[0].model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM; node ${process.version}; PostgreSQL + Redis on the same box, sandbox and load client in this process`,
  );

  sandbox = await startSandbox();
  admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  databaseCreated = true;
  const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();
  const port = await freePort();
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: redisPrefix,
    MASTER_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    SANDBOX_URL: sandbox.url,
    OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}`,
    // Slack declares 1 call/s per connection: the limit would be what is measured.
    CONNECTION_RATE_LIMITS: 'false',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
  };
  const cli = (...args) => execFileSync(process.execPath, [join(dist, 'cli/main.js'), ...args], { env: { ...process.env, ...env } }).toString();
  cli('migrate', 'up');
  const email = `bench-${randomBytes(3).toString('hex')}@example.test`;
  const created = cli('create-tenant', '--name', 'Bench', '--email', email, '--api-key', 'bench');
  const tenant = JSON.parse(created.slice(created.indexOf('{')));
  const api = startProcess('main.js', env);
  const worker = startProcess('worker.js', env);
  await untilReady(api);

  const owner = client(api.url, { origin: api.url });
  await owner('POST', '/v1/auth/login', { email, password: tenant.password });
  await owner('PATCH', '/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
  await owner('PUT', '/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } });
  await owner('PUT', '/v1/admin/mcp/connectors/slack', { exposed: ['list_users'], requireApproval: [] });

  const host = client(api.url, { bearer: tenant.apiKey });
  const { token } = await host('POST', '/v1/sessions', { endUserId: 'bench-user' });
  const start = await fetch(`${api.url}/connect/slack?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
  if (start.status !== 302) throw new Error(`connect page answered ${start.status}: ${(await start.text()).slice(0, 300)}`);
  const page = await (await fetch(await consentInSandbox(start.headers.get('location')))).text();
  const result = JSON.parse(/<script type="application\/json" id="switchboard-result">([^<]*)<\/script>/.exec(page)?.[1] ?? 'null');
  if (result?.message?.status !== 'connected') throw new Error(`connect failed: ${JSON.stringify(result?.message ?? page.slice(0, 300))}`);
  const connectionId = result.message.connectionId;

  // The same provider request both ways: users.list?limit=5, as the list_users action sends it.
  const auth = { authorization: `Bearer ${tenant.apiKey}` };
  const proxy = async () => {
    const res = await fetch(`${api.url}/v1/proxy/${connectionId}/users.list?limit=5`, { headers: auth });
    const body = await res.json().catch(() => undefined);
    return res.status === 200 && body?.ok === true;
  };
  let id = 0;
  const mcp = async () => {
    const res = await fetch(`${api.url}/mcp`, {
      method: 'POST',
      headers: { ...auth, 'x-switchboard-end-user': 'bench-user', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name: 'slack_list_users', arguments: { limit: 5 } } }),
    });
    const body = await res.json().catch(() => undefined);
    return res.status === 200 && body?.result?.structuredContent?.status === 'succeeded';
  };

  // Warm both paths (JIT, pools, keep-alive sockets), then alternate proxy and MCP runs.
  await load(proxy, 100);
  await load(mcp, 100);
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query(`DELETE FROM runs`);
  await sleep(300);
  const rounds = [];
  for (let i = 0; i < RUNS; i++) {
    const a0 = cpuMs(api.child.pid);
    const p = await load(proxy);
    p.cpu = (cpuMs(api.child.pid) - a0) / CALLS;
    const [api0, worker0] = [cpuMs(api.child.pid), cpuMs(worker.child.pid)];
    const m = await load(mcp);
    m.apiCpu = (cpuMs(api.child.pid) - api0) / CALLS;
    m.workerCpu = (cpuMs(worker.child.pid) - worker0) / CALLS;
    rounds.push({ p, m });
  }
  // The engine's own time per call, provider excluded: queued to finished, minus the action step's duration.
  const runs = (
    await db.query(
      `SELECT extract(epoch FROM (finished_at - created_at)) * 1000 AS total, extract(epoch FROM (started_at - created_at)) * 1000 AS queued, (steps->0->>'durationMs')::float AS action
       FROM runs WHERE trigger_type = 'mcp' AND status = 'succeeded'`,
    )
  ).rows.map((r) => ({ total: Number(r.total), queued: Number(r.queued), action: Number(r.action) }));
  const [{ failed }] = (await db.query(`SELECT count(*)::int AS failed FROM runs WHERE status <> 'succeeded'`)).rows;
  await db.end();

  const med = (f) => median(rounds.map(f));
  const failures = rounds.reduce((n, r) => n + r.p.failures + r.m.failures, 0) + failed;
  const cfg = `${CALLS} calls × ${RUNS} runs, concurrency ${CONCURRENCY}, median of runs; secret key + end user both ways`;
  print('proxy GET users.list', `p50 ${ms(med((r) => r.p.p50))}, p99 ${ms(med((r) => r.p.p99))}, ${med((r) => r.p.rps).toFixed(0)} calls/s`, cfg);
  print(
    'MCP tools/call slack_list_users',
    `p50 ${ms(med((r) => r.m.p50))}, p99 ${ms(med((r) => r.m.p99))}, ${med((r) => r.m.rps).toFixed(0)} calls/s`,
    `a run per call: API → queue → worker → provider → Redis → API; ${failures} failed calls in all`,
  );
  print('MCP added latency', `p50 ${signed(med((r) => r.m.p50 - r.p.p50))}, p99 ${signed(med((r) => r.m.p99 - r.p.p99))}`, 'MCP minus proxy, same round');
  print(
    'engine overhead per call',
    `p50 ${ms(
      pct(
        runs.map((r) => r.total - r.action),
        50,
      ),
    )}, p99 ${ms(
      pct(
        runs.map((r) => r.total - r.action),
        99,
      ),
    )}`,
    `run created → finished, minus the action step (the provider call); queue wait p50 ${ms(
      pct(
        runs.map((r) => r.queued),
        50,
      ),
    )}; ${runs.length} runs`,
  );
  print('CPU per call, proxy', ms(med((r) => r.p.cpu)), 'API process');
  print(
    'CPU per call, MCP',
    `${ms(med((r) => r.m.apiCpu + r.m.workerCpu))}`,
    `API ${ms(med((r) => r.m.apiCpu))} + worker ${ms(med((r) => r.m.workerCpu))}; ${med((r) => (r.m.apiCpu + r.m.workerCpu) / r.p.cpu).toFixed(1)}× the proxy`,
  );
  if (failures) process.exitCode = 1;
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await cleanup();
}
