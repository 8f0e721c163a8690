import { consentInSandbox, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, Http, startApi, startWorker, TenantFixture, TestApi } from './harness';
import { QUOTE_FLOW } from './fixtures';

const HOST_ORIGIN = 'https://host.example';

/** The reference flow of BENCHMARKS.md, as an event flow. */
const wonDeals = {
  key: 'won-deals-to-slack',
  name: 'Post won deals to Slack',
  trigger: { type: 'event', event: 'deal.won' },
  connectors: ['slack'],
  inputs: {
    channel: { type: 'string', title: 'Channel', required: true, options: { connector: 'slack', source: 'channels' } },
    minAmount: { type: 'number', title: 'Only deals of at least', default: 0 },
  },
  steps: [
    { id: 'text', type: 'transform', output: { text: "='Deal ' & $trigger.name & ' won: $' & $string($trigger.amount)" } },
    {
      id: 'big',
      type: 'branch',
      if: '=$trigger.amount >= $inputs.minAmount',
      then: [{ id: 'post', type: 'action', connector: 'slack', action: 'send_message', input: { channel: '=$inputs.channel', text: '=$steps.text.text' } }],
    },
    { id: 'summary', type: 'transform', output: { posted: '=$exists($steps.post)', ts: '=$steps.post.ts' } },
  ],
};

const quote = QUOTE_FLOW;

