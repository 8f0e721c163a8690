import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createTenant, startApi, TenantFixture, TestApi } from './harness';

const paths = (res: { body: any }) => (res.body.error.details.errors as Array<{ path: string }>).map((e) => e.path);

describe('tenant settings', () => {
  let api: TestApi;
  let tenant: TenantFixture;
  let ownerUserId: string;

  const tenantEvents = async () => (await tenant.owner.get(`/v1/admin/audit-events?action=tenant.updated&limit=200`)).body.data as Array<Record<string, any>>;

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api, 'Settings Co');
    ownerUserId = (await tenant.owner.get('/v1/auth/me')).body.userId;
  });
  afterAll(() => api.close());

  it('shows the active tenant', async () => {
    const res = await tenant.owner.get('/v1/admin/tenant');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: tenant.tenantId,
      name: 'Settings Co',
      slug: expect.stringMatching(/^settings-co(-[0-9a-f]{6})?$/),
      environment: 'development',
      protected: false,
      allowedOrigins: [],
      widgetTheme: {},
      monthlyTokenCap: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  it('renames the tenant and records tenant.updated with from/to', async () => {
    const rid = `rename-${Date.now()}`;
    const res = await tenant.owner.patch('/v1/admin/tenant', { name: 'Settings Inc.' }, { 'x-request-id': rid });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: tenant.tenantId, name: 'Settings Inc.', allowedOrigins: [] });
    expect((await tenant.owner.get('/v1/admin/tenant')).body.name).toBe('Settings Inc.');

    const [event] = await tenantEvents();
    expect(event).toMatchObject({
      action: 'tenant.updated',
      actorType: 'member',
      actorId: ownerUserId,
      targetType: 'tenant',
      targetId: tenant.tenantId,
      requestId: rid,
      data: { name: { from: 'Settings Co', to: 'Settings Inc.' } },
    });
    expect(Object.keys(event.data)).toEqual(['name']);
  });

  it('sets allowed origins given as exact origins, with ports, and records from/to', async () => {
    const origins = ['https://app.example.com', 'http://localhost:3000', 'https://xn--bcher-kva.example:8443'];
    const res = await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: origins });
    expect(res.status).toBe(200);
    expect(res.body.allowedOrigins).toEqual(origins);
    expect((await tenant.owner.get('/v1/admin/tenant')).body.allowedOrigins).toEqual(origins);
    const [event] = await tenantEvents();
    expect(event.data).toEqual({ allowedOrigins: { from: [], to: origins } });
  });

  it.each([
    ['a trailing slash', 'https://app.example.com/'],
    ['a path', 'https://app.example.com/widget'],
    ['a query', 'https://app.example.com?x=1'],
    ['another scheme', 'ftp://x'],
    ['no URL at all', 'not a url'],
    ['a default port spelled out', 'https://app.example.com:443'],
    ['upper case', 'https://App.Example.com'],
    ['credentials', 'https://user:pw@app.example.com'],
  ])('refuses an origin with %s (400 naming allowedOrigins)', async (_, bad) => {
    const before = (await tenant.owner.get('/v1/admin/tenant')).body.allowedOrigins;
    const res = await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: ['https://ok.example.com', bad] });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    expect(paths(res)).toEqual(['allowedOrigins']);
    expect(res.body.error.message).toMatch(/^allowedOrigins: .*origin/);
    expect((await tenant.owner.get('/v1/admin/tenant')).body.allowedOrigins).toEqual(before);
  });

  it('refuses allowedOrigins that is not an array of strings', async () => {
    expect(paths(await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: 'https://app.example.com' }))).toContain('allowedOrigins');
    const numbers = await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [42] });
    expect(numbers.status).toBe(400);
    expect(paths(numbers)).toEqual(['allowedOrigins']);
    const tooMany = await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: Array.from({ length: 51 }, (_, i) => `https://o${i}.example.com`) });
    expect(tooMany.status).toBe(400);
    expect(paths(tooMany)).toEqual(['allowedOrigins']);
  });

  it('collapses duplicate origins, keeping the first occurrence order', async () => {
    const res = await tenant.owner.patch('/v1/admin/tenant', {
      allowedOrigins: ['https://b.example.com', 'https://a.example.com', 'https://b.example.com', 'https://a.example.com'],
    });
    expect(res.status).toBe(200);
    expect(res.body.allowedOrigins).toEqual(['https://b.example.com', 'https://a.example.com']);
    const rows = await api.app.get(DataSource).query(`SELECT allowed_origins FROM tenants WHERE id = $1`, [tenant.tenantId]);
    expect(rows[0].allowed_origins).toEqual(['https://b.example.com', 'https://a.example.com']);
    const [event] = await tenantEvents();
    expect(event.data.allowedOrigins.to).toEqual(['https://b.example.com', 'https://a.example.com']);
  });

  it('rejects unknown fields and bad names, changing nothing', async () => {
    const before = (await tenant.owner.get('/v1/admin/tenant')).body;
    const eventsBefore = (await tenantEvents()).length;

    const unknown = await tenant.owner.patch('/v1/admin/tenant', { name: 'Sneaky', slug: 'taken-over', settings: { a: 1 } });
    expect(unknown).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    expect(paths(unknown).sort()).toEqual(['settings', 'slug']);
    const id = await tenant.owner.patch('/v1/admin/tenant', { id: '00000000-0000-4000-8000-000000000000' });
    expect(paths(id)).toEqual(['id']);

    expect(paths(await tenant.owner.patch('/v1/admin/tenant', { name: '' }))).toEqual(['name']);
    expect(paths(await tenant.owner.patch('/v1/admin/tenant', { name: 'x'.repeat(201) }))).toEqual(['name']);
    expect(paths(await tenant.owner.patch('/v1/admin/tenant', { name: 7 }))).toContain('name');

    const after = (await tenant.owner.get('/v1/admin/tenant')).body;
    expect(after).toEqual(before);
    expect((await tenantEvents()).length).toBe(eventsBefore);
  });

  it('treats an empty PATCH as a no-op: 200 with the tenant, no audit event', async () => {
    const before = (await tenant.owner.get('/v1/admin/tenant')).body;
    const eventsBefore = (await tenantEvents()).length;
    const res = await tenant.owner.patch('/v1/admin/tenant', {});
    expect(res.status).toBe(200);
    expect(res.body).toEqual(before);
    expect((await tenantEvents()).length).toBe(eventsBefore);
  });

  it('records no audit event for a PATCH that changes nothing', async () => {
    const before = (await tenant.owner.get('/v1/admin/tenant')).body;
    const eventsBefore = (await tenantEvents()).length;
    // The same name and the same origins (a duplicate collapses to the stored list).
    const res = await tenant.owner.patch('/v1/admin/tenant', { name: before.name, allowedOrigins: [...before.allowedOrigins, before.allowedOrigins[0]] });
    expect(res.status).toBe(200);
    expect(res.body.allowedOrigins).toEqual(before.allowedOrigins);
    expect((await tenantEvents()).length).toBe(eventsBefore);
    expect(res.body.updatedAt).toBe(before.updatedAt);
  });

  it('clears allowed origins with an empty list', async () => {
    const before = (await tenant.owner.get('/v1/admin/tenant')).body.allowedOrigins;
    const res = await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [] });
    expect(res.body.allowedOrigins).toEqual([]);
    const [event] = await tenantEvents();
    expect(event.data).toEqual({ allowedOrigins: { from: before, to: [] } });
  });

  it('lets admins change settings, but not developers or viewers', async () => {
    const [admin, developer, viewer] = await Promise.all([addMember(api, tenant, 'admin'), addMember(api, tenant, 'developer'), addMember(api, tenant, 'viewer')]);
    for (const browser of [developer.browser, viewer.browser]) {
      expect((await browser.get('/v1/admin/tenant')).body.id).toBe(tenant.tenantId);
      expect(await browser.patch('/v1/admin/tenant', { name: 'Nope' })).toMatchObject({ status: 403, body: { error: { code: 'insufficient_role' } } });
    }
    const res = await admin.browser.patch('/v1/admin/tenant', { name: 'Renamed by admin' });
    expect(res).toMatchObject({ status: 200, body: { name: 'Renamed by admin' } });
    const [event] = await tenantEvents();
    expect(event).toMatchObject({ actorId: admin.userId, data: { name: { from: 'Settings Inc.', to: 'Renamed by admin' } } });
  });

  it('only ever touches the caller’s own tenant', async () => {
    const other = await createTenant(api, 'Other Settings Co');
    await other.owner.patch('/v1/admin/tenant', { name: 'Other Renamed', allowedOrigins: ['https://other.example.com'] });
    const mine = (await tenant.owner.get('/v1/admin/tenant')).body;
    expect(mine).toMatchObject({ id: tenant.tenantId, name: 'Renamed by admin', allowedOrigins: [] });
    expect((await tenantEvents()).every((e) => e.targetId === tenant.tenantId)).toBe(true);
  });
});
