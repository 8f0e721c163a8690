import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyIdOf, Vault } from '../src/vault/vault';
import { addMember, createTenant, freshDatabase, startApi, TenantFixture, TestApi } from './harness';

describe('connector configs (admin API)', () => {
  let api: TestApi;
  let tenant: TenantFixture;
  let other: TenantFixture;
  const masterKey = randomBytes(32).toString('base64');
  // Its own database: `vault rotate` touches every row, and other test files use other master keys.
  let database: Awaited<ReturnType<typeof freshDatabase>>;

  beforeAll(async () => {
    database = await freshDatabase();
    api = await startApi({ MASTER_KEY: masterKey, SANDBOX_URL: 'http://127.0.0.1:4999', DATABASE_URL: database.url });
    tenant = await createTenant(api, 'Connectors Co');
    other = await createTenant(api, 'Other Co');
  });
  afterAll(async () => {
    await api.close();
    await database.drop();
  });

  it('lists the catalogue with every connector disabled at first and the callback URL to register', async () => {
    const res = await tenant.owner.get('/v1/admin/connectors');
    expect(res.status).toBe(200);
    const keys = res.body.data.map((c: { key: string }) => c.key);
    expect(keys).toEqual(expect.arrayContaining(['slack', 'github', 'hubspot', 'salesforce', 'google-sheets', 'notion', 'stripe', 'http']));
    const slack = res.body.data.find((c: { key: string }) => c.key === 'slack');
    expect(slack).toMatchObject({ name: 'Slack', authType: 'oauth2', config: { enabled: false, hasClientSecret: false, callbackUrl: `${api.url}/oauth/callback` } });
    expect(slack.actions.map((a: { key: string }) => a.key)).toContain('send_message');
    expect(slack.optionSources).toContain('channels');
    // Lean: the list names each logo's URL (served as an image, versioned); one connector has the SVG too.
    expect(slack.logo).toBeUndefined();
    expect(slack.logoUrl).toMatch(new RegExp(`^${api.url}/embed/v1/logos/slack\\.svg\\?v=[\\w-]{10}$`));
    const image = await fetch(slack.logoUrl);
    expect(image.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(image.headers.get('cache-control')).toContain('immutable');
    const one = await tenant.owner.get('/v1/admin/connectors/slack');
    expect(one.body.logo).toBe(await image.text());
    expect(one.body.logoUrl).toBe(slack.logoUrl);
    // Compressed on the wire (fetch decompresses it).
    const raw = await fetch(`${api.url}/v1/admin/connectors`, { headers: { cookie: tenant.owner.cookie!, origin: api.url, 'accept-encoding': 'gzip' } });
    expect(raw.headers.get('content-encoding')).toBe('gzip');
    expect((await raw.json()).data).toHaveLength(res.body.data.length);
  });

  it('says which connectors have a client secret stored, in the list and on each, never the secret', async () => {
    expect((await tenant.owner.put('/v1/admin/connectors/github', { clientId: 'gh-app', clientSecret: 'gh-secret-value' })).status).toBe(200);
    const list = await tenant.owner.get('/v1/admin/connectors');
    const byKey = new Map(list.body.data.map((c: { key: string }) => [c.key, c]));
    expect(byKey.get('github')).toMatchObject({ config: { clientId: 'gh-app', hasClientSecret: true } });
    expect(byKey.get('slack')).toMatchObject({ config: { hasClientSecret: false } });
    expect(JSON.stringify(list.body)).not.toContain('gh-secret-value');
    // Another tenant's secret is not this tenant's.
    expect((await other.owner.get('/v1/admin/connectors')).body.data.find((c: { key: string }) => c.key === 'github').config.hasClientSecret).toBe(false);
    expect((await tenant.owner.delete('/v1/admin/connectors/github')).status).toBe(204);
  });

  it('refuses to enable an OAuth connector without its client id and secret, naming the missing field', async () => {
    const res = await tenant.owner.put('/v1/admin/connectors/github', { enabled: true });
    expect(res.status).toBe(400);
    expect(res.body.error.details.errors[0].path).toBe('clientId');
    expect((await tenant.owner.get('/v1/admin/connectors/github')).body.config.enabled).toBe(false);
  });

  it('stores the client secret encrypted and bound to its row, never returns or audits it', async () => {
    const secret = `gh-secret-${randomBytes(6).toString('hex')}`;
    const res = await tenant.owner.put('/v1/admin/connectors/github', { enabled: true, clientId: 'Iv1.abc', clientSecret: secret, scopes: ['repo', 'repo'] });
    expect(res.status).toBe(200);
    expect(res.body.config).toMatchObject({ enabled: true, clientId: 'Iv1.abc', hasClientSecret: true, scopes: ['repo'] });
    expect(JSON.stringify(res.body)).not.toContain(secret);

    const [row] = await api.app
      .get(DataSource)
      .query(`SELECT id, tenant_id, client_secret FROM connector_configs WHERE tenant_id = $1 AND connector_key = 'github'`, [tenant.tenantId]);
    expect(row.client_secret).not.toContain(secret);
    expect(row.client_secret.split('.')[1]).toBe(keyIdOf(Buffer.from(masterKey, 'base64')));
    const vault = new Vault(Buffer.from(masterKey, 'base64'));
    expect(vault.decrypt(row.client_secret, { tenantId: row.tenant_id, purpose: 'connector_configs.client_secret', rowId: row.id })).toBe(secret);
    // Moved to another tenant's row it is useless.
    expect(() => vault.decrypt(row.client_secret, { tenantId: other.tenantId, purpose: 'connector_configs.client_secret', rowId: row.id })).toThrow();

    const audit = await tenant.owner.get('/v1/admin/audit-events?action=connector_config.updated');
    expect(audit.body.data[0]).toMatchObject({ targetId: 'github', data: { fields: expect.arrayContaining(['clientSecret', 'clientId', 'enabled']) } });
    expect(JSON.stringify(audit.body)).not.toContain(secret);
  });

  it('enables sandboxed OAuth connectors without client credentials, and API-key connectors as they are', async () => {
    expect((await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } })).body.config).toMatchObject({
      enabled: true,
      settings: { useSandbox: true },
    });
    expect((await tenant.owner.put('/v1/admin/connectors/stripe', { enabled: true })).status).toBe(200);
  });

  it('validates bodies, keys and roles', async () => {
    expect((await tenant.owner.put('/v1/admin/connectors/nope', { enabled: true })).status).toBe(404);
    const bad = await tenant.owner.put('/v1/admin/connectors/slack', { enabled: 'yes', settings: { useSandbox: 1, extra: true } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['enabled', 'settings.useSandbox', 'settings.extra']));
    const developer = await addMember(api, tenant, 'developer');
    expect((await developer.browser.put('/v1/admin/connectors/slack', { enabled: false })).status).toBe(403);
    expect((await developer.browser.get('/v1/admin/connectors')).status).toBe(200);
  });

  it("keeps tenants apart: another tenant sees none of this tenant's settings", async () => {
    const theirs = (await other.owner.get('/v1/admin/connectors')).body.data;
    expect(theirs.every((c: { config: { enabled: boolean; hasClientSecret: boolean } }) => !c.config.enabled && !c.config.hasClientSecret)).toBe(true);
    expect((await other.owner.delete('/v1/admin/connectors/github')).status).toBe(404);
    expect((await tenant.owner.get('/v1/admin/connectors/github')).body.config.enabled).toBe(true);
  });

  it('refuses sandbox mode on a deployment without a sandbox', async () => {
    const plain = await startApi();
    try {
      const t = await createTenant(plain);
      const res = await t.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } });
      expect(res).toMatchObject({ status: 400, body: { error: { details: { errors: [{ path: 'settings.useSandbox' }] } } } });
    } finally {
      await plain.close();
    }
  });

  it('vault rotate re-encrypts every secret under a new master key, old key still readable meanwhile', async () => {
    const newKey = randomBytes(32).toString('base64');
    const env = { ...process.env, DATABASE_URL: api.config.database.url, MASTER_KEY: newKey, MASTER_KEY_PREVIOUS: masterKey, REDIS_URL: api.config.redis.url };
    const output = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'cli', 'main.js'), 'vault', 'rotate'], { env });
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (out += c));
      child.on('exit', (code) => resolve({ code, out }));
    });
    expect(output.code).toBe(0);
    expect(output.out).toMatch(/connector_configs\.client_secret: re-encrypted [1-9]\d*/);
    const rows: Array<{ client_secret: string }> = await api.app.get(DataSource).query(`SELECT client_secret FROM connector_configs WHERE client_secret IS NOT NULL`);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.client_secret.split('.')[1] === keyIdOf(Buffer.from(newKey, 'base64')))).toBe(true);
  });
});
