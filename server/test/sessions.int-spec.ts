import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, Http, startApi, TenantFixture, TestApi } from './harness';

describe('end-user sessions', () => {
  let api: TestApi;
  let tenant: TenantFixture;
  let other: TenantFixture;

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api, 'Sessions Co');
    other = await createTenant(api, 'Other Co');
  });
  afterAll(() => api.close());

  it('mints a session for an end user (created on first use), usable as a bearer token', async () => {
    const res = await tenant.host.post('/v1/sessions', { endUserId: 'cust-1', displayName: 'Customer One', allowedConnectors: ['slack', 'slack'] });
    expect(res.status).toBe(201);
    expect(res.body.token).toMatch(/^sess_development_[A-Za-z0-9_-]{43}$/);
    expect(res.body).toMatchObject({ allowedConnectors: ['slack'], endUser: { externalId: 'cust-1', displayName: 'Customer One' } });
    const lifetime = Date.parse(res.body.expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(29 * 60_000);
    expect(lifetime).toBeLessThanOrEqual(30 * 60_000);

    const me = await new Http(api.url).withBearer(res.body.token).get('/v1/me');
    expect(me).toMatchObject({ status: 200, body: { endUser: { externalId: 'cust-1' }, allowedConnectors: ['slack'] } });

    const stored = await api.app.get(DataSource).query(`SELECT token_hash FROM end_user_sessions WHERE end_user_id = $1`, [res.body.endUser.id]);
    expect(JSON.stringify(stored)).not.toContain(res.body.token);
  });

  it('refuses expired and unknown session tokens', async () => {
    const res = await tenant.host.post('/v1/sessions', { endUserId: 'cust-exp', ttlSeconds: 60 });
    await api.app.get(DataSource).query(`UPDATE end_user_sessions SET expires_at = now() - interval '1 second' WHERE end_user_id = $1`, [res.body.endUser.id]);
    expect(await new Http(api.url).withBearer(res.body.token).get('/v1/me')).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });
    expect((await new Http(api.url).withBearer('sess_' + 'x'.repeat(43)).get('/v1/me')).status).toBe(401);
    expect((await new Http(api.url).get('/v1/me')).status).toBe(401);
  });

  it('keeps session kinds apart: a secret key is not an end user, a session cannot mint sessions', async () => {
    expect((await tenant.host.get('/v1/me')).status).toBe(401);
    const { body } = await tenant.host.post('/v1/sessions', { endUserId: 'cust-2' });
    expect((await new Http(api.url).withBearer(body.token).post('/v1/sessions', { endUserId: 'cust-3' })).status).toBe(401);
  });

  it('validates the request', async () => {
    const res = await tenant.host.post('/v1/sessions', { endUserId: '', ttlSeconds: 10, allowedConnectors: ['Slack!'] });
    expect(res.status).toBe(400);
    expect(res.body.error.details.errors.map((e: { path: string }) => e.path).sort()).toEqual(['allowedConnectors', 'endUserId', 'ttlSeconds']);
  });

  it('audits each session minted', async () => {
    const { body } = await tenant.host.post('/v1/sessions', { endUserId: 'cust-audit' });
    const events = (await tenant.owner.get(`/v1/admin/audit-events?action=end_user_session.created&targetId=${body.endUser.id}`)).body.data;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorType: 'api_key', actorId: tenant.apiKeyId, data: { externalId: 'cust-audit' } });
    expect(JSON.stringify(events)).not.toContain(body.token);
  });

  describe('host-signed JWTs', () => {
    let es256: { kid: string; privateKey: CryptoKey };

    beforeAll(async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
      const registered = await tenant.owner.post('/v1/admin/signing-keys', { name: 'ES signer', algorithm: 'ES256', publicKey: await exportJWK(publicKey) });
      expect(registered.status).toBe(201);
      es256 = { kid: registered.body.id, privateKey };
    });

    const sign = (claims: Record<string, unknown>, opts: { kid?: string; key?: CryptoKey; alg?: string; aud?: string; exp?: string | number } = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: opts.alg ?? 'ES256', kid: opts.kid ?? es256.kid })
        .setAudience(opts.aud ?? api.url)
        .setIssuedAt()
        .setExpirationTime(opts.exp ?? '10m')
        .sign(opts.key ?? es256.privateKey);

    it('accepts a JWT signed with a registered ES256 key, creating the end user on first sight', async () => {
      const jwt = await sign({ sub: 'jwt-user-1', name: 'JWT User', allowed_connectors: ['github'] });
      const me = await new Http(api.url).withBearer(jwt).get('/v1/me');
      expect(me).toMatchObject({ status: 200, body: { endUser: { externalId: 'jwt-user-1', displayName: 'JWT User' }, allowedConnectors: ['github'] } });
      expect((await tenant.host.get('/v1/end-users/jwt-user-1')).status).toBe(200);
      // Using it again does not rewrite the end user.
      const before = (await tenant.host.get('/v1/end-users/jwt-user-1')).body.updatedAt;
      await new Http(api.url).withBearer(jwt).get('/v1/me');
      expect((await tenant.host.get('/v1/end-users/jwt-user-1')).body.updatedAt).toBe(before);
    });

    it('accepts RS256 keys registered as PEM', async () => {
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const registered = await tenant.owner.post('/v1/admin/signing-keys', {
        name: 'RS signer',
        algorithm: 'RS256',
        publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }),
      });
      expect(registered.status).toBe(201);
      const { importPKCS8 } = await import('jose');
      const key = await importPKCS8(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'RS256');
      const jwt = await sign({ sub: 'jwt-rsa' }, { kid: registered.body.id, key, alg: 'RS256' });
      expect((await new Http(api.url).withBearer(jwt).get('/v1/me')).body.endUser.externalId).toBe('jwt-rsa');
    });

    it('refuses wrong audience, expired, too long-lived, unsigned-kid and forged JWTs', async () => {
      const http = (jwt: string) => new Http(api.url).withBearer(jwt).get('/v1/me');
      expect((await http(await sign({ sub: 'x' }, { aud: 'https://elsewhere.example' }))).status).toBe(401);
      expect((await http(await sign({ sub: 'x' }, { exp: Math.floor(Date.now() / 1000) - 120 }))).status).toBe(401);
      expect((await http(await sign({ sub: 'x' }, { exp: '48h' }))).body.error.message).toMatch(/too far ahead/);
      const { privateKey: stranger } = await generateKeyPair('ES256');
      expect((await http(await sign({ sub: 'x' }, { key: stranger }))).status).toBe(401);
      expect((await http(await sign({ sub: 'x' }, { kid: '00000000-0000-4000-8000-000000000000' }))).status).toBe(401);
      const noSub = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: es256.kid }).setAudience(api.url).setExpirationTime('5m').sign(es256.privateKey);
      expect((await http(noSub)).status).toBe(401);
    });

    it("binds a JWT to the signing key's tenant: another tenant cannot use or revoke it", async () => {
      const jwt = await sign({ sub: 'cross-tenant' });
      await new Http(api.url).withBearer(jwt).get('/v1/me');
      expect((await other.host.get('/v1/end-users/cross-tenant')).status).toBe(404);
      expect((await other.owner.delete(`/v1/admin/signing-keys/${es256.kid}`)).status).toBe(404);
      expect((await other.owner.get('/v1/admin/signing-keys')).body.data).toEqual([]);
    });

    it('refuses private keys and mismatched key types', async () => {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const priv = await tenant.owner.post('/v1/admin/signing-keys', { name: 'oops', algorithm: 'ES256', publicKey: await exportJWK(privateKey) });
      expect(priv).toMatchObject({ status: 400, body: { error: { details: { errors: [{ path: 'publicKey' }] } } } });
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const mismatch = await tenant.owner.post('/v1/admin/signing-keys', { name: 'x', algorithm: 'ES256', publicKey: rsa.publicKey.export({ type: 'spki', format: 'pem' }) });
      expect(mismatch.body.error.message).toMatch(/P-256/);
      expect((await tenant.owner.post('/v1/admin/signing-keys', { name: 'x', algorithm: 'ES256', publicKey: 'garbage' })).status).toBe(400);
    });

    it('stops accepting JWTs once their key is revoked', async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
      const { body: key } = await tenant.owner.post('/v1/admin/signing-keys', { name: 'temp', algorithm: 'ES256', publicKey: await exportJWK(publicKey) });
      const jwt = await sign({ sub: 'revoked-user' }, { kid: key.id, key: privateKey });
      expect((await new Http(api.url).withBearer(jwt).get('/v1/me')).status).toBe(200);
      expect((await tenant.owner.delete(`/v1/admin/signing-keys/${key.id}`)).status).toBe(204);
      expect((await new Http(api.url).withBearer(jwt).get('/v1/me')).status).toBe(401);
    });
  });
});
