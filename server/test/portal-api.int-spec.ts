import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createTenant, Http, startApi, startWorker, type TenantFixture, type TestApi } from './harness';

/**
 * The admin API behind the portal's dashboard, end-user and flow-version screens: run statistics,
 * end-user search with counts, and who runs which template version. Real API, worker and database.
 */

const quote = (key: string, steps: unknown[]) => ({
  key,
  name: key === 'quote' ? 'Quote a price' : 'Flaky pricing',
  trigger: { type: 'request' },
  connectors: [],
  inputs: { markup: { type: 'number', title: 'Markup', default: 1.5 } },
  steps,
});

const good = quote('quote', [
  { id: 'price', type: 'transform', output: { total: '=$trigger.cost * $inputs.markup' } },
  { id: 'answer', type: 'respond', output: { total: '=$steps.price.total' } },
]);
const bad = quote('flaky', [
  { id: 'price', type: 'transform', output: { total: '=$trigger.cost * $inputs.markup' } },
  { id: 'check', type: 'transform', output: "=$trigger.cost > 100 ? $error('cost over budget') : 'ok'" },
]);

/** PostgreSQL's percentile_cont: linear interpolation between the closest ranks. */
function percentileCont(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = p * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

describe('portal admin API', () => {
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let other: TenantFixture;
  let viewer: Http;

  async function run(t: TenantFixture, flow: string, endUserId: string, cost: number) {
    const res = await t.host.post(`/v1/flows/${flow}/runs`, { endUserId, input: { cost }, wait: true });
    expect([200, 202]).toContain(res.status);
    return res.body;
  }

  beforeAll(async () => {
    api = await startApi();
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Stats Co');
    other = await createTenant(api, 'Other Co');
    viewer = (await addMember(api, tenant, 'viewer')).browser;
    for (const t of [tenant, other]) {
      for (const definition of [good, bad]) {
        expect((await t.owner.post('/v1/admin/flow-templates', { definition })).status).toBe(201);
        expect((await t.owner.post(`/v1/admin/flow-templates/${definition.key}/publish`)).status).toBe(201);
      }
    }
    const people = [
      ['alice', { displayName: 'Alice Martin', email: 'alice@wonderland.example' }],
      ['bob', { displayName: 'Bob Stone', email: 'bob@builders.example' }],
      ['carol_100%', { displayName: 'Carol', email: 'carol@example.org' }],
    ] as const;
    for (const [id, fields] of people) {
      expect((await tenant.host.put(`/v1/end-users/${encodeURIComponent(id)}`, fields)).status).toBe(201);
    }
    await other.host.put('/v1/end-users/alice', { displayName: 'Other Alice' });
    for (const user of ['alice', 'bob']) {
      for (const flow of ['quote', 'flaky']) expect((await tenant.host.post(`/v1/end-users/${user}/flows/${flow}/enable`, { settings: { markup: 2 } })).status).toBe(200);
    }
    expect((await other.host.post('/v1/end-users/alice/flows/flaky/enable', {})).status).toBe(200);
  });

  afterAll(async () => {
    await worker?.close();
    await api?.close();
  });

  it('computes run statistics for the chosen window, for this tenant only', async () => {
    for (const cost of [10, 20, 30]) await run(tenant, 'quote', 'alice', cost);
    for (const cost of [50, 500, 900]) await run(tenant, 'flaky', 'bob', cost);
    await run(other, 'flaky', 'alice', 999);

    const runs = (await tenant.owner.get('/v1/admin/runs?limit=200')).body.data as Array<{
      status: string;
      durationMs: number;
      flow: string;
      error: { code: string; message: string } | null;
    }>;
    expect(runs).toHaveLength(6);
    const stats = await viewer.get('/v1/admin/stats?window=1h');
    expect(stats.status).toBe(200);
    const body = stats.body;
    expect(body.window).toBe('1h');
    expect(body.bucketSeconds).toBe(60);
    expect(body.series).toHaveLength(60);
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(3600_000);
    expect(body.totals).toMatchObject({ runs: 6, succeeded: 4, failed: 2, cancelled: 0, active: 0 });
    expect(body.totals.successRate).toBeCloseTo(4 / 6, 10);
    const durations = runs.map((r) => r.durationMs);
    // The database keeps microseconds and rounds the percentile; run views subtract whole-millisecond
    // timestamps (each duration off by under 1 ms): the figures may differ by under 1.5 ms.
    expect(Math.abs(body.totals.p95DurationMs - percentileCont(durations, 0.95))).toBeLessThan(1.5);
    expect(Math.abs(body.totals.p50DurationMs - percentileCont(durations, 0.5))).toBeLessThan(1.5);
    // Every run is in exactly one bucket, and buckets are contiguous minutes.
    expect(body.series.reduce((sum: number, b: { total: number }) => sum + b.total, 0)).toBe(6);
    expect(body.series.reduce((sum: number, b: { failed: number }) => sum + b.failed, 0)).toBe(2);
    for (let i = 1; i < body.series.length; i++) expect(Date.parse(body.series[i].at) - Date.parse(body.series[i - 1].at)).toBe(60_000);
    expect(body.topFailingFlows).toEqual([{ flow: 'flaky', name: 'Flaky pricing', failed: 2, total: 3 }]);
    const failedRuns = runs.filter((r) => r.status === 'failed');
    expect(body.topErrors).toHaveLength(1);
    expect(body.topErrors[0]).toMatchObject({ code: failedRuns[0].error!.code, flow: 'flaky', count: 2, message: failedRuns[0].error!.message });

    // Wider windows use wider buckets, and still count the same runs.
    const day = (await tenant.owner.get('/v1/admin/stats?window=24h')).body;
    expect(day).toMatchObject({ bucketSeconds: 1800, totals: { runs: 6 } });
    expect(day.series).toHaveLength(48);
    const week = (await tenant.owner.get('/v1/admin/stats')).body;
    expect(week.window).toBe('24h');
    const seven = (await tenant.owner.get('/v1/admin/stats?window=7d')).body;
    expect(seven.series).toHaveLength(42);
    expect(seven.totals.runs).toBe(6);

    // The other tenant sees only its own run.
    const theirs = (await other.owner.get('/v1/admin/stats?window=1h')).body;
    expect(theirs.totals).toMatchObject({ runs: 1, failed: 1 });
    expect(theirs.topFailingFlows).toEqual([{ flow: 'flaky', name: 'Flaky pricing', failed: 1, total: 1 }]);
  });

  it('refuses a bad window with the parameter named, and callers who are not members', async () => {
    const bad = await tenant.owner.get('/v1/admin/stats?window=30d');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    expect(bad.body.error.details.errors[0]).toMatchObject({ path: 'window', message: expect.stringContaining('1h, 24h, 7d') });
    expect((await tenant.host.get('/v1/admin/stats')).status).toBe(401);
    expect((await new Http(api.url).get('/v1/admin/stats')).status).toBe(401);
    expect((await tenant.host.get('/v1/admin/end-users')).status).toBe(401);
  });

  it('searches end users by id, name or email, with counts, in pages', async () => {
    const all = await viewer.get('/v1/admin/end-users');
    expect(all.status).toBe(200);
    expect(all.body.data.map((u: { externalId: string }) => u.externalId)).toEqual(['alice', 'bob', 'carol_100%']);
    expect(all.body.data[0]).toMatchObject({ displayName: 'Alice Martin', connectionCount: 0, needsReauthCount: 0, enabledFlowCount: 2 });
    expect(all.body.data[2]).toMatchObject({ enabledFlowCount: 0 });

    const byEmail = (await tenant.owner.get('/v1/admin/end-users?search=BUILDERS')).body.data;
    expect(byEmail.map((u: { externalId: string }) => u.externalId)).toEqual(['bob']);
    const byName = (await tenant.owner.get('/v1/admin/end-users?search=martin')).body.data;
    expect(byName.map((u: { externalId: string }) => u.externalId)).toEqual(['alice']);
    // LIKE wildcards are literal: "%" finds only the id that contains one; "_" likewise.
    expect((await tenant.owner.get('/v1/admin/end-users?search=%25')).body.data.map((u: { externalId: string }) => u.externalId)).toEqual(['carol_100%']);
    expect((await tenant.owner.get('/v1/admin/end-users?search=_')).body.data.map((u: { externalId: string }) => u.externalId)).toEqual(['carol_100%']);

    const first = (await tenant.owner.get('/v1/admin/end-users?limit=2')).body;
    expect(first.data).toHaveLength(2);
    expect(first.nextCursor).toBe('bob');
    const second = (await tenant.owner.get(`/v1/admin/end-users?limit=2&cursor=${first.nextCursor}`)).body;
    expect(second).toMatchObject({ data: [{ externalId: 'carol_100%' }], nextCursor: null });

    // One end user with connections; another tenant's id of the same name is not reachable.
    const alice = await tenant.owner.get('/v1/admin/end-users/alice');
    expect(alice.body).toMatchObject({ externalId: 'alice', email: 'alice@wonderland.example', connections: [] });
    expect((await other.owner.get('/v1/admin/end-users/bob')).status).toBe(404);
    expect((await other.owner.get('/v1/admin/end-users/alice')).body.displayName).toBe('Other Alice');
    expect((await tenant.owner.get('/v1/admin/end-users?limit=500')).status).toBe(400);

    const flows = (await viewer.get('/v1/admin/end-users/alice/flows')).body.data;
    expect(flows.map((f: { key: string }) => f.key)).toEqual(['quote', 'flaky']);
    expect(flows[0].instance).toMatchObject({ enabled: true, version: 1, settings: { markup: 2 } });
    expect((await other.owner.get('/v1/admin/end-users/bob/flows')).status).toBe(404);
  });

  it('lists who runs which version of a template', async () => {
    // Version 2 is published; Bob upgrades, Alice stays on 1 and switches it off.
    const draft = { ...good, steps: [...good.steps.slice(0, 1), { id: 'answer', type: 'respond', output: { total: '=$steps.price.total', v: 2 } }] };
    expect((await tenant.owner.put('/v1/admin/flow-templates/quote/draft', { definition: draft })).status).toBe(200);
    expect((await tenant.owner.post('/v1/admin/flow-templates/quote/publish')).status).toBe(201);
    expect((await tenant.host.post('/v1/end-users/bob/flows/quote/upgrade', {})).status).toBe(200);
    expect((await tenant.host.post('/v1/end-users/alice/flows/quote/disable')).status).toBe(200);

    const page = (await viewer.get('/v1/admin/flow-templates/quote/instances')).body;
    expect(page.data.map((i: { endUserId: string; version: number; enabled: boolean }) => [i.endUserId, i.version, i.enabled])).toEqual([
      ['alice', 1, false],
      ['bob', 2, true],
    ]);
    expect(page.data[0].endUserName).toBe('Alice Martin');
    expect(page.byVersion).toEqual([
      { version: 2, enabled: 1, disabled: 0 },
      { version: 1, enabled: 0, disabled: 1 },
    ]);
    const v2 = (await tenant.owner.get('/v1/admin/flow-templates/quote/instances?version=2')).body;
    expect(v2.data.map((i: { endUserId: string }) => i.endUserId)).toEqual(['bob']);
    const paged = (await tenant.owner.get('/v1/admin/flow-templates/quote/instances?limit=1')).body;
    expect(paged).toMatchObject({ data: [{ endUserId: 'alice' }], nextCursor: 'alice' });
    expect((await tenant.owner.get('/v1/admin/flow-templates/quote/instances?limit=1&cursor=alice')).body).toMatchObject({ data: [{ endUserId: 'bob' }], nextCursor: null });

    // Another tenant's template of the same key counts only its own instances.
    const theirs = (await other.owner.get('/v1/admin/flow-templates/flaky/instances')).body;
    expect(theirs.data.map((i: { endUserId: string; endUserName: string }) => [i.endUserId, i.endUserName])).toEqual([['alice', 'Other Alice']]);
    expect((await tenant.owner.get('/v1/admin/flow-templates/nope/instances')).status).toBe(404);
    expect((await tenant.owner.get('/v1/admin/flow-templates/quote/instances?version=zero')).status).toBe(400);
  });
  it("shows an end user's webhook URL and signing secret to developers, not to viewers", async () => {
    const inbound = {
      key: 'inbound',
      name: 'Inbound',
      trigger: { type: 'webhook', verify: { header: 'X-Signature', prefix: 'sha256=' } },
      connectors: [],
      inputs: {},
      steps: [{ id: 'echo', type: 'transform', output: '=$trigger.body' }],
    };
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition: inbound })).status).toBe(201);
    expect((await tenant.owner.post('/v1/admin/flow-templates/inbound/publish')).status).toBe(201);
    expect((await tenant.host.post('/v1/end-users/bob/flows/inbound/enable', {})).status).toBe(200);
    const instanceOf = (body: { data: Array<{ key: string; instance: { webhookUrl: string | null; webhookSecret: string | null } }> }) =>
      body.data.find((f) => f.key === 'inbound')!.instance;
    const seenByOwner = instanceOf((await tenant.owner.get('/v1/admin/end-users/bob/flows')).body);
    expect(seenByOwner.webhookUrl).toMatch(/\/v1\/hooks\//);
    expect(seenByOwner.webhookSecret).toEqual(expect.any(String));
    expect(instanceOf((await viewer.get('/v1/admin/end-users/bob/flows')).body)).toMatchObject({ webhookUrl: null, webhookSecret: null });
  });
  it("keeps a definition as its author wrote it: the draft, the version and the end user's settings form list inputs in the author's order", async () => {
    const inputs = { zone: { type: 'string', title: 'Zone' }, amount: { type: 'number', title: 'Amount' }, a: { type: 'boolean', title: 'A' } };
    const definition = { key: 'ordered', name: 'Ordered', trigger: { type: 'request' }, connectors: [], inputs, steps: [{ id: 'echo', type: 'transform', output: '=$inputs' }] };
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition })).status).toBe(201);
    expect(Object.keys((await tenant.owner.get('/v1/admin/flow-templates/ordered')).body.draft.inputs)).toEqual(['zone', 'amount', 'a']);
    expect((await tenant.owner.post('/v1/admin/flow-templates/ordered/publish')).status).toBe(201);
    const flows = (await tenant.host.get('/v1/end-users/bob/flows')).body.data as Array<{ key: string; inputs: Record<string, unknown> }>;
    expect(Object.keys(flows.find((f) => f.key === 'ordered')!.inputs)).toEqual(['zone', 'amount', 'a']);
  });
});
