import { Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'pg';
import { migrations } from '@switchboard/migrations';
import { migrateDown, migrateUp } from '../src/database/migrate';
import { addMember, createTenant, environmentOf, freshDatabase, Http, startApi, TenantFixture, TestApi } from './harness';

/**
 * Environments: a tenant starts with development (where its team works) and a protected
 * production; each has its own keys, origins, connector settings, end users, flows, runs and
 * webhooks. Flow templates reach production by promotion, with a diff first. The fuzzer checks
 * every documented operation across environments (fuzz.int-spec.ts); this file the rest.
 */
const HOST = 'https://app.acme.example';
const flow = (name: string, note: string) => ({
  key: 'welcome',
  name,
  trigger: { type: 'request' },
  connectors: [],
  inputs: {},
  steps: [{ id: 'greet', type: 'transform', output: `='${note}'` }],
});

describe('environments', () => {
  let api: TestApi;
  let dev: TenantFixture;
  let productionId: string;
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await startSandbox();
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    dev = await createTenant(api, 'Envs Co');
  });
  afterAll(async () => {
    await api?.close();
    await sandbox?.close();
  });

  it('gives a new tenant development (where its session starts) and a protected production', async () => {
    const me = await dev.owner.get('/v1/auth/me');
    expect(me.body.activeTenantId).toBe(dev.tenantId);
    expect(me.body.environments).toEqual([
      { id: dev.tenantId, name: 'development', protected: false, primary: true, createdAt: expect.any(String) },
      { id: expect.any(String), name: 'production', protected: true, primary: false, createdAt: expect.any(String) },
    ]);
    productionId = me.body.environments[1].id;
    expect((await dev.owner.get('/v1/admin/environments')).body.data.map((e: { name: string }) => e.name)).toEqual(['development', 'production']);
    expect((await dev.owner.get('/v1/admin/tenant')).body).toMatchObject({ id: dev.tenantId, environment: 'development', protected: false });
  });

  it('switches a session between environments; keys and sessions name theirs and work only there', async () => {
    const browser = new Http(api.url, { origin: api.origin });
    await browser.post('/v1/auth/login', { email: dev.email, password: dev.password });
    expect((await browser.post('/v1/auth/switch-tenant', { tenantId: productionId })).body.activeTenantId).toBe(productionId);
    expect((await browser.get('/v1/admin/tenant')).body).toMatchObject({ id: productionId, environment: 'production', protected: true, name: 'Envs Co' });

    const key = await browser.post('/v1/admin/api-keys', { name: 'prod backend' });
    expect(key.body.secret).toMatch(/^sk_production_[A-Za-z0-9_-]{43}$/);
    expect(key.body.apiKey.prefix).toMatch(/^sk_production_.{4}$/);
    const prodHost = new Http(api.url).withBearer(key.body.secret);
    // The development key does not list production's keys, and neither sees the other's end users.
    expect((await browser.get('/v1/admin/api-keys')).body.data.map((k: { name: string }) => k.name)).toEqual(['prod backend']);
    expect((await dev.owner.get('/v1/admin/api-keys')).body.data.map((k: { name: string }) => k.name)).toEqual(['test key']);
    await prodHost.put('/v1/end-users/carol', { displayName: 'Carol (prod)' });
    expect((await dev.host.get('/v1/end-users/carol')).status).toBe(404);
    const session = await prodHost.post('/v1/sessions', { endUserId: 'carol' });
    expect(session.body.token).toMatch(/^sess_production_/);

    // The other session is untouched, and a tenant that is not yours cannot be switched to.
    expect((await dev.owner.get('/v1/admin/tenant')).body.environment).toBe('development');
    const stranger = await createTenant(api, 'Stranger Co');
    const strangers = (await stranger.owner.get('/v1/auth/me')).body.environments as Array<{ id: string }>;
    for (const env of strangers) expect((await browser.post('/v1/auth/switch-tenant', { tenantId: env.id })).status).toBe(404);
    expect((await browser.patch(`/v1/admin/environments/${strangers[1]!.id}`, { protected: false })).status).toBe(404);
  });

  it('keeps allowed origins and connector settings per environment (the widget and the connect popup follow its session)', async () => {
    const prod = await environmentOf(api, dev, 'production');
    await prod.owner.patch(`/v1/admin/environments/${prod.environmentId}`, { protected: true });
    expect((await prod.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST] })).status).toBe(200);
    const slack = await prod.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } });
    expect(slack.status, JSON.stringify(slack.body)).toBe(200);
    expect((await dev.owner.get('/v1/admin/tenant')).body.allowedOrigins).toEqual([]);
    expect((await dev.owner.get('/v1/admin/connectors/slack')).body.enabled).toBeFalsy();

    await dev.host.put('/v1/end-users/dave', {});
    const devSession = (await dev.host.post('/v1/sessions', { endUserId: 'dave' })).body.token as string;
    await prod.host.put('/v1/end-users/dave', {});
    const prodSession = (await prod.host.post('/v1/sessions', { endUserId: 'dave' })).body.token as string;
    const widgetCall = (token: string) => fetch(`${api.url}/v1/me/integrations`, { headers: { origin: HOST, authorization: `Bearer ${token}` } });
    expect((await widgetCall(prodSession)).status).toBe(200);
    expect((await widgetCall(devSession)).status).toBe(403);

    const popup = (token: string) => fetch(`${api.url}/connect/slack?${new URLSearchParams({ session: token, origin: HOST })}`, { redirect: 'manual' });
    expect((await popup(prodSession)).status).toBe(302);
    expect((await popup(devSession)).status).not.toBe(302);
  });

  it('refuses direct template edits in a protected environment until an owner lifts protection', async () => {
    const prod = await environmentOf(api, dev, 'production');
    await prod.owner.patch(`/v1/admin/environments/${prod.environmentId}`, { protected: true });
    const refused = await prod.owner.post('/v1/admin/flow-templates', { definition: flow('Welcome', 'direct') });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'environment_protected', details: { environment: 'production' } });
    expect(refused.body.error.message).toMatch(/promotion/);

    const admin = await addMember(api, dev, 'admin');
    expect((await admin.browser.patch(`/v1/admin/environments/${prod.environmentId}`, { protected: false })).status).toBe(403);
    expect((await dev.owner.patch(`/v1/admin/environments/${prod.environmentId}`, { protected: 'yes' })).status).toBe(400);
    expect((await dev.owner.patch(`/v1/admin/environments/${prod.environmentId}`, { protected: false })).body).toMatchObject({ name: 'production', protected: false });
    expect((await prod.owner.post('/v1/admin/flow-templates', { definition: { ...flow('Scratch', 'x'), key: 'scratch' } })).status).toBe(201);
    expect((await dev.owner.patch(`/v1/admin/environments/${prod.environmentId}`, { protected: true })).body.protected).toBe(true);
    expect((await prod.owner.put('/v1/admin/flow-templates/scratch/draft', { definition: { ...flow('Scratch 2', 'y'), key: 'scratch' } })).status).toBe(409);
    expect((await prod.owner.post('/v1/admin/flow-templates/scratch/publish')).status).toBe(409);

    const audit = (await prod.owner.get('/v1/admin/audit-events?action=environment.updated')).body.data;
    expect(audit.slice(0, 2).map((e: { data: unknown }) => e.data)).toEqual([{ protected: { from: false, to: true } }, { protected: { from: true, to: false } }]);
  });

  it('promotes a published version with a diff first, refuses a stale one, and needs admin for a protected target', async () => {
    const prod = await environmentOf(api, dev, 'production');
    await prod.owner.patch(`/v1/admin/environments/${prod.environmentId}`, { protected: true });
    expect((await dev.owner.post('/v1/admin/flow-templates', { definition: flow('Welcome', 'hello v1') })).status).toBe(201);
    const preview = (query: string) => dev.owner.get(`/v1/admin/flow-templates/welcome/promotion?${query}`);

    // Nothing published yet: nothing to promote.
    expect((await dev.owner.post('/v1/admin/flow-templates/welcome/promote', { environmentId: prod.environmentId })).body.error.code).toBe('conflict');
    await dev.owner.post('/v1/admin/flow-templates/welcome/publish');

    const first = await preview(`environmentId=${prod.environmentId}`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      key: 'welcome',
      from: { environment: 'development', version: 1 },
      to: { environmentId: prod.environmentId, environment: 'production', version: 0 },
      upToDate: false,
      problems: [],
      connectorsNotEnabled: [],
    });
    expect(first.body.diff).toContain('+  "name": "Welcome"');
    expect(first.body.diff).toContain('hello v1');

    const developer = await addMember(api, dev, 'developer');
    const byDeveloper = await developer.browser.post('/v1/admin/flow-templates/welcome/promote', { environmentId: prod.environmentId, expectedVersion: 0 });
    expect(byDeveloper.status).toBe(403);
    expect(byDeveloper.body.error.code).toBe('insufficient_role');

    const promoted = await dev.owner.post('/v1/admin/flow-templates/welcome/promote', { environmentId: prod.environmentId, expectedVersion: 0 });
    expect(promoted.status).toBe(201);
    expect(promoted.body).toEqual({ environment: 'production', key: 'welcome', version: 1, changed: true });
    // Production runs it with its own key; development's key does not reach it.
    await prod.host.put('/v1/end-users/erin', {});
    await prod.host.post('/v1/end-users/erin/flows/welcome/enable', {});
    expect((await prod.owner.get('/v1/admin/flow-templates/welcome')).body.versions).toHaveLength(1);
    expect((await preview(`environmentId=${prod.environmentId}`)).body).toMatchObject({ upToDate: true, diff: '', to: { version: 1 } });

    // A second version: the diff shows the change, and a promotion against what the preview showed wins once.
    await dev.owner.put('/v1/admin/flow-templates/welcome/draft', { definition: flow('Welcome', 'hello v2') });
    await dev.owner.post('/v1/admin/flow-templates/welcome/publish');
    const second = await preview(`environmentId=${prod.environmentId}`);
    expect(second.body.diff).toMatch(/^-.*hello v1/m);
    expect(second.body.diff).toMatch(/^\+.*hello v2/m);
    expect(second.body.to.version).toBe(1);
    const stale = await dev.owner.post('/v1/admin/flow-templates/welcome/promote', { environmentId: prod.environmentId, expectedVersion: 0 });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({ code: 'promotion_outdated', details: { expectedVersion: 0, version: 1 } });
    expect((await dev.owner.post('/v1/admin/flow-templates/welcome/promote', { environmentId: prod.environmentId, expectedVersion: 1 })).body).toMatchObject({
      version: 2,
      changed: true,
    });
    // Promoting an older version is a new version there too (a rollback by promotion).
    expect((await dev.owner.post('/v1/admin/flow-templates/welcome/promote', { environmentId: prod.environmentId, version: 1 })).body).toMatchObject({ version: 3 });
    expect((await prod.owner.get('/v1/admin/flow-templates/welcome')).body.versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);

    // Both environments' audit logs say what moved where.
    for (const side of [dev.owner, prod.owner]) {
      const events = (await side.get('/v1/admin/audit-events?action=flow_template.promoted')).body.data;
      expect(events[events.length - 1].data).toMatchObject({ key: 'welcome', from: 'development', fromVersion: 1, to: 'production', toVersion: 1 });
    }

    // Not to itself, not to someone else's environment, not a malformed id.
    expect((await dev.owner.post('/v1/admin/flow-templates/welcome/promote', { environmentId: dev.tenantId })).status).toBe(400);
    const stranger = await createTenant(api, 'Other Co');
    const theirs = (await stranger.owner.get('/v1/auth/me')).body.environments[1].id;
    expect((await dev.owner.post('/v1/admin/flow-templates/welcome/promote', { environmentId: theirs })).status).toBe(404);
    expect((await preview(`environmentId=${theirs}`)).status).toBe(404);
    expect((await preview('environmentId=nope')).status).toBe(400);
  });

  it('names what the target lacks: a connector it has not enabled, a custom provider it does not have', async () => {
    const staging = await environmentOf(api, dev, 'staging');
    const provider = {
      key: 'acme-api',
      definition: {
        name: 'Acme API',
        description: 'Our own API',
        docsUrl: 'https://api.acme.example/docs',
        verify: { path: 'me', accountId: 'id' },
        categories: ['other'],
        logo: { color: '#123456' },
        auth: { type: 'api_key', in: 'header', name: 'X-Key' },
        baseUrl: 'https://api.acme.example',
      },
    };
    const own = await dev.owner.post('/v1/admin/custom-providers', provider);
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    const definition = {
      key: 'ping',
      name: 'Ping',
      trigger: { type: 'request' },
      connectors: ['acme-api', 'slack'],
      inputs: {},
      steps: [{ id: 'x', type: 'transform', output: '=1' }],
    };
    expect((await dev.owner.post('/v1/admin/flow-templates', { definition })).status).toBe(201);
    const published = await dev.owner.post('/v1/admin/flow-templates/ping/publish');
    expect(published.status, JSON.stringify(published.body)).toBe(201);

    const preview = await dev.owner.get(`/v1/admin/flow-templates/ping/promotion?environmentId=${staging.environmentId}`);
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    expect(preview.body.connectorsNotEnabled).toEqual(expect.arrayContaining(['slack']));
    expect(preview.body.problems.map((p: { message: string }) => p.message).join(' ')).toMatch(/acme-api/);
    const refused = await dev.owner.post('/v1/admin/flow-templates/ping/promote', { environmentId: staging.environmentId });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'validation_failed', details: { environment: 'staging' } });
    expect(refused.body.error.message).toMatch(/^In staging: /);
    // Nothing half-written: staging has no template.
    expect((await staging.owner.get('/v1/admin/flow-templates/ping')).status).toBe(404);
  });

  it('adds environments (admins), refuses a duplicate or a bad name, and keeps members tenant-wide', async () => {
    const created = await dev.owner.post('/v1/admin/environments', { name: 'qa', protected: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'qa', protected: true, primary: false });
    expect((await dev.owner.post('/v1/admin/environments', { name: 'qa' })).body.error.code).toBe('conflict');
    const bad = await dev.owner.post('/v1/admin/environments', { name: 'QA env!' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.errors[0].path).toBe('name');
    // At most 20 (development, production, staging and qa exist): created at once, one over the cap is refused.
    const many = await Promise.all(Array.from({ length: 17 }, (_, i) => dev.owner.post('/v1/admin/environments', { name: `extra-${i}` })));
    expect(many.map((r) => r.status).sort()).toEqual([...Array(16).fill(201), 409]);
    expect((await dev.owner.get('/v1/admin/environments')).body.data).toHaveLength(20);
    const viewer = await addMember(api, dev, 'viewer');
    expect((await viewer.browser.post('/v1/admin/environments', { name: 'mine' })).status).toBe(403);
    // A member sees every environment of the tenant, with the role they have in the tenant.
    expect((await viewer.browser.post('/v1/auth/switch-tenant', { tenantId: created.body.id })).status).toBe(200);
    expect((await viewer.browser.get('/v1/admin/tenant')).body.environment).toBe('qa');
    expect((await viewer.browser.post('/v1/admin/api-keys', { name: 'x' })).status).toBe(403);
    const members = (await viewer.browser.get('/v1/admin/members')).body.data.map((m: { email: string }) => m.email);
    expect(members).toEqual(expect.arrayContaining([dev.email, viewer.email]));
    // Renaming the tenant renames it in every environment.
    expect((await dev.owner.patch('/v1/admin/tenant', { name: 'Envs Inc.' })).status).toBe(200);
    expect((await viewer.browser.get('/v1/admin/tenant')).body.name).toBe('Envs Inc.');
  });

  it('turns an existing tenant into its production environment (direct edits still allowed) beside an empty development', async () => {
    const database = await freshDatabase();
    const db = new Client({ connectionString: database.url });
    try {
      // Back to just before AddEnvironments, whatever came after it.
      const after = migrations.length - migrations.findIndex((m) => m.name === 'AddEnvironments1795497000000');
      expect(await migrateDown(database.url, after)).toBe(after);
      await db.connect();
      const [old] = (await db.query(`INSERT INTO tenants (name, slug, allowed_origins) VALUES ('Old Co', 'old-co', '{https://old.example}') RETURNING id`)).rows;
      await migrateUp(database.url);
      const rows = (await db.query(`SELECT id, account_id, environment, protected, slug, allowed_origins FROM tenants ORDER BY environment`)).rows;
      expect(rows).toEqual([
        { id: expect.any(String), account_id: old.id, environment: 'development', protected: false, slug: 'old-co', allowed_origins: [] },
        { id: old.id, account_id: old.id, environment: 'production', protected: false, slug: 'old-co', allowed_origins: ['https://old.example'] },
      ]);
      // The slug stays unique among tenants, shared by a tenant's environments.
      const another = (slug: string) =>
        db.query(`INSERT INTO tenants (id, account_id, environment, name, slug) SELECT id, id, 'development', 'x', $1 FROM (SELECT gen_random_uuid() AS id) n`, [slug]);
      await expect(another('old-co')).rejects.toThrow(/tenants_slug_key/);
      await another('new-co');
    } finally {
      await db.end();
      await database.drop();
    }
  });
});
