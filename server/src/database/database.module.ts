import { Module } from '@nestjs/common';
import { PROCESS_ID } from '../process-identity';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKey } from '../api-keys/api-key.entity';
import { AuditEvent } from '../audit/audit-event.entity';
import { MemberSession } from '../auth/member-session.entity';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { EndUser } from '../end-users/end-user.entity';
import { Membership } from '../members/membership.entity';
import { User } from '../members/user.entity';
import { EndUserSession } from '../sessions/end-user-session.entity';
import { HostSigningKey } from '../sessions/host-signing-key.entity';
import { Tenant } from '../tenants/tenant.entity';
import { ConnectorConfig } from '../connector-configs/connector-config.entity';
import { OpenApiImport } from '../connector-configs/openapi-import.entity';
import { Connection } from '../connections/connection.entity';
import { OAuthState } from '../connections/oauth-state.entity';
import { FlowInstance, FlowTemplate, FlowTemplateVersion } from '../flows/flow-template.entity';
import { Run } from '../engine/run.entity';
import { Approval } from '../engine/approval.entity';
import { InstanceTrigger } from '../triggers/instance-trigger.entity';
import { WebhookDelivery, WebhookEndpoint, WebhookEvent } from '../webhooks/webhook.entities';
import { McpSettings } from '../mcp/mcp-settings.entity';
import { CustomProvider } from '../custom-providers/custom-provider.entity';
import { LlmProvider } from '../llm-providers/llm-provider.entity';
import { AlertIncident, AlertRule } from '../alerts/alert.entities';

export const ENTITIES = [
  Tenant,
  User,
  Membership,
  MemberSession,
  ApiKey,
  EndUser,
  AuditEvent,
  EndUserSession,
  HostSigningKey,
  ConnectorConfig,
  OpenApiImport,
  Connection,
  OAuthState,
  FlowTemplate,
  FlowTemplateVersion,
  FlowInstance,
  Run,
  Approval,
  WebhookEndpoint,
  WebhookEvent,
  WebhookDelivery,
  InstanceTrigger,
  CustomProvider,
  LlmProvider,
  McpSettings,
  AlertRule,
  AlertIncident,
];

export const DATABASE_CONNECT_TIMEOUT_MS = 3000;

/** The schema belongs to migrations/; the app never synchronizes or migrates on its own. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        type: 'postgres' as const,
        url: config.database.url,
        entities: ENTITIES,
        synchronize: false,
        migrationsRun: false,
        // application_name names the process (PostgreSQL sees whether it is alive); idle connections
        // are kept so a live process always shows. A connection attempt gives up after a few seconds, so a request during an outage answers 503
        // quickly instead of hanging; keep-alive notices a peer that vanished without closing.
        extra: {
          max: config.database.poolSize,
          application_name: PROCESS_ID,
          idleTimeoutMillis: 0,
          connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS,
          keepAlive: true,
          keepAliveInitialDelayMillis: 10_000,
          // The hot statements are named prepared statements (tenantSql().prepared): planned once per
          // connection instead of at every execution. Left to itself PostgreSQL kept re-planning them
          // (custom plans looked cheaper), and planning cost more than executing: the sync trigger's
          // statement 8 ms per bind at rest. Unnamed statements (TypeORM's) are unaffected.
          options: '-c plan_cache_mode=force_generic_plan',
        },
      }),
    }),
  ],
})
export class DatabaseModule {}
