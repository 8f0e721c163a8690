import Bull from 'bull';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADVANCE_ROLLOUT_JOB, ROLLOUT_BATCH, rolloutJobId } from '../src/flows/rollouts/rollouts.service';
import { QUEUES } from '../src/queues/queues.module';
import { alive, Proc, run, sleep, waitFor } from './child-processes';
import { SYNC_FLOW } from './fixtures';
import { createTenant, freePort, TenantFixture, testEnv } from './harness';

/**
 * A version rollout while its worker is killed with SIGKILL, twice: once inside a batch's
 * transaction (held there by a row lock the test takes), once wherever the next batches happen
 * to be; then a job of a batch that already ran is delivered again (as Bull does when a worker
 * dies after its batch committed but before the job was marked done). The API and workers are the
 * compiled processes; a fresh worker is started after each kill. Afterwards every instance is on the new version, moved exactly once (one item upgraded,
 * one audit event), nothing pending, and every batch ran once.
 *
 * Bull re-delivers a killed worker's job once its lock lapses: QUEUE_LOCK_DURATION_MS and
 * QUEUE_STALLED_INTERVAL_MS are low here so that takes ~2 s; RUN_RECOVERY_GRACE_SECONDS and
 * MAINTENANCE_INTERVAL_SECONDS low so the rollout sweep would re-create a lost job within seconds.
 */

const HOST_ORIGIN = 'https://host.example';
const INSTANCES = 600;
const v2 = { ...SYNC_FLOW, inputs: { ...SYNC_FLOW.inputs, label: { type: 'string', title: 'Label', default: 'new' } } };

