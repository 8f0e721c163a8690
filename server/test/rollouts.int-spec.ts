import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '../src/queues/queues.module';
import { addMember, createTenant, Http, startApi, startWorker, TenantFixture, TestApi, until } from './harness';
import { SYNC_FLOW } from './fixtures';

const HOST_ORIGIN = 'https://host.example';
const INSTANCES = 1000;

const v1 = SYNC_FLOW;
/** Adds an input with a default: every instance can take it as is. */
const v2 = { ...v1, inputs: { ...v1.inputs, label: { type: 'string', title: 'Label', default: 'new' } } };
/** Adds a required input without a default: no instance has it. */
const v3 = { ...v2, inputs: { ...v2.inputs, token: { type: 'string', title: 'Token', required: true } } };

describe('version rollouts', () => {
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let other: TenantFixture;
  let db: Client;
  const base = '/v1/admin/flow-templates/sync/rollouts';

  const publish = async (definition: unknown) => {
    expect((await tenant.owner.put('/v1/admin/flow-templates/sync/draft', { definition })).status).toBe(200);
    expect((await tenant.owner.post('/v1/admin/flow-templates/sync/publish')).status).toBe(201);
  };
  const versions = async () =>
    (
      await db.query(
        `SELECT v.version, count(*)::int AS n FROM flow_instances i JOIN flow_template_versions v ON v.id = i.version_id WHERE i.tenant_id = $1 GROUP BY v.version ORDER BY v.version`,
        [tenant.tenantId],
      )
    ).rows as Array<{ version: number; n: number }>;
  const finished = (id: string, status: string) =>
    until(
      `rollout ${status}`,
      async () => {
        const res = await tenant.owner.get(`${base}/${id}`);
        return res.body.status === status ? res.body : undefined;
      },
      60_000,
    );
  /** The queue rollout jobs run on; paused (for every worker), nothing on it runs. */
  const maintenance = () => api.app.get<Queue>(getQueueToken(QUEUES.maintenance));
  const startRollout = async (body: unknown) => {
    const res = await tenant.owner.post(base, body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; total: number; status: string };
  };

  beforeAll(async () => {
    api = await startApi({ MAINTENANCE_INTERVAL_SECONDS: '1', RUN_RECOVERY_GRACE_SECONDS: '1' });
    worker = await startWorker(api.config);
    db = new Client({ connectionString: api.config.database.url });
    await db.connect();
    tenant = await createTenant(api, 'Rollout Co');
    other = await createTenant(api, 'Other Co');
    await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition: v1 })).status).toBe(201);
    expect((await tenant.owner.post('/v1/admin/flow-templates/sync/publish')).status).toBe(201);
    // One real enable through the API, then 999 more end users and instances copied from it in SQL.
    expect((await tenant.host.post('/v1/sessions', { endUserId: 'u0000' })).status).toBe(201);
    expect((await tenant.host.post('/v1/end-users/u0000/flows/sync/enable', { settings: { region: 'us' } })).status).toBe(200);
    await db.query(
      `WITH users AS (
         INSERT INTO end_users (tenant_id, external_id) SELECT $1, 'u' || lpad(n::text, 4, '0') FROM generate_series(1, $2 - 1) n RETURNING id)
       INSERT INTO flow_instances (tenant_id, end_user_id, template_id, version_id, enabled, settings, connections, trigger_event)
       SELECT i.tenant_id, u.id, i.template_id, i.version_id, true, i.settings, i.connections, i.trigger_event FROM users u, flow_instances i WHERE i.tenant_id = $1`,
      [tenant.tenantId, INSTANCES],
    );
    await publish(v2);
  }, 60_000);
  afterAll(async () => {
    await worker.close();
    await db.end();
    await api.close();
  });

  it('refuses bad input with coded errors, and a viewer may only read', async () => {
    const unknown = await tenant.owner.post(base, { version: 9, target: { all: true } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('validation_failed');
    const notNewer = await tenant.owner.post(base, { version: 1, target: { all: true } });
    expect([notNewer.status, notNewer.body.error.code]).toEqual([409, 'version_not_newer']);
    const two = await tenant.owner.post(base, { version: 2, target: { all: true, percent: 5 } });
    expect([two.status, two.body.error.code]).toEqual([400, 'validation_failed']);
    const badPercent = await tenant.owner.post(base, { version: 2, target: { percent: 101 } });
    expect(badPercent.status).toBe(400);
    const nobody = await tenant.owner.post(base, { version: 2, target: { endUserIds: ['u0001', 'ghost'] } });
    expect([nobody.status, nobody.body.error.message]).toEqual([400, expect.stringContaining('ghost')]);
    const viewer = await addMember(api, tenant, 'viewer');
    expect((await viewer.browser.post(base, { version: 2, target: { all: true } })).status).toBe(403);
    expect((await viewer.browser.get(base)).status).toBe(200);
  });

  it('rolls version 2 out to 1,000 instances in batches, progress going up, then rolls every one back', async () => {
    const started = await startRollout({ version: 2, target: { all: true } });
    expect(started).toMatchObject({ status: 'running', total: INSTANCES, version: 2, flow: 'sync' });
    // A second rollout of the template while one runs is refused.
    const again = await tenant.owner.post(base, { version: 2, target: { percent: 10 } });
    expect([again.status, again.body.error.code]).toEqual([409, 'rollout_in_progress']);
    const seen: number[] = [];
    await until(
      'rollout completed',
      async () => {
        const res = await tenant.owner.get(`${base}/${started.id}`);
        seen.push(res.body.counts.upgraded);
        return res.body.status === 'completed';
      },
      60_000,
    );
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen[seen.length - 1]).toBe(INSTANCES);
    // Batches of 100: the rollout was seen part-way.
    expect(
      seen.some((n) => n > 0 && n < INSTANCES),
      `progress seen: ${seen.join(',')}`,
    ).toBe(true);
    expect(await versions()).toEqual([{ version: 2, n: INSTANCES }]);
    // Settings carried over, the new input took its default.
    const first = await tenant.host.get('/v1/end-users/u0000/flows');
    expect(first.body.data[0].instance).toMatchObject({ version: 2, upgradeAvailable: false, settings: { region: 'us', label: 'new' } });
    const audited = await db.query(`SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1 AND action = 'flow.upgraded' AND data->>'rollout' = $2`, [
      tenant.tenantId,
      started.id,
    ]);
    expect(audited.rows[0].n).toBe(INSTANCES);

    const rollback = await tenant.owner.post(`${base}/${started.id}/rollback`);
    expect([rollback.status, rollback.body.status]).toEqual([200, 'rolling_back']);
    const back = await finished(started.id, 'rolled_back');
    expect(back.counts).toMatchObject({ rolled_back: INSTANCES, upgraded: 0 });
    expect(await versions()).toEqual([{ version: 1, n: INSTANCES }]);
    const restored = await tenant.host.get('/v1/end-users/u0000/flows');
    expect(restored.body.data[0].instance).toMatchObject({ version: 1, upgradeAvailable: true, settings: { region: 'us' } });
    expect(restored.body.data[0].instance.settings).not.toHaveProperty('label');
    // A rolled-back rollout cannot be stopped or rolled back again.
    expect((await tenant.owner.post(`${base}/${started.id}/stop`)).body.error.code).toBe('rollout_not_changeable');
  }, 120_000);

  it('a percentage picks about that share of the instances, the same ones each time', async () => {
    const started = await startRollout({ version: 2, target: { percent: 30 } });
    expect(started.total).toBeGreaterThan(INSTANCES * 0.25);
    expect(started.total).toBeLessThan(INSTANCES * 0.35);
    await finished(started.id, 'completed');
    expect(await versions()).toEqual([
      { version: 1, n: INSTANCES - started.total },
      { version: 2, n: started.total },
    ]);
    const picked = await db.query(`SELECT instance_id FROM flow_rollout_items WHERE rollout_id = $1 ORDER BY 1`, [started.id]);
    await tenant.owner.post(`${base}/${started.id}/rollback`);
    await finished(started.id, 'rolled_back');
    const again = await startRollout({ version: 2, target: { percent: 30 } });
    expect((await db.query(`SELECT instance_id FROM flow_rollout_items WHERE rollout_id = $1 ORDER BY 1`, [again.id])).rows).toEqual(picked.rows);
    await finished(again.id, 'completed');
    await tenant.owner.post(`${base}/${again.id}/rollback`);
    await finished(again.id, 'rolled_back');
  }, 60_000);

  it('leaves an instance on its version when the new one needs a setting it lacks (needs_settings), listed with the reason', async () => {
    await publish(v3);
    const started = await startRollout({ version: 3, target: { endUserIds: ['u0001', 'u0002'] } });
    const done = await finished(started.id, 'completed');
    expect(done.counts).toMatchObject({ needs_settings: 2, upgraded: 0, pending: 0 });
    const items = await tenant.owner.get(`${base}/${started.id}/items?status=needs_settings,failed&limit=1`);
    expect(items.status).toBe(200);
    expect(items.body.data).toEqual([expect.objectContaining({ endUserId: 'u0001', status: 'needs_settings', previousVersion: 1, error: expect.stringContaining('token') })]);
    const next = await tenant.owner.get(`${base}/${started.id}/items?status=needs_settings&cursor=${items.body.nextCursor}`);
    expect(next.body).toMatchObject({ data: [{ endUserId: 'u0002' }], nextCursor: null });
    expect(await versions()).toEqual([{ version: 1, n: INSTANCES }]);
  });

  it('stop takes effect before the next batch: nothing more moves', async () => {
    // No worker takes jobs until the rollout is stopped.
    await maintenance().pause();
    const started = await startRollout({ version: 2, target: { all: true } });
    const stopped = await tenant.owner.post(`${base}/${started.id}/stop`);
    expect([stopped.status, stopped.body.status]).toEqual([200, 'stopped']);
    await maintenance().resume();
    await new Promise((r) => setTimeout(r, 1500));
    const after = (await tenant.owner.get(`${base}/${started.id}`)).body;
    expect(after).toMatchObject({ status: 'stopped', counts: { pending: INSTANCES, upgraded: 0 } });
    expect(await versions()).toEqual([{ version: 1, n: INSTANCES }]);
  });

  it('a rollout whose job was lost (a worker died, Redis lost it) is resumed by the recovery sweep; an instance its end user upgraded meanwhile is left alone', async () => {
    await maintenance().pause();
    const started = await startRollout({ version: 3, target: { endUserIds: ['u0003', 'u0004', 'u0005'] } });
    // The end user of u0004 upgrades to the latest version (3) themselves before the worker gets there.
    const token = (await tenant.host.post('/v1/sessions', { endUserId: 'u0004' })).body.token as string;
    const u4 = new Http(api.url, { bearer: token, origin: HOST_ORIGIN });
    expect((await u4.post('/v1/me/flows/sync/upgrade', { settings: { token: 't-4' } })).status).toBe(200);
    // u0005 has the setting version 3 needs.
    await db.query(
      `UPDATE flow_instances SET settings = settings || '{"token":"t-5"}' WHERE tenant_id = $1 AND end_user_id = (SELECT id FROM end_users WHERE external_id = 'u0005' AND tenant_id = $1)`,
      [tenant.tenantId],
    );
    // The job is lost (Redis lost it, or the API died before enqueueing it).
    const job = await maintenance().getJob(`rollout:${started.id}:0`);
    expect(job).not.toBeNull();
    await job!.remove();
    await maintenance().resume();
    const done = await finished(started.id, 'completed');
    expect(done.counts).toMatchObject({ upgraded: 1, needs_settings: 1, skipped: 1, pending: 0 });
    const items = (await tenant.owner.get(`${base}/${started.id}/items`)).body.data as Array<{ endUserId: string; status: string; error: string | null }>;
    expect(items.map((i) => [i.endUserId, i.status])).toEqual([
      ['u0003', 'needs_settings'],
      ['u0004', 'skipped'],
      ['u0005', 'upgraded'],
    ]);
    const u5 = (await tenant.host.get('/v1/end-users/u0005/flows')).body.data[0].instance;
    expect(u5).toMatchObject({ version: 3, settings: { region: 'us', label: 'new', token: 't-5' } });
  }, 60_000);

  it('lets the template stop end users from upgrading themselves', async () => {
    const token = (await tenant.host.post('/v1/sessions', { endUserId: 'u0006' })).body.token as string;
    const me = new Http(api.url, { bearer: token, origin: HOST_ORIGIN });
    expect((await me.get('/v1/me/flows')).body.data[0].instance.upgradeAvailable).toBe(true);
    const off = await tenant.owner.patch('/v1/admin/flow-templates/sync', { allowEndUserUpgrade: false });
    expect([off.status, off.body.allowEndUserUpgrade]).toEqual([200, false]);
    expect((await me.get('/v1/me/flows')).body.data[0].instance.upgradeAvailable).toBe(false);
    const refused = await me.post('/v1/me/flows/sync/upgrade', { settings: { token: 'x' } });
    expect([refused.status, refused.body.error.code]).toEqual([403, 'forbidden']);
    // The host still can.
    expect((await tenant.host.post('/v1/end-users/u0006/flows/sync/upgrade', { settings: { token: 'x' } })).status).toBe(200);
    expect((await tenant.owner.patch('/v1/admin/flow-templates/sync', { allowEndUserUpgrade: true })).status).toBe(200);
  });

  it('pauses instead when asked: moved and switched off, the widget says what to complete, completing switches it on, a rollback restores the rest as they were', async () => {
    // u0007 is on, u0008 was switched off by its end user before the rollout.
    expect((await tenant.host.post('/v1/end-users/u0008/flows/sync/disable')).status).toBe(200);
    // u0009 has what version 3 needs: it simply moves.
    await db.query(
      `UPDATE flow_instances SET settings = settings || '{"token":"t-9"}' WHERE tenant_id = $1 AND end_user_id = (SELECT id FROM end_users WHERE external_id = 'u0009' AND tenant_id = $1)`,
      [tenant.tenantId],
    );
    const started = await startRollout({ version: 3, target: { endUserIds: ['u0007', 'u0008', 'u0009'] }, whenSettingsMissing: 'pause' });
    expect(started).toMatchObject({ whenSettingsMissing: 'pause' });
    const done = await finished(started.id, 'completed');
    expect(done.counts, JSON.stringify(done.counts)).toMatchObject({ paused: 2, upgraded: 1, needs_settings: 0, pending: 0 });
    const items = (await tenant.owner.get(`${base}/${started.id}/items?status=paused`)).body.data as Array<{ endUserId: string; error: string }>;
    expect(items.map((i) => i.endUserId)).toEqual(['u0007', 'u0008']);
    expect(items[0]!.error).toMatch(/token/);

    // The end user is told in the widget, and nothing runs for the flow meanwhile.
    const token = (await tenant.host.post('/v1/sessions', { endUserId: 'u0007' })).body.token as string;
    const me = new Http(api.url, { bearer: token, origin: HOST_ORIGIN });
    const mine = (await me.get('/v1/me/flows')).body.data[0];
    expect(mine.instance).toMatchObject({
      enabled: false,
      version: 3,
      note: { code: 'needs_settings', version: 3, message: expect.stringMatching(/^Version 3 of this flow needs more from you: .*token/) },
    });
    expect((await tenant.host.post('/v1/flows/sync/runs', { endUserId: 'u0007', input: {} })).status).toBeGreaterThanOrEqual(400);
    // Completing it switches it on, on version 3, and clears the note.
    const completed = await me.post('/v1/me/flows/sync/enable', { settings: { region: 'eu', token: 't-7' } });
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
    expect(completed.body.instance).toMatchObject({ enabled: true, version: 3, note: null });

    // Rolling back: u0007 changed since (completed and on), left alone; u0008 back on version 1 and still off; u0009 back on version 1.
    expect((await tenant.owner.post(`${base}/${started.id}/rollback`)).status).toBe(200);
    const back = await finished(started.id, 'rolled_back');
    expect(back.counts).toMatchObject({ rolled_back: 2, skipped: 1, paused: 0, upgraded: 0 });
    const flowOf = async (who: string) => (await tenant.host.get(`/v1/end-users/${who}/flows`)).body.data[0].instance;
    expect(await flowOf('u0008')).toMatchObject({ version: 1, enabled: false, note: null });
    expect(await flowOf('u0009')).toMatchObject({ version: 1, enabled: true });
    expect(await flowOf('u0007')).toMatchObject({ version: 3, enabled: true, settings: expect.objectContaining({ token: 't-7' }) });
    const audit = (await tenant.owner.get('/v1/admin/audit-events?action=flow.paused')).body.data;
    expect(audit).toHaveLength(2);
  }, 60_000);

  it("another tenant's members see none of it", async () => {
    const [{ id }] = (await db.query(`SELECT id FROM flow_rollouts WHERE tenant_id = $1 LIMIT 1`, [tenant.tenantId])).rows;
    expect((await other.owner.get(base)).status).toBe(404);
    expect((await other.owner.get(`${base}/${id}`)).status).toBe(404);
    // Even under a template of the same key of its own.
    expect((await other.owner.post('/v1/admin/flow-templates', { definition: v1 })).status).toBe(201);
    expect((await other.owner.post('/v1/admin/flow-templates/sync/publish')).status).toBe(201);
    expect((await other.owner.get(base)).body.data).toEqual([]);
    for (const res of [
      await other.owner.get(`${base}/${id}`),
      await other.owner.get(`${base}/${id}/items`),
      await other.owner.post(`${base}/${id}/stop`),
      await other.owner.post(`${base}/${id}/rollback`),
    ]) {
      expect([res.status, res.body.error.code]).toEqual([404, 'not_found']);
    }
  });
});
