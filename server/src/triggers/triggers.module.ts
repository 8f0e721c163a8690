import { Module } from '@nestjs/common';
import { FailedAttemptsModule } from '../auth/failed-attempt-throttle';
import { FlowsModule } from '../flows/flows.module';
import { HooksController } from './hooks.controller';
import { InstanceTriggersModule } from './instance-triggers.module';
import { WebhookTriggerService } from './webhook-trigger.service';

/** The API side of schedule and webhook triggers: the webhook URLs. */
@Module({
  imports: [FlowsModule, InstanceTriggersModule, FailedAttemptsModule],
  controllers: [HooksController],
  providers: [WebhookTriggerService],
})
export class TriggersModule {}
