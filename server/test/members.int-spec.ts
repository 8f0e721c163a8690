import { createHash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createTenant, Http, startApi, TenantFixture, TestApi, uniqueEmail } from './harness';

type Member = { id: string; userId: string; email: string; name: string | null; role: string; status: string; createdAt: string };

async function listMembers(browser: Http): Promise<Member[]> {
  const res = await browser.get<{ data: Member[] }>('/v1/admin/members');
  if (res.status !== 200) throw new Error(`list members failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data;
}

async function memberByEmail(browser: Http, email: string): Promise<Member | undefined> {
  return (await listMembers(browser)).find((m) => m.email === email);
}

const paths = (res: { body: any }) => (res.body.error.details.errors as Array<{ path: string }>).map((e) => e.path).sort();

describe('members: list, invite, accept', () => {
  let api: TestApi;
  let tenant: TenantFixture;
  let ownerUserId: string;

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api, 'Members Co');
    ownerUserId = (await tenant.owner.get('/v1/auth/me')).body.userId;
  });
  afterAll(() => api.close());

  it('lists active members and pending invitations, oldest first, to any member including viewers', async () => {
    const viewer = await addMember(api, tenant, 'viewer');
    const pendingEmail = uniqueEmail('pending');
    const invite = await tenant.owner.post('/v1/admin/members', { email: pendingEmail, role: 'developer' });
    expect(invite.status).toBe(201);

    const res = await viewer.browser.get('/v1/admin/members');
    expect(res.status).toBe(200);
    const data: Member[] = res.body.data;
    expect(data[0]).toMatchObject({ userId: ownerUserId, email: tenant.email, role: 'owner', status: 'active' });
    expect(data.find((m) => m.id === viewer.membershipId)).toEqual({
      id: viewer.membershipId,
      userId: viewer.userId,
      email: viewer.email,
      name: null,
      role: 'viewer',
      status: 'active',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(data.find((m) => m.id === invite.body.member.id)).toMatchObject({ email: pendingEmail, role: 'developer', status: 'invited' });
    const created = data.map((m) => Date.parse(m.createdAt));
    expect(created).toEqual([...created].sort((a, b) => a - b));
    expect(JSON.stringify(res.body)).not.toContain(invite.body.inviteToken);
    expect(JSON.stringify(res.body)).not.toMatch(/inv_/);
  });

  it('invites with a token shown once (stored only as a hash) and a portal link that carries it', async () => {
    const email = uniqueEmail('invitee');
    const res = await tenant.owner.post('/v1/admin/members', { email, role: 'admin' });
    expect(res.status).toBe(201);
    const { member, inviteToken, inviteUrl } = res.body;
    expect(member).toEqual({
      id: expect.any(String),
      userId: expect.any(String),
      email,
      name: null,
      role: 'admin',
      status: 'invited',
      createdAt: expect.any(String),
    });
    expect(inviteToken).toMatch(/^inv_[A-Za-z0-9_-]{43}$/);
    expect(inviteUrl).toBe(`${api.url}/portal/accept-invite#token=${inviteToken}`);

    const rows = await api.app.get(DataSource).query(`SELECT * FROM memberships WHERE id = $1`, [member.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].invite_token_hash).toBe(createHash('sha256').update(inviteToken).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(inviteToken);
    // INVITATION_TTL_SECONDS, 72 hours by default.
    expect(Date.parse(rows[0].invite_expires_at) - Date.now()).toBeGreaterThan(71.9 * 3600 * 1000);
    expect(Date.parse(rows[0].invite_expires_at) - Date.now()).toBeLessThanOrEqual(72 * 3600 * 1000);
  });

  it('lets only owners invite owners; admins invite up to admin; developers cannot invite', async () => {
    const admin = await addMember(api, tenant, 'admin');
    const ownerByAdmin = await admin.browser.post('/v1/admin/members', { email: uniqueEmail('would-be-owner'), role: 'owner' });
    expect(ownerByAdmin).toMatchObject({ status: 403, body: { error: { code: 'insufficient_role', details: { requiredRole: 'owner' } } } });
    expect((await admin.browser.post('/v1/admin/members', { email: uniqueEmail('fellow-admin'), role: 'admin' })).status).toBe(201);

    const developer = await addMember(api, tenant, 'developer');
    const byDeveloper = await developer.browser.post('/v1/admin/members', { email: uniqueEmail('x'), role: 'viewer' });
    expect(byDeveloper).toMatchObject({ status: 403, body: { error: { code: 'insufficient_role', details: { requiredRole: 'admin', role: 'developer' } } } });

    const ownerInvite = await tenant.owner.post('/v1/admin/members', { email: uniqueEmail('co-owner'), role: 'owner' });
    expect(ownerInvite.status).toBe(201);
    expect(ownerInvite.body.member.role).toBe('owner');
  });

  it('refuses to invite someone who is already a member or already invited (409)', async () => {
    const self = await tenant.owner.post('/v1/admin/members', { email: tenant.email, role: 'viewer' });
    expect(self).toMatchObject({ status: 409, body: { error: { code: 'conflict', details: { email: tenant.email } } } });

    const viewer = await addMember(api, tenant, 'viewer');
    expect((await tenant.owner.post('/v1/admin/members', { email: viewer.email.toUpperCase(), role: 'admin' })).body.error.code).toBe('conflict');

    const pending = uniqueEmail('pending');
    expect((await tenant.owner.post('/v1/admin/members', { email: pending, role: 'viewer' })).status).toBe(201);
    expect((await tenant.owner.post('/v1/admin/members', { email: pending, role: 'admin' })).status).toBe(409);
    // The existing membership is untouched.
    expect((await memberByEmail(tenant.owner, viewer.email))?.role).toBe('viewer');
    expect((await memberByEmail(tenant.owner, pending))?.role).toBe('viewer');
  });

  it('answers a repeated concurrent invitation with one 201 and 409s, not server errors', async () => {
    // A double-clicked "Invite" button. Three rounds, so a lucky interleaving cannot hide the race.
    for (let round = 0; round < 3; round++) {
      const email = uniqueEmail('double-click');
      const replies = await Promise.all([0, 1, 2].map(() => tenant.owner.post('/v1/admin/members', { email, role: 'viewer' })));
      expect({ round, answers: replies.map((r) => `${r.status} ${r.body.error?.code ?? ''}`.trim()).sort() }).toEqual({
        round,
        answers: ['201', '409 conflict', '409 conflict'],
      });
      expect((await listMembers(tenant.owner)).filter((m) => m.email === email)).toHaveLength(1);
    }
  });

  it('validates the invitation and names the offending field', async () => {
    const badEmail = await tenant.owner.post('/v1/admin/members', { email: 'not-an-email', role: 'viewer' });
    expect(badEmail).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    expect(paths(badEmail)).toEqual(['email']);

    const badRole = await tenant.owner.post('/v1/admin/members', { email: uniqueEmail(), role: 'superuser' });
    expect(badRole.status).toBe(400);
    expect(paths(badRole)).toEqual(['role']);

    const empty = await tenant.owner.post('/v1/admin/members', {});
    expect(empty.status).toBe(400);
    expect([...new Set(paths(empty))]).toEqual(['email', 'role']);

    const extra = await tenant.owner.post('/v1/admin/members', { email: uniqueEmail(), role: 'viewer', status: 'active' });
    expect(extra.status).toBe(400);
    expect(paths(extra)).toEqual(['status']);
  });

  it('accepts an invitation: a new user must set a password of at least 10 characters, and is signed in', async () => {
    const email = uniqueEmail('newbie');
    const invite = await tenant.owner.post('/v1/admin/members', { email, role: 'developer' });
    const token: string = invite.body.inviteToken;
    const browser = new Http(api.url, { origin: api.origin });

    const noPassword = await browser.post('/v1/auth/accept-invite', { token });
    expect(noPassword).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    expect(paths(noPassword)).toEqual(['password']);
    const shortPassword = await browser.post('/v1/auth/accept-invite', { token, password: '123456789' });
    expect(shortPassword.status).toBe(400);
    expect(paths(shortPassword)).toEqual(['password']);
    expect(browser.cookie).toBeUndefined();
    expect((await memberByEmail(tenant.owner, email))?.status).toBe('invited');

    const accepted = await browser.post('/v1/auth/accept-invite', { token, password: '0123456789', name: 'New Person' });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({
      userId: invite.body.member.userId,
      email,
      name: 'New Person',
      activeTenantId: tenant.tenantId,
      memberships: [{ tenantId: tenant.tenantId, tenantName: 'Members Co', role: 'developer' }],
      environments: [expect.objectContaining({ id: tenant.tenantId, name: 'development', primary: true }), expect.objectContaining({ name: 'production', protected: true })],
    });
    expect(browser.cookie).toMatch(/^sb_session=msess_/);
    expect((await browser.get('/v1/admin/tenant')).body.id).toBe(tenant.tenantId);
    expect(await memberByEmail(tenant.owner, email)).toMatchObject({ id: invite.body.member.id, status: 'active', role: 'developer', name: 'New Person' });

    const login = await new Http(api.url).post('/v1/auth/login', { email, password: '0123456789' });
    expect(login).toMatchObject({ status: 200, body: { activeTenantId: tenant.tenantId } });
  });

  it('makes an invitation single-use: the second use is 404', async () => {
    const invite = await tenant.owner.post('/v1/admin/members', { email: uniqueEmail('once'), role: 'viewer' });
    const token = invite.body.inviteToken;
    expect((await new Http(api.url).post('/v1/auth/accept-invite', { token, password: 'first-password' })).status).toBe(200);
    const again = await new Http(api.url).post('/v1/auth/accept-invite', { token, password: 'second-password' });
    expect(again).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(again.headers.getSetCookie().some((c) => c.startsWith('sb_session=msess_'))).toBe(false);
    // The first password stands.
    const email = invite.body.member.email;
    expect((await new Http(api.url).post('/v1/auth/login', { email, password: 'second-password' })).status).toBe(401);
    expect((await new Http(api.url).post('/v1/auth/login', { email, password: 'first-password' })).status).toBe(200);
  });

  it('stays single-use when the same invitation is accepted concurrently', async () => {
    const invite = await tenant.owner.post('/v1/admin/members', { email: uniqueEmail('racer'), role: 'viewer' });
    const token = invite.body.inviteToken;
    const replies = await Promise.all([0, 1, 2].map((i) => new Http(api.url, { origin: api.origin }).post('/v1/auth/accept-invite', { token, password: `racing-password-${i}` })));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 404, 404]);
    const joined = await tenant.owner.get(`/v1/admin/audit-events?action=member.joined&targetId=${invite.body.member.id}`);
    expect(joined.body.data).toHaveLength(1);
  });

  it('answers an unknown token with 404', async () => {
    const res = await new Http(api.url).post('/v1/auth/accept-invite', { token: 'inv_' + 'A'.repeat(43), password: 'whatever-long' });
    expect(res).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  it('refuses an expired invitation with 410 invite_expired and leaves it pending', async () => {
    const email = uniqueEmail('late');
    const invite = await tenant.owner.post('/v1/admin/members', { email, role: 'viewer' });
    await api.app.get(DataSource).query(`UPDATE memberships SET invite_expires_at = now() - interval '1 minute' WHERE id = $1`, [invite.body.member.id]);
    const browser = new Http(api.url, { origin: api.origin });
    const res = await browser.post('/v1/auth/accept-invite', { token: invite.body.inviteToken, password: 'long-enough-pw' });
    expect(res).toMatchObject({ status: 410, body: { error: { code: 'invite_expired' } } });
    expect(browser.cookie).toBeUndefined();
    expect((await memberByEmail(tenant.owner, email))?.status).toBe('invited');
    // No password was set by the failed attempt.
    expect((await new Http(api.url).post('/v1/auth/login', { email, password: 'long-enough-pw' })).status).toBe(401);
  });

  it('never lets the token alone accept for an existing user, nor change their password', async () => {
    const other = await createTenant(api, 'Elsewhere Co');
    const invite = await tenant.owner.post('/v1/admin/members', { email: other.email, role: 'viewer' });
    expect(invite.status).toBe(201);
    const refused = await new Http(api.url).post('/v1/auth/accept-invite', { token: invite.body.inviteToken, password: 'attacker-chosen-pw' });
    expect(refused).toMatchObject({ status: 401, body: { error: { code: 'invalid_credentials' } } });
    expect((await new Http(api.url).post('/v1/auth/login', { email: other.email, password: 'attacker-chosen-pw' })).status).toBe(401);
    const accepted = await new Http(api.url).post('/v1/auth/accept-invite', { token: invite.body.inviteToken, password: other.password });
    expect(accepted.status).toBe(200);
    expect(accepted.body.memberships.map((m: { tenantId: string }) => m.tenantId).sort()).toEqual([tenant.tenantId, other.tenantId].sort());
    expect((await new Http(api.url).post('/v1/auth/login', { email: other.email, password: other.password })).status).toBe(200);
  });
});

