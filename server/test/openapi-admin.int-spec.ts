import { getQueueToken } from '@nestjs/bull';
import { type Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import type { Queue } from 'bull';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, connectInSandbox, createTenant, Http, type Reply, startApi, startWorker, type TenantFixture, type TestApi, uniqueEmail } from './harness';
import { QUEUES } from '../src/queues/queues.module';
import { expectConformsToOpenApi, type OpenApiDocument } from './openapi-conformance';
import { PETSTORE, QUOTE_FLOW } from './fixtures';

/**
 * Every admin, portal and auth operation answers what /openapi.json says it does: one real call of
 * each, with real data, validated against the documented schema with unknown fields refused. The
 * portal's and SDK's types are generated from that document, so a DTO that lies breaks them.
 */

/** Tags of the operations this file proves; every operation carrying one must be called below. */
const TAGS = [
  'auth',
  'admin: tenant',
  'admin: environments',
  'admin: members',
  'admin: api keys',
  'admin: end users',
  'admin: connectors',
  'admin: custom providers',
  'admin: LLM providers',
  'admin: flow templates',
  'admin: webhooks',
  'admin: alerts',
  'admin: dashboard',
  'admin: mcp',
  'admin: audit log',
];

const HOST_ORIGIN = 'https://host.example';

/** The quote flow, with a step that fails a run over budget (so failed runs exist too). */
const quote = {
  ...QUOTE_FLOW,
  steps: [QUOTE_FLOW.steps[0], { id: 'check', type: 'transform', output: "=$trigger.cost > 100 ? $error('cost over budget') : 'ok'" }, QUOTE_FLOW.steps[1]],
};

/** A flow with a setting picked from an option source, started by a webhook (so its instance has a URL). */
const notify = {
  key: 'notify',
  name: 'Notify a channel',
  trigger: { type: 'webhook' },
  connectors: ['slack'],
  inputs: { channel: { type: 'string', title: 'Channel', required: true, options: { connector: 'slack', source: 'channels' } } },
  steps: [{ id: 'post', type: 'action', connector: 'slack', action: 'send_message', input: { channel: '=$inputs.channel', text: 'hello' } }],
};

const customProvider = (name: string) => ({
  key: 'acme-crm',
  definition: {
    name,
    description: 'Our in-house CRM',
    categories: ['crm'],
    logo: { color: '#224466', text: 'AC' },
    docsUrl: 'https://acme.example/docs',
    auth: { type: 'api_key', in: 'header', name: 'X-Api-Key', label: 'Acme API key' },
    baseUrl: 'https://api.acme.example',
    verify: { path: 'me', accountId: 'account.id', accountName: 'account.name' },
  },
});

