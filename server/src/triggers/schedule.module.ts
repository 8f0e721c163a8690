import { Module } from '@nestjs/common';
import { FlowsModule } from '../flows/flows.module';
import { InstanceTriggersModule } from './instance-triggers.module';
import { ScheduleProcessor } from './schedule.processor';
import { ScheduleService } from './schedule.service';
import { ScheduleTicker } from './schedule.ticker';

/** The worker side of schedule triggers: the tick and the firing. */
@Module({
  imports: [FlowsModule, InstanceTriggersModule],
  providers: [ScheduleService, ScheduleProcessor, ScheduleTicker],
  exports: [ScheduleService],
})
export class ScheduleModule {}