describe('members: changing roles', () => {
  let api: TestApi;
  let tenant: TenantFixture;
  let ownerMembershipId: string;
  let admin: Awaited<ReturnType<typeof addMember>>;
  let viewer: Awaited<ReturnType<typeof addMember>>;

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api, 'Roles Co');
    admin = await addMember(api, tenant, 'admin');
    viewer = await addMember(api, tenant, 'viewer');
    ownerMembershipId = (await memberByEmail(tenant.owner, tenant.email))!.id;
  });
  afterAll(() => api.close());

  it('changes a role, answers the member and takes effect on their session at once', async () => {
    expect((await viewer.browser.post('/v1/admin/api-keys', { name: 'not yet' })).status).toBe(403);
    const res = await tenant.owner.patch(`/v1/admin/members/${viewer.membershipId}`, { role: 'developer' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: viewer.membershipId, userId: viewer.userId, email: viewer.email, role: 'developer', status: 'active' });
    expect((await memberByEmail(tenant.owner, viewer.email))?.role).toBe('developer');
    expect((await viewer.browser.post('/v1/admin/api-keys', { name: 'now allowed' })).status).toBe(201);
    // Setting the same role again is a no-op answering the member.
    expect(await tenant.owner.patch(`/v1/admin/members/${viewer.membershipId}`, { role: 'developer' })).toMatchObject({ status: 200, body: { role: 'developer' } });
  });

  it('does not let an admin change an owner, nor make anyone owner', async () => {
    const demote = await admin.browser.patch(`/v1/admin/members/${ownerMembershipId}`, { role: 'viewer' });
    expect(demote).toMatchObject({ status: 403, body: { error: { code: 'insufficient_role' } } });
    const promote = await admin.browser.patch(`/v1/admin/members/${viewer.membershipId}`, { role: 'owner' });
    expect(promote).toMatchObject({ status: 403, body: { error: { code: 'insufficient_role' } } });
    const self = await admin.browser.patch(`/v1/admin/members/${admin.membershipId}`, { role: 'owner' });
    expect(self.status).toBe(403);
    expect((await memberByEmail(tenant.owner, tenant.email))?.role).toBe('owner');
    expect((await memberByEmail(tenant.owner, viewer.email))?.role).toBe('developer');
    expect((await memberByEmail(tenant.owner, admin.email))?.role).toBe('admin');
    // Within their rank admins may change roles.
    expect(await admin.browser.patch(`/v1/admin/members/${viewer.membershipId}`, { role: 'viewer' })).toMatchObject({ status: 200, body: { role: 'viewer' } });
  });

  it('does not let a developer or viewer change roles', async () => {
    const res = await viewer.browser.patch(`/v1/admin/members/${viewer.membershipId}`, { role: 'admin' });
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'insufficient_role', details: { requiredRole: 'admin', role: 'viewer' } } } });
  });

  it('validates the role and the id; another tenant’s member is 404', async () => {
    const badRole = await tenant.owner.patch(`/v1/admin/members/${viewer.membershipId}`, { role: 'god' });
    expect(badRole.status).toBe(400);
    expect(paths(badRole)).toEqual(['role']);
    const badId = await tenant.owner.patch('/v1/admin/members/not-a-uuid', { role: 'viewer' });
    expect(badId).toMatchObject({ status: 400, body: { error: { details: { errors: [{ path: 'id' }] } } } });
    expect((await tenant.owner.patch(`/v1/admin/members/${randomUUID()}`, { role: 'viewer' })).body.error.code).toBe('not_found');

    const stranger = await createTenant(api, 'Stranger Co');
    const strangerOwner = await memberByEmail(stranger.owner, stranger.email);
    expect((await tenant.owner.patch(`/v1/admin/members/${strangerOwner!.id}`, { role: 'viewer' })).status).toBe(404);
    expect((await memberByEmail(stranger.owner, stranger.email))?.role).toBe('owner');
  });

  it('will not demote the last owner (409 last_owner)', async () => {
    const res = await tenant.owner.patch(`/v1/admin/members/${ownerMembershipId}`, { role: 'admin' });
    expect(res).toMatchObject({ status: 409, body: { error: { code: 'last_owner' } } });
    expect((await memberByEmail(tenant.owner, tenant.email))?.role).toBe('owner');
  });

  it('with two owners, one can be demoted; then the other is the last owner', async () => {
    const second = await addMember(api, tenant, 'owner');
    const demoted = await second.browser.patch(`/v1/admin/members/${ownerMembershipId}`, { role: 'admin' });
    expect(demoted).toMatchObject({ status: 200, body: { id: ownerMembershipId, role: 'admin' } });
    // The demoted owner's session is an admin's now.
    const back = await tenant.owner.patch(`/v1/admin/members/${second.membershipId}`, { role: 'admin' });
    expect(back).toMatchObject({ status: 403, body: { error: { code: 'insufficient_role' } } });
    const last = await second.browser.patch(`/v1/admin/members/${second.membershipId}`, { role: 'admin' });
    expect(last).toMatchObject({ status: 409, body: { error: { code: 'last_owner' } } });
    const owners = (await listMembers(second.browser)).filter((m) => m.role === 'owner').map((m) => m.id);
    expect(owners).toEqual([second.membershipId]);
  });
});

