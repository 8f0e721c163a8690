import { Module } from '@nestjs/common';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { ConnectionCacheModule } from '../connections/connection-cache';
import { Connection } from '../connections/connection.entity';
import { FlowInstance } from '../flows/flow-template.entity';
import { EndUser } from './end-user.entity';
import { ConnectionsAdminController, EndUsersAdminController } from './end-users-admin.controller';
import { EndUsersAdminService } from './end-users-admin.service';
import { EndUsersController } from './end-users.controller';
import { EndUsersService } from './end-users.service';

@Module({
  imports: [ConnectionCacheModule],
  controllers: [EndUsersController, EndUsersAdminController, ConnectionsAdminController],
  providers: [
    EndUsersService,
    EndUsersAdminService,
    provideTenantScoped(EndUser, 'End user'),
    provideTenantScoped(Connection, 'Connection'),
    provideTenantScoped(FlowInstance, 'Flow'),
  ],
  exports: [EndUsersService],
})
export class EndUsersModule {}
