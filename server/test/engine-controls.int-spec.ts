import { consentInSandbox, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createTenant, startApi, startWorker, TenantFixture, TestApi } from './harness';

const HOST_ORIGIN = 'https://host.example';

const flow = (key: string, steps: unknown[], extra: Record<string, unknown> = {}) => ({
  key,
  name: key,
  trigger: { type: 'request' },
  connectors: ['slack'],
  inputs: {},
  steps,
  ...extra,
});

/** Posts, then reads the channel back: two calls to two distinct Slack paths, so each step's calls can be counted. */
const postThenRead = flow('post-then-read', [
  { id: 'post', type: 'request', connector: 'slack', method: 'POST', path: 'chat.postMessage', body: { channel: '#general', text: "='retry ' & $trigger.n" } },
  { id: 'read', type: 'request', connector: 'slack', method: 'GET', path: 'conversations.history', query: { channel: 'C0GENERAL' } },
  { id: 'summary', type: 'transform', output: { ts: '=$steps.post.body.ts', read: '=$steps.read.status' } },
]);

describe('run control: cancel, retry, timeouts, caps', () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let other: TenantFixture;

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function waitForRun(id: string, statuses = ['succeeded', 'failed', 'cancelled'], t = tenant) {
    for (let i = 0; i < 600; i++) {
      const run = (await t.host.get(`/v1/runs/${id}`)).body;
      if (statuses.includes(run.status)) return run;
      await sleep(25);
    }
    throw new Error(`run ${id} did not reach ${statuses.join('/')}`);
  }

  async function publish(definition: { key: string }) {
    const created = await tenant.owner.post('/v1/admin/flow-templates', { definition });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const published = await tenant.owner.post(`/v1/admin/flow-templates/${definition.key}/publish`);
    expect(published.status, JSON.stringify(published.body)).toBe(201);
    expect((await tenant.host.post(`/v1/end-users/ctl/flows/${definition.key}/enable`, {})).status).toBe(200);
  }

  const start = async (key: string, input: unknown = {}) => {
    const res = await tenant.host.post(`/v1/flows/${key}/runs`, { endUserId: 'ctl', input });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body.id as string;
  };
  const callsTo = (path: string, text?: string) => sandbox.calls({ connector: 'slack', path }).filter((c) => text === undefined || (c.body as { text?: string })?.text === text);

  beforeAll(async () => {
    sandbox = await startSandbox();
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}`, CONNECTION_RATE_LIMITS: 'false' });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Control Co');
    other = await createTenant(api, 'Other Co');
    await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
    await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } });
    const token = (await tenant.host.post('/v1/sessions', { endUserId: 'ctl' })).body.token as string;
    const startConnect = await fetch(`${api.url}/connect/slack?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
    expect(await (await fetch(await consentInSandbox(startConnect.headers.get('location')!))).text()).toContain('"connected"');
    await publish(postThenRead);
  });
  afterAll(async () => {
    await worker.close();
    await api.close();
    await sandbox.close();
  });

  it('retries a failed run from its failed step: same run, the finished step not repeated, attempt 2', async () => {
    const fault = sandbox.inject({ connector: 'slack', path: '/api/conversations.history', status: 400, body: { ok: false, error: 'channel_not_found' } });
    const id = await start('post-then-read', { n: 1 });
    const failed = await waitForRun(id);
    expect(failed).toMatchObject({ status: 'failed', attempt: 1, flow: 'post-then-read', endUserId: 'ctl', error: { step: 'read', code: 'http_400' } });
    expect(fault.remaining()).toBe(0);
    expect(callsTo('/api/chat.postMessage', 'retry 1')).toHaveLength(1);

    const retried = await tenant.host.post(`/v1/runs/${id}/retry`);
    expect(retried).toMatchObject({ status: 202, body: { id, attempt: 2, error: null } });
    expect(['queued', 'running', 'succeeded']).toContain(retried.body.status);
    const done = await waitForRun(id);
    expect(done).toMatchObject({ status: 'succeeded', attempt: 2, result: { read: 200, ts: failed.steps[0].output.body.ts } });
    // The post ran once in all; the read twice (failed, then retried).
    expect(callsTo('/api/chat.postMessage', 'retry 1')).toHaveLength(1);
    expect(done.steps.map((s: { path: string; status: string }) => `${s.path}:${s.status}`)).toEqual(['post:succeeded', 'read:succeeded', 'summary:succeeded']);

    const again = await tenant.host.post(`/v1/runs/${id}/retry`);
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'run_not_retryable', details: { status: 'succeeded' } } } });
    expect((await other.host.post(`/v1/runs/${id}/retry`)).status).toBe(404);
    const audit = await tenant.owner.get(`/v1/admin/audit-events?action=run.retried&targetId=${id}`);
    expect(audit.body.data).toEqual([expect.objectContaining({ actorType: 'api_key', data: { attempt: 2 } })]);
  });

  it('cancels a running run: it stops at the step boundary and a late checkpoint never overwrites cancelled', async () => {
    sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', latencyMs: 1500 });
    const id = await start('post-then-read', { n: 2 });
    // Wait until the post is at the provider.
    for (let i = 0; i < 200 && callsTo('/api/chat.postMessage', 'retry 2').length === 0; i++) await sleep(20);
    expect(callsTo('/api/chat.postMessage', 'retry 2')).toHaveLength(1);
    const readsBefore = callsTo('/api/conversations.history').length;
    const cancelled = await tenant.host.post(`/v1/runs/${id}/cancel`);
    expect(cancelled).toMatchObject({ status: 202, body: { id, status: 'cancelled', error: { code: 'cancelled' } } });
    // Past the provider's answer: the run stays cancelled and its next step never ran.
    await sleep(2000);
    const after = (await tenant.host.get(`/v1/runs/${id}`)).body;
    expect(after.status).toBe('cancelled');
    expect(callsTo('/api/conversations.history').length).toBe(readsBefore);
    const finished = await tenant.host.post(`/v1/runs/${id}/cancel`);
    expect(finished).toMatchObject({ status: 409, body: { error: { code: 'run_already_finished' } } });
    expect((await tenant.host.post(`/v1/runs/${id}/retry`)).body.error.code).toBe('run_not_retryable');
  });

  it('cancels a waiting run (its pending approval expires) and answers a waiting caller', async () => {
    await publish(
      flow('wait-then-ask', [
        { id: 'ask', type: 'approval', title: 'Go?' },
        { id: 'pause', type: 'delay', for: 'PT1H' },
      ]),
    );
    const id = await start('wait-then-ask');
    await waitForRun(id, ['waiting']);
    const approval = (await tenant.host.get('/v1/approvals?endUserId=ctl')).body.data.find((a: { runId: string }) => a.runId === id);
    expect((await tenant.host.post(`/v1/approvals/${approval.id}/approve`)).status).toBe(200);
    // Now parked on the hour-long delay.
    for (let i = 0; i < 200 && (await tenant.host.get(`/v1/runs/${id}`)).body.steps.length < 2; i++) await sleep(25);
    expect((await tenant.host.get(`/v1/runs/${id}`)).body).toMatchObject({ status: 'waiting', steps: [{ path: 'ask' }, { path: 'pause', status: 'waiting' }] });
    // The team cancels it (developer role needed: a viewer may not).
    const viewer = await addMember(api, tenant, 'viewer');
    expect((await viewer.browser.post(`/v1/admin/runs/${id}/cancel`)).status).toBe(403);
    const developer = await addMember(api, tenant, 'developer');
    expect((await developer.browser.post(`/v1/admin/runs/${id}/cancel`)).body).toMatchObject({ status: 'cancelled' });

    // A host waiting for the result (wait: true) gets the cancelled run as soon as it is cancelled.
    const waitingCaller = tenant.host.post('/v1/flows/wait-then-ask/runs', { endUserId: 'ctl', wait: true, timeoutMs: 30000 });
    let pending: { id: string; runId: string } | undefined;
    for (let i = 0; i < 200 && !pending; i++) {
      pending = (await tenant.host.get('/v1/approvals?endUserId=ctl&status=pending')).body.data[0];
      if (!pending) await sleep(25);
    }
    const second = pending!.runId;
    expect((await tenant.host.post(`/v1/runs/${second}/cancel`)).status).toBe(202);
    expect(await waitingCaller).toMatchObject({ status: 200, body: { id: second, status: 'cancelled' } });
    expect((await tenant.host.get(`/v1/approvals/${pending!.id}`)).body).toMatchObject({ status: 'expired', decidedVia: 'cancel' });
    expect((await tenant.host.post(`/v1/approvals/${pending!.id}/approve`)).body.error.code).toBe('approval_already_decided');
    expect((await other.host.post(`/v1/runs/${second}/cancel`)).status).toBe(404);
  });

  it('fails a run past its time limit (definition timeoutMs) with run_timed_out', async () => {
    await publish(
      flow('slow-run', [{ id: 'post', type: 'request', connector: 'slack', method: 'POST', path: 'chat.postMessage', body: { channel: '#general', text: 'slow run' } }], {
        timeoutMs: 1000,
      }),
    );
    sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', latencyMs: 3000 });
    const run = await waitForRun(await start('slow-run'));
    expect(run).toMatchObject({ status: 'failed', error: { code: 'run_timed_out', step: 'post', message: expect.stringContaining('1000 ms') } });
    expect(run.steps).toEqual([expect.objectContaining({ path: 'post', status: 'failed', error: expect.objectContaining({ code: 'run_timed_out' }) })]);
  });

  it('fails a step past its own timeoutMs with step_timed_out, after its retries', async () => {
    await publish(
      flow('slow-step', [
        {
          id: 'read',
          type: 'request',
          connector: 'slack',
          method: 'GET',
          path: 'conversations.history',
          query: { channel: 'C0GENERAL' },
          timeoutMs: 300,
          retry: { attempts: 2, backoff: { initialMs: 100, maxMs: 100 } },
        },
      ]),
    );
    sandbox.inject({ connector: 'slack', path: '/api/conversations.history', latencyMs: 1500, times: 2 });
    const run = await waitForRun(await start('slow-step'));
    expect(run).toMatchObject({ status: 'failed', error: { code: 'step_timed_out', step: 'read', message: 'The step did not finish within 300 ms' } });
    // A read that timed out has no effect to be unsure about.
    expect(run.steps[0]).toMatchObject({ status: 'failed', attempts: 2 });
    expect(run.steps[0].outcome).toBeUndefined();
  });

  /**
   * The provider holds the call, then drops the connection. A client still waiting then sees a
   * network error and sends the call again; an aborted one closed the connection long before.
   */
  async function expectNoRetryAfterDrop(text: string) {
    for (let i = 0; i < 200 && !callsTo('/api/chat.postMessage', text)[0]?.fault; i++) await sleep(20);
    expect(callsTo('/api/chat.postMessage', text)[0]?.fault?.kind).toBe('drop');
    // Past the provider client's longest first retry delay (300 ms).
    await sleep(1000);
    expect(callsTo('/api/chat.postMessage', text)).toHaveLength(1);
  }

  it('aborts the provider request of a timed-out step: it is not sent again in the background', async () => {
    await publish(
      flow('abandoned-step', [
        {
          id: 'post',
          type: 'request',
          connector: 'slack',
          method: 'POST',
          path: 'chat.postMessage',
          body: { channel: '#general', text: 'abandoned' },
          timeoutMs: 300,
          retry: { attempts: 1 },
        },
      ]),
    );
    sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', latencyMs: 1000, drop: true });
    const run = await waitForRun(await start('abandoned-step'));
    expect(run).toMatchObject({ status: 'failed', error: { code: 'step_timed_out', step: 'post' } });
    expect(run.steps[0]).toMatchObject({ status: 'failed', attempts: 1, outcome: 'unknown' });
    await expectNoRetryAfterDrop('abandoned');
  });

  it('aborts the provider request of a cancelled run: it is not sent again in the background', async () => {
    sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', latencyMs: 1000, drop: true });
    const id = await start('post-then-read', { n: 3 });
    for (let i = 0; i < 200 && callsTo('/api/chat.postMessage', 'retry 3').length === 0; i++) await sleep(20);
    expect((await tenant.host.post(`/v1/runs/${id}/cancel`)).body).toMatchObject({ status: 'cancelled' });
    // The step in flight at the cancel: the provider may have acted on it.
    expect((await tenant.host.get(`/v1/runs/${id}`)).body.steps).toEqual([expect.objectContaining({ path: 'post', status: 'cancelled', outcome: 'unknown' })]);
    await expectNoRetryAfterDrop('retry 3');
  });

  it('caps stored step output, trigger payloads and loop iterations, each with a clear error', async () => {
    await publish(flow('big-output', [{ id: 'blob', type: 'transform', output: { text: "=$pad('', 300000, 'x')" } }]));
    const big = await waitForRun(await start('big-output'));
    expect(big).toMatchObject({
      status: 'failed',
      error: { code: 'step_output_too_large', step: 'blob', message: expect.stringMatching(/Step blob produced \d+ bytes of output; the limit is 262144/) },
    });

    const payload = await tenant.host.post('/v1/flows/big-output/runs', { endUserId: 'ctl', input: { blob: 'x'.repeat(300 * 1024) } });
    expect(payload).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large', details: { limit: 262144 } } } });

    await publish(flow('long-loop', [{ id: 'each', type: 'loop', over: '=$trigger.items', maxIterations: 3, steps: [{ id: 'one', type: 'transform', output: '=$item' }] }]));
    const loop = await waitForRun(await start('long-loop', { items: [1, 2, 3, 4, 5] }));
    expect(loop).toMatchObject({ status: 'failed', error: { code: 'loop_too_long', step: 'each', message: 'The loop has 5 items; the cap is 3' } });
    expect((await waitForRun(await start('long-loop', { items: [1, 2, 3] }))).status).toBe('succeeded');
  });
});
