import { Module } from '@nestjs/common';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { ConnectionCacheModule } from '../connections/connection-cache';
import { ConnectorConfig } from './connector-config.entity';
import { ConnectorConfigsController } from './connector-configs.controller';
import { ConnectorConfigsService } from './connector-configs.service';
import { ConnectorRegistry } from './connector-registry.service';
import { CustomProvider } from '../custom-providers/custom-provider.entity';
import { OpenApiImport } from './openapi-import.entity';
import { OpenApiImportsController } from './openapi-imports.controller';
import { OpenApiImportsService } from './openapi-imports.service';

@Module({
  imports: [ConnectionCacheModule],
  controllers: [ConnectorConfigsController, OpenApiImportsController],
  providers: [
    ConnectorConfigsService,
    ConnectorRegistry,
    OpenApiImportsService,
    provideTenantScoped(ConnectorConfig, 'Connector config'),
    provideTenantScoped(OpenApiImport, 'OpenAPI document'),
    provideTenantScoped(CustomProvider, 'Custom provider'),
  ],
  exports: [ConnectorConfigsService, ConnectorRegistry],
})
export class ConnectorConfigsModule {}
