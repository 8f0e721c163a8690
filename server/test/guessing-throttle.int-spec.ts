import { consentInSandbox, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, stop, waitFor } from './child-processes';
import { createTenant, freePort, Http, Reply, startApi, startWorker, TenantFixture, testEnv, TestApi, uniqueEmail, until } from './harness';

const LIMIT = 5;
const METRICS_TOKEN = 'metrics-token-0123456789';
const HOST_ORIGIN = 'https://host.example';
const inbound = { key: 'inbound', name: 'Inbound', trigger: { type: 'webhook' }, connectors: [], inputs: {}, steps: [{ id: 'x', type: 'transform', output: 1 }] };

let ipCounter = 0;
/** A client address of its own, as a proxy in front of the API reports it (TRUST_PROXY=true). */
const newIp = () => ({ 'x-forwarded-for': `203.0.113.${++ipCounter}` });
const random = (prefix: string) => prefix + randomBytes(32).toString('base64url');

/**
 * Guessing credentials is throttled per client IP and kind: past AUTH_FAILURES_PER_IP wrong ones,
 * that IP gets 429 too_many_failed_attempts with Retry-After, before the credential is looked up.
 * Other IPs, and the right credential from them, are unaffected.
 */
describe('failed-credential throttle', () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;

  beforeAll(async () => {
    sandbox = await startSandbox();
    api = await startApi({ TRUST_PROXY: 'true', AUTH_FAILURES_PER_IP: String(LIMIT), METRICS_TOKEN, SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Throttle Co');
  });
  afterAll(async () => {
    await worker.close();
    await api.close();
    await sandbox.close();
  });

  /** LIMIT wrong attempts answer `wrongStatus`; the next is 429 with Retry-After; another IP's burst is not throttled. */
  async function expectThrottled(wrong: (headers: Record<string, string>) => Promise<{ status: number; headers: Headers; text?: string }>, wrongStatus: number, kind: string) {
    const attacker = newIp();
    for (let i = 0; i < LIMIT; i++) expect((await wrong(attacker)).status).toBe(wrongStatus);
    const refused = await wrong(attacker);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    if (refused.text !== undefined && refused.headers.get('content-type')?.includes('json')) {
      expect(JSON.parse(refused.text)).toMatchObject({ error: { code: 'too_many_failed_attempts', details: { kind } } });
    }
    const bystander = newIp();
    for (let i = 0; i < LIMIT; i++) expect((await wrong(bystander)).status).toBe(wrongStatus);
    return attacker;
  }

  const asFetch = async (reply: Promise<Reply>) => {
    const r = await reply;
    return { status: r.status, headers: r.headers, text: JSON.stringify(r.body) };
  };

  it('secret keys: a burst of wrong sk_ keys gets 429 (even for the right key then); other IPs and the right key elsewhere work', async () => {
    const attacker = await expectThrottled((h) => asFetch(new Http(api.url).withBearer(random('sk_')).get('/v1/end-users', h)), 401, 'api_key');
    expect((await tenant.host.get('/v1/end-users', attacker)).status).toBe(429);
    expect((await tenant.host.get('/v1/end-users', newIp())).status).toBe(200);
    // Operators see who crossed the limit, once per window.
    const warnings = api.logs.filter((l) => l.msg === 'client IP reached the failed-credential limit' && l.kind === 'api_key');
    expect(warnings.filter((l) => l.ip === attacker['x-forwarded-for'])).toHaveLength(1);
  });

  it('a block reached through one API process holds in the others, and a revoked key stops working in every process at once', async () => {
    // Another API process of the same deployment (same database, Redis prefix and master key).
    const port = await freePort();
    const other = {
      url: `http://127.0.0.1:${port}`,
      proc: run(
        'main.js',
        testEnv(port, { TRUST_PROXY: 'true', AUTH_FAILURES_PER_IP: String(LIMIT), REDIS_PREFIX: api.config.redis.prefix, MASTER_KEY: api.config.masterKey.toString('base64') }),
      ),
    };
    await waitFor(async () => ((await fetch(`${other.url}/readyz`)).ok ? true : undefined), 30_000, 'the second API process');
    const redis = new Redis(api.config.redis.url);
    try {
      // Both processes listen for announcements (the other one from its start): counted by Redis itself.
      const listeners = async (channel: string) => ((await redis.pubsub('NUMSUB', `${api.config.redis.prefix}:${channel}`)) as [string, number])[1];
      await until('both processes to listen', async () => (await listeners('api-keys:revoked')) >= 2 && (await listeners('auth-fail:blocked')) >= 2, 10_000);
      const created = await tenant.owner.post('/v1/admin/api-keys', { name: 'soon revoked' });
      expect(created.status).toBe(201);
      const fresh = new Http(other.url).withBearer(created.body.secret as string);
      expect((await fresh.get('/v1/end-users', newIp())).status).toBe(200);
      expect((await tenant.owner.delete(`/v1/admin/api-keys/${created.body.apiKey.id as string}`)).status).toBe(204);
      await until('the revocation to reach the other process', async () => (await fresh.get('/v1/end-users', newIp())).status === 401, 5000);

      const attacker = newIp();
      const host = (url: string) => new Http(url).withBearer(tenant.host.options.bearer!);
      // The other process has served the right key (and remembers it) before the guessing starts here.
      expect((await host(other.url).get('/v1/end-users', attacker)).status).toBe(200);
      for (let i = 0; i < LIMIT; i++) expect((await new Http(api.url).withBearer(random('sk_')).get('/v1/end-users', attacker)).status).toBe(401);
      await until('the block to reach the other process', async () => (await host(other.url).get('/v1/end-users', attacker)).status === 429, 5000);
    } finally {
      redis.disconnect();
      await stop(other.proc);
    }
  });

  it('only failures count: many successes from one IP do not throttle it', async () => {
    const ip = newIp();
    for (let i = 0; i < LIMIT * 3; i++) expect((await tenant.host.get('/v1/end-users', ip)).status).toBe(200);
    expect((await new Http(api.url).withBearer(random('sk_')).get('/v1/end-users', ip)).status).toBe(401);
  });

  it('end-user tokens: wrong sess_ tokens and JWTs get 429; the right session from another IP works', async () => {
    const session = (await tenant.host.post('/v1/sessions', { endUserId: 'alice' })).body.token as string;
    const attacker = await expectThrottled((h) => asFetch(new Http(api.url).withBearer(random('sess_')).get('/v1/me', h)), 401, 'end_user_token');
    expect((await new Http(api.url).withBearer(session).get('/v1/me', attacker)).status).toBe(429);
    expect((await new Http(api.url).withBearer(session).get('/v1/me', newIp())).status).toBe(200);
    // Forged JWTs count the same.
    const jwt = `eyJhbGciOiJFUzI1NiIsImtpZCI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDAwMCJ9.${Buffer.from('{"sub":"x"}').toString('base64url')}.c2ln`;
    await expectThrottled((h) => asFetch(new Http(api.url).withBearer(jwt).get('/v1/me', h)), 401, 'end_user_token');
    // The connect popup takes the same token in its URL: throttled the same way, as a page.
    await expectThrottled((h) => fetch(`${api.url}/connect/slack?session=${random('sess_')}`, { headers: h }), 401, 'end_user_token');
  });

  it('end-user tokens: a host sending expired or ill-claimed JWTs it really signed is not throttled as a guesser', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const kid = (await tenant.owner.post('/v1/admin/signing-keys', { name: 'stale', algorithm: 'ES256', publicKey: await exportJWK(pair.publicKey) })).body.id as string;
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid }).sign(pair.privateKey);
    const expired = await sign({ sub: 'stale-user', aud: api.url, iat: now - 7200, exp: now - 3600 });
    const listAudience = await sign({ sub: 'stale-user', aud: [api.url], iat: now, exp: now + 600 });
    const host = newIp();
    for (let i = 0; i < LIMIT * 2; i++) {
      expect((await new Http(api.url).withBearer(i % 2 ? expired : listAudience).get('/v1/me', host)).body.error.code).toMatch(/^jwt_(expired|claim_invalid)$/);
    }
    const fresh = await sign({ sub: 'stale-user', aud: api.url, iat: now, exp: now + 600 });
    expect((await new Http(api.url).withBearer(fresh).get('/v1/me', host)).status).toBe(200);
  });

  it('portal session cookies: forged cookies get 429; a real session from another IP works', async () => {
    const forged = (h: Record<string, string>) => {
      const browser = new Http(api.url);
      browser.cookie = `sb_session=${random('msess_')}`;
      return asFetch(browser.get('/v1/auth/me', h));
    };
    const attacker = await expectThrottled(forged, 401, 'member_session');
    expect((await tenant.owner.get('/v1/auth/me', attacker)).status).toBe(429);
    expect((await tenant.owner.get('/v1/auth/me', newIp())).status).toBe(200);
  });

  it('webhook URLs: unknown tokens get 429; the real URL from another IP starts a run', async () => {
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition: inbound })).status).toBe(201);
    expect((await tenant.owner.post('/v1/admin/flow-templates/inbound/publish')).status).toBe(201);
    const session = (await tenant.host.post('/v1/sessions', { endUserId: 'hooker' })).body.token as string;
    const url: string = (await new Http(api.url).withBearer(session).post('/v1/me/flows/inbound/enable', { settings: {} })).body.instance.webhookUrl;
    const post = (target: string, h: Record<string, string>) => fetch(target, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', ...h } });
    const attacker = await expectThrottled(
      async (h) => {
        const res = await post(`${api.url}/v1/hooks/${random('whk_')}`, h);
        return { status: res.status, headers: res.headers, text: await res.text() };
      },
      404,
      'webhook_url',
    );
    expect((await post(url, attacker)).status).toBe(429);
    expect((await post(url, newIp())).status).toBe(202);
  });

  it('invitation tokens: unknown tokens get 429 (accept and lookup); the real invitation from another IP is accepted', async () => {
    const invite = await tenant.owner.post('/v1/admin/members', { email: uniqueEmail('invitee'), role: 'viewer' });
    const attacker = await expectThrottled(
      (h) => asFetch(new Http(api.url).post('/v1/auth/accept-invite', { token: random('inv_'), password: 'long-enough-pw' }, h)),
      404,
      'invitation',
    );
    expect((await new Http(api.url).post('/v1/auth/invitations/lookup', { token: invite.body.inviteToken }, attacker)).status).toBe(429);
    const accepted = await new Http(api.url).post('/v1/auth/accept-invite', { token: invite.body.inviteToken, password: 'long-enough-pw' }, newIp());
    expect(accepted.status).toBe(200);
  });

  it('metrics token: wrong tokens get 429, a missing one is not counted; the right token from another IP scrapes', async () => {
    const scrape = (token: string | null, h: Record<string, string>) => fetch(`${api.url}/metrics`, { headers: { ...h, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    const quiet = newIp();
    for (let i = 0; i <= LIMIT; i++) expect((await scrape(null, quiet)).status).toBe(401);
    const attacker = await expectThrottled(
      async (h) => {
        const res = await scrape(random('m'), h);
        return { status: res.status, headers: res.headers, text: await res.text() };
      },
      401,
      'metrics_token',
    );
    expect((await scrape(METRICS_TOKEN, attacker)).status).toBe(429);
    expect((await scrape(METRICS_TOKEN, newIp())).status).toBe(200);
  });

  it('OAuth states: forged callbacks get 429; a real sign-in from another IP connects', async () => {
    expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] })).status).toBe(200);
    expect((await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    const attacker = await expectThrottled((h) => fetch(`${api.url}/oauth/callback?code=abc&state=${random('')}`, { headers: h }), 400, 'oauth_state');
    const session = (await tenant.host.post('/v1/sessions', { endUserId: 'oauth-user' })).body.token as string;
    const start = await fetch(`${api.url}/connect/slack?${new URLSearchParams({ session, origin: HOST_ORIGIN })}`, { redirect: 'manual', headers: newIp() });
    expect(start.status).toBe(302);
    const callback = await consentInSandbox(start.headers.get('location')!);
    expect((await fetch(callback, { headers: attacker })).status).toBe(429);
    expect((await fetch(callback, { headers: newIp() })).status).toBe(200);
  });
});

