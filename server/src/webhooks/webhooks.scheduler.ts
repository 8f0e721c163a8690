import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bull';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { QUEUES } from '../queues/queues.module';

export const RECOVER_DELIVERIES_JOB = 'recover-deliveries';
export const PRUNE_WEBHOOKS_JOB = 'prune-webhooks';

/** Registers the webhook queue's repeatable jobs (idempotent; both processes call it at boot, like the maintenance scheduler). */
@Injectable()
export class WebhooksScheduler implements OnApplicationBootstrap {
  constructor(
    @InjectQueue(QUEUES.webhooks) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const schedule: Record<string, number> = {
      [RECOVER_DELIVERIES_JOB]: Math.min(30_000, this.config.maintenanceIntervalSeconds * 1000),
      [PRUNE_WEBHOOKS_JOB]: this.config.maintenanceIntervalSeconds * 1000,
    };
    for (const job of await this.queue.getRepeatableJobs()) {
      if (job.name in schedule && Number(job.every) !== schedule[job.name]) await this.queue.removeRepeatableByKey(job.key);
    }
    for (const [name, every] of Object.entries(schedule)) {
      await this.queue.add(name, {}, { repeat: { every }, removeOnComplete: 100, removeOnFail: 100 });
    }
  }
}