describe('rollouts under SIGKILL', () => {
  let env: Record<string, string>;
  let api: Proc;
  const workers: Proc[] = [];
  let tenant: TenantFixture;
  let db: Client;
  /** Holds row locks for the test, in a transaction of its own. */
  let holder: Client;

  const startWorker = async (): Promise<Proc> => {
    const worker = run('worker.js', env);
    workers.push(worker);
    await waitFor(() => (worker.output().includes('Switchboard worker ready') ? true : alive(worker) ? undefined : Promise.reject(new Error('exited'))), 30_000, 'worker ready');
    return worker;
  };
  const kill = async (worker: Proc) => {
    worker.child.kill('SIGKILL');
    await worker.exited;
  };
  const counts = async (rolloutId: string): Promise<Record<string, number>> =>
    Object.fromEntries(
      (await db.query(`SELECT status, count(*)::int AS n FROM flow_rollout_items WHERE rollout_id = $1 GROUP BY status`, [rolloutId])).rows.map((r) => [r.status, r.n]),
    );
  /**
   * Locks one instance until `release()`: the batch that reaches it waits inside its transaction.
   * NO KEY UPDATE, so the rollout's items may still reference it (their foreign key's KEY SHARE).
   */
  const lock = async (instanceId: string) => {
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM flow_instances WHERE id = $1 FOR NO KEY UPDATE`, [instanceId]);
  };
  const release = () => holder.query('COMMIT');
  const waitingOnLock = async () => {
    const [{ n }] = (await db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [holderPid])).rows;
    return n > 0 ? true : undefined;
  };
  let holderPid: number;
  /** The queue rollout jobs run on, to deliver one again. */
  let queue: Bull.Queue;

  beforeAll(async () => {
    const port = await freePort();
    env = testEnv(port, {
      MAINTENANCE_INTERVAL_SECONDS: '1',
      RUN_RECOVERY_GRACE_SECONDS: '1',
      QUEUE_LOCK_DURATION_MS: '2000',
      QUEUE_STALLED_INTERVAL_MS: '500',
      LOG_LEVEL: 'info',
    });
    api = run('main.js', env);
    await waitFor(async () => ((await fetch(`${env.PUBLIC_URL}/readyz`)).ok ? true : undefined), 30_000, 'API ready');
    db = new Client({ connectionString: env.DATABASE_URL });
    holder = new Client({ connectionString: env.DATABASE_URL });
    await Promise.all([db.connect(), holder.connect()]);
    holderPid = (await holder.query(`SELECT pg_backend_pid() AS pid`)).rows[0].pid;
    queue = new Bull(QUEUES.maintenance, env.REDIS_URL!, { prefix: `${env.REDIS_PREFIX}:bull` });

    tenant = await createTenant({ url: env.PUBLIC_URL, origin: env.PUBLIC_URL } as never, 'Rollout Crash Co');
    await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition: SYNC_FLOW })).status).toBe(201);
    expect((await tenant.owner.post('/v1/admin/flow-templates/sync/publish')).status).toBe(201);
    // One real enable through the API, then the other end users and instances copied from it in SQL.
    expect((await tenant.host.put('/v1/end-users/c0000', {})).status).toBe(201);
    expect((await tenant.host.post('/v1/end-users/c0000/flows/sync/enable', { settings: { region: 'us' } })).status).toBe(200);
    await db.query(
      `WITH users AS (
         INSERT INTO end_users (tenant_id, external_id) SELECT $1, 'c' || lpad(n::text, 4, '0') FROM generate_series(1, $2 - 1) n RETURNING id)
       INSERT INTO flow_instances (tenant_id, end_user_id, template_id, version_id, enabled, settings, connections, trigger_event)
       SELECT i.tenant_id, u.id, i.template_id, i.version_id, true, i.settings, i.connections, i.trigger_event FROM users u, flow_instances i WHERE i.tenant_id = $1`,
      [tenant.tenantId, INSTANCES],
    );
    expect((await tenant.owner.put('/v1/admin/flow-templates/sync/draft', { definition: v2 })).status).toBe(200);
    expect((await tenant.owner.post('/v1/admin/flow-templates/sync/publish')).status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await holder?.query('ROLLBACK').catch(() => undefined);
    for (const p of [...workers, api]) {
      if (p && alive(p)) {
        p.child.kill('SIGTERM');
        await Promise.race([p.exited, sleep(10_000).then(() => p.child.kill('SIGKILL'))]);
      }
    }
    await queue?.close();
    await holder?.end();
    await db?.end();
  });

  it('completes with every instance on the new version exactly once after its worker is killed mid-batch and between batches', async () => {
    // Batches take pending items in instance id order: the instance at rank k is in batch ⌊k / 100⌋.
    const order: string[] = (await db.query(`SELECT id FROM flow_instances WHERE tenant_id = $1 ORDER BY id`, [tenant.tenantId])).rows.map((r) => r.id);
    expect(order).toHaveLength(INSTANCES);

    // Kill 1: batches 0 and 1 commit, batch 2 waits on the test's lock inside its transaction; the worker dies there.
    await lock(order[2 * ROLLOUT_BATCH + 50]!);
    let victim = await startWorker();
    const started = await tenant.owner.post('/v1/admin/flow-templates/sync/rollouts', { version: 2, target: { all: true } });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const rolloutId = started.body.id as string;
    expect(started.body.total).toBe(INSTANCES);
    await waitFor(waitingOnLock, 30_000, 'batch 2 waiting on the lock');
    expect(await counts(rolloutId)).toEqual({ upgraded: 2 * ROLLOUT_BATCH, pending: INSTANCES - 2 * ROLLOUT_BATCH });
    await kill(victim);

    // Kill 2: a new worker redoes batch 2 (the killed job, re-delivered) and goes on; it is killed as soon as progress shows,
    // wherever it is then (a commit, an enqueue, a batch), before batch 4, which a second lock holds back.
    await release();
    await lock(order[4 * ROLLOUT_BATCH + 50]!);
    victim = await startWorker();
    const atKill = await waitFor(async () => ((await counts(rolloutId)).upgraded! > 2 * ROLLOUT_BATCH ? await counts(rolloutId) : undefined), 30_000, 'progress after kill 1');
    await kill(victim);
    const after = await counts(rolloutId);
    expect(after.upgraded).toBeGreaterThan(2 * ROLLOUT_BATCH);
    expect(after.upgraded).toBeLessThan(INSTANCES);
    expect(after.upgraded! + after.pending!).toBe(INSTANCES);
    expect(after.upgraded! % ROLLOUT_BATCH, `upgraded ${after.upgraded} (${atKill.upgraded} seen before the kill): whole batches only`).toBe(0);

    // The job of batch 1, long done, delivered again: batches take what is still pending, under lock, so it moves nothing twice.
    const stale = rolloutJobId(rolloutId, 1);
    await queue.add(ADVANCE_ROLLOUT_JOB, { tenantId: tenant.tenantId, rolloutId }, { jobId: stale, removeOnComplete: true });

    // A last worker finishes it.
    await release();
    await startWorker();
    const done = await waitFor(
      async () => {
        const res = await tenant.owner.get(`/v1/admin/flow-templates/sync/rollouts/${rolloutId}`);
        return res.body.status === 'completed' ? res.body : undefined;
      },
      40_000,
      'rollout completed',
    );
    expect(done.total).toBe(INSTANCES);
    await waitFor(async () => ((await queue.getJob(stale)) === null ? true : undefined), 10_000, 'the stale job done');
    expect(done.counts).toEqual({ pending: 0, upgraded: INSTANCES, paused: 0, needs_settings: 0, skipped: 0, failed: 0, rolled_back: 0 });

    // Every instance on version 2, with its settings carried over; one item and one audit event each.
    const versions = await db.query(
      `SELECT v.version, count(*)::int AS n FROM flow_instances i JOIN flow_template_versions v ON v.id = i.version_id WHERE i.tenant_id = $1 GROUP BY v.version`,
      [tenant.tenantId],
    );
    expect(versions.rows).toEqual([{ version: 2, n: INSTANCES }]);
    const settings = await db.query(`SELECT settings, count(*)::int AS n FROM flow_instances WHERE tenant_id = $1 GROUP BY settings`, [tenant.tenantId]);
    expect(settings.rows).toEqual([{ settings: { region: 'us', label: 'new' }, n: INSTANCES }]);
    const items = await db.query(`SELECT count(*)::int AS n, count(DISTINCT instance_id)::int AS distinct FROM flow_rollout_items WHERE rollout_id = $1`, [rolloutId]);
    expect(items.rows[0]).toEqual({ n: INSTANCES, distinct: INSTANCES });
    const audited = await db.query(
      `SELECT target_id, count(*)::int AS n FROM audit_events WHERE tenant_id = $1 AND action = 'flow.upgraded' AND data->>'rollout' = $2 GROUP BY target_id`,
      [tenant.tenantId, rolloutId],
    );
    expect(audited.rows).toHaveLength(INSTANCES);
    expect(audited.rows.every((r) => r.n === 1)).toBe(true);
    expect(new Set(audited.rows.map((r) => r.target_id))).toEqual(new Set(order));
    // Each batch ran once: six of a hundred and the empty one that finds nothing left.
    const [row] = (await db.query(`SELECT batches FROM flow_rollouts WHERE id = $1`, [rolloutId])).rows;
    expect(row.batches).toBe(INSTANCES / ROLLOUT_BATCH + 1);
  }, 90_000);
});
