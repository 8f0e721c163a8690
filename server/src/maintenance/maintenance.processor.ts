import { Process, Processor } from '@nestjs/bull';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { QUEUES } from '../queues/queues.module';
import { PURGE_EXPIRED_JOB } from './maintenance.scheduler';

/** Housekeeping that runs in the worker: drops expired portal and end-user sessions, lapsed invitations and never-activated users. */
@Processor(QUEUES.maintenance)
export class MaintenanceProcessor {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('MaintenanceProcessor');
  }

  @Process(PURGE_EXPIRED_JOB)
  async purgeExpired(): Promise<Record<string, number>> {
    // Cross-tenant by design: expiry is a property of the row, not of a tenant.
    const [, sessions] = await this.db.query(`DELETE FROM member_sessions WHERE expires_at < now()`);
    const [, endUserSessions] = await this.db.query(`DELETE FROM end_user_sessions WHERE expires_at < now()`);
    const [, invitations] = await this.db.query(
      `DELETE FROM memberships WHERE status = 'invited' AND invite_expires_at < now()`,
    );
    // People who were only ever invited, and whose invitations are all gone, were never real accounts.
    const [, users] = await this.db.query(
      `DELETE FROM users u WHERE u.password_hash IS NULL AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id)`,
    );
    const result = { sessions: Number(sessions), endUserSessions: Number(endUserSessions), invitations: Number(invitations), users: Number(users) };
    this.logger.info(result, 'purged expired rows');
    return result;
  }
}
