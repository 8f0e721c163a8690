import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { generateToken, hashToken } from '../common/crypto/tokens';
import { trustedTenantId } from '../common/tenancy/tenant-id';
import { Membership } from '../members/membership.entity';
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

  /** Starts a session in `tenantId` if the user is an active member there, else in their first active tenant. */
  async create(userId: string, meta: { ip?: string; userAgent?: string; tenantId?: string }, manager: EntityManager = this.db.manager) {
    const memberships = await this.activeMemberships(userId, manager);
    const active = memberships.find((m) => m.tenantId === meta.tenantId) ?? memberships[0] ?? null;
    const token = generateToken('memberSession');
    const now = new Date();
    const session = await manager.getRepository(MemberSession).save({
      tokenHash: hashToken(token),
      userId,
      activeTenantId: active?.tenantId ?? null,
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
    if (session.activeTenantId) {
      const membership = await this.db.getRepository(Membership).findOne({
        where: { tenantId: session.activeTenantId, userId: session.userId, status: 'active' },
      });
      if (membership) {
        return {
          kind: 'member',
          ...base,
          tenantId: trustedTenantId(membership.tenantId),
          membershipId: membership.id,
          role: membership.role,
        };
      }
    }
    return { kind: 'session', ...base, activeTenantId: null };
  }

  async switchTenant(sessionId: string, userId: string, tenantId: string): Promise<boolean> {
    const memberships = await this.activeMemberships(userId);
    if (!memberships.some((m) => m.tenantId === tenantId)) return false;
    await this.db.getRepository(MemberSession).update({ id: sessionId, userId }, { activeTenantId: tenantId });
    return true;
  }

  async revoke(sessionId: string): Promise<void> {
    await this.db.getRepository(MemberSession).delete({ id: sessionId });
  }

  activeMemberships(userId: string, manager: EntityManager = this.db.manager): Promise<Membership[]> {
    return manager.getRepository(Membership).find({ where: { userId, status: 'active' }, order: { createdAt: 'ASC' } });
  }
}
