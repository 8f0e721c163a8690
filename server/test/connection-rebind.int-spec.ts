import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { consentInSandbox, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScheduleService } from '../src/triggers/schedule.service';
import { WorkerModule } from '../src/worker.module';
import { createTenant, Http, startApi, TenantFixture, TestApi } from './harness';

const HOST_ORIGIN = 'https://host.example';

const postToSlack = (key: string, trigger: Record<string, unknown>) => ({
  key,
  name: key,
  trigger,
  connectors: ['slack'],
  inputs: { channel: { type: 'string', title: 'Channel', required: true, options: { connector: 'slack', source: 'channels' } } },
  steps: [{ id: 'post', type: 'action', connector: 'slack', action: 'send_message', input: { channel: '=$inputs.channel', text: `=':wave: ${key}'` } }],
});
const FLOWS = [
  postToSlack('on-event', { type: 'event', event: 'deal.won' }),
  postToSlack('on-request', { type: 'request' }),
  postToSlack('on-webhook', { type: 'webhook' }),
  postToSlack('on-schedule', { type: 'schedule', cron: '0 * * * *', timezone: 'UTC' }),
];

/**
 * An end user disconnects the account their flows use, then connects it again: meanwhile the
 * flows are paused (shown so, and no trigger starts a run doomed to fail); afterwards they are
 * bound to the new connection and run again without anyone re-enabling them.
 */
