import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import type { Actor } from '../auth/principal';
import { AuditEvent } from './audit-event.entity';
import { decodeBigintCursor } from '../common/http/cursors';

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
  constructor(@InjectTenantScoped(AuditEvent) private readonly events: TenantScopedRepository<AuditEvent>) {}

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
    const rows = await q.orderBy('e.id', 'DESC').limit(filters.limit + 1).getMany();
    const data = rows.slice(0, filters.limit);
    return { data, nextCursor: rows.length > filters.limit ? data[data.length - 1].id : null };
  }
}
