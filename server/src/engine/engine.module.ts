import { Module } from '@nestjs/common';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { Approval } from './approval.entity';
import { ApprovalsController } from './approvals.controller';
import { ApprovalsService } from './approvals.service';

/** The engine's own API beside the runs: approvals asked by approval steps. */
@Module({
  controllers: [ApprovalsController],
  providers: [ApprovalsService, provideTenantScoped(Approval, 'Approval')],
  exports: [ApprovalsService],
})
export class EngineModule {}
