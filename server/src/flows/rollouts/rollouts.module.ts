import { Module } from '@nestjs/common';
import { InstanceTriggersModule } from '../../triggers/instance-triggers.module';
import { RolloutsService } from './rollouts.service';

/** Version rollouts: the API's controller lives in FlowsModule, the worker's processor in WorkerModule. */
@Module({
  imports: [InstanceTriggersModule],
  providers: [RolloutsService],
  exports: [RolloutsService],
})
export class RolloutsModule {}
