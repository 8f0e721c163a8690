import { consentInSandbox, RecordedCall, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as start, alive, sleep, waitFor, type Proc } from './child-processes';
import { createTenant, freePort, TenantFixture, testEnv } from './harness';

/**
 * A worker killed (SIGKILL) while a step's call is at the provider: the resumed run repeats the
 * call, and its step record says so (`possibleDuplicate`), because the record was written as
 * `running` before the call. Compiled processes, as in engine-crash.int-spec.ts.
 */

const HOST_ORIGIN = 'https://host.example';
const LOCK_MS = 2000;

const notify = {
  key: 'notify',
  name: 'Notify',
  trigger: { type: 'request' },
  connectors: ['slack'],
  inputs: {},
  steps: [
    { id: 'post', type: 'action', connector: 'slack', action: 'send_message', input: { channel: '#general', text: "='A ' & $trigger.n" } },
    { id: 'echo', type: 'request', connector: 'slack', method: 'POST', path: 'chat.postMessage', body: { channel: '#general', text: "='B ' & $trigger.n" } },
  ],
};

describe('a worker killed mid-call', () => {
  let sandbox: Sandbox;
  let env: Record<string, string>;
  let api: Proc;
  const workers: Proc[] = [];
  let tenant: TenantFixture;
  let db: Client;

  const startWorker = async (): Promise<Proc> => {
    const worker = start('worker.js', env);
    workers.push(worker);
    await waitFor(() => (worker.output().includes('Switchboard worker ready') ? true : alive(worker) ? undefined : Promise.reject(new Error('exited'))), 30_000, 'worker ready');
    return worker;
  };

  beforeAll(async () => {
    sandbox = await startSandbox();
    env = testEnv(await freePort(), {
      SANDBOX_URL: sandbox.url,
      OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}`,
      MAINTENANCE_INTERVAL_SECONDS: '1',
      QUEUE_LOCK_DURATION_MS: String(LOCK_MS),
      QUEUE_STALLED_INTERVAL_MS: '500',
      CONNECTION_RATE_LIMITS: 'false',
      LOG_LEVEL: 'info',
    });
    api = start('main.js', env);
    await waitFor(async () => ((await fetch(`${env.PUBLIC_URL}/readyz`)).ok ? true : undefined), 30_000, 'API ready');
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    tenant = await createTenant({ url: env.PUBLIC_URL, origin: env.PUBLIC_URL } as never, 'Inflight Co');
    await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
    expect((await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition: notify })).status).toBe(201);
    expect((await tenant.owner.post(`/v1/admin/flow-templates/${notify.key}/publish`)).status).toBe(201);
    const token = (await tenant.host.post('/v1/sessions', { endUserId: 'kim' })).body.token as string;
    const connect = await fetch(`${env.PUBLIC_URL}/connect/slack?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
    expect(await (await fetch(await consentInSandbox(connect.headers.get('location')!))).text()).toContain('"connected"');
    expect((await tenant.host.post(`/v1/end-users/kim/flows/${notify.key}/enable`, { settings: {} })).status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    for (const p of [...workers, api]) {
      if (p && alive(p)) {
        p.child.kill('SIGTERM');
        await Promise.race([p.exited, sleep(10_000).then(() => p.child.kill('SIGKILL'))]);
      }
    }
    await db?.end();
    await sandbox?.close();
  });

  it('repeats the call in flight with the same key and marks it a possible duplicate; the finished one is not repeated', async () => {
    const victim = await startWorker();
    // The first message (the action, A) hangs at Slack long enough to kill the worker under it.
    sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', latencyMs: 4000, times: 1 });
    const posts = (text: string) => sandbox.calls((c: RecordedCall) => c.path === '/api/chat.postMessage' && (c.body as { text?: string })?.text === text);
    const res = await tenant.host.post(`/v1/flows/${notify.key}/runs`, { endUserId: 'kim', input: { n: 1 } });
    expect(res.status).toBe(202);
    const runId = res.body.id as string;
    // Kill the worker while A is at Slack.
    await waitFor(() => (posts('A 1').some((c) => c.status === 0) ? true : undefined), 20_000, 'the call in flight');
    const before: { status: string; steps: Array<{ path: string; status: string }> } = (await db.query(`SELECT status, steps FROM runs WHERE id = $1`, [runId])).rows[0];
    // Written before the call: the step is in flight, and a resume can tell.
    expect(before.steps).toEqual([expect.objectContaining({ path: 'post', status: 'running' })]);
    victim.child.kill('SIGKILL');
    await victim.exited;
    await startWorker();
    const run = await waitFor(
      async () => {
        const r = (await tenant.host.get(`/v1/runs/${runId}`)).body;
        return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : undefined;
      },
      60_000,
      'the run to finish after the kill',
    );
    expect(run.status).toBe('succeeded');
    expect(posts('A 1')).toHaveLength(2);
    expect(posts('B 1')).toHaveLength(1);
    const [post, echo] = run.steps;
    expect(post).toMatchObject({ path: 'post', status: 'succeeded', possibleDuplicate: true, idempotencyKey: `${runId}:post` });
    expect(echo).toMatchObject({ path: 'echo', status: 'succeeded' });
    expect(echo.possibleDuplicate).toBeUndefined();
  }, 120_000);
});
