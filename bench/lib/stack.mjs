// The stack a script runs against, made from scratch and removed on every exit path: a database
// with the migrations run, a Redis key prefix, the sandbox providers, the compiled API and worker
// processes, tenants made with the CLI.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import pg from 'pg';
import { startSandbox } from '../../connectors/dist/sandbox/index.js';
import { sleep } from './measure.mjs';

export const root = resolve(import.meta.dirname, '..', '..');
export const dist = join(root, 'server', 'dist');
export const adminUrl = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the API and workers (NODE_OPTIONS refuses --cpu-prof).
const benchNodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** The API and workers start as the start scripts start them (server/src/process-memory.ts). */
const { SERVER_NODE_FLAGS } = await import(pathToFileURL(join(dist, 'process-memory.js')).href);

export const freePort = () =>
  new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

const children = new Set();
const undo = [];
let cleaning;
/** Runs `fn` when the script ends, after the processes stopped; the last registered runs first. */
export const atCleanup = (fn) => undo.push(fn);

export async function stop(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Stops every process started here, then undoes the rest (clients, Redis keys, database, sandbox), newest first. */
export function cleanup() {
  cleaning ??= (async () => {
    await Promise.all([...children].map((c) => stop(c).catch(() => undefined)));
    for (const fn of undo.reverse()) await Promise.resolve(fn()).catch((e) => console.error(`cleanup: ${e.message}`));
  })();
  return cleaning;
}

/** Runs the script's body; whatever way it ends, everything is cleaned up and a failure sets the exit code. */
export async function run(main) {
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void cleanup().finally(() => process.exit(130)));
  try {
    await main();
  } catch (error) {
    // After SIGINT/SIGTERM the cleanup closes what the measures were using: their errors are not news.
    if (!cleaning) console.error(error);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

/** Spawns `node <script>` (relative to server/dist, or absolute), keeping the tail of its output for errors. */
export function startProcess(script, env, { args = [], nodeArgs = benchNodeArgs } = {}) {
  const startedAt = performance.now();
  const serverFlags = { 'main.js': SERVER_NODE_FLAGS.api, 'worker.js': SERVER_NODE_FLAGS.worker }[script] ?? [];
  const child = spawn(process.execPath, [...serverFlags, ...nodeArgs, resolve(dist, script), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  const keep = (c) => (out = (out + c).slice(-20_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return { child, startedAt, output: () => out };
}

const exited = (proc) => proc.child.exitCode !== null || proc.child.signalCode !== null;

/** Waits for a 200 from `url`; answers the ms since the process was spawned. */
export async function untilReady(proc, url, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited(proc)) throw new Error(`process exited early: ${proc.output().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms: ${proc.output().slice(-2000)}`);
    try {
      if ((await fetch(url)).ok) return performance.now() - proc.startedAt;
    } catch {
      /* not yet */
    }
    await sleep(5);
  }
}

/** Waits for `text` in the process's output; answers the ms since it was spawned. */
export async function untilOutput(proc, text, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!proc.output().includes(text)) {
    if (exited(proc)) throw new Error(`process exited early: ${proc.output().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`no "${text}" after ${timeoutMs} ms: ${proc.output().slice(-2000)}`);
    await sleep(5);
  }
  return performance.now() - proc.startedAt;
}

/** A database of our own, dropped at the end; answers its URL. */
export async function scratchDatabase() {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const database = `sb_bench_${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  let created = false;
  atCleanup(async () => {
    if (created) await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch((e) => console.error(`could not drop database ${database}: ${e.message}`));
    await admin.end().catch(() => undefined);
  });
  await admin.query(`CREATE DATABASE ${database}`);
  created = true;
  return Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();
}

/** A Redis key prefix of our own, its keys deleted at the end. */
export function scratchRedisPrefix() {
  const prefix = `sbbench:${randomBytes(3).toString('hex')}`;
  atCleanup(async () => {
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } catch {
      // Redis unreachable: nothing of ours is in it.
    } finally {
      redis.disconnect();
    }
  });
  return prefix;
}

/** The sandbox providers in this process (its CPU counts as this script's). */
async function sandboxHere() {
  const sandbox = await startSandbox();
  atCleanup(() => Promise.race([sandbox.close().catch(() => undefined), sleep(2000)]));
  return sandbox;
}

/** The sandbox providers in their own process, so their CPU is their own; `control` drives its /_sandbox endpoints. */
async function sandboxProcess() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = startProcess(join(root, 'connectors', 'dist', 'sandbox', 'main.js'), { SANDBOX_PORT: String(port) }, { nodeArgs: [] });
  await untilReady(proc, `${url}/_sandbox/health`);
  const control = async (path, body) => {
    const r = await fetch(`${url}/_sandbox/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`sandbox ${path} answered ${r.status}: ${await r.text()}`);
    return r.json();
  };
  return { ...proc, url, port, control };
}

/**
 * A scratch stack: the sandbox (`'here'`, `'process'` or none), a database with the migrations run, a
 * Redis prefix, and the environment of the compiled processes (production, warn logs, `env` on top).
 */
export async function scratchStack({ sandbox: where, env: extra = {} } = {}) {
  const sandbox = where === 'here' ? await sandboxHere() : where === 'process' ? await sandboxProcess() : undefined;
  const databaseUrl = await scratchDatabase();
  const redisPrefix = scratchRedisPrefix();
  const masterKey = randomBytes(32);
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: redisPrefix,
    MASTER_KEY: masterKey.toString('base64'),
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    ...(sandbox ? { SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` } : {}),
    ...extra,
  };
  const cli = async (...args) => (await promisify(execFile)(process.execPath, [join(dist, 'cli/main.js'), ...args], { env: { ...process.env, ...env } })).stdout;
  await cli('migrate', 'up');

  let redis;
  const stack = {
    env,
    sandbox,
    databaseUrl,
    redisPrefix,
    masterKey,
    /** A tenant with an owner and a secret key, made by the CLI: { email, password, apiKey, … }. */
    async createTenant(name = 'Bench') {
      const email = `bench-${randomBytes(3).toString('hex')}@example.test`;
      const out = await cli('create-tenant', '--name', name, '--email', email, '--api-key', 'bench');
      return { email, ...JSON.parse(out.slice(out.indexOf('{'))) };
    },
    /** An API process on a port of its own, ready; `url` is its PUBLIC_URL, `readyMs` the time from spawn to ready. */
    async startApi(env = {}, options) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const api = startProcess('main.js', { ...stack.env, PORT: String(port), PUBLIC_URL: url, ...env }, options);
      const readyMs = await untilReady(api, `${url}/readyz`);
      return { ...api, url, readyMs };
    },
    /** `count` worker processes, ready: workers log nothing at LOG_LEVEL=warn, so a worker is ready once its blocking Redis client for the runs queue has its name. */
    async startWorkers(count, env = {}, options) {
      const workers = Array.from({ length: count }, () => startProcess('worker.js', { ...stack.env, ...env }, options));
      if (!redis) {
        redis = new Redis(redisUrl);
        atCleanup(() => redis.disconnect());
      }
      const name = `${redisPrefix}:bull:${Buffer.from('runs').toString('base64')}`;
      const deadline = Date.now() + 30_000;
      for (;;) {
        for (const w of workers) if (exited(w)) throw new Error(`worker exited early: ${w.output().slice(-2000)}`);
        const n = (await redis.client('LIST')).split('\n').filter((l) => l.includes(` name=${name} `)).length;
        if (n >= count) return workers;
        if (Date.now() > deadline) throw new Error(`${n} of ${count} workers ready after 30 s`);
        await sleep(50);
      }
    },
    /** A PostgreSQL client on the scratch database, closed at the end. */
    async db() {
      const db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      atCleanup(() => db.end());
      return db;
    },
  };
  return stack;
}
