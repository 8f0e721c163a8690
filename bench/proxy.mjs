#!/usr/bin/env node
// Proxy benchmark: latency the proxy adds over calling the provider directly, the API's memory
// while proxying, and the refresh storm (many concurrent calls on an expired token, two API
// processes, one refresh expected). Prints one line per measure.
// Usage: npm run build && node bench/proxy.mjs [--requests 3000] [--concurrency 10] [--runs 3] [--storm 1000]
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
    requests: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    storm: { type: 'string', default: '1000' },
  },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const RUNS = Number(values.runs);
const STORM = Number(values.storm);
const adminUrl = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const HOST_ORIGIN = 'https://host.example';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
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

function startApi(env) {
  const child = spawn(process.execPath, [join(dist, 'main.js')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** REQUESTS GETs at CONCURRENCY with the global fetch (keep-alive); a call succeeds on 200 with `ok: true`. */
async function load(target, headers, requests = REQUESTS) {
  const latencies = [];
  let failures = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < requests) {
        const s = performance.now();
        const res = await fetch(target, { headers });
        const body = await res.json().catch(() => undefined);
        if (res.status !== 200 || body?.ok !== true) failures++;
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { rps: requests / seconds, p50: pct(latencies, 50), p99: pct(latencies, 99), failures };
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
  const baseEnv = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: redisPrefix,
    MASTER_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    SANDBOX_URL: sandbox.url,
    OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}`,
  };
  const cli = (...args) => execFileSync(process.execPath, [join(dist, 'cli/main.js'), ...args], { env: { ...process.env, ...baseEnv } }).toString();
  cli('migrate', 'up');
  const email = `bench-${randomBytes(3).toString('hex')}@example.test`;
  const created = cli('create-tenant', '--name', 'Bench', '--email', email, '--api-key', 'bench');
  const tenant = JSON.parse(created.slice(created.indexOf('{')));

  const envFor = (port) => ({ ...baseEnv, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
  const api = startApi(envFor(await freePort()));
  await untilReady(api);

  // The owner signs in and turns Slack on against the sandbox; the host app allows its origin.
  const owner = client(api.url, { origin: api.url });
  await owner('POST', '/v1/auth/login', { email, password: tenant.password });
  await owner('PATCH', '/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
  await owner('PUT', '/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } });

  // An end user connects through the popup, driven over HTTP.
  const host = client(api.url, { bearer: tenant.apiKey });
  const { token } = await host('POST', '/v1/sessions', { endUserId: 'bench-user' });
  const start = await fetch(`${api.url}/connect/slack?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
  if (start.status !== 302) throw new Error(`connect page answered ${start.status}: ${(await start.text()).slice(0, 300)}`);
  const callback = await consentInSandbox(start.headers.get('location'));
  const page = await (await fetch(callback)).text();
  const result = JSON.parse(/<script type="application\/json" id="switchboard-result">([^<]*)<\/script>/.exec(page)?.[1] ?? 'null');
  if (result?.message?.status !== 'connected') throw new Error(`connect failed: ${JSON.stringify(result?.message ?? page.slice(0, 300))}`);
  const connectionId = result.message.connectionId;
  const { accessToken } = await host('POST', `/v1/connections/${connectionId}/access-token`);

  const direct = { url: `${sandbox.url}/slack/api/auth.test`, headers: { authorization: `Bearer ${accessToken}` } };
  const proxied = { url: `${api.url}/v1/proxy/${connectionId}/auth.test`, headers: { authorization: `Bearer ${tenant.apiKey}` } };

  // Warm both paths (JIT, pools, keep-alive sockets), then alternate direct and proxy runs.
  await load(direct.url, direct.headers, 500);
  await load(proxied.url, proxied.headers, 500);
  await sleep(300);
  const restRss = rssMb(api.child.pid);
  const rounds = [];
  let peakRss = 0;
  for (let i = 0; i < RUNS; i++) {
    sandbox.reset({ calls: true, faults: false, data: false });
    const d = await load(direct.url, direct.headers);
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(api.child.pid))), 50);
    const cpu0 = cpuMs(api.child.pid);
    const p = await load(proxied.url, proxied.headers);
    p.cpuPerCall = (cpuMs(api.child.pid) - cpu0) / REQUESTS;
    clearInterval(sampler);
    rounds.push({ d, p });
  }
  const m = (f) => median(rounds.map(f));
  const failures = rounds.reduce((n, r) => n + r.d.failures + r.p.failures, 0);
  const cfg = `${REQUESTS} requests × ${RUNS} runs, concurrency ${CONCURRENCY}, median of runs`;
  print('direct GET sandbox auth.test', `p50 ${ms(m((r) => r.d.p50))}, p99 ${ms(m((r) => r.d.p99))}, ${m((r) => r.d.rps).toFixed(0)} req/s`, cfg);
  print(
    'proxy GET /v1/proxy/:id/auth.test',
    `p50 ${ms(m((r) => r.p.p50))}, p99 ${ms(m((r) => r.p.p99))}, ${m((r) => r.p.rps).toFixed(0)} req/s`,
    `${(m((r) => r.p.rps / r.d.rps) * 100).toFixed(0)}% of direct throughput; ${failures} failed calls in all`,
  );
  print(
    'proxy added latency',
    `p50 ${signed(m((r) => r.p.p50 - r.d.p50))}, p99 ${signed(m((r) => r.p.p99 - r.d.p99))}`,
    `proxy minus direct, same run; p50 ratio ${m((r) => r.p.p50 / r.d.p50).toFixed(1)}×`,
  );
  print(
    'proxy API CPU per call',
    ms(m((r) => r.p.cpuPerCall)),
    `user + system time of the API process over the proxy run ÷ calls; ≈ ${(1000 / m((r) => r.p.cpuPerCall)).toFixed(0)} calls/s per core at most`,
  );
  print('proxy API RSS peak', `${peakRss.toFixed(0)} MB`, `${restRss.toFixed(0)} MB at rest after warm-up, NODE_ENV=production`);

  // The refresh storm: a second API process with the same environment, the token expired on both
  // sides (the provider refuses it, our row says so), STORM calls split evenly, all started at once.
  const api2 = startApi(envFor(await freePort()));
  await untilReady(api2);
  const apis = [api, api2];
  for (const a of apis) await load(`${a.url}/v1/proxy/${connectionId}/auth.test`, proxied.headers, 50);
  sandbox.reset({ calls: true, faults: false, data: false });
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    sandbox.oauth.expireAccessTokens('slack');
    await db.query(`UPDATE connections SET expires_at = now() - interval '1 minute' WHERE id = $1`, [connectionId]);
  } finally {
    await db.end();
  }
  const refreshesBefore = sandbox.oauth.refreshCount('slack');
  const eventsBefore = sandbox.oauth.events('slack').length;
  const stormPeak = [0, 0];
  const stormSampler = setInterval(() => apis.forEach((a, i) => (stormPeak[i] = Math.max(stormPeak[i], rssMb(a.child.pid)))), 50);
  const t0 = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: STORM }, async (_, i) => {
      const s = performance.now();
      try {
        const res = await fetch(`${apis[i % 2].url}/v1/proxy/${connectionId}/auth.test`, { headers: proxied.headers });
        const body = await res.json().catch(() => undefined);
        return { ok: res.status === 200 && body?.ok === true, ms: performance.now() - s, status: res.status, error: body?.error };
      } catch (error) {
        return { ok: false, ms: performance.now() - s, status: 0, error: error.cause?.code ?? error.message };
      }
    }),
  );
  const wall = performance.now() - t0;
  clearInterval(stormSampler);
  const stormFailures = outcomes.filter((o) => !o.ok);
  const refreshes = sandbox.oauth.refreshCount('slack') - refreshesBefore;
  const reuse = sandbox.oauth
    .events('slack')
    .slice(eventsBefore)
    .filter((e) => e.outcome === 'error').length;
  const tokenCalls = sandbox.calls({ connector: 'slack', path: '/api/oauth.v2.access' }).length;
  const latencies = outcomes.map((o) => o.ms);
  print(
    'refresh storm:',
    `${STORM} calls, ${stormFailures.length} failures, ${refreshes} refreshes`,
    `2 API processes, ${STORM / 2} each, all started at once; ${tokenCalls} token-endpoint calls, ${reuse} refused (refresh-token reuse)`,
  );
  print(
    'refresh storm, wall time',
    `${wall.toFixed(0)} ms`,
    `first call sent to last answer; per call p50 ${ms(pct(latencies, 50))}, p99 ${ms(pct(latencies, 99))}; API RSS peaks ${stormPeak.map((x) => x.toFixed(0)).join(' / ')} MB`,
  );
  if (stormFailures.length) {
    const kinds = {};
    for (const f of stormFailures) kinds[`${f.status} ${f.error?.code ?? f.error ?? ''}`.trim()] = (kinds[`${f.status} ${f.error?.code ?? f.error ?? ''}`.trim()] ?? 0) + 1;
    console.log(`  failures by kind: ${JSON.stringify(kinds)}`);
  }
  if (failures || stormFailures.length || refreshes !== 1) process.exitCode = 1;
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await cleanup();
}
