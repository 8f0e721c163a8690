import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bull';
import { PinoLogger } from 'nestjs-pino';
import { QUEUES } from '../queues/queues.module';
import { RepeatingJobs } from '../queues/repeating-jobs';
import { InstanceTriggersService } from './instance-triggers.service';

export const FIRE_SCHEDULES_JOB = 'fire-schedules';
/** How often due schedules are looked for: fires start at most this late. */
export const SCHEDULE_TICK_MS = 1000;

/**
 * Registers the scheduler's tick: a Bull repeatable job, so exactly one worker handles each tick
 * however many run, and a tick missed while every worker was down is simply the next one (the
 * catch-up policy decides what fires then). RepeatingJobs keeps it registered, even across a Redis
 * that lost it. Also
 * gives trigger state to instances enabled before it existed.
 */
@Injectable()
export class ScheduleTicker implements OnApplicationBootstrap {
  constructor(
    @InjectQueue(QUEUES.maintenance) private readonly queue: Queue,
    private readonly triggers: InstanceTriggersService,
    private readonly logger: PinoLogger,
    private readonly repeating: RepeatingJobs,
  ) {
    logger.setContext('ScheduleTicker');
  }

  async onApplicationBootstrap(): Promise<void> {
    const { repaired, failed } = await this.triggers.repairMissing();
    if (repaired || failed.length) this.logger.warn({ repaired, failed }, 'gave trigger state to flow instances that had none');
    await this.repeating.register(this.queue, { [FIRE_SCHEDULES_JOB]: SCHEDULE_TICK_MS }, { removeOnComplete: true, removeOnFail: 100 });
  }
}
