import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module';
import { ConnectorConfigsModule } from '../connector-configs/connector-configs.module';
import { FlowsModule } from '../flows/flows.module';
import { InstanceTriggersModule } from './instance-triggers.module';
import { TriggersLoop } from './triggers.loop';
import { PollService } from './poll.service';

/** The worker side of poll triggers and provider webhook subscriptions. */
@Module({
  imports: [FlowsModule, ConnectionsModule, ConnectorConfigsModule, InstanceTriggersModule],
  providers: [PollService, TriggersLoop],
  exports: [PollService],
})
export class PollingModule {}
