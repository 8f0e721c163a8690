import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createTenant, startApi, TenantFixture, TestApi } from './harness';

/**
 * Tenant A and tenant B side by side: every endpoint of the foundation, called by B with A's ids,
 * answers 404 (never A's row) and changes nothing of A's.
 */
describe('tenant isolation', () => {
  let api: TestApi;
  let a: TenantFixture;
  let b: TenantFixture;
  let aMember: Awaited<ReturnType<typeof addMember>>;

  beforeAll(async () => {
    api = await startApi();
    a = await createTenant(api, 'Tenant A');
    b = await createTenant(api, 'Tenant B');
    aMember = await addMember(api, a, 'developer');
    expect((await a.host.put('/v1/end-users/shared-id', { displayName: 'A customer', email: 'a@customer.test' })).status).toBe(201);
    expect((await a.owner.patch('/v1/admin/tenant', { allowedOrigins: ['https://a.example'] })).status).toBe(200);
  });
  afterAll(() => api.close());

  it('tenant settings: each member sees and changes only its own tenant', async () => {
    expect((await b.owner.get('/v1/admin/tenant')).body.id).toBe(b.tenantId);
    await b.owner.patch('/v1/admin/tenant', { name: 'B renamed', allowedOrigins: ['https://b.example'] });
    const aTenant = (await a.owner.get('/v1/admin/tenant')).body;
    expect(aTenant).toMatchObject({ id: a.tenantId, name: 'Tenant A', allowedOrigins: ['https://a.example'] });
  });

  it("members: B cannot see, change or remove A's members", async () => {
    const bMembers = (await b.owner.get('/v1/admin/members')).body.data;
    expect(bMembers.map((m: { email: string }) => m.email)).toEqual([b.email]);
    expect(await b.owner.patch(`/v1/admin/members/${aMember.membershipId}`, { role: 'viewer' })).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect((await b.owner.delete(`/v1/admin/members/${aMember.membershipId}`)).status).toBe(404);
    const still = (await a.owner.get('/v1/admin/members')).body.data.find((m: { id: string }) => m.id === aMember.membershipId);
    expect(still).toMatchObject({ role: 'developer', status: 'active' });
  });

  it("API keys: B cannot list or revoke A's keys, and A's key never acts in B", async () => {
    const bKeys = (await b.owner.get('/v1/admin/api-keys')).body.data;
    expect(bKeys.map((k: { id: string }) => k.id)).not.toContain(a.apiKeyId);
    expect((await b.owner.delete(`/v1/admin/api-keys/${a.apiKeyId}`)).status).toBe(404);
    expect((await a.host.get('/v1/end-users')).status).toBe(200);
  });

  it("end users: the same external id is a different customer in each tenant; B never reads A's", async () => {
    expect(await b.host.get('/v1/end-users/shared-id')).toMatchObject({ status: 404 });
    expect((await b.host.get('/v1/end-users')).body.data).toEqual([]);
    expect((await b.host.delete('/v1/end-users/shared-id')).status).toBe(404);
    const created = await b.host.put('/v1/end-users/shared-id', { displayName: 'B customer' });
    expect(created.status).toBe(201);
    const aUser = (await a.host.get('/v1/end-users/shared-id')).body;
    expect(aUser).toMatchObject({ displayName: 'A customer', email: 'a@customer.test' });
    expect(created.body.id).not.toBe(aUser.id);
  });

  it("audit log: B sees none of A's events, whatever the filter", async () => {
    const aEvents = (await a.owner.get('/v1/admin/audit-events?limit=200')).body.data;
    expect(aEvents.length).toBeGreaterThan(3);
    const bEvents = (await b.owner.get('/v1/admin/audit-events?limit=200')).body.data;
    const aIds = new Set(aEvents.map((e: { id: string }) => e.id));
    expect(bEvents.some((e: { id: string }) => aIds.has(e.id))).toBe(false);
    const byTarget = await b.owner.get(`/v1/admin/audit-events?targetId=${a.apiKeyId}`);
    expect(byTarget.body.data).toEqual([]);
    const byActor = await b.owner.get(`/v1/admin/audit-events?actorId=${aMember.userId}`);
    expect(byActor.body.data).toEqual([]);
  });

  it("a member of A is not a member of B, even with B's tenant id", async () => {
    expect((await aMember.browser.post('/v1/auth/switch-tenant', { tenantId: b.tenantId })).status).toBe(404);
    expect((await aMember.browser.get('/v1/admin/tenant')).body.id).toBe(a.tenantId);
  });

  it("invitations: A's invite token joins A only", async () => {
    const invite = await a.owner.post('/v1/admin/members', { email: b.email, role: 'viewer' });
    expect(invite.status).toBe(201);
    expect((await b.owner.get('/v1/admin/members')).body.data.map((m: { email: string }) => m.email)).toEqual([b.email]);
  });
});
