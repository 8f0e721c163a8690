import { Module } from '@nestjs/common';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { ConnectorConfig } from './connector-config.entity';
import { ConnectorConfigsController } from './connector-configs.controller';
import { ConnectorConfigsService } from './connector-configs.service';

@Module({
  controllers: [ConnectorConfigsController],
  providers: [ConnectorConfigsService, provideTenantScoped(ConnectorConfig, 'Connector config')],
  exports: [ConnectorConfigsService],
})
export class ConnectorConfigsModule {}
