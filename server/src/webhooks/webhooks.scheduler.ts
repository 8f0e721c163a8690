import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bull';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { QUEUES } from '../queues/queues.module';
import { RepeatingJobs } from '../queues/repeating-jobs';

export const RECOVER_DELIVERIES_JOB = 'recover-deliveries';
export const PRUNE_WEBHOOKS_JOB = 'prune-webhooks';

/** Registers the webhook queue's repeatable jobs (both processes do; RepeatingJobs keeps them registered). */
@Injectable()
export class WebhooksScheduler implements OnApplicationBootstrap {
  constructor(
    @InjectQueue(QUEUES.webhooks) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repeating: RepeatingJobs,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const schedule: Record<string, number> = {
      [RECOVER_DELIVERIES_JOB]: Math.min(30_000, this.config.maintenanceIntervalSeconds * 1000),
      [PRUNE_WEBHOOKS_JOB]: this.config.maintenanceIntervalSeconds * 1000,
    };
    await this.repeating.register(this.queue, schedule, { removeOnComplete: 100, removeOnFail: 100 });
  }
}
