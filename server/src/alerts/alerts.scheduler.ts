import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bull';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { QUEUES } from '../queues/queues.module';
import { RepeatingJobs } from '../queues/repeating-jobs';

export const EVALUATE_ALERTS_JOB = 'evaluate-alerts';

/** Registers the alert evaluation every ALERTS_INTERVAL_SECONDS (both processes do; RepeatingJobs keeps it registered). */
@Injectable()
export class AlertsScheduler implements OnApplicationBootstrap {
  constructor(
    @InjectQueue(QUEUES.alerts) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repeating: RepeatingJobs,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.repeating.register(this.queue, { [EVALUATE_ALERTS_JOB]: this.config.alerts.intervalSeconds * 1000 }, { removeOnComplete: 100, removeOnFail: 100 });
  }
}
