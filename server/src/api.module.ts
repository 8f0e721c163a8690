import { DynamicModule, Module, Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AlertsModule } from './alerts/alerts.module';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { AuthGuard } from './auth/auth.guard';
import { AuthModule } from './auth/auth.module';
import { ErrorEnvelopeFilter } from './common/errors/error-envelope.filter';
import type { AppConfig } from './config/app-config';
import { CoreModule, CoreOptions } from './core.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { EmbedModule } from './embed/embed.module';
import { EndUsersModule } from './end-users/end-users.module';
import { EngineModule } from './engine/engine.module';
import { HealthModule } from './health/health.module';
import { MaintenanceModule } from './maintenance/maintenance.module';
import { McpModule } from './mcp/mcp.module';
import { MembersModule } from './members/members.module';
import { MetricsModule } from './metrics/metrics.module';
import { PortalModule } from './portal/portal.module';
import { SessionsModule } from './sessions/sessions.module';
import { ConnectionsModule } from './connections/connections.module';
import { ConnectorConfigsModule } from './connector-configs/connector-configs.module';
import { CustomProvidersModule } from './custom-providers/custom-providers.module';
import { FlowsModule } from './flows/flows.module';
import { LlmProvidersModule } from './llm-providers/llm-providers.module';
import { TenantsModule } from './tenants/tenants.module';
import { TriggersModule } from './triggers/triggers.module';
import { WebhooksModule } from './webhooks/webhooks.module';

export interface ApiOptions extends CoreOptions {
  /** Extra controllers, for tests that need a route misbehaving on purpose. */
  extraControllers?: Type[];
}

/** The HTTP API process. */
@Module({})
export class ApiModule {
  static forRoot(config: AppConfig, options: ApiOptions = {}): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        CoreModule.forRoot(config, options),
        HealthModule,
        MetricsModule,
        AuthModule,
        TenantsModule,
        MembersModule,
        ApiKeysModule,
        EndUsersModule,
        SessionsModule,
        ConnectorConfigsModule,
        CustomProvidersModule,
        LlmProvidersModule,
        ConnectionsModule,
        FlowsModule,
        TriggersModule,
        EngineModule,
        WebhooksModule,
        MaintenanceModule,
        PortalModule,
        EmbedModule,
        DashboardModule,
        McpModule,
        AlertsModule,
      ],
      controllers: options.extraControllers ?? [],
      providers: [
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ErrorEnvelopeFilter },
      ],
    };
  }
}
