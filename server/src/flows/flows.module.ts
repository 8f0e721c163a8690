import { ConnectorConfigsModule } from '../connector-configs/connector-configs.module';
import { Module } from '@nestjs/common';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { Connection } from '../connections/connection.entity';
import { ConnectionsModule } from '../connections/connections.module';
import { EndUsersModule } from '../end-users/end-users.module';
import { InstanceTriggersModule } from '../triggers/instance-triggers.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { Run } from '../engine/run.entity';
import { RunWaiter } from '../engine/run-waiter.service';
import { RunsController, TriggersController } from '../engine/runs.controller';
import { RunsService } from '../engine/runs.service';
import { FlowInstancesAdminController } from './flow-instances-admin.controller';
import { FlowInstancesService } from './flow-instances.service';
import { FlowInstance, FlowTemplate, FlowTemplateVersion } from './flow-template.entity';
import { FlowTemplatesService } from './flow-templates.service';
import { EndUserFlowsController, FlowSchemaController, FlowTemplatesController, MyFlowsController } from './flows.controller';

/** Templates, instances, triggers and runs: the API side of the engine (the worker runs them). */
@Module({
  imports: [ConnectorConfigsModule, ConnectionsModule, EndUsersModule, InstanceTriggersModule, WebhooksModule],
  controllers: [FlowTemplatesController, FlowSchemaController, MyFlowsController, EndUserFlowsController, TriggersController, RunsController, FlowInstancesAdminController],
  providers: [
    FlowTemplatesService,
    FlowInstancesService,
    RunsService,
    RunWaiter,
    provideTenantScoped(FlowTemplate, 'Flow template'),
    provideTenantScoped(FlowTemplateVersion, 'Flow template version'),
    provideTenantScoped(FlowInstance, 'Flow'),
    provideTenantScoped(Run, 'Run'),
    provideTenantScoped(Connection, 'Connection'),
  ],
  exports: [RunsService],
})
export class FlowsModule {}
