import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { accountOf, type Actor } from '../auth/principal';
import { AppError } from '../common/errors/app-error';
import { isUniqueViolation } from '../common/errors/postgres-errors';
import { generateToken, hashToken } from '../common/crypto/tokens';
import { trustedTenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Membership, Role, ROLE_RANK } from './membership.entity';
import { UsersService } from './users.service';

export interface Invitation {
  membership: Membership;
  email: string;
  tenantName: string;
  /** The invited email already has a password: it must sign in (or give it) to accept. */
  accountExists: boolean;
}

/** Who accepts, and how they proved it. */
export type InvitationAcceptor = { userId: string; via: 'password' | 'session' } | { userId: string; via: 'new_account'; newPassword: string; name?: string };

@Injectable()
export class MembersService {
  constructor(
    @InjectTenantScoped(Membership) private readonly memberships: TenantScopedRepository<Membership>,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UsersService,
    private readonly audit: AuditService,
  ) {}

  list(actor: Actor): Promise<Membership[]> {
    return this.memberships.find(accountOf(actor), { order: { createdAt: 'ASC' } });
  }

  /**
   * Invites a person by email. The invitation token is returned once, for the inviter to pass on;
   * accepting it (with a password for someone new) activates the membership.
   */
  invite(actor: Actor, email: string, role: Role): Promise<{ membership: Membership; inviteToken: string; inviteUrl: string }> {
    this.assertMayGrant(actor, role);
    return this.db.transaction(async (manager) => {
      const { user } = await this.users.findOrCreate({ email }, manager);
      const memberships = this.memberships.with(manager);
      if (await memberships.findOne(accountOf(actor), { userId: user.id })) {
        throw new AppError('conflict', `${email} is already a member or invited`, { email });
      }
      const inviteToken = generateToken('invite');
      const created = await memberships
        .insert(accountOf(actor), {
          userId: user.id,
          role,
          status: 'invited',
          inviteTokenHash: hashToken(inviteToken),
          inviteExpiresAt: new Date(Date.now() + this.config.invitationTtlSeconds * 1000),
          invitedByUserId: actor.type === 'member' ? actor.id : null,
        })
        .catch((error: unknown) => {
          // The same person invited twice at once: the second loses the race on UNIQUE (tenant_id, user_id).
          if (isUniqueViolation(error)) throw new AppError('conflict', `${email} is already a member or invited`, { email });
          throw error;
        });
      await this.audit.record(actor, 'member.invited', { type: 'membership', id: created.id }, { email: user.email, role }, manager);
      const membership = await memberships.get(accountOf(actor), { id: created.id });
      return { membership, inviteToken, inviteUrl: `${this.config.publicUrl}/portal/accept-invite#token=${inviteToken}` };
    });
  }

  changeRole(actor: Actor, id: string, role: Role): Promise<Membership> {
    return this.db.transaction(async (manager) => {
      const memberships = this.memberships.with(manager);
      await this.lockTenant(actor, manager);
      const membership = await memberships.get(accountOf(actor), { id }, id);
      if (membership.role === role) return membership;
      this.assertMayGrant(actor, membership.role);
      this.assertMayGrant(actor, role);
      if (membership.role === 'owner') await this.assertAnotherOwner(actor, membership, manager);
      await memberships.update(accountOf(actor), { id }, { role });
      await this.audit.record(actor, 'member.role_changed', { type: 'membership', id }, { email: membership.user.email, from: membership.role, to: role }, manager);
      return { ...membership, role };
    });
  }

  remove(actor: Actor, id: string): Promise<void> {
    return this.db.transaction(async (manager) => {
      const memberships = this.memberships.with(manager);
      await this.lockTenant(actor, manager);
      const membership = await memberships.get(accountOf(actor), { id }, id);
      // Anyone may leave; removing someone else needs rank over their role.
      if (membership.userId !== actor.id) {
        if (actor.role && ROLE_RANK[actor.role] < ROLE_RANK.admin) {
          throw new AppError('insufficient_role', `Removing other members needs the admin role; you are ${actor.role}`, {
            role: actor.role,
            requiredRole: 'admin',
          });
        }
        this.assertMayGrant(actor, membership.role);
      }
      if (membership.role === 'owner') await this.assertAnotherOwner(actor, membership, manager);
      await memberships.delete(accountOf(actor), { id });
      await this.audit.record(actor, 'member.removed', { type: 'membership', id }, { email: membership.user.email, role: membership.role }, manager);
    });
  }

