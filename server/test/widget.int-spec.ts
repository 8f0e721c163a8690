import { consentInSandbox, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveEmbedDist } from '../src/embed/embed-files';
import { createTenant, Http, startApi, TenantFixture, TestApi } from './harness';

/**
 * The widget's server side over real HTTP: the tenant's widget theme, the end-user catalogue and
 * widget config, CORS for /v1/me from the tenant's allowed origins only, the served script files
 * and the size budget. The browser journeys are in widget-browser.int-spec.ts.
 */

const HOST = 'https://app.acme.example';
const STRANGER = 'https://evil.example';
const paths = (res: { body: any }) => (res.body.error.details.errors as Array<{ path: string }>).map((e) => e.path);

describe('widget API', () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let tenant: TenantFixture;
  let other: TenantFixture;

  async function session(t: TenantFixture, endUserId: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await t.host.post('/v1/sessions', { endUserId, ...extra });
    expect(res.status).toBe(201);
    return res.body.token;
  }

  async function connectSlack(token: string): Promise<string> {
    const start = await fetch(`${api.url}/connect/slack?${new URLSearchParams({ session: token, origin: HOST })}`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const page = await fetch(await consentInSandbox(start.headers.get('location')!));
    expect(page.status).toBe(200);
    return JSON.parse(/id="switchboard-result">([^<]*)</.exec(await page.text())![1]!).message.connectionId;
  }

  beforeAll(async () => {
    sandbox = await startSandbox();
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    [tenant, other] = await Promise.all([createTenant(api, 'Acme CRM'), createTenant(api, 'Other Co')]);
    for (const t of [tenant, other]) {
      expect((await t.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST] })).status).toBe(200);
      for (const key of ['slack', 'stripe', 'github']) {
        expect((await t.owner.put(`/v1/admin/connectors/${key}`, { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
      }
    }
    // Configured but switched off: end users must not see it.
    expect((await tenant.owner.put('/v1/admin/connectors/hubspot', { enabled: false, settings: { useSandbox: true } })).status).toBe(200);
  });
  afterAll(async () => {
    await api?.close();
    await sandbox?.close();
  });

  describe('tenant widget theme', () => {
    it('is empty by default, set by an admin, audited, and shown to end users with the tenant name', async () => {
      expect((await tenant.owner.get('/v1/admin/tenant')).body.widgetTheme).toEqual({});
      const theme = { mode: 'dark', accent: '#0E7490', radius: '14px', font: '"Inter", system-ui, sans-serif' };
      const res = await tenant.owner.patch('/v1/admin/tenant', { widgetTheme: theme });
      expect(res.status).toBe(200);
      expect(res.body.widgetTheme).toEqual(theme);
      expect(res.body.allowedOrigins).toEqual([HOST]); // other settings untouched
      expect((await tenant.owner.get('/v1/admin/tenant')).body.widgetTheme).toEqual(theme);

      const [event] = (await tenant.owner.get('/v1/admin/audit-events?action=tenant.updated&limit=1')).body.data;
      expect(event.data).toEqual({ widgetTheme: { from: {}, to: theme } });

      const me = new Http(api.url).withBearer(await session(tenant, 'theme-viewer'));
      expect((await me.get('/v1/me/widget-config')).body).toEqual({ tenantName: 'Acme CRM', theme });
      // Another tenant's end user sees its own tenant.
      const stranger = new Http(api.url).withBearer(await session(other, 'theme-viewer'));
      expect((await stranger.get('/v1/me/widget-config')).body).toEqual({ tenantName: 'Other Co', theme: {} });
    });

    it('replaces the theme as a whole and resets it with null', async () => {
      expect((await tenant.owner.patch('/v1/admin/tenant', { widgetTheme: { accent: '#fff' } })).body.widgetTheme).toEqual({ accent: '#fff' });
      expect((await tenant.owner.patch('/v1/admin/tenant', { widgetTheme: null })).body.widgetTheme).toEqual({});
      expect((await tenant.owner.patch('/v1/admin/tenant', { widgetTheme: { radius: '0' } })).body.widgetTheme).toEqual({ radius: '0' });
    });

    it.each([
      ['accent', { accent: 'red' }],
      ['accent', { accent: '#12345' }],
      ['accent', { accent: '#fff; background:url(x)' }],
      ['radius', { radius: '33px' }],
      ['radius', { radius: '10vw' }],
      ['radius', { radius: '12px}body{display:none' }],
      ['font', { font: 'Inter; color: red' }],
      ['font', { font: '</style><script>alert(1)</script>' }],
      ['font', { font: 'x'.repeat(201) }],
      ['mode', { mode: 'sepia' }],
    ])('refuses a bad %s (400 naming widgetTheme.<field>) and saves nothing', async (field, widgetTheme) => {
      const before = (await tenant.owner.get('/v1/admin/tenant')).body;
      const res = await tenant.owner.patch('/v1/admin/tenant', { name: 'Renamed meanwhile', widgetTheme });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(paths(res)).toEqual([`widgetTheme.${field}`]);
      const after = (await tenant.owner.get('/v1/admin/tenant')).body;
      expect(after.name).toBe(before.name);
      expect(after.widgetTheme).toEqual(before.widgetTheme);
    });

    it('refuses unknown theme keys and needs the admin role', async () => {
      const res = await tenant.owner.patch('/v1/admin/tenant', { widgetTheme: { accent: '#000', background: '#fff' } });
      expect(res.status).toBe(400);
      expect(paths(res)).toEqual(['widgetTheme.background']);
      const viewer = new Http(api.url, { origin: api.origin });
      expect((await viewer.patch('/v1/admin/tenant', { widgetTheme: { accent: '#000' } })).status).toBe(401);
    });
  });

  describe('end-user catalogue', () => {
    it("lists the tenant's enabled connectors, each with my connection, never another end user's or tenant's", async () => {
      const token = await session(tenant, 'cat-alice');
      const me = new Http(api.url).withBearer(token);
      const before = await me.get('/v1/me/integrations');
      expect(before.status).toBe(200);
      expect(before.body.data.map((i: { key: string }) => i.key)).toEqual(['github', 'slack', 'stripe']); // by name; hubspot is disabled
      const slack = before.body.data.find((i: { key: string }) => i.key === 'slack');
      expect(slack).toEqual({
        key: 'slack',
        name: 'Slack',
        description: expect.any(String),
        category: expect.any(String),
        categories: expect.arrayContaining([slack.category]),
        logoUrl: expect.stringMatching(new RegExp(`^${api.url}/embed/v1/logos/slack\\.svg\\?v=[\\w-]{10}$`)),
        authType: 'oauth2',
        connection: null,
      });
      expect(before.body.data.find((i: { key: string }) => i.key === 'stripe').authType).toBe('api_key');

      const connectionId = await connectSlack(token);
      const after = (await me.get('/v1/me/integrations')).body.data.find((i: { key: string }) => i.key === 'slack');
      expect(after.connection).toMatchObject({ id: connectionId, connector: 'slack', status: 'active', endUserId: 'cat-alice', accountName: expect.any(String) });

      // Bob (same tenant) and Alice of another tenant see no connection.
      const bob = new Http(api.url).withBearer(await session(tenant, 'cat-bob'));
      expect((await bob.get('/v1/me/integrations')).body.data.every((i: { connection: unknown }) => i.connection === null)).toBe(true);
      const otherAlice = new Http(api.url).withBearer(await session(other, 'cat-alice'));
      expect((await otherAlice.get('/v1/me/integrations')).body.data.every((i: { connection: unknown }) => i.connection === null)).toBe(true);
    });

    it('answers 304 to If-None-Match while the list is unchanged, and a new ETag once it changed', async () => {
      const token = await session(tenant, 'cat-etag');
      const first = await fetch(`${api.url}/v1/me/integrations`, { headers: { authorization: `Bearer ${token}` } });
      expect(first.status).toBe(200);
      const etag = first.headers.get('etag')!;
      expect(etag).toMatch(/^W\/"[\w-]+"$/);
      expect((await first.json()).data.length).toBeGreaterThan(0);
      // fetch adds Cache-Control: no-cache to a conditional request; the ETag is still honoured.
      const again = await fetch(`${api.url}/v1/me/integrations`, { headers: { authorization: `Bearer ${token}`, 'if-none-match': etag } });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');
      const other = await fetch(`${api.url}/v1/me/integrations`, { headers: { authorization: `Bearer ${token}`, 'if-none-match': 'W/"stale"' } });
      expect(other.status).toBe(200);
      await other.arrayBuffer();
      // Connecting changes the list, so the old ETag no longer matches.
      await connectSlack(token);
      const changed = await fetch(`${api.url}/v1/me/integrations`, { headers: { authorization: `Bearer ${token}`, 'if-none-match': etag } });
      expect(changed.status).toBe(200);
      expect(changed.headers.get('etag')).not.toBe(etag);
      await changed.arrayBuffer();
    });

    it('honours a session limited to some connectors', async () => {
      const me = new Http(api.url).withBearer(await session(tenant, 'cat-limited', { allowedConnectors: ['stripe', 'hubspot'] }));
      expect((await me.get('/v1/me/integrations')).body.data.map((i: { key: string }) => i.key)).toEqual(['stripe']);
    });

    it('needs an end-user session', async () => {
      for (const client of [new Http(api.url), new Http(api.url).withBearer('sess_forged'), tenant.host]) {
        for (const path of ['/v1/me/integrations', '/v1/me/widget-config']) expect((await client.get(path)).status, path).toBe(401);
      }
    });
  });

  describe('CORS for the widget', () => {
    const cors = (res: Response) => ({
      origin: res.headers.get('access-control-allow-origin'),
      vary: res.headers.get('vary'),
    });

    it('answers preflights for /v1/me from any origin (they carry no token), with methods and headers only', async () => {
      for (const origin of [HOST, STRANGER]) {
        const res = await fetch(`${api.url}/v1/me/flows/some-flow`, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization,content-type' },
        });
        expect(res.status).toBe(204);
        expect(cors(res)).toEqual({ origin, vary: expect.stringContaining('Origin') });
        expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, PATCH, DELETE');
        expect(res.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type');
        expect(res.headers.get('access-control-allow-credentials')).toBeNull();
        expect(await res.text()).toBe('');
      }
      // Nothing outside /v1/me is opened up.
      const admin = await fetch(`${api.url}/v1/admin/tenant`, { method: 'OPTIONS', headers: { origin: HOST, 'access-control-request-method': 'PATCH' } });
      expect(admin.headers.get('access-control-allow-origin')).toBeNull();
    });

    it("lets the tenant's allowed origins read, and refuses other origins before anything happens", async () => {
      const token = await session(tenant, 'cors-carol');
      const connectionId = await connectSlack(token);
      const call = (method: string, path: string, origin: string) => fetch(api.url + path, { method, headers: { origin, authorization: `Bearer ${token}` } });

      const allowed = await call('GET', '/v1/me/integrations', HOST);
      expect(allowed.status).toBe(200);
      expect(cors(allowed).origin).toBe(HOST);

      const refused = await call('GET', '/v1/me/integrations', STRANGER);
      expect(refused.status).toBe(403);
      // Readable, so the widget can say what to fix; it carries nothing but the page's own origin.
      expect(cors(refused)).toEqual({ origin: STRANGER, vary: expect.stringContaining('Origin') });
      expect(refused.headers.get('access-control-allow-credentials')).toBeNull();
      expect(await refused.json()).toEqual({
        error: {
          code: 'origin_not_allowed',
          message: `${STRANGER} is not one of this app's allowed origins, so Switchboard refused the request. Its admin can add it in the Switchboard portal under Settings → Allowed origins.`,
          details: { origin: STRANGER },
        },
      });

      // A write from a foreign origin does nothing.
      expect((await call('DELETE', `/v1/me/connections/${connectionId}`, STRANGER)).status).toBe(403);
      expect((await new Http(api.url).withBearer(token).get(`/v1/me/connections/${connectionId}`)).status).toBe(200);

      // The other tenant allows the same origin, which does not make it allowed here.
      expect((await other.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST, STRANGER] })).status).toBe(200);
      expect((await call('GET', '/v1/me/integrations', STRANGER)).status).toBe(403);

      // Same-origin and originless (server-side) calls are not CORS at all.
      expect((await call('GET', '/v1/me/integrations', api.origin)).headers.get('access-control-allow-origin')).toBeNull();
      expect((await new Http(api.url).withBearer(token).get('/v1/me/integrations')).status).toBe(200);
    });

    it('keeps a 401 readable so the widget can ask the host for a fresh session', async () => {
      const res = await fetch(`${api.url}/v1/me/integrations`, { headers: { origin: HOST, authorization: 'Bearer sess_expired_or_unknown' } });
      expect(res.status).toBe(401);
      expect(cors(res).origin).toBe(HOST);
      expect((await res.json()).error.code).toBe('unauthenticated');
    });
  });

  describe('script files', () => {
    it('serves the loader briefly cached and the content-hashed widget cached for good, to any origin', async () => {
      const manifest = JSON.parse(readFileSync(join(resolveEmbedDist(), 'manifest.json'), 'utf8')) as { widget: string };
      const loader = await fetch(`${api.url}/embed/v1/loader.js`, { headers: { origin: HOST } });
      expect(loader.status).toBe(200);
      expect(loader.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(loader.headers.get('cache-control')).toBe('public, max-age=300');
      expect(loader.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
      expect(loader.headers.get('access-control-allow-origin')).toBe('*');
      expect(loader.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await loader.text()).toContain(manifest.widget);

      const widget = await fetch(`${api.url}/embed/v1/${manifest.widget}`);
      expect(widget.status).toBe(200);
      expect(widget.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(widget.headers.get('cross-origin-resource-policy')).toBe('cross-origin');

      for (const path of ['/embed/v1/widget.000000000000.js', '/embed/v1/manifest.json', '/embed/v1/..%2f..%2fpackage.json', '/embed/v1/.env']) {
        const res = await fetch(api.url + path);
        expect(res.status, path).toBe(404);
        expect((await res.json()).error.code).toBe('not_found');
      }
    });

    it('serves connector logos as inert SVG images', async () => {
      const logo = await fetch(`${api.url}/embed/v1/logos/slack.svg`);
      expect(logo.status).toBe(200);
      expect(logo.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
      expect(logo.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(await logo.text()).toMatch(/^<svg/);
      expect(logo.headers.get('cache-control')).toBe('public, max-age=86400');
      // The versioned URL the catalogue gives is cached for good; a stale version only for a day.
      const me = new Http(api.url).withBearer(await session(tenant, 'logo-viewer'));
      const slack = (await me.get('/v1/me/integrations')).body.data.find((i: { key: string }) => i.key === 'slack');
      const versioned = await fetch(slack.logoUrl);
      expect(versioned.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(await versioned.text()).toMatch(/^<svg/);
      expect((await fetch(`${api.url}/embed/v1/logos/slack.svg?v=old`)).headers.get('cache-control')).toBe('public, max-age=86400');
      for (const path of ['/embed/v1/logos/nope.svg', '/embed/v1/logos/slack.png', '/embed/v1/logos/__proto__.svg']) expect((await fetch(api.url + path)).status, path).toBe(404);
    });

    it('keeps within the size budget: loader ≤ 2 KB and widget ≤ 30 KB gzip', () => {
      const dist = resolveEmbedDist();
      const manifest = JSON.parse(readFileSync(join(dist, 'manifest.json'), 'utf8')) as { widget: string };
      const gzip = (file: string) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
      const sizes = { loader: gzip('loader.js'), widget: gzip(manifest.widget) };
      console.log(`embed gzip sizes: loader ${sizes.loader} B, widget ${sizes.widget} B`);
      expect(sizes.loader).toBeLessThanOrEqual(2 * 1024);
      expect(sizes.widget).toBeLessThanOrEqual(30 * 1024);
    });
  });
});
