import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  buildAuthorizationUrl,
  buildTokenRequest,
  HttpError,
  OAuth2Auth,
  parseTokenResponse,
  ProviderWebhooks,
  PollTrigger,
  WebhookRequest,
  WebhookTrigger,
  withSandbox,
} from '../index';
import { consentInSandbox, Sandbox, SANDBOX_CREDENTIALS, startSandbox } from '../sandbox';
import { connect, Connected, makeCtx, postToken, REDIRECT_URI } from '../test-support/helpers';
import { allOptions, run, schemaValidator } from '../test-support/checked';
import { airtableConnector } from './airtable';
import { asanaConnector } from './asana';
import { pipedriveConnector } from './pipedrive';
import { shopifyConnector } from './shopify';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => sandbox.reset());

const ajv = schemaValidator;

function pollTrigger(c: Connected, key: string): PollTrigger {
  const t = c.connector.triggers![key]!;
  expect(t.kind).toBe('poll');
  return t as PollTrigger;
}

/** Polls like the engine: the cursor goes through JSON between polls. */
async function poll(c: Connected, key: string, cursor: unknown, limit = 10, input: Record<string, unknown> = {}) {
  const t = pollTrigger(c, key);
  const out = await t.poll(c.ctx, { input, cursor: cursor === null ? null : JSON.parse(JSON.stringify(cursor)), limit });
  const valid = ajv.compile(t.output);
  for (const item of out.items) expect(valid(item.data), JSON.stringify(valid.errors)).toBe(true);
  return { ...out, cursor: JSON.parse(JSON.stringify(out.cursor)) };
}

async function expectHttpError(promise: Promise<unknown>, status: number): Promise<HttpError> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(HttpError);
  expect((error as HttpError).status).toBe(status);
  return error as HttpError;
}

function badToken(c: Connected): Connected {
  return { ...c, ctx: makeCtx(c.connector, c.config, { type: 'oauth2', accessToken: 'not-a-real-token' }) };
}

// ---------------------------------------------------------------------------------------------
// Shopify

const SHOP_APP = { clientId: 'shop-app-client', clientSecret: 'shpss_sandbox_app_secret' };

/** The OAuth dance at one store (the shop the end user types), as a given app. */
async function connectShop(shop = 'acme-store', client: { clientId: string; clientSecret: string } = SANDBOX_CREDENTIALS.client): Promise<Connected> {
  const connector = withSandbox(shopifyConnector, sandbox.url);
  const auth = connector.auth as OAuth2Auth;
  const config = { shop };
  const url = buildAuthorizationUrl(auth, { clientId: client.clientId, redirectUri: REDIRECT_URI, state: 'st', config });
  expect(url.searchParams.get('scope')).toBe(shopifyConnector.auth.scopes.join(','));
  const callback = await consentInSandbox(url);
  const res = await postToken(buildTokenRequest(auth, client, { grantType: 'authorization_code', code: callback.searchParams.get('code')!, redirectUri: REDIRECT_URI }, config));
  const result = parseTokenResponse(auth, res.status, res.body);
  if (!result.ok) throw new Error(`token exchange failed: ${JSON.stringify(res.body)}`);
  expect(result.tokens.accessToken).toMatch(/^shpat_/);
  expect(result.tokens.refreshToken).toMatch(/^shprt_/);
  const credentials = { type: 'oauth2' as const, accessToken: result.tokens.accessToken };
  return { connector, tokens: result.tokens, config, credentials, ctx: makeCtx(connector, config, credentials) };
}

