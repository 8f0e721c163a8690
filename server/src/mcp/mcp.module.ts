import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { FailedAttemptsModule } from '../auth/failed-attempt-throttle';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { Connection } from '../connections/connection.entity';
import { ConnectorConfigsModule } from '../connector-configs/connector-configs.module';
import { EndUsersModule } from '../end-users/end-users.module';
import { FlowsModule } from '../flows/flows.module';
import { SessionsModule } from '../sessions/sessions.module';
import { McpAdminController } from './mcp-admin.controller';
import { McpController } from './mcp.controller';
import { McpIdentityService } from './mcp-identity.service';
import { McpSettings } from './mcp-settings.entity';
import { McpSettingsService } from './mcp-settings.service';
import { McpToolsService } from './mcp-tools.service';

/** The MCP server (POST /mcp) over end users' connections, and the tenant's exposure settings. */
@Module({
  imports: [ApiKeysModule, FailedAttemptsModule, SessionsModule, EndUsersModule, ConnectorConfigsModule, FlowsModule],
  controllers: [McpController, McpAdminController],
  providers: [McpIdentityService, McpToolsService, McpSettingsService, provideTenantScoped(McpSettings, 'MCP settings'), provideTenantScoped(Connection, 'Connection')],
})
export class McpModule {}
