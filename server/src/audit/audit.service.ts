import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { ApiKey } from '../api-keys/api-key.entity';
import type { TenantId } from '../common/tenancy/tenant-id';
import { EndUser } from '../end-users/end-user.entity';
import { User } from '../members/user.entity';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import type { Actor } from '../auth/principal';
import { AuditEvent } from './audit-event.entity';
import { decodeBigintCursor } from '../common/http/cursors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AuditTarget {
  type: string;
  id: string;
}

export interface AuditFilters {
  action?: string;
  actorType?: string;
  actorId?: string;
  targetType?: string;
  targetId?: string;
  since?: Date;
  until?: Date;
  cursor?: string;
  limit: number;
}

@Injectable()
export class AuditService {
  constructor(
    @InjectTenantScoped(AuditEvent) private readonly events: TenantScopedRepository<AuditEvent>,
    @InjectTenantScoped(ApiKey) private readonly apiKeys: TenantScopedRepository<ApiKey>,
    @InjectTenantScoped(EndUser) private readonly endUsers: TenantScopedRepository<EndUser>,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  /**
   * Who the actors and targets of these events are, by `<type>:<id>`: a member's email, an API
   * key's name (revoked ones too), an end user's external id. Ids no longer found are left out
   * (a deleted end user): views fall back to what the event's data says.
   */
  async names(tenantId: TenantId, events: AuditEvent[]): Promise<Map<string, string>> {
    const ids = (type: string) => [
      ...new Set(events.flatMap((e) => [e.actorType === type ? e.actorId : null, e.targetType === type ? e.targetId : null]).filter((id): id is string => !!id && UUID.test(id))),
    ];
    const users = [...new Set([...ids('member'), ...ids('user')])];
    const [people, keys, endUsers] = await Promise.all([
      // Users are global: only ids this tenant's own events name are looked up.
      users.length ? this.db.getRepository(User).find({ where: { id: In(users) }, select: { id: true, email: true } }) : [],
      ids('api_key').length ? this.apiKeys.find(tenantId, { where: { id: In(ids('api_key')) } }) : [],
      ids('end_user').length ? this.endUsers.find(tenantId, { where: { id: In(ids('end_user')) } }) : [],
    ]);
    const names = new Map<string, string>();
    for (const u of people) names.set(`member:${u.id}`, u.email).set(`user:${u.id}`, u.email);
    for (const k of keys) names.set(`api_key:${k.id}`, k.name);
    for (const u of endUsers) names.set(`end_user:${u.id}`, u.externalId);
    return names;
  }

  /**
   * Records one state change. Pass the transaction's manager so the change and its audit event
   * commit together. `data` must never hold a secret.
   */
  async record(actor: Actor, action: string, target: AuditTarget | null, data: Record<string, unknown> = {}, manager?: EntityManager): Promise<void> {
    const repo = manager ? this.events.with(manager) : this.events;
    await repo.insert(actor.tenantId, {
      actorType: actor.type,
      actorId: actor.id,
      action,
      targetType: target?.type ?? null,
      targetId: target?.id ?? null,
      data,
      requestId: actor.requestId || null,
      ip: actor.ip ?? null,
    });
  }

  /** Newest first; the cursor is the id of the last event of the previous page. */
  async list(actor: Actor, filters: AuditFilters): Promise<{ data: AuditEvent[]; nextCursor: string | null }> {
    const q = this.events.query(actor.tenantId, 'e');
    if (filters.cursor !== undefined) q.andWhere('e.id < :cursor', { cursor: decodeBigintCursor(filters.cursor) });
    if (filters.action) {
      // "member." matches every member event; an exact name matches itself.
      if (filters.action.endsWith('.')) q.andWhere('starts_with(e.action, :action)', { action: filters.action });
      else q.andWhere('e.action = :action', { action: filters.action });
    }
    if (filters.actorType) q.andWhere('e.actorType = :actorType', { actorType: filters.actorType });
    if (filters.actorId) q.andWhere('e.actorId = :actorId', { actorId: filters.actorId });
    if (filters.targetType) q.andWhere('e.targetType = :targetType', { targetType: filters.targetType });
    if (filters.targetId) q.andWhere('e.targetId = :targetId', { targetId: filters.targetId });
    if (filters.since) q.andWhere('e.createdAt >= :since', { since: filters.since });
    if (filters.until) q.andWhere('e.createdAt < :until', { until: filters.until });
    const rows = await q
      .orderBy('e.id', 'DESC')
      .limit(filters.limit + 1)
      .getMany();
    const data = rows.slice(0, filters.limit);
    return { data, nextCursor: rows.length > filters.limit ? data[data.length - 1].id : null };
  }
}
