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
import { cpuMs, cpuOfCommand, pct, selfCpuMs } from './lib/measure.mjs';
import { args, ms, print, printMachine } from './lib/report.mjs';
import { run, scratchStack } from './lib/stack.mjs';
import { client, connectEndUser, signIn } from './lib/tenant.mjs';

const { runs: RUNS, tools: K, warmup: WARMUP } = args({ runs: 200, tools: 4, warmup: 20 });
if (!(K >= 1 && K <= 40)) throw new Error('--tools must be from 1 to 40');
const EMAIL = 'maria@globex.test';

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

await run(async () => {
  printMachine('PostgreSQL + Redis on the same box, sandbox (model and HubSpot) and load client in this process');
  // HubSpot's declared rate would pace the tool calls: the bench measures the engine, not the limiter.
  const stack = await scratchStack({ sandbox: 'here', env: { CONNECTION_RATE_LIMITS: 'false' } });
  const { sandbox } = stack;
  const tenant = await stack.createTenant();
  const db = await stack.db();
  const api = await stack.startApi();
  const { url } = api;
  const [worker] = await stack.startWorkers(1);

  // The owner: HubSpot on the sandbox, the sandbox model as LLM provider, both flows published.
  const owner = await signIn(url, tenant);
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
  const connectionId = await connectEndUser(url, tenant.apiKey, 'hubspot', endUserId);
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
});
