#!/usr/bin/env node
// Agent benchmark: the engine's own cost per agent iteration (one model call + one tool call),
// model and provider time excluded — the sandbox model is scripted and answers at once, the tool is
// HubSpot's find_contact on the sandbox. Compiled API + one worker; request-triggered runs with
// `wait: true`, one at a time (the engine's own latency, no queueing):
//   - K tools: the model calls find_contact K times (one per turn), then answers; N runs.
//   - 0 tools: the model answers at once; N runs (the fixed cost of a run with an agent step).
//   - the plain proxy call of the same HubSpot request (POST /v1/proxy/:id/crm/v3/objects/contacts/search), N calls.
// Per iteration, from the runs' step records: wall time from one model call's start to the next,
// split into the model call's record (the request to the sandbox model, which answers at once,
// and the AI SDK in the worker), the tool call's record (its in-flight checkpoint, the connection,
// the HubSpot sandbox) and what the loop does outside both, p50/p99. CPU per iteration by
// process is the difference between the K-tool and the 0-tool runs, divided by N×K.
// Usage: npm run build && node bench/agent.mjs [--runs 200] [--tools 4] [--warmup 20]
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import pg from 'pg';
import { consentInSandbox, startSandbox } from '../connectors/dist/sandbox/index.js';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'server', 'dist');
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '200' },
    tools: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '20' },
  },
});
const RUNS = Number(values.runs);
const K = Number(values.tools);
const WARMUP = Number(values.warmup);
if (!(K >= 1 && K <= 40)) throw new Error('--tools must be from 1 to 40');
const adminUrl = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const HOST_ORIGIN = 'https://host.example';
const EMAIL = 'maria@globex.test';

