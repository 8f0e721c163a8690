import { consentInSandbox, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { ROUTES, Switchboard, SwitchboardError, verifyWebhook, WebhookVerificationError } from '@switchboard/sdk';
import { execFile } from 'node:child_process';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, freePort, startApi, startWorker, TenantFixture, TestApi } from './harness';
import { expectConformsToOpenApi, type OpenApiDocument } from './openapi-conformance';

const HOST_ORIGIN = 'https://host.example';

/** A real HTTP server on 127.0.0.1 whose handler the test decides; closes with the test. */
async function listen(handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, body: Buffer) => void) {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks)));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A faulty hop in front of the real API: answers the next statuses in `faults` itself (recording
 * each request), then forwards to the API. What an overloaded load balancer looks like to the SDK.
 */
async function faultyFront(target: string, faults: Array<{ status: number; headers?: Record<string, string> }>) {
  const seen: Array<{ method: string; path: string; body: string; at: number }> = [];
  const front = await listen(async (req, res, body) => {
    seen.push({ method: req.method!, path: req.url!, body: body.toString('utf8'), at: Date.now() });
    const fault = faults.shift();
    if (fault) {
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      return res.end(JSON.stringify({ error: { code: 'service_unavailable', message: 'try later' } }));
    }
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => ['authorization', 'content-type', 'accept'].includes(k))) as Record<string, string>;
    const answer = await fetch(target + req.url, { method: req.method, headers, body: body.length ? body : undefined });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  return { ...front, seen };
}

/** Every answer the SDK clients below got, checked against /openapi.json once the scenarios have run. */
const answers: Array<{ method: string; path: string; status: number; body: unknown }> = [];
const recordingFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  const text = await res.clone().text();
  const json = res.headers.get('content-type')?.includes('json');
  answers.push({ method: init?.method ?? 'GET', path: new URL(String(input)).pathname, status: res.status, body: json && text ? JSON.parse(text) : text || undefined });
  return res;
};

