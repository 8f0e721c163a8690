import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, Http, startApi, startWorker, TenantFixture, TestApi } from './harness';

/** Input PostgreSQL cannot store, nesting that would overflow, nulls for NOT NULL columns…: always a 4xx naming the problem. */
describe('hostile input', () => {
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let hookUrl: string;

  const deep = (depth: number) => `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
  const raw = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(api.url + path, { method: 'POST', body, headers }).then(async (res) => ({ status: res.status, body: (await res.json().catch(() => undefined)) as any }));

  beforeAll(async () => {
    api = await startApi();
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Hostile Co');
    const definition = {
      key: 'inbound',
      name: 'Inbound',
      trigger: { type: 'webhook' },
      connectors: [],
      inputs: {},
      steps: [{ id: 'x', type: 'transform', output: '=$trigger.body' }],
    };
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition })).status).toBe(201);
    expect((await tenant.owner.post('/v1/admin/flow-templates/inbound/publish')).status).toBe(201);
    const session = await tenant.host.post('/v1/sessions', { endUserId: 'alice' });
    const enabled = await new Http(api.url).withBearer(session.body.token).post('/v1/me/flows/inbound/enable', { settings: {} });
    hookUrl = new URL(enabled.body.instance.webhookUrl).pathname;
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
  });

  it('refuses JSON nested deeper than 64 levels on every body, signed in or not', async () => {
    for (const path of ['/v1/auth/login', '/v1/signup', '/v1/auth/accept-invite']) {
      const res = await raw(path, deep(10_000));
      expect(res, path).toMatchObject({ status: 400, body: { error: { code: 'json_too_deep', details: { limit: 64 } } } });
    }
    // 64 levels are still fine (and then the DTO says what is wrong).
    expect((await raw('/v1/auth/login', deep(63))).body.error.code).toBe('validation_failed');
    // A megabyte of brackets is refused as quickly as a small one.
    const started = Date.now();
    expect((await raw('/v1/signup', '['.repeat(900_000))).body.error.code).toBe('json_too_deep');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses webhook-trigger payloads nested deeper than 128 levels', async () => {
    expect(await raw(hookUrl, deep(10_000))).toMatchObject({ status: 400, body: { error: { code: 'json_too_deep', details: { limit: 128 } } } });
    expect((await raw(hookUrl, deep(100))).status).toBe(202);
  });

  it('refuses NUL and lone surrogates in webhook-trigger bodies, forms and query strings, storing nothing', async () => {
    const cases: Array<[string, string, Record<string, string>]> = [
      [hookUrl, 'a\u0000b', { 'content-type': 'text/plain' }],
      [hookUrl, 'name=a%00b', { 'content-type': 'application/x-www-form-urlencoded' }],
      [hookUrl, '{"a":"\\u0000"}', { 'content-type': 'application/json' }],
      [hookUrl, '{"a":"\\ud800"}', { 'content-type': 'application/json' }],
      [`${hookUrl}?q=%00`, '{}', { 'content-type': 'application/json' }],
    ];
    const before = (await tenant.host.get('/v1/runs?limit=200')).body.data.length;
    for (const [path, body, headers] of cases) {
      const res = await raw(path, body, headers);
      expect(res.status, body).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details.errors[0].path).toMatch(/^(body|query)/);
    }
    expect((await tenant.host.get('/v1/runs?limit=200')).body.data.length).toBe(before);
  });

  it('refuses lone surrogates and __proto__ keys in API bodies, naming the path', async () => {
    const surrogate = await tenant.host.put('/v1/end-users/u-1', '{"metadata":{"note":"\\ud800"}}');
    expect(surrogate).toMatchObject({ status: 400, body: { error: { code: 'validation_failed', details: { errors: [{ path: 'metadata.note' }] } } } });
    const key = await tenant.host.put('/v1/end-users/u-1', '{"metadata":{"\\udc00":1}}');
    expect(key.status).toBe(400);
    const proto = await tenant.host.put('/v1/end-users/u-1', '{"metadata":{"__proto__":{"isAdmin":true}}}');
    expect(proto).toMatchObject({ status: 400, body: { error: { code: 'validation_failed', details: { errors: [{ path: 'metadata' }] } } } });
    expect((await tenant.host.get('/v1/end-users/u-1')).status).toBe(404);
    const event = await tenant.host.post('/v1/events', { name: 'x', endUserId: 'alice', payload: { text: 'a\ud800' } });
    expect(event.status).toBe(400);
  });

  it('refuses null for fields that cannot be null, and still accepts it where documented', async () => {
    const name = await tenant.owner.patch('/v1/admin/tenant', { name: null });
    expect(name).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed', details: { errors: expect.arrayContaining([{ path: 'name', message: 'must not be null (leave it out instead)' }]) } } },
    });
    expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: null })).status).toBe(400);
    expect((await tenant.owner.put('/v1/admin/connectors/slack', { enabled: null })).status).toBe(400);
    expect((await tenant.owner.put('/v1/admin/connectors/slack', { settings: null })).status).toBe(400);
    expect((await tenant.host.put('/v1/end-users/u-2', { metadata: null })).status).toBe(400);
    expect((await tenant.host.post('/v1/sessions', { endUserId: 'alice', ttlSeconds: null })).status).toBe(400);
    // Documented as nullable: null clears.
    expect((await tenant.owner.patch('/v1/admin/tenant', { widgetTheme: null })).status).toBe(200);
    expect((await tenant.owner.put('/v1/admin/connectors/slack', { clientId: null })).status).toBe(200);
    expect((await tenant.host.put('/v1/end-users/u-2', { displayName: null })).status).toBe(201);
  });

  it('refuses a body that is not a JSON object where an object is expected', async () => {
    for (const body of ['[]', '[{"name":"x"}]']) {
      const res = await tenant.owner.request('PATCH', '/v1/admin/tenant', body);
      expect(res.status, body).toBe(400);
      expect(res.body.error, body).toMatchObject({ code: 'validation_failed', details: { errors: [{ path: 'body', message: 'must be a JSON object' }] } });
    }
    // Scalars never get that far: the JSON parser is strict.
    for (const body of ['"x"', '42', 'null']) expect((await tenant.owner.request('PATCH', '/v1/admin/tenant', body)).body.error.code, body).toBe('malformed_json');
  });

  it('answers forged cursors with 400 invalid_cursor on every list that has one', async () => {
    const forged = [
      'garbage',
      Buffer.from('2026-01-01T00:00:00.000Z|not-a-uuid').toString('base64url'),
      Buffer.from('99999-01-01|00000000-0000-0000-0000-000000000000').toString('base64url'),
      '99999999999999999999',
    ];
    const endpoint = await tenant.owner.post('/v1/admin/webhook-endpoints', { url: 'https://example.com/hook', eventTypes: ['run.failed'] });
    for (const cursor of forged) {
      const c = encodeURIComponent(cursor);
      for (const [http, path] of [
        [tenant.host, `/v1/runs?cursor=${c}`],
        [tenant.owner, `/v1/admin/runs?cursor=${c}`],
        [tenant.host, `/v1/approvals?cursor=${c}`],
        [tenant.owner, `/v1/admin/audit-events?cursor=${c}`],
        [tenant.owner, `/v1/admin/webhook-endpoints/${endpoint.body.id}/deliveries?cursor=${c}`],
      ] as const) {
        const res = await http.get(path);
        expect(res.status, `${path}`).toBe(400);
        expect(res.body.error.code, `${path}`).toBe('invalid_cursor');
      }
    }
  });

  it('refuses integers PostgreSQL cannot hold, and dates it cannot store, naming the parameter', async () => {
    const version = await tenant.owner.get('/v1/admin/flow-templates/inbound/instances?version=99999999999999999999');
    expect(version).toMatchObject({ status: 400, body: { error: { code: 'validation_failed', details: { errors: [{ path: 'version' }] } } } });
    expect((await tenant.owner.get('/v1/admin/flow-templates/inbound/instances?version=1.5')).status).toBe(400);
    for (const since of ['-200000-01-01T00:00:00.000Z', 'yesterday', '275760-09-13T00:00:00.000Z']) {
      const res = await tenant.host.get(`/v1/runs?since=${encodeURIComponent(since)}`);
      expect(res.status, since).toBe(400);
      expect(res.body.error.details.errors[0].path).toBe('since');
      expect((await tenant.owner.get(`/v1/admin/audit-events?until=${encodeURIComponent(since)}`)).status).toBe(400);
    }
  });

  it('refuses a connection binding that only looks like a UUID, naming it', async () => {
    const definition = {
      key: 'uses-slack',
      name: 'Uses Slack',
      trigger: { type: 'request' },
      connectors: ['slack'],
      inputs: {},
      steps: [{ id: 'x', type: 'transform', output: 1 }],
    };
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition })).status).toBe(201);
    expect((await tenant.owner.post('/v1/admin/flow-templates/uses-slack/publish')).status).toBe(201);
    for (const wanted of ['-'.repeat(36), 'z'.repeat(36), 42]) {
      const res = await tenant.host.post('/v1/end-users/alice/flows/uses-slack/enable', { connections: { slack: wanted } });
      expect(res.status, String(wanted)).toBe(400);
      expect(res.body.error.details.errors).toEqual([{ path: 'connections.slack', message: 'is not a connection of this end user for this connector' }]);
    }
  });

  it('refuses identifiers longer than their btree-indexed column allows, naming them', async () => {
    const long = 'x'.repeat(10_000);
    const put = await tenant.host.put(`/v1/end-users/${long}`, { displayName: 'x' });
    expect(put).toMatchObject({ status: 400, body: { error: { code: 'validation_failed', details: { errors: [{ path: 'externalId' }] } } } });
    expect((await tenant.host.get(`/v1/end-users/${'x'.repeat(255)}`)).status).toBe(404);
  });
});

describe('security headers', () => {
  let api: TestApi;
  let tenant: TenantFixture;

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api, 'Headers Co');
  });
  afterAll(() => api?.close());

  it('sends nosniff on every answer and no-store on every authenticated one', async () => {
    const anonymous = await new Http(api.url).get('/healthz');
    expect(anonymous.headers.get('x-content-type-options')).toBe('nosniff');
    for (const res of [await tenant.host.get('/v1/end-users'), await tenant.owner.get('/v1/admin/tenant'), await tenant.host.get('/v1/runs/not-a-uuid')]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    // Not in development: no HSTS.
    expect(anonymous.headers.get('strict-transport-security')).toBeNull();
  });

  it('serves /docs with nosniff and a CSP that forbids framing', async () => {
    const docs = await fetch(`${api.url}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('x-content-type-options')).toBe('nosniff');
    expect(docs.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(docs.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('sends HSTS in production on https, and refuses /metrics there unless a token or METRICS_PUBLIC says otherwise', async () => {
    const production = await startApi({ NODE_ENV: 'production', PUBLIC_URL: 'https://switchboard.example.com' });
    const open = await startApi({ NODE_ENV: 'production', PUBLIC_URL: 'https://switchboard.example.com', METRICS_PUBLIC: 'true' });
    const token = 'metrics-token-0123456789';
    const guarded = await startApi({ NODE_ENV: 'production', PUBLIC_URL: 'https://switchboard.example.com', METRICS_TOKEN: token });
    try {
      const health = await new Http(production.url).get('/healthz');
      expect(health.headers.get('strict-transport-security')).toMatch(/^max-age=\d{8,}/);
      expect(await new Http(production.url).get('/metrics')).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
      expect((await new Http(open.url).get('/metrics')).status).toBe(200);
      expect((await new Http(guarded.url).get('/metrics')).status).toBe(401);
      expect((await new Http(guarded.url).withBearer(token).get('/metrics')).status).toBe(200);
      // Outside production the default stays open (local Prometheus, the demo).
      expect((await new Http(api.url).get('/metrics')).status).toBe(200);
    } finally {
      await Promise.all([production.close(), open.close(), guarded.close()]);
    }
  });
});
