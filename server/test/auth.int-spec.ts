import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, Http, startApi, TenantFixture, TestApi, uniqueEmail } from './harness';

describe('portal sign-in', () => {
  let api: TestApi;
  let tenant: TenantFixture;

  beforeAll(async () => {
    api = await startApi({ LOGIN_MAX_FAILURES: '3', LOGIN_LOCKOUT_SECONDS: '60' });
    tenant = await createTenant(api, 'Sign-in Co');
  });
  afterAll(() => api.close());

  it('signs in with email and password and sets an httpOnly, SameSite=Strict cookie', async () => {
    const browser = new Http(api.url, { origin: api.origin });
    const res = await browser.post('/v1/auth/login', { email: tenant.email.toUpperCase(), password: tenant.password });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ email: tenant.email, activeTenantId: tenant.tenantId, memberships: [{ tenantId: tenant.tenantId, role: 'owner' }] });
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('sb_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/sb_session=msess_/);
    expect((await browser.get('/v1/auth/me')).body.email).toBe(tenant.email);
  });

  it('stores only a hash of the session token', async () => {
    const token = tenant.owner.cookie!.split('=')[1];
    const db = api.app.get(await import('typeorm').then((m) => m.DataSource));
    const rows = await db.query(`SELECT token_hash FROM member_sessions WHERE token_hash = $1 OR token_hash = encode(sha256($1::bytea), 'hex')`, [token]);
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).not.toBe(token);
  });

  it('answers a wrong password and an unknown email the same way', async () => {
    const browser = new Http(api.url);
    const wrong = await browser.post('/v1/auth/login', { email: uniqueEmail('nobody'), password: 'whatever-123' });
    expect(wrong).toMatchObject({ status: 401, body: { error: { code: 'invalid_credentials', message: 'The email or password is wrong' } } });
    expect(browser.cookie).toBeUndefined();
  });

  it('validates the login body before anything else', async () => {
    const res = await new Http(api.url).post('/v1/auth/login', { email: 12, password: ['x'] });
    expect(res.status).toBe(400);
    expect(res.body.error.details.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['email', 'password']));
  });

  it('locks an email out with 429 and Retry-After after repeated failures, even for the right password', async () => {
    const browser = new Http(api.url, { origin: api.origin });
    const victim = await createTenant(api, 'Victim Co');
    for (let i = 0; i < 3; i++) {
      expect((await browser.post('/v1/auth/login', { email: victim.email, password: `guess-${i}-xxxx` })).status).toBe(401);
    }
    const locked = await browser.post('/v1/auth/login', { email: victim.email, password: victim.password });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('rate_limited');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another account is not affected.
    expect((await browser.post('/v1/auth/login', { email: tenant.email, password: tenant.password })).status).toBe(200);
  });

  it('signs out: the cookie is cleared and the session no longer works', async () => {
    const browser = new Http(api.url, { origin: api.origin });
    await browser.post('/v1/auth/login', { email: tenant.email, password: tenant.password });
    const stolen = browser.cookie;
    expect((await browser.post('/v1/auth/logout')).status).toBe(204);
    expect(browser.cookie).toBeUndefined();
    const replay = new Http(api.url);
    replay.cookie = stolen;
    expect(await replay.get('/v1/auth/me')).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });
  });

  it('refuses state changes from another origin (CSRF) but serves same-origin ones', async () => {
    const browser = new Http(api.url);
    await browser.post('/v1/auth/login', { email: tenant.email, password: tenant.password });
    const forged = await browser.post('/v1/admin/api-keys', { name: 'evil' }, { origin: 'https://evil.example' });
    expect(forged).toMatchObject({ status: 403, body: { error: { code: 'csrf_rejected' } } });
    const crossSite = await browser.post('/v1/admin/api-keys', { name: 'evil' }, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    expect((await browser.post('/v1/admin/api-keys', { name: 'fine' }, { origin: api.origin, 'sec-fetch-site': 'same-origin' })).status).toBe(201);
    // Reads are not state changes.
    expect((await browser.get('/v1/admin/api-keys', { origin: 'https://evil.example' })).status).toBe(200);
  });

  it('asks for a session on member routes', async () => {
    expect(await new Http(api.url).get('/v1/admin/tenant')).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });
    const bogus = new Http(api.url);
    bogus.cookie = 'sb_session=msess_forged';
    expect((await bogus.get('/v1/admin/tenant')).status).toBe(401);
  });

  it('switches between tenants the user belongs to, and only those', async () => {
    const other = await createTenant(api, 'Second Co');
    const invite = await other.owner.post('/v1/admin/members', { email: tenant.email, role: 'viewer' });
    expect(invite.status).toBe(201);
    // An existing user accepts with their own password (or signed in as themselves).
    const accepted = await new Http(api.url).post('/v1/auth/accept-invite', { token: invite.body.inviteToken, password: tenant.password });
    expect(accepted.status).toBe(200);

    const browser = new Http(api.url, { origin: api.origin });
    const me = await browser.post('/v1/auth/login', { email: tenant.email, password: tenant.password, tenantId: other.tenantId });
    expect(me.body.activeTenantId).toBe(other.tenantId);
    expect(me.body.memberships.map((m: { tenantId: string }) => m.tenantId).sort()).toEqual([tenant.tenantId, other.tenantId].sort());
    expect((await browser.get('/v1/admin/tenant')).body.id).toBe(other.tenantId);
    expect((await browser.post('/v1/admin/api-keys', { name: 'nope' })).status).toBe(403);

    expect((await browser.post('/v1/auth/switch-tenant', { tenantId: tenant.tenantId })).status).toBe(200);
    expect((await browser.get('/v1/admin/tenant')).body.id).toBe(tenant.tenantId);

    const stranger = await createTenant(api, 'Stranger Co');
    expect(await browser.post('/v1/auth/switch-tenant', { tenantId: stranger.tenantId })).toMatchObject({ status: 404 });
    expect((await browser.get('/v1/admin/tenant')).body.id).toBe(tenant.tenantId);
  });
});