describe('members: removal', () => {
  let api: TestApi;
  let tenant: TenantFixture;
  let ownerMembershipId: string;
  let admin: Awaited<ReturnType<typeof addMember>>;
  let developer: Awaited<ReturnType<typeof addMember>>;
  let viewer: Awaited<ReturnType<typeof addMember>>;

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api, 'Removal Co');
    [admin, developer, viewer] = await Promise.all([addMember(api, tenant, 'admin'), addMember(api, tenant, 'developer'), addMember(api, tenant, 'viewer')]);
    ownerMembershipId = (await memberByEmail(tenant.owner, tenant.email))!.id;
  });
  afterAll(() => api.close());

  it('does not let a viewer remove anyone else (403)', async () => {
    const res = await viewer.browser.delete(`/v1/admin/members/${developer.membershipId}`);
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'insufficient_role', details: { requiredRole: 'admin', role: 'viewer' } } } });
    expect(await memberByEmail(tenant.owner, developer.email)).toBeDefined();
  });

  it('does not let an admin remove an owner (403)', async () => {
    const res = await admin.browser.delete(`/v1/admin/members/${ownerMembershipId}`);
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'insufficient_role' } } });
    expect(await memberByEmail(tenant.owner, tenant.email)).toBeDefined();
  });

  it('removes a member; their open session loses the tenant at once (403 forbidden), sign-in stays possible', async () => {
    expect((await developer.browser.get('/v1/admin/api-keys')).status).toBe(200);
    expect((await tenant.owner.delete(`/v1/admin/members/${developer.membershipId}`)).status).toBe(204);
    expect(await memberByEmail(tenant.owner, developer.email)).toBeUndefined();

    // The cookie still names a live session, but it is no longer a member of any tenant: 403, not 401.
    expect(await developer.browser.get('/v1/admin/api-keys')).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(await developer.browser.post('/v1/admin/api-keys', { name: 'ghost' })).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect((await developer.browser.get('/v1/admin/members')).status).toBe(403);
    expect((await developer.browser.get('/v1/admin/tenant')).status).toBe(403);
    expect(await developer.browser.get('/v1/auth/me')).toMatchObject({ status: 200, body: { userId: developer.userId, activeTenantId: null, memberships: [] } });

    // Signing in again does not bring the tenant back.
    const again = new Http(api.url, { origin: api.origin });
    const login = await again.post('/v1/auth/login', { email: developer.email, password: developer.password });
    expect(login).toMatchObject({ status: 200, body: { activeTenantId: null, memberships: [] } });
    expect((await again.get('/v1/admin/tenant')).status).toBe(403);

    expect((await tenant.owner.delete(`/v1/admin/members/${developer.membershipId}`)).status).toBe(404);
  });

  it('lets anyone leave: a viewer removes themselves', async () => {
    expect((await viewer.browser.delete(`/v1/admin/members/${viewer.membershipId}`)).status).toBe(204);
    expect(await viewer.browser.get('/v1/admin/members')).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(await memberByEmail(tenant.owner, viewer.email)).toBeUndefined();
  });

  it('cancels a pending invitation, whose token then stops working', async () => {
    const invite = await tenant.owner.post('/v1/admin/members', { email: uniqueEmail('cancelled'), role: 'viewer' });
    expect((await admin.browser.delete(`/v1/admin/members/${invite.body.member.id}`)).status).toBe(204);
    const accept = await new Http(api.url).post('/v1/auth/accept-invite', { token: invite.body.inviteToken, password: 'long-enough-pw' });
    expect(accept).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  it('does not let the last owner leave (409 last_owner)', async () => {
    const res = await tenant.owner.delete(`/v1/admin/members/${ownerMembershipId}`);
    expect(res).toMatchObject({ status: 409, body: { error: { code: 'last_owner' } } });
    expect((await tenant.owner.get('/v1/admin/members')).status).toBe(200);
  });

  it('answers 404 for unknown ids and for another tenant’s members, 400 for malformed ones', async () => {
    expect((await tenant.owner.delete(`/v1/admin/members/${randomUUID()}`)).body.error.code).toBe('not_found');
    expect((await tenant.owner.delete('/v1/admin/members/nope')).body.error.details.errors[0].path).toBe('id');
    const stranger = await createTenant(api, 'Stranger Co');
    const strangerOwner = (await memberByEmail(stranger.owner, stranger.email))!;
    expect((await tenant.owner.delete(`/v1/admin/members/${strangerOwner.id}`)).status).toBe(404);
    expect(await memberByEmail(stranger.owner, stranger.email)).toBeDefined();
  });
});

