import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { AppError, notFound } from '../common/errors/app-error';
import { TenantId, trustedTenantId } from '../common/tenancy/tenant-id';
import { Membership } from '../members/membership.entity';
import { UsersService } from '../members/users.service';
import { Tenant } from './tenant.entity';
import { WidgetTheme, widgetThemeOf } from './tenants.dto';

export interface NewTenant {
  name: string;
  slug?: string;
  owner: { email: string; password?: string; name?: string | null };
  /** Refuse (409) when the owner's email already has an account: public signup must never hand out a session for someone else's. */
  ownerMustBeNew?: boolean;
  /** The request that asked for it, for the audit log. */
  request?: { requestId?: string; ip?: string };
}

/** The tenants table is the tenancy root: rows are reached by the actor's own tenant id only. */
@Injectable()
export class TenantsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly users: UsersService,
    private readonly audit: AuditService,
  ) {}

  async get(tenantId: TenantId): Promise<Tenant> {
    const tenant = await this.db.getRepository(Tenant).findOne({ where: { id: tenantId } });
    if (!tenant) throw notFound('Tenant', tenantId);
    return tenant;
  }

  update(actor: Actor, patch: { name?: string; allowedOrigins?: string[]; widgetTheme?: WidgetTheme | null; monthlyTokenCap?: number | null }): Promise<Tenant> {
    return this.db.transaction(async (manager) => {
      const repo = manager.getRepository(Tenant);
      const before = await repo.findOneOrFail({ where: { id: actor.tenantId }, lock: { mode: 'pessimistic_write' } });
      const changes: Partial<Tenant> = {};
      if (patch.name !== undefined && patch.name !== before.name) changes.name = patch.name;
      if (patch.allowedOrigins !== undefined) {
        const origins = [...new Set(patch.allowedOrigins)];
        if (origins.join('\n') !== before.allowedOrigins.join('\n')) changes.allowedOrigins = origins;
      }
      if (patch.monthlyTokenCap !== undefined && patch.monthlyTokenCap !== before.monthlyTokenCap) changes.monthlyTokenCap = patch.monthlyTokenCap;
      const diff: Record<string, { from: unknown; to: unknown }> = {};
      if (patch.widgetTheme !== undefined) {
        const from = widgetThemeOf(before);
        // Only the given keys, in a fixed order, so an unchanged theme is recognised as such.
        const to: WidgetTheme = {};
        for (const key of ['mode', 'accent', 'radius', 'font'] as const) if (patch.widgetTheme?.[key] !== undefined) (to as Record<string, string>)[key] = patch.widgetTheme[key]!;
        if (JSON.stringify(from) !== JSON.stringify(to)) {
          changes.settings = { ...before.settings, widgetTheme: to };
          diff.widgetTheme = { from, to };
        }
      }
      if (Object.keys(changes).length === 0) return before;
      const { name, ...own } = changes;
      // The name is the vendor's, shared by its environments; the rest is this environment's.
      if (name !== undefined) await repo.update({ accountId: before.accountId }, { name });
      if (Object.keys(own).length) await repo.update({ id: actor.tenantId }, own as Parameters<typeof repo.update>[1]);
      for (const k of Object.keys(changes)) if (k !== 'settings') diff[k] = { from: before[k as keyof Tenant], to: changes[k as keyof Tenant] };
      await this.audit.record(actor, 'tenant.updated', { type: 'tenant', id: actor.tenantId }, diff, manager);
      return repo.findOneOrFail({ where: { id: actor.tenantId } });
    });
  }

  /** Creates a tenant and its first owner (an existing user keeps their password). */
  async createWithOwner(input: NewTenant, manager?: EntityManager): Promise<{ tenant: Tenant; userId: string; userCreated: boolean }> {
    if (!manager) return this.db.transaction((m) => this.createWithOwner(input, m));
    // Insert-or-nothing, not check-then-insert: two signups of one company name at once both succeed.
    const base = input.slug ?? slugOf(input.name);
    const tenant =
      (await this.insertTenant(input.name, base, manager)) ?? (input.slug ? null : await this.insertTenant(input.name, `${base}-${randomBytes(3).toString('hex')}`, manager));
    if (!tenant) throw new AppError('conflict', `The slug "${base}" is taken`, { slug: base });
    const slug = tenant.slug;
    // Work starts in development; production takes flow templates by promotion.
    await manager.getRepository(Tenant).insert({ name: tenant.name, slug, allowedOrigins: [], settings: {}, accountId: tenant.id, environment: 'production', protected: true });
    const { user, created } = await this.users.findOrCreate(input.owner, manager);
    // Checked inside the transaction: two signups racing with one email both pass any check made before it.
    if (input.ownerMustBeNew && !created) throw new AppError('conflict', 'An account with this email exists: sign in instead', { email: input.owner.email });
    const membership = await manager.getRepository(Membership).save({ tenantId: tenant.id, userId: user.id, role: 'owner' as const, status: 'active' as const });
    const actor: Actor = { tenantId: trustedTenantId(tenant.id), type: 'member', id: user.id, ...input.request };
    await this.audit.record(actor, 'tenant.created', { type: 'tenant', id: tenant.id }, { name: tenant.name, slug }, manager);
    await this.audit.record(actor, 'member.joined', { type: 'membership', id: membership.id }, { email: user.email, role: 'owner' }, manager);
    return { tenant, userId: user.id, userCreated: created };
  }

  /** The new tenant's first environment, or null when the slug is taken (ON CONFLICT DO NOTHING waits for a concurrent insert to commit). */
  private async insertTenant(name: string, slug: string, manager: EntityManager): Promise<Tenant | null> {
    const id = randomUUID();
    const inserted = await manager
      .createQueryBuilder()
      .insert()
      .into(Tenant)
      .values({ id, accountId: id, environment: 'development', protected: false, name, slug, allowedOrigins: [], settings: {} })
      .orIgnore()
      .returning(['id'])
      .execute();
    return (inserted.raw as unknown[]).length ? manager.getRepository(Tenant).findOneByOrFail({ id }) : null;
  }
}

function slugOf(name: string): string {
  const base =
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'tenant';
  return base.length < 2 ? `${base}-tenant` : base;
}
