/**
 * Every catalogue entry, end to end through the server against the sandbox's generic provider:
 * the tenant enables it, an end user connects (config asked before the OAuth redirect, consent,
 * callback; or the credentials form), the connection is active with the verify call's account, a
 * proxied request is relayed intact, and an expired token is refreshed once on the way.
 */
import { CatalogueEntry, catalogueConnector, ConnectorDefinition, loadCatalogue, OAuth2Auth } from '@switchboard/connectors';
import { consentInSandbox, SANDBOX_CREDENTIALS, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startApi, TenantFixture, TestApi } from './harness';

const HOST_ORIGIN = 'https://host.example';
const catalogue = loadCatalogue();

function resultOf(html: string): { message: { status: string; connector: string; connectionId?: string; error?: { code: string; message: string } } } {
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

/** Runs `work` over `items`, at most `limit` at a time. */
async function inBatches<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

/** What an end user types into each asked-for connection-config field. */
function typedConfig(connector: ConnectorDefinition): Record<string, string> {
  const config: Record<string, string> = {};
  for (const [name, field] of Object.entries(connector.connectionConfig ?? {})) {
    if (!field.fromToken && !field.fromCallback && !field.fromAccount) config[`config.${name}`] = field.example ?? field.default ?? 'acme';
  }
  return config;
}

describe('every catalogue entry connects, proxies and refreshes through the server', () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let tenant: TenantFixture;

  const session = async (endUserId: string): Promise<string> => {
    const res = await tenant.host.post('/v1/sessions', { endUserId });
    expect(res.status).toBe(201);
    return res.body.token;
  };
  const postForm = (key: string, fields: Record<string, string>) =>
    fetch(`${api.url}/connect/${key}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });

  beforeAll(async () => {
    sandbox = await startSandbox();
    // Request logs off: 160 connect journeys would log thousands of lines nobody reads here.
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}`, LOG_LEVEL: 'warn' });
    tenant = await createTenant(api, 'Catalogue Co');
    expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] })).status).toBe(200);
    await inBatches(Object.keys(catalogue), 8, async (key) => {
      const res = await tenant.owner.put(`/v1/admin/connectors/${key}`, { enabled: true, settings: { useSandbox: true } });
      expect(res.status, `${key}: ${JSON.stringify(res.body)}`).toBe(200);
    });
  });
  afterAll(async () => {
    await api?.close();
    await sandbox?.close();
  });

  /** The connect popup, over HTTP, as the end user `endUserId`; resolves with the result page's message. */
  async function connect(key: string, connector: ConnectorDefinition, endUserId: string) {
    const token = await session(endUserId);
    const base = { session: token, origin: HOST_ORIGIN };
    const config = typedConfig(connector);
    const start = await fetch(`${api.url}/connect/${key}?${new URLSearchParams(base)}`, { redirect: 'manual' });
    let page: Response;
    if (connector.auth.type === 'oauth2') {
      let location: string;
      if (Object.keys(config).length > 0) {
        // Asked before the redirect: the authorize URL is built from it.
        const form = await start.text();
        expect(start.status, form).toBe(200);
        for (const name of Object.keys(config)) expect(form).toContain(`name="${name}"`);
        expect(form).toContain(`Continue to ${connector.name.replace(/&/g, '&amp;')}`);
        const answer = await postForm(key, { ...base, ...config });
        const next = await answer.text();
        expect(answer.status, next).toBe(200);
        location = JSON.parse(/<script type="application\/json" id="switchboard-continue">([^<]*)<\/script>/.exec(next)![1]!).url;
      } else {
        expect(start.status, await start.clone().text()).toBe(302);
        location = start.headers.get('location')!;
      }
      expect(location.startsWith(`${sandbox.url}/${key}/`)).toBe(true);
      expect(location).not.toMatch(/\{\{|%7B%7B/i);
      const callback = await consentInSandbox(location);
      expect(callback.searchParams.get('error_description')).toBeNull();
      page = await fetch(callback);
    } else {
      expect(start.status).toBe(200);
      const credentials =
        connector.auth.type === 'api_key'
          ? { apiKey: SANDBOX_CREDENTIALS.catalogue.apiKey }
          : connector.auth.type === 'basic'
            ? { username: SANDBOX_CREDENTIALS.catalogue.basic.username, password: SANDBOX_CREDENTIALS.catalogue.basic.password }
            : { clientId: SANDBOX_CREDENTIALS.client.clientId, clientSecret: SANDBOX_CREDENTIALS.client.clientSecret };
      page = await postForm(key, { ...base, ...config, ...credentials });
    }
    const html = await page.text();
    return resultOf(html).message;
  }

  // A few at a time (vitest's maxConcurrency): each waits mostly on HTTP round trips.
  it.concurrent.each(Object.entries(catalogue))('%s', async (key, entry: CatalogueEntry) => {
    const connector = catalogueConnector(key, entry);
    const endUserId = `user-${key}`;
    const result = await connect(key, connector, endUserId);
    expect(result, JSON.stringify(result.error)).toMatchObject({ status: 'connected', connector: key });
    const id = result.connectionId!;

    const [connection] = (await tenant.host.get(`/v1/end-users/${endUserId}/connections`)).body.data;
    const expectedId = entry.verify.accountId.includes('${')
      ? entry.verify.accountId.replace(/\$\{([a-z0-9_]+)\}/g, (_: string, n: string) => connection.config[n])
      : `${key}-user-1`;
    expect(connection).toMatchObject({ id, connector: key, status: 'active', accountId: expectedId });
    if (entry.verify.accountName) expect(connection.accountName).toBe(entry.verify.accountName === entry.verify.accountId ? expectedId : `user1@${key}.sandbox.test`);

    // The proxy relays method, path, query, headers and body, with the credential where the entry says.
    const proxied = await tenant.host.post(`/v1/proxy/${id}/sandbox-check/items?q=a%20b`, { hello: 'world' }, { 'x-sandbox-check': 'relayed' });
    expect(proxied.status, JSON.stringify(proxied.body)).toBe(200);
    expect(proxied.body).toMatchObject({
      sandbox: 'echo',
      method: 'POST',
      query: { q: 'a b' },
      body: { hello: 'world' },
      account: `${key}-user-1`,
      headers: { 'x-sandbox-check': 'relayed' },
    });
    expect(proxied.body.path).toMatch(/\/sandbox-check\/items$/);

    // An expired token: the provider refuses it, the server refreshes once (a client-credentials
    // connection asks for a new token with its own client) and the call goes through.
    const auth = connector.auth;
    if ((auth.type === 'oauth2' && (auth as OAuth2Auth).refreshable) || auth.type === 'oauth2_client_credentials') {
      const issued = () =>
        sandbox.oauth.events(key).filter((e) => e.outcome === 'issued' && e.grantType === (auth.type === 'oauth2' ? 'refresh_token' : 'client_credentials')).length;
      const before = (await tenant.host.post(`/v1/connections/${id}/access-token`)).body.accessToken as string;
      const refreshes = issued();
      sandbox.oauth.expireAccessTokens(key);
      const again = await tenant.host.get(`/v1/proxy/${id}/sandbox-check/after-expiry`);
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      expect(again.headers.get('x-switchboard-attempts')).toBe('2');
      expect(issued() - refreshes).toBe(1);
      // Where the entry says the token goes (Shopify's X-Shopify-Access-Token), else a bearer header.
      const tokenHeader = auth.type === 'oauth2' || auth.type === 'oauth2_client_credentials' ? auth.tokenHeader : undefined;
      const presented = (call: { headers: Record<string, string> }) => call.headers[tokenHeader?.name.toLowerCase() ?? 'authorization'];
      const prefix = tokenHeader ? (tokenHeader.prefix ?? '') : 'Bearer ';
      const last = sandbox.calls({ connector: key, path: /\/sandbox-check\/after-expiry$/ }).at(-1)!;
      expect(presented(last)).not.toBe(`${prefix}${before}`);
      const after = (await tenant.host.post(`/v1/connections/${id}/access-token`)).body.accessToken as string;
      expect(presented(last)).toBe(`${prefix}${after}`);
    }
  });

  it("connects with the end user's own API client (client credentials) and asks for a new token when it expires", async () => {
    // The HTTP connector's client-credentials choice: the same path catalogue client-credentials entries take.
    expect((await tenant.owner.put('/v1/admin/connectors/http', { enabled: true, settings: { authType: 'oauth2_client_credentials' } })).status).toBe(200);
    const base = { session: await session('cc-user'), origin: HOST_ORIGIN };
    const form = await (await fetch(`${api.url}/connect/http?${new URLSearchParams(base)}`)).text();
    expect(form).toContain('name="clientId"');
    expect(form).toContain('name="clientSecret"');
    const fields = {
      ...base,
      'config.base_url': sandbox.connectorUrl('http'),
      'config.token_url': `${sandbox.connectorUrl('http')}/oauth/token`,
      'config.health_path': '/me',
      clientId: SANDBOX_CREDENTIALS.client.clientId,
    };
    const wrong = await postForm('http', { ...fields, clientSecret: 'not-the-secret' });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('did not accept this client ID and secret (invalid_client)');
    const result = resultOf(await (await postForm('http', { ...fields, clientSecret: SANDBOX_CREDENTIALS.client.clientSecret })).text()).message;
    expect(result.status, JSON.stringify(result.error)).toBe('connected');

    const grants = () => sandbox.oauth.events('http').filter((e) => e.grantType === 'client_credentials' && e.outcome === 'issued').length;
    const first = await tenant.host.get(`/v1/proxy/${result.connectionId}/echo/cc`);
    expect(first.status).toBe(200);
    const before = grants();
    sandbox.oauth.expireAccessTokens('http');
    const again = await tenant.host.get(`/v1/proxy/${result.connectionId}/echo/cc`);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.headers.get('x-switchboard-attempts')).toBe('2');
    expect(grants() - before).toBe(1);
    const [call, retried] = sandbox.calls({ connector: 'http', path: '/echo/cc' }).slice(-2);
    expect(call!.status).toBe(401);
    expect(retried!.headers.authorization).toMatch(/^Bearer cc_sandbox_/);
    expect(retried!.headers.authorization).not.toBe(call!.headers.authorization);

    // The end user's client secret changed at the provider: the next grant is refused, the connection needs them again.
    sandbox.oauth.registerClient({ clientId: 'cc-rotated', clientSecret: 'first-secret' });
    const rotated = resultOf(
      await (await postForm('http', { ...fields, session: await session('cc-rotating'), clientId: 'cc-rotated', clientSecret: 'first-secret' })).text(),
    ).message;
    expect(rotated.status).toBe('connected');
    sandbox.oauth.registerClient({ clientId: 'cc-rotated', clientSecret: 'second-secret' });
    sandbox.oauth.expireAccessTokens('http');
    const refused = await tenant.host.get(`/v1/proxy/${rotated.connectionId}/echo/cc`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: 'connection_needs_reauth' } });
    const [stored] = (await tenant.host.get('/v1/end-users/cc-rotating/connections')).body.data;
    expect(stored).toMatchObject({ status: 'needs_reauth', lastError: expect.stringContaining('invalid_client') });
  });

  const templated = Object.entries(catalogue).find(([key, e]) => {
    const c = catalogueConnector(key, e);
    return (
      c.auth.type === 'oauth2' &&
      Object.values(c.connectionConfig ?? {}).some((f) => !f.fromToken && !f.fromCallback && !f.fromAccount && f.pattern && f.default === undefined && !f.optional)
    );
  });
  it.runIf(templated)('asks for connection config before the OAuth redirect and names what is missing or wrong', async () => {
    const [key, entry] = templated!;
    const connector = catalogueConnector(key, entry);
    const [, field] = Object.entries(connector.connectionConfig!).find(
      ([, f]) => !f.fromToken && !f.fromCallback && !f.fromAccount && f.pattern && f.default === undefined && !f.optional,
    )!;
    const base = { session: await session(`config-${key}`), origin: HOST_ORIGIN };
    const missing = await postForm(key, base);
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain(`${field.title} is required`);
    const wrong = await postForm(key, { ...base, ...Object.fromEntries(Object.keys(typedConfig(connector)).map((n) => [n, 'not valid!'])) });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain(`${field.title} does not look right`);

    // The host may prefill it; a reconnect shows what the connection has.
    const [name, value] = Object.entries(typedConfig(connector))[0]!;
    const prefilled = await (await fetch(`${api.url}/connect/${key}?${new URLSearchParams({ ...base, [name]: value })}`)).text();
    expect(prefilled).toMatch(new RegExp(`name="${name.replace('.', '\\.')}"[^>]*value="${value}"`));
    const connected = await connect(key, connector, `config-${key}`);
    expect(connected.status).toBe('connected');
    const reconnect = await (
      await fetch(`${api.url}/connect/${key}?${new URLSearchParams({ session: await session(`config-${key}`), origin: HOST_ORIGIN, connectionId: connected.connectionId! })}`)
    ).text();
    expect(reconnect).toMatch(new RegExp(`name="${name.replace('.', '\\.')}"[^>]*value="${value}"`));
  });
});