const pct = (xs, p) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))] : NaN);
const print = (measure, value, extra = '') => console.log(`${measure.padEnd(38)} ${value}${extra ? `  (${extra})` : ''}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ms = (x) => `${x.toFixed(2)} ms`;
const freePort = () =>
  new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100;
  } catch {
    return 100;
  }
})();
/** User + system CPU ms of a process so far; with `children`, also that of the exited children it waited for. */
const cpuMs = (pid, children = false) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
    return (ticks * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
};
/** CPU ms so far of every process named `comm` (all of PostgreSQL on this box). */
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

/** An agent flow whose model is `model`: find_contact as its only tool, a JSON answer. */
const agentFlow = (key, model, maxIterations) => ({
  key,
  name: `Bench: agent (${key})`,
  trigger: { type: 'request' },
  connectors: ['hubspot'],
  steps: [
    {
      id: 'agent',
      type: 'agent',
      provider: 'sandbox',
      model,
      instructions: 'Look the customer up, then answer {"ok": true}.',
      input: { email: '=$trigger.email' },
      tools: ['hubspot.find_contact'],
      maxIterations,
      output: { type: 'object', required: ['ok'], properties: { ok: { const: true } } },
    },
    { id: 'answer', type: 'respond', output: { ok: '=$steps.agent.answer.ok', toolCalls: '=$steps.agent.toolCalls' } },
  ],
});
const LOOKUP = { toolCalls: [{ name: 'hubspot_find_contact', arguments: { email: '{{input.email}}' } }] };
const ANSWER = { content: '{"ok":true}' };

const children = new Set();
let sandbox;
let admin;
let db;
let databaseCreated = false;
const database = `sb_bench_${Date.now().toString(36)}`;
const redisPrefix = `sbbench:${randomBytes(3).toString('hex')}`;

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    await Promise.all([...children].map((c) => stop(c).catch(() => undefined)));
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
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void cleanup().finally(() => process.exit(130)));

function startProcess(script, env) {
  const child = spawn(process.execPath, [join(dist, script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
    if (api.child.exitCode !== null) throw new Error(`API exited early: ${api.output().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`API not ready after ${timeoutMs} ms: ${api.output().slice(-2000)}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      /* not yet */
    }
    await sleep(20);
  }
}

/** JSON over fetch; remembers the member session cookie; throws on >= 300. */
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

try {
  const cpu = cpus();
  console.log(
    `machine: ${cpu.length} cores (${cpu[0].model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM; node ${process.version}; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; PostgreSQL + Redis on the same box, sandbox (model and HubSpot) and load client in this process`,
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
    // HubSpot's declared rate would pace the tool calls: the bench measures the engine, not the limiter.
    CONNECTION_RATE_LIMITS: 'false',
  };
  const cli = (...args) => execFileSync(process.execPath, [join(dist, 'cli/main.js'), ...args], { env: { ...process.env, ...env } }).toString();
  cli('migrate', 'up');
  const email = `bench-${randomBytes(3).toString('hex')}@example.test`;
  const created = cli('create-tenant', '--name', 'Bench', '--email', email, '--api-key', 'bench');
  const tenant = JSON.parse(created.slice(created.indexOf('{')));
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();

  const api = startProcess('main.js', env);
  await untilReady(api, url);
  const worker = startProcess('worker.js', env);

  // The owner: HubSpot on the sandbox, the sandbox model as LLM provider, both flows published.
  const owner = client(url, { origin: url });
  await owner('POST', '/v1/auth/login', { email, password: tenant.password });
  await owner('PATCH', '/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
  await owner('PUT', '/v1/admin/connectors/hubspot', { enabled: true, settings: { useSandbox: true } });
  await owner('POST', '/v1/admin/llm-providers', { key: 'sandbox', name: 'Sandbox model', kind: 'openai-compatible', baseUrl: sandbox.llmUrl });
  sandbox.scriptModel('bench-tools', [...Array.from({ length: K }, () => LOOKUP), ANSWER]);
  sandbox.scriptModel('bench-answer', [ANSWER]);
  const WITH_TOOLS = agentFlow('bench-agent-tools', 'bench-tools', K + 1);
  const NO_TOOLS = agentFlow('bench-agent-answer', 'bench-answer', 1);
  for (const definition of [WITH_TOOLS, NO_TOOLS]) {
    await owner('POST', '/v1/admin/flow-templates', { definition });
    await owner('POST', `/v1/admin/flow-templates/${definition.key}/publish`);
  }

  // One end user connects HubSpot through the popup, driven over HTTP.
  const host = client(url, { bearer: tenant.apiKey });
  const endUserId = 'bench-user';
  const { token } = await host('POST', '/v1/sessions', { endUserId });
  const start = await fetch(`${url}/connect/hubspot?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
  if (start.status !== 302) throw new Error(`connect page answered ${start.status}: ${(await start.text()).slice(0, 300)}`);
  const page = await (await fetch(await consentInSandbox(start.headers.get('location')))).text();
  const connectionId = /"connectionId":"([0-9a-f-]{36})"/.exec(page)?.[1];
  if (!connectionId) throw new Error(`connect failed: ${page.slice(0, 300)}`);
  for (const flow of [WITH_TOOLS, NO_TOOLS]) await host('POST', `/v1/end-users/${endUserId}/flows/${flow.key}/enable`, {});
  console.log(
    `config: ${RUNS} runs of an agent step with ${K} tool calls (HubSpot find_contact, each in its own model turn) and ${RUNS} with none, one at a time with wait: true, after ${WARMUP} warm-up runs each; API + 1 worker, NODE_ENV=production LOG_LEVEL=warn, connection rate limits off`,
  );

  const headers = { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' };
  let failures = 0;
  let firstError;
  /** `count` runs of `flow`, one at a time; answers the client latencies and the run ids. */
  async function runAgents(flow, count, expectCalls) {
    const latencies = [];
    const ids = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      const res = await fetch(`${url}/v1/flows/${flow.key}/runs`, { method: 'POST', headers, body: JSON.stringify({ endUserId, input: { email: EMAIL }, wait: true }) });
      const body = await res.json().catch(() => undefined);
      latencies.push(performance.now() - t);
      if (res.status !== 200 || body?.status !== 'succeeded' || body?.result?.toolCalls !== expectCalls) {
        failures++;
        firstError ??= `${res.status} ${JSON.stringify(body).slice(0, 500)}`;
      } else ids.push(body.id);
    }
    return { latencies, ids };
  }
  const cpuNow = () => ({ api: cpuMs(api.child.pid), worker: cpuMs(worker.child.pid), pg: cpuOfCommand('postgres'), redis: cpuOfCommand('redis-server'), self: selfCpuMs() });
  const cpuSince = (c0, n) => Object.fromEntries(Object.entries(cpuNow()).map(([k, v]) => [k, (v - c0[k]) / n]));

  // Warm-up (JIT, pools, keep-alive sockets, caches), both flows and the proxy.
  await runAgents(WITH_TOOLS, WARMUP, K);
  await runAgents(NO_TOOLS, WARMUP, 0);
  const search = { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: EMAIL }] }], properties: ['email', 'firstname', 'lastname', 'company'], limit: 1 };
  const proxyCall = async () => {
    const res = await fetch(`${url}/v1/proxy/${connectionId}/crm/v3/objects/contacts/search`, { method: 'POST', headers, body: JSON.stringify(search) });
    const body = await res.json().catch(() => undefined);
    if (res.status !== 200 || body?.results?.[0]?.properties?.email !== EMAIL) {
      failures++;
      firstError ??= `proxy ${res.status} ${JSON.stringify(body).slice(0, 300)}`;
    }
  };
  for (let i = 0; i < WARMUP; i++) await proxyCall();
  if (failures) throw new Error(`the warm-up failed: ${firstError}`);

  // The K-tool runs and the 0-tool runs, each with the CPU it cost.
  let c0 = cpuNow();
  const withTools = await runAgents(WITH_TOOLS, RUNS, K);
  const cpuWith = cpuSince(c0, RUNS);
  c0 = cpuNow();
  const noTools = await runAgents(NO_TOOLS, RUNS, 0);
  const cpuNo = cpuSince(c0, RUNS);

  // The plain proxy call of the same HubSpot request.
  const proxyLatencies = [];
  c0 = cpuNow();
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await proxyCall();
    proxyLatencies.push(performance.now() - t);
  }
  const cpuProxy = cpuSince(c0, RUNS);

  // Iterations from the step records of the K-tool runs: turn[i] start → turn[i+1] start.
  const { rows } = await db.query(`SELECT steps, extract(epoch FROM finished_at - started_at) * 1000 AS run_ms FROM runs WHERE id = ANY($1::uuid[])`, [withTools.ids]);
  const iteration = [];
  const overhead = [];
  const model = [];
  const tool = [];
  for (const r of rows) {
    const at = new Map(r.steps.map((s) => [s.path, s]));
    for (let i = 0; i < K; i++) {
      const turn = at.get(`agent/turn[${i}]`);
      const call = at.get(`agent/turn[${i}]/call[0]`);
      const next = at.get(`agent/turn[${i + 1}]`);
      if (!turn || !call || !next) continue;
      const wall = Date.parse(next.startedAt) - Date.parse(turn.startedAt);
      iteration.push(wall);
      overhead.push(wall - turn.durationMs - call.durationMs);
      model.push(turn.durationMs);
      tool.push(call.durationMs);
    }
  }
  const { rows: noRows } = await db.query(`SELECT extract(epoch FROM finished_at - started_at) * 1000 AS run_ms FROM runs WHERE id = ANY($1::uuid[])`, [noTools.ids]);
  const runMsWith = rows.map((r) => Number(r.run_ms));
  const runMsNo = noRows.map((r) => Number(r.run_ms));

  const perIteration = Object.fromEntries(Object.keys(cpuWith).map((k) => [k, (cpuWith[k] - cpuNo[k]) / K]));
  const total = (o) => o.api + o.worker + o.pg + o.redis;
  print(
    'agent run, K tools (client)',
    `p50 ${ms(pct(withTools.latencies, 50))}, p99 ${ms(pct(withTools.latencies, 99))}`,
    `POST /v1/flows/:key/runs with wait: true, ${K} model turns with a find_contact call + the answer; run time p50 ${ms(pct(runMsWith, 50))}`,
  );
  print(
    'agent run, no tool (client)',
    `p50 ${ms(pct(noTools.latencies, 50))}, p99 ${ms(pct(noTools.latencies, 99))}`,
    `the model answers at once; run time p50 ${ms(pct(runMsNo, 50))}`,
  );
  print(
    'iteration wall time',
    `p50 ${ms(pct(iteration, 50))}, p99 ${ms(pct(iteration, 99))}`,
    `turn[i] start → turn[i+1] start: model call + tool call + the loop, ${iteration.length} iterations; by run time: ${ms((pct(runMsWith, 50) - pct(runMsNo, 50)) / K)} per iteration (p50 difference ÷ ${K})`,
  );
  print('  of which model call', `p50 ${ms(pct(model, 50))}, p99 ${ms(pct(model, 99))}`, 'the sandbox answers at once: request + the ai SDK in the worker');
  print(
    '  of which tool call',
    `p50 ${ms(pct(tool, 50))}, p99 ${ms(pct(tool, 99))}`,
    'find_contact through the engine: the in-flight checkpoint, connection, token, the HubSpot sandbox',
  );
  print(
    '  outside both records',
    `p50 ${ms(pct(overhead, 50))}, p99 ${ms(pct(overhead, 99))}`,
    "the loop between them: the turn's checkpoint, the conversation, the limits (startedAt has ms precision)",
  );
  print(
    'CPU per iteration',
    ms(total(perIteration)),
    `API ${perIteration.api.toFixed(2)}, worker ${perIteration.worker.toFixed(2)}, PostgreSQL (all on this box) ${perIteration.pg.toFixed(2)}, Redis ${perIteration.redis.toFixed(2)} ms; (K-tool runs − no-tool runs) ÷ ${K}; sandbox + client ${perIteration.self.toFixed(2)} ms not counted`,
  );
  print(
    'CPU per agent run, no tool',
    ms(total(cpuNo)),
    `API ${cpuNo.api.toFixed(2)}, worker ${cpuNo.worker.toFixed(2)}, PostgreSQL ${cpuNo.pg.toFixed(2)}, Redis ${cpuNo.redis.toFixed(2)} ms`,
  );
  print(
    'proxy call, same request',
    `p50 ${ms(pct(proxyLatencies, 50))}, p99 ${ms(pct(proxyLatencies, 99))}`,
    `POST /v1/proxy/:id/crm/v3/objects/contacts/search, ${RUNS} calls one at a time; CPU ${ms(total(cpuProxy))} (API ${cpuProxy.api.toFixed(2)}, PostgreSQL ${cpuProxy.pg.toFixed(2)}, Redis ${cpuProxy.redis.toFixed(2)} ms)`,
  );
  print(
    'iteration vs proxy call',
    `${(pct(iteration, 50) / pct(proxyLatencies, 50)).toFixed(1)}× the latency, ${(total(perIteration) / total(cpuProxy)).toFixed(1)}× the CPU`,
    'p50 iteration wall time ÷ p50 proxy latency; CPU per iteration ÷ CPU per proxy call',
  );
  print('failures', `${failures}`, firstError ?? 'none');
  if (failures) process.exitCode = 1;
} catch (error) {
  if (!cleaning) console.error(error);
  process.exitCode = 1;
} finally {
  await cleanup();
}
