import { InjectQueue, Process, Processor } from '@nestjs/bull';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { RECOVER_RUNS_JOB } from '../maintenance/maintenance.scheduler';
import { QUEUES } from '../queues/queues.module';
import { RunJob, runJobOptions } from './run-jobs';

/**
 * Runs accepted but never queued (a crash between commit and enqueue), or whose job was lost, are
 * enqueued again; the job id is the run id, so nothing doubles.
 */
@Processor(QUEUES.maintenance)
export class RecoveryProcessor {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectQueue(QUEUES.runs) private readonly runs: Queue<RunJob>,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('RecoveryProcessor');
  }

  /**
   * Approvals whose job was lost: decided while the run still waits on them (a crash between the
   * decision's commit and its enqueue), or past their timeout and still pending. The job ids are
   * the ones the API and the worker use, so a job still there is not doubled.
   */
  private async recoverApprovals(): Promise<number> {
    const rows: Array<{ run_id: string; tenant_id: string; id: string; expired: boolean }> = await this.db.query(
      `SELECT a.run_id, a.tenant_id, a.id, a.status = 'pending' AS expired
         FROM approvals a JOIN runs r ON r.id = a.run_id AND r.attempt = a.run_attempt
        WHERE r.status = 'waiting'
          AND ((a.status <> 'pending' AND a.decided_at < now() - interval '10 seconds'
                AND r.steps @> jsonb_build_array(jsonb_build_object('path', a.step_path, 'status', 'waiting')))
            OR (a.status = 'pending' AND a.expires_at < now() - interval '10 seconds'))
        LIMIT 1000`,
    );
    for (const row of rows) {
      await this.runs.add(
        row.expired ? { runId: row.run_id, tenantId: row.tenant_id, expireApproval: row.id } : { runId: row.run_id, tenantId: row.tenant_id },
        runJobOptions(row.expired ? `approval:${row.id}:timeout` : `${row.run_id}:approval:${row.id}`),
      );
    }
    return rows.length;
  }

  @Process(RECOVER_RUNS_JOB)
  async recover(): Promise<number> {
    // Across tenants by design: a stuck run is a property of the row.
    // Queued runs never enqueued, and running ones whose job is gone (removed or failed).
    const rows: Array<{ id: string; tenant_id: string }> = await this.db.query(
      `SELECT id, tenant_id FROM runs WHERE status IN ('queued', 'running') AND created_at < now() - interval '10 seconds' ORDER BY created_at LIMIT 1000`,
    );
    let requeued = 0;
    for (const { id, tenant_id: tenantId } of rows) {
      const job = await this.runs.getJob(id);
      if (job && !(await job.isCompleted()) && !(await job.isFailed())) continue;
      if (job) await job.remove();
      await this.runs.add({ runId: id, tenantId }, runJobOptions(id));
      requeued++;
    }
    requeued += await this.recoverApprovals();
    if (requeued) this.logger.warn({ requeued }, 're-enqueued runs that were never picked up');
    return requeued;
  }
}
