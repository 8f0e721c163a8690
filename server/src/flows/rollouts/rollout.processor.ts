import { Process, Processor } from '@nestjs/bull';
import type { Job } from 'bull';
import { QUEUES } from '../../queues/queues.module';
import { RECOVER_ROLLOUTS_JOB } from '../../maintenance/maintenance.scheduler';
import { ADVANCE_ROLLOUT_JOB, RolloutJob, RolloutsService } from './rollouts.service';

/** Rollout batches and the sweep that re-creates a lost batch job, in the worker. */
@Processor(QUEUES.maintenance)
export class RolloutProcessor {
  constructor(private readonly rollouts: RolloutsService) {}

  @Process(ADVANCE_ROLLOUT_JOB)
  advance(job: Job<RolloutJob>): Promise<void> {
    return this.rollouts.advance(job.data);
  }

  @Process(RECOVER_ROLLOUTS_JOB)
  recover(): Promise<number> {
    return this.rollouts.recover();
  }
}