describe('role guard matrix', () => {
  let api: TestApi;
  let tenant: TenantFixture;
  let developer: Awaited<ReturnType<typeof addMember>>;
  let viewer: Awaited<ReturnType<typeof addMember>>;

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api, 'Matrix Co');
    [developer, viewer] = await Promise.all([addMember(api, tenant, 'developer'), addMember(api, tenant, 'viewer')]);
  });
  afterAll(() => api.close());

  it('a viewer reads the tenant and members but cannot create keys, read keys or the audit log, or change settings', async () => {
    expect((await viewer.browser.get('/v1/admin/members')).status).toBe(200);
    expect(await viewer.browser.get('/v1/admin/tenant')).toMatchObject({ status: 200, body: { id: tenant.tenantId, name: 'Matrix Co' } });

    const createKey = await viewer.browser.post('/v1/admin/api-keys', { name: 'nope' });
    expect(createKey).toMatchObject({ status: 403, body: { error: { code: 'insufficient_role', details: { requiredRole: 'developer', role: 'viewer' } } } });
    const rename = await viewer.browser.patch('/v1/admin/tenant', { name: 'Hijacked' });
    expect(rename).toMatchObject({ status: 403, body: { error: { code: 'insufficient_role', details: { requiredRole: 'admin', role: 'viewer' } } } });
    expect((await tenant.owner.get('/v1/admin/tenant')).body.name).toBe('Matrix Co');
    expect((await viewer.browser.get('/v1/admin/api-keys')).body.error.code).toBe('insufficient_role');
    expect((await viewer.browser.get('/v1/admin/audit-events')).body.error.code).toBe('insufficient_role');
    expect((await tenant.owner.get('/v1/admin/api-keys')).body.data.map((k: { name: string }) => k.name)).not.toContain('nope');
  });

  it('a developer manages API keys and reads the audit log', async () => {
    const created = await developer.browser.post('/v1/admin/api-keys', { name: 'dev key' });
    expect(created.status).toBe(201);
    const host = new Http(api.url).withBearer(created.body.secret);
    expect((await host.get('/v1/end-users')).status).toBe(200);
    expect((await developer.browser.get('/v1/admin/api-keys')).body.data.map((k: { id: string }) => k.id)).toContain(created.body.apiKey.id);
    expect((await developer.browser.delete(`/v1/admin/api-keys/${created.body.apiKey.id}`)).status).toBe(204);
    expect((await host.get('/v1/end-users')).status).toBe(401);

    const audit = await developer.browser.get(`/v1/admin/audit-events?targetId=${created.body.apiKey.id}`);
    expect(audit.status).toBe(200);
    expect(audit.body.data.map((e: { action: string; actorId: string }) => [e.action, e.actorId])).toEqual([
      ['api_key.revoked', developer.userId],
      ['api_key.created', developer.userId],
    ]);
  });

  it('a developer cannot manage members or tenant settings', async () => {
    const invite = await developer.browser.post('/v1/admin/members', { email: uniqueEmail(), role: 'viewer' });
    expect(invite).toMatchObject({ status: 403, body: { error: { code: 'insufficient_role', details: { requiredRole: 'admin' } } } });
    const change = await developer.browser.patch(`/v1/admin/members/${viewer.membershipId}`, { role: 'developer' });
    expect(change).toMatchObject({ status: 403, body: { error: { code: 'insufficient_role' } } });
    const remove = await developer.browser.delete(`/v1/admin/members/${viewer.membershipId}`);
    expect(remove).toMatchObject({ status: 403, body: { error: { code: 'insufficient_role' } } });
    const settings = await developer.browser.patch('/v1/admin/tenant', { allowedOrigins: ['https://evil.example'] });
    expect(settings).toMatchObject({ status: 403, body: { error: { code: 'insufficient_role', details: { requiredRole: 'admin' } } } });

    const members = await listMembers(tenant.owner);
    expect(members.find((m) => m.id === viewer.membershipId)?.role).toBe('viewer');
    expect(members).toHaveLength(3);
    expect((await tenant.owner.get('/v1/admin/tenant')).body.allowedOrigins).toEqual([]);
  });
});