describe('disconnect and reconnect', () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let worker: INestApplicationContext;
  let tenant: TenantFixture;
  let db: Client;

  async function me(endUserId: string): Promise<Http> {
    const res = await tenant.host.post('/v1/sessions', { endUserId });
    expect(res.status).toBe(201);
    return new Http(api.url, { bearer: res.body.token, origin: HOST_ORIGIN });
  }

  async function connectSlack(endUser: Http, connectionId?: string): Promise<string> {
    const q = new URLSearchParams({ session: endUser.options.bearer!, origin: HOST_ORIGIN, ...(connectionId ? { connectionId } : {}) });
    const start = await fetch(`${api.url}/connect/slack?${q}`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const page = await (await fetch(await consentInSandbox(start.headers.get('location')!))).text();
    const id = /"connectionId":"([0-9a-f-]{36})"/.exec(page)?.[1];
    expect(id, page).toBeDefined();
    return id!;
  }

  const flowsOf = async (endUser: Http) =>
    Object.fromEntries(((await endUser.get('/v1/me/flows')).body.data as Array<{ key: string; instance: any }>).map((f) => [f.key, f.instance]));

  async function waitForRun(id: string) {
    for (let i = 0; i < 300; i++) {
      const run = (await tenant.host.get(`/v1/runs/${id}`)).body;
      if (['succeeded', 'failed', 'cancelled'].includes(run.status)) return run;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`run ${id} did not finish`);
  }

  const runCount = async (instanceId: string) => Number((await db.query(`SELECT count(*) FROM runs WHERE instance_id = $1`, [instanceId])).rows[0].count);

  beforeAll(async () => {
    sandbox = await startSandbox();
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    worker = await NestFactory.createApplicationContext(WorkerModule.forRoot(api.config, { logDestination: { write: () => undefined } }), { logger: false });
    await worker.init();
    db = new Client({ connectionString: api.config.database.url });
    await db.connect();
    tenant = await createTenant(api, 'Rebind Co');
    expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] })).status).toBe(200);
    expect((await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    for (const definition of FLOWS) {
      expect((await tenant.owner.post('/v1/admin/flow-templates', { definition })).status).toBe(201);
      expect((await tenant.owner.post(`/v1/admin/flow-templates/${definition.key}/publish`)).status).toBe(201);
    }
  });
  afterAll(async () => {
    await db?.end();
    await worker?.close();
    await api?.close();
    await sandbox?.close();
  });

  it('pauses every flow while the account is disconnected, and resumes them on the reconnected one', async () => {
    const alice = await me('alice');
    const first = await connectSlack(alice);
    const channels = await alice.get(`/v1/me/connectors/slack/options/channels?connectionId=${first}`);
    expect(channels.status, JSON.stringify(channels.body)).toBe(200);
    const channel = channels.body.options[0].value as string;
    for (const { key } of FLOWS) expect((await alice.post(`/v1/me/flows/${key}/enable`, { settings: { channel } })).status).toBe(200);
    const on = await flowsOf(alice);
    expect(on['on-event']).toMatchObject({ enabled: true, status: 'on', pausedReason: null, connectionProblems: [], connections: { slack: first }, note: null });

    expect((await alice.delete(`/v1/me/connections/${first}`)).status).toBe(204);

    // Shown as paused, to the end user and to the host.
    const paused = await flowsOf(alice);
    for (const { key } of FLOWS) {
      expect(paused[key], key).toMatchObject({
        enabled: true,
        status: 'paused',
        pausedReason: 'connection_missing',
        connectionProblems: [{ binding: 'slack', connector: 'slack', connectionId: first, reason: 'connection_missing' }],
      });
    }
    const hostView = (await tenant.host.get('/v1/end-users/alice/flows')).body.data.find((f: { key: string }) => f.key === 'on-event').instance;
    expect(hostView).toMatchObject({ status: 'paused', pausedReason: 'connection_missing' });
    const teamView = (await tenant.owner.get('/v1/admin/flow-templates/on-event/instances')).body.data;
    expect(teamView).toEqual([expect.objectContaining({ endUserId: 'alice', enabled: true, status: 'paused' })]);

    // No trigger starts a run doomed to fail.
    const event = await tenant.host.post('/v1/events', { name: 'deal.won', endUserId: 'alice', payload: {} });
    expect(event.status).toBe(202);
    expect(event.body).toEqual({
      runs: [],
      skipped: [{ instanceId: paused['on-event'].id, flow: 'on-event', reason: 'connection_missing', connector: 'slack', binding: 'slack' }],
    });
    const request = await tenant.host.post('/v1/flows/on-request/runs', { endUserId: 'alice', input: {} });
    expect(request.status).toBe(409);
    expect(request.body.error).toMatchObject({ code: 'flow_paused', details: { reason: 'connection_missing', connector: 'slack' } });
    expect(request.body.error.message).toContain('slack connection it uses was disconnected');
    const hook = await fetch(paused['on-webhook'].webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(hook.status).toBe(409);
    expect((await hook.json()).error.code).toBe('flow_paused');
    const scheduled = paused['on-schedule'];
    await db.query(`UPDATE flow_instance_triggers SET next_fire_at = now() - interval '1 minute' WHERE id = $1`, [scheduled.id]);
    await worker.get(ScheduleService, { strict: false }).fireDue(new Date());
    for (const key of ['on-event', 'on-request', 'on-webhook', 'on-schedule']) expect(await runCount(paused[key].id), key).toBe(0);
    const [{ next_fire_at }] = (await db.query(`SELECT next_fire_at FROM flow_instance_triggers WHERE id = $1`, [scheduled.id])).rows;
    expect(next_fire_at.getTime()).toBeGreaterThan(Date.now()); // skipped, not kept to replay later

    // The settings form's dropdown says what is wrong, not 404.
    const options = await alice.get(`/v1/me/connectors/slack/options/channels?connectionId=${first}`);
    expect(options.status).toBe(409);
    expect(options.body.error).toMatchObject({ code: 'connection_missing', details: { connector: 'slack', connectionId: first } });
    const noConnection = await alice.get('/v1/me/connectors/slack/options/channels');
    expect(noConnection.body.error.code).toBe('connection_missing');
    // Re-enabling without an account says to connect one.
    const reenable = await alice.post('/v1/me/flows/on-event/enable', {});
    expect(reenable.status).toBe(400);
    expect(reenable.body.error.details.errors).toEqual([{ path: 'connections.slack', message: 'connect slack first' }]);

    // Reconnecting binds every instance to the new connection, audited and noted.
    const second = await connectSlack(alice);
    expect(second).not.toBe(first);
    const resumed = await flowsOf(alice);
    for (const { key } of FLOWS) {
      expect(resumed[key], key).toMatchObject({
        enabled: true,
        status: 'on',
        pausedReason: null,
        connections: { slack: second },
        note: { code: 'connection_rebound', binding: 'slack', from: first, to: second },
      });
    }
    expect(resumed['on-event'].note.message).toMatch(/^Now using your reconnected Slack account/);
    expect((await tenant.owner.get('/v1/admin/flow-templates/on-event/instances')).body.data[0].status).toBe('on');
    const audit = (await tenant.owner.get(`/v1/admin/audit-events?action=flow.rebound&targetId=${resumed['on-event'].id}`)).body.data;
    expect(audit).toEqual([expect.objectContaining({ action: 'flow.rebound', actorType: 'end_user', data: expect.objectContaining({ flow: 'on-event', to: second }) })]);

    const again = await tenant.host.post('/v1/events', { name: 'deal.won', endUserId: 'alice', payload: {} });
    expect(again.body.skipped).toEqual([]);
    expect(again.body.runs).toHaveLength(1);
    expect((await waitForRun(again.body.runs[0].id)).status).toBe('succeeded');
    const run = await tenant.host.post('/v1/flows/on-request/runs', { endUserId: 'alice', input: {}, wait: true });
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    expect(run.body.status).toBe('succeeded');
    expect((await alice.get(`/v1/me/connectors/slack/options/channels?connectionId=${second}`)).status).toBe(200);

    // The note lasts until the end user changes the flow.
    expect((await alice.patch('/v1/me/flows/on-event', { settings: { channel } })).body.instance.note).toBeNull();
  });

  it('pauses a flow whose connection needs reauthorisation, and resumes it when that same connection is reconnected', async () => {
    const bob = await me('bob');
    const connection = await connectSlack(bob);
    const channel = (await bob.get('/v1/me/connectors/slack/options/channels')).body.options[0].value;
    expect((await bob.post('/v1/me/flows/on-request/enable', { settings: { channel } })).status).toBe(200);
    // What a refused token refresh does.
    await db.query(`UPDATE connections SET status = 'needs_reauth' WHERE id = $1`, [connection]);

    expect((await flowsOf(bob))['on-request']).toMatchObject({ status: 'paused', pausedReason: 'connection_needs_reauth' });
    const request = await tenant.host.post('/v1/flows/on-request/runs', { endUserId: 'bob', input: {} });
    expect(request.status).toBe(409);
    expect(request.body.error).toMatchObject({ code: 'flow_paused', details: { reason: 'connection_needs_reauth' } });
    expect(request.body.error.message).toContain('is needs reauth');
    const options = await bob.get(`/v1/me/connectors/slack/options/channels?connectionId=${connection}`);
    expect(options.body.error).toMatchObject({ code: 'connection_needs_reauth', details: { status: 'needs_reauth' } });

    // Revoked reads the same way.
    await db.query(`UPDATE connections SET status = 'revoked' WHERE id = $1`, [connection]);
    expect((await flowsOf(bob))['on-request']).toMatchObject({ status: 'paused', pausedReason: 'connection_revoked' });

    expect(await connectSlack(bob, connection)).toBe(connection);
    expect((await flowsOf(bob))['on-request']).toMatchObject({ status: 'on', connections: { slack: connection }, note: null });
    expect((await tenant.host.post('/v1/flows/on-request/runs', { endUserId: 'bob', input: {}, wait: true })).body.status).toBe('succeeded');
  });

  it('heals a stale binding on enable when another connection of the connector is active', async () => {
    const carol = await me('carol');
    const first = await connectSlack(carol);
    const channel = (await carol.get('/v1/me/connectors/slack/options/channels')).body.options[0].value;
    expect((await carol.post('/v1/me/flows/on-request/enable', { settings: { channel } })).status).toBe(200);
    expect((await carol.post('/v1/me/flows/on-request/disable')).status).toBe(200);
    // A second account connected while the flow is off rebinds it (its binding is not stale yet: kept).
    await db.query(`UPDATE connections SET account_id = 'other' WHERE id = $1`, [first]);
    const second = await connectSlack(carol);
    expect(second).not.toBe(first);
    expect((await flowsOf(carol))['on-request'].connections).toEqual({ slack: first });
    expect((await carol.delete(`/v1/me/connections/${first}`)).status).toBe(204);
    expect((await flowsOf(carol))['on-request']).toMatchObject({ status: 'off', pausedReason: null, connectionProblems: [{ reason: 'connection_missing' }] });
    const enabled = await carol.post('/v1/me/flows/on-request/enable', {});
    expect(enabled.status, JSON.stringify(enabled.body)).toBe(200);
    expect(enabled.body.instance).toMatchObject({ status: 'on', connections: { slack: second } });
  });

  it('heals a stale binding on upgrade too', async () => {
    const dave = await me('dave');
    const first = await connectSlack(dave);
    const channel = (await dave.get('/v1/me/connectors/slack/options/channels')).body.options[0].value;
    expect((await dave.post('/v1/me/flows/on-event/enable', { settings: { channel } })).status).toBe(200);
    await db.query(`UPDATE connections SET account_id = 'other' WHERE id = $1`, [first]);
    const second = await connectSlack(dave);
    expect((await dave.delete(`/v1/me/connections/${first}`)).status).toBe(204);
    expect((await flowsOf(dave))['on-event']).toMatchObject({ status: 'paused', connections: { slack: first } });
    const v2 = { ...FLOWS[0], description: 'Version 2' };
    expect((await tenant.owner.put('/v1/admin/flow-templates/on-event/draft', { definition: v2 })).status).toBe(200);
    expect((await tenant.owner.post('/v1/admin/flow-templates/on-event/publish')).status).toBe(201);
    const upgraded = await dave.post('/v1/me/flows/on-event/upgrade', {});
    expect(upgraded.status, JSON.stringify(upgraded.body)).toBe(200);
    expect(upgraded.body.instance).toMatchObject({ version: 2, status: 'on', connections: { slack: second } });
  });
});
