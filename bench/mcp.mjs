#!/usr/bin/env node
// MCP benchmark: what a tool call costs over the plain proxy call of the same provider request.
// Each MCP call (tools/call slack_list_users, secret key + end user) is an engine run executed by a
// worker; the proxy call (GET /v1/proxy/:id/users.list) goes straight out. Prints latency p50/p99,
// the engine's own overhead per call (provider time excluded, from the runs' timelines) and CPU per
// call of the API and the worker. Usage: npm run build && node bench/mcp.mjs [--calls 300] [--concurrency 1] [--runs 3]
import { cpuMs, load, median, pct, sleep } from './lib/measure.mjs';
import { args, ms, print, printMachine, signed } from './lib/report.mjs';
import { run, scratchStack } from './lib/stack.mjs';
import { connectEndUser, signIn } from './lib/tenant.mjs';

const { calls: CALLS, concurrency: CONCURRENCY, runs: RUNS } = args({ calls: 300, concurrency: 1, runs: 3 });
const callLoad = (once, calls = CALLS) => load(calls, CONCURRENCY, once);

await run(async () => {
  printMachine('PostgreSQL + Redis on the same box, sandbox and load client in this process');
  // Slack declares 1 call/s per connection: the limit would be what is measured.
  const stack = await scratchStack({ sandbox: 'here', env: { CONNECTION_RATE_LIMITS: 'false' } });
  const tenant = await stack.createTenant();
  const api = await stack.startApi();
  const [worker] = await stack.startWorkers(1);

  const owner = await signIn(api.url, tenant);
  await owner('PUT', '/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } });
  await owner('PUT', '/v1/admin/mcp/connectors/slack', { exposed: ['list_users'], requireApproval: [] });
  const connectionId = await connectEndUser(api.url, tenant.apiKey, 'slack', 'bench-user');

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
  await callLoad(proxy, 100);
  await callLoad(mcp, 100);
  const db = await stack.db();
  await db.query(`DELETE FROM runs`);
  await sleep(300);
  const rounds = [];
  for (let i = 0; i < RUNS; i++) {
    const a0 = cpuMs(api.child.pid);
    const p = await callLoad(proxy);
    p.cpu = (cpuMs(api.child.pid) - a0) / CALLS;
    const [api0, worker0] = [cpuMs(api.child.pid), cpuMs(worker.child.pid)];
    const m = await callLoad(mcp);
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
});
