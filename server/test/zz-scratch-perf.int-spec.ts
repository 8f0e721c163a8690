import { consentInSandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { DataSource } from 'typeorm';
import { expect, it } from 'vitest';
import { createTenant, startApi, startWorker } from './harness';

it('scratch: per-run phases', async () => {
  const sandbox = await startSandbox();
  const api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}`, CONNECTION_RATE_LIMITS: 'false', LOG_LEVEL: 'warn' });
  const worker = await startWorker(api.config);
  const t = await createTenant(api, 'P');
  await t.owner.patch('/v1/admin/tenant', { allowedOrigins: ['https://h.example'] });
  await t.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } });
  const def = { key: 'ref', name: 'r', trigger: { type: 'request' }, connectors: ['slack'], inputs: {}, steps: [
    { id: 'text', type: 'transform', output: { text: "='Deal ' & $trigger.name" } },
    { id: 'post', type: 'action', connector: 'slack', action: 'send_message', input: { channel: '#general', text: '=$steps.text.text' } },
    { id: 'done', type: 'respond', output: { ts: '=$steps.post.ts' } },
  ] };
  await t.owner.post('/v1/admin/flow-templates', { definition: def });
  await t.owner.post('/v1/admin/flow-templates/ref/publish');
  const token = (await t.host.post('/v1/sessions', { endUserId: 'u' })).body.token;
  const start = await fetch(`${api.url}/connect/slack?${new URLSearchParams({ session: token, origin: 'https://h.example' })}`, { redirect: 'manual' });
  await (await fetch(await consentInSandbox(start.headers.get('location')!))).text();
  expect((await t.host.post('/v1/end-users/u/flows/ref/enable', {})).status).toBe(200);
  const db = api.app.get(DataSource);
  const total: number[] = [], queue: number[] = [], exec: number[] = [], step: number[] = [];
  for (let i = 0; i < 60; i++) {
    const t0 = performance.now();
    const res = await t.host.post('/v1/flows/ref/runs', { endUserId: 'u', input: { name: 'x' }, wait: true });
    total.push(performance.now() - t0);
    const [r] = await db.query(`SELECT created_at, started_at, finished_at, steps FROM runs WHERE id = $1`, [res.body.id]);
    queue.push(r.started_at - r.created_at); exec.push(r.finished_at - r.started_at); step.push(r.steps[1].durationMs);
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)].toFixed(2);
  console.log(`PERF total ${med(total)} queue ${med(queue)} exec ${med(exec)} step ${med(step)}`);
  await worker.close(); await api.close(); await sandbox.close();
}, 120000);
