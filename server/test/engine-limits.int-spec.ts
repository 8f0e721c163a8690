import { consentInSandbox, RecordedCall, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import type Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS } from '../src/redis/redis.module';
import { createTenant, startApi, startWorker, TenantFixture, TestApi } from './harness';

const HOST_ORIGIN = 'https://host.example';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connectSlack(api: TestApi, t: TenantFixture, endUserId: string): Promise<void> {
  const token = (await t.host.post('/v1/sessions', { endUserId })).body.token as string;
  const start = await fetch(`${api.url}/connect/slack?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
  expect(await (await fetch(await consentInSandbox(start.headers.get('location')!))).text()).toContain('"connected"');
}

async function setUp(api: TestApi, t: TenantFixture, definition: { key: string }, users: string[]) {
  await t.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
  await t.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } });
  expect((await t.owner.post('/v1/admin/flow-templates', { definition })).status).toBe(201);
  expect((await t.owner.post(`/v1/admin/flow-templates/${definition.key}/publish`)).status).toBe(201);
  for (const user of users) {
    if ((definition as { connectors?: string[] }).connectors?.length) await connectSlack(api, t, user);
    else await t.host.put(`/v1/end-users/${user}`, {});
    expect((await t.host.post(`/v1/end-users/${user}/flows/${definition.key}/enable`, { settings: {} })).status).toBe(200);
  }
}

async function waitForRuns(t: TenantFixture, ids: string[]) {
  const runs = [];
  for (const id of ids) {
    for (let i = 0; ; i++) {
      const run = (await t.host.get(`/v1/runs/${id}`)).body;
      if (['succeeded', 'failed', 'cancelled'].includes(run.status)) {
        runs.push(run);
        break;
      }
      if (i > 1200) throw new Error(`run ${id} did not finish`);
      await sleep(25);
    }
  }
  return runs;
}

/** The most calls that were at the provider at the same moment. */
function maxOverlap(calls: RecordedCall[]): number {
  const edges = calls.flatMap((c) => [
    { at: c.at, d: 1 },
    { at: c.at + c.durationMs, d: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const e of edges) max = Math.max(max, (now += e.d));
  return max;
}

describe('per-tenant concurrency cap', () => {
  const CAP = 2;
  let sandbox: Sandbox;
  let api: TestApi;
  const workers: Array<{ close(): Promise<void> }> = [];
  let flooder: TenantFixture;
  let quiet: TenantFixture;

  const slowRead = {
    key: 'slow-read',
    name: 'Slow read',
    trigger: { type: 'request' },
    connectors: ['slack'],
    inputs: {},
    steps: [{ id: 'read', type: 'request', connector: 'slack', method: 'GET', path: 'conversations.history', query: { channel: 'C0GENERAL', n: '=$trigger.n' } }],
  };
  const quick = { key: 'quick', name: 'Quick', trigger: { type: 'request' }, connectors: [], inputs: {}, steps: [{ id: 'answer', type: 'respond', output: { ok: true } }] };

  beforeAll(async () => {
    sandbox = await startSandbox();
    // A short lock (and so a short lease and fallback wake-up) so the crashed-worker case does not take 15 s.
    api = await startApi({
      SANDBOX_URL: sandbox.url,
      OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}`,
      TENANT_MAX_CONCURRENT_RUNS: String(CAP),
      CONNECTION_RATE_LIMITS: 'false',
      QUEUE_LOCK_DURATION_MS: '3000',
    });
    // Two workers: the cap is held in Redis, so it spans processes.
    workers.push(await startWorker(api.config), await startWorker(api.config));
    flooder = await createTenant(api, 'Flooder');
    quiet = await createTenant(api, 'Quiet');
    await setUp(api, flooder, slowRead, ['f1', 'f2', 'f3']);
    await setUp(api, quiet, quick, ['q1']);
  });
  afterAll(async () => {
    for (const w of workers) await w.close();
    await api.close();
    await sandbox.close();
  });

  it("runs another tenant's flow while one tenant is flooded; the flood is postponed, never failed, and never above the cap", async () => {
    sandbox.inject({ connector: 'slack', path: '/api/conversations.history', latencyMs: 600, times: Infinity });
    const ids: string[] = [];
    for (let n = 0; n < 12; n++) {
      const res = await flooder.host.post('/v1/flows/slow-read/runs', { endUserId: `f${(n % 3) + 1}`, input: { n } });
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    }
    // The quiet tenant's run gets a slot of its own at once: answered while the flood is still queued.
    const answered = await quiet.host.post('/v1/flows/quick/runs', { endUserId: 'q1', wait: true });
    expect(answered).toMatchObject({ status: 200, body: { status: 'succeeded', result: { ok: true } } });
    const stillQueued = (await flooder.host.get('/v1/runs?status=queued&limit=200')).body.data.length;
    expect(stillQueued).toBeGreaterThan(0);

    const runs = await waitForRuns(flooder, ids);
    expect(runs.map((r) => r.status)).toEqual(ids.map(() => 'succeeded'));
    const calls = sandbox.calls({ connector: 'slack', path: '/api/conversations.history' });
    expect(calls).toHaveLength(12);
    expect(maxOverlap(calls)).toBeLessThanOrEqual(CAP);
    expect(maxOverlap(calls)).toBe(CAP);
    sandbox.reset({ calls: true, faults: true, data: false });
  });

  it('frees the slots of a crashed worker: its leases lapse', async () => {
    // A worker that died holding every slot of the tenant: leases that are never renewed nor released.
    const redis = api.app.get<Redis>(REDIS);
    const [seconds, micros] = await redis.time();
    const lapse = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) + 1500;
    await redis.zadd(`engine:slots:${flooder.tenantId}`, lapse, 'dead-run-1', lapse, 'dead-run-2');
    const res = await flooder.host.post('/v1/flows/slow-read/runs', { endUserId: 'f1', input: { n: 99 } });
    const [run] = await waitForRuns(flooder, [res.body.id]);
    expect(run.status).toBe('succeeded');
    const [call] = sandbox.calls({ connector: 'slack', path: '/api/conversations.history' });
    // It ran only once the dead worker's leases had lapsed.
    expect(call.at).toBeGreaterThanOrEqual(lapse - 50);
    expect(await redis.zscore(`engine:slots:${flooder.tenantId}`, 'dead-run-1')).toBeNull();
  });
});

