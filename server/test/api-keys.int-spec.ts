import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, Http, startApi, TenantFixture, TestApi } from './harness';

describe('secret API keys', () => {
  let api: TestApi;
  let tenant: TenantFixture;

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api, 'Keys Co');
  });
  afterAll(() => api.close());

  it('creates a named key whose secret is shown once and stored only as a hash', async () => {
    const created = await tenant.owner.post('/v1/admin/api-keys', { name: 'Production' });
    expect(created.status).toBe(201);
    const { secret, apiKey } = created.body;
    // The key names its environment (a new tenant starts in development).
    expect(secret).toMatch(/^sk_development_[A-Za-z0-9_-]{43}$/);
    expect(apiKey).toMatchObject({ name: 'Production', prefix: secret.slice(0, 'sk_development_'.length + 4), revokedAt: null, lastUsedAt: null });

    const list = await tenant.owner.get('/v1/admin/api-keys');
    expect(JSON.stringify(list.body)).not.toContain(secret);
    expect(list.body.data.find((k: { id: string }) => k.id === apiKey.id)).toMatchObject({ name: 'Production' });

    const rows = await api.app.get(DataSource).query(`SELECT * FROM api_keys WHERE id = $1`, [apiKey.id]);
    expect(JSON.stringify(rows)).not.toContain(secret);
  });

  it('authenticates host requests and records when a key was last used', async () => {
    const { body } = await tenant.owner.post('/v1/admin/api-keys', { name: 'Used' });
    const host = new Http(api.url).withBearer(body.secret);
    expect((await host.get('/v1/end-users')).status).toBe(200);
    const listed = (await tenant.owner.get('/v1/admin/api-keys')).body.data.find((k: { id: string }) => k.id === body.apiKey.id);
    expect(Date.now() - Date.parse(listed.lastUsedAt)).toBeLessThan(60_000);
  });

  it('revokes a key at once', async () => {
    const { body } = await tenant.owner.post('/v1/admin/api-keys', { name: 'Doomed' });
    const host = new Http(api.url).withBearer(body.secret);
    expect((await host.get('/v1/end-users')).status).toBe(200);
    expect((await tenant.owner.delete(`/v1/admin/api-keys/${body.apiKey.id}`)).status).toBe(204);
    expect(await host.get('/v1/end-users')).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_key' } } });
    const listed = (await tenant.owner.get('/v1/admin/api-keys')).body.data.find((k: { id: string }) => k.id === body.apiKey.id);
    expect(listed.revokedAt).not.toBeNull();
  });

  it('refuses unknown, malformed and missing keys with 401', async () => {
    expect((await new Http(api.url).withBearer('sk_' + 'A'.repeat(43)).get('/v1/end-users')).body.error.code).toBe('invalid_api_key');
    expect((await new Http(api.url).withBearer('msess_nope').get('/v1/end-users')).status).toBe(401);
    expect((await new Http(api.url).get('/v1/end-users')).status).toBe(401);
    expect((await new Http(api.url).get('/v1/end-users', { authorization: 'Basic abc' })).status).toBe(401);
  });

  it('does not let a secret key act as a portal member, nor a session act as a host', async () => {
    expect((await tenant.host.get('/v1/admin/api-keys')).status).toBe(401);
    expect((await tenant.owner.get('/v1/end-users')).status).toBe(401);
  });

  it('validates names and ids', async () => {
    expect((await tenant.owner.post('/v1/admin/api-keys', { name: '' })).status).toBe(400);
    expect((await tenant.owner.post('/v1/admin/api-keys', {})).body.error.details.errors[0].path).toBe('name');
    const bad = await tenant.owner.delete('/v1/admin/api-keys/not-a-uuid');
    expect(bad).toMatchObject({ status: 400, body: { error: { details: { errors: [{ path: 'id' }] } } } });
    expect((await tenant.owner.delete('/v1/admin/api-keys/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });
});
