import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import Provider from 'oidc-provider';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vault } from '../src/vault/vault';
import { bindingFor } from '../src/vault/vault-fields';
import { createTenant, freePort, startApi, TenantFixture, TestApi } from './harness';

/**
 * Switchboard against an OAuth server it has never been tuned for: panva's oidc-provider,
 * configured as a tenant's custom provider. It enforces PKCE (S256), rotates refresh tokens and
 * refuses a rotated one; the test logs in and consents through its interaction API.
 */

const HOST_ORIGIN = 'https://host.example';
const CLIENT = { clientId: 'switchboard-test', clientSecret: `secret-${randomBytes(8).toString('hex')}` };
const ACCOUNT = { id: 'olive-1', name: 'Olive Oidc' };
/** An end user's own OAuth app at the same provider (for connectors whose tenant lets end users bring one). */
const END_USER_APP = { clientId: 'olives-own-app', clientSecret: `own-${randomBytes(8).toString('hex')}` };

/** Cookies by name, as a browser would keep them for the provider's origin (paths ignored: one origin, one test). */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, at).trim(), pair!.slice(at + 1));
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

async function startOidcProvider(port: number, redirectUri: string): Promise<{ issuer: string; provider: Provider; close(): Promise<void> }> {
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        client_id: END_USER_APP.clientId,
        client_secret: END_USER_APP.clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    pkce: { required: () => true },
    rotateRefreshToken: () => true,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    features: { devInteractions: { enabled: false } },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub, name: ACCOUNT.name }) }),
    claims: { openid: ['sub'], profile: ['name'] },
    // Access tokens outlive the test; refreshes are forced by Switchboard's refresh margin.
    ttl: { AccessToken: 600, RefreshToken: 24 * 3600, Interaction: 600, Session: 3600, Grant: 24 * 3600, IdToken: 600, AuthorizationCode: 60 },
    jwks: { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'test', alg: 'RS256', use: 'sig' }] },
  });
  const oidc = provider.callback();
  // The "user" logs in as ACCOUNT and consents to whatever was asked: the interaction API, no HTML forms.
  const interact = async (req: IncomingMessage, res: ServerResponse) => {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      await provider.interactionFinished(req, res, { login: { accountId: ACCOUNT.id } }, { mergeWithLastSubmission: false });
      return;
    }
    const grant = new provider.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id as string });
    grant.addOIDCScope(String(details.params.scope));
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  };
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      interact(req, res).catch((error: Error) => {
        res.statusCode = 500;
        res.end(error.message);
      });
    } else oidc(req, res);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { issuer, provider, close: () => new Promise((r) => server.close(() => r())) };
}

