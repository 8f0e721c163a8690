import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import type { Actor } from '../../auth/principal';
import { AppError, notFound } from '../../common/errors/app-error';
import { acrossTenants, tenantSql } from '../../common/tenancy/tenant-sql';
import { TenantId, trustedTenantId } from '../../common/tenancy/tenant-id';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { redisAfterCommit } from '../../queues/after-commit-redis';
import { liveOrClear } from '../../queues/live-jobs';
import { QUEUES } from '../../queues/queues.module';
import { InstanceTriggersService } from '../../triggers/instance-triggers.service';
import { bindingConnector } from '../definition/flow-definition.schema';
import type { InstanceNote } from '../binding-health';
import type { VersionDoc } from '../flow-instances.service';
import { resolveSettings } from '../settings';

export type RolloutTarget = { all: true } | { endUserIds: string[] } | { percent: number };
export type RolloutStatus = 'running' | 'stopped' | 'completed' | 'rolling_back' | 'rolled_back';
export type RolloutItemStatus = 'pending' | 'upgraded' | 'paused' | 'needs_settings' | 'skipped' | 'failed' | 'rolled_back';
export const ROLLOUT_ITEM_STATUSES: RolloutItemStatus[] = ['pending', 'upgraded', 'paused', 'needs_settings', 'skipped', 'failed', 'rolled_back'];
/** An instance the new version needs more of (a setting, a connection): `stay` on its version, or move and `pause` until its end user completes it. */
export type WhenSettingsMissing = 'stay' | 'pause';

export const ADVANCE_ROLLOUT_JOB = 'advance-rollout';
/** Instances moved per transaction: small enough that a stop takes effect quickly, large enough for few round trips. */
export const ROLLOUT_BATCH = 100;
/** One job per batch: the id names the batch about to run, so recovery and a late enqueue never double one. */
export const rolloutJobId = (rolloutId: string, batches: number) => `rollout:${rolloutId}:${batches}`;

export interface RolloutJob {
  tenantId: string;
  rolloutId: string;
}