describe('flow engine', () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let other: TenantFixture;

  async function connectSlack(t: TenantFixture, endUserId: string): Promise<{ token: string; connectionId: string }> {
    const token = (await t.host.post('/v1/sessions', { endUserId })).body.token as string;
    const start = await fetch(`${api.url}/connect/slack?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
    const callback = await consentInSandbox(start.headers.get('location')!);
    const html = await (await fetch(callback)).text();
    return { token, connectionId: /"connectionId":"([^"]+)"/.exec(html)![1] };
  }

  async function waitForRun(t: TenantFixture, id: string) {
    for (let i = 0; i < 300; i++) {
      const run = (await t.host.get(`/v1/runs/${id}`)).body;
      if (['succeeded', 'failed', 'cancelled'].includes(run.status)) return run;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`run ${id} did not finish`);
  }

  beforeAll(async () => {
    sandbox = await startSandbox();
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}`, MAINTENANCE_INTERVAL_SECONDS: '1' });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Engine Co');
    other = await createTenant(api, 'Other Co');
    for (const t of [tenant, other]) {
      await t.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
      await t.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } });
    }
  });
  afterAll(async () => {
    await worker.close();
    await api.close();
    await sandbox.close();
  });

  it('publishes a valid template as version 1 and refuses an invalid draft with the JSON path', async () => {
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition: wonDeals })).status).toBe(201);
    const published = await tenant.owner.post('/v1/admin/flow-templates/won-deals-to-slack/publish');
    expect(published).toMatchObject({ status: 201, body: { key: 'won-deals-to-slack', version: 1, changed: true } });
    // Publishing the same draft again makes no version 2: it says nothing changed.
    const again = await tenant.owner.post('/v1/admin/flow-templates/won-deals-to-slack/publish');
    expect(again).toMatchObject({ status: 200, body: { key: 'won-deals-to-slack', version: 1, changed: false, publishedAt: published.body.publishedAt } });
    expect((await tenant.owner.get('/v1/admin/flow-templates/won-deals-to-slack')).body.latestVersion).toBe(1);

    const broken = { ...quote, key: 'broken', steps: [{ id: 'x', type: 'transform', output: '=$steps.nope +' }] };
    await tenant.owner.post('/v1/admin/flow-templates', { definition: broken });
    const refused = await tenant.owner.post('/v1/admin/flow-templates/broken/publish');
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.errors[0].path).toMatch(/^definition\.steps/);
    const validated = await tenant.owner.post('/v1/admin/flow-templates/broken/validate', {});
    expect(validated.body.valid).toBe(false);
    expect((await new Http(api.url).get('/v1/schemas/flow-definition.json')).body).toMatchObject({ type: 'object' });
  });

  it('runs the reference flow on an app event and posts to Slack', async () => {
    const { token, connectionId } = await connectSlack(tenant, 'alice');
    const me = new Http(api.url).withBearer(token);
    const available = await me.get('/v1/me/flows');
    expect(available.body.data.map((f: { key: string }) => f.key)).toContain('won-deals-to-slack');
    const missing = await me.post('/v1/me/flows/won-deals-to-slack/enable', { settings: {} });
    expect(missing).toMatchObject({ status: 400, body: { error: { details: { errors: [{ path: 'settings.channel' }] } } } });
    const enabled = await me.post('/v1/me/flows/won-deals-to-slack/enable', { settings: { channel: '#general', minAmount: 10000 } });
    expect(enabled.body.instance).toMatchObject({ enabled: true, version: 1, connections: { slack: connectionId } });

    const sent = await tenant.host.post('/v1/events', { name: 'deal.won', endUserId: 'alice', payload: { name: 'Acme Corp', amount: 25000 } });
    expect(sent.status).toBe(202);
    expect(sent.body.runs).toHaveLength(1);
    const run = await waitForRun(tenant, sent.body.runs[0].id);
    expect(run.status).toBe('succeeded');
    expect(run.result).toMatchObject({ posted: true, ts: expect.any(String) });
    expect(run.steps.map((s: { path: string }) => s.path)).toEqual(['text', 'big', 'big/then/post', 'summary']);
    expect(run.steps[2]).toMatchObject({ status: 'succeeded', idempotencyKey: `${run.id}:big/then/post`, input: { channel: '#general', text: 'Deal Acme Corp won: $25000' } });
    expect(sandbox.state.slack.messages.at(-1)).toMatchObject({ text: 'Deal Acme Corp won: $25000' });

    const small = await tenant.host.post('/v1/events', { name: 'deal.won', endUserId: 'alice', payload: { name: 'Tiny', amount: 5 } });
    const smallRun = await waitForRun(tenant, small.body.runs[0].id);
    expect(smallRun.result).toMatchObject({ posted: false });
    expect(smallRun.steps.map((s: { path: string }) => s.path)).toEqual(['text', 'big', 'summary']);
  });

  it('treats a repeated idempotency key as the same event', async () => {
    const body = { name: 'deal.won', endUserId: 'alice', payload: { name: 'Once', amount: 20000 }, idempotencyKey: 'deal-42-won' };
    const first = await tenant.host.post('/v1/events', body);
    const second = await tenant.host.post('/v1/events', body);
    expect(second.body.runs.map((r: { id: string }) => r.id)).toEqual(first.body.runs.map((r: { id: string }) => r.id));
    await waitForRun(tenant, first.body.runs[0].id);
    expect(sandbox.state.slack.messages.filter((m: { text: string }) => m.text.includes('Once'))).toHaveLength(1);
  });

  it('answers a request-triggered flow synchronously with its respond step', async () => {
    await tenant.owner.post('/v1/admin/flow-templates', { definition: quote });
    await tenant.owner.post('/v1/admin/flow-templates/quote/publish');
    await tenant.host.put('/v1/end-users/bob', {});
    expect((await tenant.host.post('/v1/end-users/bob/flows/quote/enable', { settings: { markup: 2 } })).status).toBe(200);
    const res = await tenant.host.post('/v1/flows/quote/runs', { endUserId: 'bob', input: { cost: 21 }, wait: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'succeeded', result: { total: 42, customer: 'bob' } });
  });

  it('runs loops (bounded concurrency), switches and delays that park the run and resume it', async () => {
    const shapes = {
      key: 'shapes',
      name: 'Loops, switches, delays',
      trigger: { type: 'request' },
      connectors: [],
      inputs: {},
      steps: [
        { id: 'each', type: 'loop', over: '=$trigger.items', concurrency: 2, steps: [{ id: 'double', type: 'transform', output: { value: '=$item * 2', at: '=$index' } }] },
        {
          id: 'kind',
          type: 'branch',
          switch: '=$trigger.kind',
          cases: [{ when: 'a', steps: [{ id: 'isA', type: 'transform', output: 'A' }] }],
          default: [{ id: 'other', type: 'transform', output: 'other' }],
        },
        { id: 'pause', type: 'delay', for: 'PT1S' },
        { id: 'answer', type: 'respond', output: { doubled: '=$steps.each.double.value', kind: '=$exists($steps.isA) ? $steps.isA : $steps.other' } },
      ],
    };
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition: shapes })).status).toBe(201);
    expect((await tenant.owner.post('/v1/admin/flow-templates/shapes/publish')).status).toBe(201);
    await tenant.host.post('/v1/end-users/bob/flows/shapes/enable', {});
    const started = Date.now();
    const res = await tenant.host.post('/v1/flows/shapes/runs', { endUserId: 'bob', input: { items: [1, 2, 3], kind: 'a' }, wait: true });
    expect(res.body).toMatchObject({ status: 'succeeded', result: { doubled: [2, 4, 6], kind: 'A' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(res.body.steps.map((s: { path: string }) => s.path)).toEqual(expect.arrayContaining(['each[0]/double', 'each[2]/double', 'kind/cases/0/isA', 'pause']));
    const other = await tenant.host.post('/v1/flows/shapes/runs', { endUserId: 'bob', input: { items: [], kind: 'z' }, wait: true });
    expect(other.body.result).toMatchObject({ kind: 'other' });
  });

  it('fails a run whose expression throws, naming the step', async () => {
    const bad = { ...quote, key: 'divide', steps: [{ id: 'boom', type: 'transform', output: { x: '=$error("no quotes today")' } }] };
    await tenant.owner.post('/v1/admin/flow-templates', { definition: bad });
    expect((await tenant.owner.post('/v1/admin/flow-templates/divide/publish')).status).toBe(201);
    await tenant.host.post('/v1/end-users/bob/flows/divide/enable', {});
    const res = await tenant.host.post('/v1/flows/divide/runs', { endUserId: 'bob', input: {}, wait: true });
    expect(res.body).toMatchObject({ status: 'failed', error: { step: 'boom', message: expect.stringContaining('no quotes today') } });
  });

  it('refuses unknown end users, oversized payloads and other end users’ connections', async () => {
    expect((await tenant.host.post('/v1/events', { name: 'deal.won', endUserId: 'nobody' })).status).toBe(404);
    const big = await tenant.host.post('/v1/events', { name: 'deal.won', endUserId: 'alice', payload: { blob: 'x'.repeat(300 * 1024) } });
    expect(big.status).toBe(413);
    const { connectionId } = await connectSlack(tenant, 'carol');
    const dave = (await tenant.host.post('/v1/sessions', { endUserId: 'dave' })).body.token;
    const stolen = await new Http(api.url)
      .withBearer(dave)
      .post('/v1/me/flows/won-deals-to-slack/enable', { settings: { channel: '#general' }, connections: { slack: connectionId } });
    expect(stolen.status).toBe(400);
    expect(stolen.body.error.details.errors[0].path).toBe('connections.slack');
  });

  it("keeps tenants apart: another tenant's key sees none of these runs or flows", async () => {
    const mine = (await tenant.host.get('/v1/runs')).body.data;
    expect(mine.length).toBeGreaterThan(0);
    expect((await other.host.get(`/v1/runs/${mine[0].id}`)).status).toBe(404);
    expect((await other.host.get('/v1/runs')).body.data).toEqual([]);
    expect((await other.owner.get('/v1/admin/flow-templates')).body.data).toEqual([]);
    expect((await other.host.post('/v1/flows/quote/runs', { endUserId: 'bob' })).status).toBe(404);
  });

  it('recovers a run that was accepted but never enqueued (a crash between commit and enqueue)', async () => {
    const db = api.app.get((await import('typeorm')).DataSource);
    const [instance] = await db.query(`SELECT i.* FROM flow_instances i JOIN flow_templates t ON t.id = i.template_id WHERE t.key = 'quote' AND i.tenant_id = $1`, [
      tenant.tenantId,
    ]);
    const [row] = await db.query(
      `INSERT INTO runs (tenant_id, instance_id, template_id, version_id, end_user_id, trigger_type, trigger, status, created_at)
       VALUES ($1, $2, $3, $4, $5, 'request', '{"cost": 2}', 'queued', now() - interval '1 minute') RETURNING id`,
      [tenant.tenantId, instance.id, instance.template_id, instance.version_id, instance.end_user_id],
    );
    const run = await waitForRun(tenant, row.id);
    expect(run).toMatchObject({ status: 'succeeded', result: { total: 4 } });
  });

  it('prunes finished runs past retention, and only those', async () => {
    const db = api.app.get((await import('typeorm')).DataSource);
    const runs = (await tenant.host.get('/v1/runs?status=succeeded&limit=2')).body.data;
    await db.query(`UPDATE runs SET finished_at = now() - interval '31 days' WHERE id = $1`, [runs[0].id]);
    for (let i = 0; i < 100 && (await tenant.host.get(`/v1/runs/${runs[0].id}`)).status === 200; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await tenant.host.get(`/v1/runs/${runs[0].id}`)).status).toBe(404);
    expect((await tenant.host.get(`/v1/runs/${runs[1].id}`)).status).toBe(200);
  });

  it('lists runs with filters and cursor pages, for the host, the team and the end user', async () => {
    const page1 = await tenant.host.get('/v1/runs?limit=2&flow=won-deals-to-slack');
    expect(page1.body.data).toHaveLength(2);
    const page2 = await tenant.host.get(`/v1/runs?limit=2&flow=won-deals-to-slack&cursor=${page1.body.nextCursor}`);
    const ids = [...page1.body.data, ...page2.body.data].map((r: { id: string }) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect((await tenant.host.get('/v1/runs?status=failed')).body.data.every((r: { status: string }) => r.status === 'failed')).toBe(true);
    expect((await tenant.owner.get('/v1/admin/runs?endUserId=bob')).body.data.length).toBeGreaterThan(0);
    const aliceToken = (await tenant.host.post('/v1/sessions', { endUserId: 'alice' })).body.token;
    const hers = (await new Http(api.url).withBearer(aliceToken).get('/v1/me/runs')).body.data;
    expect(hers.length).toBeGreaterThan(0);
    // Every view names its flow (template key) and end user (external id): host, team, end user; list and get.
    expect(hers.every((r: { flow: string; endUserId: string }) => r.flow === 'won-deals-to-slack' && r.endUserId === 'alice')).toBe(true);
    expect((await new Http(api.url).withBearer(aliceToken).get(`/v1/me/runs/${hers[0].id}`)).body).toMatchObject({ flow: 'won-deals-to-slack', endUserId: 'alice' });
    expect((await tenant.owner.get('/v1/admin/runs?endUserId=bob')).body.data[0]).toMatchObject({ endUserId: 'bob', flow: expect.any(String) });
    expect((await tenant.owner.get(`/v1/admin/runs/${hers[0].id}`)).body).toMatchObject({ flow: 'won-deals-to-slack', endUserId: 'alice' });
    expect((await tenant.host.get(`/v1/runs/${hers[0].id}`)).body).toMatchObject({ flow: 'won-deals-to-slack', endUserId: 'alice', attempt: 1 });
    const bobsRun = (await tenant.host.get('/v1/runs?endUserId=bob')).body.data[0];
    expect(bobsRun).toMatchObject({ endUserId: 'bob', flow: expect.any(String) });
    expect((await new Http(api.url).withBearer(aliceToken).get(`/v1/me/runs/${bobsRun.id}`)).status).toBe(404);
  });
});
