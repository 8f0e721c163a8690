import { Global, Module } from '@nestjs/common';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { ApiKey } from '../api-keys/api-key.entity';
import { EndUser } from '../end-users/end-user.entity';
import { AuditEvent } from './audit-event.entity';
import { AuditController } from './audit.controller';
import { AuditService } from './audit.service';

@Global()
@Module({
  controllers: [AuditController],
  providers: [AuditService, provideTenantScoped(AuditEvent, 'Audit event'), provideTenantScoped(ApiKey, 'API key'), provideTenantScoped(EndUser, 'End user')],
  exports: [AuditService],
})
export class AuditModule {}
