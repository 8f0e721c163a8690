import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { createHmac } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorDefinition, connectors, HttpError, PollTrigger, ProviderWebhooks, send, TriggerItem, WebhookRequest, WebhookTrigger } from '../index';
import { Sandbox, startSandbox } from '../sandbox';
import { connect, Connected, makeCtx } from '../test-support/helpers';

let sandbox: Sandbox;
let receiver: Server;
let receiverUrl: string;
/** What the local receiver got, oldest first. */
let received: WebhookRequest[] = [];

beforeAll(async () => {
  sandbox = await startSandbox();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
      const type = headers['content-type'] ?? '';
      const text = rawBody.toString('utf8');
      const body = type.includes('json') ? JSON.parse(text) : Object.fromEntries(new URLSearchParams(text));
      received.push({ method: req.method ?? 'POST', url: req.url ?? '/', publicUrl: `${receiverUrl}${(req.url ?? '/').replace(/^\/+/, '')}`, headers, rawBody, body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await sandbox.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});
beforeEach(() => {
  sandbox.reset();
  received = [];
});

/** The deliveries that reached the receiver at `path` since the last call, once the sandbox is done sending. */
async function deliveredTo(path: string): Promise<WebhookRequest[]> {
  await sandbox.settleDeliveries();
  const mine = received.filter((r) => r.url === `/${path}`);
  received = received.filter((r) => !mine.includes(r));
  return mine;
}

const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
addFormats(ajv);
ajv.addKeyword({ keyword: 'x-options', schemaType: 'string' });

/** Checks a trigger item's data against the trigger's output schema. */
function checked(trigger: PollTrigger | WebhookTrigger, item: TriggerItem | null): TriggerItem {
  expect(item).not.toBeNull();
  const valid = ajv.compile(trigger.output);
  expect(valid(item!.data), JSON.stringify(valid.errors)).toBe(true);
  return item!;
}

/** Verifies a delivery and turns it into trigger items, as the webhook receiver does. */
function itemsOf(webhooks: ProviderWebhooks, trigger: WebhookTrigger, req: WebhookRequest, secret: string, input: Record<string, unknown>): TriggerItem[] {
  expect(webhooks.verify(req, secret, Date.now())).toBeNull();
  return webhooks
    .events(req)
    .filter((e) => trigger.events.includes(e.type))
    .map((e) => trigger.map(e, input))
    .filter((i): i is TriggerItem => i !== null)
    .map((i) => checked(trigger, i));
}

/** Polls like the engine: the cursor goes through JSON between polls. */
async function poll<C>(c: Connected, trigger: PollTrigger, input: Record<string, unknown>, cursor: C | null, limit: number) {
  const out = await trigger.poll(c.ctx, { input, cursor: cursor === null ? null : JSON.parse(JSON.stringify(cursor)), limit });
  for (const item of out.items) checked(trigger, item);
  return { ...out, cursor: JSON.parse(JSON.stringify(out.cursor)) as C };
}

function request(body: string, headers: Record<string, string>): WebhookRequest {
  return { method: 'POST', url: '/hook', publicUrl: 'https://example.test/hook', headers, rawBody: Buffer.from(body), body: JSON.parse(body) };
}

describe('github webhooks and triggers', () => {
  const github = connectors.github as ConnectorDefinition;
  const webhooks = github.webhooks!;
  const issueOpened = github.triggers!.issue_opened as WebhookTrigger;
  const pullRequestOpened = github.triggers!.pull_request_opened as WebhookTrigger;
  const pushed = github.triggers!.push as WebhookTrigger;
  const newIssue = github.triggers!.new_issue as PollTrigger;
  const repository = 'octo-jane/website';
  let c: Connected;
  beforeAll(async () => {
    c = await connect(sandbox, github);
  });

  it('verifies X-Hub-Signature-256 with the hook secret only, over the exact body', () => {
    const body = JSON.stringify({ action: 'opened', issue: { id: 1 } });
    const sign = (secret: string, text = body) => `sha256=${createHmac('sha256', secret).update(text).digest('hex')}`;
    expect(webhooks.verify(request(body, { 'x-hub-signature-256': sign('s3cret') }), 's3cret', Date.now())).toBeNull();
    expect(webhooks.verify(request(body, { 'x-hub-signature-256': sign('other') }), 's3cret', Date.now())).toBe('signature mismatch');
    expect(webhooks.verify(request(`${body} `, { 'x-hub-signature-256': sign('s3cret') }), 's3cret', Date.now())).toBe('signature mismatch');
    expect(webhooks.verify(request(body, { 'x-hub-signature-256': 'sha256=abc' }), 's3cret', Date.now())).toBe('signature mismatch');
    expect(webhooks.verify(request(body, {}), 's3cret', Date.now())).toMatch(/missing/);
  });

  it('subscribes a repository hook, gets signed issue and pull request deliveries, and stops after unsubscribing', async () => {
    const secret = 'whs-github-1';
    const sub = await webhooks.subscribe!(c.ctx, { url: `${receiverUrl}gh-1`, secret, events: [...issueOpened.events, ...pullRequestOpened.events], input: { repository } });
    expect(sub.id).toMatch(/^octo-jane\/website\/\d+$/);
    expect(sub.secret).toBeUndefined();
    const [create] = sandbox.calls({ connector: 'github', method: 'POST', path: '/repos/octo-jane/website/hooks' });
    expect(create!.body).toEqual({
      name: 'web',
      active: true,
      events: ['issues', 'pull_request'],
      config: { url: `${receiverUrl}gh-1`, content_type: 'json', secret, insecure_ssl: '0' },
    });
    const hookId = sub.id.split('/')[2]!;

    // GitHub pings a new hook; no trigger takes a ping.
    const [ping] = await deliveredTo('gh-1');
    expect(ping!.headers['x-github-event']).toBe('ping');
    expect(webhooks.verify(ping!, secret, Date.now())).toBeNull();
    expect(webhooks.events(ping!)).toMatchObject([{ type: 'ping' }]);
    expect(itemsOf(webhooks, issueOpened, ping!, secret, { repository })).toEqual([]);

    // An issue opened through the action.
    const issue = await github.actions.create_issue!.run(c.ctx, { repository, title: 'Checkout button is grey', body: 'Since Monday' });
    const [delivery] = await deliveredTo('gh-1');
    expect(delivery!.headers).toMatchObject({
      'x-github-event': 'issues',
      'x-github-hook-id': hookId,
      'x-github-hook-installation-target-type': 'repository',
      'content-type': 'application/json',
    });
    expect(delivery!.headers['x-github-delivery']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(delivery!.headers['user-agent']).toMatch(/^GitHub-Hookshot\//);
    expect(delivery!.headers['x-hub-signature']).toMatch(/^sha1=[0-9a-f]{40}$/);
    expect(webhooks.verify(delivery!, 'wrong-secret', Date.now())).toBe('signature mismatch');
    const [event] = webhooks.events(delivery!);
    expect(event).toMatchObject({ id: delivery!.headers['x-github-delivery'], type: 'issues.opened' });
    const items = itemsOf(webhooks, issueOpened, delivery!, secret, { repository });
    expect(items).toEqual([
      {
        id: String(issue.id),
        data: expect.objectContaining({ number: issue.number, title: 'Checkout button is grey', body: 'Since Monday', author: 'octo-jane', repository, state: 'open' }),
      },
    ]);
    // Another instance's repository: not its event.
    expect(issueOpened.map(event!, { repository: 'acme-inc/api' })).toBeNull();
    expect(pullRequestOpened.map(event!, { repository })).toBeNull();

    // A pull request: a pull_request event, not an issues one.
    await send(c.ctx, { method: 'POST', path: 'repos/octo-jane/website/pulls', body: { title: 'Grey button fix', head: 'fix/button', base: 'main', body: 'Fixes #1' } });
    const [prDelivery] = await deliveredTo('gh-1');
    expect(prDelivery!.headers['x-github-event']).toBe('pull_request');
    expect(itemsOf(webhooks, pullRequestOpened, prDelivery!, secret, { repository })).toEqual([
      { id: expect.any(String), data: expect.objectContaining({ number: 2, title: 'Grey button fix', head: 'fix/button', base: 'main', draft: false, repository }) },
    ]);
    expect(itemsOf(webhooks, issueOpened, prDelivery!, secret, { repository })).toEqual([]);

    // tick(): someone else opens an issue in the repository.
    sandbox.tick('github');
    const [ticked] = await deliveredTo('gh-1');
    expect(itemsOf(webhooks, issueOpened, ticked!, secret, { repository })).toMatchObject([{ data: { author: 'hank-globex', number: 3 } }]);

    // Comments are not subscribed to; other repositories' issues do not reach this hook.
    await github.actions.add_comment!.run(c.ctx, { repository, issue_number: 1, body: 'On it' });
    await github.actions.create_issue!.run(c.ctx, { repository: 'acme-inc/api', title: 'Elsewhere' });
    expect(await deliveredTo('gh-1')).toEqual([]);

    await webhooks.unsubscribe!(c.ctx, { id: sub.id, input: { repository } });
    expect(sandbox.state.github.hooks).toEqual([]);
    await github.actions.create_issue!.run(c.ctx, { repository, title: 'After unsubscribing' });
    expect(await deliveredTo('gh-1')).toEqual([]);
    // Already gone: not an error.
    await expect(webhooks.unsubscribe!(c.ctx, { id: sub.id, input: { repository } })).resolves.toBeUndefined();
  });

  it('push: committing a file sends a signed push event; the branch filter picks pushes', async () => {
    const secret = 'whs-github-push';
    const sub = await webhooks.subscribe!(c.ctx, { url: `${receiverUrl}gh-push`, secret, events: pushed.events, input: { repository } });
    await deliveredTo('gh-push'); // the ping
    const path = 'repos/octo-jane/website/contents/docs/CHANGELOG.md';
    const file = await send<{ content: { sha: string }; commit: { sha: string; parents: { sha: string }[] } }>(c.ctx, {
      method: 'PUT',
      path,
      body: { message: 'Add a changelog', content: Buffer.from('# Changes\n').toString('base64') },
    });
    const [delivery] = await deliveredTo('gh-push');
    expect(delivery!.headers['x-github-event']).toBe('push');
    expect(webhooks.events(delivery!)).toMatchObject([{ type: 'push' }]);
    const [item] = itemsOf(webhooks, pushed, delivery!, secret, { repository, branch: 'main' });
    expect(item).toEqual({
      id: `refs/heads/main@${file.commit.sha}`,
      data: expect.objectContaining({
        repository,
        branch: 'main',
        before: file.commit.parents[0]!.sha,
        after: file.commit.sha,
        pusher: 'octo-jane',
        commits: [expect.objectContaining({ id: file.commit.sha, message: 'Add a changelog', author: 'octo-jane' })],
      }),
    });
    expect(itemsOf(webhooks, pushed, delivery!, secret, { repository, branch: 'develop' })).toEqual([]);
    expect(itemsOf(webhooks, pushed, delivery!, secret, { repository })).toHaveLength(1);

    // Updating needs the file's current sha (GitHub answers 422 without it, 409 with a stale one).
    const missingSha = await c.ctx.http.request({ method: 'PUT', path, body: { message: 'Edit', content: 'IyBDaGFuZ2Vz' } });
    expect(missingSha.status).toBe(422);
    const stale = await c.ctx.http.request({ method: 'PUT', path, body: { message: 'Edit', content: 'IyBDaGFuZ2Vz', sha: 'f'.repeat(40) } });
    expect(stale.status).toBe(409);
    const updated = await c.ctx.http.request<{ commit: { parents: { sha: string }[] } }>({
      method: 'PUT',
      path,
      body: { message: 'Edit', content: 'IyBDaGFuZ2Vz', sha: file.content.sha },
    });
    expect(updated.status).toBe(200);
    expect(updated.data.commit.parents[0]!.sha).toBe(file.commit.sha);
    const [second] = await deliveredTo('gh-push');
    expect(itemsOf(webhooks, pushed, second!, secret, { repository })[0]!.data).toMatchObject({ before: file.commit.sha });
    await webhooks.unsubscribe!(c.ctx, { id: sub.id, input: { repository } });
  });

  it('the hooks API lists hooks without their secret and refuses a bad configuration with 422', async () => {
    await webhooks.subscribe!(c.ctx, { url: `${receiverUrl}gh-2`, secret: 'x', events: ['issues.opened'], input: { repository } });
    const hooks = await send<any[]>(c.ctx, { method: 'GET', path: 'repos/octo-jane/website/hooks' });
    expect(hooks).toMatchObject([
      { type: 'Repository', name: 'web', active: true, events: ['issues'], config: { url: `${receiverUrl}gh-2`, content_type: 'json', insecure_ssl: '0', secret: '********' } },
    ]);
    const bad = async (body: unknown) => {
      const res = await c.ctx.http.request<any>({ method: 'POST', path: 'repos/octo-jane/website/hooks', body });
      expect(res.status).toBe(422);
      expect(res.data.message).toBe('Validation Failed');
      return res.data.errors[0].message as string;
    };
    expect(await bad({ name: 'web', config: { content_type: 'json' }, events: ['issues'] })).toMatch(/URL/);
    expect(await bad({ name: 'web', config: { url: `${receiverUrl}x` }, events: ['issue'] })).toMatch(/not a valid event/);
    expect(await bad({ name: 'web', config: { url: `${receiverUrl}gh-2` }, events: ['issues'] })).toBe('Hook already exists on this repository');
    await expect(webhooks.subscribe!(c.ctx, { url: `${receiverUrl}gh-3`, secret: 'x', events: ['issues.opened'], input: { repository: 'octo-jane/nope' } })).rejects.toMatchObject({
      status: 404,
    });
    await expect(webhooks.subscribe!(c.ctx, { url: `${receiverUrl}gh-3`, secret: 'x', events: ['issues.opened'], input: { repository: 'not a repo' } })).rejects.toThrow(
      /owner\/name/,
    );
  });

  it('a repeated subscribe (the first answer lost) takes the existing hook over with the new secret', async () => {
    const url = `${receiverUrl}gh-again`;
    const first = await webhooks.subscribe!(c.ctx, { url, secret: 'first', events: ['issues.opened'], input: { repository } });
    const again = await webhooks.subscribe!(c.ctx, { url, secret: 'second', events: ['issues.opened', 'pull_request.opened'], input: { repository } });
    expect(again.id).toBe(first.id);
    expect(sandbox.state.github.hooks).toHaveLength(1);
    expect(sandbox.state.github.hooks[0]!.events).toEqual(['issues', 'pull_request']);
    await deliveredTo('gh-again'); // the ping
    await github.actions.create_issue!.run(c.ctx, { repository, title: 'Signed with the new secret' });
    const [delivery] = await deliveredTo('gh-again');
    expect(webhooks.verify(delivery!, 'second', Date.now())).toBeNull();
    expect(webhooks.verify(delivery!, 'first', Date.now())).toBe('signature mismatch');
  });

  it('new_issue: the first poll starts from now, then new issues come once each, oldest first, pull requests left out', async () => {
    const input = { repository };
    const first = await poll(c, newIssue, input, null, 10);
    expect(first.items).toEqual([]);
    const titles = ['One', 'Two', 'Three'];
    for (const title of titles) await github.actions.create_issue!.run(c.ctx, { repository, title });
    await send(c.ctx, { method: 'POST', path: 'repos/octo-jane/website/pulls', body: { title: 'A PR', head: 'feature', base: 'main' } });
    sandbox.tick('github');

    const a = await poll(c, newIssue, input, first.cursor, 2);
    expect(a.items.map((i) => i.data.title)).toEqual(['One', 'Two']);
    expect(a.more).toBe(true);
    const b = await poll(c, newIssue, input, a.cursor, 2);
    expect(b.items.map((i) => i.data.title)).toEqual(['Three', 'Login page shows a blank screen on Safari']);
    const c1 = await poll(c, newIssue, input, b.cursor, 2);
    expect(c1.items).toEqual([]);
    expect(c1.more).toBeUndefined();
    // Filtered with since= and the real sort parameters.
    expect(sandbox.calls({ connector: 'github', path: '/repos/octo-jane/website/issues' }).at(-1)!.query).toMatchObject({
      state: 'all',
      sort: 'created',
      direction: 'asc',
      since: expect.any(String),
    });

    // A comment updates an old issue (it passes `since`) but it is not new.
    sandbox.advanceTime(5);
    await github.actions.add_comment!.run(c.ctx, { repository, issue_number: 1, body: 'bump' });
    await github.actions.create_issue!.run(c.ctx, { repository, title: 'Four' });
    const d = await poll(c, newIssue, input, c1.cursor, 10);
    expect(d.items.map((i) => i.data.title)).toEqual(['Four']);
  });

  it('new_issue: a first poll over existing issues answers the newest, oldest first, with the cursor at the newest', async () => {
    for (let i = 1; i <= 5; i++) {
      await github.actions.create_issue!.run(c.ctx, { repository, title: `Old ${i}` });
      sandbox.advanceTime(1);
    }
    const first = await poll(c, newIssue, { repository }, null, 3);
    expect(first.items.map((i) => i.data.title)).toEqual(['Old 3', 'Old 4', 'Old 5']);
    expect((await poll(c, newIssue, { repository }, first.cursor, 3)).items).toEqual([]);
    sandbox.tick('github');
    const next = await poll(c, newIssue, { repository }, first.cursor, 3);
    expect(next.items).toHaveLength(1);
    expect(next.items[0]!.id).toBe(String(sandbox.state.github.issues.at(-1)!.id));
  });

  it('new_issue errors: 404 repository, 401 bad token, 429 with retry-after', async () => {
    await expect(newIssue.poll(c.ctx, { input: { repository: 'octo-jane/missing' }, cursor: null, limit: 5 })).rejects.toMatchObject({ status: 404 });
    const badCtx = makeCtx(c.connector, c.config, { type: 'oauth2', accessToken: 'ghu_nope' });
    const unauthorized = await newIssue.poll(badCtx, { input: { repository }, cursor: null, limit: 5 }).catch((e: unknown) => e);
    expect(unauthorized).toBeInstanceOf(HttpError);
    expect(unauthorized).toMatchObject({ status: 401, retryable: false });
    sandbox.inject({ connector: 'github', path: '/repos/octo-jane/website/issues', status: 429, retryAfter: 42 });
    const limited = (await newIssue.poll(c.ctx, { input: { repository }, cursor: null, limit: 5 }).catch((e: unknown) => e)) as HttpError;
    expect(limited).toBeInstanceOf(HttpError);
    expect(limited).toMatchObject({ status: 429, retryable: true });
    expect(limited.headers['retry-after']).toBe('42');
  });
});

describe('stripe webhooks and triggers', () => {
  const stripe = connectors.stripe as ConnectorDefinition;
  const webhooks = stripe.webhooks!;
  const customerCreated = stripe.triggers!.customer_created as WebhookTrigger;
  const paymentSucceeded = stripe.triggers!.payment_succeeded as WebhookTrigger;
  const newCustomer = stripe.triggers!.new_customer as PollTrigger;
  let c: Connected;
  beforeAll(async () => {
    c = await connect(sandbox, stripe);
  });

  /** A context with its own idempotency key, as each step execution has. */
  const fresh = () => makeCtx(c.connector, c.config, c.credentials);
  const signed = (secret: string, body: string, t: number, extra = '') => `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}${extra}`;

  it('verifies Stripe-Signature: the right secret, the exact body, any v1, a timestamp within 300 s', () => {
    const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'customer.created', data: { object: { id: 'cus_1' } } }, null, 2);
    const now = Date.now();
    const t = Math.floor(now / 1000);
    const secret = 'whsec_test123';
    const check = (header: string, text = body, at = now) => webhooks.verify(request(text, { 'stripe-signature': header }), secret, at);
    expect(check(signed(secret, body, t))).toBeNull();
    expect(check(`t=${t},v1=${'0'.repeat(64)},${signed(secret, body, t).split(',')[1]},v0=${'f'.repeat(64)}`)).toBeNull();
    expect(check(signed('whsec_other', body, t))).toBe('signature mismatch');
    expect(check(signed(secret, body, t), body.replace('cus_1', 'cus_2'))).toBe('signature mismatch');
    expect(check(signed(secret, body, t - 301))).toBe('timestamp too old');
    expect(check(signed(secret, body, t), body, now + 301_000)).toBe('timestamp too old');
    expect(check(signed(secret, body, t - 299))).toBeNull();
    expect(check(`t=${t},v0=abc`)).toMatch(/malformed/);
    expect(webhooks.verify(request(body, {}), secret, now)).toMatch(/missing/);
  });

  it('subscribes a webhook endpoint, gets signed events of its types only, and stops after unsubscribing', async () => {
    const sub = await webhooks.subscribe!(c.ctx, { url: `${receiverUrl}st-1`, secret: 'ignored', events: [...customerCreated.events, ...paymentSucceeded.events], input: {} });
    expect(sub.id).toMatch(/^we_/);
    expect(sub.secret).toMatch(/^whsec_/);
    const [create] = sandbox.calls({ connector: 'stripe', method: 'POST', path: '/v1/webhook_endpoints' });
    expect(create!.body).toMatchObject({
      url: `${receiverUrl}st-1`,
      'enabled_events[0]': 'customer.created',
      'enabled_events[1]': 'payment_intent.succeeded',
      api_version: '2024-06-20',
    });
    expect(create!.headers['idempotency-key']).toBe(c.ctx.idempotencyKey);
    const secret = sub.secret!;

    const customer = await stripe.actions.create_customer!.run(fresh(), { email: 'new@shop.test', name: 'New Buyer' });
    const [delivery] = await deliveredTo('st-1');
    expect(delivery!.headers['stripe-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64},v0=[0-9a-f]{64}$/);
    expect(delivery!.headers['user-agent']).toMatch(/^Stripe\/1\.0/);
    expect(webhooks.verify(delivery!, 'whsec_wrong', Date.now())).toBe('signature mismatch');
    const [event] = webhooks.events(delivery!);
    expect(event).toMatchObject({ id: expect.stringMatching(/^evt_/), type: 'customer.created', data: { id: customer.id, object: 'customer' } });
    expect(itemsOf(webhooks, customerCreated, delivery!, secret, {})).toEqual([{ id: customer.id, data: expect.objectContaining({ email: 'new@shop.test', name: 'New Buyer' }) }]);
    expect(paymentSucceeded.map(event!, {})).toBeNull();

    // A confirmed payment intent: payment_intent.created and charge.succeeded are not enabled, so one delivery.
    const intent = await send<{ id: string; status: string }>(c.ctx, {
      method: 'POST',
      path: 'payment_intents',
      form: { amount: '4900', currency: 'usd', customer: customer.id, payment_method: 'pm_card_visa', confirm: 'true' },
    });
    expect(intent.status).toBe('succeeded');
    const paid = await deliveredTo('st-1');
    expect(paid).toHaveLength(1);
    expect(itemsOf(webhooks, paymentSucceeded, paid[0]!, secret, {})).toEqual([
      {
        id: intent.id,
        data: expect.objectContaining({
          amount: 4900,
          amount_received: 4900,
          currency: 'usd',
          customer: customer.id,
          status: 'succeeded',
          latest_charge: expect.stringMatching(/^ch_/),
        }),
      },
    ]);
    // The events API has all four events, newest first.
    const events = await send<{ data: { type: string }[] }>(c.ctx, { method: 'GET', path: 'events', query: { limit: 10 } });
    expect(events.data.map((e) => e.type)).toEqual(['payment_intent.succeeded', 'charge.succeeded', 'payment_intent.created', 'customer.created']);

    // A declined card: 402, and no payment_intent.succeeded.
    const declined = await c.ctx.http.request<any>({
      method: 'POST',
      path: 'payment_intents',
      form: { amount: '4900', currency: 'usd', payment_method: 'pm_card_chargeDeclined', confirm: 'true' },
    });
    expect(declined.status).toBe(402);
    expect(declined.data.error).toMatchObject({ type: 'card_error', code: 'card_declined', decline_code: 'generic_decline' });
    expect(await deliveredTo('st-1')).toEqual([]);

    // tick(): a customer signs up and pays.
    sandbox.tick('stripe');
    const ticked = await deliveredTo('st-1');
    expect(ticked.flatMap((d) => webhooks.events(d).map((e) => e.type))).toEqual(['customer.created', 'payment_intent.succeeded']);

    await webhooks.unsubscribe!(c.ctx, { id: sub.id, input: {} });
    expect(sandbox.state.stripe.webhookEndpoints).toEqual([]);
    await stripe.actions.create_customer!.run(fresh(), { email: 'late@shop.test' });
    expect(await deliveredTo('st-1')).toEqual([]);
    await expect(webhooks.unsubscribe!(c.ctx, { id: sub.id, input: {} })).resolves.toBeUndefined();
  });

  it('a repeated subscribe with the same idempotency key answers the same endpoint and secret', async () => {
    const ctx = fresh();
    const params = { url: `${receiverUrl}st-again`, secret: 'ignored', events: customerCreated.events, input: {} };
    const first = await webhooks.subscribe!(ctx, params);
    const again = await webhooks.subscribe!(ctx, params);
    expect(again).toEqual(first);
    expect(sandbox.state.stripe.webhookEndpoints).toHaveLength(1);
  });

  it("an endpoint enabled for '*' gets every event; unknown event types are refused", async () => {
    const all = await send<{ id: string; secret: string }>(c.ctx, { method: 'POST', path: 'webhook_endpoints', form: { url: `${receiverUrl}st-all`, 'enabled_events[]': '*' } });
    sandbox.tick('stripe');
    const got = await deliveredTo('st-all');
    expect(got.flatMap((d) => webhooks.events(d).map((e) => e.type))).toEqual(['customer.created', 'payment_intent.created', 'charge.succeeded', 'payment_intent.succeeded']);
    for (const d of got) expect(webhooks.verify(d, all.secret, Date.now())).toBeNull();
    const listed = await send<{ data: Record<string, unknown>[] }>(c.ctx, { method: 'GET', path: 'webhook_endpoints' });
    expect(listed.data[0]).toMatchObject({ id: all.id, enabled_events: ['*'], status: 'enabled' });
    expect(listed.data[0]!.secret).toBeUndefined();
    const bad = await c.ctx.http.request<any>({ method: 'POST', path: 'webhook_endpoints', form: { url: `${receiverUrl}x`, 'enabled_events[0]': 'customer.exploded' } });
    expect(bad.status).toBe(400);
    expect(bad.data.error).toMatchObject({ type: 'invalid_request_error', param: 'enabled_events[0]' });
  });

  it('new_customer: the first poll answers the newest, then new customers come once each, oldest first', async () => {
    const first = await poll<{ id: string | null; created: number }>(c, newCustomer, {}, null, 3);
    const newest = sandbox.state.stripe.customers.slice(0, 3).reverse();
    expect(first.items.map((i) => i.id)).toEqual(newest.map((x) => x.id));
    expect(first.cursor.id).toBe(newest[2]!.id);
    expect((await poll(c, newCustomer, {}, first.cursor, 3)).items).toEqual([]);

    const created: string[] = [];
    for (let i = 1; i <= 4; i++) created.push((await stripe.actions.create_customer!.run(fresh(), { name: `Buyer ${i}` })).id);
    sandbox.tick('stripe');
    const a = await poll(c, newCustomer, {}, first.cursor, 3);
    expect(a.items.map((i) => i.data.name)).toEqual(['Buyer 1', 'Buyer 2', 'Buyer 3']);
    expect(a.more).toBe(true);
    const b = await poll(c, newCustomer, {}, a.cursor, 3);
    expect(b.items.map((i) => i.data.name)).toEqual(['Buyer 4', 'Ava Patel']);
    expect(b.more).toBeUndefined();
    expect((await poll(c, newCustomer, {}, b.cursor, 3)).items).toEqual([]);
    expect(sandbox.calls({ connector: 'stripe', path: '/v1/customers' }).at(-1)!.query).toMatchObject({ ending_before: b.items[1]!.id });
  });

  it('new_customer: a deleted cursor customer re-anchors by created time; an empty account starts from its first customer', async () => {
    const first = await poll<{ id: string | null; created: number }>(c, newCustomer, {}, null, 2);
    sandbox.advanceTime(10);
    sandbox.state.stripe.customers = sandbox.state.stripe.customers.filter((x) => x.id !== first.cursor.id);
    const added = await stripe.actions.create_customer!.run(fresh(), { name: 'After the deletion' });
    const after = await poll(c, newCustomer, {}, first.cursor, 5);
    expect(after.items.map((i) => i.id)).toEqual([added.id]);

    sandbox.state.stripe.customers = [];
    const empty = await poll<{ id: string | null; created: number }>(c, newCustomer, {}, null, 5);
    expect(empty).toMatchObject({ items: [], cursor: { id: null, created: 0 } });
    sandbox.tick('stripe');
    sandbox.tick('stripe');
    sandbox.tick('stripe');
    const firstOnes = await poll(c, newCustomer, {}, empty.cursor, 2);
    expect(firstOnes.items.map((i) => i.data.name)).toEqual(['Ava Patel', 'Noah Kim']);
    expect(firstOnes.more).toBe(true);
    expect((await poll(c, newCustomer, {}, firstOnes.cursor, 2)).items.map((i) => i.data.name)).toEqual(['Mia Rossi']);
  });

  it('new_customer errors: 401 bad key, 429 with retry-after', async () => {
    const badCtx = makeCtx(c.connector, {}, { type: 'api_key', apiKey: 'sk_test_nope' });
    await expect(newCustomer.poll(badCtx, { input: {}, cursor: null, limit: 5 })).rejects.toMatchObject({ status: 401, retryable: false });
    sandbox.inject({ connector: 'stripe', path: '/v1/customers', status: 429, retryAfter: 2 });
    const limited = (await newCustomer.poll(c.ctx, { input: {}, cursor: null, limit: 5 }).catch((e: unknown) => e)) as HttpError;
    expect(limited).toBeInstanceOf(HttpError);
    expect(limited).toMatchObject({ status: 429, retryable: true });
    expect(limited.headers['retry-after']).toBe('2');
  });
});