/** A local receiver for webhooks: keeps each request's headers and raw body. */
async function receiver(): Promise<{ url: string; received: { headers: Record<string, string>; rawBody: Buffer; path: string }[]; close(): Promise<void> }> {
  const received: { headers: Record<string, string>; rawBody: Buffer; path: string }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      received.push({ headers, rawBody: Buffer.concat(chunks), path: req.url ?? '/' });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/v1/hooks/instances/abc`, received, close: () => new Promise((r) => server.close(() => r())) };
}

function asWebhookRequest(delivery: { headers: Record<string, string>; rawBody: Buffer }, url: string): WebhookRequest {
  return { method: 'POST', url: new URL(url).pathname, publicUrl: url, headers: delivery.headers, rawBody: delivery.rawBody, body: JSON.parse(delivery.rawBody.toString('utf8')) };
}

describe('shopify', () => {
  it('connects at the typed-in store and names it; a token works only at its own store', async () => {
    const c = await connectShop();
    const account = await c.connector.account(c.ctx);
    expect(account.name).toBe('Acme Store (acme-store.myshopify.com)');
    const call = sandbox.calls({ connector: 'shopify', path: `/~acme-store.myshopify.com/admin/api/2025-10/shop.json` }).at(-1)!;
    expect(call.headers['x-shopify-access-token']).toBe(c.credentials.type === 'oauth2' ? c.credentials.accessToken : '');
    expect(call.headers['authorization']).toBeUndefined();
    const elsewhere = makeCtx(c.connector, { shop: 'other-store' }, c.credentials);
    await expectHttpError(c.connector.account(elsewhere), 401);
  });

  it('creates products, customers and orders, and reads an order back', async () => {
    const c = await connectShop();
    const product = await run(c, 'create_product', { title: 'Linen Apron', price: '32.00', sku: 'APRON-1', product_type: 'Kitchen' });
    expect(product).toMatchObject({ title: 'Linen Apron', handle: 'linen-apron', status: 'active' });
    const customer = await run(c, 'create_customer', { email: 'li@initech.test', first_name: 'Li', last_name: 'Chen', accepts_marketing: true });
    expect(customer).toMatchObject({ email: 'li@initech.test', first_name: 'Li' });
    const order = await run(c, 'create_order', {
      email: 'li@initech.test',
      line_items: [
        { variant_id: product.variant_id, quantity: 2 },
        { title: 'Gift wrap', price: '3.50', quantity: 1 },
      ],
      financial_status: 'paid',
      tags: 'wholesale',
    });
    expect(order).toMatchObject({ name: '#1002', total_price: '67.50', financial_status: 'paid', customer: { id: customer.id } });
    const read = await run(c, 'get_order', { order_id: order.id });
    expect(read).toEqual(order);
    // Shopify's validation errors: 422 with { errors: { field: [messages] } }.
    const dup = await expectHttpError(run(c, 'create_customer', { email: 'li@initech.test' }), 422);
    expect(dup.data).toEqual({ errors: { email: ['has already been taken'] } });
    await expectHttpError(run(c, 'create_order', { line_items: [{ variant_id: 1, quantity: 1 }] }), 422);
  });

  it('offers product variants, paged by Link header page_info, with a title search', async () => {
    const c = await connectShop();
    const all = await allOptions(c, 'variants');
    expect(all.pages).toBe(2); // 63 products, 50 a page
    expect(all.values).toHaveLength(65); // the tee has three sizes
    expect(new Set(all.values).size).toBe(65);
    expect(all.labels).toContain('Classic Tee – Medium');
    expect(all.labels).toContain('Canvas Tote');
    const next = sandbox.calls({ connector: 'shopify', path: /products\.json$/ }).at(-1)!;
    expect(Object.keys(next.query).sort()).toEqual(['limit', 'page_info']);
    const stickers = await allOptions(c, 'variants', 'sticker 0');
    expect(stickers.labels).toEqual(['Sticker 09', 'Sticker 08', 'Sticker 07', 'Sticker 06', 'Sticker 05', 'Sticker 04', 'Sticker 03', 'Sticker 02', 'Sticker 01']);
  });

  it('polls new orders by since_id: first poll from now, then each new order once, oldest first, with limit and more', async () => {
    const c = await connectShop();
    const first = await poll(c, 'new_order', null);
    expect(first.items.map((i) => i.data.name)).toEqual(['#1001']);
    // Limit 0 (from now): no items, the same cursor.
    expect(await poll(c, 'new_order', null, 0)).toMatchObject({ items: [], cursor: first.cursor });
    expect(await poll(c, 'new_order', first.cursor)).toMatchObject({ items: [], cursor: first.cursor });

    sandbox.tick('shopify');
    const afterTick = await poll(c, 'new_order', first.cursor);
    expect(afterTick.items.map((i) => i.data.name)).toEqual(['#1002']);
    expect(afterTick.more).toBe(false);

    const tote = (await allOptions(c, 'variants', 'tote')).values[0]!;
    for (let i = 0; i < 3; i++) await run(c, 'create_order', { line_items: [{ variant_id: Number(tote), quantity: 1 }] });
    const page1 = await poll(c, 'new_order', afterTick.cursor, 2);
    expect(page1.items.map((i) => i.data.name)).toEqual(['#1003', '#1004']);
    expect(page1.more).toBe(true);
    const page2 = await poll(c, 'new_order', page1.cursor, 2);
    expect(page2.items.map((i) => i.data.name)).toEqual(['#1005']);
    expect(page2.more).toBe(false);
    expect((await poll(c, 'new_order', page2.cursor, 2)).items).toEqual([]);
  });

  it('answers 401 for a bad token, 404 for an unknown order, and 429 with Retry-After once the bucket is full', async () => {
    const c = await connectShop();
    const unauthorized = await expectHttpError(c.connector.account(badToken(c).ctx), 401);
    expect(unauthorized.data).toEqual({ errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
    const missing = await expectHttpError(run(c, 'get_order', { order_id: 999 }), 404);
    expect(missing.data).toEqual({ errors: 'Not Found' });

    sandbox.state.shopify.bucketSize = 3;
    const ok = await c.ctx.http.request({ method: 'GET', path: 'shop.json' });
    expect(ok.headers['x-shopify-shop-api-call-limit']).toMatch(/^[1-3]\/3$/);
    await c.ctx.http.request({ method: 'GET', path: 'shop.json' });
    const limited = await expectHttpError(c.connector.account(c.ctx), 429);
    expect(limited.headers['retry-after']).toBe('2.0');
    expect(limited.retryable).toBe(true);
    // Another app at the same store has its own bucket; the bucket leaks 2 calls a second.
    sandbox.oauth.registerClient(SHOP_APP);
    const other = await connectShop('acme-store', SHOP_APP);
    await expect(other.connector.account(other.ctx)).resolves.toMatchObject({ name: 'Acme Store (acme-store.myshopify.com)' });
    sandbox.advanceTime(2);
    await expect(c.connector.account(c.ctx)).resolves.toBeTruthy();
  });

  describe('webhooks', () => {
    beforeEach(() => sandbox.oauth.registerClient({ ...SHOP_APP, name: 'Shop app' }));

    it('subscribes per topic, delivers orders/create signed with the app’s client secret, and unsubscribes', async () => {
      const c = await connectShop('acme-store', SHOP_APP);
      const hooks: ProviderWebhooks = shopifyConnector.webhooks!;
      const trigger = shopifyConnector.triggers.order_created as WebhookTrigger;
      const local = await receiver();
      try {
        const sub = await hooks.subscribe!(c.ctx, { url: local.url, secret: 'unused', events: trigger.events, input: {} });
        expect(sub.id).toMatch(/^\d+$/);
        const listed = await c.ctx.http.request<{ webhooks: { id: number; topic: string; address: string; format: string; api_version: string }[] }>({
          method: 'GET',
          path: 'webhooks.json',
        });
        expect(listed.data.webhooks).toEqual([expect.objectContaining({ id: Number(sub.id), topic: 'orders/create', address: local.url, format: 'json', api_version: '2025-10' })]);
        // The same topic and address again: Shopify's 422.
        await expectHttpError(hooks.subscribe!(c.ctx, { url: local.url, secret: '', events: ['orders/create'], input: {} }), 422);

        sandbox.tick('shopify');
        await sandbox.settleDeliveries();
        expect(local.received).toHaveLength(1);
        const delivery = local.received[0]!;
        expect(delivery.path).toBe('/v1/hooks/instances/abc');
        expect(delivery.headers).toMatchObject({
          'x-shopify-topic': 'orders/create',
          'x-shopify-shop-domain': 'acme-store.myshopify.com',
          'x-shopify-api-version': '2025-10',
          'content-type': 'application/json',
        });
        for (const h of ['x-shopify-hmac-sha256', 'x-shopify-webhook-id', 'x-shopify-event-id', 'x-shopify-triggered-at']) expect(delivery.headers[h], h).toBeTruthy();

        const req = asWebhookRequest(delivery, local.url);
        expect(hooks.verify(req, SHOP_APP.clientSecret, Date.now())).toBeNull();
        expect(hooks.verify(req, SANDBOX_CREDENTIALS.client.clientSecret, Date.now())).toBe('signature mismatch');
        const tampered = Buffer.from(delivery.rawBody.toString('utf8').replace('"paid"', '"refunded"'));
        expect(tampered.equals(delivery.rawBody)).toBe(false);
        expect(hooks.verify({ ...req, rawBody: tampered }, SHOP_APP.clientSecret, Date.now())).toBe('signature mismatch');
        expect(hooks.verify({ ...req, headers: { ...req.headers, 'x-shopify-hmac-sha256': '' } }, SHOP_APP.clientSecret, Date.now())).toBe('missing X-Shopify-Hmac-Sha256');

        const events = hooks.events(req);
        expect(events).toEqual([{ id: delivery.headers['x-shopify-event-id'], type: 'orders/create', data: req.body }]);
        const item = trigger.map(events[0]!, {});
        const valid = ajv.compile(trigger.output);
        expect(valid(item!.data), JSON.stringify(valid.errors)).toBe(true);
        expect(item).toMatchObject({ id: String((req.body as { id: number }).id), data: { name: '#1002', financial_status: 'paid' } });

        // An order made through the API is delivered too.
        const tote = (await allOptions(c, 'variants', 'tote')).values[0]!;
        const order = await run(c, 'create_order', { line_items: [{ variant_id: Number(tote), quantity: 1 }] });
        await sandbox.settleDeliveries();
        expect(local.received).toHaveLength(2);
        expect(JSON.parse(local.received[1]!.rawBody.toString('utf8')).id).toBe(order.id);
        expect(sandbox.deliveries('shopify').every((d) => d.delivered)).toBe(true);

        await hooks.unsubscribe!(c.ctx, { id: sub.id, input: {} });
        expect((await c.ctx.http.request<{ webhooks: unknown[] }>({ method: 'GET', path: 'webhooks.json' })).data.webhooks).toEqual([]);
        // Already gone: not an error.
        await hooks.unsubscribe!(c.ctx, { id: sub.id, input: {} });
        sandbox.tick('shopify');
        await sandbox.settleDeliveries();
        expect(local.received).toHaveLength(2);
      } finally {
        await local.close();
      }
    });

    it('subscribes once per topic and answers the ids comma-joined; each app sees only its own subscriptions', async () => {
      const c = await connectShop('acme-store', SHOP_APP);
      const other = await connectShop('acme-store');
      const hooks: ProviderWebhooks = shopifyConnector.webhooks!;
      const sub = await hooks.subscribe!(c.ctx, { url: 'https://hooks.example.test/x', secret: '', events: ['orders/create', 'orders/paid'], input: {} });
      expect(sub.id).toMatch(/^\d+,\d+$/);
      expect((await other.ctx.http.request<{ webhooks: unknown[] }>({ method: 'GET', path: 'webhooks.json' })).data.webhooks).toEqual([]);
      // Another app cannot remove them (404, which unsubscribe takes as already gone).
      await hooks.unsubscribe!(other.ctx, { id: sub.id, input: {} });
      expect((await c.ctx.http.request<{ webhooks: unknown[] }>({ method: 'GET', path: 'webhooks.json' })).data.webhooks).toHaveLength(2);
      // A bad topic after a good one: nothing is left subscribed.
      await expectHttpError(hooks.subscribe!(c.ctx, { url: 'https://hooks.example.test/y', secret: '', events: ['orders/create', 'orders/teleported'], input: {} }), 422);
      expect((await c.ctx.http.request<{ webhooks: unknown[] }>({ method: 'GET', path: 'webhooks.json' })).data.webhooks).toHaveLength(2);
      await hooks.unsubscribe!(c.ctx, { id: sub.id, input: {} });
      expect((await c.ctx.http.request<{ webhooks: unknown[] }>({ method: 'GET', path: 'webhooks.json' })).data.webhooks).toEqual([]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Asana

describe('asana', () => {
  const relaunch = () => sandbox.state.asana.projects[0]!.gid;

  it('names the account and creates, updates and comments on tasks', async () => {
    const c = await connect(sandbox, asanaConnector);
    expect(await c.connector.account(c.ctx)).toMatchObject({ id: '1201000000000001', name: 'Jane Cooper (jane@acme.test)' });
    const created = await run(c, 'create_task', { project: relaunch(), name: 'Book the photographer', notes: 'Two days', assignee: 'me', due_on: '2026-02-01' });
    expect(created).toMatchObject({
      name: 'Book the photographer',
      notes: 'Two days',
      due_on: '2026-02-01',
      completed: false,
      assignee: { gid: '1201000000000001', name: 'Jane Cooper' },
    });
    const call = sandbox.calls({ connector: 'asana', method: 'POST', path: '/api/1.0/tasks' }).at(-1)!;
    expect(call.body).toEqual({ data: { name: 'Book the photographer', notes: 'Two days', assignee: 'me', due_on: '2026-02-01', projects: [relaunch()] } });
    const updated = await run(c, 'update_task', { task_gid: created.gid, completed: true, assignee: null });
    expect(updated).toMatchObject({ gid: created.gid, completed: true, assignee: null, name: 'Book the photographer' });
    const comment = await run(c, 'add_comment', { task_gid: created.gid, text: 'Booked for Tuesday' });
    expect(comment).toMatchObject({ text: 'Booked for Tuesday' });
    expect(sandbox.state.asana.stories.at(-1)).toMatchObject({ task: created.gid, text: 'Booked for Tuesday' });
    // Asana's 400: { errors: [{ message, help }] }.
    const bad = await expectHttpError(run(c, 'update_task', { task_gid: created.gid, assignee: 'nobody@nowhere.test' }), 400);
    expect((bad.data as { errors: { message: string }[] }).errors[0]!.message).toBe('assignee: Not a recognized ID: nobody@nowhere.test');
  });

  it('offers workspaces and the projects of every workspace, paged across Asana pages, with search', async () => {
    const c = await connect(sandbox, asanaConnector);
    expect((await allOptions(c, 'workspaces')).labels).toEqual(['Acme', 'Personal Projects']);
    const projects = await allOptions(c, 'projects');
    expect(projects.labels).toHaveLength(125); // archived ones left out
    expect(new Set(projects.values).size).toBe(125);
    expect(projects.labels.slice(0, 2)).toEqual(['Website relaunch', 'Q3 Roadmap']);
    expect(projects.labels.at(-1)).toBe('Garden');
    expect(projects.pages).toBe(2); // 100 of Acme's, then its last 24 and the other workspace's
    expect(sandbox.calls({ connector: 'asana', path: '/api/1.0/projects' }).some((call) => call.query.offset)).toBe(true);
    const search = await allOptions(c, 'projects', 'garden');
    expect(search.labels).toEqual(['Garden']);
  });

  it('polls new tasks of a project: first poll from now, then each new task once, oldest first, with limit and more', async () => {
    const c = await connect(sandbox, asanaConnector);
    const input = { project: relaunch() };
    const first = await poll(c, 'new_task', null, 2, input);
    expect(first.items.map((i) => i.data.name)).toEqual(['Pick a typeface', 'Write the launch post']);
    expect(await poll(c, 'new_task', null, 0, input)).toMatchObject({ items: [], cursor: first.cursor });
    expect((await poll(c, 'new_task', first.cursor, 10, input)).items).toEqual([]);
    // Changing an old task does not make it new.
    const old = sandbox.state.asana.tasks[0]!.gid;
    await run(c, 'update_task', { task_gid: old, name: 'Draft the sitemap (v2)' });
    expect((await poll(c, 'new_task', first.cursor, 10, input)).items).toEqual([]);

    sandbox.advanceTime(1);
    sandbox.tick('asana');
    const ticked = await poll(c, 'new_task', first.cursor, 10, input);
    expect(ticked.items).toHaveLength(1);
    expect(ticked.items[0]!.data.name).toMatch(/^Follow up on request/);
    for (const name of ['One', 'Two', 'Three']) {
      sandbox.advanceTime(1);
      await run(c, 'create_task', { project: relaunch(), name });
    }
    const page1 = await poll(c, 'new_task', ticked.cursor, 2, input);
    expect(page1.items.map((i) => i.data.name)).toEqual(['One', 'Two']);
    expect(page1.more).toBe(true);
    const page2 = await poll(c, 'new_task', page1.cursor, 2, input);
    expect(page2.items.map((i) => i.data.name)).toEqual(['Three']);
    expect(page2.more).toBe(false);
    expect((await poll(c, 'new_task', page2.cursor, 2, input)).items).toEqual([]);
    expect(sandbox.calls({ connector: 'asana', path: '/api/1.0/tasks', method: 'GET' }).at(-1)!.query.modified_since).toBe(page2.cursor.createdAt);
  });

  it('answers 401 for a bad token, 404 for an unknown task, and 429 with Retry-After past the rate limit', async () => {
    const c = await connect(sandbox, asanaConnector);
    const unauthorized = await expectHttpError(c.connector.account(badToken(c).ctx), 401);
    expect(unauthorized.data).toMatchObject({ errors: [{ message: 'Not Authorized' }] });
    const missing = await expectHttpError(run(c, 'add_comment', { task_gid: '42', text: 'hi' }), 404);
    expect((missing.data as { errors: { message: string }[] }).errors[0]!.message).toBe('task: Unknown object: 42');
    sandbox.state.asana.rateLimit.limit = 0;
    const limited = await expectHttpError(c.connector.account(c.ctx), 429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.retryable).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Pipedrive

describe('pipedrive', () => {
  it('learns the company API domain from the token, names the account, and creates and moves deals, persons and notes', async () => {
    const c = await connect(sandbox, pipedriveConnector);
    expect(c.config.api_domain).toBe(sandbox.connectorUrl('pipedrive'));
    expect(await c.connector.account(c.ctx)).toMatchObject({ id: '12001', name: 'Jane Cooper (jane@acme.test), Acme Sales' });
    const person = await run(c, 'create_person', { name: 'Li Chen', email: 'li@initech.test', phone: '+3725551234' });
    expect(person).toMatchObject({ name: 'Li Chen', email: 'li@initech.test' });
    const deal = await run(c, 'create_deal', { title: 'Initech expansion', value: 12000, currency: 'USD', stage_id: 7, person_id: person.id });
    expect(deal).toMatchObject({ title: 'Initech expansion', value: 12000, currency: 'USD', stage_id: 7, pipeline_id: 2, person_id: person.id, status: 'open' });
    const moved = await run(c, 'update_deal', { deal_id: deal.id, stage_id: 8, status: 'won' });
    expect(moved).toMatchObject({ id: deal.id, stage_id: 8, status: 'won', title: 'Initech expansion' });
    const note = await run(c, 'add_note', { deal_id: deal.id, content: 'Signed on the call' });
    expect(note).toMatchObject({ content: 'Signed on the call' });
    expect(sandbox.state.pipedrive.notes.at(-1)).toMatchObject({ deal_id: deal.id });
    // Pipedrive's 400: { success: false, error, error_info }.
    const bad = await expectHttpError(run(c, 'create_deal', { title: 'x', stage_id: 9999 }), 400);
    expect(bad.data).toMatchObject({ success: false, error: 'Stage not found.' });
  });

  it('offers active pipelines and every stage, paged by start/limit, with search', async () => {
    const c = await connect(sandbox, pipedriveConnector);
    expect((await allOptions(c, 'pipelines')).labels).toEqual(['Sales', 'Partnerships']);
    const stages = await allOptions(c, 'stages');
    expect(stages.pages).toBe(2);
    expect(stages.values).toHaveLength(119);
    expect(stages.labels.slice(0, 2)).toEqual(['Sales › Qualified', 'Sales › Contact made']);
    expect(sandbox.calls({ connector: 'pipedrive', path: '/api/v1/stages' }).at(-1)!.query).toMatchObject({ start: '100', limit: '100' });
    expect((await allOptions(c, 'stages', 'pilot')).labels).toEqual(['Partnerships › Pilot']);
    expect((await allOptions(c, 'stages', 'partnerships')).labels).toHaveLength(113);
  });

  it('polls new deals through /recents: first poll from now, then each new deal once, oldest first, with limit and more', async () => {
    const c = await connect(sandbox, pipedriveConnector);
    const first = await poll(c, 'new_deal', null, 1);
    expect(first.items.map((i) => i.data.title)).toEqual(['Initech pilot']);
    expect(await poll(c, 'new_deal', null, 0)).toMatchObject({ items: [], cursor: first.cursor });
    sandbox.advanceTime(1);
    expect((await poll(c, 'new_deal', first.cursor)).items).toEqual([]);
    // A change to an old deal is not a new deal.
    await run(c, 'update_deal', { deal_id: first.items[0]!.data.id as number, value: 1 });
    expect((await poll(c, 'new_deal', first.cursor)).items).toEqual([]);
    sandbox.advanceTime(1);
    sandbox.tick('pipedrive');
    const ticked = await poll(c, 'new_deal', first.cursor);
    expect(ticked.items.map((i) => i.data.title)).toEqual(['Inbound lead #3']);
    for (const title of ['One', 'Two', 'Three']) {
      sandbox.advanceTime(1);
      await run(c, 'create_deal', { title });
    }
    const page1 = await poll(c, 'new_deal', ticked.cursor, 2);
    expect(page1.items.map((i) => i.data.title)).toEqual(['One', 'Two']);
    expect(page1.more).toBe(true);
    const page2 = await poll(c, 'new_deal', page1.cursor, 2);
    expect(page2.items.map((i) => i.data.title)).toEqual(['Three']);
    expect(page2.more).toBe(false);
    expect((await poll(c, 'new_deal', page2.cursor, 2)).items).toEqual([]);
    expect(sandbox.calls({ connector: 'pipedrive', path: '/api/v1/recents' }).at(-1)!.query).toMatchObject({ since_timestamp: page2.cursor.time, items: 'deal' });
  });

  it('polls deal updates: each change once (dedupe key per change), including a tick’s stage move', async () => {
    const c = await connect(sandbox, pipedriveConnector);
    const first = await poll(c, 'deal_updated', null);
    expect(first.items.map((i) => i.data.title)).toEqual(['Globex renewal', 'Initech pilot']);
    const globex = first.items[0]!.data.id as number;
    sandbox.advanceTime(1);
    const moved = await run(c, 'update_deal', { deal_id: globex, stage_id: 2 });
    const changed = await poll(c, 'deal_updated', first.cursor);
    expect(changed.items).toEqual([{ id: String(globex), dedupeKey: `${globex}:${moved.update_time}`, data: moved }]);
    expect((await poll(c, 'deal_updated', changed.cursor)).items).toEqual([]);
    sandbox.advanceTime(1);
    sandbox.tick('pipedrive'); // a new deal
    sandbox.advanceTime(1);
    sandbox.tick('pipedrive'); // a stage move of the oldest open deal
    const ticked = await poll(c, 'deal_updated', changed.cursor);
    expect(ticked.items.map((i) => i.data.title)).toEqual(['Inbound lead #3', 'Globex renewal']);
    expect(ticked.items[1]!.data.stage_id).toBe(3);
    expect(new Set(ticked.items.map((i) => i.dedupeKey)).size).toBe(2);
  });

  it('answers 401 for a bad token, 404 for an unknown deal, and 429 with Retry-After past the burst limit', async () => {
    const c = await connect(sandbox, pipedriveConnector);
    const unauthorized = await expectHttpError(c.connector.account(badToken(c).ctx), 401);
    expect(unauthorized.data).toMatchObject({ success: false, error: 'unauthorized access', errorCode: 401 });
    const missing = await expectHttpError(run(c, 'update_deal', { deal_id: 999999, value: 1 }), 404);
    expect(missing.data).toMatchObject({ success: false, error: 'Deal not found' });
    sandbox.advanceTime(2);
    sandbox.state.pipedrive.burst.limit = 1;
    await c.connector.account(c.ctx);
    const limited = await expectHttpError(c.connector.account(c.ctx), 429);
    expect(limited.data).toMatchObject({ success: false, error: 'Request over limit', errorCode: 429 });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    sandbox.advanceTime(2);
    await expect(c.connector.account(c.ctx)).resolves.toBeTruthy();
  });
});

// ---------------------------------------------------------------------------------------------
// Airtable

describe('airtable', () => {
  const LEADS = () => `appSandboxCrm0001/${sandbox.state.airtable.bases[0]!.tables[0]!.id}`;

  it('names the account and creates, updates and finds records (by formula, sorted, paged)', async () => {
    const c = await connect(sandbox, airtableConnector);
    expect(await c.connector.account(c.ctx)).toMatchObject({ id: 'usrSandboxJane001', name: 'jane@acme.test' });
    const created = await run(c, 'create_record', { table: LEADS(), fields: { Name: 'Ada Lovelace', Email: 'ada@engine.test', Status: 'New', Amount: 300 } });
    expect(created).toMatchObject({ id: expect.stringMatching(/^rec[A-Za-z0-9]{14}$/), fields: { Name: 'Ada Lovelace', Status: 'New', Amount: 300 } });
    const updated = await run(c, 'update_record', { table: LEADS(), record_id: created.id, fields: { Status: 'Qualified', Amount: '450' }, typecast: true });
    expect(updated.fields).toEqual({ Name: 'Ada Lovelace', Email: 'ada@engine.test', Status: 'Qualified', Amount: 450 });
    // By table name too.
    const byFormula = await run(c, 'find_records', {
      table: 'appSandboxCrm0001/Leads',
      filter_by_formula: "AND({Amount} >= 1000, {Status} != 'Won')",
      sort_field: 'Amount',
      sort_direction: 'desc',
    });
    expect(byFormula.records.map((r: { fields: { Name: string } }) => r.fields.Name)).toEqual(['Maria Johnson', 'Li Chen']);
    expect((await run(c, 'find_records', { table: LEADS(), max_records: 3 })).records).toHaveLength(3);
    const first = await run(c, 'find_records', { table: LEADS(), page_size: 2 });
    expect(first.records).toHaveLength(2);
    expect(first.offset).toMatch(/^itr/);
    const rest = await run(c, 'find_records', { table: LEADS(), page_size: 2, offset: first.offset });
    expect(rest.records).toHaveLength(2);
    expect(rest.offset).toBeUndefined();
    // Airtable's 422s: { error: { type, message } }.
    const unknownField = await expectHttpError(run(c, 'create_record', { table: LEADS(), fields: { Nmae: 'typo' } }), 422);
    expect(unknownField.data).toEqual({ error: { type: 'UNKNOWN_FIELD_NAME', message: 'Unknown field name: "Nmae"' } });
    const badOption = await expectHttpError(run(c, 'create_record', { table: LEADS(), fields: { Status: 'Maybe' } }), 422);
    expect((badOption.data as { error: { type: string } }).error.type).toBe('INVALID_MULTIPLE_CHOICE_OPTIONS');
    const badFormula = await expectHttpError(run(c, 'find_records', { table: LEADS(), filter_by_formula: 'NOPE({Name})' }), 422);
    expect(badFormula.data).toEqual({ error: { type: 'INVALID_FILTER_BY_FORMULA', message: 'The formula for filtering records is invalid: Unknown function names: NOPE' } });
  });

  it('offers bases, and every base’s tables as base/table, paged by base, with search', async () => {
    const c = await connect(sandbox, airtableConnector);
    expect((await allOptions(c, 'bases')).labels).toEqual(['Sales CRM', 'Content calendar', 'Field ops', 'Archive']);
    const tables = await allOptions(c, 'tables');
    expect(tables.pages).toBe(2); // whole bases a page: 58 tables, then the last base's one
    expect(tables.values).toHaveLength(59);
    expect(tables.labels.at(-1)).toBe('Archive › Old leads');
    expect(tables.labels.slice(0, 3)).toEqual(['Sales CRM › Leads', 'Sales CRM › Companies', 'Content calendar › Posts']);
    expect(tables.values[0]).toBe(LEADS());
    expect((await allOptions(c, 'tables', 'posts')).labels).toEqual(['Content calendar › Posts']);
    expect((await allOptions(c, 'tables', 'region 5')).labels).toEqual([
      'Field ops › Region 50',
      'Field ops › Region 51',
      'Field ops › Region 52',
      'Field ops › Region 53',
      'Field ops › Region 54',
      'Field ops › Region 55',
    ]);
  });

  it('polls new records with filterByFormula on CREATED_TIME(): first poll from now, then each new record once, oldest first, with limit and more', async () => {
    const c = await connect(sandbox, airtableConnector);
    const input = { table: LEADS() };
    const first = await poll(c, 'new_record', null, 2, input);
    expect(first.items.map((i) => i.data.fields)).toEqual([expect.objectContaining({ Name: 'Li Chen' }), expect.objectContaining({ Name: 'Sam Patel' })]);
    expect(await poll(c, 'new_record', null, 0, input)).toMatchObject({ items: [], cursor: first.cursor });
    expect((await poll(c, 'new_record', first.cursor, 10, input)).items).toEqual([]);
    const formula = sandbox.calls({ connector: 'airtable', method: 'GET' }).at(-1)!.query.filterByFormula;
    expect(formula).toBe(`IS_AFTER(CREATED_TIME(), DATEADD('${first.cursor.createdTime}', -1, 'seconds'))`);
    // An update is not a new record.
    await run(c, 'update_record', { table: LEADS(), record_id: first.items[0]!.id, fields: { Hot: true } });
    expect((await poll(c, 'new_record', first.cursor, 10, input)).items).toEqual([]);

    sandbox.tick('airtable');
    const ticked = await poll(c, 'new_record', first.cursor, 10, input);
    expect(ticked.items).toHaveLength(1);
    expect(ticked.items[0]!.data.fields).toMatchObject({ Status: 'New', Name: expect.stringMatching(/^Web form lead/) });
    for (const Name of ['One', 'Two', 'Three']) {
      sandbox.advanceTime(0.01);
      await run(c, 'create_record', { table: LEADS(), fields: { Name } });
    }
    const page1 = await poll(c, 'new_record', ticked.cursor, 2, input);
    expect(page1.items.map((i) => i.data.fields)).toEqual([{ Name: 'One' }, { Name: 'Two' }]);
    expect(page1.more).toBe(true);
    const page2 = await poll(c, 'new_record', page1.cursor, 2, input);
    expect(page2.items.map((i) => i.data.fields)).toEqual([{ Name: 'Three' }]);
    expect(page2.more).toBe(false);
    expect((await poll(c, 'new_record', page2.cursor, 2, input)).items).toEqual([]);
  });

  it('answers 401 for a bad token, 404 for an unknown record, 403 for an unknown base, and 429 RATE_LIMIT_REACHED for 30 seconds past the per-base limit', async () => {
    const c = await connect(sandbox, airtableConnector);
    const unauthorized = await expectHttpError(c.connector.account(badToken(c).ctx), 401);
    expect(unauthorized.data).toEqual({ error: { type: 'AUTHENTICATION_REQUIRED', message: 'Authentication required' } });
    const missing = await expectHttpError(run(c, 'update_record', { table: LEADS(), record_id: 'recAAAAAAAAAAAAAA', fields: { Name: 'x' } }), 404);
    expect(missing.data).toEqual({ error: 'NOT_FOUND' });
    const noBase = await expectHttpError(run(c, 'find_records', { table: 'appAAAAAAAAAAAAAA/Leads' }), 403);
    expect((noBase.data as { error: { type: string } }).error.type).toBe('INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND');

    sandbox.advanceTime(1);
    sandbox.state.airtable.requestsPerSecond = 2;
    await run(c, 'find_records', { table: LEADS() });
    await run(c, 'find_records', { table: LEADS() });
    const limited = await expectHttpError(run(c, 'find_records', { table: LEADS() }), 429);
    expect(limited.data).toEqual({ errors: [{ error: 'RATE_LIMIT_REACHED', message: 'Rate limit exceeded. Please try again later' }] });
    expect(limited.retryable).toBe(true);
    // The limit is per base: another base still answers; this one stays shut for 30 seconds.
    await expect(run(c, 'find_records', { table: `${sandbox.state.airtable.bases[1]!.id}/Posts` })).resolves.toBeTruthy();
    sandbox.advanceTime(10);
    await expectHttpError(run(c, 'find_records', { table: LEADS() }), 429);
    sandbox.advanceTime(21);
    await expect(run(c, 'find_records', { table: LEADS() })).resolves.toBeTruthy();
  });
});
