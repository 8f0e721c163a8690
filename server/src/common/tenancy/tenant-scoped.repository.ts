import { DeepPartial, EntityManager, FindOptionsOrder, FindOptionsWhere, ObjectLiteral, Repository, SelectQueryBuilder } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { notFound } from '../errors/app-error';
import type { TenantId } from './tenant-id';

interface TenantOwned extends ObjectLiteral {
  tenantId: string;
}

/** A where clause without the tenant: the repository adds it. */
export type ScopedWhere<T> = Omit<FindOptionsWhere<T>, 'tenantId'>;

/**
 * The only way to read or write a tenant-owned table. Every method takes the tenant first and
 * adds `tenant_id = $tenant` itself, so a query without a tenant cannot be written.
 */
export class TenantScopedRepository<T extends TenantOwned> {
  constructor(
    private readonly repository: Repository<T>,
    private readonly label: string,
  ) {}

  /** The same repository inside a transaction. */
  with(manager: EntityManager): TenantScopedRepository<T> {
    return new TenantScopedRepository(manager.getRepository<T>(this.repository.target), this.label);
  }

  private scope(tenantId: TenantId, where: ScopedWhere<T> = {} as ScopedWhere<T>): FindOptionsWhere<T> {
    return { ...where, tenantId } as FindOptionsWhere<T>;
  }

  find(tenantId: TenantId, options: { where?: ScopedWhere<T>; order?: FindOptionsOrder<T>; take?: number } = {}): Promise<T[]> {
    return this.repository.find({ ...options, where: this.scope(tenantId, options.where) });
  }

  findOne(tenantId: TenantId, where: ScopedWhere<T>): Promise<T | null> {
    return this.repository.findOne({ where: this.scope(tenantId, where) });
  }

  /** Finds one row or throws a 404 naming what was looked for. Another tenant's id is simply not found. */
  async get(tenantId: TenantId, where: ScopedWhere<T>, id?: string): Promise<T> {
    const row = await this.findOne(tenantId, where);
    if (!row) throw notFound(this.label, id);
    return row;
  }

  count(tenantId: TenantId, where?: ScopedWhere<T>): Promise<number> {
    return this.repository.count({ where: this.scope(tenantId, where) });
  }

  async insert(tenantId: TenantId, values: Omit<DeepPartial<T>, 'tenantId'>): Promise<T> {
    const entity = this.repository.create({ ...values, tenantId } as unknown as DeepPartial<T>);
    return this.repository.save(entity);
  }

  /** Updates matching rows of this tenant; returns how many changed. */
  async update(tenantId: TenantId, where: ScopedWhere<T>, patch: Omit<Partial<T>, 'tenantId'>): Promise<number> {
    const result = await this.repository.update(this.scope(tenantId, where), patch as QueryDeepPartialEntity<T>);
    return result.affected ?? 0;
  }

  async delete(tenantId: TenantId, where: ScopedWhere<T>): Promise<number> {
    const result = await this.repository.delete(this.scope(tenantId, where));
    return result.affected ?? 0;
  }

  /** A query builder already restricted to the tenant; add conditions with `andWhere`. */
  query(tenantId: TenantId, alias: string): SelectQueryBuilder<T> {
    const qb = this.repository.createQueryBuilder(alias).where(`${alias}.tenantId = :tenantId`, { tenantId });
    // A later .where() would replace the tenant condition; make it narrow the query instead.
    qb.where = qb.andWhere.bind(qb) as typeof qb.where;
    return qb;
  }
}
