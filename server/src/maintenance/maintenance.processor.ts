import { Process, Processor } from '@nestjs/bull';
import { Inject } from '@nestjs/common';
import { acrossTenants } from '../common/tenancy/tenant-sql';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { QUEUES } from '../queues/queues.module';
import { PURGE_EXPIRED_JOB } from './maintenance.scheduler';

/** Housekeeping that runs in the worker: drops expired portal and end-user sessions, lapsed invitations, never-activated users and runs past retention. */
@Processor(QUEUES.maintenance)
export class MaintenanceProcessor {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('MaintenanceProcessor');
  }

  /**
   * Deletes finished runs past retention in batches of 1,000 with a pause between, so live traffic
   * never waits behind one long delete.
   */
  private async pruneRuns(): Promise<number> {
    let total = 0;
    for (;;) {
      const [, deleted] = await acrossTenants(
        this.db,
        'retention prunes finished runs of every tenant; age is a property of the row',
        `DELETE FROM runs WHERE id IN (
           SELECT id FROM runs WHERE status IN ('succeeded', 'failed', 'cancelled') AND finished_at < now() - make_interval(days => $1) LIMIT 1000)`,
        [this.config.runRetentionDays],
      );
      total += Number(deleted);
      if (Number(deleted) < 1000) return total;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  @Process(PURGE_EXPIRED_JOB)
  async purgeExpired(): Promise<Record<string, number>> {
    // Cross-tenant by design: expiry is a property of the row, not of a tenant.
    const [, sessions] = await this.db.query(`DELETE FROM member_sessions WHERE expires_at < now()`);
    const [, endUserSessions] = await acrossTenants(this.db, 'expired end-user sessions of every tenant', `DELETE FROM end_user_sessions WHERE expires_at < now()`);
    const [, invitations] = await acrossTenants(this.db, 'expired invitations of every tenant', `DELETE FROM memberships WHERE status = 'invited' AND invite_expires_at < now()`);
    // People who were only ever invited, and whose invitations are all gone, were never real accounts.
    const [, users] = await acrossTenants(
      this.db,
      'a user without any membership in any tenant was never a real account',
      `DELETE FROM users u WHERE u.password_hash IS NULL AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id)`,
    );
    const runs = await this.pruneRuns();
    const result = { sessions: Number(sessions), endUserSessions: Number(endUserSessions), invitations: Number(invitations), users: Number(users), runs };
    this.logger.info(result, 'purged expired rows');
    return result;
  }
}
