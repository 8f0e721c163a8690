import { Switchboard, SwitchboardError } from '@switchboard/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startApi, TestApi } from './harness';

describe('@switchboard/sdk against a real server', () => {
  let api: TestApi;
  let sdk: Switchboard;

  beforeAll(async () => {
    api = await startApi();
    const tenant = await createTenant(api, 'SDK Co');
    sdk = new Switchboard({ baseUrl: api.url, secretKey: tenant.host.options.bearer! });
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

  it('throws typed errors carrying the API code and details', async () => {
    const error = await sdk.endUsers.upsert('x', { email: 'nope' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SwitchboardError);
    expect(error).toMatchObject({ status: 400, code: 'validation_failed', details: { errors: [{ path: 'email' }] } });
    const bad = new Switchboard({ baseUrl: api.url, secretKey: 'sk_revoked' });
    await expect(bad.endUsers.list()).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
  });

  describe('connections, proxy, events and runs', () => {
    it('walks a host backend through a connected Slack account', async () => {
      const { consentInSandbox, startSandbox } = await import('@switchboard/connectors/dist/sandbox');
      const { startWorker } = await import('./harness');
      const sandbox = await startSandbox();
      const full = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
      const worker = await startWorker(full.config);
      try {
        const tenant = await createTenant(full, 'SDK Flows Co');
        await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: ['https://host.example'] });
        await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } });
        const client = new Switchboard({ baseUrl: full.url, secretKey: tenant.host.options.bearer! });

        const session = await client.sessions.create({ endUserId: 'cust-9', displayName: 'Customer Nine' });
        expect(session.token).toMatch(/^sess_/);
        const start = await fetch(`${full.url}/connect/slack?${new URLSearchParams({ session: session.token, origin: 'https://host.example' })}`, { redirect: 'manual' });
        await fetch(await consentInSandbox(start.headers.get('location')!));

        const [connection] = await client.connections.list('cust-9');
        expect(connection).toMatchObject({ connector: 'slack', status: 'active', endUserId: 'cust-9' });
        expect((await client.connections.accessToken(connection.id)).accessToken).toEqual(expect.any(String));
        const posted = await client.proxy<{ ok: boolean }>(connection.id, { method: 'POST', path: '/chat.postMessage', body: { channel: '#general', text: 'from the SDK' } });
        expect(posted).toMatchObject({ status: 200, data: { ok: true } });
        await expect(client.proxy('00000000-0000-4000-8000-000000000000', { path: '/auth.test' })).rejects.toMatchObject({ status: 404, code: 'not_found' });

        await tenant.owner.post('/v1/admin/flow-templates', {
          definition: {
            key: 'hello', name: 'Hello', trigger: { type: 'event', event: 'hello' }, connectors: ['slack'], inputs: {},
            steps: [{ id: 'post', type: 'action', connector: 'slack', action: 'send_message', input: { channel: '#general', text: "='Hello ' & $trigger.name" } }],
          },
        });
        await tenant.owner.post('/v1/admin/flow-templates/hello/publish');
        await tenant.host.post('/v1/end-users/cust-9/flows/hello/enable', {});
        const [run] = await client.events.send('hello', { endUserId: 'cust-9', payload: { name: 'Nine' }, idempotencyKey: 'hello-9' });
        const again = await client.events.send('hello', { endUserId: 'cust-9', payload: { name: 'Nine' }, idempotencyKey: 'hello-9' });
        expect(again.map((r) => r.id)).toEqual([run.id]);
        const finished = await client.runs.waitFor(run.id, { timeoutMs: 20_000 });
        expect(finished).toMatchObject({ status: 'succeeded', steps: [{ id: 'post', status: 'succeeded' }] });
        expect(sandbox.state.slack.messages.at(-1)).toMatchObject({ text: 'Hello Nine' });
        expect((await client.runs.list({ flow: 'hello' })).data.map((r) => r.id)).toEqual([run.id]);
      } finally {
        await worker.close();
        await full.close();
        await sandbox.close();
      }
    });
  });
});
