import fc from 'fast-check';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, Http, startApi, TenantFixture, TestApi } from './harness';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/**
 * Host-signed JWTs with hostile headers and claims: every refusal is a 401 with a specific code
 * (and the claim or header it is about), never a 5xx.
 */
describe('host-signed JWTs with malformed claims', () => {
  let api: TestApi;
  let tenant: TenantFixture;
  let kid: string;
  let privateKey: CryptoKey;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    // Thousands of refusals from one address here: the guessing throttle is not what is tested.
    api = await startApi({ AUTH_FAILURES_PER_IP: '1000000' });
    tenant = await createTenant(api, 'JWT Co');
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    const registered = await tenant.owner.post('/v1/admin/signing-keys', { name: 'signer', algorithm: 'ES256', publicKey: await exportJWK(pair.publicKey) });
    expect(registered.status).toBe(201);
    kid = registered.body.id;
  });
  afterAll(() => api.close());

  /** Signs exactly this payload (any JSON, valid or not as claims) with the registered key. */
  const sign = (payload: unknown, header: Record<string, unknown> = {}) =>
    new CompactSign(new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload)))
      .setProtectedHeader({ alg: 'ES256', kid, ...header } as { alg: string })
      .sign(privateKey);
  const valid = (extra: Record<string, unknown> = {}) => ({ sub: 'jwt-user', aud: api.url, iat: now(), exp: now() + 600, ...extra });
  const me = (jwt: string) => new Http(api.url).withBearer(jwt).get('/v1/me');
  const expectRefused = async (jwt: string, code: string, where?: Record<string, string>) => {
    const res = await me(jwt);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe(code);
    if (where) expect(res.body.error.details).toMatchObject(where);
  };

  it('accepts a well-formed token, and iat up to 60 s ahead (clock skew)', async () => {
    expect((await me(await sign(valid()))).status).toBe(200);
    expect((await me(await sign(valid({ iat: now() + 30 })))).status).toBe(200);
  });

  it('refuses iat more than 60 s in the future, naming the claim', async () => {
    await expectRefused(await sign(valid({ iat: now() + 120 })), 'jwt_claim_invalid', { claim: 'iat' });
  });

  it('refuses a sub that is an object, a number, empty or over 255 characters', async () => {
    for (const sub of [{ id: 'x' }, 42, '', 'x'.repeat(256), null, ['a'], true]) {
      await expectRefused(await sign(valid({ sub })), 'jwt_claim_invalid', { claim: 'sub' });
    }
  });

  it('refuses exp, iat and nbf that are not numbers, and nbf in the future', async () => {
    for (const claim of ['exp', 'iat', 'nbf']) {
      for (const value of ['soon', { t: 1 }, [1], true]) await expectRefused(await sign(valid({ [claim]: value })), 'jwt_claim_invalid', { claim });
    }
    await expectRefused(await sign(valid({ nbf: now() + 600 })), 'jwt_claim_invalid', { claim: 'nbf' });
    await expectRefused(await sign(valid({ exp: now() - 600 })), 'jwt_expired', { claim: 'exp' });
    await expectRefused(await sign(valid({ exp: now() + 48 * 3600 })), 'jwt_claim_invalid', { claim: 'exp' });
    await expectRefused(await sign({ sub: 'x', aud: api.url }), 'jwt_claim_invalid', { claim: 'exp' });
  });

  it('refuses aud lists (even ones naming this deployment) and other audiences', async () => {
    await expectRefused(await sign(valid({ aud: [api.url] })), 'jwt_claim_invalid', { claim: 'aud' });
    await expectRefused(await sign(valid({ aud: [api.url, 'https://other.example'] })), 'jwt_claim_invalid', { claim: 'aud' });
    await expectRefused(await sign(valid({ aud: 'https://other.example' })), 'jwt_claim_invalid', { claim: 'aud' });
    await expectRefused(await sign(valid({ aud: { url: api.url } })), 'jwt_claim_invalid', { claim: 'aud' });
  });

  it('refuses unknown or malformed kid, wrong alg, alg none, bad signatures, huge and non-JSON tokens', async () => {
    await expectRefused(await sign(valid(), { kid: '00000000-0000-4000-8000-000000000000' }), 'jwt_signing_key_unknown', { header: 'kid' });
    for (const bad of [42, { a: 1 }, '', 'not-a-uuid', '-'.repeat(36), 'g'.repeat(36)]) {
      const jwt = `${b64({ alg: 'ES256', kid: bad })}.${b64(valid())}.c2ln`;
      await expectRefused(jwt, 'jwt_malformed', { header: 'kid' });
    }
    await expectRefused(`${b64({ alg: 'none', kid })}.${b64(valid())}.`, 'jwt_signature_invalid', { header: 'alg' });
    await expectRefused(`${b64({ alg: 'HS256', kid })}.${b64(valid())}.c2ln`, 'jwt_signature_invalid', { header: 'alg' });
    await expectRefused(`${b64({ alg: 'RS256', kid })}.${b64(valid())}.c2ln`, 'jwt_signature_invalid', { header: 'alg' });
    const good = await sign(valid());
    await expectRefused(good.slice(0, -4) + (good.endsWith('AAAA') ? 'BBBB' : 'AAAA'), 'jwt_signature_invalid');
    await expectRefused(await sign('not json'), 'jwt_malformed');
    await expectRefused(await sign('[1,2,3]'), 'jwt_malformed');
    await expectRefused(await sign(valid({ padding: 'x'.repeat(9000) })), 'jwt_malformed');
    await expectRefused('garbage', 'jwt_malformed');
    // Past Node's header limit the HTTP server itself refuses, still not a 5xx.
    expect((await me(await sign(valid({ padding: 'x'.repeat(20_000) })))).status).toBe(431);
    await expectRefused(await sign(valid({ allowed_connectors: 'slack' })), 'jwt_claim_invalid', { claim: 'allowed_connectors' });
  });

  it('never answers a 5xx, whatever JSON the claims hold (property)', async () => {
    const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.integer(), fc.double({ noNaN: true }), fc.string({ maxLength: 300 }));
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            sub: anyJson,
            exp: fc.oneof(anyJson, fc.constant(now() + 600)),
            iat: anyJson,
            nbf: anyJson,
            aud: fc.oneof(anyJson, fc.constant(api.url)),
            allowed_connectors: anyJson,
            name: anyJson,
            email: anyJson,
          },
          { requiredKeys: [] },
        ),
        async (claims) => {
          const res = await me(await sign(claims));
          expect([200, 401]).toContain(res.status);
          if (res.status === 401) expect(res.body.error.code).toMatch(/^jwt_/);
        },
      ),
      { numRuns: 150 },
    );
  });
});
