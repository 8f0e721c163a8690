import { Inject, Provider } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { TenantScopedRepository } from './tenant-scoped.repository';

const tokenFor = (entity: Function) => `TenantScopedRepository<${entity.name}>`;

/** Provides a TenantScopedRepository for an entity; modules register this instead of TypeOrmModule.forFeature. */
export function provideTenantScoped<T extends ObjectLiteral & { tenantId: string }>(entity: EntityTarget<T> & Function, label: string): Provider {
  return {
    provide: tokenFor(entity),
    inject: [getDataSourceToken()],
    useFactory: (dataSource: DataSource) => new TenantScopedRepository<T>(dataSource.getRepository(entity), label),
  };
}

export const InjectTenantScoped = (entity: Function) => Inject(tokenFor(entity));
