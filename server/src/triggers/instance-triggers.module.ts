import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { EndUser } from '../end-users/end-user.entity';
import { InstanceTrigger } from './instance-trigger.entity';
import { InstanceTriggersService } from './instance-triggers.service';

/** Trigger state per flow instance (schedule, webhook URL); used by the flows module. */
@Module({
  imports: [ConnectionsModule],
  providers: [InstanceTriggersService, provideTenantScoped(InstanceTrigger, 'Flow trigger'), provideTenantScoped(EndUser, 'End user')],
  exports: [InstanceTriggersService],
})
export class InstanceTriggersModule {}