describe('signup', () => {
  it('is off unless ALLOW_SIGNUP=true', async () => {
    const api = await startApi({ ALLOW_SIGNUP: 'false' });
    try {
      const res = await new Http(api.url).post('/v1/signup', { tenantName: 'X', email: uniqueEmail(), password: 'long-enough-pw' });
      expect(res).toMatchObject({ status: 403, body: { error: { code: 'signup_disabled' } } });
    } finally {
      await api.close();
    }
  });

  it('audits the new tenant and its owner with the signup request id', async () => {
    const api = await startApi();
    try {
      const browser = new Http(api.url, { origin: api.origin });
      const res = await browser.post('/v1/signup', { tenantName: 'Audited', email: uniqueEmail(), password: 'long-enough-pw' }, { 'x-request-id': 'signup-req-1' });
      expect(res.status).toBe(201);
      const events = (await browser.get('/v1/admin/audit-events')).body.data;
      const byAction = Object.fromEntries(events.map((e: { action: string }) => [e.action, e]));
      expect(byAction['tenant.created']).toMatchObject({ requestId: 'signup-req-1', targetId: res.body.id, data: { name: 'Audited' } });
      expect(byAction['member.joined']).toMatchObject({ requestId: 'signup-req-1', data: { role: 'owner' } });
    } finally {
      await api.close();
    }
  });

  it('refuses an email that already has an account, and short passwords', async () => {
    const api = await startApi();
    try {
      const tenant = await createTenant(api);
      const taken = await new Http(api.url).post('/v1/signup', { tenantName: 'Hijack', email: tenant.email, password: 'long-enough-pw' });
      expect(taken).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
      const short = await new Http(api.url).post('/v1/signup', { tenantName: 'X', email: uniqueEmail(), password: 'short' });
      expect(short.status).toBe(400);
      expect(short.body.error.details.errors[0].path).toBe('password');
    } finally {
      await api.close();
    }
  });

  it('signs up companies of the same name at the same time, each with its own slug', async () => {
    const api = await startApi();
    try {
      const signups = await Promise.all(
        Array.from({ length: 8 }, () => new Http(api.url).post('/v1/signup', { tenantName: 'Same Name Ltd', email: uniqueEmail(), password: 'long-enough-pw' })),
      );
      expect(signups.map((r) => r.status)).toEqual(Array(8).fill(201));
      const slugs = signups.map((r) => r.body.slug as string);
      expect(new Set(slugs).size).toBe(8);
      for (const slug of slugs) expect(slug).toMatch(/^same-name-ltd(-[0-9a-f]{6})?$/);
    } finally {
      await api.close();
    }
  });

  it('limits signups per IP', async () => {
    const api = await startApi({ SIGNUP_MAX_PER_HOUR: '2' });
    try {
      const http = new Http(api.url);
      for (let i = 0; i < 2; i++) {
        expect((await http.post('/v1/signup', { tenantName: `T${i}`, email: uniqueEmail(), password: 'long-enough-pw' })).status).toBe(201);
      }
      const third = await http.post('/v1/signup', { tenantName: 'T3', email: uniqueEmail(), password: 'long-enough-pw' });
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toBeTruthy();
    } finally {
      await api.close();
    }
  });
});
