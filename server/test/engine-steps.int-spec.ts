import { consentInSandbox, RecordedCall, SANDBOX_CREDENTIALS, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTenant, Http, startApi, startWorker, TenantFixture, TestApi } from './harness';

/**
 * Step retries against the sandbox provider forced to fail: one retry policy per step (the
 * provider client sends each request once), non-idempotent actions never repeated after they may
 * have reached the provider, Retry-After honoured, timed-out calls recorded as "outcome unknown",
 * and idempotency keys unique per step path and loop iteration.
 */

const HOST_ORIGIN = 'https://host.example';
const USER = 'steps-user';
const FAST = { initialMs: 10, maxMs: 20 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const flow = (key: string, connectors: string[], steps: unknown[]) => ({ key, name: key, trigger: { type: 'request' }, connectors, inputs: {}, steps });

const FLOWS = [
  // A read: repeated on every transient failure, as many times as the step's policy says.
  flow(
    'read-four',
    ['slack'],
    [{ id: 'read', type: 'request', connector: 'slack', method: 'GET', path: 'conversations.history', query: { channel: 'C0GENERAL' }, retry: { attempts: 4, backoff: FAST } }],
  ),
  flow('read-default', ['slack'], [{ id: 'users', type: 'action', connector: 'slack', action: 'list_users', input: {} }]),
  // chat.postMessage is not safe to repeat once it may have reached Slack.
  flow(
    'post',
    ['slack'],
    [{ id: 'post', type: 'action', connector: 'slack', action: 'send_message', input: { channel: '#general', text: '=$trigger.text' }, retry: { attempts: 3, backoff: FAST } }],
  ),
  flow(
    'post-raw',
    ['slack'],
    [
      {
        id: 'post',
        type: 'request',
        connector: 'slack',
        method: 'POST',
        path: 'chat.postMessage',
        body: { channel: '#general', text: '=$trigger.text' },
        retry: { attempts: 3, backoff: FAST },
      },
    ],
  ),
  flow(
    'post-slow',
    ['slack'],
    [
      {
        id: 'post',
        type: 'action',
        connector: 'slack',
        action: 'send_message',
        input: { channel: '#general', text: '=$trigger.text' },
        timeoutMs: 300,
        retry: { attempts: 3, backoff: FAST },
      },
    ],
  ),
  // Retry-After is capped by the step's timeout (here 500 ms) and never waited past the run's time limit (3 s).
  flow(
    'post-capped',
    ['slack'],
    [
      {
        id: 'post',
        type: 'action',
        connector: 'slack',
        action: 'send_message',
        input: { channel: '#general', text: '=$trigger.text' },
        timeoutMs: 500,
        retry: { attempts: 2, backoff: FAST },
      },
    ],
  ),
  {
    ...flow(
      'post-budget',
      ['slack'],
      [{ id: 'post', type: 'action', connector: 'slack', action: 'send_message', input: { channel: '#general', text: '=$trigger.text' }, retry: { attempts: 2, backoff: FAST } }],
    ),
    timeoutMs: 3000,
  },
  // A DELETE is repeated after a timeout (idempotent), but the first one may have been applied.
  flow(
    'delete',
    ['stripe'],
    [{ id: 'remove', type: 'request', connector: 'stripe', method: 'DELETE', path: 'customers/cus_gone', timeoutMs: 300, retry: { attempts: 2, backoff: FAST } }],
  ),
  // Stripe de-duplicates by the Idempotency-Key the action sends: safe to repeat.
  flow(
    'customer',
    ['stripe'],
    [{ id: 'create', type: 'action', connector: 'stripe', action: 'create_customer', input: { name: '=$trigger.name' }, retry: { attempts: 3, backoff: FAST } }],
  ),
  // A POST to an API that refuses connections: it never got the request, so it is always repeated.
  flow('unreachable', ['http'], [{ id: 'post', type: 'request', connector: 'http', method: 'POST', path: 'echo/x', body: { n: 1 }, retry: { attempts: 3, backoff: FAST } }]),
  flow(
    'nested',
    ['stripe'],
    [
      {
        id: 'outer',
        type: 'loop',
        over: '=$trigger.outer',
        steps: [
          {
            id: 'inner',
            type: 'loop',
            over: '=$trigger.inner',
            steps: [
              {
                id: 'create',
                type: 'action',
                connector: 'stripe',
                action: 'create_customer',
                input: { name: "=$trigger.tag & '-' & $item" },
                retry: { attempts: 3, backoff: FAST },
              },
            ],
          },
        ],
      },
    ],
  ),
];

describe('step retries, unknown outcomes and idempotency keys', () => {
  let sandbox: Sandbox;
  /** A second provider, connected to, then shut down: its port refuses connections. */
  let gone: Sandbox;
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let me: Http;

  const run = async (key: string, input: unknown) => {
    const res = await tenant.host.post(`/v1/flows/${key}/runs`, { endUserId: USER, input, wait: true });
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    return (await tenant.host.get(`/v1/runs/${res.body.id}`)).body;
  };
  const calls = (connector: string, path: string) => sandbox.calls((c: RecordedCall) => c.connector === connector && c.path === path);

  beforeAll(async () => {
    sandbox = await startSandbox();
    gone = await startSandbox();
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port},127.0.0.1:${gone.port}`, CONNECTION_RATE_LIMITS: 'false' });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Steps Co');
    await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
    for (const connector of ['slack', 'stripe', 'http'])
      expect((await tenant.owner.put(`/v1/admin/connectors/${connector}`, { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    const token = (await tenant.host.post('/v1/sessions', { endUserId: USER })).body.token as string;
    me = new Http(api.url, { origin: HOST_ORIGIN }).withBearer(token);
    const start = await fetch(`${api.url}/connect/slack?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
    expect(await (await fetch(await consentInSandbox(start.headers.get('location')!))).text()).toContain('"connected"');
    const stripe = await fetch(`${api.url}/connect/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ session: token, origin: HOST_ORIGIN, apiKey: SANDBOX_CREDENTIALS.stripe.apiKey }).toString(),
    });
    expect(await stripe.text()).toContain('"connected"');
    const http = await fetch(`${api.url}/connect/http`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ session: token, origin: HOST_ORIGIN, 'config.base_url': gone.connectorUrl('http'), apiKey: SANDBOX_CREDENTIALS.http.apiKey }).toString(),
    });
    expect(await http.text()).toContain('"connected"');
    await gone.close();
    for (const definition of FLOWS) {
      expect((await tenant.owner.post('/v1/admin/flow-templates', { definition })).status, definition.key).toBe(201);
      expect((await tenant.owner.post(`/v1/admin/flow-templates/${definition.key}/publish`)).status, definition.key).toBe(201);
      expect((await tenant.host.post(`/v1/end-users/${USER}/flows/${definition.key}/enable`, { settings: {} })).status, definition.key).toBe(200);
    }
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await sandbox?.close();
  });
  beforeEach(() => sandbox.reset());

  it('a down provider receives exactly the configured number of calls per run', async () => {
    sandbox.inject({ connector: 'slack', path: '/api/conversations.history', status: 503, times: Infinity });
    const four = await run('read-four', {});
    expect(four).toMatchObject({ status: 'failed', error: { code: 'http_503', step: 'read' } });
    expect(four.steps[0]).toMatchObject({ status: 'failed', attempts: 4 });
    expect(four.steps[0].outcome).toBeUndefined();
    expect(calls('slack', '/api/conversations.history')).toHaveLength(4);

    // Without `retry`: the default policy, 3 attempts, and no more.
    sandbox.inject({ connector: 'slack', path: '/api/users.list', status: 503, times: Infinity });
    const fallback = await run('read-default', {});
    expect(fallback).toMatchObject({ status: 'failed', error: { code: 'http_503' } });
    expect(fallback.steps[0]).toMatchObject({ attempts: 3 });
    expect(calls('slack', '/api/users.list')).toHaveLength(3);
  });

  it("checks a computed input against the action's schema before calling the provider, naming the field", async () => {
    const before = calls('slack', '/api/chat.postMessage').length;
    const bad = await run('post', { text: 42 });
    expect(bad).toMatchObject({ status: 'failed', error: { code: 'invalid_action_input', step: 'post' } });
    expect(bad.error.message).toContain('input/text must be string');
    expect(bad.steps[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(calls('slack', '/api/chat.postMessage')).toHaveLength(before);
  });

  it('does not repeat a non-idempotent action or request after a 5xx', async () => {
    sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', status: 503, times: 1 });
    const action = await run('post', { text: 'once' });
    expect(action).toMatchObject({ status: 'failed', error: { code: 'http_503', step: 'post' } });
    expect(action.steps[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(calls('slack', '/api/chat.postMessage')).toHaveLength(1);

    // A raw POST carries the engine's idempotency key, but Slack does not honour one.
    sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', status: 500, times: 1 });
    const raw = await run('post-raw', { text: 'raw once' });
    expect(raw).toMatchObject({ status: 'failed', error: { code: 'http_500', step: 'post' } });
    expect(calls('slack', '/api/chat.postMessage')).toHaveLength(2);
  });

  it('repeats a POST the provider refused with 429 after its Retry-After; one whose connection dropped is not repeated', async () => {
    sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', status: 429, retryAfter: 1, times: 1 });
    const res = await run('post', { text: 'after a pause' });
    expect(res).toMatchObject({ status: 'succeeded' });
    expect(res.steps[0]).toMatchObject({ status: 'succeeded', attempts: 2 });
    const seen = calls('slack', '/api/chat.postMessage');
    expect(seen.map((c) => c.status)).toEqual([429, 200]);
    expect(seen[1].at - seen[0].at).toBeGreaterThanOrEqual(950);

    // A dropped connection after sending may have been delivered: not repeated for Slack…
    sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', drop: true, times: 1 });
    const dropped = await run('post', { text: 'dropped' });
    expect(dropped).toMatchObject({ status: 'failed', error: { code: 'provider_timeout' } });
    expect(dropped.steps[0]).toMatchObject({ attempts: 1, outcome: 'unknown' });
  });

  it("caps a Retry-After wait at the step's timeout, and fails at once when the run's time limit would pass first", async () => {
    sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', status: 429, retryAfter: 30, times: 1 });
    const capped = await run('post-capped', { text: 'capped' });
    expect(capped).toMatchObject({ status: 'succeeded' });
    const seen = calls('slack', '/api/chat.postMessage');
    expect(seen.map((c) => c.status)).toEqual([429, 200]);
    expect(seen[1].at - seen[0].at).toBeGreaterThanOrEqual(450);
    expect(seen[1].at - seen[0].at).toBeLessThan(5000);

    sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', status: 429, retryAfter: 30, times: 1 });
    const started = Date.now();
    const budget = await run('post-budget', { text: 'no budget' });
    expect(budget).toMatchObject({ status: 'failed', error: { code: 'http_429', step: 'post' } });
    expect(budget.steps[0]).toMatchObject({ attempts: 1 });
    expect(Date.now() - started).toBeLessThan(2500);
    expect(calls('slack', '/api/chat.postMessage')).toHaveLength(3);
  });

  it('repeats a POST that never reached the provider (connection refused) as often as the policy says', async () => {
    const res = await run('unreachable', {});
    expect(res).toMatchObject({ status: 'failed', error: { code: 'provider_unreachable', step: 'post' } });
    expect(res.steps[0]).toMatchObject({ status: 'failed', attempts: 3 });
    expect(res.steps[0].outcome).toBeUndefined();
  });

  it('repeats an action that sends an idempotency key the provider honours, with the same key', async () => {
    sandbox.inject({ connector: 'stripe', path: '/v1/customers', method: 'POST', status: 503, times: 1 });
    const res = await run('customer', { name: 'Ada' });
    expect(res).toMatchObject({ status: 'succeeded' });
    expect(res.steps[0]).toMatchObject({ attempts: 2, idempotencyKey: `${res.id}:create` });
    const seen = calls('stripe', '/v1/customers').filter((c) => c.method === 'POST');
    expect(seen.map((c) => c.status)).toEqual([503, 200]);
    expect(seen.map((c) => c.headers['idempotency-key'])).toEqual([`${res.id}:create`, `${res.id}:create`]);
  });

  it('records a timed-out call as outcome unknown in every run view, and does not repeat it', async () => {
    sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', latencyMs: 1500, times: 1 });
    const res = await run('post-slow', { text: 'slow' });
    expect(res).toMatchObject({ status: 'failed', error: { code: 'step_timed_out', step: 'post' } });
    const unknown = { path: 'post', status: 'failed', attempts: 1, outcome: 'unknown', error: { code: 'step_timed_out' } };
    expect(res.steps[0]).toMatchObject(unknown);
    expect((await tenant.owner.get(`/v1/admin/runs/${res.id}`)).body.steps[0]).toMatchObject(unknown);
    expect((await me.get(`/v1/me/runs/${res.id}`, { origin: HOST_ORIGIN })).body.steps[0]).toMatchObject(unknown);
    // The abandoned call still reaches Slack; nothing else follows it.
    await sleep(1700);
    const seen = calls('slack', '/api/chat.postMessage');
    expect(seen).toHaveLength(1);
    expect(seen[0].status).toBe(200);

    // Retrying the run repeats the step, marked as a possible duplicate.
    expect((await tenant.host.post(`/v1/runs/${res.id}/retry`)).status).toBe(202);
    let retried = res;
    for (let i = 0; i < 200 && (retried.attempt === 1 || ['queued', 'running'].includes(retried.status)); i++) {
      await sleep(25);
      retried = (await tenant.host.get(`/v1/runs/${res.id}`)).body;
    }
    expect(retried).toMatchObject({ status: 'succeeded', attempt: 2 });
    expect(retried.steps[0]).toMatchObject({ status: 'succeeded', possibleDuplicate: true, idempotencyKey: `${res.id}:post` });
    expect(retried.steps[0].outcome).toBeUndefined();
  });

  it('keeps the outcome unknown when an earlier attempt timed out, whatever the last one answered', async () => {
    sandbox.inject({ connector: 'stripe', method: 'DELETE', path: '/v1/customers/cus_gone', latencyMs: 1000, times: 1 });
    const res = await run('delete', {});
    expect(res.status).toBe('failed');
    expect(res.steps[0]).toMatchObject({ status: 'failed', attempts: 2, outcome: 'unknown' });
    expect(calls('stripe', '/v1/customers/cus_gone')).toHaveLength(2);
  });

  it('gives every step of nested loops its own idempotency key, the same on retry', async () => {
    // The first call fails: the retry must send the key of the same iteration again.
    sandbox.inject({ connector: 'stripe', path: '/v1/customers', method: 'POST', status: 503, times: 1 });
    const res = await run('nested', { outer: [1, 2], inner: ['a', 'b'], tag: 'nest' });
    expect(res).toMatchObject({ status: 'succeeded' });
    const paths = ['outer[0]/inner[0]/create', 'outer[0]/inner[1]/create', 'outer[1]/inner[0]/create', 'outer[1]/inner[1]/create'];
    const records = res.steps.filter((s: { id: string }) => s.id === 'create');
    expect(records.map((s: { path: string; idempotencyKey: string }) => [s.path, s.idempotencyKey])).toEqual(paths.map((p) => [p, `${res.id}:${p}`]));
    const seen = calls('stripe', '/v1/customers').filter((c) => c.method === 'POST');
    const keys = seen.map((c) => c.headers['idempotency-key']);
    expect(seen).toHaveLength(5);
    expect(new Set(keys).size).toBe(4);
    expect(keys[1]).toBe(keys[0]);
    expect([...new Set(keys)].sort()).toEqual(paths.map((p) => `${res.id}:${p}`).sort());
    // Four distinct customers: Stripe replayed none of them as a duplicate.
    expect(new Set(records.map((s: { output: { id: string } }) => s.output.id)).size).toBe(4);
  });
});