describe('admin API answers match /openapi.json', () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let doc: OpenApiDocument;
  let tenant: TenantFixture;
  let other: TenantFixture;
  const ids: Record<string, string> = {};
  const called = new Set<string>();

  // Real data in every part of the answers: a connection, flows on and off, runs that succeeded and failed.
  beforeAll(async () => {
    sandbox = await startSandbox();
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    worker = await startWorker(api.config);
    doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as OpenApiDocument;
    tenant = await createTenant(api, 'Contracts Co');
    other = await createTenant(api, 'Other Co');
    await addMember(api, tenant, 'viewer');
    expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] })).status).toBe(200);
    expect((await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    expect((await tenant.host.put('/v1/end-users/alice', { displayName: 'Alice Martin', email: 'alice@example.test' })).status).toBe(201);
    await connectInSandbox(api, tenant, 'slack', 'alice', { origin: HOST_ORIGIN });
    const alice = new Http(api.url, { bearer: (await tenant.host.post('/v1/sessions', { endUserId: 'alice' })).body.token, origin: HOST_ORIGIN });
    ids.channel = (await alice.get('/v1/me/connectors/slack/options/channels')).body.options[0].value;
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await sandbox?.close();
  });

  const browser = () => new Http(api.url, { origin: api.origin });

  /** In order: later calls use what earlier ones made. `[method, path template, status, call]`. */
  const calls: Array<[string, string, number, () => Promise<Reply>]> = [
    ['POST', '/v1/signup', 201, () => browser().post('/v1/signup', { tenantName: 'Signed Up', email: uniqueEmail('signup'), password: 'a-long-password' })],
    ['POST', '/v1/auth/login', 200, () => browser().post('/v1/auth/login', { email: tenant.email, password: tenant.password })],
    ['GET', '/v1/auth/me', 200, () => tenant.owner.get('/v1/auth/me')],
    [
      'POST',
      '/v1/auth/invitations/lookup',
      200,
      async () => {
        ids.invitation = (await other.owner.post('/v1/admin/members', { email: tenant.email, role: 'developer' })).body.inviteToken;
        return tenant.owner.post('/v1/auth/invitations/lookup', { token: ids.invitation });
      },
    ],
    ['POST', '/v1/auth/accept-invite', 200, () => tenant.owner.post('/v1/auth/accept-invite', { token: ids.invitation })],
    ['POST', '/v1/auth/switch-tenant', 200, () => tenant.owner.post('/v1/auth/switch-tenant', { tenantId: tenant.tenantId })],
    [
      'POST',
      '/v1/auth/logout',
      204,
      async () => {
        const signedIn = browser();
        await signedIn.post('/v1/auth/login', { email: tenant.email, password: tenant.password });
        return signedIn.post('/v1/auth/logout');
      },
    ],

    ['GET', '/v1/admin/tenant', 200, () => tenant.owner.get('/v1/admin/tenant')],
    [
      'PATCH',
      '/v1/admin/tenant',
      200,
      () => tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: ['https://app.example.test'], widgetTheme: { mode: 'dark', accent: '#4f46e5' }, monthlyTokenCap: 1000 }),
    ],

    ['GET', '/v1/admin/members', 200, () => tenant.owner.get('/v1/admin/members')],
    ['POST', '/v1/admin/members', 201, () => tenant.owner.post('/v1/admin/members', { email: uniqueEmail('invitee'), role: 'viewer' })],
    ['PATCH', '/v1/admin/members/{id}', 200, () => tenant.owner.patch(`/v1/admin/members/${ids.member}`, { role: 'developer' })],
    ['DELETE', '/v1/admin/members/{id}', 204, () => tenant.owner.delete(`/v1/admin/members/${ids.member}`)],

    ['POST', '/v1/admin/api-keys', 201, () => tenant.owner.post('/v1/admin/api-keys', { name: 'Contracts' })],
    ['DELETE', '/v1/admin/api-keys/{id}', 204, () => tenant.owner.delete(`/v1/admin/api-keys/${ids.apiKey}`)],
    ['GET', '/v1/admin/api-keys', 200, () => tenant.owner.get('/v1/admin/api-keys')],

    ['GET', '/v1/admin/connectors', 200, () => tenant.owner.get('/v1/admin/connectors')],
    [
      'PUT',
      '/v1/admin/connectors/{key}',
      200,
      () =>
        tenant.owner.put('/v1/admin/connectors/hubspot', {
          enabled: true,
          clientId: 'client',
          clientSecret: 'secret',
          webhookSigningSecret: 'signing',
          scopes: ['crm.objects.contacts.read'],
        }),
    ],
    ['GET', '/v1/admin/connectors/{key}', 200, () => tenant.owner.get('/v1/admin/connectors/hubspot')],
    ['PUT', '/v1/admin/connectors/{key}/openapi', 200, () => tenant.owner.put('/v1/admin/connectors/http/openapi', { document: PETSTORE })],
    [
      'PATCH',
      '/v1/admin/connectors/{key}/openapi',
      200,
      () => tenant.owner.patch('/v1/admin/connectors/http/openapi', { optionSources: { list_pets: { itemsPath: '', valuePath: 'id', labelPath: 'name' } } }),
    ],
    ['GET', '/v1/admin/connectors/{key}/openapi', 200, () => tenant.owner.get('/v1/admin/connectors/http/openapi')],
    ['DELETE', '/v1/admin/connectors/{key}/openapi', 204, () => tenant.owner.delete('/v1/admin/connectors/http/openapi')],
    ['DELETE', '/v1/admin/connectors/{key}', 204, () => tenant.owner.delete('/v1/admin/connectors/hubspot')],

    ['POST', '/v1/admin/custom-providers', 201, () => tenant.owner.post('/v1/admin/custom-providers', customProvider('Acme CRM'))],
    ['GET', '/v1/admin/custom-providers', 200, () => tenant.owner.get('/v1/admin/custom-providers')],
    ['GET', '/v1/admin/custom-providers/{id}', 200, () => tenant.owner.get(`/v1/admin/custom-providers/${ids.customProvider}`)],
    ['PUT', '/v1/admin/custom-providers/{id}', 200, () => tenant.owner.put(`/v1/admin/custom-providers/${ids.customProvider}`, customProvider('Acme CRM 2'))],
    ['DELETE', '/v1/admin/custom-providers/{id}', 204, () => tenant.owner.delete(`/v1/admin/custom-providers/${ids.customProvider}`)],

    [
      'POST',
      '/v1/admin/llm-providers',
      201,
      () => tenant.owner.post('/v1/admin/llm-providers', { key: 'local', name: 'Local model', kind: 'openai-compatible', baseUrl: 'https://llm.example.test/v1', apiKey: 'sk-x' }),
    ],
    ['GET', '/v1/admin/llm-providers', 200, () => tenant.owner.get('/v1/admin/llm-providers')],
    ['GET', '/v1/admin/llm-providers/{key}', 200, () => tenant.owner.get('/v1/admin/llm-providers/local')],
    ['PATCH', '/v1/admin/llm-providers/{key}', 200, () => tenant.owner.patch('/v1/admin/llm-providers/local', { name: 'Local', apiKey: null })],
    ['DELETE', '/v1/admin/llm-providers/{key}', 204, () => tenant.owner.delete('/v1/admin/llm-providers/local')],

    [
      'POST',
      '/v1/admin/alert-rules',
      201,
      () =>
        tenant.owner.post('/v1/admin/alert-rules', {
          name: 'Quotes failing',
          kind: 'flow_failure_rate',
          params: { flowKey: 'quote', threshold: 20, windowMinutes: 15 },
          channels: { email: ['oncall@example.test'], webhook: true },
        }),
    ],
    ['GET', '/v1/admin/alert-rules', 200, () => tenant.owner.get('/v1/admin/alert-rules')],
    ['GET', '/v1/admin/alert-rules/{id}', 200, () => tenant.owner.get(`/v1/admin/alert-rules/${ids.alertRule}`)],
    ['PATCH', '/v1/admin/alert-rules/{id}', 200, () => tenant.owner.patch(`/v1/admin/alert-rules/${ids.alertRule}`, { enabled: false })],
    ['GET', '/v1/admin/alert-incidents', 200, () => tenant.owner.get('/v1/admin/alert-incidents?status=resolved')],
    ['DELETE', '/v1/admin/alert-rules/{id}', 204, () => tenant.owner.delete(`/v1/admin/alert-rules/${ids.alertRule}`)],

    ['POST', '/v1/admin/flow-templates', 201, () => tenant.owner.post('/v1/admin/flow-templates', { definition: quote })],
    ['PUT', '/v1/admin/flow-templates/{key}/draft', 200, () => tenant.owner.put('/v1/admin/flow-templates/quote/draft', { definition: { ...quote, name: 'Quote' } })],
    ['POST', '/v1/admin/flow-templates/{key}/validate', 200, () => tenant.owner.post('/v1/admin/flow-templates/quote/validate', { definition: { ...quote, steps: 'none' } })],
    ['POST', '/v1/admin/flow-templates/{key}/publish', 201, () => tenant.owner.post('/v1/admin/flow-templates/quote/publish')],
    ['POST', '/v1/admin/flow-templates/{key}/publish', 200, () => tenant.owner.post('/v1/admin/flow-templates/quote/publish')],
    ['GET', '/v1/admin/flow-templates/{key}', 200, () => tenant.owner.get('/v1/admin/flow-templates/quote')],
    ['GET', '/v1/admin/flow-templates', 200, () => tenant.owner.get('/v1/admin/flow-templates')],
    [
      'GET',
      '/v1/admin/flow-templates/{key}/instances',
      200,
      async () => {
        expect((await tenant.host.post('/v1/end-users/alice/flows/quote/enable', { settings: { markup: 2 } })).status).toBe(200);
        for (const cost of [10, 500]) expect((await tenant.host.post('/v1/flows/quote/runs', { endUserId: 'alice', input: { cost }, wait: true })).status).toBe(200);
        expect((await tenant.owner.post('/v1/admin/flow-templates', { definition: notify })).status).toBe(201);
        expect((await tenant.owner.post('/v1/admin/flow-templates/notify/publish')).status).toBe(201);
        const enabled = await tenant.host.post('/v1/end-users/alice/flows/notify/enable', { settings: { channel: ids.channel } });
        expect(enabled.status, JSON.stringify(enabled.body)).toBe(200);
        return tenant.owner.get('/v1/admin/flow-templates/quote/instances');
      },
    ],
    ['GET', '/v1/admin/end-users/{externalId}/flows', 200, () => tenant.owner.get('/v1/admin/end-users/alice/flows')],
    [
      'GET',
      '/v1/admin/end-users/{externalId}/flows/{key}/setting-labels',
      200,
      async () => {
        const res = await tenant.owner.get('/v1/admin/end-users/alice/flows/notify/setting-labels');
        expect(res.body.data.channel.labels[ids.channel], JSON.stringify(res.body)).toBeTruthy();
        return res;
      },
    ],

    ['GET', '/v1/admin/end-users', 200, () => tenant.owner.get('/v1/admin/end-users?search=ali')],
    ['GET', '/v1/admin/end-users/{externalId}', 200, () => tenant.owner.get('/v1/admin/end-users/alice')],
    ['GET', '/v1/admin/connections', 200, () => tenant.owner.get('/v1/admin/connections?connector=slack&status=active')],
    ['GET', '/v1/admin/stats', 200, () => tenant.owner.get('/v1/admin/stats?window=1h')],

    [
      'PUT',
      '/v1/admin/mcp/connectors/{connector}',
      200,
      () => tenant.owner.put('/v1/admin/mcp/connectors/slack', { exposed: ['send_message'], requireApproval: ['send_message'] }),
    ],
    ['PUT', '/v1/admin/mcp/approval', 200, () => tenant.owner.put('/v1/admin/mcp/approval', { approvalMode: 'wait', approvalWaitSeconds: 30 })],
    ['GET', '/v1/admin/mcp', 200, () => tenant.owner.get('/v1/admin/mcp')],

    [
      'POST',
      '/v1/admin/webhook-endpoints',
      201,
      () => tenant.owner.post('/v1/admin/webhook-endpoints', { url: 'https://hooks.example.test/in', description: 'CRM sync', eventTypes: ['run.failed'] }),
    ],
    ['GET', '/v1/admin/webhook-endpoints', 200, () => tenant.owner.get('/v1/admin/webhook-endpoints')],
    ['GET', '/v1/admin/webhook-endpoints/{id}', 200, () => tenant.owner.get(`/v1/admin/webhook-endpoints/${ids.webhookEndpoint}`)],
    ['PATCH', '/v1/admin/webhook-endpoints/{id}', 200, () => tenant.owner.patch(`/v1/admin/webhook-endpoints/${ids.webhookEndpoint}`, { enabled: false })],
    ['POST', '/v1/admin/webhook-endpoints/{id}/rotate-secret', 200, () => tenant.owner.post(`/v1/admin/webhook-endpoints/${ids.webhookEndpoint}/rotate-secret`)],
    ['POST', '/v1/admin/webhook-endpoints/{id}/test', 202, () => tenant.owner.post(`/v1/admin/webhook-endpoints/${ids.webhookEndpoint}/test`)],
    ['GET', '/v1/admin/webhook-endpoints/{id}/deliveries', 200, () => tenant.owner.get(`/v1/admin/webhook-endpoints/${ids.webhookEndpoint}/deliveries`)],
    ['GET', '/v1/admin/webhook-deliveries/{id}', 200, () => tenant.owner.get(`/v1/admin/webhook-deliveries/${ids.webhookDelivery}`)],
    ['POST', '/v1/admin/webhook-deliveries/{id}/resend', 202, () => tenant.owner.post(`/v1/admin/webhook-deliveries/${ids.webhookDelivery}/resend`)],
    ['DELETE', '/v1/admin/webhook-endpoints/{id}', 204, () => tenant.owner.delete(`/v1/admin/webhook-endpoints/${ids.webhookEndpoint}`)],
    ['PATCH', '/v1/admin/flow-templates/{key}', 200, () => tenant.owner.patch('/v1/admin/flow-templates/quote', { allowEndUserUpgrade: false })],
    [
      'POST',
      '/v1/admin/flow-templates/{key}/rollouts',
      201,
      async () => {
        expect((await tenant.owner.put('/v1/admin/flow-templates/quote/draft', { definition: { ...quote, name: 'Quote 2' } })).status).toBe(200);
        expect((await tenant.owner.post('/v1/admin/flow-templates/quote/publish')).status).toBe(201);
        // No worker takes the batch before the stop below.
        await api.app.get<Queue>(getQueueToken(QUEUES.maintenance)).pause();
        return tenant.owner.post('/v1/admin/flow-templates/quote/rollouts', { version: 2, target: { endUserIds: ['alice'] } });
      },
    ],
    ['POST', '/v1/admin/flow-templates/{key}/rollouts/{id}/stop', 200, () => tenant.owner.post(`/v1/admin/flow-templates/quote/rollouts/${ids.rollout}/stop`)],
    [
      'POST',
      '/v1/admin/flow-templates/{key}/rollouts/{id}/rollback',
      200,
      async () => {
        await api.app.get<Queue>(getQueueToken(QUEUES.maintenance)).resume();
        return tenant.owner.post(`/v1/admin/flow-templates/quote/rollouts/${ids.rollout}/rollback`);
      },
    ],
    ['GET', '/v1/admin/flow-templates/{key}/rollouts', 200, () => tenant.owner.get('/v1/admin/flow-templates/quote/rollouts')],
    [
      'GET',
      '/v1/admin/environments',
      200,
      async () => {
        const listed = await tenant.owner.get('/v1/admin/environments');
        ids.production = listed.body.data.find((e: { name: string }) => e.name === 'production').id;
        return listed;
      },
    ],
    ['POST', '/v1/admin/environments', 201, async () => tenant.owner.post('/v1/admin/environments', { name: 'staging' }).then((r) => ((ids.staging = r.body.id), r))],
    ['PATCH', '/v1/admin/environments/{id}', 200, () => tenant.owner.patch(`/v1/admin/environments/${ids.staging}`, { protected: true })],
    ['GET', '/v1/admin/flow-templates/{key}/promotion', 200, () => tenant.owner.get(`/v1/admin/flow-templates/quote/promotion?environmentId=${ids.production}`)],
    [
      'POST',
      '/v1/admin/flow-templates/{key}/promote',
      201,
      () => tenant.owner.post('/v1/admin/flow-templates/quote/promote', { environmentId: ids.production, expectedVersion: 0 }),
    ],
    ['GET', '/v1/admin/flow-templates/{key}/rollouts/{id}', 200, () => tenant.owner.get(`/v1/admin/flow-templates/quote/rollouts/${ids.rollout}`)],
    ['GET', '/v1/admin/flow-templates/{key}/rollouts/{id}/items', 200, () => tenant.owner.get(`/v1/admin/flow-templates/quote/rollouts/${ids.rollout}/items`)],

    ['GET', '/v1/admin/audit-events', 200, () => tenant.owner.get('/v1/admin/audit-events?limit=200')],
  ];

  /** What later calls need from an answer. */
  const remember: Record<string, (body: any) => void> = {
    'POST /v1/admin/members': (b) => (ids.member = b.member.id),
    'POST /v1/admin/api-keys': (b) => (ids.apiKey = b.apiKey.id),
    'POST /v1/admin/custom-providers': (b) => (ids.customProvider = b.id),
    'POST /v1/admin/alert-rules': (b) => (ids.alertRule = b.id),
    'POST /v1/admin/webhook-endpoints': (b) => (ids.webhookEndpoint = b.id),
    'POST /v1/admin/webhook-endpoints/{id}/test': (b) => (ids.webhookDelivery = b.id),
    'POST /v1/admin/flow-templates/{key}/rollouts': (b) => (ids.rollout = b.id),
  };

  it.each(calls)('%s %s %i', async (method, path, status, call) => {
    const res = await call();
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expectConformsToOpenApi(doc, method, path, status, res.body);
    remember[`${method} ${path}`]?.(res.body);
    called.add(`${method} ${path}`);
  });

  it('refuses an answer with a field the document does not have, or without one it requires', async () => {
    const { body } = await tenant.owner.get('/v1/admin/tenant');
    expect(() => expectConformsToOpenApi(doc, 'GET', '/v1/admin/tenant', 200, { ...body, secret: 'x' })).toThrow(/must NOT have additional properties: secret/);
    expect(() => expectConformsToOpenApi(doc, 'GET', '/v1/admin/tenant', 200, { ...body, name: undefined })).toThrow(/must have required property 'name'/);
    expect(() => expectConformsToOpenApi(doc, 'GET', '/v1/admin/tenant', 200, { ...body, monthlyTokenCap: 'lots' })).toThrow(/monthlyTokenCap/);
    // Deep inside: alice's flows (enabled by the calls above).
    const flows = (await tenant.owner.get('/v1/admin/end-users/alice/flows')).body.data;
    expect(flows.filter((f: any) => f.instance)).not.toEqual([]);
    const nested = { data: flows.map((f: any) => ({ ...f, instance: f.instance && { ...f.instance, note: { code: 'connection_rebound' } } })) };
    expect(() => expectConformsToOpenApi(doc, 'GET', '/v1/admin/end-users/{externalId}/flows', 200, nested)).toThrow(/instance\/note must have required property 'message'/);
  });

  it('calls every operation of these tags', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, op]) => op.tags?.some((t) => TAGS.includes(t)))
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.filter((op) => !called.has(op))).toEqual([]);
  });
});
