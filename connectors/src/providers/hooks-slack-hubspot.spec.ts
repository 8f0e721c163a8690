import { createHmac } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ActionContext, connectors, ConnectorDefinition, HttpError, PollTrigger, TriggerItem, WebhookRequest, WebhookTrigger } from '../index';
import { Sandbox, startSandbox } from '../sandbox';
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
    sandbox.oauth.registerClient({
      clientId: 'slack-app',
      clientSecret: 'slack-app-secret',
      connectors: ['slack'],
      webhookUrl: `${receiver.url}/hooks/slack?app=1`,
      signingSecret: secret,
    });
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
    // Deliveries travel concurrently: tell them apart by content, not arrival.
    const botDelivery = receiver.received.find((d) => (d.body as any).event.bot_id)!;
    const personDelivery = receiver.received.find((d) => !(d.body as any).event.bot_id)!;
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
    expect(item).toEqual({
      id: `${message.channel}:${message.ts}`,
      data: expect.objectContaining({ type: 'message', user: message.user, text: message.text, channel: message.channel }),
    });
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
    const events = receiver.received.flatMap((d) => hooks.events(d)).sort((a, b) => a.type.localeCompare(b.type));
    expect(events.map((e) => e.type)).toEqual(['message', 'reaction_added']);
    const trigger = slack.triggers!.reaction_added as WebhookTrigger;
    const item = trigger.map(events[1]!, { reaction: 'tada' })!;
    expect(item.data).toMatchObject({ reaction: 'tada', item: { type: 'message', channel: sent.channel, ts: sent.ts } });
    expect(ajv.compile(trigger.output)(item.data)).toBe(true);
    expect(trigger.map(events[1]!, { reaction: 'thumbsup' })).toBeNull();
    expect(trigger.map(events[1]!, { channel: 'C0OTHER' })).toBeNull();
  });

  it('apps without a request URL get nothing; a failing receiver is retried and recorded', async () => {
    sandbox.oauth.registerClient({
      clientId: 'slack-app',
      clientSecret: 'slack-app-secret',
      connectors: ['slack'],
      webhookUrl: 'http://127.0.0.1:9/unreachable',
      signingSecret: secret,
    });
    try {
      sandbox.tick('slack');
      await sandbox.settleDeliveries();
      const [delivery] = sandbox.deliveries('slack');
      expect(delivery).toMatchObject({ url: 'http://127.0.0.1:9/unreachable', delivered: false, attempts: 3 });
      expect(receiver.received).toHaveLength(0);
    } finally {
      sandbox.oauth.registerClient({
        clientId: 'slack-app',
        clientSecret: 'slack-app-secret',
        connectors: ['slack'],
        webhookUrl: `${receiver.url}/hooks/slack?app=1`,
        signingSecret: secret,
      });
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

  const batch = [
    {
      eventId: 100,
      subscriptionId: 1,
      portalId: 44556677,
      appId: 1,
      occurredAt: 1,
      subscriptionType: 'deal.creation',
      attemptNumber: 0,
      objectId: 1001,
      changeFlag: 'NEW',
      changeSource: 'CRM_UI',
    },
  ];

  it('verifies v3 signatures: method + decoded URL + body + timestamp, at most five minutes old', () => {
    const now = Date.now();
    const url = 'https://switchboard.example/v1/hooks/apps/app_1?x=1%3A2';
    const raw = JSON.stringify(batch);
    const sign = (ts: number, secret = clientSecret, signedUrl = url) => ({
      'x-hubspot-request-timestamp': String(ts),
      'x-hubspot-signature-v3': hubspotSignatureV3(secret, 'POST', signedUrl, raw, String(ts)),
    });
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
    const events = receiver.received.flatMap((d) => hooks.events(d)).sort((a, b) => Number(a.id) - Number(b.id));
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
    const page = await search({
      filterGroups: [{ filters: [{ propertyName: 'createdate', operator: 'GT', value: String(first) }] }],
      sorts: [{ propertyName: 'createdate', direction: 'DESCENDING' }],
      limit: 1,
      properties: ['dealname'],
    });
    expect(page.status).toBe(200);
    expect(page.data).toMatchObject({ total: 2, results: [{ properties: { dealname: 'Search c' } }], paging: { next: { after: '1' } } });
    const next = await search({
      filterGroups: [{ filters: [{ propertyName: 'createdate', operator: 'GT', value: new Date(first).toISOString() }] }],
      sorts: [{ propertyName: 'createdate', direction: 'DESCENDING' }],
      limit: 1,
      after: '1',
      properties: ['dealname'],
    });
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
    // The engine's first poll may ask for no items: it still learns where "now" is.
    expect(await poll(trigger, c.ctx, null, 0)).toMatchObject({ items: [], cursor });
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

  it("errors: 429 with Retry-After past the search API's per-second limit, 401 with a revoked token", async () => {
    const trigger = hubspot.triggers!.new_deal as PollTrigger;
    sandbox.state.hubspot.searchThrottle = { ...sandbox.state.hubspot.searchThrottle, limit: 2, windows: {} };
    await trigger.poll(c.ctx, { input: {}, cursor: null, limit: 5 });
    await trigger.poll(c.ctx, { input: {}, cursor: null, limit: 5 });
    const limited = await trigger.poll(c.ctx, { input: {}, cursor: null, limit: 5 }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(HttpError);
    expect((limited as HttpError).status).toBe(429);
    expect((limited as HttpError).retryable).toBe(true);
    expect((limited as HttpError).headers['retry-after']).toBe('1');
    expect((limited as HttpError).data).toMatchObject({ errorType: 'RATE_LIMIT', policyName: 'SECONDLY' });
    sandbox.advanceTime(1);
    await expect(trigger.poll(c.ctx, { input: {}, cursor: null, limit: 5 })).resolves.toMatchObject({ items: [] });
    sandbox.oauth.revokeAll('hubspot');
    const denied = await trigger.poll(c.ctx, { input: {}, cursor: null, limit: 5 }).catch((e: unknown) => e);
    expect((denied as HttpError).status).toBe(401);
    c = await connect(sandbox, hubspot);
  });
});

describe('google-sheets new_row', () => {
  const sheets = connectors['google-sheets'] as ConnectorDefinition;
  const trigger = sheets.triggers!.new_row as PollTrigger;
  const leads = '1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms';
  let c: Connected;
  beforeAll(async () => {
    c = await connect(sandbox, sheets);
  });

  it('first poll: the newest rows under the header, with fields by header; then appended rows once, oldest first', async () => {
    const input = { spreadsheet_id: leads, sheet: 'Sheet1' };
    const first = await poll<number>(trigger, c.ctx, null, 10, input);
    expect(first.items).toEqual([
      { id: '2', data: { row: 2, values: ['Maria Johnson', 'maria@globex.test', '1200'], fields: { Name: 'Maria Johnson', Email: 'maria@globex.test', Amount: '1200' } } },
      { id: '3', data: { row: 3, values: ['Li Chen', 'li@initech.test', '800'], fields: { Name: 'Li Chen', Email: 'li@initech.test', Amount: '800' } } },
    ]);
    expect(first.cursor).toBe(3);
    expect((await poll<number>(trigger, c.ctx, null, 1, input)).items.map((i) => i.id)).toEqual(['3']);
    expect(await poll<number>(trigger, c.ctx, null, 0, input)).toMatchObject({ items: [], cursor: 3 });
    const none = await poll<number>(trigger, c.ctx, first.cursor, 10, input);
    expect(none).toMatchObject({ items: [], cursor: 3, more: false });

    for (const name of ['A', 'B', 'C']) await sheets.actions.append_row!.run(c.ctx, { spreadsheet_id: leads, values: [name, `${name}@x.test`, 1] });
    const a = await poll<number>(trigger, c.ctx, first.cursor, 2, input);
    expect(a.items.map((i) => i.data.values)).toEqual([
      ['A', 'A@x.test', '1'],
      ['B', 'B@x.test', '1'],
    ]);
    expect(a.more).toBe(true);
    const b = await poll<number>(trigger, c.ctx, a.cursor, 2, input);
    expect(b.items.map((i) => i.id)).toEqual(['6']);
    expect(b.more).toBe(false);

    sandbox.tick('google-sheets');
    const ticked = await poll<number>(trigger, c.ctx, b.cursor, 10, input);
    expect(ticked.items).toHaveLength(1);
    expect(ticked.items[0]!.data).toMatchObject({ row: 7, fields: { Name: expect.stringMatching(/^Ava Patel/) } });
    expect((await poll<number>(trigger, c.ctx, ticked.cursor, 10, input)).items).toEqual([]);
  });

  it('a quoted sheet name without a header row; blank rows are passed over', async () => {
    const input = { spreadsheet_id: leads, sheet: 'Q3 Leads', header_row: false };
    const first = await poll<number>(trigger, c.ctx, null, 10, input);
    expect(first).toMatchObject({ items: [], cursor: 0 });
    await sheets.actions.append_row!.run(c.ctx, { spreadsheet_id: leads, range: "'Q3 Leads'", values: ['first'] });
    sandbox.state['google-sheets'].spreadsheets[0]!.sheets[1]!.rows.push([], ['after a blank row']);
    const next = await poll<number>(trigger, c.ctx, first.cursor, 10, input);
    expect(next.items).toEqual([
      { id: '1', data: { row: 1, values: ['first'] } },
      { id: '3', data: { row: 3, values: ['after a blank row'] } },
    ]);
    expect(next.cursor).toBe(3);
    expect(sandbox.calls({ connector: 'google-sheets', path: /values/ }).at(-1)!.url).toContain(encodeURIComponent("'Q3 Leads'!1:11"));
  });

  it('errors: 404 for an unknown spreadsheet, 401 when revoked, 429 with Retry-After', async () => {
    const missing = await trigger.poll(c.ctx, { input: { spreadsheet_id: 'nope' }, cursor: 3, limit: 5 }).catch((e: unknown) => e);
    expect((missing as HttpError).status).toBe(404);
    sandbox.inject({ connector: 'google-sheets', path: /\/values\//, status: 429, retryAfter: 30 });
    const limited = await trigger.poll(c.ctx, { input: { spreadsheet_id: leads }, cursor: 3, limit: 5 }).catch((e: unknown) => e);
    expect((limited as HttpError).status).toBe(429);
    expect((limited as HttpError).headers['retry-after']).toBe('30');
    sandbox.oauth.revokeAll('google-sheets');
    const denied = await trigger.poll(c.ctx, { input: { spreadsheet_id: leads }, cursor: 3, limit: 5 }).catch((e: unknown) => e);
    expect((denied as HttpError).status).toBe(401);
    c = await connect(sandbox, sheets);
  });
});

describe('salesforce new_record', () => {
  const salesforce = connectors.salesforce as ConnectorDefinition;
  const trigger = salesforce.triggers!.new_record as PollTrigger;
  let c: Connected;
  beforeAll(async () => {
    c = await connect(sandbox, salesforce);
  });

  it('first poll: the newest records oldest first (CreatedDate, then Id); later ones once, with limit and more', async () => {
    const accounts = sandbox.state.salesforce.records.Account!;
    const first = await poll<{ createdDate: string; id: string }>(trigger, c.ctx, null, 3, { object: 'Account' });
    expect(first.items.map((i) => i.id)).toEqual(accounts.slice(2).map((a) => a.Id));
    expect(first.items[0]!.data).toMatchObject({ Name: 'Pyramid Construction Inc.', Industry: 'Construction', attributes: { type: 'Account' } });
    expect(first.cursor).toEqual({ createdDate: '2026-01-05T10:00:00.000+0000', id: accounts[4]!.Id });
    expect((await poll(trigger, c.ctx, first.cursor, 3, { object: 'Account' })).items).toEqual([]);
    expect(await poll(trigger, c.ctx, null, 0, { object: 'Account' })).toMatchObject({ items: [], cursor: first.cursor });

    const leads = await poll<{ createdDate: string; id: string }>(trigger, c.ctx, null, 10, { object: 'Lead' });
    expect(leads.items).toEqual([]);
    // Created within a second: the same CreatedDate, told apart by Id.
    const ids: string[] = [];
    for (const last of ['One', 'Two', 'Three'])
      ids.push((await salesforce.actions.create_record!.run(c.ctx, { object: 'Lead', fields: { LastName: last, Company: 'Initech' } })).id);
    const a = await poll<{ createdDate: string; id: string }>(trigger, c.ctx, leads.cursor, 2, { object: 'Lead' });
    expect(a.items.map((i) => i.data.LastName)).toEqual(['One', 'Two']);
    expect(a.more).toBe(true);
    const b = await poll<{ createdDate: string; id: string }>(trigger, c.ctx, a.cursor, 2, { object: 'Lead' });
    expect(b.items.map((i) => i.id)).toEqual([ids[2]]);
    expect(b.more).toBe(false);
    expect(b.items[0]!.data.CreatedDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000\+0000$/);
    const soql = sandbox.calls({ connector: 'salesforce', path: /\/query$/ }).at(-1)!.query.q!;
    expect(soql).toMatch(/^SELECT FIELDS\(ALL\) FROM Lead WHERE CreatedDate > \S+Z OR \(CreatedDate = \S+Z AND Id > '\w+'\) ORDER BY CreatedDate, Id LIMIT 3$/);

    sandbox.advanceTime(2);
    sandbox.tick('salesforce');
    const ticked = await poll<{ createdDate: string; id: string }>(trigger, c.ctx, b.cursor, 10, { object: 'Lead' });
    expect(ticked.items).toHaveLength(1);
    expect(ticked.items[0]!.data).toMatchObject({ LeadSource: 'Web', Status: 'Open - Not Contacted' });
    expect((await poll(trigger, c.ctx, ticked.cursor, 10, { object: 'Lead' })).items).toEqual([]);
  });

  it('the sandbox refuses FIELDS(ALL) without a LIMIT of at most 200, and unknown objects', async () => {
    const query = (q: string) => c.ctx.http.request<any>({ method: 'GET', path: 'query', query: { q } });
    const noLimit = await query('SELECT FIELDS(ALL) FROM Lead');
    expect(noLimit.status).toBe(400);
    expect(noLimit.data[0].errorCode).toBe('MALFORMED_QUERY');
    expect((await query("SELECT Id FROM Account WHERE NOT (Industry = 'Energy' OR Industry = 'Apparel') AND CreatedDate >= 2026-01-05T10:00:00Z")).data.totalSize).toBe(3);
    const bad = await trigger.poll(c.ctx, { input: { object: 'Nope__c' }, cursor: null, limit: 5 }).catch((e: unknown) => e);
    expect((bad as HttpError).status).toBe(400);
    sandbox.oauth.revokeAll('salesforce');
    const denied = await trigger.poll(c.ctx, { input: { object: 'Lead' }, cursor: null, limit: 5 }).catch((e: unknown) => e);
    expect((denied as HttpError).status).toBe(401);
    c = await connect(sandbox, salesforce);
  });
});

describe('notion new_page', () => {
  const notion = connectors.notion as ConnectorDefinition;
  const trigger = notion.triggers!.new_page as PollTrigger;
  let c: Connected;
  let tasks: string;
  beforeAll(async () => {
    c = await connect(sandbox, notion);
  });
  beforeEach(() => {
    tasks = sandbox.state.notion.databases[0]!.id;
  });

  it('first poll keeps every page of the newest minute in the cursor; new pages come once, oldest first', async () => {
    // The three seeded tasks share one created_time: a limit of 1 returns one, the cursor knows all.
    const first = await poll<{ at: string; ids: string[] }>(trigger, c.ctx, null, 1, { database_id: tasks });
    expect(first.items).toHaveLength(1);
    expect(first.cursor.ids).toHaveLength(3);
    expect(await poll(trigger, c.ctx, null, 0, { database_id: tasks })).toMatchObject({ items: [], cursor: first.cursor });
    expect((await poll(trigger, c.ctx, first.cursor, 10, { database_id: tasks })).items).toEqual([]);

    const created: string[] = [];
    for (const title of ['One', 'Two', 'Three']) created.push((await notion.actions.create_page!.run(c.ctx, { database_id: tasks, title })).id);
    const a = await poll<{ at: string; ids: string[] }>(trigger, c.ctx, first.cursor, 2, { database_id: tasks });
    expect(a.items.map((i) => i.id)).toEqual(created.slice(0, 2));
    expect(a.more).toBe(true);
    expect(a.items[0]!.data.created_time).toMatch(/:00\.000Z$/);
    const b = await poll<{ at: string; ids: string[] }>(trigger, c.ctx, a.cursor, 2, { database_id: tasks });
    expect(b.items.map((i) => i.id)).toEqual([created[2]]);
    expect(b.more).toBe(false);
    const body = sandbox.calls({ connector: 'notion', path: /\/query$/ }).at(-1)!.body as Record<string, unknown>;
    expect(body).toMatchObject({
      filter: { timestamp: 'created_time', created_time: { on_or_after: a.cursor.at } },
      sorts: [{ timestamp: 'created_time', direction: 'ascending' }],
    });

    // Same minute as the last poll's newest page: still found ("after" would miss it).
    sandbox.tick('notion');
    const ticked = await poll<{ at: string; ids: string[] }>(trigger, c.ctx, b.cursor, 10, { database_id: tasks });
    expect(ticked.items).toHaveLength(1);
    expect(ticked.items[0]!.data).toMatchObject({ properties: { Task: { title: [{ plain_text: expect.stringMatching(/^Call back Initech/) }] } } });
    expect((await poll(trigger, c.ctx, ticked.cursor, 10, { database_id: tasks })).items).toEqual([]);

    // A later minute.
    sandbox.advanceTime(120);
    sandbox.tick('notion');
    const later = await poll<{ at: string; ids: string[] }>(trigger, c.ctx, ticked.cursor, 10, { database_id: tasks });
    expect(later.items).toHaveLength(1);
    expect(later.cursor.ids).toEqual([later.items[0]!.id]);
  });

  it('pages more than one query page: more pages of results within one poll', async () => {
    const first = await poll<{ at: string; ids: string[] }>(trigger, c.ctx, null, 10, { database_id: tasks });
    for (let i = 0; i < 120; i++) sandbox.tick('notion');
    const all: string[] = [];
    let cursor = first.cursor;
    for (let i = 0; i < 10; i++) {
      const next = await poll<{ at: string; ids: string[] }>(trigger, c.ctx, cursor, 50, { database_id: tasks });
      all.push(...next.items.map((x) => x.id));
      cursor = next.cursor;
      if (!next.more) break;
    }
    expect(all).toHaveLength(120);
    expect(new Set(all).size).toBe(120);
  });

  it('errors: 404 for a database not shared, 401 when revoked', async () => {
    const missing = await trigger.poll(c.ctx, { input: { database_id: '00000000-0000-4000-8000-000000000000' }, cursor: null, limit: 5 }).catch((e: unknown) => e);
    expect((missing as HttpError).status).toBe(404);
    sandbox.oauth.revokeAll('notion');
    const denied = await trigger.poll(c.ctx, { input: { database_id: tasks }, cursor: null, limit: 5 }).catch((e: unknown) => e);
    expect((denied as HttpError).status).toBe(401);
    c = await connect(sandbox, notion);
  });
});
