import { Module } from '@nestjs/common';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { ConnectorConfig } from './connector-config.entity';
import { ConnectorConfigsController } from './connector-configs.controller';
import { ConnectorConfigsService } from './connector-configs.service';
import { ConnectorRegistry } from './connector-registry.service';
import { CustomProvider } from '../custom-providers/custom-provider.entity';

@Module({
  controllers: [ConnectorConfigsController],
  providers: [ConnectorConfigsService, ConnectorRegistry, provideTenantScoped(ConnectorConfig, 'Connector config'), provideTenantScoped(CustomProvider, 'Custom provider')],
  exports: [ConnectorConfigsService, ConnectorRegistry],
})
export class ConnectorConfigsModule {}
