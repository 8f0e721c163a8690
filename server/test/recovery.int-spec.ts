import type { Sandbox } from '@switchboard/connectors/dist/sandbox';
import Redis from 'ioredis';
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, CuttableProxy, PrivateRedis, Proc, sleep, stop, waitFor } from './child-processes';
import { BreakableDeployment, startBreakableDeployment } from './breakable-deployment';
import type { TenantFixture } from './harness';

/**
 * Durable recovery with the compiled API and worker as real processes, a Redis of this test's own
 * (killed and restarted empty) and PostgreSQL reached through a proxy the test can cut.
 */

const quick = {
  key: 'quick',
  name: 'Quick',
  trigger: { type: 'event', event: 'thing.happened' },
  steps: [{ id: 'echo', type: 'transform', output: { n: '=$trigger.n' } }],
};
const quote = {
  key: 'quote',
  name: 'Quote',
  trigger: { type: 'request' },
  steps: [{ id: 'price', type: 'transform', output: { price: '=$trigger.qty * 2' } }],
};
/** Parks on a delay: its wake-up is a delayed job, which an empty Redis forgets. */
const pause = {
  key: 'pause',
  name: 'Pause',
  trigger: { type: 'event', event: 'pause.please' },
  steps: [
    { id: 'wait', type: 'delay', for: 4000 },
    { id: 'done', type: 'transform', output: { ok: true } },
  ],
};
/** One slow call to the sandbox's Slack: a worker can be killed while it is in flight. */
const slow = {
  key: 'slow',
  name: 'Slow',
  trigger: { type: 'event', event: 'slow.please' },
  connectors: ['slack'],
  steps: [{ id: 'post', type: 'request', connector: 'slack', method: 'POST', path: 'chat.postMessage', body: { channel: '#general', text: '=$trigger.tag' } }],
};

