import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bull';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { QUEUES } from '../queues/queues.module';
import { RepeatingJobs } from '../queues/repeating-jobs';

export const PURGE_EXPIRED_JOB = 'purge-expired';
export const REFRESH_EXPIRING_JOB = 'refresh-expiring';
export const RECOVER_RUNS_JOB = 'recover-runs';
export const RECOVER_ROLLOUTS_JOB = 'recover-rollouts';
const REFRESH_EVERY_MS = 60_000;

/** Registers the repeating maintenance jobs (API and worker both do; see RepeatingJobs, which keeps them registered). */
@Injectable()
export class MaintenanceScheduler implements OnApplicationBootstrap {
  constructor(
    @InjectQueue(QUEUES.maintenance) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repeating: RepeatingJobs,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const schedule: Record<string, number> = {
      [PURGE_EXPIRED_JOB]: this.config.maintenanceIntervalSeconds * 1000,
      [REFRESH_EXPIRING_JOB]: Math.min(REFRESH_EVERY_MS, this.config.maintenanceIntervalSeconds * 1000),
      [RECOVER_RUNS_JOB]: Math.min(30_000, this.config.maintenanceIntervalSeconds * 1000),
      [RECOVER_ROLLOUTS_JOB]: Math.min(30_000, this.config.maintenanceIntervalSeconds * 1000),
    };
    await this.repeating.register(this.queue, schedule, { removeOnComplete: 100, removeOnFail: 100 });
  }
}
