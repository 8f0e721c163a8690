#!/usr/bin/env node
// Foundation benchmark: cold start of API, worker and `npm run demo`; memory at rest and under
// load; API latency for an authenticated read. Prints one line per measure.
// Usage: npm run build && node bench/startup.mjs [--requests 5000] [--concurrency 10] [--runs 5]
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import pg from 'pg';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'server', 'dist');
const { values } = parseArgs({
  options: { requests: { type: 'string', default: '5000' }, concurrency: { type: 'string', default: '10' }, runs: { type: 'string', default: '5' } },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const RUNS = Number(values.runs);
const adminUrl = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
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

function start(script, env, args = [], readyLine) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(dist, script), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready =
    readyLine &&
    new Promise((res, rej) => {
      const onData = (chunk) => {
        out += chunk;
        if (readyLine && out.includes(readyLine)) res(performance.now() - t0);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => rej(new Error(`${script} exited with ${code}: ${out.slice(-2000)}`)));
    });
  if (!readyLine) {
    child.stdout.resume();
    child.stderr.resume();
  }
  return { child, t0, ready, output: () => out };
}

async function untilHttpOk(url, t0) {
  for (;;) {
    try {
      if ((await fetch(url)).ok) return performance.now() - t0;
    } catch {
      /* not yet */
    }
    await sleep(5);
  }
}

async function stop(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

/** REQUESTS GETs at CONCURRENCY with the global fetch (keep-alive). */
async function load(target, headers) {
  const latencies = [];
  let failures = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < REQUESTS) {
        const s = performance.now();
        const res = await fetch(target, { headers });
        await res.arrayBuffer();
        if (res.status !== 200) failures++;
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { rps: REQUESTS / seconds, p50: pct(latencies, 50), p99: pct(latencies, 99), failures };
}

const database = `sb_bench_${Date.now().toString(36)}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);
const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();
const baseEnv = {
  DATABASE_URL: databaseUrl,
  REDIS_URL: redisUrl,
  REDIS_PREFIX: `sbbench:${randomBytes(3).toString('hex')}`,
  MASTER_KEY: randomBytes(32).toString('base64'),
  LOG_LEVEL: 'warn',
  NODE_ENV: 'production',
};

try {
  console.log(`machine: ${cpus().length} cores (${cpus()[0].model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; PostgreSQL + Redis on the same box`);
  execFileSync(process.execPath, [join(dist, 'cli/main.js'), 'migrate', 'up'], { env: { ...process.env, ...baseEnv }, stdio: 'ignore' });

  // 1. API cold start: spawn → first 200 from /readyz.
  const apiStarts = [];
  for (let i = 0; i < RUNS; i++) {
    const port = await freePort();
    const api = start('main.js', { ...baseEnv, PORT: String(port) });
    apiStarts.push(await untilHttpOk(`http://127.0.0.1:${port}/readyz`, api.t0));
    await stop(api.child);
  }
  print('api cold start, p50', `${median(apiStarts).toFixed(0)} ms`, `spawn to first 200 on /readyz, median of ${RUNS}, min ${Math.min(...apiStarts).toFixed(0)} ms`);

  // 2. Worker cold start: spawn → "worker ready" log line (LOG_LEVEL=info to see it).
  const workerStarts = [];
  let workerRss = 0;
  for (let i = 0; i < RUNS; i++) {
    const worker = start('worker.js', { ...baseEnv, LOG_LEVEL: 'info' }, [], 'Switchboard worker ready');
    workerStarts.push(await worker.ready);
    await sleep(i === RUNS - 1 ? 2000 : 0);
    if (i === RUNS - 1) workerRss = rssMb(worker.child.pid);
    await stop(worker.child);
  }
  print('worker cold start, p50', `${median(workerStarts).toFixed(0)} ms`, `spawn to ready, median of ${RUNS}`);
  print('worker RSS at rest', `${workerRss.toFixed(0)} MB`);

  // 3. API under load: authenticated reads with a real secret key.
  const port = await freePort();
  const email = `bench-${randomBytes(3).toString('hex')}@example.test`;
  const created = JSON.parse(
    execFileSync(process.execPath, [join(dist, 'cli/main.js'), 'create-tenant', '--name', 'Bench', '--email', email, '--api-key', 'bench'], {
      env: { ...process.env, ...baseEnv },
    }).toString(),
  );
  const api = start('main.js', { ...baseEnv, PORT: String(port) });
  await untilHttpOk(`http://127.0.0.1:${port}/readyz`, api.t0);
  const url = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${created.apiKey}`, 'content-type': 'application/json' };
  await fetch(`${url}/v1/end-users/bench-user`, { method: 'PUT', headers, body: JSON.stringify({ displayName: 'Bench User' }) });
  await sleep(500);
  print('api RSS at rest', `${rssMb(api.child.pid).toFixed(0)} MB`);

  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(api.child.pid))), 50);
  const ours = await load(`${url}/v1/end-users/bench-user`, headers);
  clearInterval(sampler);
  await stop(api.child);

  // The same client against a bare node:http server that answers a constant: the machine's ceiling.
  const bare = createHttpServer((_, res) => res.setHeader('content-type', 'application/json').end('{"ok":true}'));
  await new Promise((r) => bare.listen(0, '127.0.0.1', r));
  const baseline = await load(`http://127.0.0.1:${bare.address().port}/`, {});
  bare.close();

  print(
    'api GET end user, throughput',
    `${ours.rps.toFixed(0)} req/s`,
    `${REQUESTS} requests, concurrency ${CONCURRENCY}, ${ours.failures} failed; ${((ours.rps / baseline.rps) * 100).toFixed(0)}% of bare node:http on this machine (${baseline.rps.toFixed(0)} req/s)`,
  );
  print(
    'api GET end user, latency',
    `p50 ${ours.p50.toFixed(2)} ms, p99 ${ours.p99.toFixed(2)} ms`,
    `bare node:http p50 ${baseline.p50.toFixed(2)} ms, p99 ${baseline.p99.toFixed(2)} ms`,
  );
  print('api RSS under load, peak', `${peakRss.toFixed(0)} MB`);

  // 4. `npm run demo` cold start from an empty state folder (includes initdb of the embedded PostgreSQL),
  //    then warm (second start on the same folder). The build step of `npm run demo` is not included.
  const home = mkdtempSync(join(tmpdir(), 'sb-bench-demo-'));
  for (const label of ['cold', 'warm']) {
    const demoPort = await freePort();
    const demo = start(
      'cli/main.js',
      { SWITCHBOARD_HOME: home, PORT: String(demoPort), SWITCHBOARD_PG_PORT: String(await freePort()), REDIS_URL: redisUrl, DATABASE_URL: '' },
      ['demo'],
      'is running',
    );
    const ms = await demo.ready;
    print(`demo start, ${label}`, `${(ms / 1000).toFixed(1)} s`, label === 'cold' ? 'empty state folder: initdb, migrations, seed, API + worker ready' : 'existing state folder');
    await stop(demo.child, 'SIGINT');
  }
  rmSync(home, { recursive: true, force: true });
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}
