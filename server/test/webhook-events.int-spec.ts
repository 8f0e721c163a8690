import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startReceiver, startApi, startWorker, TenantFixture, TestApi } from './harness';

/**
 * The flow, run and approval events an endpoint receives as the engine works: written with the
 * change they announce, signed, and about the end user they concern. Real API, worker, receiver.
 */

async function eventually<T>(check: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const flow = (key: string, steps: unknown[]) => ({ key, name: `Flow ${key}`, trigger: { type: 'event', event: 'deal.won' }, connectors: [], inputs: {}, steps });

describe('flow, run and approval webhooks', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let other: TenantFixture;
  let verifier: Webhook;

  type Event = { type: string; timestamp: string; data: Record<string, any> };
  const events = (): Event[] => receiver.received.map((r) => verifier.verify(r.body, r.headers as Record<string, string>) as Event);
  const ofType = (type: string) => events().filter((e) => e.type === type);
  const enable = async (t: TenantFixture, endUserId: string, key: string) => {
    expect((await t.host.put(`/v1/end-users/${endUserId}`, {})).status).toBeLessThan(300);
    const res = await t.host.post(`/v1/end-users/${endUserId}/flows/${key}/enable`, {});
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  };

  beforeAll(async () => {
    receiver = await startReceiver();
    api = await startApi({ OUTBOUND_ALLOWLIST: `127.0.0.1:${receiver.port}`, WEBHOOK_RETRY_SCHEDULE_MS: '100,200' });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Events Co');
    other = await createTenant(api, 'Quiet Co');
    const endpoint = await tenant.owner.post('/v1/admin/webhook-endpoints', {
      url: `http://127.0.0.1:${receiver.port}/hooks`,
      eventTypes: ['flow.enabled', 'flow.disabled', 'run.succeeded', 'run.failed', 'approval.requested'],
    });
    expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(201);
    verifier = new Webhook(endpoint.body.secret);
    for (const t of [tenant, other]) {
      for (const definition of [
        flow('announce', [{ id: 'line', type: 'transform', output: "='Won ' & $trigger.deal" }]),
        flow('audit', [{ id: 'check', type: 'transform', output: "=$trigger.amount > 100 ? $error('amount over budget') : 'ok'" }]),
        flow('gated', [{ id: 'ok', type: 'approval', title: "='Announce ' & $trigger.deal & '?'", approvers: 'end_user' }]),
      ]) {
        expect((await t.owner.post('/v1/admin/flow-templates', { definition })).status).toBe(201);
        expect((await t.owner.post(`/v1/admin/flow-templates/${definition.key}/publish`)).status).toBe(201);
      }
    }
  });

  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await receiver?.close();
  });

  it('announces a flow switched on and off, with its settings, for the end user it belongs to', async () => {
    await enable(tenant, 'cust-1', 'announce');
    expect((await tenant.host.post('/v1/end-users/cust-1/flows/announce/disable')).status).toBe(200);
    const [enabled] = await eventually(() => ofType('flow.enabled').length > 0 && ofType('flow.enabled'), 'flow.enabled');
    expect(enabled.data).toMatchObject({ endUserId: 'cust-1', flow: 'announce', instance: { enabled: true, version: 1, settings: {} } });
    const [disabled] = await eventually(() => ofType('flow.disabled').length > 0 && ofType('flow.disabled'), 'flow.disabled');
    expect(disabled.data).toMatchObject({ endUserId: 'cust-1', flow: 'announce', instance: { id: enabled.data.instance.id, enabled: false } });
  });

  it('announces finished runs, succeeded and failed, with the run as the runs API shows it', async () => {
    for (const key of ['announce', 'audit']) await enable(tenant, 'cust-2', key);
    const sent = await tenant.host.post('/v1/events', { name: 'deal.won', endUserId: 'cust-2', payload: { deal: 'Globex', amount: 500 } });
    expect(sent.status).toBe(202);
    expect(sent.body.runs).toHaveLength(2);
    const succeeded = await eventually(() => ofType('run.succeeded').find((e) => e.data.endUserId === 'cust-2'), 'run.succeeded');
    const failed = await eventually(() => ofType('run.failed').find((e) => e.data.endUserId === 'cust-2'), 'run.failed');
    const viaApi = (await tenant.host.get(`/v1/runs/${succeeded.data.run.id}`)).body;
    expect(succeeded.data.run).toEqual(viaApi);
    expect(succeeded.data.run).toMatchObject({ flow: 'announce', status: 'succeeded', endUserId: 'cust-2', result: 'Won Globex' });
    expect(failed.data.run).toMatchObject({ flow: 'audit', status: 'failed', error: { message: expect.stringContaining('amount over budget') } });
    expect(sent.body.runs.map((r: { id: string }) => r.id).sort()).toEqual([succeeded.data.run.id, failed.data.run.id].sort());
  });

  it('asks for an approval once, even when the run resumes, and announces its run after the decision', async () => {
    await enable(tenant, 'cust-3', 'gated');
    const sent = await tenant.host.post('/v1/events', { name: 'deal.won', endUserId: 'cust-3', payload: { deal: 'Initech', amount: 5 } });
    const runId = sent.body.runs.find((r: { id: string }) => r.id).id;
    const requested = await eventually(() => ofType('approval.requested').find((e) => e.data.approval.runId === runId), 'approval.requested');
    expect(requested.data).toMatchObject({ endUserId: 'cust-3', approval: { flow: 'gated', title: 'Announce Initech?', status: 'pending', approvers: 'end_user' } });

    const session = (await tenant.host.post('/v1/sessions', { endUserId: 'cust-3' })).body.token;
    const decided = await fetch(`${api.url}/v1/me/approvals/${requested.data.approval.id}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(decided.status).toBe(200);
    await eventually(() => ofType('run.succeeded').find((e) => e.data.run.id === runId), 'run.succeeded after approval');
    expect(ofType('approval.requested').filter((e) => e.data.approval.runId === runId)).toHaveLength(1);
  });

  it('tells a tenant only about its own end users', async () => {
    await enable(other, 'cust-9', 'announce');
    const sent = await other.host.post('/v1/events', { name: 'deal.won', endUserId: 'cust-9', payload: { deal: 'Hooli', amount: 1 } });
    const runId = sent.body.runs[0].id;
    await eventually(async () => (await other.host.get(`/v1/runs/${runId}`)).body.status === 'succeeded', 'the other tenant run');
    // Deliveries go out right after the commit; give a stray one time to arrive before checking none did.
    await new Promise((r) => setTimeout(r, 500));
    expect(events().some((e) => e.data.endUserId === 'cust-9')).toBe(false);
  });
});
