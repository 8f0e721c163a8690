import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { generateToken, hashToken } from '../common/crypto/tokens';
import { trustedTenantId } from '../common/tenancy/tenant-id';
import { acrossTenants } from '../common/tenancy/tenant-sql';
import { Membership, type Role } from '../members/membership.entity';
import { MemberSession } from './member-session.entity';
import type { MemberPrincipal, SessionPrincipal } from './principal';

// Refresh last_seen_at (and slide the expiry) at most this often, not on every request.
const TOUCH_AFTER_MS = 60_000;

/**
 * Portal sessions. Sessions belong to a user, not a tenant, so this service reads
 * member_sessions and a user's own memberships directly rather than through a tenant scope.
 */
@Injectable()
export class MemberSessionsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Starts a session in environment `tenantId` if the user is an active member of its tenant, else in their first tenant's first environment. */
  async create(userId: string, meta: { ip?: string; userAgent?: string; tenantId?: string }, manager: EntityManager = this.db.manager) {
    const wanted = meta.tenantId && (await this.membershipIn(meta.tenantId, userId, manager)) ? meta.tenantId : null;
    const activeTenantId = wanted ?? (await this.activeMemberships(userId, manager))[0]?.tenantId ?? null;
    const token = generateToken('memberSession');
    const now = new Date();
    const session = await manager.getRepository(MemberSession).save({
      tokenHash: hashToken(token),
      userId,
      activeTenantId,
      ip: meta.ip ?? null,
      userAgent: meta.userAgent?.slice(0, 500) ?? null,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + this.config.memberSessionTtlSeconds * 1000),
    });
    return { token, session };
  }

  /** Resolves a cookie token to a principal, or null when unknown or expired. */
  async resolve(token: string): Promise<MemberPrincipal | SessionPrincipal | null> {
    const session = await this.db.getRepository(MemberSession).findOne({ where: { tokenHash: hashToken(token) } });
    if (!session || session.expiresAt.getTime() <= Date.now()) return null;
    if (Date.now() - session.lastSeenAt.getTime() > TOUCH_AFTER_MS) {
      const now = new Date();
      await this.db.getRepository(MemberSession).update(session.id, {
        lastSeenAt: now,
        expiresAt: new Date(now.getTime() + this.config.memberSessionTtlSeconds * 1000),
      });
    }
    const base = { userId: session.userId, sessionId: session.id };
    const membership = session.activeTenantId ? await this.membershipIn(session.activeTenantId, session.userId) : null;
    if (membership) {
      return {
        kind: 'member',
        ...base,
        tenantId: trustedTenantId(session.activeTenantId!),
        accountId: trustedTenantId(membership.accountId),
        membershipId: membership.id,
        role: membership.role,
      };
    }
    return { kind: 'session', ...base, activeTenantId: null };
  }

  /** Makes an environment of one of the user's tenants the active one; false when it is not theirs (or does not exist). */
  async switchTenant(sessionId: string, userId: string, environmentId: string): Promise<boolean> {
    if (!(await this.membershipIn(environmentId, userId))) return false;
    await this.db.getRepository(MemberSession).update({ id: sessionId, userId }, { activeTenantId: environmentId });
    return true;
  }

  /** The user's active membership of the tenant an environment belongs to (memberships live on its first environment). */
  private async membershipIn(environmentId: string, userId: string, manager: EntityManager = this.db.manager): Promise<{ id: string; role: Role; accountId: string } | null> {
    const rows: Array<{ id: string; role: Role; account_id: string }> = await acrossTenants(
      manager,
      "a session's own user: their membership of the tenant the environment belongs to",
      `SELECT m.id, m.role, t.account_id FROM tenants t JOIN memberships m ON m.tenant_id = t.account_id
        WHERE t.id = $1 AND m.user_id = $2 AND m.status = 'active'`,
      [environmentId, userId],
    );
    return rows[0] ? { id: rows[0].id, role: rows[0].role, accountId: rows[0].account_id } : null;
  }

  async revoke(sessionId: string): Promise<void> {
    await this.db.getRepository(MemberSession).delete({ id: sessionId });
  }

  activeMemberships(userId: string, manager: EntityManager = this.db.manager): Promise<Membership[]> {
    return manager.getRepository(Membership).find({ where: { userId, status: 'active' }, order: { createdAt: 'ASC' } });
  }
}
