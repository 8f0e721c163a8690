import { Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectInSandbox, createTenant, freshDatabase, startApi, startWorker, TenantFixture, TestApi, until } from './harness';

const HOST_ORIGIN = 'https://host.example';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dealFlow = {
  key: 'deal-created',
  name: 'Deal created (HubSpot app webhook)',
  trigger: { type: 'webhook', connector: 'hubspot', event: 'deal_created' },
  connectors: ['hubspot'],
  inputs: {},
  steps: [{ id: 'seen', type: 'transform', output: { objectId: '=$trigger.objectId', type: '=$trigger.subscriptionType', portalId: '=$trigger.portalId' } }],
};

interface RunView {
  id: string;
  status: string;
  flow: string;
  endUserId: string;
  triggerType: string;
  result: { objectId: string | number; type: string; portalId: number } | null;
}

/**
 * Provider webhooks that go to the tenant's app (one URL per app, set in the provider's app
 * settings), routed by the account each event is about: HubSpot (signed with the app's client
 * secret) and Slack (signed with a signing secret of its own, with a URL check).
 */
describe('app-level provider webhooks (HubSpot, Slack)', () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let other: TenantFixture;
  let hubspotUrl: string;
  const app = { clientId: 'acme-hubspot-app', clientSecret: 'acme-hubspot-secret-0123456789' };

  const runsOf = async (t: TenantFixture, flow: string): Promise<RunView[]> =>
    ((await t.host.get(`/v1/runs?flow=${flow}&limit=100`)).body.data as RunView[]).filter((r) => r.flow === flow);

  async function createDeal(account: number, name: string): Promise<string> {
    const { accessToken } = sandbox.oauth.issueTokens('hubspot', { clientId: app.clientId, account });
    const res = await fetch(`${sandbox.url}/hubspot/crm/v3/objects/deals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { dealname: name } }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }

  beforeAll(async () => {
    sandbox = await startSandbox();
    // A database of its own: every worker polls every due row of its database, and other files' workers would poll these with their own sandboxes.
    database = await freshDatabase();
    api = await startApi({ DATABASE_URL: database.url, SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Acme');
    other = await createTenant(api, 'Globex');
    for (const t of [tenant, other]) {
      await t.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
      expect((await t.owner.post('/v1/admin/flow-templates', { definition: dealFlow })).status).toBe(201);
      expect((await t.owner.post(`/v1/admin/flow-templates/${dealFlow.key}/publish`)).status).toBe(201);
    }
    // Acme's own HubSpot app (in the sandbox): its webhook URL is the one Switchboard shows for it.
    const config = await tenant.owner.put('/v1/admin/connectors/hubspot', {
      enabled: true,
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      settings: { useSandbox: true },
    });
    expect(config.status).toBe(200);
    hubspotUrl = config.body.config.webhookUrl;
    expect(hubspotUrl).toMatch(new RegExp(`^${api.url}/v1/hooks/apps/[0-9a-f-]{36}$`));
    sandbox.oauth.registerClient({ ...app, webhookUrl: hubspotUrl });
    // Globex uses the shared sandbox app, which sends nowhere: its flows must not see Acme's events.
    await other.owner.put('/v1/admin/connectors/hubspot', { enabled: true, settings: { useSandbox: true } });
    await connectInSandbox(api, tenant, 'hubspot', 'alice', { origin: HOST_ORIGIN, account: 0 });
    await connectInSandbox(api, tenant, 'hubspot', 'bob', { origin: HOST_ORIGIN, account: 1 });
    await connectInSandbox(api, other, 'hubspot', 'alice', { origin: HOST_ORIGIN, account: 0 });
    for (const [t, user] of [
      [tenant, 'alice'],
      [tenant, 'bob'],
      [other, 'alice'],
    ] as const) {
      const enabled = await t.host.post(`/v1/end-users/${user}/flows/deal-created/enable`, {});
      expect(enabled.status).toBe(200);
      // App-level: no URL of its own, nothing to subscribe; the trigger listens as soon as it is on.
      expect(enabled.body.instance).toMatchObject({ webhookUrl: expect.any(String), triggerHealth: { status: 'ok' } });
    }
  });

  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await sandbox?.close();
    await database?.drop();
  });

  it('routes a deal created in one portal to the flows of the end users connected to that portal, once', async () => {
    const id = await createDeal(0, 'Big deal');
    const runs = await until('the run', async () => {
      const all = (await runsOf(tenant, 'deal-created')).filter((r) => r.status === 'succeeded');
      return all.length > 0 && all;
    });
    await sandbox.settleDeliveries();
    await sleep(300);
    const mine = await runsOf(tenant, 'deal-created');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ endUserId: 'alice', triggerType: 'webhook', result: { objectId: Number(id), type: 'deal.creation', portalId: 44556677 } });
    expect(runs[0]!.id).toBe(mine[0]!.id);
    // Bob's portal is another one; Globex's alice is in the same portal but not in Acme's app.
    expect(await runsOf(other, 'deal-created')).toEqual([]);

    // HubSpot retries a delivery it thinks failed: same eventIds, no new run.
    const delivery = sandbox.deliveries('hubspot').find((d) => d.url === hubspotUrl && d.body.includes('deal.creation'))!;
    const again = await fetch(hubspotUrl, { method: 'POST', headers: delivery.headers, body: delivery.body });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ events: 1, runIds: [mine[0]!.id] });
    expect(await runsOf(tenant, 'deal-created')).toHaveLength(1);
  });

  it('refuses deliveries not signed with the app secret, and URLs that name no app', async () => {
    const delivery = sandbox.deliveries('hubspot').find((d) => d.url === hubspotUrl)!;
    const tampered = await fetch(hubspotUrl, { method: 'POST', headers: delivery.headers, body: delivery.body.replace('deal.creation', 'deal.deletion') });
    expect(tampered.status).toBe(401);
    expect(((await tampered.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'webhook_signature_invalid' });
    const stale = { ...delivery.headers, 'x-hubspot-request-timestamp': String(Date.now() - 10 * 60_000) };
    expect((await fetch(hubspotUrl, { method: 'POST', headers: stale, body: delivery.body })).status).toBe(401);
    const unknown = await fetch(`${api.url}/v1/hooks/apps/00000000-0000-4000-8000-000000000000`, { method: 'POST', headers: delivery.headers, body: delivery.body });
    expect(unknown.status).toBe(404);
    expect((await fetch(`${api.url}/v1/hooks/apps/not-a-uuid`, { method: 'POST', headers: delivery.headers, body: delivery.body })).status).toBe(404);
  });

  it("Slack: asks for the app's signing secret, answers the URL check, and routes message events by workspace", async () => {
    const signingSecret = 'slack-signing-secret-0123456789abcdef';
    const slackApp = { clientId: 'acme-slack-app', clientSecret: 'acme-slack-secret' };
    const config = await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, ...slackApp, settings: { useSandbox: true } });
    const slackUrl: string = config.body.config.webhookUrl;
    expect(config.body.config.hasWebhookSigningSecret).toBe(false);
    const sign = (body: string, secret = signingSecret, ts = Math.floor(Date.now() / 1000)) => ({
      'content-type': 'application/json',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`,
    });
    const check = JSON.stringify({ token: 'legacy', challenge: 'c-3b1f0a', type: 'url_verification' });
    // Without the signing secret nothing can be checked: the answer says what is missing.
    const before = await fetch(slackUrl, { method: 'POST', headers: sign(check), body: check });
    expect(before.status).toBe(401);
    expect(((await before.json()) as { error: { message: string } }).error.message).toContain('webhook signing secret is not set');

    const saved = await tenant.owner.put('/v1/admin/connectors/slack', { webhookSigningSecret: signingSecret });
    expect(saved.body.config).toMatchObject({ hasWebhookSigningSecret: true });
    expect(JSON.stringify(saved.body)).not.toContain(signingSecret);
    const listed = (await tenant.owner.get('/v1/admin/connectors')).body.data.find((c: { key: string }) => c.key === 'slack');
    expect(listed.config).toMatchObject({ hasWebhookSigningSecret: true, hasClientSecret: true });
    const answered = await fetch(slackUrl, { method: 'POST', headers: sign(check), body: check });
    expect(answered.status).toBe(200);
    expect(await answered.json()).toEqual({ challenge: 'c-3b1f0a' });
    expect((await fetch(slackUrl, { method: 'POST', headers: sign(check, 'wrong-secret'), body: check })).status).toBe(401);

    // A message in alice's workspace starts her flow; the sandbox signs with the app's signing secret.
    sandbox.oauth.registerClient({ ...slackApp, webhookUrl: slackUrl, signingSecret });
    const slackFlow = {
      key: 'slack-message',
      name: 'New Slack message',
      trigger: { type: 'webhook', connector: 'slack', event: 'new_message' },
      connectors: ['slack'],
      inputs: {},
      steps: [{ id: 'seen', type: 'transform', output: { text: '=$trigger.text', channel: '=$trigger.channel' } }],
    };
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition: slackFlow })).status).toBe(201);
    expect((await tenant.owner.post('/v1/admin/flow-templates/slack-message/publish')).status).toBe(201);
    await connectInSandbox(api, tenant, 'slack', 'carol', { origin: HOST_ORIGIN, account: 0 });
    expect((await tenant.host.post('/v1/end-users/carol/flows/slack-message/enable', {})).status).toBe(200);
    // The app's own (bot) messages are not "new messages" from people: they start nothing.
    const { accessToken } = sandbox.oauth.issueTokens('slack', { clientId: slackApp.clientId, account: 0, scope: ['chat:write'] });
    const channel = sandbox.state.slack.channels.find((c: { is_member: boolean; is_private: boolean; is_archived: boolean }) => c.is_member && !c.is_private && !c.is_archived)!.id;
    const posted = await fetch(`${sandbox.url}/slack/api/chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel, text: 'from the bot' }),
    });
    expect(await posted.json()).toMatchObject({ ok: true });
    // A person writes in the workspace.
    sandbox.tick('slack');
    await sandbox.settleDeliveries();
    const person = sandbox.state.slack.messages.at(-1)!;
    expect(sandbox.deliveries('slack').filter((d) => d.url === slackUrl && d.delivered)).toHaveLength(2);
    const runs = await until('the Slack run', async () => {
      const all = (await runsOf(tenant, 'slack-message')).filter((r) => r.status === 'succeeded');
      return all.length > 0 && all;
    });
    await sleep(300);
    expect(await runsOf(tenant, 'slack-message')).toHaveLength(1);
    expect(runs[0]!.result).toEqual({ text: person.text, channel: person.channel });
  });
});
