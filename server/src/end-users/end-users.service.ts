import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { tenantSql } from '../common/tenancy/tenant-sql';
import { EndUser } from './end-user.entity';
import { ConnectionCache } from '../connections/connection-cache';

export interface EndUserFields {
  displayName?: string | null;
  email?: string | null;
  metadata?: Record<string, unknown>;
}

@Injectable()
export class EndUsersService {
  constructor(
    @InjectTenantScoped(EndUser) private readonly endUsers: TenantScopedRepository<EndUser>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditService,
    private readonly cache: ConnectionCache,
  ) {}

  /** Ordered by external id, which is unique per tenant, so the cursor is simply the last external id. */
  async list(actor: Actor, limit: number, cursor?: string): Promise<{ data: EndUser[]; nextCursor: string | null }> {
    const q = this.endUsers.query(actor.tenantId, 'u');
    if (cursor !== undefined) q.andWhere('u.externalId > :cursor', { cursor });
    const rows = await q
      .orderBy('u.externalId', 'ASC')
      .limit(limit + 1)
      .getMany();
    const data = rows.slice(0, limit);
    return { data, nextCursor: rows.length > limit ? data[data.length - 1].externalId : null };
  }

  get(actor: Actor, externalId: string): Promise<EndUser> {
    return this.endUsers.get(actor.tenantId, { externalId }, externalId);
  }

  /** Creates the end user or updates the given fields; concurrent upserts of one id converge on one row. */
  upsert(actor: Actor, externalId: string, fields: EndUserFields): Promise<{ endUser: EndUser; created: boolean }> {
    return this.db.transaction(async (manager) => {
      const repo = this.endUsers.with(manager);
      const inserted: unknown[] = await tenantSql(manager).query(
        actor.tenantId,
        `INSERT INTO end_users (tenant_id, external_id) VALUES ($1, $2) ON CONFLICT (tenant_id, external_id) DO NOTHING RETURNING id`,
        [externalId],
      );
      const created = inserted.length === 1;
      const before = await repo.get(actor.tenantId, { externalId });
      // Only what differs is written (and audited), so repeating an upsert is free.
      const patch: Partial<EndUser> = {};
      if (fields.displayName !== undefined && fields.displayName !== before.displayName) patch.displayName = fields.displayName;
      if (fields.email !== undefined && fields.email !== before.email) patch.email = fields.email;
      if (fields.metadata !== undefined && JSON.stringify(fields.metadata) !== JSON.stringify(before.metadata)) patch.metadata = fields.metadata;
      if (Object.keys(patch).length > 0) await repo.update(actor.tenantId, { id: before.id }, patch);
      const endUser = await repo.get(actor.tenantId, { id: before.id });
      if (created || Object.keys(patch).length > 0) {
        await this.audit.record(
          actor,
          created ? 'end_user.created' : 'end_user.updated',
          { type: 'end_user', id: endUser.id },
          { externalId, fields: Object.keys(patch) },
          manager,
        );
      }
      return { endUser, created };
    });
  }

  async remove(actor: Actor, externalId: string): Promise<void> {
    await this.cache.changing(actor.tenantId, () =>
      this.db.transaction(async (manager) => {
        const repo = this.endUsers.with(manager);
        const endUser = await repo.get(actor.tenantId, { externalId }, externalId);
        await repo.delete(actor.tenantId, { id: endUser.id });
        await this.audit.record(actor, 'end_user.deleted', { type: 'end_user', id: endUser.id }, { externalId }, manager);
      }),
    );
  }
}
