import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { AppError, notFound } from '../common/errors/app-error';
import { TenantId, trustedTenantId } from '../common/tenancy/tenant-id';
import { Tenant } from './tenant.entity';

/** Each environment is a whole tenant scope; a handful is what teams use (Paragon and Prismatic allow a few). */
const MAX_ENVIRONMENTS = 20;

/**
 * A tenant's environments. Each is a `tenants` row, so every tenant-scoped table isolates them;
 * this service is the only one that reaches across them, and only within the actor's own tenant.
 */
@Injectable()
export class EnvironmentsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditService,
  ) {}

  /** The environments of the tenant `environmentId` belongs to, first one first. */
  list(environmentId: TenantId, manager: EntityManager = this.db.manager): Promise<Tenant[]> {
    return this.siblingsOf(environmentId, manager).orderBy('t.created_at', 'ASC').addOrderBy('t.environment', 'ASC').getMany();
  }

  /** An environment of the actor's tenant (as a trusted scope for acting in it), or 404. */
  async get(actor: Actor, id: string, manager: EntityManager = this.db.manager): Promise<Tenant & { id: TenantId }> {
    const env = await this.siblingsOf(actor.tenantId, manager).andWhere('t.id = :id', { id }).getOne();
    if (!env) throw notFound('Environment', id);
    return env as Tenant & { id: TenantId };
  }

  private siblingsOf(environmentId: TenantId, manager: EntityManager) {
    return manager.getRepository(Tenant).createQueryBuilder('t').where('t.account_id = (SELECT account_id FROM tenants WHERE id = :own)', { own: environmentId });
  }

  create(actor: Actor, input: { name: string; protected?: boolean }): Promise<Tenant> {
    return this.db.transaction(async (manager) => {
      const repo = manager.getRepository(Tenant);
      // Locks the first environment: two creations at once cannot both pass the cap.
      const current = await repo.findOneByOrFail({ id: actor.tenantId });
      await manager.query('SELECT id FROM tenants WHERE id = $1 FOR UPDATE', [current.accountId]);
      if ((await this.list(actor.tenantId, manager)).length >= MAX_ENVIRONMENTS) {
        throw new AppError('conflict', `A tenant has at most ${MAX_ENVIRONMENTS} environments`, { limit: MAX_ENVIRONMENTS });
      }
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(Tenant)
        .values({
          accountId: current.accountId,
          environment: input.name,
          protected: input.protected ?? false,
          name: current.name,
          slug: current.slug,
          allowedOrigins: [],
          settings: {},
        })
        .orIgnore()
        .returning(['id'])
        .execute();
      const id = (inserted.raw as Array<{ id: string }>)[0]?.id;
      if (!id) throw new AppError('conflict', `An environment named ${input.name} exists`, { name: input.name });
      const details = { name: input.name, protected: input.protected ?? false };
      await this.audit.record(actor, 'environment.created', { type: 'environment', id }, details, manager);
      await this.audit.record({ ...actor, tenantId: trustedTenantId(id) }, 'environment.created', { type: 'environment', id }, details, manager);
      return repo.findOneByOrFail({ id });
    });
  }

  setProtected(actor: Actor, id: string, value: boolean): Promise<Tenant> {
    return this.db.transaction(async (manager) => {
      const env = await this.get(actor, id, manager);
      if (env.protected === value) return env;
      await manager.getRepository(Tenant).update({ id: env.id }, { protected: value });
      await this.audit.record(
        { ...actor, tenantId: env.id },
        'environment.updated',
        { type: 'environment', id: env.id },
        { protected: { from: env.protected, to: value } },
        manager,
      );
      return { ...env, protected: value };
    });
  }

  /** Refuses a direct change of flow templates in a protected environment (promotion is the way in). */
  async assertTemplatesEditable(tenantId: TenantId, manager: EntityManager = this.db.manager): Promise<void> {
    const rows: Array<{ environment: string; protected: boolean }> = await manager.query('SELECT environment, protected FROM tenants WHERE id = $1', [tenantId]);
    if (rows[0]?.protected) {
      throw new AppError(
        'environment_protected',
        `${rows[0].environment} is protected: flow templates reach it by promotion from another environment (or an owner turns protection off)`,
        { environment: rows[0].environment },
      );
    }
  }
}

// An environment's name never changes, so a process may remember it.
const environmentNames = new Map<string, string>();

/** The name of the environment a tenant scope is (for tokens that name it). */
export async function environmentName(manager: EntityManager, tenantId: TenantId): Promise<string> {
  let name = environmentNames.get(tenantId);
  if (name === undefined) {
    const rows: Array<{ environment: string }> = await manager.query('SELECT environment FROM tenants WHERE id = $1', [tenantId]);
    if (!rows[0]) throw notFound('Environment', tenantId);
    name = rows[0].environment;
    if (environmentNames.size > 10_000) environmentNames.clear();
    environmentNames.set(tenantId, name);
  }
  return name;
}