describe('@switchboard/sdk against a real server', () => {
  let api: TestApi;
  let sdk: Switchboard;
  let key: string;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    api = await startApi();
    doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as OpenApiDocument;
    const tenant = await createTenant(api, 'SDK Co');
    key = tenant.host.options.bearer!;
    sdk = new Switchboard({ baseUrl: api.url, secretKey: key, fetch: recordingFetch });
  });
  afterAll(() => api.close());

  it('manages end users', async () => {
    const created = await sdk.endUsers.upsert('cust-1', { displayName: 'Customer One', metadata: { plan: 'pro' } });
    expect(created).toMatchObject({ externalId: 'cust-1', displayName: 'Customer One', metadata: { plan: 'pro' } });
    expect(await sdk.endUsers.get('cust-1')).toMatchObject({ id: created.id });
    await sdk.endUsers.upsert('cust/2');
    const all: string[] = [];
    for await (const user of sdk.endUsers.all()) all.push(user.externalId);
    expect(all).toEqual(['cust-1', 'cust/2']);
    await sdk.endUsers.delete('cust-1');
    await expect(sdk.endUsers.get('cust-1')).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });

  it('throws typed errors carrying the API code, details and request id', async () => {
    const error = await sdk.endUsers.upsert('x', { email: 'nope' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SwitchboardError);
    expect(error).toMatchObject({ status: 400, code: 'validation_failed', details: { errors: [{ path: 'email' }] }, requestId: expect.any(String) });
    const bad = new Switchboard({ baseUrl: api.url, secretKey: 'sk_revoked' });
    await expect(bad.endUsers.list()).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    expect(() => new Switchboard({ secretKey: 'sess_abc' })).toThrow(TypeError);
  });

  describe('transport', () => {
    it('retries idempotent calls on 503 and 429, honouring Retry-After', async () => {
      const front = await faultyFront(api.url, [{ status: 503 }, { status: 429, headers: { 'retry-after': '1' } }]);
      try {
        const client = new Switchboard({ baseUrl: front.url, secretKey: key });
        expect(await client.endUsers.upsert('retried', { displayName: 'Retried' })).toMatchObject({ externalId: 'retried' });
        expect(front.seen.map((s) => s.method)).toEqual(['PUT', 'PUT', 'PUT']);
        expect(front.seen[2].at - front.seen[1].at).toBeGreaterThanOrEqual(1000);
      } finally {
        await front.close();
      }
    });

    it('retries events with one idempotency key, made up when none is given', async () => {
      const front = await faultyFront(api.url, [{ status: 502 }]);
      try {
        const client = new Switchboard({ baseUrl: front.url, secretKey: key });
        expect(await client.events.send('nothing.listens', { endUserId: 'retried', payload: { n: 1 } })).toEqual([]);
        const keys = front.seen.map((s) => JSON.parse(s.body).idempotencyKey);
        expect(keys).toHaveLength(2);
        expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
        expect(keys[1]).toBe(keys[0]);
      } finally {
        await front.close();
      }
    });

    it('does not repeat a call that is not idempotent, nor retry beyond maxRetries', async () => {
      const front = await faultyFront(api.url, [{ status: 503 }, { status: 503 }, { status: 503 }]);
      try {
        const client = new Switchboard({ baseUrl: front.url, secretKey: key });
        await expect(client.sessions.create({ endUserId: 'once' })).rejects.toMatchObject({ status: 503, code: 'service_unavailable' });
        expect(front.seen).toHaveLength(1);
        const impatient = new Switchboard({ baseUrl: front.url, secretKey: key, maxRetries: 1 });
        await expect(impatient.endUsers.list()).rejects.toMatchObject({ status: 503 });
        expect(front.seen).toHaveLength(3);
      } finally {
        await front.close();
      }
    });

    it('gives up after the timeout, and says when nothing answers', async () => {
      const silent = await listen(() => undefined);
      try {
        const client = new Switchboard({ baseUrl: silent.url, secretKey: key, timeoutMs: 200, maxRetries: 0 });
        await expect(client.endUsers.list()).rejects.toMatchObject({ status: 0, code: 'timeout' });
      } finally {
        await silent.close();
      }
      const nobody = new Switchboard({ baseUrl: `http://127.0.0.1:${await freePort()}`, secretKey: key, maxRetries: 0 });
      await expect(nobody.endUsers.list()).rejects.toMatchObject({ status: 0, code: 'network_error' });
    });

    it('works from CommonJS (require) and from ESM (import) in plain Node', async () => {
      const run = promisify(execFile);
      const env = { ...process.env, SB_URL: api.url, SB_KEY: key };
      const cjs = await run(
        process.execPath,
        [
          '-e',
          `const { Switchboard } = require('@switchboard/sdk'); new Switchboard({ secretKey: process.env.SB_KEY, baseUrl: process.env.SB_URL }).endUsers.upsert('from-cjs').then((u) => console.log(JSON.stringify({ id: u.externalId, file: require.resolve('@switchboard/sdk') })))`,
        ],
        { cwd: __dirname, env },
      );
      const esm = await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { Switchboard } from '@switchboard/sdk'; const u = await new Switchboard({ secretKey: process.env.SB_KEY, baseUrl: process.env.SB_URL }).endUsers.upsert('from-esm'); console.log(JSON.stringify({ id: u.externalId, file: import.meta.resolve('@switchboard/sdk') }))`,
        ],
        { cwd: __dirname, env },
      );
      expect(JSON.parse(cjs.stdout)).toMatchObject({ id: 'from-cjs', file: expect.stringMatching(/sdk\/dist\/cjs\/index\.js$/) });
      expect(JSON.parse(esm.stdout)).toMatchObject({ id: 'from-esm', file: expect.stringMatching(/sdk\/dist\/esm\/index\.js$/) });
    });
  });

  describe('connections, flows, runs, approvals and webhooks', () => {
    let sandbox: Sandbox;
    let full: TestApi;
    let worker: { close(): Promise<void> };
    let tenant: TenantFixture;
    let client: Switchboard;
    let receiver: Awaited<ReturnType<typeof listen>>;
    const received: Array<{ headers: IncomingHttpHeaders; body: Buffer }> = [];

    const publish = async (definition: Record<string, unknown>) => {
      const created = await tenant.owner.post('/v1/admin/flow-templates', { definition });
      if (created.status === 409) await tenant.owner.put(`/v1/admin/flow-templates/${definition.key}/draft`, { definition });
      else expect(created.status, JSON.stringify(created.body)).toBe(201);
      const published = await tenant.owner.post(`/v1/admin/flow-templates/${definition.key}/publish`);
      expect(published.status, JSON.stringify(published.body)).toBe(201);
    };

    beforeAll(async () => {
      sandbox = await startSandbox();
      receiver = await listen((req, res, body) => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
      full = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port},127.0.0.1:${receiver.port}` });
      worker = await startWorker(full.config);
      tenant = await createTenant(full, 'SDK Flows Co');
      await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
      await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } });
      client = new Switchboard({ baseUrl: full.url, secretKey: tenant.host.options.bearer!, fetch: recordingFetch });
    });
    afterAll(async () => {
      await worker?.close();
      await full?.close();
      await sandbox?.close();
      await receiver?.close();
    });

    it('walks a host backend through a connected Slack account, and verifies the webhook it got', async () => {
      const endpoint = await tenant.owner.post('/v1/admin/webhook-endpoints', { url: `${receiver.url}/hooks`, eventTypes: ['connection.created'] });
      expect(endpoint.status).toBe(201);

      const session = await client.sessions.create({ endUserId: 'cust-9', displayName: 'Customer Nine' });
      expect(session.token).toMatch(/^sess_/);
      const start = await fetch(`${full.url}/connect/slack?${new URLSearchParams({ session: session.token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
      await fetch(await consentInSandbox(start.headers.get('location')!));

      const [connection] = await client.connections.list('cust-9');
      expect(connection).toMatchObject({ connector: 'slack', status: 'active', endUserId: 'cust-9' });
      expect(await client.connections.get(connection.id)).toEqual(connection);
      expect((await client.connections.accessToken(connection.id)).accessToken).toEqual(expect.any(String));
      const posted = await client.proxy<{ ok: boolean }>(connection.id, { method: 'POST', path: '/chat.postMessage', body: { channel: '#general', text: 'from the SDK' } });
      expect(posted).toMatchObject({ status: 200, data: { ok: true } });
      await expect(client.proxy('00000000-0000-4000-8000-000000000000', { path: '/auth.test' })).rejects.toMatchObject({ status: 404, code: 'not_found' });

      // The webhook about it, verified as a host would: raw body, headers, secret.
      for (let i = 0; i < 400 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      const [hook] = received;
      const event = client.webhooks.verify(hook.body.toString('utf8'), hook.headers, endpoint.body.secret);
      expect(event.type).toBe('connection.created');
      if (event.type === 'connection.created') {
        expect(event.data).toMatchObject({ endUserId: 'cust-9', connection: { id: connection.id } });
      }
      expect(verifyWebhook(hook.body, new Headers(hook.headers as Record<string, string>), endpoint.body.secret)).toEqual(event);
      const tampered = hook.body.toString('utf8').replace('cust-9', 'cust-8');
      expect(() => client.webhooks.verify(tampered, hook.headers, endpoint.body.secret)).toThrow(WebhookVerificationError);
      expect(() => client.webhooks.verify(hook.body, hook.headers, `whsec_${Buffer.alloc(32, 1).toString('base64')}`)).toThrow(/No matching signature/);
      expect(() => client.webhooks.verify(hook.body, hook.headers, endpoint.body.secret, { now: Date.now() + 10 * 60_000 })).toThrow(/timestamp/);
      expect(() => client.webhooks.verify(hook.body, { ...hook.headers, 'webhook-signature': undefined }, endpoint.body.secret)).toThrow(/Missing/);

      await client.connections.delete(connection.id);
      expect(await client.connections.list('cust-9')).toEqual([]);
    });

    it('manages flow instances for an end user (headless)', async () => {
      await client.endUsers.upsert('cust-i');
      const greet = {
        key: 'greet',
        name: 'Greet',
        trigger: { type: 'event', event: 'greet' },
        connectors: [],
        inputs: { greeting: { type: 'string', title: 'Greeting', default: 'Hi' } },
        steps: [{ id: 'say', type: 'transform', output: "=$inputs.greeting & ' ' & $trigger.name" }],
      };
      await publish(greet);
      const [flow] = await client.instances.list('cust-i');
      expect(flow).toMatchObject({ key: 'greet', instance: null });

      const enabled = await client.instances.enable('cust-i', 'greet', { settings: { greeting: 'Hello' } });
      expect(enabled.instance).toMatchObject({ enabled: true, version: 1, settings: { greeting: 'Hello' }, upgradeAvailable: false });
      const [run] = await client.events.send('greet', { endUserId: 'cust-i', payload: { name: 'Ada' } });
      expect(await client.runs.waitFor(run.id, { timeoutMs: 20_000 })).toMatchObject({ status: 'succeeded', steps: [{ id: 'say', output: 'Hello Ada' }] });

      expect((await client.instances.update('cust-i', 'greet', { settings: { greeting: 'Howdy' } })).instance).toMatchObject({ settings: { greeting: 'Howdy' } });
      await publish({ ...greet, name: 'Greet v2' });
      expect((await client.instances.list('cust-i'))[0].instance).toMatchObject({ version: 1, upgradeAvailable: true });
      expect((await client.instances.upgrade('cust-i', 'greet')).instance).toMatchObject({ version: 2, upgradeAvailable: false, settings: { greeting: 'Howdy' } });
      expect((await client.instances.disable('cust-i', 'greet')).instance).toMatchObject({ enabled: false });
      expect(await client.events.send('greet', { endUserId: 'cust-i', payload: { name: 'Ada' } })).toEqual([]);
      await expect(client.instances.enable('cust-i', 'no-such-flow')).rejects.toMatchObject({ status: 404 });

      // Webhook-triggered flows: the secret URL, rotated, and a sender-issued signing secret.
      await publish({
        key: 'inbound',
        name: 'Inbound',
        trigger: { type: 'webhook', verify: { header: 'X-Signature', encoding: 'hex' } },
        connectors: [],
        inputs: {},
        steps: [{ id: 'echo', type: 'transform', output: '=$trigger' }],
      });
      const hooked = (await client.instances.enable('cust-i', 'inbound')).instance!;
      expect(hooked.webhookUrl).toMatch(/\/v1\/hooks\//);
      const rotated = (await client.instances.rotateWebhook('cust-i', 'inbound')).instance!;
      expect(rotated.webhookUrl).toMatch(/\/v1\/hooks\//);
      expect(rotated.webhookUrl).not.toBe(hooked.webhookUrl);
      expect((await client.instances.setWebhookSecret('cust-i', 'inbound', { secret: 'sender-issued-secret-0123' })).instance).toMatchObject({
        webhookSecret: 'sender-issued-secret-0123',
      });
      await expect(client.instances.setWebhookSecret('cust-i', 'inbound', { secret: 'short' })).rejects.toMatchObject({ status: 400, code: 'validation_failed' });
    });

    it('runs flows, waits for them, retries a failed run and cancels a waiting one', async () => {
      await client.endUsers.upsert('cust-r');
      const start = await fetch(
        `${full.url}/connect/slack?${new URLSearchParams({ session: (await client.sessions.create({ endUserId: 'cust-r' })).token, origin: HOST_ORIGIN })}`,
        { redirect: 'manual' },
      );
      await fetch(await consentInSandbox(start.headers.get('location')!));
      await publish({
        key: 'quote',
        name: 'Quote',
        trigger: { type: 'request' },
        connectors: [],
        inputs: {},
        steps: [{ id: 'price', type: 'respond', output: { total: '=$trigger.cost * 2' } }],
      });
      await publish({
        key: 'read',
        name: 'Read',
        trigger: { type: 'request' },
        connectors: ['slack'],
        inputs: {},
        steps: [{ id: 'read', type: 'request', connector: 'slack', method: 'GET', path: 'conversations.history', query: { channel: 'C0GENERAL' } }],
      });
      await publish({ key: 'later', name: 'Later', trigger: { type: 'request' }, connectors: [], inputs: {}, steps: [{ id: 'wait', type: 'delay', for: 'PT1H' }] });
      for (const key of ['quote', 'read', 'later']) await client.instances.enable('cust-r', key);

      const quote = await client.flows.run('quote', { endUserId: 'cust-r', input: { cost: 21 }, wait: true });
      expect(quote).toMatchObject({ status: 'succeeded', flow: 'quote', endUserId: 'cust-r', result: { total: 42 } });

      sandbox.inject({ connector: 'slack', path: '/api/conversations.history', status: 400, body: { ok: false, error: 'channel_not_found' }, times: 1 } as never);
      const started = await client.flows.run('read', { endUserId: 'cust-r' });
      const failed = await client.runs.waitFor(started.id, { timeoutMs: 20_000 });
      expect(failed).toMatchObject({ status: 'failed', attempt: 1 });
      const retried = await client.runs.retry(failed.id);
      expect(retried.id).toBe(failed.id);
      expect(await client.runs.waitFor(failed.id, { timeoutMs: 20_000 })).toMatchObject({ status: 'succeeded', attempt: 2 });
      await expect(client.runs.retry(failed.id)).rejects.toMatchObject({ status: 409, code: 'run_not_retryable' });

      const later = await client.flows.run('later', { endUserId: 'cust-r' });
      for (let i = 0; i < 400 && (await client.runs.get(later.id)).status !== 'waiting'; i++) await new Promise((r) => setTimeout(r, 25));
      await client.runs.cancel(later.id);
      expect(await client.runs.waitFor(later.id, { timeoutMs: 20_000 })).toMatchObject({ status: 'cancelled' });
      await expect(client.runs.cancel(later.id)).rejects.toMatchObject({ status: 409, code: 'run_already_finished' });

      const listed = await client.runs.list({ endUserId: 'cust-r', flow: 'read' });
      expect(listed.data.map((r) => r.id)).toEqual([failed.id]);
      const everyRun: string[] = [];
      for await (const run of client.runs.all({ endUserId: 'cust-r' })) everyRun.push(run.id);
      expect(everyRun).toEqual(expect.arrayContaining([quote.id, failed.id, later.id]));
    });

    it('lists and decides approvals', async () => {
      await client.endUsers.upsert('cust-a');
      await publish({
        key: 'refund',
        name: 'Refund',
        trigger: { type: 'request' },
        connectors: [],
        inputs: {},
        steps: [
          { id: 'ok', type: 'approval', title: "='Refund ' & $trigger.amount & ' EUR?'", approvers: 'host' },
          { id: 'done', type: 'respond', output: { refunded: '=$trigger.amount' } },
        ],
      });
      await client.instances.enable('cust-a', 'refund');
      const yes = await client.flows.run('refund', { endUserId: 'cust-a', input: { amount: 30 } });
      const no = await client.flows.run('refund', { endUserId: 'cust-a', input: { amount: 999 } });
      let pending: Awaited<ReturnType<typeof client.approvals.list>>['data'] = [];
      for (let i = 0; i < 400 && pending.length < 2; i++) {
        pending = (await client.approvals.list({ status: 'pending', endUserId: 'cust-a' })).data;
        if (pending.length < 2) await new Promise((r) => setTimeout(r, 25));
      }
      expect(pending.map((a) => a.runId).sort()).toEqual([yes.id, no.id].sort());
      const forYes = pending.find((a) => a.runId === yes.id)!;
      const forNo = pending.find((a) => a.runId === no.id)!;
      expect(forYes).toMatchObject({ flow: 'refund', title: 'Refund 30 EUR?', approvers: 'host', endUserId: 'cust-a' });
      expect(await client.approvals.get(forYes.id)).toEqual(forYes);

      expect(await client.approvals.approve(forYes.id, { comment: 'fine', decidedBy: 'ops@acme' })).toMatchObject({ status: 'approved', decidedBy: 'ops@acme', comment: 'fine' });
      expect(await client.approvals.reject(forNo.id)).toMatchObject({ status: 'rejected' });
      await expect(client.approvals.approve(forNo.id)).rejects.toMatchObject({ status: 409, code: 'approval_already_decided' });
      expect(await client.runs.waitFor(yes.id, { timeoutMs: 20_000 })).toMatchObject({ status: 'succeeded', result: { refunded: 30 } });
      expect((await client.runs.waitFor(no.id, { timeoutMs: 20_000 })).status).not.toBe('succeeded');
      expect((await client.approvals.list({ status: 'pending', endUserId: 'cust-a' })).data).toEqual([]);
    });
  });

  /** Each SDK operation, by the route it calls: what the scenarios above got from it is what the document says (so the generated types are true). */
  it.each(Object.entries(ROUTES))('%s (%s) answered what /openapi.json documents', (_name, route) => {
    const [method, template] = route.split(' ');
    const pattern = new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`);
    const successes = answers.filter((a) => a.method === method && pattern.test(a.path) && a.status < 300);
    expect(successes, `the scenarios above never got a success from ${route}`).not.toEqual([]);
    for (const answer of successes) expectConformsToOpenApi(doc, method, template, answer.status, answer.body);
  });
});