/** With Redis gone, authentication keeps working and each process keeps counting on its own. */
describe('failed-credential throttle without Redis', () => {
  it('answers 401 for wrong keys and 200 for the right one, and still throttles in memory', async () => {
    const { spawn } = await import('node:child_process');
    const { freePort } = await import('./harness');
    const port = await freePort();
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    try {
      await waitForPort(port);
      const api = await startApi({ REDIS_URL: `redis://127.0.0.1:${port}`, TRUST_PROXY: 'true', AUTH_FAILURES_PER_IP: String(LIMIT) });
      try {
        const tenant = await createTenant(api, 'No Redis Co');
        redis.kill('SIGKILL');
        await new Promise((r) => redis.once('exit', r));
        const ip = newIp();
        const started = Date.now();
        expect((await tenant.host.get('/v1/end-users', ip)).status).toBe(200);
        for (let i = 0; i < LIMIT; i++) expect((await new Http(api.url).withBearer(random('sk_')).get('/v1/end-users', ip)).status).toBe(401);
        expect((await new Http(api.url).withBearer(random('sk_')).get('/v1/end-users', ip)).status).toBe(429);
        expect((await tenant.host.get('/v1/end-users', newIp())).status).toBe(200);
        expect(Date.now() - started).toBeLessThan(5000);
      } finally {
        await api.close().catch(() => undefined);
      }
    } finally {
      if (redis.exitCode === null) redis.kill('SIGKILL');
    }
  });
});

async function waitForPort(port: number): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis on ${port} did not start`);
}
