import { Process, Processor } from '@nestjs/bull';
import { Inject } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { trustedTenantId } from '../common/tenancy/tenant-id';
import { acrossTenants } from '../common/tenancy/tenant-sql';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { REFRESH_EXPIRING_JOB } from '../maintenance/maintenance.scheduler';
import { QUEUES } from '../queues/queues.module';
import { CredentialsService } from './credentials.service';

const BATCH = 200;

/** Refreshes OAuth tokens about to expire, so a call never waits for a refresh (lazy refresh remains the backstop). */
@Processor(QUEUES.maintenance)
export class RefreshProcessor {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly credentials: CredentialsService,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('RefreshProcessor');
  }

  @Process(REFRESH_EXPIRING_JOB)
  async refreshExpiring(): Promise<{ refreshed: number; failed: number }> {
    const due: Array<{ id: string; tenant_id: string }> = await acrossTenants(
      this.db,
      'a sweep of expiring connections of every tenant; each refresh is scoped to its tenant',
      `SELECT id, tenant_id FROM connections
        WHERE status = 'active' AND expires_at IS NOT NULL AND expires_at < now() + make_interval(secs => $1)
        ORDER BY expires_at LIMIT ${BATCH}`,
      [this.config.tokenRefreshMarginSeconds * 2],
    );
    let refreshed = 0;
    let failed = 0;
    for (const row of due) {
      try {
        await this.credentials.fresh(trustedTenantId(row.tenant_id), row.id);
        refreshed++;
      } catch (error) {
        failed++;
        this.logger.warn({ connectionId: row.id, tenantId: row.tenant_id, err: (error as Error).message }, 'background refresh failed');
      }
    }
    if (due.length) this.logger.info({ refreshed, failed }, 'refreshed expiring tokens');
    return { refreshed, failed };
  }
}
