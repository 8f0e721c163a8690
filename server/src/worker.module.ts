import { DynamicModule, Module } from '@nestjs/common';
import { AlertsModule } from './alerts/alerts.module';
import { AlertsProcessor } from './alerts/alerts.processor';
import type { AppConfig } from './config/app-config';
import { CoreModule, CoreOptions } from './core.module';
import { MaintenanceModule } from './maintenance/maintenance.module';
import { MaintenanceProcessor } from './maintenance/maintenance.processor';
import { ConnectionsModule } from './connections/connections.module';
import { RefreshProcessor } from './connections/refresh.processor';
import { EngineWorkerModule } from './engine/engine-worker.module';
import { PollingModule } from './triggers/polling.module';
import { ScheduleModule } from './triggers/schedule.module';
import { WebhookDeliveryProcessor } from './webhooks/webhook-delivery.processor';
import { WebhooksModule } from './webhooks/webhooks.module';
import { RolloutsModule } from './flows/rollouts/rollouts.module';
import { RolloutProcessor } from './flows/rollouts/rollout.processor';

/** The queue-consuming process: the same modules as the API, plus the processors, minus HTTP. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig, options: CoreOptions = {}): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        CoreModule.forRoot(config, options),
        MaintenanceModule,
        ConnectionsModule,
        WebhooksModule,
        ScheduleModule,
        PollingModule,
        EngineWorkerModule,
        RolloutsModule,
        AlertsModule,
      ],
      providers: [MaintenanceProcessor, RefreshProcessor, WebhookDeliveryProcessor, RolloutProcessor, AlertsProcessor],
    };
  }
}
