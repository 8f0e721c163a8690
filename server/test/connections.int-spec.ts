import { consentInSandbox, SANDBOX_CREDENTIALS, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, connectInSandbox, connectionChanged, createTenant, Http, startApi, TenantFixture, TestApi } from './harness';

const HOST_ORIGIN = 'https://host.example';

/** What the connect result page would post to window.opener, and to which origin. */
function resultOf(html: string): {
  message: { type: string; status: string; connector: string; connectionId?: string; error?: { code: string; message: string } };
  targetOrigin: string | null;
} {
  const json = /<script type="application\/json" id="switchboard-result">([^<]*)<\/script>/.exec(html)?.[1];
  if (!json)
    throw new Error(
      `no result block in: ${html
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .slice(0, 400)}`,
    );
  return JSON.parse(json);
}

describe('connections', () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let tenant: TenantFixture;
  let other: TenantFixture;

  async function session(t: TenantFixture, endUserId: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await t.host.post('/v1/sessions', { endUserId, ...extra });
    expect(res.status).toBe(201);
    return res.body.token;
  }

  /** The popup, driven over HTTP: connect page → provider consent → callback → result page. */
  async function connectOAuth(token: string, key = 'slack', opts: { decision?: 'allow' | 'deny'; connectionId?: string } = {}) {
    const q = new URLSearchParams({ session: token, origin: HOST_ORIGIN, ...(opts.connectionId ? { connectionId: opts.connectionId } : {}) });
    const start = await fetch(`${api.url}/connect/${key}?${q}`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    expect(start.headers.get('referrer-policy')).toBe('no-referrer');
    const callback = await consentInSandbox(start.headers.get('location')!, { decision: opts.decision });
    const page = await fetch(callback);
    const html = await page.text();
    return { status: page.status, html, result: resultOf(html), authorizeUrl: new URL(start.headers.get('location')!), callback };
  }

  beforeAll(async () => {
    sandbox = await startSandbox();
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    tenant = await createTenant(api, 'Connect Co');
    other = await createTenant(api, 'Other Co');
    for (const t of [tenant, other]) {
      expect((await t.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] })).status).toBe(200);
      expect((await t.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
      expect((await t.owner.put('/v1/admin/connectors/stripe', { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    }
  });
  afterAll(async () => {
    await api.close();
    await sandbox.close();
  });

  describe('OAuth connect', () => {
    it('connects through the consent page with PKCE and posts the result to the allowed origin only', async () => {
      const token = await session(tenant, 'alice');
      const { status, result, authorizeUrl, html } = await connectOAuth(token);
      expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(`${sandbox.url}/slack/oauth/v2/authorize`);
      expect(authorizeUrl.searchParams.get('redirect_uri')).toBe(`${api.url}/oauth/callback`);
      expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorizeUrl.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{30,}$/);
      expect(status).toBe(200);
      expect(result).toMatchObject({ targetOrigin: HOST_ORIGIN, message: { type: 'switchboard:connect', status: 'connected', connector: 'slack' } });
      expect(html).not.toMatch(/<script>(?!\s*$)/); // no inline script: the CSP forbids it

      const listed = await tenant.host.get('/v1/end-users/alice/connections');
      expect(listed.body.data).toEqual([
        expect.objectContaining({
          id: result.message.connectionId,
          connector: 'slack',
          status: 'active',
          accountName: expect.stringContaining('Acme Sandbox'),
          endUserId: 'alice',
        }),
      ]);
      const [row] = await api.app.get(DataSource).query(`SELECT credentials FROM connections WHERE id = $1`, [result.message.connectionId]);
      expect(row.credentials).toMatch(/^v1\./);
      expect(row.credentials).not.toMatch(/xox/);
      const events = (await tenant.owner.get(`/v1/admin/audit-events?targetId=${result.message.connectionId}`)).body.data;
      expect(events[0]).toMatchObject({ action: 'connection.created', actorType: 'end_user' });
    });

    it('refuses a replayed callback and a forged state', async () => {
      const { callback } = await connectOAuth(await session(tenant, 'replayer'));
      const replay = await fetch(callback);
      expect(replay.status).toBe(400);
      expect(await replay.text()).toContain('expired or was already used');
      const forged = await fetch(`${api.url}/oauth/callback?code=abc&state=forged-state-value`);
      expect(forged.status).toBe(400);
      expect((await fetch(`${api.url}/oauth/callback?code=abc`)).status).toBe(400);
    });

    it('reports a denied consent to the opener in plain words and stores nothing', async () => {
      const { status, result } = await connectOAuth(await session(tenant, 'denier'), 'slack', { decision: 'deny' });
      expect(status).toBe(400);
      expect(result.message).toMatchObject({ status: 'error', error: { code: 'consent_denied', message: expect.stringContaining('did not allow') } });
      expect((await tenant.host.get('/v1/end-users/denier/connections')).body.data).toEqual([]);
    });

    it('refuses an opener origin the tenant did not allow, an expired session and a connector outside the session', async () => {
      const token = await session(tenant, 'bob');
      const evil = await fetch(`${api.url}/connect/slack?${new URLSearchParams({ session: token, origin: 'https://evil.example' })}`, { redirect: 'manual' });
      expect(evil.status).toBe(403);
      const evilResult = resultOf(await evil.text());
      expect(evilResult.targetOrigin).toBeNull();
      expect(evilResult.message.error!.code).toBe('origin_not_allowed');

      expect((await fetch(`${api.url}/connect/slack?session=sess_${'x'.repeat(43)}`, { redirect: 'manual' })).status).toBe(401);
      const limited = await session(tenant, 'carol', { allowedConnectors: ['stripe'] });
      const refused = await fetch(`${api.url}/connect/slack?${new URLSearchParams({ session: limited, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
      expect(refused.status).toBe(403);
      expect(resultOf(await refused.text()).message.error!.code).toBe('connector_not_allowed');
      const disabled = await fetch(`${api.url}/connect/github?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
      expect(resultOf(await disabled.text()).message.error!.code).toBe('connector_not_enabled');
    });

    it('reports an expired authorization and a rejected client secret in plain words', async () => {
      const token = await session(tenant, 'olivia');
      const start = await fetch(`${api.url}/connect/slack?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
      const callback = await consentInSandbox(start.headers.get('location')!);
      await api.app
        .get(DataSource)
        .query(`UPDATE oauth_states SET expires_at = now() - interval '1 second' WHERE end_user_id = (SELECT id FROM end_users WHERE external_id = 'olivia' AND tenant_id = $1)`, [
          tenant.tenantId,
        ]);
      const late = await fetch(callback);
      expect(late.status).toBe(400);
      expect(await late.text()).toContain('expired or was already used');

      await other.owner.put('/v1/admin/connectors/slack', { clientId: SANDBOX_CREDENTIALS.client.clientId, clientSecret: 'not-the-secret' });
      try {
        const { result } = await connectOAuth(await session(other, 'peggy'));
        expect(result.message).toMatchObject({ status: 'error', error: { code: 'connector_misconfigured', message: expect.stringContaining("rejected this app's OAuth client") } });
      } finally {
        await other.owner.put('/v1/admin/connectors/slack', { clientId: null, clientSecret: null });
      }
    });

    it('never writes credentials to the logs', async () => {
      const { result } = await connectOAuth(await session(tenant, 'quinn'));
      const access = await tenant.host.post(`/v1/connections/${result.message.connectionId}/access-token`);
      const logs = JSON.stringify(api.logs);
      expect(logs).not.toContain(access.body.accessToken);
      expect(logs).not.toMatch(/sess_[A-Za-z0-9_-]{43}/);
      expect(logs).not.toMatch(/[?&]code=/);
    });

    it('reconnect replaces the credentials of the same connection', async () => {
      const token = await session(tenant, 'dave');
      const first = await connectOAuth(token);
      const id = first.result.message.connectionId!;
      const [before] = await api.app.get(DataSource).query(`SELECT credentials FROM connections WHERE id = $1`, [id]);
      const again = await connectOAuth(token, 'slack', { connectionId: id });
      expect(again.result.message.connectionId).toBe(id);
      const [after] = await api.app.get(DataSource).query(`SELECT credentials FROM connections WHERE id = $1`, [id]);
      expect(after.credentials).not.toBe(before.credentials);
      expect((await tenant.host.get('/v1/end-users/dave/connections')).body.data).toHaveLength(1);
    });
  });

  describe('API-key connect', () => {
    it('shows a form on the Switchboard origin and saves only a key the provider accepts', async () => {
      const token = await session(tenant, 'erin');
      const page = await fetch(`${api.url}/connect/stripe?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await page.text();
      expect(html).toContain('name="apiKey"');
      expect(html).toContain(`value="${token}"`);

      const post = (apiKey: string) =>
        fetch(`${api.url}/connect/stripe`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ session: token, origin: HOST_ORIGIN, apiKey }).toString(),
        });
      const wrong = await post('sk_test_wrong');
      const wrongHtml = await wrong.text();
      expect(wrongHtml).toContain('role="alert"');
      expect(wrongHtml).toContain('did not accept these credentials');
      expect((await tenant.host.get('/v1/end-users/erin/connections')).body.data).toEqual([]);

      const right = await post(SANDBOX_CREDENTIALS.stripe.apiKey);
      const result = resultOf(await right.text());
      expect(result.message).toMatchObject({ status: 'connected', connector: 'stripe' });
      const [row] = await api.app.get(DataSource).query(`SELECT credentials FROM connections WHERE id = $1`, [result.message.connectionId]);
      expect(row.credentials).not.toContain(SANDBOX_CREDENTIALS.stripe.apiKey);
    });
  });

  describe('generic HTTP connector', () => {
    it('connects with the auth kind the tenant chose (basic), checks it against the API, and proxies with it', async () => {
      expect((await tenant.owner.put('/v1/admin/connectors/http', { enabled: true, settings: { authType: 'digest' } })).status).toBe(400);
      expect((await tenant.owner.put('/v1/admin/connectors/http', { enabled: true, settings: { authType: 'basic' } })).status).toBe(200);
      const token = await session(tenant, 'rita');
      const page = await (await fetch(`${api.url}/connect/http?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`)).text();
      expect(page).toContain('name="username"');
      expect(page).not.toContain('name="apiKey"');
      const post = (password: string) =>
        fetch(`${api.url}/connect/http`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            session: token,
            origin: HOST_ORIGIN,
            'config.base_url': sandbox.connectorUrl('http'),
            'config.health_path': '/me',
            username: SANDBOX_CREDENTIALS.http.basic.username,
            password,
          }).toString(),
        });
      expect(await (await post('wrong-password')).text()).toContain('did not accept these credentials');
      const result = resultOf(await (await post(SANDBOX_CREDENTIALS.http.basic.password)).text());
      expect(result.message.status).toBe('connected');
      const echoed = await tenant.host.get(`/v1/proxy/${result.message.connectionId}/echo/hello?x=1`);
      expect(echoed.status).toBe(200);
      expect(echoed.body).toMatchObject({ method: 'GET', path: '/echo/hello', query: { x: '1' } });
      expect(sandbox.calls({ connector: 'http', path: '/echo/hello' }).at(-1)!.headers.authorization).toMatch(/^Basic /);
      await tenant.owner.put('/v1/admin/connectors/http', { settings: { authType: 'api_key' } });
    });
  });

  describe('proxy', () => {
    let connectionId: string;
    let token: string;

    beforeAll(async () => {
      token = await session(tenant, 'frank');
      connectionId = (await connectOAuth(token)).result.message.connectionId!;
    });

    it('forwards to the provider with the credentials injected and streams the answer back', async () => {
      const channel = (await tenant.host.get(`/v1/proxy/${connectionId}/conversations.list?limit=2`)).body.channels[0];
      expect(channel).toMatchObject({ id: expect.any(String), name: expect.any(String) });
      const posted = await tenant.host.post(`/v1/proxy/${connectionId}/chat.postMessage`, { channel: channel.id, text: 'Deal won: Acme' });
      expect(posted.status).toBe(200);
      expect(posted.body).toMatchObject({ ok: true, channel: channel.id });
      expect(sandbox.state.slack.messages.at(-1)).toMatchObject({ channel: channel.id, text: 'Deal won: Acme' });
      const call = sandbox.calls({ connector: 'slack', path: '/api/chat.postMessage' }).at(-1)!;
      expect(call.headers.authorization).toMatch(/^Bearer /);
      expect(call.headers.cookie).toBeUndefined();
      expect(call.headers['x-forwarded-for']).toBeUndefined();
    });

    it('retries a 429, honouring Retry-After', async () => {
      sandbox.inject({ connector: 'slack', path: '/api/auth.test', status: 429, retryAfter: 1, times: 1 } as never);
      const started = Date.now();
      const res = await tenant.host.get(`/v1/proxy/${connectionId}/auth.test`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-switchboard-attempts')).toBe('2');
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    });

    it('does not repeat a POST after a 5xx when the provider ignores its Idempotency-Key (Slack)', async () => {
      sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', status: 503, times: 1 } as never);
      const res = await tenant.host.post(`/v1/proxy/${connectionId}/chat.postMessage`, { channel: '#general', text: 'proxied once' }, { 'idempotency-key': 'proxy-once' });
      expect(res.status).toBe(503);
      expect(res.headers.get('x-switchboard-attempts')).toBe('1');
      expect(sandbox.calls({ connector: 'slack', path: '/api/chat.postMessage' }).filter((c) => (c.body as { text?: string })?.text === 'proxied once')).toHaveLength(1);
    });

    it("answers 404 for another tenant's connection and for another end user's", async () => {
      expect((await other.host.get(`/v1/proxy/${connectionId}/auth.test`)).status).toBe(404);
      await tenant.owner.put('/v1/admin/connectors/slack', { settings: { endUserProxy: true } });
      const mine = new Http(api.url).withBearer(token);
      expect((await mine.get(`/v1/proxy/${connectionId}/auth.test`)).status).toBe(200);
      const stranger = new Http(api.url).withBearer(await session(tenant, 'mallory'));
      expect((await stranger.get(`/v1/proxy/${connectionId}/auth.test`)).status).toBe(404);
      await tenant.owner.put('/v1/admin/connectors/slack', { settings: { endUserProxy: false } });
      expect((await mine.get(`/v1/proxy/${connectionId}/auth.test`)).status).toBe(403);
    });

    it('refreshes an expired token before calling, once', async () => {
      sandbox.oauth.expireAccessTokens('slack');
      await api.app.get(DataSource).query(`UPDATE connections SET expires_at = now() - interval '1 minute' WHERE id = $1`, [connectionId]);
      await connectionChanged(api, connectionId);
      const before = sandbox.oauth.refreshCount('slack');
      const replies = await Promise.all(Array.from({ length: 20 }, () => tenant.host.get(`/v1/proxy/${connectionId}/auth.test`)));
      expect(replies.every((r) => r.status === 200 && r.body.ok === true)).toBe(true);
      expect(sandbox.oauth.refreshCount('slack') - before).toBe(1);
      expect((await tenant.host.get(`/v1/connections/${connectionId}`)).body.lastRefreshedAt).not.toBeNull();
    });

    it('marks the connection needs_reauth when the provider refuses the refresh token', async () => {
      const id = (await connectOAuth(await session(tenant, 'grace'))).result.message.connectionId!;
      sandbox.oauth.revokeAll('slack');
      await api.app.get(DataSource).query(`UPDATE connections SET expires_at = now() - interval '1 minute' WHERE id = $1`, [id]);
      await connectionChanged(api, id);
      const res = await tenant.host.get(`/v1/proxy/${id}/auth.test`);
      expect(res).toMatchObject({ status: 409, body: { error: { code: 'connection_needs_reauth' } } });
      expect((await tenant.host.get(`/v1/connections/${id}`)).body).toMatchObject({ status: 'needs_reauth', lastError: expect.stringContaining('refused') });
      const events = (await tenant.owner.get(`/v1/admin/audit-events?action=connection.needs_reauth&targetId=${id}`)).body.data;
      expect(events).toHaveLength(1);
    });

    it('caps request bodies', async () => {
      const res = await tenant.host.post(`/v1/proxy/${connectionId}/chat.postMessage`, 'x'.repeat(10 * 1024 * 1024 + 10), { 'content-type': 'text/plain' });
      expect(res.status).toBe(413);
    });
  });

  describe('connections API', () => {
    it('gives the host an audited fresh access token, and lets end users list and delete only their own', async () => {
      const token = await session(tenant, 'heidi');
      const id = (await connectOAuth(token)).result.message.connectionId!;
      const access = await tenant.host.post(`/v1/connections/${id}/access-token`);
      expect(access.status).toBe(200);
      expect(access.body.accessToken).toEqual(expect.any(String));
      expect((await tenant.owner.get(`/v1/admin/audit-events?action=connection.token_read&targetId=${id}`)).body.data).toHaveLength(1);
      expect((await other.host.post(`/v1/connections/${id}/access-token`)).status).toBe(404);

      const me = new Http(api.url).withBearer(token);
      expect((await me.get('/v1/me/connections')).body.data.map((c: { id: string }) => c.id)).toEqual([id]);
      const stranger = new Http(api.url).withBearer(await session(tenant, 'ivan'));
      expect((await stranger.delete(`/v1/me/connections/${id}`)).status).toBe(404);
      expect((await me.delete(`/v1/me/connections/${id}`)).status).toBe(204);
      expect((await tenant.host.get(`/v1/connections/${id}`)).status).toBe(404);
    });

    it('serves dynamic options from the connected account with search', async () => {
      const token = await session(tenant, 'judy');
      await connectOAuth(token);
      const me = new Http(api.url).withBearer(token);
      const all = await me.get('/v1/me/connectors/slack/options/channels');
      expect(all.status).toBe(200);
      expect(all.body.options.length).toBeGreaterThan(1);
      expect(all.body.options[0]).toMatchObject({ value: expect.any(String), label: expect.any(String) });
      const first = all.body.options[0].label.replace(/^#/, '').slice(0, 3);
      const searched = await me.get(`/v1/me/connectors/slack/options/channels?search=${encodeURIComponent(first)}`);
      expect(searched.body.options.every((o: { label: string }) => o.label.toLowerCase().includes(first.toLowerCase()))).toBe(true);
      expect((await me.get('/v1/me/connectors/slack/options/nope')).status).toBe(404);
      const nobody = new Http(api.url).withBearer(await session(tenant, 'no-connections'));
      const unconnected = await nobody.get('/v1/me/connectors/slack/options/channels');
      expect(unconnected.status).toBe(409);
      expect(unconnected.body.error).toMatchObject({ code: 'connection_missing', message: 'Connect slack first: you have no active slack connection' });
    });
  });

  describe('admin list across end users', () => {
    it("lists a tenant's connections by connector, status and search, newest first in pages, and nothing of another tenant's", async () => {
      // A tenant of its own, so the other tests' connections do not count here.
      const picker = await createTenant(api, 'Picker Co');
      expect((await picker.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] })).status).toBe(200);
      for (const key of ['slack', 'hubspot']) expect((await picker.owner.put(`/v1/admin/connectors/${key}`, { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
      const ops = await connectInSandbox(api, picker, 'slack', 'ops-team', { origin: HOST_ORIGIN, account: 0 });
      const hub = await connectInSandbox(api, picker, 'hubspot', 'ops-team', { origin: HOST_ORIGIN });
      const globex = await connectInSandbox(api, picker, 'slack', 'cust_1%', { origin: HOST_ORIGIN, account: 1 });
      const stale = await connectInSandbox(api, picker, 'slack', 'cust-2', { origin: HOST_ORIGIN, account: 1 });
      await api.app.get(DataSource).query(`UPDATE connections SET status = 'needs_reauth' WHERE id = $1`, [stale]);
      await connectInSandbox(api, other, 'slack', 'ops-team', { origin: HOST_ORIGIN });
      const ids = (res: { body: { data: Array<{ id: string }> } }) => res.body.data.map((c) => c.id);

      const viewer = (await addMember(api, picker, 'viewer')).browser;
      const all = await viewer.get('/v1/admin/connections');
      expect(all.status).toBe(200);
      expect(ids(all)).toEqual([stale, globex, hub, ops]);
      expect(all.body.nextCursor).toBeNull();
      expect(all.body.data[3]).toMatchObject({ id: ops, connector: 'slack', endUserId: 'ops-team', status: 'active', accountName: 'Acme Sandbox (switchboard)' });

      const slack = await picker.owner.get('/v1/admin/connections?connector=slack&status=active');
      expect(ids(slack)).toEqual([globex, ops]);
      expect(slack.body.data.map((c: { endUserId: string; accountName: string }) => `${c.endUserId} ${c.accountName}`)).toEqual([
        'cust_1% Globex (switchboard)',
        'ops-team Acme Sandbox (switchboard)',
      ]);
      expect(ids(await picker.owner.get('/v1/admin/connections?status=needs_reauth'))).toEqual([stale]);
      // Search by external id or account name; LIKE wildcards are literal.
      expect(ids(await picker.owner.get('/v1/admin/connections?connector=slack&search=OPS'))).toEqual([ops]);
      expect(ids(await picker.owner.get('/v1/admin/connections?search=globex'))).toEqual([stale, globex]);
      expect(ids(await picker.owner.get('/v1/admin/connections?search=%25'))).toEqual([globex]);

      const first = await picker.owner.get('/v1/admin/connections?limit=3');
      expect(ids(first)).toEqual([stale, globex, hub]);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await picker.owner.get(`/v1/admin/connections?limit=3&cursor=${first.body.nextCursor}`);
      expect(second.body).toMatchObject({ data: [{ id: ops }], nextCursor: null });

      // The other tenant sees only its own; no connector of that name, no rows; bad input is 400; a secret key is not a member.
      expect((await other.owner.get('/v1/admin/connections?search=cust')).body.data).toEqual([]);
      expect(ids(await other.owner.get('/v1/admin/connections?connector=slack&search=ops-team'))).not.toContain(ops);
      expect((await picker.owner.get('/v1/admin/connections?connector=nope')).body.data).toEqual([]);
      expect((await picker.owner.get('/v1/admin/connections?status=broken')).status).toBe(400);
      expect((await picker.owner.get('/v1/admin/connections?cursor=bm90LWEtY3Vyc29y')).body.error.code).toBe('invalid_cursor');
      expect((await picker.host.get('/v1/admin/connections')).status).toBe(401);
    });
  });

  describe('private destinations', () => {
    it.each([
      ['the cloud metadata address', 'http://169.254.169.254/latest'],
      ['loopback', 'http://127.0.0.1:5432'],
      ['a private range', 'http://10.1.2.3'],
      ['a name resolving to loopback', 'http://localhost:6379'],
    ])('refuses to proxy to %s', async (_, baseUrl) => {
      await tenant.owner.put('/v1/admin/connectors/http', { enabled: true });
      const token = await session(tenant, `http-${baseUrl.length}-${Math.random().toString(36).slice(2, 8)}`);
      const form = await fetch(`${api.url}/connect/http`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ session: token, origin: HOST_ORIGIN, 'config.base_url': baseUrl, 'config.api_key_header': 'X-Api-Key', apiKey: 'k' }).toString(),
      });
      const result = resultOf(await form.text());
      expect(result.message.status).toBe('connected');
      const before = sandbox.calls().length;
      const res = await tenant.host.get(`/v1/proxy/${result.message.connectionId}/anything`);
      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(/private, loopback and link-local destinations are blocked/);
      expect(sandbox.calls().length).toBe(before);
    });
  });
});
