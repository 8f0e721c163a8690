import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, Http, startApi, TenantFixture, TestApi, uniqueEmail } from './harness';

/**
 * An invitation (or a signup) must never become a session for an account that already exists
 * without that account's password or its own portal session.
 */
describe('invitations and signups cannot take over an existing account', () => {
  let api: TestApi;
  let attacker: TenantFixture;
  let victim: TenantFixture;
  let victimUserId: string;

  beforeAll(async () => {
    api = await startApi({ INVITATION_TTL_SECONDS: '7200', LOGIN_MAX_FAILURES: '3' });
    attacker = await createTenant(api, 'Attacker Co');
    victim = await createTenant(api, 'Victim Co');
    victimUserId = (await victim.owner.get('/v1/auth/me')).body.userId;
  });
  afterAll(() => api.close());

  const invite = async (tenant: TenantFixture, email: string, role = 'admin') => {
    const res = await tenant.owner.post('/v1/admin/members', { email, role });
    expect(res.status).toBe(201);
    return res.body as { inviteToken: string; member: { id: string; userId: string } };
  };
  const statusOf = async (tenant: TenantFixture, membershipId: string) =>
    (await tenant.owner.get('/v1/admin/members')).body.data.find((m: { id: string }) => m.id === membershipId)?.status;
  const joinedEvents = async (tenant: TenantFixture, membershipId: string) =>
    (await tenant.owner.get(`/v1/admin/audit-events?action=member.joined&targetId=${membershipId}`)).body.data;

  it('refuses the token alone for an email that has an account: 401 invitation_requires_sign_in, no session, still pending', async () => {
    const { inviteToken, member } = await invite(attacker, victim.email);
    const browser = new Http(api.url, { origin: api.origin });
    const res = await browser.post('/v1/auth/accept-invite', { token: inviteToken });
    expect(res).toMatchObject({ status: 401, body: { error: { code: 'invitation_requires_sign_in', details: { email: victim.email } } } });
    expect(browser.cookie).toBeUndefined();
    expect(await statusOf(attacker, member.id)).toBe('invited');
    expect(await joinedEvents(attacker, member.id)).toEqual([]);
    await attacker.owner.delete(`/v1/admin/members/${member.id}`);
  });

  it('refuses a wrong password (401 invalid_credentials) and counts it towards the sign-in lockout', async () => {
    const target = await createTenant(api, 'Target Co');
    const targetEmail = target.email;
    const { inviteToken, member } = await invite(attacker, targetEmail);
    const browser = new Http(api.url, { origin: api.origin });
    for (let i = 0; i < 3; i++) {
      expect(await browser.post('/v1/auth/accept-invite', { token: inviteToken, password: `wrong-password-${i}` })).toMatchObject({
        status: 401,
        body: { error: { code: 'invalid_credentials' } },
      });
    }
    // LOGIN_MAX_FAILURES (3 here) reached: even the right password now waits, on accept and on sign-in.
    const locked = await browser.post('/v1/auth/accept-invite', { token: inviteToken, password: target.password });
    expect(locked).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    expect(locked.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await new Http(api.url).post('/v1/auth/login', { email: targetEmail, password: target.password })).status).toBe(429);
    expect(browser.cookie).toBeUndefined();
    expect(await statusOf(attacker, member.id)).toBe('invited');
  });

  it('lets the existing user accept with their password: signed in with both tenants, audited as them', async () => {
    const { inviteToken, member } = await invite(attacker, victim.email, 'viewer');
    const browser = new Http(api.url, { origin: api.origin });
    const res = await browser.post('/v1/auth/accept-invite', { token: inviteToken, password: victim.password });
    expect(res).toMatchObject({ status: 200, body: { userId: victimUserId, activeTenantId: attacker.tenantId } });
    expect(browser.cookie).toMatch(/^sb_session=msess_/);
    expect(res.body.memberships.map((m: { tenantId: string }) => m.tenantId).sort()).toEqual([attacker.tenantId, victim.tenantId].sort());
    expect(await joinedEvents(attacker, member.id)).toMatchObject([{ actorType: 'member', actorId: victimUserId, data: { email: victim.email, role: 'viewer', via: 'password' } }]);
    // Single use.
    expect((await browser.post('/v1/auth/accept-invite', { token: inviteToken, password: victim.password })).status).toBe(404);
    await attacker.owner.delete(`/v1/admin/members/${member.id}`);
  });

  it('lets the existing user accept with their own portal session, which then switches to the new tenant', async () => {
    const other = await createTenant(api, 'Other Co');
    const { inviteToken, member } = await invite(other, victim.email, 'developer');
    const cookieBefore = victim.owner.cookie;
    const res = await victim.owner.post('/v1/auth/accept-invite', { token: inviteToken });
    expect(res).toMatchObject({ status: 200, body: { userId: victimUserId, activeTenantId: other.tenantId } });
    expect(victim.owner.cookie).toBe(cookieBefore);
    expect((await victim.owner.get('/v1/admin/tenant')).body.id).toBe(other.tenantId);
    expect(await joinedEvents(other, member.id)).toMatchObject([{ actorType: 'member', actorId: victimUserId, data: { via: 'session' } }]);
    expect((await victim.owner.post('/v1/auth/switch-tenant', { tenantId: victim.tenantId })).status).toBe(200);
  });

  it("refuses a session of another account (403 invitation_email_mismatch), and a cross-site accept with the invitee's cookie (403 csrf)", async () => {
    const { inviteToken, member } = await invite(attacker, victim.email);
    const mismatch = await attacker.owner.post('/v1/auth/accept-invite', { token: inviteToken });
    expect(mismatch).toMatchObject({ status: 403, body: { error: { code: 'invitation_email_mismatch', details: { email: victim.email } } } });
    const crossSite = await victim.owner.post('/v1/auth/accept-invite', { token: inviteToken }, { origin: 'https://evil.example' });
    expect(crossSite).toMatchObject({ status: 403, body: { error: { code: 'csrf_rejected' } } });
    expect(await statusOf(attacker, member.id)).toBe('invited');
    // A new person's invitation cannot be taken by someone signed in as another account without a password either.
    const fresh = await invite(attacker, uniqueEmail('fresh'));
    expect((await victim.owner.post('/v1/auth/accept-invite', { token: fresh.inviteToken })).body.error.code).toBe('invitation_email_mismatch');
    await attacker.owner.delete(`/v1/admin/members/${member.id}`);
  });

  it('describes an invitation to its holder: tenant, email, role, whether the account exists and is signed in', async () => {
    const newEmail = uniqueEmail('newcomer');
    const forNew = await invite(attacker, newEmail, 'developer');
    const lookup = await new Http(api.url).post('/v1/auth/invitations/lookup', { token: forNew.inviteToken });
    expect(lookup).toMatchObject({
      status: 200,
      body: { email: newEmail, tenantName: 'Attacker Co', role: 'developer', accountExists: false, signedInAsInvitee: false },
    });
    // INVITATION_TTL_SECONDS (7200 here).
    const ttl = Date.parse(lookup.body.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(7100 * 1000);
    expect(ttl).toBeLessThanOrEqual(7200 * 1000);

    const forExisting = await invite(attacker, victim.email, 'viewer');
    expect((await victim.owner.post('/v1/auth/invitations/lookup', { token: forExisting.inviteToken })).body).toMatchObject({ accountExists: true, signedInAsInvitee: true });
    expect((await attacker.owner.post('/v1/auth/invitations/lookup', { token: forExisting.inviteToken })).body).toMatchObject({ accountExists: true, signedInAsInvitee: false });
    expect((await new Http(api.url).post('/v1/auth/invitations/lookup', { token: 'inv_' + 'B'.repeat(43) })).status).toBe(404);
    await attacker.owner.delete(`/v1/admin/members/${forExisting.member.id}`);
  });

  it('refuses an expired invitation (410) and keeps invited-only tenants out of sign-in and switch-tenant', async () => {
    const { inviteToken, member } = await invite(attacker, victim.email, 'viewer');
    expect((await victim.owner.post('/v1/auth/switch-tenant', { tenantId: attacker.tenantId })).status).toBe(404);
    const login = await new Http(api.url).post('/v1/auth/login', { email: victim.email, password: victim.password, tenantId: attacker.tenantId });
    expect(login.body.activeTenantId).toBe(victim.tenantId);
    await api.app.get(DataSource).query(`UPDATE memberships SET invite_expires_at = now() - interval '1 second' WHERE id = $1`, [member.id]);
    expect(await victim.owner.post('/v1/auth/accept-invite', { token: inviteToken })).toMatchObject({ status: 410, body: { error: { code: 'invite_expired' } } });
    await attacker.owner.delete(`/v1/admin/members/${member.id}`);
  });

  it('gives concurrent signups with one new email one account: the others get 409 and no session', async () => {
    const email = uniqueEmail('race');
    const browsers = [0, 1, 2, 3].map(() => new Http(api.url, { origin: api.origin }));
    const replies = await Promise.all(browsers.map((b, i) => b.post('/v1/signup', { tenantName: `Racer ${i}`, email, password: `racer-password-${i}` })));
    expect(replies.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
    const winner = replies.findIndex((r) => r.status === 201);
    browsers.forEach((b, i) => expect(Boolean(b.cookie)).toBe(i === winner));
    const me = await browsers[winner].get('/v1/auth/me');
    expect(me.body.memberships).toHaveLength(1);
  });
});
