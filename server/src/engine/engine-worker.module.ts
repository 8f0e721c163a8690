import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module';
import { ConnectorConfigsModule } from '../connector-configs/connector-configs.module';
import { LlmProvidersModule } from '../llm-providers/llm-providers.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { ApprovalRequests } from './approval-requests';
import { EngineModule } from './engine.module';
import { RecoveryProcessor } from './recovery.processor';
import { RunExecution } from './run-execution';
import { RunStore } from './run-store';
import { RunProcessor } from './run.processor';

/** The engine in the worker: the runs queue's processor, run execution and its store, and the recovery sweep. */
@Module({
  imports: [EngineModule, ConnectionsModule, ConnectorConfigsModule, WebhooksModule, LlmProvidersModule],
  providers: [RunProcessor, RunExecution, RunStore, ApprovalRequests, RecoveryProcessor],
})
export class EngineWorkerModule {}
