import { Module } from '@nestjs/common';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { EndUsersModule } from '../end-users/end-users.module';
import { REDIS } from '../redis/redis.module';
import type Redis from 'ioredis';
import { Approval } from './approval.entity';
import { ApprovalsController } from './approvals.controller';
import { ApprovalsService } from './approvals.service';
import { RunLimiter } from './run-limits';
import { RunWaiter } from './run-waiter.service';
import { Run } from './run.entity';
import { RunsController, TriggersController } from './runs.controller';
import { RunsService } from './runs.service';

/** Per-tenant run slots and per-connection request rates, shared by every run and poll of this process. */
const runLimiter = {
  provide: RunLimiter,
  inject: [REDIS, APP_CONFIG],
  useFactory: (redis: Redis, config: AppConfig) =>
    new RunLimiter(redis, { tenantMaxConcurrentRuns: config.engine.tenantMaxConcurrentRuns, leaseMs: config.queue.lockDurationMs, rateLimits: config.engine.connectionRateLimits }),
};

/**
 * The engine's API: starting runs (events, request runs), the runs explorer, run control, and the
 * approvals steps ask. The worker side (executing runs) is EngineWorkerModule.
 */
@Module({
  imports: [EndUsersModule],
  controllers: [TriggersController, RunsController, ApprovalsController],
  providers: [RunsService, RunWaiter, ApprovalsService, runLimiter, provideTenantScoped(Run, 'Run'), provideTenantScoped(Approval, 'Approval')],
  exports: [RunsService, RunWaiter, ApprovalsService, RunLimiter],
})
export class EngineModule {}