  /**
   * The pending invitation a token stands for (404 when unknown or used, 410 when expired), with
   * whether its email already has an account: then only that account, proven by its password or
   * its portal session, may accept it.
   */
  async findInvitation(token: string, manager: EntityManager = this.db.manager): Promise<Invitation> {
    // The token decides the tenant, so this lookup cannot be tenant-scoped.
    const membership = await manager.getRepository(Membership).findOne({ where: { inviteTokenHash: hashToken(token), status: 'invited' } });
    if (!membership) throw new AppError('not_found', 'This invitation is unknown or was already used');
    if (!membership.inviteExpiresAt || membership.inviteExpiresAt.getTime() < Date.now()) {
      throw new AppError('invite_expired', 'This invitation has expired; ask for a new one');
    }
    const user = await this.users.findByEmail(membership.user.email, manager);
    const tenant: Array<{ name: string }> = await manager.query('SELECT name FROM tenants WHERE id = $1', [membership.tenantId]);
    return {
      membership,
      email: membership.user.email,
      tenantName: tenant[0]?.name ?? '',
      accountExists: Boolean(user?.passwordHash),
    };
  }

  /**
   * Accepts an invitation for `acceptor`, who the caller has already authenticated as the invited
   * email's user (password or session), or who creates that user's account now (`newPassword`).
   * The token never signs anyone in on its own.
   */
  acceptInvite(token: string, acceptor: InvitationAcceptor, meta: { requestId?: string; ip?: string } = {}) {
    return this.db.transaction(async (manager) => {
      const { membership, email } = await this.findInvitation(token, manager);
      if (membership.userId !== acceptor.userId) {
        throw new AppError('invitation_email_mismatch', `This invitation is for ${email}; sign in as that account to accept it`, { email });
      }
      const tenantId = trustedTenantId(membership.tenantId);
      // Conditional on still being invited, so two concurrent accepts of one token cannot both succeed.
      const accepted = await this.memberships
        .with(manager)
        .update(tenantId, { id: membership.id, status: 'invited' }, { status: 'active', inviteTokenHash: null, inviteExpiresAt: null });
      if (accepted !== 1) throw new AppError('not_found', 'This invitation is unknown or was already used');
      if (acceptor.via === 'new_account') {
        // Conditional on the account still having no password: a concurrent acceptance of another invitation cannot be overwritten.
        if (!(await this.users.claimNewAccount(acceptor.userId, acceptor.newPassword, acceptor.name, manager))) {
          throw new AppError('invitation_requires_sign_in', `${email} already has an account: sign in or give its password to accept`, { email });
        }
      }
      await this.audit.record(
        { tenantId, type: 'member', id: membership.userId, ...meta },
        'member.joined',
        { type: 'membership', id: membership.id },
        { email, role: membership.role, via: acceptor.via },
        manager,
      );
      return { userId: membership.userId, tenantId: membership.tenantId };
    });
  }

  /** A member may grant or take away only roles up to its own; owners are managed by owners. */
  private assertMayGrant(actor: Actor, role: Role): void {
    if (actor.type !== 'member' || !actor.role) return;
    if (ROLE_RANK[role] > ROLE_RANK[actor.role] || (role === 'owner' && actor.role !== 'owner')) {
      throw new AppError('insufficient_role', `Only an owner can manage ${role} members`, { role: actor.role, requiredRole: 'owner' });
    }
  }

  /** Serialises owner changes per tenant, so two owners cannot demote each other at once. */
  private async lockTenant(actor: Actor, manager: EntityManager): Promise<void> {
    await manager.query('SELECT id FROM tenants WHERE id = $1 FOR UPDATE', [accountOf(actor)]);
  }

  private async assertAnotherOwner(actor: Actor, leaving: Membership, manager: EntityManager): Promise<void> {
    const owners = await this.memberships.with(manager).count(accountOf(actor), { role: 'owner', status: 'active' });
    if (leaving.status === 'active' && owners <= 1) {
      throw new AppError('last_owner', 'A tenant needs at least one owner: make someone else owner first');
    }
  }
}