describe('durable recovery', () => {
  let deployment: BreakableDeployment;
  let sandbox: Sandbox;
  let redis: PrivateRedis;
  let proxy: CuttableProxy;
  let env: Record<string, string>;
  let url: string;
  let api: Proc;
  let worker: Proc | undefined;
  let tenant: TenantFixture;
  let db: Client;
  const user = 'rec-user';
  const startWorker = () => deployment.startWorker();
  const runOf = async (id: string) => (await db.query(`SELECT status, error, crashed_executions FROM runs WHERE id = $1`, [id])).rows[0];
  const ready = () => waitFor(async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined), 60_000, 'API ready');

  beforeAll(async () => {
    deployment = await startBreakableDeployment({
      tenantName: 'Recovery Co',
      env: { RUN_RECOVERY_GRACE_SECONDS: '2', QUEUE_LOCK_DURATION_MS: '2000' },
      flows: [quick, quote, slow, pause],
      endUsers: [user],
    });
    ({ sandbox, redis, proxy, env, url, api, tenant, db } = deployment);
    worker = await startWorker();
  }, 90_000);

  afterAll(() => deployment?.close());

  it('a PostgreSQL outage answers 503 database_unavailable with Retry-After, quickly; waiting run requests never crash the API', async () => {
    // One caller whose run is written, then PostgreSQL goes while it waits: Redis stalls the
    // enqueue long enough to cut PostgreSQL between the insert and the wait's check (the rejection
    // that used to be unhandled and kill the process).
    redis.pause(true);
    const waiting = tenant.host.post('/v1/flows/quote/runs', { endUserId: user, input: { qty: 3 }, wait: true });
    await sleep(500);
    await proxy.cut();
    redis.pause(false);
    const answered = await waiting.catch((error: Error) => error.message);
    await sleep(500);
    await proxy.open();
    expect(alive(api), api.output().slice(-3000)).toBe(true);
    expect(answered).toMatchObject({ status: 503, body: { error: { code: 'database_unavailable' } } });
    await ready();

    // Many callers waiting for their runs while PostgreSQL goes away: some meet it between their
    // insert and their wait's check (the rejection that used to be unhandled and kill the process).
    // Their waits are short so that each keeps coming back to PostgreSQL during the outage: a wait
    // on a run the worker cannot finish (PostgreSQL is gone for it too) touches Redis only.
    const statuses = new Map<number, number>();
    const bodies: unknown[] = [];
    let stopLoad = false;
    const load = Promise.all(
      Array.from({ length: 16 }, async () => {
        while (!stopLoad) {
          const res = await tenant.host.post('/v1/flows/quote/runs', { endUserId: user, input: { qty: 2 }, wait: true, timeoutMs: 200 }).catch(() => null);
          if (!res) break; // the API is gone
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500 && res.status !== 503) bodies.push(res.body);
        }
      }),
    );
    await sleep(700);
    await proxy.cut();
    try {
      const t = Date.now();
      const event = await tenant.host.post('/v1/events', { name: 'thing.happened', endUserId: user, payload: { n: 1 } });
      const tookMs = Date.now() - t;
      expect(event.status).toBe(503);
      expect(event.body.error.code).toBe('database_unavailable');
      expect(event.headers.get('retry-after')).toBe('5');
      expect(tookMs).toBeLessThan(5000);
      const sync = await tenant.host.post('/v1/flows/quote/runs', { endUserId: user, input: { qty: 1 }, wait: true });
      expect({ status: sync.status, code: sync.body.error?.code }).toEqual({ status: 503, code: 'database_unavailable' });
      const hook = await fetch(`${url}/v1/hooks/whk_${'a'.repeat(43)}`, { method: 'POST', body: '{}' });
      expect(hook.status).toBe(503);
      const readyz = await fetch(`${url}/readyz`);
      expect(readyz.status).toBe(503);
      const checks = ((await readyz.json()) as { error: { details: { checks: Record<string, string> } } }).error.details.checks;
      expect(checks.postgres).not.toBe('ok');
      expect(checks.redis).toBe('ok');
      // Long enough for every load client to send requests into the outage, on a busy box too.
      await sleep(2000);
    } finally {
      await proxy.open();
      await sleep(1000);
      stopLoad = true;
      await load;
    }
    expect(alive(api), api.output().slice(-3000)).toBe(true);
    expect(bodies).toEqual([]);
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    await ready();
    // Not one promise was left to reject unhandled.
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^process_unhandled_rejections_total 0$/m);
    // Every run accepted meanwhile finishes.
    await waitFor(
      async () => ((await db.query(`SELECT count(*)::int AS n FROM runs WHERE tenant_id = $1 AND finished_at IS NULL`, [tenant.tenantId])).rows[0].n === 0 ? true : undefined),
      30_000,
      'runs to finish',
    );
  }, 60_000);

  it('Redis restarted empty: a trigger accepted meanwhile runs, and the repeating jobs come back without a process restart', async () => {
    await redis.kill();
    let runId = '';
    try {
      const t = Date.now();
      const accepted = await tenant.host.post('/v1/events', { name: 'thing.happened', endUserId: user, payload: { n: 2 }, idempotencyKey: 'during-redis-outage' });
      expect(Date.now() - t).toBeLessThan(5000);
      // PostgreSQL has the run: acknowledged, and the recovery sweep will enqueue it.
      expect(accepted.status).toBe(202);
      runId = accepted.body.runs[0].id as string;
      const readyz = await fetch(`${url}/readyz`);
      expect(readyz.status).toBe(503);
      expect(((await readyz.json()) as { error: { details: { checks: Record<string, string> } } }).error.details.checks.postgres).toBe('ok');
      await sleep(1000);
    } finally {
      await redis.start();
    }
    await waitFor(async () => ((await runOf(runId)).status === 'succeeded' ? true : undefined), 30_000, 'the accepted run to succeed');
    // Every repeating job is registered again in the empty Redis.
    const client = new Redis(redis.url);
    try {
      const repeatable = (await client.keys(`${env.REDIS_PREFIX}:bull:*:repeat`)).sort();
      expect(repeatable.map((k) => k.split(':').slice(-2, -1)[0])).toEqual(['alerts', 'maintenance', 'webhooks']);
      const names = (await client.zrange(`${env.REDIS_PREFIX}:bull:maintenance:repeat`, 0, -1)).map((k) => k.split(':')[0]).sort();
      expect(names).toEqual(['fire-schedules', 'purge-expired', 'recover-rollouts', 'recover-runs', 'refresh-expiring']);
    } finally {
      client.disconnect();
    }
    expect(alive(api) && alive(worker!)).toBe(true);
  }, 60_000);

  it('a run parked on a delay whose wake-up Redis lost resumes once the delay is over', async () => {
    const res = await tenant.host.post('/v1/events', { name: 'pause.please', endUserId: user, payload: {} });
    expect(res.status).toBe(202);
    const runId = res.body.runs[0].id as string;
    await waitFor(async () => ((await runOf(runId)).status === 'waiting' ? true : undefined), 20_000, 'the run to park');
    await redis.kill();
    await redis.start();
    await waitFor(async () => ((await runOf(runId)).status === 'succeeded' ? true : undefined), 30_000, 'the run to resume and succeed');
  }, 60_000);

  it('a job hash left without data does not hide its run from the recovery sweep', async () => {
    await stop(worker);
    worker = undefined;
    const res = await tenant.host.post('/v1/events', { name: 'thing.happened', endUserId: user, payload: { n: 3 } });
    expect(res.status).toBe(202);
    const runId = res.body.runs[0].id as string;
    // What a Redis failure can leave: the job's hash without its data, in no list.
    const client = new Redis(redis.url);
    const key = (name: string) => `${env.REDIS_PREFIX}:bull:runs:${name}`;
    try {
      await waitFor(async () => ((await client.exists(key(runId))) === 1 ? true : undefined), 5000, 'the job');
      await client.lrem(key('wait'), 0, runId);
      await client.hdel(key(runId), 'data');
      expect(await client.exists(key(runId))).toBe(1);
    } finally {
      client.disconnect();
    }
    worker = await startWorker();
    await waitFor(async () => ((await runOf(runId)).status === 'succeeded' ? true : undefined), 20_000, 'the run to succeed');
  }, 60_000);

  it('a run whose executions took the worker down twice is failed as run_poisoned, not started a third time', async () => {
    sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', latencyMs: 60_000, times: 2 });
    const tag = `poison-${Date.now()}`;
    const res = await tenant.host.post('/v1/events', { name: 'slow.please', endUserId: user, payload: { tag } });
    expect(res.status).toBe(202);
    const runId = res.body.runs[0].id as string;
    const calls = () => sandbox.calls({ connector: 'slack', path: '/api/chat.postMessage' }).filter((c) => (c.body as { text?: string })?.text === tag);
    for (let kill = 1; kill <= 2; kill++) {
      await waitFor(() => (calls().length === kill ? true : undefined), 30_000, `execution ${kill} in flight`);
      worker!.child.kill('SIGKILL');
      await worker!.exited;
      worker = await startWorker();
    }
    await waitFor(async () => ((await runOf(runId)).status === 'failed' ? true : undefined), 30_000, 'the run to fail');
    const row = await runOf(runId);
    expect(row.error.code).toBe('run_poisoned');
    expect(row.crashed_executions).toBe(2);
    expect(calls()).toHaveLength(2);
    const audit = await tenant.owner.get(`/v1/admin/audit-events?action=run.poisoned&targetId=${runId}`);
    expect(audit.body.data).toHaveLength(1);
    // A retry starts afresh (the crash count is the attempt's).
    const retried = await tenant.host.post(`/v1/runs/${runId}/retry`);
    expect(retried.status).toBe(202);
    await waitFor(async () => ((await runOf(runId)).status === 'succeeded' ? true : undefined), 30_000, 'the retried run to succeed');
  }, 120_000);
});