describe('per-connection rate limit', () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;

  const post = {
    key: 'post',
    name: 'Post',
    trigger: { type: 'request' },
    connectors: ['slack'],
    inputs: {},
    steps: [{ id: 'post', type: 'action', connector: 'slack', action: 'send_message', input: { channel: '#general', text: "='rate ' & $trigger.who & ' ' & $trigger.n" } }],
  };

  beforeAll(async () => {
    sandbox = await startSandbox();
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Chatty');
    await setUp(api, tenant, post, ['r1', 'r2']);
  });
  afterAll(async () => {
    await worker.close();
    await api.close();
    await sandbox.close();
  });

  it("spaces calls through one connection at Slack's declared rate (1/s): the actions wait, none fails; another connection is not held up", async () => {
    const fire = (who: string, n: number) => tenant.host.post('/v1/flows/post/runs', { endUserId: who, input: { who, n } }).then((r) => r.body.id as string);
    const ids = await Promise.all([fire('r1', 1), fire('r1', 2), fire('r1', 3), fire('r1', 4), fire('r2', 1)]);
    const runs = await waitForRuns(tenant, ids);
    expect(runs.map((r) => r.status)).toEqual(ids.map(() => 'succeeded'));
    const calls = sandbox.calls({ connector: 'slack', path: '/api/chat.postMessage' });
    const r1 = calls
      .filter((c) => String((c.body as { text?: string }).text).startsWith('rate r1'))
      .map((c) => c.at)
      .sort((a, b) => a - b);
    expect(r1).toHaveLength(4);
    // Turns are 1000 ms apart; the slack covers the jitter between taking a turn and the request reaching the sandbox,
    // which under load can make one call late and so the next gap short (unthrottled, the four calls land within a
    // few milliseconds of each other). Over all four, the turns add up.
    for (let i = 1; i < r1.length; i++) expect(r1[i] - r1[i - 1], `gap ${i}`).toBeGreaterThanOrEqual(500);
    expect(r1[3] - r1[0], 'three turns').toBeGreaterThanOrEqual(2500);
    // r2's connection has its own budget: its call did not queue behind r1's four.
    const r2 = calls.find((c) => String((c.body as { text?: string }).text).startsWith('rate r2'))!;
    expect(r2.at).toBeLessThan(r1[3]);
  });
});
