import { createHmac } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ActionContext, connectors, ConnectorDefinition, HttpError, PollTrigger, Sandbox, startSandbox, TriggerItem, WebhookRequest, WebhookTrigger } from '../index';
import { connect, Connected } from '../test-support/helpers';
import { hubspotSignatureV3 } from './hubspot';
import { slackSignature } from './slack';

const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
addFormats(ajv);
ajv.addKeyword({ keyword: 'x-options', schemaType: 'string' });

/** A local HTTP server standing in for Switchboard's webhook receiver: records what arrives. */
interface Receiver {
  url: string;
  received: WebhookRequest[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: WebhookRequest[] = [];
  let base = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      received.push({ method: req.method ?? 'POST', url: req.url ?? '/', publicUrl: `${base}${req.url}`, headers, rawBody, body: JSON.parse(rawBody.toString('utf8')) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: base, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function request(body: unknown, headers: Record<string, string>, publicUrl = 'https://switchboard.example/v1/hooks/apps/app_1'): WebhookRequest {
  const rawBody = Buffer.from(JSON.stringify(body));
  return { method: 'POST', url: new URL(publicUrl).pathname + new URL(publicUrl).search, publicUrl, headers, rawBody, body };
}

async function poll<C>(trigger: PollTrigger, ctx: ActionContext, cursor: C | null, limit = 10, input: Record<string, unknown> = {}) {
  const out = await trigger.poll(ctx, { input, cursor, limit });
  // The engine stores the cursor as JSON.
  const cursorAfter = JSON.parse(JSON.stringify(out.cursor)) as C;
  const valid = ajv.compile(trigger.output);
  for (const item of out.items) expect(valid(item.data), JSON.stringify(valid.errors)).toBe(true);
  return { ...out, cursor: cursorAfter };
}

let sandbox: Sandbox;
let receiver: Receiver;
beforeAll(async () => {
  sandbox = await startSandbox();
  receiver = await startReceiver();
});
afterAll(async () => {
  await sandbox.close();
  await receiver.close();
});
beforeEach(() => {
  sandbox.reset();
  receiver.received.length = 0;
});

describe('slack events API', () => {
  const slack = connectors.slack as ConnectorDefinition;
  const hooks = slack.webhooks!;
  const secret = 'slack-signing-secret';
  const callback = { type: 'event_callback', team_id: 'T0SBXACME1', event_id: 'Ev0TEST01', event: { type: 'message', channel: 'C1', user: 'U1', text: 'hi', ts: '1.000001' } };
  let c: Connected;
  beforeAll(async () => {
    sandbox.oauth.registerClient({ clientId: 'slack-app', clientSecret: 'slack-app-secret', connectors: ['slack'], webhookUrl: `${receiver.url}/hooks/slack?app=1`, signingSecret: secret });
    c = await connect(sandbox, slack);
  });

  it('verifies v0 signatures within five minutes', () => {
    const now = Date.now();
    const ts = String(Math.floor(now / 1000));
    const raw = JSON.stringify(callback);
    const signed = request(callback, { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(secret, ts, raw) });
    expect(hooks.verify(signed, secret, now)).toBeNull();
    expect(hooks.verify(signed, 'another-secret', now)).toBe('signature mismatch');
    expect(hooks.verify({ ...signed, rawBody: Buffer.from(raw.replace('hi', 'ho')) }, secret, now)).toBe('signature mismatch');
    expect(hooks.verify(signed, secret, now + 301_000)).toBe('timestamp too old');
    const old = String(Math.floor(now / 1000) - 600);
    expect(hooks.verify(request(callback, { 'x-slack-request-timestamp': old, 'x-slack-signature': slackSignature(secret, old, raw) }), secret, now)).toBe('timestamp too old');
    expect(hooks.verify(request(callback, {}), secret, now)).toMatch(/missing/);
  });

  it('answers the url_verification handshake and only that', () => {
    expect(hooks.handshake!(request({ token: 't', challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' }, {}))).toEqual({
      status: 200,
      body: { challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' },
    });
    expect(hooks.handshake!(request(callback, {}))).toBeUndefined();
    expect(hooks.events(request({ type: 'url_verification', challenge: 'x' }, {}))).toEqual([]);
  });

  it('routes events by team: accountKey of a connection matches the event account', async () => {
    expect(hooks.events(request(callback, {}))).toEqual([{ id: 'Ev0TEST01', type: 'message', account: 'T0SBXACME1', data: callback.event }]);
    const account = await slack.account(c.ctx);
    expect(hooks.accountKey!({ accountId: account.id, config: c.config })).toBe('T0SBXACME1');
    expect(hooks.accountKey!({ accountId: 'T0OTHER:U0BOT', config: {} })).toBe('T0OTHER');
  });

  it('delivers signed event_callbacks for messages; new_message skips the bot and takes people, per channel', async () => {
    const sent = await slack.actions.send_message!.run(c.ctx, { channel: '#general', text: 'from the bot' });
    sandbox.tick('slack');
    await sandbox.settleDeliveries();
    expect(receiver.received).toHaveLength(2);
    const [botDelivery, personDelivery] = receiver.received as [WebhookRequest, WebhookRequest];
    expect(botDelivery.url).toBe('/hooks/slack?app=1');
    expect(botDelivery.headers['content-type']).toBe('application/json');
    for (const d of receiver.received) expect(hooks.verify(d, secret, Date.now())).toBeNull();
    expect(hooks.verify(botDelivery, 'wrong', Date.now())).toBe('signature mismatch');
    const [botEvent] = hooks.events(botDelivery);
    expect(botEvent).toMatchObject({ type: 'message', account: 'T0SBXACME1', data: { channel: sent.channel, ts: sent.ts, bot_id: 'B0SBXBOT01' } });
    expect(botEvent!.id).toMatch(/^Ev[A-Z0-9]+$/);
    const trigger = slack.triggers!.new_message as WebhookTrigger;
    expect(trigger.events).toEqual(['message']);
    expect(trigger.map(botEvent!, {})).toBeNull();

    const [personEvent] = hooks.events(personDelivery);
    const item = trigger.map(personEvent!, {}) as TriggerItem;
    const message = sandbox.state.slack.messages.at(-1)!;
    expect(item).toEqual({ id: `${message.channel}:${message.ts}`, data: expect.objectContaining({ type: 'message', user: message.user, text: message.text, channel: message.channel }) });
    expect(ajv.compile(trigger.output)(item.data)).toBe(true);
    expect(trigger.map(personEvent!, { channel: message.channel })).not.toBeNull();
    expect(trigger.map(personEvent!, { channel: 'C0OTHER' })).toBeNull();
    expect(trigger.map({ ...personEvent!, data: { ...personEvent!.data, subtype: 'channel_join' } }, {})).toBeNull();
    expect(trigger.map({ ...personEvent!, data: { ...personEvent!.data, subtype: 'thread_broadcast' } }, {})).not.toBeNull();
  });

  it('reaction_added events reach the reaction_added trigger', async () => {
    const sent = await slack.actions.send_message!.run(c.ctx, { channel: '#general', text: 'react to me' });
    await slack.actions.add_reaction!.run(c.ctx, { channel: sent.channel, timestamp: sent.ts, name: 'tada' });
    await sandbox.settleDeliveries();
    const events = receiver.received.flatMap((d) => hooks.events(d));
    expect(events.map((e) => e.type)).toEqual(['message', 'reaction_added']);
    const trigger = slack.triggers!.reaction_added as WebhookTrigger;
    const item = trigger.map(events[1]!, { reaction: 'tada' })!;
    expect(item.data).toMatchObject({ reaction: 'tada', item: { type: 'message', channel: sent.channel, ts: sent.ts } });
    expect(ajv.compile(trigger.output)(item.data)).toBe(true);
    expect(trigger.map(events[1]!, { reaction: 'thumbsup' })).toBeNull();
    expect(trigger.map(events[1]!, { channel: 'C0OTHER' })).toBeNull();
  });

  it('apps without a request URL get nothing; a failing receiver is retried and recorded', async () => {
    sandbox.oauth.registerClient({ clientId: 'slack-app', clientSecret: 'slack-app-secret', connectors: ['slack'], webhookUrl: 'http://127.0.0.1:9/unreachable', signingSecret: secret });
    try {
      sandbox.tick('slack');
      await sandbox.settleDeliveries();
      const [delivery] = sandbox.deliveries('slack');
      expect(delivery).toMatchObject({ url: 'http://127.0.0.1:9/unreachable', delivered: false, attempts: 3 });
      expect(receiver.received).toHaveLength(0);
    } finally {
      sandbox.oauth.registerClient({ clientId: 'slack-app', clientSecret: 'slack-app-secret', connectors: ['slack'], webhookUrl: `${receiver.url}/hooks/slack?app=1`, signingSecret: secret });
    }
  });
});

describe('hubspot webhooks and triggers', () => {
  const hubspot = connectors.hubspot as ConnectorDefinition;
  const hooks = hubspot.webhooks!;
  const clientSecret = 'hubspot-app-secret';
  let c: Connected;
  beforeAll(async () => {
    // The query's %3A and %2C are among the characters HubSpot decodes before signing.
    sandbox.oauth.registerClient({ clientId: 'hubspot-app', clientSecret, connectors: ['hubspot'], webhookUrl: `${receiver.url}/hooks/hubspot?since=12%3A00&tags=a%2Cb` });
    c = await connect(sandbox, hubspot);
  });

  const batch = [{ eventId: 100, subscriptionId: 1, portalId: 44556677, appId: 1, occurredAt: 1, subscriptionType: 'deal.creation', attemptNumber: 0, objectId: 1001, changeFlag: 'NEW', changeSource: 'CRM_UI' }];

  it('verifies v3 signatures: method + decoded URL + body + timestamp, at most five minutes old', () => {
    const now = Date.now();
    const url = 'https://switchboard.example/v1/hooks/apps/app_1?x=1%3A2';
    const raw = JSON.stringify(batch);
    const sign = (ts: number, secret = clientSecret, signedUrl = url) => ({ 'x-hubspot-request-timestamp': String(ts), 'x-hubspot-signature-v3': hubspotSignatureV3(secret, 'POST', signedUrl, raw, String(ts)) });
    expect(hooks.verify(request(batch, sign(now), url), clientSecret, now)).toBeNull();
    // HubSpot signs the decoded URI: a signature over ':' matches a request URL with '%3A'.
    const manual = createHmac('sha256', clientSecret).update(`POSThttps://switchboard.example/v1/hooks/apps/app_1?x=1:2${raw}${now}`).digest('base64');
    expect(hooks.verify(request(batch, { 'x-hubspot-request-timestamp': String(now), 'x-hubspot-signature-v3': manual }, url), clientSecret, now)).toBeNull();
    expect(hooks.verify(request(batch, sign(now, 'wrong'), url), clientSecret, now)).toBe('signature mismatch');
    expect(hooks.verify(request(batch, sign(now, clientSecret, `${url}&y=2`), url), clientSecret, now)).toBe('signature mismatch');
    expect(hooks.verify(request(batch, sign(now - 301_000), url), clientSecret, now)).toBe('timestamp too old');
    expect(hooks.verify(request(batch, {}, url), clientSecret, now)).toMatch(/missing/);
  });

  it('splits a batch into events keyed by eventId, routed by portal', async () => {
    const two = [...batch, { ...batch[0]!, eventId: 101, subscriptionType: 'contact.creation', objectId: 51 }];
    expect(hooks.events(request(two, {}))).toEqual([
      { id: '100', type: 'deal.creation', account: '44556677', data: two[0] },
      { id: '101', type: 'contact.creation', account: '44556677', data: two[1] },
    ]);
    const account = await hubspot.account(c.ctx);
    expect(hooks.accountKey!({ accountId: account.id, config: c.config })).toBe('44556677');
    expect(hooks.handshake).toBeUndefined();
  });

  it('tick() sends one signed batch (contact.creation + deal.creation) to the app; the webhook triggers map it', async () => {
    sandbox.tick('hubspot');
    await sandbox.settleDeliveries();
    expect(receiver.received).toHaveLength(1);
    const delivery = receiver.received[0]!;
    expect(delivery.headers['user-agent']).toContain('HubSpot');
    expect(hooks.verify(delivery, clientSecret, Date.now())).toBeNull();
    expect(hooks.verify(delivery, 'wrong', Date.now())).toBe('signature mismatch');
    const events = hooks.events(delivery);
    expect(events.map((e) => e.type)).toEqual(['contact.creation', 'deal.creation']);
    expect(new Set(events.map((e) => e.id)).size).toBe(2);
    expect(events.every((e) => e.account === '44556677')).toBe(true);
    const deal = sandbox.state.hubspot.deals.at(-1)!;
    const dealCreated = hubspot.triggers!.deal_created as WebhookTrigger;
    expect(dealCreated.events).toEqual(['deal.creation']);
    const item = dealCreated.map(events[1]!, {})!;
    expect(item.id).toBe(deal.id);
    expect(ajv.compile(dealCreated.output)(item.data)).toBe(true);
    const contactCreated = hubspot.triggers!.contact_created as WebhookTrigger;
    expect(contactCreated.map(events[0]!, {})!.id).toBe(sandbox.state.hubspot.contacts.at(-1)!.id);
  });

  it('create_deal and update_deal send deal.creation and deal.propertyChange', async () => {
    const deal = await hubspot.actions.create_deal!.run(c.ctx, { dealname: 'Webhook deal', amount: 10 });
    await hubspot.actions.update_deal!.run(c.ctx, { deal_id: deal.id, properties: { dealstage: 'closedwon', amount: 10 } });
    await sandbox.settleDeliveries();
    const events = receiver.received.flatMap((d) => hooks.events(d));
    // amount did not change: no event for it.
    expect(events.map((e) => [e.type, e.data.objectId, e.data.propertyName, e.data.propertyValue])).toEqual([
      ['deal.creation', Number(deal.id), undefined, undefined],
      ['deal.propertyChange', Number(deal.id), 'dealstage', 'closedwon'],
    ]);
    const missing = await hubspot.actions.update_deal!.run(c.ctx, { deal_id: '999999', properties: { amount: 1 } }).catch((e: unknown) => e);
    expect((missing as HttpError).status).toBe(404);
  });

  it('search: filters (GT on dates as ms), one sort, limit and after paging, HubSpot validation errors', async () => {
    for (const name of ['a', 'b', 'c']) {
      await hubspot.actions.create_deal!.run(c.ctx, { dealname: `Search ${name}` });
      sandbox.advanceTime(1);
    }
    const first = Date.parse(sandbox.state.hubspot.deals[0]!.properties.createdate!);
    const search = async (body: unknown) => c.ctx.http.request<any>({ method: 'POST', path: 'crm/v3/objects/deals/search', body });
    const page = await search({ filterGroups: [{ filters: [{ propertyName: 'createdate', operator: 'GT', value: String(first) }] }], sorts: [{ propertyName: 'createdate', direction: 'DESCENDING' }], limit: 1, properties: ['dealname'] });
    expect(page.status).toBe(200);
    expect(page.data).toMatchObject({ total: 2, results: [{ properties: { dealname: 'Search c' } }], paging: { next: { after: '1' } } });
    const next = await search({ filterGroups: [{ filters: [{ propertyName: 'createdate', operator: 'GT', value: new Date(first).toISOString() }] }], sorts: [{ propertyName: 'createdate', direction: 'DESCENDING' }], limit: 1, after: '1', properties: ['dealname'] });
    expect(next.data.results.map((r: any) => r.properties.dealname)).toEqual(['Search b']);
    expect(next.data.paging).toBeUndefined();
    expect((await search({ limit: 201 })).status).toBe(400);
    expect((await search({ sorts: ['createdate', 'dealname'] })).status).toBe(400);
    expect((await search({ filterGroups: [{ filters: [{ propertyName: 'amount', operator: 'BETWEEN_ISH', value: '1' }] }] })).status).toBe(400);
  });

  it('new_deal: first poll from now, then each new deal once, oldest first, with limit and more', async () => {
    const trigger = hubspot.triggers!.new_deal as PollTrigger;
    await hubspot.actions.create_deal!.run(c.ctx, { dealname: 'Before' });
    const first = await poll(trigger, c.ctx, null, 10);
    expect(first.items.map((i) => i.data.properties)).toMatchObject([{ dealname: 'Before' }]);
    let cursor = first.cursor;
    expect((await poll(trigger, c.ctx, cursor)).items).toEqual([]);

    // Several deals may share a millisecond: the cursor keeps the ids seen at its time.
    for (const name of ['One', 'Two', 'Three']) await hubspot.actions.create_deal!.run(c.ctx, { dealname: name });
    const a = await poll(trigger, c.ctx, cursor, 2);
    expect(a.items.map((i) => (i.data.properties as any).dealname)).toEqual(['One', 'Two']);
    expect(a.more).toBe(true);
    const b = await poll(trigger, c.ctx, a.cursor, 2);
    expect(b.items.map((i) => (i.data.properties as any).dealname)).toEqual(['Three']);
    expect(b.more).toBe(false);
    cursor = b.cursor;
    expect((await poll(trigger, c.ctx, cursor)).items).toEqual([]);

    sandbox.tick('hubspot');
    const ticked = await poll(trigger, c.ctx, cursor);
    expect(ticked.items).toHaveLength(1);
    expect(ticked.items[0]!.id).toBe(sandbox.state.hubspot.deals.at(-1)!.id);
    expect((await poll(trigger, c.ctx, ticked.cursor)).items).toEqual([]);
  });

  it('new_deal on an empty portal answers no items and a cursor before everything', async () => {
    const trigger = hubspot.triggers!.new_deal as PollTrigger;
    const first = await poll(trigger, c.ctx, null);
    expect(first.items).toEqual([]);
    await hubspot.actions.create_deal!.run(c.ctx, { dealname: 'First ever' });
    expect((await poll(trigger, c.ctx, first.cursor)).items).toHaveLength(1);
  });

  it('deal_updated: one item per change, deduplicated by id and hs_lastmodifieddate', async () => {
    const trigger = hubspot.triggers!.deal_updated as PollTrigger;
    const deal = await hubspot.actions.create_deal!.run(c.ctx, { dealname: 'Changing' });
    const first = await poll(trigger, c.ctx, null);
    expect(first.items.map((i) => i.id)).toEqual([deal.id]);
    sandbox.advanceTime(1);
    await hubspot.actions.update_deal!.run(c.ctx, { deal_id: deal.id, properties: { dealstage: 'qualifiedtobuy' } });
    const changed = await poll(trigger, c.ctx, first.cursor);
    expect(changed.items).toHaveLength(1);
    const modified = sandbox.state.hubspot.deals.find((d) => d.id === deal.id)!.properties.hs_lastmodifieddate;
    expect(changed.items[0]).toMatchObject({ id: deal.id, dedupeKey: `${deal.id}:${modified}`, data: { properties: { dealstage: 'qualifiedtobuy' } } });
    expect(changed.items[0]!.dedupeKey).not.toBe(first.items[0]!.dedupeKey);
    expect((await poll(trigger, c.ctx, changed.cursor)).items).toEqual([]);
  });

  it('errors: 401 with a bad token, 429 with Retry-After from search', async () => {
    const trigger = hubspot.triggers!.new_deal as PollTrigger;
    sandbox.inject({ connector: 'hubspot', path: '/crm/v3/objects/deals/search', status: 429, retryAfter: 10, body: { status: 'error', message: 'You have reached your secondly limit.', errorType: 'RATE_LIMIT', policyName: 'SECONDLY' } });
    const limited = await trigger.poll(c.ctx, { input: {}, cursor: null, limit: 5 }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(HttpError);
    expect((limited as HttpError).status).toBe(429);
    expect((limited as HttpError).retryable).toBe(true);
    expect((limited as HttpError).headers['retry-after']).toBe('10');
    sandbox.oauth.revokeAll('hubspot');
    const denied = await trigger.poll(c.ctx, { input: {}, cursor: null, limit: 5 }).catch((e: unknown) => e);
    expect((denied as HttpError).status).toBe(401);
    c = await connect(sandbox, hubspot);
  });
});
