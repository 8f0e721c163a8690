import { Module } from '@nestjs/common';
import { FlowsModule } from '../flows/flows.module';
import { HooksController } from './hooks.controller';
import { InstanceTriggersModule } from './instance-triggers.module';
import { WebhookTriggerService } from './webhook-trigger.service';

/** The API side of schedule and webhook triggers: the webhook URLs. */
@Module({
  imports: [FlowsModule, InstanceTriggersModule],
  controllers: [HooksController],
  providers: [WebhookTriggerService],
})
export class TriggersModule {}
