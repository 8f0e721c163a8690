import { InjectQueue, Process, Processor } from '@nestjs/bull';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { RECOVER_RUNS_JOB } from '../maintenance/maintenance.scheduler';
import { QUEUES } from '../queues/queues.module';
import type { RunJob } from './run.processor';

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

  @Process(RECOVER_RUNS_JOB)
  async recover(): Promise<number> {
    // Across tenants by design: a stuck run is a property of the row.
    // Queued runs never enqueued, and running ones whose job is gone (removed or failed).
    const rows: Array<{ id: string }> = await this.db.query(
      `SELECT id FROM runs WHERE status IN ('queued', 'running') AND created_at < now() - interval '10 seconds' ORDER BY created_at LIMIT 1000`,
    );
    let requeued = 0;
    for (const { id } of rows) {
      const job = await this.runs.getJob(id);
      if (job && !(await job.isCompleted()) && !(await job.isFailed())) continue;
      if (job) await job.remove();
      await this.runs.add({ runId: id }, { jobId: id, removeOnComplete: true, removeOnFail: 1000 });
      requeued++;
    }
    if (requeued) this.logger.warn({ requeued }, 're-enqueued runs that were never picked up');
    return requeued;
  }
}