describe('an independent OAuth server (oidc-provider) as a custom provider', () => {
  const masterKey = randomBytes(32).toString('base64');
  let oidc: Awaited<ReturnType<typeof startOidcProvider>>;
  let api: TestApi;
  let tenant: TenantFixture;
  let connectionId: string;
  let firstCallback: string;

  beforeAll(async () => {
    const oidcPort = await freePort();
    // Every use refreshes: the margin is longer than the access token lives.
    api = await startApi({ MASTER_KEY: masterKey, OUTBOUND_ALLOWLIST: `127.0.0.1:${oidcPort}`, TOKEN_REFRESH_MARGIN_SECONDS: '3600' });
    oidc = await startOidcProvider(oidcPort, `${api.url}/oauth/callback`);
    tenant = await createTenant(api, 'OIDC Co');
    expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] })).status).toBe(200);
    const definition = {
      name: 'Test OIDC',
      description: 'panva/oidc-provider on this machine',
      categories: ['developer-tools'],
      logo: { color: '#5b3cc4', text: 'ID' },
      docsUrl: 'https://github.com/panva/node-oidc-provider',
      auth: {
        type: 'oauth2',
        authorizationUrl: `${oidc.issuer}/auth`,
        tokenUrl: `${oidc.issuer}/token`,
        scopes: ['openid', 'profile', 'offline_access'],
        refreshable: true,
        authorizationParams: { prompt: 'consent' },
      },
      baseUrl: oidc.issuer,
      verify: { path: 'me', accountId: 'sub', accountName: 'name' },
    };
    for (const key of ['test-oidc', 'byo-oidc']) {
      const created = await tenant.owner.post('/v1/admin/custom-providers', { key, definition });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
    }
    expect((await tenant.owner.put('/v1/admin/connectors/test-oidc', { enabled: true, ...CLIENT })).status).toBe(200);
    // No app of the tenant's own: each end user brings one.
    expect((await tenant.owner.put('/v1/admin/connectors/byo-oidc', { enabled: true, settings: { endUserApp: true } })).status).toBe(200);
  });
  afterAll(async () => {
    await api?.close();
    await oidc?.close();
  });

  /** Follows the provider's redirects (keeping its cookies) until it sends the browser back to Switchboard. */
  async function authorize(url: string): Promise<string> {
    const jar = new CookieJar();
    let next = url;
    for (let hop = 0; hop < 10; hop++) {
      if (next.startsWith(`${api.url}/`)) return next;
      const res = await fetch(next, { redirect: 'manual', headers: { cookie: jar.header() } });
      jar.store(res);
      const location = res.headers.get('location');
      if (!location) throw new Error(`${next} answered ${res.status} without a redirect: ${(await res.text()).slice(0, 300)}`);
      next = new URL(location, next).toString();
    }
    throw new Error('too many redirects at the provider');
  }

  async function credentialsOf(id: string): Promise<{ accessToken: string; refreshToken?: string; app?: { clientId: string; clientSecret: string } }> {
    const [row] = await api.app.get(DataSource).query(`SELECT id, tenant_id AS "tenantId", credentials FROM connections WHERE id = $1`, [id]);
    return new Vault(Buffer.from(masterKey, 'base64')).decryptJson(row.credentials, bindingFor('connectionCredentials', row));
  }

  it('connects with PKCE S256, which the provider enforces', async () => {
    const session = await tenant.host.post('/v1/sessions', { endUserId: 'olive' });
    const start = await fetch(`${api.url}/connect/test-oidc?${new URLSearchParams({ session: session.body.token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const authorizeUrl = new URL(start.headers.get('location')!);
    expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(`${oidc.issuer}/auth`);
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizeUrl.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // Without the challenge the provider refuses the request outright.
    const withoutPkce = new URL(authorizeUrl);
    withoutPkce.searchParams.delete('code_challenge');
    withoutPkce.searchParams.delete('code_challenge_method');
    const refused = new URL(await authorize(withoutPkce.toString()));
    expect(refused.searchParams.get('error')).toBe('invalid_request');
    expect(refused.searchParams.get('error_description')).toMatch(/requires PKCE/);

    firstCallback = await authorize(authorizeUrl.toString());
    expect(new URL(firstCallback).searchParams.get('code')).toBeTruthy();
    const page = await fetch(firstCallback);
    const html = await page.text();
    expect(page.status, html.slice(0, 500)).toBe(200);
    const result = JSON.parse(/<script type="application\/json" id="switchboard-result">([^<]*)<\/script>/.exec(html)![1]!).message;
    expect(result).toMatchObject({ status: 'connected', connector: 'test-oidc' });
    connectionId = result.connectionId;
    const connection = await tenant.host.get(`/v1/connections/${connectionId}`);
    expect(connection.body).toMatchObject({ connector: 'test-oidc', accountId: ACCOUNT.id, accountName: ACCOUNT.name, status: 'active' });
    expect((await credentialsOf(connectionId)).refreshToken).toBeTruthy();
  });

  it('refuses the replayed callback: the state is single-use', async () => {
    const replay = await fetch(firstCallback);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('expired or was already used');
  });

  it('uses each rotated refresh token once, and marks the connection for reauth when the provider answers invalid_grant', async () => {
    const before = await credentialsOf(connectionId);
    // The margin makes this call refresh first: the provider rotates the refresh token.
    const me = await tenant.host.get(`/v1/proxy/${connectionId}/me`);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ sub: ACCOUNT.id });
    const after = await credentialsOf(connectionId);
    expect(after.refreshToken).toBeTruthy();
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.accessToken).not.toBe(before.accessToken);

    // The rotated-out token is refused; reusing it also makes the provider revoke the grant (reuse detection).
    const reuse = await fetch(`${oidc.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: before.refreshToken!, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret }),
    });
    expect(reuse.status).toBe(400);
    expect((await reuse.json()).error).toBe('invalid_grant');

    // Switchboard's next refresh gets invalid_grant: the connection needs its end user, and says so.
    const next = await tenant.host.get(`/v1/proxy/${connectionId}/me`);
    expect(next.status).toBe(409);
    expect(next.body.error.code).toBe('connection_needs_reauth');
    const connection = await tenant.host.get(`/v1/connections/${connectionId}`);
    expect(connection.body).toMatchObject({ status: 'needs_reauth', lastError: expect.stringContaining('invalid_grant') });
  });

  describe('an end user who brings their own OAuth app', () => {
    async function connectWithApp(endUserId: string, app: { clientId: string; clientSecret: string }) {
      const session = await tenant.host.post('/v1/sessions', { endUserId });
      const form = await fetch(`${api.url}/connect/byo-oidc?${new URLSearchParams({ session: session.body.token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
      expect(form.status).toBe(200);
      const html = await form.text();
      expect(html).toContain('name="clientId"');
      expect(html).toContain(`${api.url}/oauth/callback`);
      const submitted = await fetch(`${api.url}/connect/byo-oidc`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ session: session.body.token, origin: HOST_ORIGIN, ...app }).toString(),
      });
      // The form continues to the provider with a page (a redirect would break the popup's form-action 'self').
      expect(submitted.status).toBe(200);
      const authorizeUrl = new URL(JSON.parse(/<script type="application\/json" id="switchboard-continue">([^<]*)<\/script>/.exec(await submitted.text())![1]!).url);
      expect(authorizeUrl.searchParams.get('client_id')).toBe(app.clientId);
      const page = await fetch(await authorize(authorizeUrl.toString()));
      const body = await page.text();
      return { status: page.status, result: JSON.parse(/<script type="application\/json" id="switchboard-result">([^<]*)<\/script>/.exec(body)![1]!).message, html: body };
    }

    it('tells the end user plainly when the provider rejects their app', async () => {
      const { status, result, html } = await connectWithApp('bea', { clientId: END_USER_APP.clientId, clientSecret: 'not-the-secret' });
      expect(status).toBe(400);
      expect(result).toMatchObject({ status: 'error', error: { code: 'app_rejected', message: expect.stringContaining('rejected the OAuth app you entered (invalid_client)') } });
      expect(html).toContain('rejected the OAuth app you entered');
      expect(html).not.toContain('not-the-secret');
      expect((await tenant.host.get('/v1/end-users/bea/connections')).body.data).toEqual([]);
    });

    it('authorizes, exchanges and refreshes with that app; it is stored encrypted with the connection', async () => {
      const { result } = await connectWithApp('bea', END_USER_APP);
      expect(result).toMatchObject({ status: 'connected', connector: 'byo-oidc' });
      const stored = await credentialsOf(result.connectionId);
      expect(stored.app).toEqual(END_USER_APP);
      const [raw] = await api.app.get(DataSource).query(`SELECT credentials FROM connections WHERE id = $1`, [result.connectionId]);
      expect(raw.credentials).not.toContain(END_USER_APP.clientSecret);
      const [state] = await api.app.get(DataSource).query(`SELECT end_user_app FROM oauth_states WHERE tenant_id = $1 AND end_user_app IS NOT NULL LIMIT 1`, [tenant.tenantId]);
      expect(state.end_user_app).not.toContain(END_USER_APP.clientSecret);

      // The margin forces a refresh: the provider accepts it only from the app the tokens were issued to.
      const me = await tenant.host.get(`/v1/proxy/${result.connectionId}/me`);
      expect(me.status, JSON.stringify(me.body)).toBe(200);
      const after = await credentialsOf(result.connectionId);
      expect(after.refreshToken).not.toBe(stored.refreshToken);
      expect(after.app).toEqual(END_USER_APP);
    });
  });
});
