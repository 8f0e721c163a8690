import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module';
import { ConnectorConfigsModule } from '../connector-configs/connector-configs.module';
import { FailedAttemptsModule } from '../auth/failed-attempt-throttle';
import { FlowsModule } from '../flows/flows.module';
import { HooksController } from './hooks.controller';
import { InstanceTriggersModule } from './instance-triggers.module';
import { ProviderEventsService } from './provider-events.service';
import { WebhookTriggerService } from './webhook-trigger.service';

/** The API side of webhook triggers: the instances' webhook URLs and the apps' provider webhook URLs. */
@Module({
  imports: [FlowsModule, InstanceTriggersModule, FailedAttemptsModule, ConnectionsModule, ConnectorConfigsModule],
  controllers: [HooksController],
  providers: [WebhookTriggerService, ProviderEventsService],
})
export class TriggersModule {}
