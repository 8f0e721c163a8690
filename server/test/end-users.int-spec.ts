import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, Http, startApi, TenantFixture, TestApi } from './harness';

const paths = (res: { body: any }) => (res.body.error.details.errors as Array<{ path: string }>).map((e) => e.path);

describe('end users (host API)', () => {
  let api: TestApi;
  let tenant: TenantFixture;

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api, 'End Users Co');
  });
  afterAll(() => api.close());

  it('creates an end user with PUT (201), then updates only the fields given (200)', async () => {
    const created = await tenant.host.put('/v1/end-users/cust-42', {
      displayName: 'Jane Doe',
      email: 'jane@customer.test',
      metadata: { plan: 'pro', seats: 3 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      externalId: 'cust-42',
      displayName: 'Jane Doe',
      email: 'jane@customer.test',
      metadata: { plan: 'pro', seats: 3 },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });

    const renamed = await tenant.host.put('/v1/end-users/cust-42', { displayName: 'Jane Smith' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({
      id: created.body.id,
      externalId: 'cust-42',
      displayName: 'Jane Smith',
      email: 'jane@customer.test',
      metadata: { plan: 'pro', seats: 3 },
      createdAt: created.body.createdAt,
    });

    // metadata is replaced as a whole; null clears a field.
    const again = await tenant.host.put('/v1/end-users/cust-42', { metadata: { plan: 'team' }, email: null });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: created.body.id, displayName: 'Jane Smith', email: null, metadata: { plan: 'team' } });

    // An empty body changes nothing and still answers the user.
    const noop = await tenant.host.put('/v1/end-users/cust-42', {});
    expect(noop.status).toBe(200);
    expect(noop.body).toEqual(again.body);

    const got = await tenant.host.get('/v1/end-users/cust-42');
    expect(got.status).toBe(200);
    expect(got.body).toEqual(again.body);
  });

  it('creates with an empty body: defaults are null fields and empty metadata', async () => {
    const res = await tenant.host.put('/v1/end-users/bare', {});
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ externalId: 'bare', displayName: null, email: null, metadata: {} });
  });

  it('answers 404 for an unknown end user', async () => {
    expect(await tenant.host.get('/v1/end-users/nobody-here')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  it('deletes an end user (204); afterwards it is 404 and gone from the list', async () => {
    const created = await tenant.host.put('/v1/end-users/doomed', { displayName: 'Doomed' });
    expect(created.status).toBe(201);
    const del = await tenant.host.delete('/v1/end-users/doomed');
    expect(del.status).toBe(204);
    expect(del.body).toBeUndefined();
    expect(await tenant.host.get('/v1/end-users/doomed')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await tenant.host.delete('/v1/end-users/doomed')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    const list = await tenant.host.get('/v1/end-users?limit=200');
    expect(list.body.data.map((u: { externalId: string }) => u.externalId)).not.toContain('doomed');
    // A new PUT creates a new row.
    const reborn = await tenant.host.put('/v1/end-users/doomed', {});
    expect(reborn.status).toBe(201);
    expect(reborn.body.id).not.toBe(created.body.id);
  });

  it('accepts an external id of 255 characters and refuses 256 with 400 naming externalId', async () => {
    const max = 'x'.repeat(255);
    expect((await tenant.host.put(`/v1/end-users/${max}`, {})).status).toBe(201);
    expect((await tenant.host.get(`/v1/end-users/${max}`)).body.externalId).toBe(max);

    const long = 'y'.repeat(256);
    for (const res of [
      await tenant.host.put(`/v1/end-users/${long}`, { displayName: 'Too long' }),
      await tenant.host.get(`/v1/end-users/${long}`),
      await tenant.host.delete(`/v1/end-users/${long}`),
    ]) {
      expect(res).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
      expect(paths(res)).toEqual(['externalId']);
    }
    const rows = await api.app.get(DataSource).query(`SELECT count(*)::int AS n FROM end_users WHERE external_id = $1`, [long]);
    expect(rows[0].n).toBe(0);
  });

  it('keeps external ids with spaces and other characters as given', async () => {
    const externalId = 'acme corp/user#7 ü';
    const res = await tenant.host.put(`/v1/end-users/${encodeURIComponent(externalId)}`, {});
    expect(res.status).toBe(201);
    expect(res.body.externalId).toBe(externalId);
    expect((await tenant.host.get(`/v1/end-users/${encodeURIComponent(externalId)}`)).body.id).toBe(res.body.id);
  });

  it('validates the body, naming each field', async () => {
    const res = await tenant.host.put('/v1/end-users/validated', { displayName: '', email: 'not-an-email', metadata: 'nope', role: 'admin' });
    expect(res.status).toBe(400);
    expect([...new Set(paths(res))].sort()).toEqual(['displayName', 'email', 'metadata', 'role']);
    expect((await tenant.host.put('/v1/end-users/validated', { metadata: [1, 2] })).status).toBe(400);
    expect((await tenant.host.get('/v1/end-users/validated')).status).toBe(404);
  });

  it('refuses NUL characters (which PostgreSQL text cannot store) with 400, not a server error', async () => {
    const inPath = await tenant.host.put('/v1/end-users/nul%00byte', {});
    expect({ status: inPath.status, code: inPath.body.error?.code }).toEqual({ status: 400, code: 'validation_failed' });
    expect(paths(inPath)).toEqual(['externalId']);
    const inBody = await tenant.host.put('/v1/end-users/nul-body', { displayName: 'a\u0000b' });
    expect({ status: inBody.status, code: inBody.body.error?.code }).toEqual({ status: 400, code: 'validation_failed' });
    expect(paths(inBody)).toEqual(['displayName']);
    const inCursor = await tenant.host.get('/v1/end-users?cursor=a%00');
    expect({ status: inCursor.status, code: inCursor.body.error?.code }).toEqual({ status: 400, code: 'validation_failed' });
    expect(paths(inCursor)).toEqual(['cursor']);
  });

  it('concurrent PUTs of the same new external id converge on one row, exactly one of them 201', async () => {
    const replies = await Promise.all(Array.from({ length: 5 }, (_, i) => tenant.host.put('/v1/end-users/racer', { displayName: `Racer ${i}` })));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201]);
    const ids = new Set(replies.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    const rows = await api.app.get(DataSource).query(`SELECT id, display_name FROM end_users WHERE tenant_id = $1 AND external_id = 'racer'`, [tenant.tenantId]);
    expect(rows).toHaveLength(1);
    expect(rows[0].id).toBe([...ids][0]);
    expect(rows[0].display_name).toMatch(/^Racer [0-4]$/);
    const created = await tenant.owner.get(`/v1/admin/audit-events?action=end_user.created&targetId=${rows[0].id}`);
    expect(created.body.data).toHaveLength(1);
  });

  it('keeps tenants apart: another tenant’s key neither sees nor changes these end users', async () => {
    const other = await createTenant(api, 'Other End Users Co');
    expect((await other.host.get('/v1/end-users/cust-42')).status).toBe(404);
    expect((await other.host.delete('/v1/end-users/cust-42')).status).toBe(404);
    // The same external id in another tenant is a different end user.
    const theirs = await other.host.put('/v1/end-users/cust-42', { displayName: 'Not Jane' });
    expect(theirs.status).toBe(201);
    const mine = await tenant.host.get('/v1/end-users/cust-42');
    expect(mine.body).toMatchObject({ displayName: 'Jane Smith' });
    expect(mine.body.id).not.toBe(theirs.body.id);
    expect((await other.host.get('/v1/end-users?limit=200')).body.data.map((u: { externalId: string }) => u.externalId)).toEqual(['cust-42']);
  });

  it('needs a secret key', async () => {
    expect((await new Http(api.url).put('/v1/end-users/anon', {})).status).toBe(401);
    expect((await tenant.owner.put('/v1/end-users/anon', {})).status).toBe(401);
    expect((await tenant.host.get('/v1/end-users/anon')).status).toBe(404);
  });
});

describe('end users: listing', () => {
  let api: TestApi;
  let tenant: TenantFixture;
  const externalIds = ['user-g', 'user-c', 'user-a', 'user-f', 'user-b', 'user-e', 'user-d'];

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api, 'Listing Co');
    for (const id of externalIds) {
      const res = await tenant.host.put(`/v1/end-users/${id}`, { displayName: id.toUpperCase() });
      if (res.status !== 201) throw new Error(`create ${id}: ${res.status}`);
    }
  });
  afterAll(() => api.close());

  it('lists by external id, paging with a cursor until there is none', async () => {
    const page1 = await tenant.host.get('/v1/end-users?limit=3');
    expect(page1.status).toBe(200);
    expect(page1.body.data.map((u: { externalId: string }) => u.externalId)).toEqual(['user-a', 'user-b', 'user-c']);
    expect(page1.body.data[0]).toMatchObject({ displayName: 'USER-A', email: null, metadata: {} });
    expect(page1.body.nextCursor).toBe('user-c');

    const page2 = await tenant.host.get(`/v1/end-users?limit=3&cursor=${encodeURIComponent(page1.body.nextCursor)}`);
    expect(page2.body.data.map((u: { externalId: string }) => u.externalId)).toEqual(['user-d', 'user-e', 'user-f']);
    expect(page2.body.nextCursor).toBe('user-f');

    const page3 = await tenant.host.get(`/v1/end-users?limit=3&cursor=${encodeURIComponent(page2.body.nextCursor)}`);
    expect(page3.body).toEqual({ data: [expect.objectContaining({ externalId: 'user-g' })], nextCursor: null });
  });

  it('answers everything in one page when it fits, with no cursor', async () => {
    const all = await tenant.host.get('/v1/end-users');
    expect(all.body.data.map((u: { externalId: string }) => u.externalId)).toEqual([...externalIds].sort());
    expect(all.body.nextCursor).toBeNull();
    const exact = await tenant.host.get('/v1/end-users?limit=7');
    expect(exact.body.data).toHaveLength(7);
    expect(exact.body.nextCursor).toBeNull();
  });

  it('refuses bad limits and unknown parameters with 400', async () => {
    for (const [query, path] of [
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=abc', 'limit'],
      ['sort=desc', 'sort'],
    ]) {
      const res = await tenant.host.get(`/v1/end-users?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(paths(res)).toContain(path);
    }
  });
});
