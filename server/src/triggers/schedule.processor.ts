import { Process, Processor } from '@nestjs/bull';
import { QUEUES } from '../queues/queues.module';
import { ScheduleService } from './schedule.service';
import { FIRE_SCHEDULES_JOB } from './schedule.ticker';

/** The scheduler's tick, in the worker: whichever worker takes the repeatable job fires what is due. */
@Processor(QUEUES.maintenance)
export class ScheduleProcessor {
  constructor(private readonly schedules: ScheduleService) {}

  @Process(FIRE_SCHEDULES_JOB)
  fire(): Promise<number> {
    return this.schedules.fireDue();
  }
}
