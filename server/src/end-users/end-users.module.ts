import { Module } from '@nestjs/common';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { EndUser } from './end-user.entity';
import { EndUsersController } from './end-users.controller';
import { EndUsersService } from './end-users.service';

@Module({
  controllers: [EndUsersController],
  providers: [EndUsersService, provideTenantScoped(EndUser, 'End user')],
  exports: [EndUsersService],
})
export class EndUsersModule {}
