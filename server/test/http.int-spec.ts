import { Controller, Get } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Public } from '../src/auth/auth.decorators';
import { createTenant, Http, startApi, TenantFixture, TestApi } from './harness';

@Controller('test-only')
class BrokenController {
  @Get('boom')
  @Public()
  boom(): never {
    throw new Error('database exploded: password=hunter2');
  }

  @Get('undeclared')
  undeclared(): string {
    return 'should never be served';
  }
}

describe('HTTP basics', () => {
  let api: TestApi;
  let tenant: TenantFixture;

  beforeAll(async () => {
    api = await startApi({ BODY_LIMIT: '2kb' }, { extraControllers: [BrokenController] });
    tenant = await createTenant(api);
  });
  afterAll(() => api.close());

  it('answers liveness and readiness', async () => {
    const http = new Http(api.url);
    expect(await http.get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await http.get('/readyz')).toMatchObject({ status: 200, body: { status: 'ready', checks: { postgres: 'ok', redis: 'ok' } } });
  });

  it('publishes OpenAPI at /openapi.json and docs at /docs', async () => {
    const http = new Http(api.url);
    const doc = await http.get('/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/admin/api-keys', '/v1/admin/members/{id}', '/v1/admin/audit-events', '/v1/end-users/{externalId}', '/v1/auth/login']),
    );
    expect(doc.body.components.schemas.ErrorEnvelope).toBeDefined();
    expect(doc.body.components.securitySchemes.secretKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    const docs = await http.get('/docs');
    expect(docs.status).toBe(200);
    expect(String(docs.body)).toContain('swagger');
  });

  it('exposes Prometheus metrics with request latency and queue depth', async () => {
    const http = new Http(api.url);
    await http.get('/healthz');
    await http.get('/no/such/path/42');
    await http.get('/portal/settings/keys');
    const metrics = await http.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.body).toMatch(/http_request_duration_seconds_bucket\{.*route="\/v1\/signup".*\}/);
    expect(metrics.body).toMatch(/queue_jobs\{queue="maintenance",state="waiting"\} \d+/);
    // Unknown paths share one label, so a scanner cannot blow up the series count.
    expect(metrics.body).toMatch(/http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} \d+/);
    expect(metrics.body).not.toContain('/no/such/path');
    // A route with a wildcard in it (the portal's pages, the proxy) keeps its own template.
    expect(metrics.body).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/portal\/\*path",status="200"\} \d+/);
  });

  it('echoes a sane request id and makes one up otherwise', async () => {
    const http = new Http(api.url);
    expect((await http.get('/healthz', { 'x-request-id': 'trace-123' })).headers.get('x-request-id')).toBe('trace-123');
    const generated = (await http.get('/healthz', { 'x-request-id': 'bad id with spaces' })).headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('rejects unknown fields, naming them', async () => {
    const res = await tenant.host.put('/v1/end-users/u-1', { displayName: 'A', isAdmin: true });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.errors).toEqual([{ path: 'isAdmin', message: 'property isAdmin should not exist' }]);
  });

  it('rejects wrong types with the path of each problem', async () => {
    const res = await tenant.host.put('/v1/end-users/u-1', { displayName: 42, email: 'not-an-email', metadata: 'x' });
    expect(res.status).toBe(400);
    expect([...new Set(res.body.error.details.errors.map((e: { path: string }) => e.path))].sort()).toEqual(['displayName', 'email', 'metadata']);
  });

  it('rejects malformed JSON with 400 malformed_json', async () => {
    const res = await tenant.host.put('/v1/end-users/u-1', '{"displayName": ');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('malformed_json');
  });

  it('rejects bodies over the configured limit with 413 and writes nothing', async () => {
    const res = await tenant.host.put('/v1/end-users/too-big', { metadata: { blob: 'x'.repeat(5000) } });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'payload_too_large', details: { limit: 2048 } });
    expect((await tenant.host.get('/v1/end-users/too-big')).status).toBe(404);
  });

  it('refuses bodies that are not JSON with 415', async () => {
    const res = await tenant.host.put('/v1/end-users/u-1', 'displayName=x', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('answers unknown routes with the envelope', async () => {
    const res = await new Http(api.url).get('/v1/nothing-here');
    expect(res).toMatchObject({ status: 404, body: { error: { code: 'route_not_found' } } });
  });

  it('refuses a route that declares no authentication (fails closed)', async () => {
    const res = await new Http(api.url).get('/test-only/undeclared');
    expect(res.status).toBe(500);
    expect(res.body).not.toContain('should never be served');
  });

  it('answers an unexpected error with 500 and an error id that is in the log, without leaking the message', async () => {
    const res = await new Http(api.url).get('/test-only/boom');
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('internal_error');
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
    const errorId = res.body.error.details.errorId;
    expect(errorId).toMatch(/^[0-9a-f-]{36}$/);
    const logged = api.logs.find((line) => line.errorId === errorId);
    expect(logged).toBeDefined();
    expect(logged!.level).toBe(50);
  });

  it('logs requests as JSON with request id and tenant id, never the key or cookie', async () => {
    const res = await tenant.host.get('/v1/end-users', { 'x-request-id': 'log-check-1' });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    const line = api.logs.find((l) => (l.req as { id?: string } | undefined)?.id === 'log-check-1' && l.msg === 'request completed');
    expect(line).toMatchObject({ tenantId: tenant.tenantId, res: { statusCode: 200 } });
    const all = JSON.stringify(api.logs);
    expect(all).not.toContain(tenant.host.options.bearer);
    expect(all).not.toContain(tenant.owner.cookie!.split('=')[1]);
  });
});
