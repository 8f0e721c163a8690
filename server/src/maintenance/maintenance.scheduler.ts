import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bull';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { QUEUES } from '../queues/queues.module';

export const PURGE_EXPIRED_JOB = 'purge-expired';
export const REFRESH_EXPIRING_JOB = 'refresh-expiring';
export const RECOVER_RUNS_JOB = 'recover-runs';
const REFRESH_EVERY_MS = 60_000;

/**
 * Registers the repeatable maintenance jobs. Both API and worker call this at boot: Bull keys a
 * repeatable job by name and interval, so registering twice is a no-op, and an interval changed
 * in configuration replaces the old schedule.
 */
@Injectable()
export class MaintenanceScheduler implements OnApplicationBootstrap {
  constructor(
    @InjectQueue(QUEUES.maintenance) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const schedule: Record<string, number> = {
      [PURGE_EXPIRED_JOB]: this.config.maintenanceIntervalSeconds * 1000,
      [REFRESH_EXPIRING_JOB]: Math.min(REFRESH_EVERY_MS, this.config.maintenanceIntervalSeconds * 1000),
      [RECOVER_RUNS_JOB]: Math.min(30_000, this.config.maintenanceIntervalSeconds * 1000),
    };
    for (const job of await this.queue.getRepeatableJobs()) {
      if (job.name in schedule && Number(job.every) !== schedule[job.name]) await this.queue.removeRepeatableByKey(job.key);
    }
    for (const [name, every] of Object.entries(schedule)) {
      await this.queue.add(name, {}, { repeat: { every }, removeOnComplete: 100, removeOnFail: 100 });
    }
  }
}
