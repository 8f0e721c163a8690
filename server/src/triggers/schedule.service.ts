import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { trustedTenantId } from '../common/tenancy/tenant-id';
import { acrossTenants, tenantSql } from '../common/tenancy/tenant-sql';
import { RunsService } from '../engine/runs.service';
import { bindingsHealthySql } from '../flows/binding-health';
import { dueFires } from './schedule';

const CLAIM_BATCH = 100;

interface DueRow {
  id: string;
  tenant_id: string;
  cron: string;
  timezone: string;
  next_fire_at: Date;
  healthy: boolean;
}

/**
 * Fires due schedules. Any number of workers may call `fireDue` at once: each transaction claims
 * due instances with `FOR UPDATE SKIP LOCKED`, inserts their runs, and advances `next_fire_at`
 * before it commits, and a run's idempotency key is its scheduled time (unique per instance), so
 * a fire can neither double nor be lost across workers, crashes and restarts.
 */
@Injectable()
export class ScheduleService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly runs: RunsService,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('ScheduleService');
  }

  /** Starts the runs due at `now` (the clock is a parameter so tests can move it); answers how many. */
  async fireDue(now = new Date()): Promise<number> {
    let started = 0;
    for (;;) {
      const { claimed, enqueue } = await this.db.transaction(async (manager) => {
        const due: DueRow[] = await acrossTenants(
          manager,
          'the scheduler claims due schedules of every tenant; being due is a property of the row',
          `SELECT t.id, t.tenant_id, t.cron, t.timezone, t.next_fire_at, ${bindingsHealthySql('i')} AS healthy
             FROM flow_instance_triggers t JOIN flow_instances i ON i.id = t.id AND i.enabled
            WHERE t.next_fire_at <= $1
            ORDER BY t.next_fire_at
            LIMIT ${CLAIM_BATCH}
            FOR UPDATE OF t SKIP LOCKED`,
          [now],
        );
        const enqueue: Array<() => Promise<void>> = [];
        for (const row of due) {
          const tenantId = trustedTenantId(row.tenant_id);
          let plan: ReturnType<typeof dueFires>;
          try {
            plan = dueFires({ cron: row.cron, timezone: row.timezone }, row.next_fire_at, now);
          } catch (error) {
            // Validated when stored, so this is not expected; park the schedule rather than retry it forever.
            this.logger.error({ err: error, instanceId: row.id, tenantId }, 'schedule cannot be computed; stopped until the flow is changed or re-enabled');
            await tenantSql(manager).query(tenantId, `UPDATE flow_instance_triggers SET next_fire_at = NULL, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [row.id]);
            continue;
          }
          if (!row.healthy && plan.fires.length) {
            // Paused (a connection it uses is gone or unusable): these fires are skipped, not kept for
            // later, so reconnecting does not replay a burst of stale runs.
            this.logger.warn({ instanceId: row.id, tenantId, skippedFires: plan.fires.length }, 'schedule fires skipped: the flow is paused until its connection is reconnected');
          }
          for (const at of row.healthy ? plan.fires : []) {
            const scheduledAt = at.toISOString();
            const { created, enqueue: enqueueRun } = await this.runs.startInstanceRun(
              { tenantId, instanceId: row.id, triggerType: 'schedule', trigger: { scheduledAt, firedAt: now.toISOString() }, idempotencyKey: `schedule:${scheduledAt}` },
              manager,
            );
            if (created) enqueue.push(enqueueRun);
          }
          await tenantSql(manager).query(tenantId, `UPDATE flow_instance_triggers SET next_fire_at = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [row.id, plan.next]);
          if (plan.skipped) {
            this.logger.warn(
              { instanceId: row.id, tenantId, dueSince: row.next_fire_at.toISOString(), caughtUp: plan.fires.length },
              'skipped missed schedule fires beyond the catch-up policy',
            );
          }
        }
        return { claimed: due.length, enqueue };
      });
      // After commit, so a worker never picks up a run it cannot read yet.
      for (const run of enqueue) await run();
      started += enqueue.length;
      if (claimed < CLAIM_BATCH) return started;
    }
  }
}
