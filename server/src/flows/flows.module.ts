import { ConnectorConfigsModule } from '../connector-configs/connector-configs.module';
import { EnvironmentsModule } from '../tenants/environments.module';
import { Module } from '@nestjs/common';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { Connection } from '../connections/connection.entity';
import { ConnectionsModule } from '../connections/connections.module';
import { EndUsersModule } from '../end-users/end-users.module';
import { InstanceTriggersModule } from '../triggers/instance-triggers.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { EngineModule } from '../engine/engine.module';
import { FlowInstancesAdminController } from './flow-instances-admin.controller';
import { FlowInstancesService } from './flow-instances.service';
import { FlowInstance, FlowTemplate, FlowTemplateVersion } from './flow-template.entity';
import { FlowTemplatesService } from './flow-templates.service';
import { RolloutsController } from './rollouts/rollouts.controller';
import { RolloutsModule } from './rollouts/rollouts.module';
import { EndUserFlowsController, FlowSchemaController, FlowTemplatesController, MyFlowsController } from './flows.controller';

/** Flow templates, their versions and end users' instances of them (runs are EngineModule's). */
@Module({
  imports: [ConnectorConfigsModule, ConnectionsModule, EndUsersModule, InstanceTriggersModule, WebhooksModule, EngineModule, RolloutsModule, EnvironmentsModule],
  controllers: [FlowTemplatesController, FlowSchemaController, MyFlowsController, EndUserFlowsController, FlowInstancesAdminController, RolloutsController],
  providers: [
    FlowTemplatesService,
    FlowInstancesService,
    provideTenantScoped(FlowTemplate, 'Flow template'),
    provideTenantScoped(FlowTemplateVersion, 'Flow template version'),
    provideTenantScoped(FlowInstance, 'Flow'),
    provideTenantScoped(Connection, 'Connection'),
  ],
  // Modules that start runs (triggers, MCP) get the engine's RunsService through this module.
  exports: [EngineModule],
})
export class FlowsModule {}
