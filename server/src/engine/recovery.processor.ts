import { InjectQueue, Process, Processor } from '@nestjs/bull';
import { Inject } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import type { Queue } from 'bull';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { RECOVER_RUNS_JOB } from '../maintenance/maintenance.scheduler';
import { liveOrClear } from '../queues/live-jobs';
import { QUEUES } from '../queues/queues.module';
import { RunJob, runJobIds, runJobOptions } from './run-jobs';
import { acrossTenants } from '../common/tenancy/tenant-sql';

/**
 * Recovery decides from PostgreSQL, never from what Redis happens to hold: a run that has been
 * queued or running for longer than RUN_RECOVERY_GRACE_SECONDS, or waiting on a delay that is over or a
 * decided (or timed-out) approval, and that has no live job, gets its job created again (a broken
 * job left under its id is cleared first). Job ids are stable, so a job that is still live is never
 * doubled; and the per-run lease (RunLimiter) keeps a second job of the same run from executing it
 * at the same time.
 */
@Processor(QUEUES.maintenance)
export class RecoveryProcessor {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectQueue(QUEUES.runs) private readonly runs: Queue<RunJob>,
    private readonly logger: PinoLogger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    logger.setContext('RecoveryProcessor');
  }

  /** Creates job `jobId` unless a live one exists; answers whether it did. */
  private async ensureJob(jobId: string, job: RunJob, delay?: number): Promise<boolean> {
    if (await liveOrClear(this.runs, jobId)) return false;
    await this.runs.add(job, runJobOptions(jobId, delay));
    return true;
  }

  /** Queued or running runs without a live job (never enqueued, job lost, failed or broken). */
  private async recoverStarted(): Promise<number> {
    const rows: Array<{ id: string; tenant_id: string; attempt: number }> = await acrossTenants(
      this.db,
      'a stuck run is a property of the row, whatever its tenant',
      `SELECT id, tenant_id, attempt FROM runs WHERE status IN ('queued', 'running') AND created_at < now() - make_interval(secs => $1) ORDER BY created_at LIMIT 1000`,
      [this.config.runRecoveryGraceSeconds],
    );
    let requeued = 0;
    for (const { id, tenant_id: tenantId, attempt } of rows) {
      // A retried run's job has an id of its own (the first attempt's may be kept as failed).
      if (await this.ensureJob(attempt > 1 ? runJobIds.retry(id, attempt) : runJobIds.start(id), { runId: id, tenantId })) requeued++;
    }
    return requeued;
  }

  /** Runs parked on a delay that is over, whose wake-up job was lost. */
  private async recoverDelays(): Promise<number> {
    const rows: Array<{ id: string; tenant_id: string; until: string }> = await acrossTenants(
      this.db,
      "a parked run's lost wake-up is a property of the row, whatever its tenant",
      `SELECT r.id, r.tenant_id, s->'output'->>'until' AS until
         FROM runs r CROSS JOIN LATERAL jsonb_array_elements(r.steps) s
        WHERE r.status = 'waiting' AND s->>'status' = 'waiting' AND jsonb_typeof(s->'output'->'until') = 'number'
          AND (s->'output'->>'until')::bigint < (extract(epoch FROM now()) * 1000)::bigint - $1 * 1000
        LIMIT 1000`,
      [this.config.runRecoveryGraceSeconds],
    );
    let requeued = 0;
    for (const row of rows) {
      if (await this.ensureJob(runJobIds.wake(row.id, Number(row.until)), { runId: row.id, tenantId: row.tenant_id })) requeued++;
    }
    return requeued;
  }

  /**
   * Approvals whose job was lost: decided while the run still waits on them (a crash between the
   * decision's commit and its enqueue), or past their timeout and still pending. The job ids are
   * the ones the API and the worker use, so a job still there is not doubled.
   */
  private async recoverApprovals(): Promise<number> {
    const rows: Array<{ run_id: string; tenant_id: string; id: string; expired: boolean }> = await acrossTenants(
      this.db,
      "an approval's lost job is a property of the row, whatever its tenant",
      `SELECT a.run_id, a.tenant_id, a.id, a.status = 'pending' AS expired
         FROM approvals a JOIN runs r ON r.id = a.run_id AND r.attempt = a.run_attempt
        WHERE r.status = 'waiting'
          AND ((a.status <> 'pending' AND a.decided_at < now() - make_interval(secs => $1)
                AND r.steps @> jsonb_build_array(jsonb_build_object('path', a.step_path, 'status', 'waiting')))
            OR (a.status = 'pending' AND a.expires_at < now() - make_interval(secs => $1)))
        LIMIT 1000`,
      [this.config.runRecoveryGraceSeconds],
    );
    let requeued = 0;
    for (const row of rows) {
      const jobId = row.expired ? runJobIds.approvalTimeout(row.id) : runJobIds.decided(row.run_id, row.id);
      const job = row.expired ? { runId: row.run_id, tenantId: row.tenant_id, expireApproval: row.id } : { runId: row.run_id, tenantId: row.tenant_id };
      if (await this.ensureJob(jobId, job)) requeued++;
    }
    return requeued;
  }

  @Process(RECOVER_RUNS_JOB)
  async recover(): Promise<number> {
    // Across tenants by design: a stuck run is a property of the row.
    const requeued = { started: await this.recoverStarted(), delays: await this.recoverDelays(), approvals: await this.recoverApprovals() };
    const total = requeued.started + requeued.delays + requeued.approvals;
    if (total) this.logger.warn(requeued, 're-enqueued runs that had no live job');
    return total;
  }
}
