import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, Http, startApi, startWorker, TenantFixture, TestApi } from './harness';

/** Echoes what the webhook call looked like to the flow. */
const inbound = {
  key: 'inbound',
  name: 'Inbound webhook',
  trigger: { type: 'webhook' },
  connectors: [],
  inputs: { label: { type: 'string', title: 'Label', default: 'crm' } },
  steps: [
    {
      id: 'seen',
      type: 'transform',
      output: {
        label: '=$inputs.label',
        body: '=$trigger.body',
        event: '=$lookup($trigger.headers, "x-event")',
        headers: '=$trigger.headers',
        query: '=$trigger.query',
        receivedAt: '=$trigger.receivedAt',
      },
    },
  ],
};

const signed = {
  key: 'signed',
  name: 'Signed webhook',
  trigger: { type: 'webhook', verify: { header: 'X-Signature', prefix: 'sha256=' } },
  connectors: [],
  inputs: {},
  steps: [{ id: 'seen', type: 'transform', output: { action: '=$trigger.body.action' } }],
};

const requestFlow = {
  key: 'on-request',
  name: 'Request flow',
  trigger: { type: 'request' },
  connectors: [],
  inputs: {},
  steps: [{ id: 'x', type: 'transform', output: 1 }],
};

describe('webhook triggers', () => {
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let other: TenantFixture;
  let me: Http;

  async function publish(t: TenantFixture, definition: object) {
    expect((await t.owner.post('/v1/admin/flow-templates', { definition })).status).toBe(201);
    expect((await t.owner.post(`/v1/admin/flow-templates/${(definition as { key: string }).key}/publish`)).status).toBe(201);
  }

  async function waitForRun(id: string) {
    for (let i = 0; i < 300; i++) {
      const run = (await tenant.host.get(`/v1/runs/${id}`)).body;
      if (['succeeded', 'failed', 'cancelled'].includes(run.status)) return run;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`run ${id} did not finish`);
  }

  /** A call to a webhook URL the way a third party makes one: raw bytes, its own content type. */
  const call = (url: string, body: string | undefined, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', body, headers }).then(async (res) => ({ status: res.status, body: await res.json().catch(() => undefined) }));

  const instanceOf = async (http: Http, path: string, key: string) => (await http.get(path)).body.data.find((f: { key: string }) => f.key === key).instance;

  beforeAll(async () => {
    api = await startApi({ MAINTENANCE_INTERVAL_SECONDS: '1' });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Hooks Co');
    other = await createTenant(api, 'Other Co');
    for (const definition of [inbound, signed, requestFlow]) await publish(tenant, definition);
    const session = await tenant.host.post('/v1/sessions', { endUserId: 'alice' });
    me = new Http(api.url).withBearer(session.body.token);
  });
  afterAll(async () => {
    await worker.close();
    await api.close();
  });

  it('gives each enabled instance its own secret URL, shown to the end user and the host', async () => {
    const enabled = await me.post('/v1/me/flows/inbound/enable', { settings: {} });
    expect(enabled.status).toBe(200);
    const url: string = enabled.body.instance.webhookUrl;
    expect(url).toMatch(new RegExp(`^${api.url}/v1/hooks/whk_[A-Za-z0-9_-]{43}$`));
    expect(enabled.body.instance).toMatchObject({ webhookSecret: null, nextRunAt: null });
    expect((await instanceOf(tenant.host, '/v1/end-users/alice/flows', 'inbound')).webhookUrl).toBe(url);

    // Another end user's instance of the same flow has another URL.
    await tenant.host.put('/v1/end-users/bob', {});
    const bobs = await tenant.host.post('/v1/end-users/bob/flows/inbound/enable', { settings: {} });
    expect(bobs.body.instance.webhookUrl).toMatch(/\/v1\/hooks\/whk_/);
    expect(bobs.body.instance.webhookUrl).not.toBe(url);

    // Flows with other triggers have no URL.
    expect((await me.post('/v1/me/flows/on-request/enable', {})).body.instance.webhookUrl).toBeNull();
  });

  it('starts a run from a JSON call, with body, safe headers, query and time as $trigger', async () => {
    const url = (await instanceOf(me, '/v1/me/flows', 'inbound')).webhookUrl;
    const res = await call(`${url}?source=crm&tag=a&tag=b`, JSON.stringify({ deal: { id: 42, amount: 1000 } }), {
      'content-type': 'application/json',
      'x-event': 'deal.won',
      authorization: 'Bearer secret-of-the-sender',
      cookie: 'session=abc',
    });
    expect(res).toMatchObject({ status: 202, body: { runId: expect.any(String) } });
    const run = await waitForRun(res.body.runId);
    expect(run).toMatchObject({ status: 'succeeded', triggerType: 'webhook', flow: 'inbound', endUserId: 'alice' });
    expect(run.result).toMatchObject({ label: 'crm', body: { deal: { id: 42, amount: 1000 } }, event: 'deal.won', query: { source: 'crm', tag: ['a', 'b'] } });
    expect(Date.parse(run.result.receivedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(run.result.headers).toMatchObject({ 'content-type': 'application/json', 'x-event': 'deal.won' });
    expect(run.result.headers).not.toHaveProperty('authorization');
    expect(run.result.headers).not.toHaveProperty('cookie');
    expect(JSON.stringify(run.trigger)).not.toContain('secret-of-the-sender');
  });

  it('accepts a form-encoded call as an object, and text as text', async () => {
    const url = (await instanceOf(me, '/v1/me/flows', 'inbound')).webhookUrl;
    const form = await call(url, 'name=Ada+Lovelace&tag=x&tag=y', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(202);
    expect((await waitForRun(form.body.runId)).result.body).toEqual({ name: 'Ada Lovelace', tag: ['x', 'y'] });
    const text = await call(url, 'ping', { 'content-type': 'text/plain' });
    expect((await waitForRun(text.body.runId)).result.body).toBe('ping');
  });

  it('refuses malformed JSON, unsupported types and bodies over the events cap', async () => {
    const url = (await instanceOf(me, '/v1/me/flows', 'inbound')).webhookUrl;
    expect(await call(url, '{"deal":', { 'content-type': 'application/json' })).toMatchObject({ status: 400, body: { error: { code: 'malformed_json' } } });
    expect(await call(url, 'abc', { 'content-type': 'application/octet-stream' })).toMatchObject({ status: 415, body: { error: { code: 'unsupported_media_type' } } });
    const huge = JSON.stringify({ blob: 'x'.repeat(300 * 1024) });
    expect(await call(url, huge, { 'content-type': 'application/json' })).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
  });

  it('dedupes a repeated delivery by its idempotency-key or webhook-id header', async () => {
    const url = (await instanceOf(me, '/v1/me/flows', 'inbound')).webhookUrl;
    const body = JSON.stringify({ n: 1 });
    const headers = { 'content-type': 'application/json', 'webhook-id': 'msg_2x7' };
    const [a, b] = await Promise.all([call(url, body, headers), call(url, body, headers)]);
    expect(a.status).toBe(202);
    expect(b).toMatchObject({ status: 202, body: { runId: a.body.runId } });
    const c = await call(url, body, { 'content-type': 'application/json', 'idempotency-key': 'msg_2x7' });
    expect(c.body.runId).toBe(a.body.runId);
    const d = await call(url, body, { 'content-type': 'application/json', 'idempotency-key': 'another' });
    expect(d.body.runId).not.toBe(a.body.runId);
    const runs = (await tenant.host.get('/v1/runs?flow=inbound&endUserId=alice&limit=200')).body.data as Array<{ id: string }>;
    expect(runs.filter((r) => r.id === a.body.runId)).toHaveLength(1);
  });

  it('answers 404, revealing nothing, for unknown tokens and disabled instances; re-enabling keeps the URL', async () => {
    const url: string = (await instanceOf(me, '/v1/me/flows', 'inbound')).webhookUrl;
    const unknown = await call(`${api.url}/v1/hooks/whk_${'A'.repeat(43)}`, '{}', { 'content-type': 'application/json' });
    expect(unknown).toEqual({ status: 404, body: { error: { code: 'not_found', message: 'Not found' } } });
    expect((await call(`${api.url}/v1/hooks/not-a-token`, '{}', { 'content-type': 'application/json' })).body).toEqual(unknown.body);

    const disabled = await me.post('/v1/me/flows/inbound/disable');
    expect(disabled.body.instance).toMatchObject({ enabled: false, webhookUrl: null });
    expect(await call(url, '{}', { 'content-type': 'application/json' })).toEqual(unknown);

    const again = await me.post('/v1/me/flows/inbound/enable', {});
    expect(again.body.instance.webhookUrl).toBe(url);
    expect((await call(url, '{}', { 'content-type': 'application/json' })).status).toBe(202);
  });

  it('rotates the URL on request: the old one stops at once, other tenants cannot touch it', async () => {
    const old: string = (await instanceOf(me, '/v1/me/flows', 'inbound')).webhookUrl;
    const rotated = await me.post('/v1/me/flows/inbound/webhook/rotate');
    expect(rotated.status).toBe(200);
    const fresh: string = rotated.body.instance.webhookUrl;
    expect(fresh).not.toBe(old);
    expect((await call(old, '{}', { 'content-type': 'application/json' })).status).toBe(404);
    expect((await call(fresh, '{}', { 'content-type': 'application/json' })).status).toBe(202);

    const byHost = await tenant.host.post('/v1/end-users/alice/flows/inbound/webhook/rotate');
    expect(byHost.body.instance.webhookUrl).not.toBe(fresh);
    const audit = await tenant.owner.get('/v1/admin/audit-events?action=flow.webhook_rotated');
    expect(audit.body.data).toHaveLength(2);
    expect(JSON.stringify(audit.body.data)).not.toContain('whk_');

    expect((await other.host.post('/v1/end-users/alice/flows/inbound/webhook/rotate')).status).toBe(404);
    expect((await me.post('/v1/me/flows/on-request/webhook/rotate')).status).toBe(409);
  });

  it('checks the signature a verifying flow declares, with the secret shown to its owner', async () => {
    const enabled = await me.post('/v1/me/flows/signed/enable', {});
    const { webhookUrl: url, webhookSecret: secret } = enabled.body.instance;
    expect(secret).toMatch(/^whks_[A-Za-z0-9_-]{43}$/);
    const body = JSON.stringify({ action: 'opened' });
    const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

    const unsigned = await call(url, body, { 'content-type': 'application/json' });
    expect(unsigned).toMatchObject({ status: 401, body: { error: { code: 'webhook_signature_invalid', message: expect.stringContaining('X-Signature header is missing') } } });
    const forged = await call(url, body, { 'content-type': 'application/json', 'x-signature': `sha256=${createHmac('sha256', 'guess').update(body).digest('hex')}` });
    expect(forged.status).toBe(401);
    const tampered = await call(url, JSON.stringify({ action: 'deleted' }), { 'content-type': 'application/json', 'x-signature': signature });
    expect(tampered.status).toBe(401);

    const good = await call(url, body, { 'content-type': 'application/json', 'x-signature': signature });
    expect(good.status).toBe(202);
    expect((await waitForRun(good.body.runId)).result).toEqual({ action: 'opened' });

    // Rotating replaces the secret too.
    const rotated = (await me.post('/v1/me/flows/signed/webhook/rotate')).body.instance;
    expect(rotated.webhookSecret).not.toBe(secret);
    expect((await call(rotated.webhookUrl, body, { 'content-type': 'application/json', 'x-signature': signature })).status).toBe(401);
  });

  it('uses a signing secret the sender issued, once the owner sets it', async () => {
    const issued = 'whsec_issued-by-the-sender-42';
    const tooShort = await me.put('/v1/me/flows/signed/webhook/secret', { secret: 'short' });
    expect(tooShort).toMatchObject({ status: 400, body: { error: { details: { errors: [{ path: 'secret' }] } } } });
    const set = await tenant.host.put('/v1/end-users/alice/flows/signed/webhook/secret', { secret: issued });
    expect(set.status).toBe(200);
    expect(set.body.instance.webhookSecret).toBe(issued);
    const body = JSON.stringify({ action: 'closed' });
    const signature = `sha256=${createHmac('sha256', issued).update(body).digest('hex')}`;
    const res = await call(set.body.instance.webhookUrl, body, { 'content-type': 'application/json', 'x-signature': signature });
    expect(res.status).toBe(202);
    expect((await waitForRun(res.body.runId)).result).toEqual({ action: 'closed' });
    // Only flows that verify have a secret to set.
    expect((await me.put('/v1/me/flows/inbound/webhook/secret', { secret: issued })).status).toBe(409);
    const audit = await tenant.owner.get('/v1/admin/audit-events?action=flow.webhook_secret_set');
    expect(audit.body.data).toHaveLength(1);
    expect(JSON.stringify(audit.body.data)).not.toContain(issued);
  });

  it('follows the trigger across upgrades: a schedule version drops the URL, a webhook version gets a new one', async () => {
    const switcher = { ...inbound, key: 'switcher', name: 'Switcher' };
    await publish(tenant, switcher);
    const v1 = (await me.post('/v1/me/flows/switcher/enable', {})).body.instance;
    expect(v1.webhookUrl).toMatch(/\/v1\/hooks\/whk_/);

    await tenant.owner.put('/v1/admin/flow-templates/switcher/draft', { definition: { ...switcher, trigger: { type: 'schedule', cron: '0 * * * *', timezone: 'UTC' } } });
    expect((await tenant.owner.post('/v1/admin/flow-templates/switcher/publish')).status).toBe(201);
    const v2 = (await me.post('/v1/me/flows/switcher/upgrade', {})).body.instance;
    expect(v2).toMatchObject({ version: 2, webhookUrl: null, webhookSecret: null });
    expect(Date.parse(v2.nextRunAt)).toBeGreaterThan(Date.now());
    expect((await call(v1.webhookUrl, '{}', { 'content-type': 'application/json' })).status).toBe(404);

    await tenant.owner.put('/v1/admin/flow-templates/switcher/draft', { definition: switcher });
    await tenant.owner.post('/v1/admin/flow-templates/switcher/publish');
    const v3 = (await me.post('/v1/me/flows/switcher/upgrade', {})).body.instance;
    expect(v3).toMatchObject({ version: 3, nextRunAt: null });
    expect(v3.webhookUrl).toMatch(/\/v1\/hooks\/whk_/);
    expect(v3.webhookUrl).not.toBe(v1.webhookUrl);
    expect((await call(v3.webhookUrl, '{}', { 'content-type': 'application/json' })).status).toBe(202);
  });

  it('keeps URL tokens and secrets out of the logs', async () => {
    const { webhookUrl } = await instanceOf(me, '/v1/me/flows', 'inbound');
    await call(webhookUrl, '{}', { 'content-type': 'application/json' });
    const token = webhookUrl.split('/').pop();
    const logs = JSON.stringify(api.logs);
    expect(logs).toContain('/v1/hooks/[redacted]');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain('whks_');
    expect(logs).not.toContain('whsec_issued');
  });
});
