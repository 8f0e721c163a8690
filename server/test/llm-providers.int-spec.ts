import { type Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { generateText, jsonSchema, stepCountIs, tool } from 'ai';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../src/common/errors/app-error';
import { trustedTenantId } from '../src/common/tenancy/tenant-id';
import { LlmModels } from '../src/llm-providers/llm-models.service';
import { rotateVault } from '../src/vault/rotate';
import { keyIdOf, Vault } from '../src/vault/vault';
import { addMember, createTenant, freePort, freshDatabase, startApi, TenantFixture, TestApi } from './harness';

describe('LLM providers', () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let tenant: TenantFixture;
  let other: TenantFixture;
  let db: DataSource;
  let models: LlmModels;

  beforeAll(async () => {
    sandbox = await startSandbox();
    // The sandbox's loopback address and port are allowed, as in other tests; nothing else private is.
    api = await startApi({ OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    tenant = await createTenant(api, 'Models Co');
    other = await createTenant(api, 'Other Co');
    db = api.app.get(DataSource);
    models = api.app.get(LlmModels);
  });
  afterAll(async () => {
    await api?.close();
    await sandbox?.close();
  });
  beforeEach(() => sandbox.reset());

  const sandboxProvider = (overrides: Record<string, unknown> = {}) => ({
    key: 'sandbox',
    kind: 'openai-compatible',
    name: 'Sandbox model',
    baseUrl: sandbox.llmUrl,
    apiKey: 'sk-sandbox-1',
    defaultModel: 'agent',
    ...overrides,
  });

  describe('admin API', () => {
    it('creates, lists, reads, changes and deletes a provider; the key is write-only and stored encrypted', async () => {
      const created = await tenant.owner.post('/v1/admin/llm-providers', sandboxProvider({ key: 'crud', baseUrl: `${sandbox.llmUrl}/` }));
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ key: 'crud', kind: 'openai-compatible', name: 'Sandbox model', baseUrl: sandbox.llmUrl, hasApiKey: true, defaultModel: 'agent' });
      expect(created.body).not.toHaveProperty('apiKey');
      expect(JSON.stringify(created.body)).not.toContain('sk-sandbox-1');

      const [row] = await db.query(`SELECT api_key FROM llm_providers WHERE tenant_id = $1 AND key = 'crud'`, [tenant.tenantId]);
      expect(row.api_key).toMatch(/^v1\./);
      expect(row.api_key).not.toContain('sk-sandbox-1');

      const list = await tenant.owner.get('/v1/admin/llm-providers');
      expect(list.status).toBe(200);
      expect(list.body.data.map((p: { key: string }) => p.key)).toContain('crud');
      expect(JSON.stringify(list.body)).not.toContain('v1.');
      expect((await tenant.owner.get('/v1/admin/llm-providers/crud')).body).toMatchObject({ key: 'crud', hasApiKey: true });

      const changed = await tenant.owner.patch('/v1/admin/llm-providers/crud', { name: 'Renamed', defaultModel: 'other', apiKey: null });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ key: 'crud', name: 'Renamed', defaultModel: 'other', hasApiKey: false });
      const keyAgain = await tenant.owner.patch('/v1/admin/llm-providers/crud', { apiKey: 'sk-new' });
      expect(keyAgain.body.hasApiKey).toBe(true);
      // Nothing given, nothing changes (and nothing is audited).
      expect((await tenant.owner.patch('/v1/admin/llm-providers/crud', {})).status).toBe(200);

      expect((await tenant.owner.delete('/v1/admin/llm-providers/crud')).status).toBe(204);
      expect((await tenant.owner.get('/v1/admin/llm-providers/crud')).status).toBe(404);
      expect((await tenant.owner.delete('/v1/admin/llm-providers/crud')).status).toBe(404);

      const audit = await tenant.owner.get('/v1/admin/audit-events?targetType=llm_provider');
      const events = audit.body.data.filter((e: { data: { key?: string } }) => e.data.key === 'crud');
      expect(events.map((e: { action: string }) => e.action).sort()).toEqual(['llm_provider.created', 'llm_provider.deleted', 'llm_provider.updated', 'llm_provider.updated']);
      const updated = events.find((e: { action: string; data: { fields?: string[] } }) => e.action === 'llm_provider.updated' && e.data.fields?.includes('name'));
      expect(updated.data.fields.sort()).toEqual(['apiKey', 'defaultModel', 'name']);
      expect(JSON.stringify(audit.body)).not.toMatch(/sk-sandbox-1|sk-new|v1\.[0-9a-f]{8}\./);
    });

    it('refuses bad input with 400 naming the field', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [sandboxProvider({ key: 'Bad Key' }), 'key'],
        [sandboxProvider({ key: 'x'.repeat(41) }), 'key'],
        [sandboxProvider({ key: 'k1', kind: 'gemini' }), 'kind'],
        [sandboxProvider({ key: 'k1', name: '' }), 'name'],
        [sandboxProvider({ key: 'k1', baseUrl: null }), 'baseUrl'], // required for openai-compatible
        [sandboxProvider({ key: 'k1', baseUrl: 'not a url' }), 'baseUrl'],
        [sandboxProvider({ key: 'k1', baseUrl: 'ftp://llm.example.com/v1' }), 'baseUrl'],
        [sandboxProvider({ key: 'k1', baseUrl: 'http://llm.example.com/v1' }), 'baseUrl'], // http only for allow-listed addresses
        [sandboxProvider({ key: 'k1', baseUrl: 'https://user:pw@llm.example.com/v1' }), 'baseUrl'],
        [sandboxProvider({ key: 'k1', baseUrl: 'https://llm.example.com/v1?x=1' }), 'baseUrl'],
        [sandboxProvider({ key: 'k1', baseUrl: 'https://169.254.169.254/latest' }), 'baseUrl'], // cloud metadata
        [sandboxProvider({ key: 'k1', baseUrl: 'https://10.1.2.3/v1' }), 'baseUrl'],
        [sandboxProvider({ key: 'k1', baseUrl: `http://127.0.0.1:${sandbox.port + 1}/v1` }), 'baseUrl'], // another port than the allowed one
        [{ key: 'k1', kind: 'openai', name: 'OpenAI' }, 'apiKey'], // openai and anthropic need a key
        [{ key: 'k1', kind: 'anthropic', name: 'Claude', apiKey: '' }, 'apiKey'],
        [sandboxProvider({ key: 'k1', defaultModel: 'm'.repeat(201) }), 'defaultModel'],
        [sandboxProvider({ key: 'k1', extra: true }), 'extra'],
      ];
      for (const [body, field] of cases) {
        const res = await tenant.owner.post('/v1/admin/llm-providers', body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
        expect(
          res.body.error.details.errors.map((e: { path: string }) => e.path),
          JSON.stringify(res.body),
        ).toContain(field);
      }
      expect((await tenant.owner.get('/v1/admin/llm-providers/k1')).status).toBe(404);

      expect((await tenant.owner.post('/v1/admin/llm-providers', sandboxProvider({ key: 'patchy' }))).status).toBe(201);
      const patches: Array<[Record<string, unknown>, string]> = [
        [{ baseUrl: null }, 'baseUrl'],
        [{ kind: 'openai', apiKey: null }, 'apiKey'],
        [{ key: 'renamed' }, 'key'],
        [{ name: null }, 'name'],
        [{ baseUrl: 'https://192.168.0.1/v1' }, 'baseUrl'],
      ];
      for (const [body, field] of patches) {
        const res = await tenant.owner.patch('/v1/admin/llm-providers/patchy', body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error.details.errors.map((e: { path: string }) => e.path)).toContain(field);
      }
      // A kind change is checked as a whole: openai with a key and the sandbox's base URL is fine.
      const toOpenAi = await tenant.owner.patch('/v1/admin/llm-providers/patchy', { kind: 'openai' });
      expect(toOpenAi.status).toBe(200);
      expect(toOpenAi.body.kind).toBe('openai');
      expect((await tenant.owner.delete('/v1/admin/llm-providers/patchy')).status).toBe(204);
    });

    it('refuses a key the tenant already uses (409), but another tenant may use it', async () => {
      expect((await tenant.owner.post('/v1/admin/llm-providers', sandboxProvider({ key: 'dup' }))).status).toBe(201);
      const again = await tenant.owner.post('/v1/admin/llm-providers', sandboxProvider({ key: 'dup' }));
      expect(again.status).toBe(409);
      expect(again.body.error).toMatchObject({ code: 'provider_key_taken', details: { errors: [{ path: 'key' }] } });
      expect((await other.owner.post('/v1/admin/llm-providers', sandboxProvider({ key: 'dup', name: 'Theirs' }))).status).toBe(201);
      expect((await tenant.owner.get('/v1/admin/llm-providers/dup')).body.name).toBe('Sandbox model');
    });

    it("keeps tenants apart: another tenant's keys are 404 for reading, changing and deleting", async () => {
      expect((await tenant.owner.post('/v1/admin/llm-providers', sandboxProvider({ key: 'mine-only' }))).status).toBe(201);
      expect((await other.owner.get('/v1/admin/llm-providers/mine-only')).status).toBe(404);
      expect((await other.owner.patch('/v1/admin/llm-providers/mine-only', { name: 'stolen' })).status).toBe(404);
      expect((await other.owner.delete('/v1/admin/llm-providers/mine-only')).status).toBe(404);
      expect((await other.owner.get('/v1/admin/llm-providers')).body.data.map((p: { key: string }) => p.key)).not.toContain('mine-only');
      expect((await tenant.owner.get('/v1/admin/llm-providers/mine-only')).body.name).toBe('Sandbox model');
      await expect(models.model(trustedTenantId(other.tenantId), 'mine-only')).rejects.toMatchObject({ code: 'llm_provider_not_found' });
    });

    it('lets viewers read and only admins change', async () => {
      expect((await tenant.owner.post('/v1/admin/llm-providers', sandboxProvider({ key: 'roles' }))).status).toBe(201);
      const viewer = (await addMember(api, tenant, 'viewer')).browser;
      expect((await viewer.get('/v1/admin/llm-providers')).status).toBe(200);
      expect((await viewer.get('/v1/admin/llm-providers/roles')).body.hasApiKey).toBe(true);
      expect((await viewer.post('/v1/admin/llm-providers', sandboxProvider({ key: 'viewer-made' }))).status).toBe(403);
      expect((await viewer.patch('/v1/admin/llm-providers/roles', { name: 'x' })).status).toBe(403);
      expect((await viewer.delete('/v1/admin/llm-providers/roles')).status).toBe(403);
      expect((await tenant.host.get('/v1/admin/llm-providers')).status).toBe(401);
    });
  });

  describe('LlmModels', () => {
    it('calls the sandbox model over real HTTP with generateText and tools, with the stored key', async () => {
      expect((await tenant.owner.post('/v1/admin/llm-providers', sandboxProvider({ key: 'agent-llm' }))).status).toBe(201);
      sandbox.scriptModel('agent', [{ toolCalls: [{ name: 'find_contact', arguments: { email: '{{input.email}}' } }] }, { content: 'Hello {{tools.find_contact.firstname}}' }]);
      const { model, provider, modelName } = await models.model(trustedTenantId(tenant.tenantId), 'agent-llm');
      expect(provider).toEqual({ key: 'agent-llm', kind: 'openai-compatible' });
      expect(modelName).toBe('agent');
      const found: unknown[] = [];
      const result = await generateText({
        model,
        prompt: JSON.stringify({ email: 'ada@example.com' }),
        tools: {
          find_contact: tool({
            description: 'Find a contact by email',
            inputSchema: jsonSchema<{ email: string }>({ type: 'object', properties: { email: { type: 'string' } }, required: ['email'] }),
            execute: async (input) => {
              found.push(input);
              return { firstname: 'Ada' };
            },
          }),
        },
        stopWhen: stepCountIs(4),
      });
      expect(found).toEqual([{ email: 'ada@example.com' }]);
      expect(result.text).toBe('Hello Ada');
      expect(result.steps.map((s) => s.finishReason)).toEqual(['tool-calls', 'stop']);
      const calls = sandbox.calls({ connector: 'llm', path: '/v1/chat/completions' });
      expect(calls).toHaveLength(2);
      expect(calls[0]!.headers.authorization).toBe('Bearer sk-sandbox-1');
      expect(sandbox.llmRequests('agent')[0]!.tools).toEqual([expect.objectContaining({ function: expect.objectContaining({ name: 'find_contact' }) })]);
    });

    it('uses the model the step names over the default, and openai (chat completions) works against a compatible server', async () => {
      expect(
        (
          await tenant.owner.post('/v1/admin/llm-providers', {
            key: 'openai-proxy',
            kind: 'openai',
            name: 'OpenAI via proxy',
            baseUrl: sandbox.llmUrl,
            apiKey: 'sk-openai',
            defaultModel: 'agent',
          })
        ).status,
      ).toBe(201);
      sandbox.scriptModel('gpt-sandbox', [{ content: 'from the named model' }]);
      const { model, provider, modelName } = await models.model(trustedTenantId(tenant.tenantId), 'openai-proxy', 'gpt-sandbox');
      expect(provider.kind).toBe('openai');
      expect(modelName).toBe('gpt-sandbox');
      expect((await generateText({ model, prompt: 'hi' })).text).toBe('from the named model');
      expect(sandbox.llmRequests('gpt-sandbox')).toHaveLength(1);
      expect(sandbox.calls({ connector: 'llm' })[0]!.headers.authorization).toBe('Bearer sk-openai');
    });

    it('sees a changed provider at once (the cache follows updated_at) and a deleted one is not found', async () => {
      expect((await tenant.owner.post('/v1/admin/llm-providers', sandboxProvider({ key: 'rotating', apiKey: 'sk-old' }))).status).toBe(201);
      sandbox.scriptModel('agent', [{ content: 'ok' }]);
      const tenantId = trustedTenantId(tenant.tenantId);
      await generateText({ model: (await models.model(tenantId, 'rotating')).model, prompt: 'a' });
      expect((await tenant.owner.patch('/v1/admin/llm-providers/rotating', { apiKey: 'sk-rotated' })).status).toBe(200);
      await generateText({ model: (await models.model(tenantId, 'rotating')).model, prompt: 'b' });
      expect(sandbox.calls({ connector: 'llm' }).map((c) => c.headers.authorization)).toEqual(['Bearer sk-old', 'Bearer sk-rotated']);
      expect((await tenant.owner.delete('/v1/admin/llm-providers/rotating')).status).toBe(204);
      await expect(models.model(tenantId, 'rotating')).rejects.toMatchObject({ code: 'llm_provider_not_found', status: 404 });
    });

    it("never falls back to the deployment's OPENAI_* / ANTHROPIC_* environment for a tenant's provider", async () => {
      vi.stubEnv('OPENAI_BASE_URL', sandbox.llmUrl);
      vi.stubEnv('OPENAI_API_KEY', 'sk-operator');
      vi.stubEnv('ANTHROPIC_BASE_URL', sandbox.llmUrl);
      vi.stubEnv('ANTHROPIC_API_KEY', 'sk-operator');
      try {
        const tenantId = trustedTenantId(tenant.tenantId);
        expect(
          (await tenant.owner.post('/v1/admin/llm-providers', { key: 'env-openai', kind: 'openai', name: 'OpenAI', apiKey: 'sk-tenant', defaultModel: 'gpt-4o-mini' })).status,
        ).toBe(201);
        expect(
          (await tenant.owner.post('/v1/admin/llm-providers', { key: 'env-anthropic', kind: 'anthropic', name: 'Claude', apiKey: 'sk-tenant', defaultModel: 'claude-sonnet-4-5' }))
            .status,
        ).toBe(201);
        const openai = (await models.model(tenantId, 'env-openai')).model as unknown as {
          config: { url(o: { path: string; modelId: string }): string; headers(): Record<string, string> };
        };
        expect(openai.config.url({ path: '/chat/completions', modelId: 'gpt-4o-mini' })).toBe('https://api.openai.com/v1/chat/completions');
        expect(JSON.stringify(openai.config.headers())).toContain('Bearer sk-tenant');
        const anthropic = (await models.model(tenantId, 'env-anthropic')).model as unknown as { config: { baseURL: string; headers(): Record<string, string> } };
        expect(anthropic.config.baseURL).toBe('https://api.anthropic.com/v1');
        expect(JSON.stringify(anthropic.config.headers())).toContain('sk-tenant');
        expect(JSON.stringify(anthropic.config.headers())).not.toContain('sk-operator');
      } finally {
        vi.unstubAllEnvs();
      }
    });

    it('throws llm_provider_not_found for an unknown key and llm_model_missing without a model', async () => {
      const tenantId = trustedTenantId(tenant.tenantId);
      const unknown = await models.model(tenantId, 'no-such-provider').catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(AppError);
      expect(unknown).toMatchObject({ code: 'llm_provider_not_found', status: 404 });
      expect((unknown as Error).message).toContain('no-such-provider');
      expect((await tenant.owner.post('/v1/admin/llm-providers', sandboxProvider({ key: 'no-default', defaultModel: null }))).status).toBe(201);
      await expect(models.model(tenantId, 'no-default')).rejects.toMatchObject({ code: 'llm_model_missing', status: 409 });
      await expect(models.model(tenantId, 'no-default', '  ')).rejects.toMatchObject({ code: 'llm_model_missing' });
      expect((await models.model(tenantId, 'no-default', 'agent')).modelName).toBe('agent');
    });

    it('refuses, through the guard, a provider whose base URL reaches a private address', async () => {
      const tenantId = trustedTenantId(tenant.tenantId);
      sandbox.scriptModel('agent', [{ content: 'must not be reached' }]);
      // A name that resolves to loopback passes the API's check (names are checked when connecting) …
      const closedPort = await freePort();
      const byName = await tenant.owner.post('/v1/admin/llm-providers', sandboxProvider({ key: 'by-name', baseUrl: `https://localhost:${closedPort}/llm/v1` }));
      expect(byName.status, JSON.stringify(byName.body)).toBe(201);
      // … and a private IP literal written past the API (an older row, a restored backup) is refused too.
      await db.query(`INSERT INTO llm_providers (tenant_id, key, kind, name, base_url, default_model) VALUES ($1, 'literal', 'openai-compatible', 'Literal', $2, 'agent')`, [
        tenantId,
        `http://127.0.0.1:${closedPort}/v1`,
      ]);
      await db.query(
        `INSERT INTO llm_providers (tenant_id, key, kind, name, base_url, default_model) VALUES ($1, 'metadata', 'openai-compatible', 'Metadata', 'http://169.254.169.254/v1', 'agent')`,
        [tenantId],
      );
      for (const key of ['by-name', 'literal', 'metadata']) {
        const { model } = await models.model(tenantId, key);
        const error = (await generateText({ model, prompt: 'hi', maxRetries: 0 }).catch((e: unknown) => e)) as Error;
        expect(error, key).toBeInstanceOf(Error);
        const chain = [error, (error as { cause?: unknown }).cause].map((e) => String((e as Error | undefined)?.message ?? '')).join(' | ');
        expect(chain, key).toMatch(/Refusing to connect to .*private, loopback and link-local destinations are blocked/);
      }
      expect(sandbox.llmRequests()).toEqual([]);
    });

    it('keeps the key usable across `vault rotate`', async () => {
      // Its own database: rotation touches every row, and other files use other master keys. Last in
      // the file: a second API in this process takes over the portal-session strategy (passport's
      // strategies are process-wide), so the first API's cookie requests would be checked against
      // the second one's origin.
      const database = await freshDatabase();
      const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
      const env = { DATABASE_URL: database.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` };
      let current: TestApi | undefined;
      try {
        current = await startApi({ ...env, MASTER_KEY: oldKey.toString('base64') });
        const t = await createTenant(current, 'Rotate Co');
        expect((await t.owner.post('/v1/admin/llm-providers', sandboxProvider({ key: 'rotated', apiKey: 'sk-survives-rotation' }))).status).toBe(201);
        await current.close();
        current = undefined;

        const rotating = new DataSource({ type: 'postgres', url: database.url });
        await rotating.initialize();
        try {
          expect(await rotateVault(rotating, new Vault(newKey, [oldKey]), () => undefined)).toBeGreaterThan(0);
          const [row] = await rotating.query(`SELECT api_key FROM llm_providers WHERE key = 'rotated'`);
          expect(row.api_key.split('.')[1]).toBe(keyIdOf(newKey));
        } finally {
          await rotating.destroy();
        }

        // Under the new key alone, the model is called with the key it was given.
        current = await startApi({ ...env, MASTER_KEY: newKey.toString('base64') });
        sandbox.scriptModel('agent', [{ content: 'still here' }]);
        const { model } = await current.app.get(LlmModels).model(trustedTenantId(t.tenantId), 'rotated');
        expect((await generateText({ model, prompt: 'hi' })).text).toBe('still here');
        expect(sandbox.calls({ connector: 'llm' })[0]!.headers.authorization).toBe('Bearer sk-survives-rotation');
      } finally {
        await current?.close();
        await database.drop();
      }
    });
  });
});