export interface RolloutRow {
  id: string;
  flow: string;
  version: number;
  target: RolloutTarget;
  whenSettingsMissing: WhenSettingsMissing;
  status: RolloutStatus;
  startedBy: string | null;
  total: number;
  counts: Record<RolloutItemStatus, number>;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface RolloutItemRow {
  instanceId: string;
  endUserId: string;
  endUserName: string | null;
  previousVersion: number;
  status: RolloutItemStatus;
  error: string | null;
  updatedAt: Date;
}

const ACTIVE = `('running', 'rolling_back')`;

/** Request and event triggers keep no state; the others' state is computed from the settings too (a schedule, a poll's or subscription's input). */
const readsSettings = (trigger: VersionDoc['trigger']) => trigger.type !== 'request' && trigger.type !== 'event';

/**
 * Rollouts move many instances of a template to one published version. The API records the
 * rollout and its items (every chosen instance on an older version, with the version and settings
 * it had); the worker moves them in batches, one job per batch, each batch one transaction that
 * locks the rollout row (so a stop or a rollback takes effect between batches) and re-enqueues the
 * next. A lost job is re-created by the recovery sweep from PostgreSQL.
 */
@Injectable()
export class RolloutsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectQueue(QUEUES.maintenance) private readonly queue: Queue<RolloutJob>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly triggers: InstanceTriggersService,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('RolloutsService');
  }

  async start(actor: Actor, key: string, version: number, target: RolloutTarget, whenSettingsMissing: WhenSettingsMissing = 'stay'): Promise<RolloutRow> {
    // The body's class has every field (undefined when not given), so fields are tested by value.
    const given = target as { all?: true; endUserIds?: string[]; percent?: number };
    if ([given.all === true, given.endUserIds !== undefined, given.percent !== undefined].filter(Boolean).length !== 1) {
      throw new AppError('validation_failed', 'target: give exactly one of all: true, endUserIds or percent', {
        errors: [{ path: 'target', message: 'give exactly one of all: true, endUserIds or percent' }],
      });
    }
    const created = await this.db.transaction(async (manager) => {
      const sql = tenantSql(manager);
      const tenantId = actor.tenantId;
      const template = await this.template(manager, tenantId, key, true);
      const [found]: Array<{ id: string; trigger_event: string | null }> = await sql.query(
        tenantId,
        `SELECT id FROM flow_template_versions WHERE tenant_id = $1 AND template_id = $2 AND version = $3`,
        [template.id, version],
      );
      if (!found) {
        throw new AppError('validation_failed', `version: ${key} has no published version ${version}`, {
          errors: [{ path: 'version', message: 'is not a published version of this template' }],
        });
      }
      const [active]: Array<{ id: string }> = await sql.query(tenantId, `SELECT id FROM flow_rollouts WHERE tenant_id = $1 AND template_id = $2 AND status IN ${ACTIVE}`, [
        template.id,
      ]);
      if (active) throw new AppError('rollout_in_progress', `A rollout of ${key} is in progress; stop it first`, { rolloutId: active.id });
      let filter = 'TRUE';
      const params: unknown[] = [];
      if (given.endUserIds !== undefined) {
        const ids = [...new Set(given.endUserIds)];
        const known: Array<{ external_id: string }> = await sql.query(tenantId, `SELECT external_id FROM end_users WHERE tenant_id = $1 AND external_id = ANY($2::text[])`, [ids]);
        const unknown = ids.filter((id) => !known.some((k) => k.external_id === id));
        if (unknown.length) {
          throw new AppError('validation_failed', `target.endUserIds: unknown end users ${unknown.slice(0, 10).join(', ')}`, {
            errors: [{ path: 'target.endUserIds', message: `unknown end users: ${unknown.slice(0, 10).join(', ')}` }],
          });
        }
        filter = `i.end_user_id IN (SELECT id FROM end_users WHERE tenant_id = $1 AND external_id = ANY($5::text[]))`;
        params.push(ids);
      } else if (given.percent !== undefined) {
        // A stable pseudo-random share: the same instances for the same percentage, whoever asks.
        filter = `('x' || left(md5(i.id::text), 8))::bit(32)::bigint % 100 < $5`;
        params.push(given.percent);
      }
      const [rollout]: Array<{ id: string }> = await sql.query(
        tenantId,
        `INSERT INTO flow_rollouts (tenant_id, template_id, version_id, version, started_by, target, when_settings_missing, status, total)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', 0) RETURNING id`,
        [template.id, found.id, version, actor.id, JSON.stringify(given), whenSettingsMissing],
      );
      const [{ n }]: Array<{ n: number }> = await sql.query(
        tenantId,
        `WITH chosen AS (
           INSERT INTO flow_rollout_items (tenant_id, rollout_id, instance_id, previous_version_id, previous_settings, previous_enabled)
           SELECT i.tenant_id, $2, i.id, i.version_id, i.settings, i.enabled
             FROM flow_instances i JOIN flow_template_versions v ON v.id = i.version_id AND v.tenant_id = i.tenant_id
            WHERE i.tenant_id = $1 AND i.template_id = $3 AND v.version < $4 AND ${filter}
           RETURNING 1)
         SELECT count(*)::int AS n FROM chosen`,
        [rollout!.id, template.id, version, ...params],
      );
      if (n === 0) throw new AppError('version_not_newer', `No chosen instance of ${key} is on a version older than ${version}`, { version });
      await sql.query(tenantId, `UPDATE flow_rollouts SET total = $3 WHERE tenant_id = $1 AND id = $2`, [rollout!.id, n]);
      await this.audit.record(
        actor,
        'flow_rollout.started',
        { type: 'flow_rollout', id: rollout!.id },
        { flow: key, version, target: given, whenSettingsMissing, instances: n },
        manager,
      );
      return rollout!.id;
    });
    await this.enqueue(actor.tenantId, created, 0);
    return this.get(actor, key, created);
  }

  async list(actor: Actor, key: string): Promise<RolloutRow[]> {
    const template = await this.template(this.db.manager, actor.tenantId, key);
    const rows: Array<{ id: string }> = await tenantSql(this.db).query(
      actor.tenantId,
      `SELECT id FROM flow_rollouts WHERE tenant_id = $1 AND template_id = $2 ORDER BY created_at DESC LIMIT 100`,
      [template.id],
    );
    return Promise.all(rows.map((r) => this.get(actor, key, r.id)));
  }

  async get(actor: Actor, key: string, id: string): Promise<RolloutRow> {
    const sql = tenantSql(this.db);
    const rows: Array<Record<string, any>> = /^[0-9a-f-]{36}$/i.test(id)
      ? await sql.query(
          actor.tenantId,
          `SELECT r.*, t.key FROM flow_rollouts r JOIN flow_templates t ON t.id = r.template_id AND t.tenant_id = r.tenant_id WHERE r.tenant_id = $1 AND r.id = $2 AND t.key = $3`,
          [id, key],
        )
      : [];
    const r = rows[0];
    if (!r) throw notFound('Rollout', id);
    const counted: Array<{ status: RolloutItemStatus; n: number }> = await sql.query(
      actor.tenantId,
      `SELECT status, count(*)::int AS n FROM flow_rollout_items WHERE tenant_id = $1 AND rollout_id = $2 GROUP BY status`,
      [id],
    );
    const counts = Object.fromEntries(ROLLOUT_ITEM_STATUSES.map((s) => [s, counted.find((c) => c.status === s)?.n ?? 0])) as Record<RolloutItemStatus, number>;
    return {
      id: r.id,
      flow: r.key,
      version: r.version,
      target: r.target,
      whenSettingsMissing: r.when_settings_missing,
      status: r.status,
      startedBy: r.started_by,
      total: r.total,
      counts,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      finishedAt: r.finished_at,
    };
  }

  /** The rollout's items, by end user's external id; `statuses` narrows (e.g. failed and needs_settings). */
  async items(
    actor: Actor,
    key: string,
    id: string,
    statuses: RolloutItemStatus[],
    limit: number,
    cursor?: string,
  ): Promise<{ data: RolloutItemRow[]; nextCursor: string | null }> {
    await this.get(actor, key, id);
    const rows: Array<Record<string, any>> = await tenantSql(this.db).query(
      actor.tenantId,
      `SELECT it.instance_id, u.external_id, u.display_name, v.version AS previous_version, it.status, it.error, it.updated_at
         FROM flow_rollout_items it
         JOIN flow_instances i ON i.id = it.instance_id AND i.tenant_id = it.tenant_id
         JOIN end_users u ON u.id = i.end_user_id AND u.tenant_id = it.tenant_id
         JOIN flow_template_versions v ON v.id = it.previous_version_id AND v.tenant_id = it.tenant_id
        WHERE it.tenant_id = $1 AND it.rollout_id = $2 AND ($3::text[] IS NULL OR it.status = ANY($3::text[])) AND ($4::text IS NULL OR u.external_id > $4)
        ORDER BY u.external_id LIMIT $5`,
      [id, statuses.length ? statuses : null, cursor ?? null, limit + 1],
    );
    const page = rows.slice(0, limit).map((r) => ({
      instanceId: r.instance_id,
      endUserId: r.external_id,
      endUserName: r.display_name,
      previousVersion: r.previous_version,
      status: r.status,
      error: r.error,
      updatedAt: r.updated_at,
    }));
    return { data: page, nextCursor: rows.length > limit ? page[page.length - 1]!.endUserId : null };
  }

  /** Stops between batches: what was upgraded stays upgraded, the rest stays pending. */
  async stop(actor: Actor, key: string, id: string): Promise<RolloutRow> {
    await this.change(actor, key, id, ['running'], 'stopped', 'flow_rollout.stopped');
    return this.get(actor, key, id);
  }

  /** Puts every upgraded instance back on the version (and settings) it had, in batches in the worker. */
  async rollback(actor: Actor, key: string, id: string): Promise<RolloutRow> {
    const batches = await this.change(actor, key, id, ['running', 'stopped', 'completed'], 'rolling_back', 'flow_rollout.rollback_started');
    await this.enqueue(actor.tenantId, id, batches);
    return this.get(actor, key, id);
  }

  private change(actor: Actor, key: string, id: string, from: RolloutStatus[], to: RolloutStatus, action: string): Promise<number> {
    return this.db.transaction(async (manager) => {
      await this.get(actor, key, id);
      const sql = tenantSql(manager);
      const [r]: Array<{ status: RolloutStatus; batches: number; template_id: string }> = await sql.query(
        actor.tenantId,
        `SELECT status, batches, template_id FROM flow_rollouts WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
        [id],
      );
      if (!from.includes(r!.status))
        throw new AppError('rollout_not_changeable', `The rollout is ${r!.status.replace('_', ' ')}; it cannot be ${to.replace('_', ' ')} now`, { status: r!.status });
      if (to === 'rolling_back') {
        // The template's lock, as a start takes it: a rollback and a start never both become active.
        await sql.query(actor.tenantId, `SELECT id FROM flow_templates WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [r!.template_id]);
        const [other]: Array<{ id: string }> = await sql.query(
          actor.tenantId,
          `SELECT id FROM flow_rollouts WHERE tenant_id = $1 AND template_id = $2 AND id <> $3 AND status IN ${ACTIVE}`,
          [r!.template_id, id],
        );
        if (other) throw new AppError('rollout_in_progress', `Another rollout of ${key} is in progress; stop it first`, { rolloutId: other.id });
      }
      await sql.query(
        actor.tenantId,
        `UPDATE flow_rollouts SET status = $3, updated_at = now(), finished_at = CASE WHEN $3 = 'stopped' THEN now() ELSE NULL END WHERE tenant_id = $1 AND id = $2`,
        [id, to],
      );
      await this.audit.record(actor, action, { type: 'flow_rollout', id }, { flow: key }, manager);
      return r!.batches;
    });
  }

  private async template(manager: EntityManager, tenantId: TenantId, key: string, lock = false): Promise<{ id: string }> {
    const [template]: Array<{ id: string }> = await tenantSql(manager).query(
      tenantId,
      `SELECT id FROM flow_templates WHERE tenant_id = $1 AND key = $2${lock ? ' FOR UPDATE' : ''}`,
      [key],
    );
    if (!template) throw notFound('Flow template', key);
    return template;
  }

  private enqueue(tenantId: string, rolloutId: string, batches: number): Promise<void> {
    return redisAfterCommit(this.logger, 'enqueue a rollout batch', { rolloutId }, () => this.ensureJob(tenantId, rolloutId, batches));
  }

  /** Adds the job of the next batch unless it is live (a failed or broken one under its id is cleared first). */
  private async ensureJob(tenantId: string, rolloutId: string, batches: number): Promise<boolean> {
    const jobId = rolloutJobId(rolloutId, batches);
    if (await liveOrClear(this.queue, jobId)) return false;
    await this.queue.add(ADVANCE_ROLLOUT_JOB, { tenantId, rolloutId }, { jobId, attempts: 3, backoff: 1000, removeOnComplete: true, removeOnFail: 100 });
    return true;
  }

  /** The worker's step: one batch forward (running) or back (rolling back), then the next batch's job. */
  async advance(job: RolloutJob): Promise<void> {
    const tenantId = trustedTenantId(job.tenantId);
    const next = await this.db.transaction(async (manager) => {
      const sql = tenantSql(manager);
      const [r]: Array<{
        id: string;
        key: string;
        status: RolloutStatus;
        version_id: string;
        version: number;
        batches: number;
        definition: VersionDoc;
        trigger_event: string | null;
        when_settings_missing: WhenSettingsMissing;
      }> = await sql.query(
        tenantId,
        `SELECT r.id, t.key, r.status, r.version_id, r.version, r.batches, v.definition, v.trigger_event, r.when_settings_missing
             FROM flow_rollouts r
             JOIN flow_templates t ON t.id = r.template_id AND t.tenant_id = r.tenant_id
             JOIN flow_template_versions v ON v.id = r.version_id AND v.tenant_id = r.tenant_id
            WHERE r.tenant_id = $1 AND r.id = $2 FOR UPDATE OF r`,
        [job.rolloutId],
      );
      // Stopped, finished or gone: nothing to do, and no next job.
      if (!r || (r.status !== 'running' && r.status !== 'rolling_back')) return null;
      const done = r.status === 'running' ? await this.forward(manager, tenantId, r) : await this.back(manager, tenantId, r);
      const finished = done < ROLLOUT_BATCH;
      await sql.query(
        tenantId,
        `UPDATE flow_rollouts SET batches = batches + 1, updated_at = now(),
                status = CASE WHEN $3 THEN (CASE status WHEN 'running' THEN 'completed' ELSE 'rolled_back' END) ELSE status END,
                finished_at = CASE WHEN $3 THEN now() ELSE finished_at END
          WHERE tenant_id = $1 AND id = $2`,
        [r.id, finished],
      );
      if (finished)
        await this.audit.record(
          { tenantId, type: 'system', id: null },
          r.status === 'running' ? 'flow_rollout.completed' : 'flow_rollout.rolled_back',
          { type: 'flow_rollout', id: r.id },
          { flow: r.key },
          manager,
        );
      return finished ? null : r.batches + 1;
    });
    if (next !== null) await this.ensureJob(tenantId, job.rolloutId, next);
  }

  /**
   * Moves up to a batch of pending instances to the rollout's version. Settings carry over (inputs
   * the version dropped are left out, new ones get their default); an instance the new version
   * would not accept as is (a new required input without default, a connector it lacks) stays on
   * its version as `needs_settings` — or, when the rollout says `pause`, moves switched off with a
   * note saying what to complete (`paused`); one moved meanwhile by someone else is `skipped`.
   */
  private async forward(
    manager: EntityManager,
    tenantId: TenantId,
    r: { id: string; key: string; version_id: string; version: number; definition: VersionDoc; trigger_event: string | null; when_settings_missing: WhenSettingsMissing },
  ): Promise<number> {
    const sql = tenantSql(manager);
    const rows: Array<{
      instance_id: string;
      previous_version_id: string;
      version_id: string;
      previous_version: number;
      same_trigger: boolean;
      settings: Record<string, unknown>;
      connections: Record<string, string>;
      enabled: boolean;
      end_user_id: string;
      current_version: number;
    }> = await sql.query(
      tenantId,
      `SELECT it.instance_id, it.previous_version_id, i.version_id, pv.version AS previous_version, (pv.definition->'trigger')::jsonb = $3::jsonb AS same_trigger,
              i.settings, i.connections, i.enabled, i.end_user_id, cv.version AS current_version
         FROM flow_rollout_items it
         JOIN flow_instances i ON i.id = it.instance_id AND i.tenant_id = it.tenant_id
         JOIN flow_template_versions pv ON pv.id = it.previous_version_id AND pv.tenant_id = it.tenant_id
         JOIN flow_template_versions cv ON cv.id = i.version_id AND cv.tenant_id = it.tenant_id
        WHERE it.tenant_id = $1 AND it.rollout_id = $2 AND it.status = 'pending'
        ORDER BY it.instance_id LIMIT ${ROLLOUT_BATCH}
        FOR UPDATE OF it, i`,
      [r.id, JSON.stringify(r.definition.trigger)],
    );
    const inputs = r.definition.inputs ?? {};
    const outcome: Array<{ id: string; status: RolloutItemStatus; error: string | null }> = [];
    const moved: Array<{ id: string; settings: Record<string, unknown>; from: number }> = [];
    const paused: Array<{ id: string; settings: Record<string, unknown>; from: number; note: InstanceNote }> = [];
    const lacking = (row: (typeof rows)[number], what: string) => {
      if (r.when_settings_missing === 'stay') return outcome.push({ id: row.instance_id, status: 'needs_settings', error: what });
      // Moved with what carries over, and off: triggers skip it until its end user completes and switches it on again.
      const carried = Object.fromEntries(Object.entries(row.settings).filter(([name]) => name in inputs));
      const message = `Version ${r.version} of this flow needs more from you: ${what}. Complete it and switch the flow back on.`;
      paused.push({
        id: row.instance_id,
        settings: carried,
        from: row.previous_version,
        note: { code: 'needs_settings', message, at: new Date().toISOString(), version: r.version },
      });
      return outcome.push({ id: row.instance_id, status: 'paused', error: what });
    };
    for (const row of rows) {
      if (row.version_id !== row.previous_version_id) {
        outcome.push({ id: row.instance_id, status: 'skipped', error: `moved to version ${row.current_version} since the rollout started` });
        continue;
      }
      const missing = r.definition.connectors.filter((binding) => !row.connections[binding]);
      if (missing.length) {
        lacking(row, `connect ${missing.map(bindingConnector).join(', ')} first`);
        continue;
      }
      let settings: Record<string, unknown>;
      try {
        settings = await resolveSettings(inputs, Object.fromEntries(Object.entries(row.settings).filter(([name]) => name in inputs)));
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        lacking(row, error.message);
        continue;
      }
      try {
        // The trigger's state follows the version: recomputed when it (or a setting it reads) changed.
        if (!row.same_trigger || (readsSettings(r.definition.trigger) && JSON.stringify(settings) !== JSON.stringify(row.settings))) {
          await this.triggers.sync(
            tenantId,
            { id: row.instance_id, endUserId: row.end_user_id, enabled: row.enabled, settings, connections: row.connections },
            r.definition.trigger,
            manager,
          );
        }
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        outcome.push({ id: row.instance_id, status: 'failed', error: error.message });
        continue;
      }
      moved.push({ id: row.instance_id, settings, from: row.previous_version });
      outcome.push({ id: row.instance_id, status: 'upgraded', error: null });
    }
    if (moved.length) {
      await sql.query(
        tenantId,
        `UPDATE flow_instances i SET version_id = $2, settings = x.settings, trigger_event = $3, note = NULL, updated_at = now()
           FROM unnest($4::uuid[], $5::jsonb[]) AS x(id, settings)
          WHERE i.tenant_id = $1 AND i.id = x.id`,
        [r.version_id, r.trigger_event, moved.map((m) => m.id), moved.map((m) => JSON.stringify(m.settings))],
      );
      await this.auditEach(manager, tenantId, 'flow.upgraded', moved, { flow: r.key, to: r.version, rollout: r.id });
    }
    if (paused.length) {
      // The trigger's state stays as it was: nothing fires for an instance that is off, and switching it on recomputes it.
      await sql.query(
        tenantId,
        `UPDATE flow_instances i SET version_id = $2, settings = x.settings, trigger_event = $3, enabled = false, note = x.note, updated_at = now()
           FROM unnest($4::uuid[], $5::jsonb[], $6::jsonb[]) AS x(id, settings, note)
          WHERE i.tenant_id = $1 AND i.id = x.id`,
        [r.version_id, r.trigger_event, paused.map((m) => m.id), paused.map((m) => JSON.stringify(m.settings)), paused.map((m) => JSON.stringify(m.note))],
      );
      await this.auditEach(manager, tenantId, 'flow.paused', paused, { flow: r.key, to: r.version, rollout: r.id });
    }
    await this.mark(manager, tenantId, r.id, outcome);
    return rows.length;
  }

  /**
   * Puts up to a batch of upgraded or paused instances back, on and off as they were; one changed
   * since (by its end user: moved, or a paused one completed and switched on) is left alone, `skipped`.
   */
  private async back(manager: EntityManager, tenantId: TenantId, r: { id: string; key: string; version_id: string; version: number; definition: VersionDoc }): Promise<number> {
    const sql = tenantSql(manager);
    const rows: Array<{
      instance_id: string;
      previous_version_id: string;
      previous_version: number;
      previous_settings: Record<string, unknown>;
      previous_trigger: VersionDoc['trigger'];
      same_trigger: boolean;
      previous_trigger_event: string | null;
      version_id: string;
      settings: Record<string, unknown>;
      connections: Record<string, string>;
      enabled: boolean;
      end_user_id: string;
      item_status: RolloutItemStatus;
      previous_enabled: boolean | null;
    }> = await sql.query(
      tenantId,
      `SELECT it.instance_id, it.previous_version_id, pv.version AS previous_version, it.previous_settings, pv.definition->'trigger' AS previous_trigger, (pv.definition->'trigger')::jsonb = $3::jsonb AS same_trigger,
              pv.trigger_event AS previous_trigger_event, i.version_id, i.settings, i.connections, i.enabled, i.end_user_id, it.status AS item_status, it.previous_enabled
         FROM flow_rollout_items it
         JOIN flow_instances i ON i.id = it.instance_id AND i.tenant_id = it.tenant_id
         JOIN flow_template_versions pv ON pv.id = it.previous_version_id AND pv.tenant_id = it.tenant_id
        WHERE it.tenant_id = $1 AND it.rollout_id = $2 AND it.status IN ('upgraded', 'paused')
        ORDER BY it.instance_id LIMIT ${ROLLOUT_BATCH}
        FOR UPDATE OF it, i`,
      [r.id, JSON.stringify(r.definition.trigger)],
    );
    const outcome: Array<{ id: string; status: RolloutItemStatus; error: string | null }> = [];
    const restored: Array<{ id: string; versionId: string; settings: Record<string, unknown>; enabled: boolean; triggerEvent: string | null; from: number }> = [];
    for (const row of rows) {
      const wasPaused = row.item_status === 'paused';
      if (row.version_id !== r.version_id || (wasPaused && row.enabled)) {
        outcome.push({ id: row.instance_id, status: 'skipped', error: 'changed since the rollout upgraded it; left as it is' });
        continue;
      }
      const enabled = wasPaused ? (row.previous_enabled ?? false) : row.enabled;
      // A paused instance's trigger state was left as it was; it is recomputed anyway, since the instance may be switched on again.
      if (wasPaused || !row.same_trigger || (readsSettings(row.previous_trigger) && JSON.stringify(row.previous_settings) !== JSON.stringify(row.settings))) {
        const instance = { id: row.instance_id, endUserId: row.end_user_id, enabled, settings: row.previous_settings, connections: row.connections };
        await this.triggers.sync(tenantId, instance, row.previous_trigger, manager);
      }
      restored.push({
        id: row.instance_id,
        versionId: row.previous_version_id,
        settings: row.previous_settings,
        enabled,
        triggerEvent: row.previous_trigger_event,
        from: row.previous_version,
      });
      outcome.push({ id: row.instance_id, status: 'rolled_back', error: null });
    }
    if (restored.length) {
      await sql.query(
        tenantId,
        `UPDATE flow_instances i SET version_id = x.version_id, settings = x.settings, enabled = x.enabled, trigger_event = x.trigger_event, note = NULL, updated_at = now()
           FROM unnest($2::uuid[], $3::uuid[], $4::jsonb[], $5::text[], $6::boolean[]) AS x(id, version_id, settings, trigger_event, enabled)
          WHERE i.tenant_id = $1 AND i.id = x.id`,
        [
          restored.map((m) => m.id),
          restored.map((m) => m.versionId),
          restored.map((m) => JSON.stringify(m.settings)),
          restored.map((m) => m.triggerEvent),
          restored.map((m) => m.enabled),
        ],
      );
      await this.auditEach(manager, tenantId, 'flow.rolled_back', restored, { flow: r.key, from: r.version, rollout: r.id });
    }
    await this.mark(manager, tenantId, r.id, outcome);
    return rows.length;
  }

  private async mark(
    manager: EntityManager,
    tenantId: TenantId,
    rolloutId: string,
    outcome: Array<{ id: string; status: RolloutItemStatus; error: string | null }>,
  ): Promise<void> {
    if (!outcome.length) return;
    await tenantSql(manager).query(
      tenantId,
      `UPDATE flow_rollout_items it SET status = x.status, error = x.error, updated_at = now()
         FROM unnest($3::uuid[], $4::text[], $5::text[]) AS x(id, status, error)
        WHERE it.tenant_id = $1 AND it.rollout_id = $2 AND it.instance_id = x.id`,
      [rolloutId, outcome.map((o) => o.id), outcome.map((o) => o.status), outcome.map((o) => o.error)],
    );
  }

  /** One audit event per instance, in one statement (`version` is the instance's version before the change). */
  private async auditEach(manager: EntityManager, tenantId: TenantId, action: string, changed: Array<{ id: string; from: number }>, data: Record<string, unknown>): Promise<void> {
    await tenantSql(manager).query(
      tenantId,
      `INSERT INTO audit_events (tenant_id, actor_type, actor_id, action, target_type, target_id, data)
       SELECT i.tenant_id, 'system', NULL, $2, 'flow_instance', i.id::text, $3::jsonb || jsonb_build_object('version', x.version)
         FROM unnest($4::uuid[], $5::int[]) AS x(id, version) JOIN flow_instances i ON i.id = x.id
        WHERE i.tenant_id = $1`,
      [action, JSON.stringify(data), changed.map((c) => c.id), changed.map((c) => c.from)],
    );
  }

  /**
   * Running (or rolling back) rollouts idle for longer than the run recovery grace and without a
   * live job (a worker died between its commit and the next enqueue, Redis lost the job): their
   * next batch's job is created again.
   */
  async recover(): Promise<number> {
    const rows: Array<{ id: string; tenant_id: string; batches: number }> = await acrossTenants(
      this.db,
      'a stalled rollout is a property of the row, whatever its tenant',
      `SELECT id, tenant_id, batches FROM flow_rollouts WHERE status IN ${ACTIVE} AND updated_at < now() - make_interval(secs => $1) LIMIT 1000`,
      [this.config.runRecoveryGraceSeconds],
    );
    let requeued = 0;
    for (const row of rows) if (await this.ensureJob(row.tenant_id, row.id, row.batches)) requeued++;
    if (requeued) this.logger.warn({ requeued }, 're-enqueued rollouts that had no live job');
    return requeued;
  }
}
