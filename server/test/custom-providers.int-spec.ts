import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, freePort, Http, startApi, TenantFixture, TestApi } from './harness';

const HOST_ORIGIN = 'https://host.example';
const GOOD_KEY = 'acme-key-123';
const CC_CLIENT = { clientId: 'acme-service', clientSecret: 'acme-service-secret' };

/** A small real API keyed by X-Api-Key: `/me` names the account, anything else echoes the request. */
async function startAcmeApi(): Promise<{ url: string; port: number; seen: IncomingMessage[]; tokens: string[]; close(): Promise<void> }> {
  const seen: IncomingMessage[] = [];
  const tokens: string[] = [];
  const server: Server = createServer(async (req, res) => {
    seen.push(req);
    res.setHeader('content-type', 'application/json');
    // Client credentials: a short-lived token per request for the one known client.
    if (req.url === '/oauth/token' && req.method === 'POST') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const form = new URLSearchParams(body);
      if (form.get('grant_type') !== 'client_credentials' || form.get('client_id') !== CC_CLIENT.clientId || form.get('client_secret') !== CC_CLIENT.clientSecret) {
        res.statusCode = 401;
        res.end(JSON.stringify({ error: 'invalid_client' }));
        return;
      }
      tokens.push(`cc-token-${tokens.length + 1}`);
      res.end(JSON.stringify({ access_token: tokens.at(-1), token_type: 'Bearer', expires_in: 60 }));
      return;
    }
    if (req.url?.startsWith('/cc/')) {
      if (req.headers.authorization !== `Bearer ${tokens.at(-1)}`) {
        res.statusCode = 401;
        res.end(JSON.stringify({ error: 'bad token' }));
        return;
      }
      res.end(JSON.stringify(req.url === '/cc/me' ? { account: { id: 'svc-1', name: 'Acme service account' } } : { url: req.url, token: tokens.at(-1) }));
      return;
    }
    if (req.headers['x-api-key'] !== GOOD_KEY) {
      res.statusCode = 401;
      res.end(JSON.stringify({ error: 'bad key' }));
      return;
    }
    if (req.url === '/api/me') {
      res.end(JSON.stringify({ account: { id: 'acct-1', name: 'Acme Account' } }));
      return;
    }
    res.end(JSON.stringify({ method: req.method, url: req.url }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, seen, tokens, close: () => new Promise((r) => server.close(() => r())) };
}

/** A valid API-key entry for the local Acme API. */
const acmeEntry = (baseUrl: string, overrides: Record<string, unknown> = {}) => ({
  name: 'Acme CRM',
  description: 'Our in-house CRM',
  categories: ['crm'],
  logo: { color: '#224466', text: 'AC' },
  docsUrl: 'https://acme.example/docs',
  auth: { type: 'api_key', in: 'header', name: 'X-Api-Key', label: 'Acme API key' },
  baseUrl,
  verify: { path: 'me', accountId: 'account.id', accountName: 'account.name' },
  ...overrides,
});

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

describe('custom providers', () => {
  let acme: Awaited<ReturnType<typeof startAcmeApi>>;
  let closedPort: number;
  let api: TestApi;
  let tenant: TenantFixture;
  let other: TenantFixture;

  beforeAll(async () => {
    acme = await startAcmeApi();
    closedPort = await freePort();
    api = await startApi({ OUTBOUND_ALLOWLIST: `127.0.0.1:${acme.port}` });
    tenant = await createTenant(api, 'Custom Co');
    other = await createTenant(api, 'Other Co');
    expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] })).status).toBe(200);
  });
  afterAll(async () => {
    await api?.close();
    await acme?.close();
  });

  /** The popup's form, driven over HTTP: the page must ask for `expectField`, then the fields are posted. */
  async function submitConnectForm(endUserId: string, key: string, expectField: string, fields: Record<string, string>) {
    const session = await tenant.host.post('/v1/sessions', { endUserId });
    expect(session.status).toBe(201);
    const page = await fetch(`${api.url}/connect/${key}?${new URLSearchParams({ session: session.body.token, origin: HOST_ORIGIN })}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(expectField);
    const res = await fetch(`${api.url}/connect/${key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ session: session.body.token, origin: HOST_ORIGIN, ...fields }).toString(),
    });
    return res.text();
  }

  const connectWithKey = (endUserId: string, key: string, apiKey: string, config: Record<string, string> = {}) =>
    submitConnectForm(endUserId, key, 'Acme API key', { apiKey, ...Object.fromEntries(Object.entries(config).map(([k, v]) => [`config.${k}`, v])) });

  it('creates a provider that only its tenant sees, enables it and connects, proxies and deletes it like a shared connector', async () => {
    const created = await tenant.owner.post('/v1/admin/custom-providers', { key: 'acme-crm', definition: acmeEntry(`${acme.url}/api`) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ key: 'acme-crm', name: 'Acme CRM', authType: 'api_key', definition: { baseUrl: `${acme.url}/api` } });
    const id = created.body.id as string;

    // In this tenant's connector list (with a generated monogram), not in another's.
    const mine = await tenant.owner.get('/v1/admin/connectors/acme-crm');
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ key: 'acme-crm', name: 'Acme CRM', authType: 'api_key', config: { enabled: false } });
    expect(mine.body.logo).toMatch(/^<svg[^]*>AC<\/text><\/svg>$/);
    expect((await other.owner.get('/v1/admin/connectors/acme-crm')).status).toBe(404);
    expect((await other.owner.get('/v1/admin/connectors')).body.data.map((c: { key: string }) => c.key)).not.toContain('acme-crm');
    expect((await other.owner.get(`/v1/admin/custom-providers/${id}`)).status).toBe(404);
    expect((await other.owner.put(`/v1/admin/custom-providers/${id}`, { key: 'acme-crm', definition: acmeEntry(`${acme.url}/api`) })).status).toBe(404);
    expect((await other.owner.delete(`/v1/admin/custom-providers/${id}`)).status).toBe(404);
    expect((await other.owner.get('/v1/admin/custom-providers')).body.data).toEqual([]);
    expect((await tenant.owner.get('/v1/admin/custom-providers')).body.data.map((p: { id: string }) => p.id)).toEqual([id]);

    // Enabled like any connector; the end user connects with the form, the key is checked by the verify call.
    expect((await tenant.owner.put('/v1/admin/connectors/acme-crm', { enabled: true })).status).toBe(200);
    const noApp = await tenant.owner.put('/v1/admin/connectors/acme-crm', { settings: { endUserApp: true } });
    expect(noApp.status).toBe(400);
    expect(noApp.body.error.details.errors).toEqual([{ path: 'settings.endUserApp', message: 'only for OAuth (authorization code) connectors' }]);
    expect(await connectWithKey('ann', 'acme-crm', 'wrong')).toContain('did not accept these credentials');
    const connected = resultOf(await connectWithKey('ann', 'acme-crm', GOOD_KEY)).message;
    expect(connected).toMatchObject({ status: 'connected', connector: 'acme-crm' });
    const listed = await tenant.host.get('/v1/end-users/ann/connections');
    expect(listed.body.data[0]).toMatchObject({ connector: 'acme-crm', accountName: 'Acme Account', status: 'active' });

    // The widget lists it for this tenant's end users, with its monogram served by tenant and key.
    const widget = new Http(api.url).withBearer((await tenant.host.post('/v1/sessions', { endUserId: 'ann' })).body.token);
    const tile = ((await widget.get('/v1/me/integrations')).body.data as Array<{ key: string; logoUrl: string; connection: unknown }>).find((i) => i.key === 'acme-crm')!;
    expect(tile.connection).toMatchObject({ status: 'active' });
    const logo = await fetch(tile.logoUrl);
    expect(logo.status).toBe(200);
    expect(await logo.text()).toContain('>AC</text>');
    expect((await fetch(tile.logoUrl.replace(tenant.tenantId, other.tenantId))).status).toBe(404);

    const proxied = await tenant.host.get(`/v1/proxy/${connected.connectionId}/widgets?limit=2`);
    expect(proxied.status).toBe(200);
    expect(proxied.body).toEqual({ method: 'GET', url: '/api/widgets?limit=2' });
    expect(acme.seen.at(-1)!.headers['x-api-key']).toBe(GOOD_KEY);

    // Replaced: the connector follows; the key cannot change.
    const renamed = await tenant.owner.put(`/v1/admin/custom-providers/${id}`, { key: 'acme-crm', definition: acmeEntry(`${acme.url}/api`, { name: 'Acme CRM v2' }) });
    expect(renamed.status).toBe(200);
    expect((await tenant.owner.get('/v1/admin/connectors/acme-crm')).body.name).toBe('Acme CRM v2');
    const rekeyed = await tenant.owner.put(`/v1/admin/custom-providers/${id}`, { key: 'acme-two', definition: acmeEntry(`${acme.url}/api`) });
    expect(rekeyed.status).toBe(400);
    expect(rekeyed.body.error.details.errors).toEqual([{ path: 'key', message: 'cannot change (it is "acme-crm")' }]);

    // Its connections hold API keys: the auth type stays while they exist.
    const basic = await tenant.owner.put(`/v1/admin/custom-providers/${id}`, { key: 'acme-crm', definition: acmeEntry(`${acme.url}/api`, { auth: { type: 'basic' } }) });
    expect(basic.status).toBe(409);
    expect(basic.body.error).toMatchObject({ code: 'provider_in_use', details: { errors: [{ path: 'definition.auth.type' }] } });

    // A flow that uses it, switched on for the end user.
    const flow = {
      key: 'acme-sync',
      name: 'Acme sync',
      trigger: { type: 'request' },
      connectors: ['acme-crm'],
      inputs: {},
      steps: [{ id: 'get', type: 'request', connector: 'acme-crm', method: 'GET', path: 'widgets' }],
    };
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition: flow })).status).toBe(201);
    expect((await tenant.owner.post('/v1/admin/flow-templates/acme-sync/publish')).status).toBe(201);
    expect((await tenant.host.post('/v1/end-users/ann/flows/acme-sync/enable', {})).status).toBeLessThan(300);

    // Not deleted while a connection or a switched-on instance uses it; deleted (with its connector settings) afterwards.
    const refused = await tenant.owner.delete(`/v1/admin/custom-providers/${id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'provider_in_use', details: { connections: 1, instances: 1 } });
    expect((await tenant.host.delete(`/v1/connections/${connected.connectionId}`)).status).toBe(204);
    expect((await tenant.owner.delete(`/v1/admin/custom-providers/${id}`)).body.error).toMatchObject({ code: 'provider_in_use', details: { connections: 0, instances: 1 } });
    expect((await tenant.host.post('/v1/end-users/ann/flows/acme-sync/disable', {})).status).toBeLessThan(300);
    expect((await tenant.owner.delete(`/v1/admin/custom-providers/${id}`)).status).toBe(204);
    expect((await tenant.owner.get('/v1/admin/connectors/acme-crm')).status).toBe(404);
    expect((await tenant.owner.get(`/v1/admin/custom-providers/${id}`)).status).toBe(404);

    const audit = await tenant.owner.get('/v1/admin/audit-events?targetType=custom_provider');
    const actions = (audit.body.data as Array<{ action: string; targetId: string }>).filter((e) => e.targetId === id).map((e) => e.action);
    expect(actions.sort()).toEqual(['custom_provider.created', 'custom_provider.deleted', 'custom_provider.replaced']);
  });

  it('imports an OpenAPI document onto a provider; deleting the provider removes it, so one created again under the key starts without those actions', async () => {
    const created = await tenant.owner.post('/v1/admin/custom-providers', { key: 'acme-docs', definition: acmeEntry(`${acme.url}/api`) });
    expect(created.status).toBe(201);
    const document = {
      openapi: '3.0.3',
      info: { title: 'Acme CRM API', version: '1' },
      paths: {
        '/widgets': {
          get: {
            operationId: 'listWidgets',
            responses: {
              '200': {
                description: 'ok',
                content: { 'application/json': { schema: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } } } } },
              },
            },
          },
        },
      },
    };
    expect((await tenant.owner.put('/v1/admin/connectors/acme-docs/openapi', { document })).status).toBe(200);
    expect((await tenant.owner.get('/v1/admin/connectors/acme-docs')).body.actions.map((a: { key: string }) => a.key)).toEqual(['list_widgets']);

    expect((await tenant.owner.delete(`/v1/admin/custom-providers/${created.body.id}`)).status).toBe(204);
    expect((await tenant.owner.get('/v1/admin/connectors/acme-docs/openapi')).status).toBe(404);
    const audit = await tenant.owner.get('/v1/admin/audit-events?action=custom_provider.deleted');
    expect(audit.body.data.find((e: { targetId: string }) => e.targetId === created.body.id)).toMatchObject({ data: { key: 'acme-docs', openApiDocumentRemoved: true } });

    expect((await tenant.owner.post('/v1/admin/custom-providers', { key: 'acme-docs', definition: acmeEntry(`${acme.url}/api`) })).status).toBe(201);
    expect((await tenant.owner.get('/v1/admin/connectors/acme-docs')).body.actions).toEqual([]);
    expect((await tenant.owner.get('/v1/admin/connectors/acme-docs/openapi')).status).toBe(404);
  });

  it("an import that races the provider's deletion waits for it and is refused, leaving no document behind", async () => {
    const created = await tenant.owner.post('/v1/admin/custom-providers', { key: 'acme-race', definition: acmeEntry(`${acme.url}/api`) });
    expect(created.status).toBe(201);
    const document = {
      openapi: '3.0.3',
      info: { title: 'Acme', version: '1' },
      paths: { '/widgets': { get: { operationId: 'listWidgets', responses: { '200': { description: 'ok' } } } } },
    };
    // The deletion's steps (as CustomProvidersService.remove takes them), not committed yet while the import arrives.
    const db = new Client({ connectionString: api.config.database.url });
    await db.connect();
    try {
      await db.query('BEGIN');
      await db.query('SELECT id FROM custom_providers WHERE id = $1 FOR UPDATE', [created.body.id]);
      await db.query('DELETE FROM connector_openapi_imports WHERE tenant_id = $1 AND connector_key = $2', [tenant.tenantId, 'acme-race']);
      await db.query('DELETE FROM custom_providers WHERE id = $1', [created.body.id]);
      const importing = tenant.owner.put('/v1/admin/connectors/acme-race/openapi', { document });
      await new Promise((r) => setTimeout(r, 500));
      await db.query('COMMIT');
      const imported = await importing;
      expect(imported.status, JSON.stringify(imported.body)).toBe(404);
      expect((await db.query('SELECT count(*)::int AS n FROM connector_openapi_imports WHERE tenant_id = $1', [tenant.tenantId])).rows[0].n).toBe(0);
    } finally {
      await db.end();
    }
  });

  it("connects a client-credentials provider with the end user's client, and fetches a new token when it runs out", async () => {
    const created = await tenant.owner.post('/v1/admin/custom-providers', {
      key: 'acme-service',
      definition: acmeEntry(`${acme.url}/cc`, { auth: { type: 'oauth2_client_credentials', tokenUrl: `${acme.url}/oauth/token` } }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // The client is the end user's: the tenant enables it without one.
    expect((await tenant.owner.put('/v1/admin/connectors/acme-service', { enabled: true })).status).toBe(200);
    const wrong = await submitConnectForm('carl', 'acme-service', 'name="clientSecret"', { clientId: CC_CLIENT.clientId, clientSecret: 'nope' });
    expect(wrong).toContain('did not accept this client ID and secret (invalid_client)');
    expect(wrong).not.toContain('nope');
    const connected = resultOf(await submitConnectForm('carl', 'acme-service', 'name="clientId"', CC_CLIENT)).message;
    expect(connected).toMatchObject({ status: 'connected', connector: 'acme-service' });
    expect((await tenant.host.get(`/v1/connections/${connected.connectionId}`)).body).toMatchObject({ accountName: 'Acme service account', status: 'active' });
    expect(acme.tokens).toEqual(['cc-token-1']);

    // 60-second tokens are inside the refresh margin: each use gets a new one first.
    const first = await tenant.host.get(`/v1/proxy/${connected.connectionId}/things`);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toEqual({ url: '/cc/things', token: 'cc-token-2' });
    expect(acme.tokens).toHaveLength(2);
  });

  it("refuses a key a shared connector or another of the tenant's providers has, with 409 provider_key_taken", async () => {
    const shared = await tenant.owner.post('/v1/admin/custom-providers', { key: 'slack', definition: acmeEntry('https://api.acme.example') });
    expect(shared.status).toBe(409);
    expect(shared.body.error).toMatchObject({ code: 'provider_key_taken', details: { errors: [{ path: 'key', message: 'is taken by the shared connector Slack' }] } });
    const catalogue = await tenant.owner.post('/v1/admin/custom-providers', { key: 'sendgrid', definition: acmeEntry('https://api.acme.example') });
    expect(catalogue.status).toBe(409);

    expect((await tenant.owner.post('/v1/admin/custom-providers', { key: 'twice', definition: acmeEntry('https://api.acme.example') })).status).toBe(201);
    const again = await tenant.owner.post('/v1/admin/custom-providers', { key: 'twice', definition: acmeEntry('https://api.acme.example') });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('provider_key_taken');
    // Keys are per tenant.
    expect((await other.owner.post('/v1/admin/custom-providers', { key: 'twice', definition: acmeEntry('https://api.acme.example') })).status).toBe(201);
  });

  it('names each invalid field of the definition, under definition.*', async () => {
    const res = await tenant.owner.post('/v1/admin/custom-providers', {
      key: 'bad-one',
      definition: acmeEntry('http://api.acme.example', { categories: ['crm', 'toasters'], auth: { type: 'api_key', in: 'cookie', name: 'X' }, verify: { path: 'me' } }),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    const byPath = Object.fromEntries((res.body.error.details.errors as Array<{ path: string; message: string }>).map((e) => [e.path, e.message]));
    expect(byPath).toMatchObject({
      'definition.baseUrl': 'must be an https:// URL (or start with a ${placeholder})',
      'definition.categories.1': expect.stringMatching(/^must be one of /),
      'definition.auth.in': 'must be one of "header", "query"',
      'definition.verify.accountId': 'is required',
    });
    const badKey = await tenant.owner.post('/v1/admin/custom-providers', { key: 'Bad_Key', definition: {} });
    expect(badKey.status).toBe(400);
    expect(badKey.body.error.details.errors[0].path).toBe('key');
    const notObject = await tenant.owner.post('/v1/admin/custom-providers', { key: 'ok-key', definition: 'x' });
    expect(notObject.body.error.details.errors[0].path).toBe('definition');
  });

  it('refuses inline SVG logos, and http except to hosts the outbound allow-list permits', async () => {
    const svg = await tenant.owner.post('/v1/admin/custom-providers', {
      key: 'svg-logo',
      definition: acmeEntry('https://api.acme.example', { logo: '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>' }),
    });
    expect(svg.status).toBe(400);
    expect(svg.body.error.details.errors).toEqual([{ path: 'definition.logo', message: expect.stringContaining('inline SVG is not accepted') }]);

    const notAllowed = await tenant.owner.post('/v1/admin/custom-providers', { key: 'plain-http', definition: acmeEntry(`http://127.0.0.1:${closedPort}/api`) });
    expect(notAllowed.status).toBe(400);
    expect(notAllowed.body.error.details.errors[0].path).toBe('definition.baseUrl');
    const tokenUrl = await tenant.owner.post('/v1/admin/custom-providers', {
      key: 'plain-token',
      definition: acmeEntry('https://api.acme.example', { auth: { type: 'oauth2_client_credentials', tokenUrl: 'http://10.0.0.1/token' } }),
    });
    expect(tokenUrl.body.error.details.errors.map((e: { path: string }) => e.path)).toEqual(['definition.auth.tokenUrl']);
    expect((await tenant.owner.post('/v1/admin/custom-providers', { key: 'plain-ok', definition: acmeEntry(`${acme.url}/api`) })).status).toBe(201);
  });

  it('refuses connection-config patterns that could backtrack for ever, and oversized definitions', async () => {
    const res = await tenant.owner.post('/v1/admin/custom-providers', {
      key: 'slow-regex',
      definition: acmeEntry('https://${host}/api', { connectionConfig: { host: { title: 'Host', pattern: '([a-z]+\\.)+example\\.com' } } }),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.errors).toEqual([{ path: 'definition.connectionConfig.host.pattern', message: expect.stringContaining('repeated group') }]);
    const huge = await tenant.owner.post('/v1/admin/custom-providers', { key: 'huge', definition: acmeEntry('https://api.acme.example', { description: 'x'.repeat(70_000) }) });
    expect(huge.status).toBe(400);
    expect(huge.body.error.details.errors[0].path).toBe('definition');
  });

  it('refuses private-network hosts at use time, even through a placeholder the end user fills in', async () => {
    const created = await tenant.owner.post('/v1/admin/custom-providers', {
      key: 'acme-hosted',
      definition: acmeEntry('https://${host}/api', { connectionConfig: { host: { title: 'Your Acme host', example: 'acme.example.com' } } }),
    });
    expect(created.status).toBe(201);
    expect((await tenant.owner.put('/v1/admin/connectors/acme-hosted', { enabled: true })).status).toBe(200);
    const html = await connectWithKey('mallory', 'acme-hosted', GOOD_KEY, { host: '169.254.169.254' });
    expect(html).toContain('did not accept these credentials');
    expect(html).toMatch(/Refusing to connect to 169\.254\.169\.254/);
    expect((await tenant.host.get('/v1/end-users/mallory/connections')).body.data ?? []).toEqual([]);
  });
});
