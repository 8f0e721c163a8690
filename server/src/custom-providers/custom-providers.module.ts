import { Module } from '@nestjs/common';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { ConnectionCacheModule } from '../connections/connection-cache';
import { Connection } from '../connections/connection.entity';
import { ConnectorConfig } from '../connector-configs/connector-config.entity';
import { OpenApiImport } from '../connector-configs/openapi-import.entity';
import { CustomProvider } from './custom-provider.entity';
import { CustomProvidersController } from './custom-providers.controller';
import { CustomProvidersService } from './custom-providers.service';

/** The admin API of custom providers. The ConnectorRegistry reads the table itself (it is needed by the worker too). */
@Module({
  imports: [ConnectionCacheModule],
  controllers: [CustomProvidersController],
  providers: [
    CustomProvidersService,
    provideTenantScoped(CustomProvider, 'Custom provider'),
    provideTenantScoped(Connection, 'Connection'),
    provideTenantScoped(ConnectorConfig, 'Connector config'),
    provideTenantScoped(OpenApiImport, 'OpenAPI document'),
  ],
})
export class CustomProvidersModule {}
