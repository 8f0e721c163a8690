import { consentInSandbox, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import type { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PollService } from '../src/triggers/poll.service';
import { createTenant, freshDatabase, startApi, TenantFixture, TestApi } from './harness';

const HOST_ORIGIN = 'https://host.example';

const pollFlow = (key: string) => ({
  key,
  name: `Issues (${key})`,
  trigger: { type: 'poll', connector: 'github', event: 'new_issue', input: { repository: 'acme-inc/api' } },
  connectors: ['github'],
  inputs: {},
  steps: [{ id: 'seen', type: 'transform', output: '=$trigger.number' }],
});

/**
 * The poller's claim, against real rows: one tenant's thousands of due polls do not starve
 * another's few, and one connection is never polled twice at once. The claim is called directly
 * (the loop is off) so the test sees exactly what one worker would take.
 */
describe('poll claims are fair', () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let worker: INestApplicationContext;
  let polls: PollService;
  let db: DataSource;
  let big: TenantFixture;
  let small: TenantFixture;

  async function enable(t: TenantFixture, user: string, flow: string): Promise<string> {
    const token = (await t.host.post('/v1/sessions', { endUserId: user })).body.token as string;
    const connections = (await t.host.get(`/v1/end-users/${user}/connections`)).body.data ?? [];
    if (!connections.some((c: { connector: string }) => c.connector === 'github')) {
      const start = await fetch(`${api.url}/connect/github?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
      expect(await (await fetch(await consentInSandbox(start.headers.get('location')!))).text()).toContain('"connected"');
    }
    const enabled = await t.host.post(`/v1/end-users/${user}/flows/${flow}/enable`, {});
    expect(enabled.status).toBe(200);
    return enabled.body.instance.id as string;
  }

  /** `count` more end users of the instance's tenant, each with its own connection and an enabled copy of the instance. */
  async function clone(instanceId: string, count: number, prefix: string): Promise<void> {
    await db.query(
      `WITH base AS (
         SELECT i.tenant_id, i.template_id, i.version_id, i.settings, c.connector_key, c.account_id, c.account_name, c.credentials, c.config
           FROM flow_instances i JOIN connections c ON c.id = (i.connections ->> 'github')::uuid WHERE i.id = $1
       ), users AS (
         INSERT INTO end_users (tenant_id, external_id) SELECT base.tenant_id, $3 || g FROM base, generate_series(1, $2) g RETURNING id, tenant_id
       ), conns AS (
         INSERT INTO connections (tenant_id, end_user_id, connector_key, status, account_id, account_name, credentials, config)
         SELECT u.tenant_id, u.id, base.connector_key, 'active', base.account_id, base.account_name, base.credentials, base.config FROM users u, base
         RETURNING id, end_user_id, tenant_id
       ), inst AS (
         INSERT INTO flow_instances (tenant_id, end_user_id, template_id, version_id, enabled, settings, connections)
         SELECT c.tenant_id, c.end_user_id, base.template_id, base.version_id, true, base.settings, jsonb_build_object('github', c.id::text) FROM conns c, base
         RETURNING id, tenant_id
       )
       INSERT INTO flow_instance_triggers (id, tenant_id, type, trigger_key, trigger_input, poll_interval_seconds, poll_cursor, polled_at, next_poll_at)
       SELECT inst.id, inst.tenant_id, t.type, t.trigger_key, t.trigger_input, t.poll_interval_seconds, t.poll_cursor, t.polled_at, t.next_poll_at
         FROM inst, flow_instance_triggers t WHERE t.id = $1`,
      [instanceId, count, prefix],
    );
  }

  const due = (tenantId: string, secondsAgo: number) =>
    db.query(`UPDATE flow_instance_triggers SET next_poll_at = now() - make_interval(secs => $2) WHERE tenant_id = $1 AND type = 'poll'`, [tenantId, secondsAgo]);

  beforeAll(async () => {
    sandbox = await startSandbox();
    // A database of its own: every worker polls every due row of its database, and other files' workers would poll these with their own sandboxes.
    database = await freshDatabase();
    api = await startApi({ DATABASE_URL: database.url, SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    db = api.app.get(DataSource);
    process.env.TRIGGERS_LOOP = 'off';
    const { NestFactory } = await import('@nestjs/core');
    const { WorkerModule } = await import('../src/worker.module');
    worker = await NestFactory.createApplicationContext(WorkerModule.forRoot(api.config, { logDestination: { write: () => undefined } }), { logger: false });
    await worker.init();
    polls = worker.get(PollService);
    big = await createTenant(api, 'Big Co');
    small = await createTenant(api, 'Small Co');
    for (const t of [big, small]) {
      await t.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
      await t.owner.put('/v1/admin/connectors/github', { enabled: true, settings: { useSandbox: true } });
      for (const key of ['issues-a', 'issues-b']) {
        expect((await t.owner.post('/v1/admin/flow-templates', { definition: pollFlow(key) })).status).toBe(201);
        expect((await t.owner.post(`/v1/admin/flow-templates/${key}/publish`)).status).toBe(201);
      }
    }
  });

  afterAll(async () => {
    delete process.env.TRIGGERS_LOOP;
    await worker?.close();
    await api?.close();
    await sandbox?.close();
    await database?.drop();
  });

  it("takes the small tenant's polls in the first claim although the big tenant's have waited longer", async () => {
    await clone(await enable(big, 'big-0', 'issues-a'), 499, 'big-');
    await clone(await enable(small, 'small-0', 'issues-a'), 2, 'small-');
    // The big tenant's 500 polls are a minute overdue, the small tenant's 3 only ten seconds.
    await due(big.tenantId, 60);
    await due(small.tenantId, 10);

    const claimed = await polls.claim(new Date(), 20);
    expect(claimed).toHaveLength(20);
    const byTenant = (id: string) => claimed.filter((c) => c.tenant_id === id).length;
    expect(byTenant(small.tenantId)).toBe(3);
    expect(byTenant(big.tenantId)).toBe(17);
    // Claimed rows are leased: a second claim (another worker) does not take them again.
    const again = await polls.claim(new Date(), 1000);
    expect(again.filter((c) => claimed.some((d) => d.id === c.id))).toEqual([]);
    expect(again).toHaveLength(483);
    expect(again.every((c) => c.tenant_id === big.tenantId)).toBe(true);
    // Leases end one timeout apart from now: nothing is due until then.
    expect(Math.min(...claimed.map((c) => new Date(c.lease).getTime()))).toBeGreaterThan(Date.now() + 30_000);
    expect(await polls.claim(new Date(), 1000)).toEqual([]);
  });

  it('never claims two polls of one connection at once', async () => {
    // carol's two flows poll through the same GitHub connection.
    const a = await enable(small, 'carol', 'issues-a');
    const b = await enable(small, 'carol', 'issues-b');
    await db.query(`UPDATE flow_instance_triggers SET next_poll_at = now() - interval '5 seconds' WHERE id = ANY($1)`, [[a, b]]);
    const first = (await polls.claim(new Date(), 100)).filter((c) => c.id === a || c.id === b);
    expect(first).toHaveLength(1);
    // The other one is still due, and the next claim takes it.
    const second = (await polls.claim(new Date(), 100)).filter((c) => c.id === a || c.id === b);
    expect(second).toHaveLength(1);
    expect(second[0]!.id).not.toBe(first[0]!.id);
  });
});
