import { Module } from '@nestjs/common';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { MembersController } from './members.controller';
import { MembersService } from './members.service';
import { Membership } from './membership.entity';
import { UsersService } from './users.service';

@Module({
  controllers: [MembersController],
  providers: [MembersService, UsersService, provideTenantScoped(Membership, 'Member')],
  exports: [MembersService, UsersService],
})
export class MembersModule {}
