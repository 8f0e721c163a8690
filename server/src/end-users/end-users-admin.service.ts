import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import type { Actor } from '../auth/principal';
import { decodeTimeCursor, encodeTimeCursor } from '../common/http/cursors';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { Connection, type ConnectionStatus } from '../connections/connection.entity';
import { FlowInstance } from '../flows/flow-template.entity';
import { EndUser } from './end-user.entity';

export interface EndUserCounts {
  connectionCount: number;
  needsReauthCount: number;
  enabledFlowCount: number;
}

/** An ILIKE pattern matching `text` anywhere, its wildcards taken literally. */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** What the portal shows of end users: search, and each one's connections and flow counts. */
@Injectable()
export class EndUsersAdminService {
  constructor(
    @InjectTenantScoped(EndUser) private readonly endUsers: TenantScopedRepository<EndUser>,
    @InjectTenantScoped(Connection) private readonly connections: TenantScopedRepository<Connection>,
    @InjectTenantScoped(FlowInstance) private readonly instances: TenantScopedRepository<FlowInstance>,
  ) {}

  /** Ordered by external id (unique per tenant), so the cursor is the last external id. */
  async search(actor: Actor, query: { search?: string; limit: number; cursor?: string }): Promise<{ data: Array<EndUser & EndUserCounts>; nextCursor: string | null }> {
    const q = this.endUsers.query(actor.tenantId, 'u');
    const text = query.search?.trim();
    if (text) {
      const pattern = containing(text);
      q.andWhere('(u.externalId ILIKE :pattern OR u.displayName ILIKE :pattern OR u.email ILIKE :pattern)', { pattern });
    }
    if (query.cursor !== undefined) q.andWhere('u.externalId > :cursor', { cursor: query.cursor });
    const rows = await q
      .orderBy('u.externalId', 'ASC')
      .limit(query.limit + 1)
      .getMany();
    const page = rows.slice(0, query.limit);
    const counts = await this.counts(
      actor,
      page.map((u) => u.id),
    );
    return {
      data: page.map((u) => ({ ...u, ...(counts.get(u.id) ?? { connectionCount: 0, needsReauthCount: 0, enabledFlowCount: 0 }) })),
      nextCursor: rows.length > query.limit ? page[page.length - 1].externalId : null,
    };
  }

  get(actor: Actor, externalId: string): Promise<EndUser> {
    return this.endUsers.get(actor.tenantId, { externalId }, externalId);
  }

  connectionsOf(actor: Actor, endUserId: string): Promise<Connection[]> {
    return this.connections.find(actor.tenantId, { where: { endUserId }, order: { createdAt: 'ASC' } });
  }

  /**
   * Connections across the tenant's end users (e.g. its active Slack ones, for an alert rule), each
   * with its end user's external id; newest first, the cursor is the last row's created_at and id.
   */
  async searchConnections(
    actor: Actor,
    query: { connector?: string; status?: ConnectionStatus; search?: string; limit: number; cursor?: string },
  ): Promise<{ data: Array<{ connection: Connection; externalId: string }>; nextCursor: string | null }> {
    // created_at has microseconds, the cursor (a JavaScript Date) milliseconds: both sides in milliseconds.
    const created = `date_trunc('milliseconds', c.created_at)`;
    const q = this.connections
      .query(actor.tenantId, 'c')
      .orderBy(created, 'DESC')
      .addOrderBy('c.id', 'DESC')
      .limit(query.limit + 1);
    if (query.connector !== undefined) q.andWhere('c.connectorKey = :connector', { connector: query.connector });
    if (query.status !== undefined) q.andWhere('c.status = :status', { status: query.status });
    const text = query.search?.trim();
    if (text) {
      q.innerJoin(EndUser, 'u', 'u.id = c.endUserId AND u.tenantId = c.tenantId').andWhere('(u.externalId ILIKE :pattern OR c.accountName ILIKE :pattern)', {
        pattern: containing(text),
      });
    }
    if (query.cursor !== undefined) {
      const { at, id } = decodeTimeCursor(query.cursor);
      q.andWhere(`(${created}, c.id) < (:at, :id)`, { at, id });
    }
    const rows = await q.getMany();
    const page = rows.slice(0, query.limit);
    const owners = page.length ? await this.endUsers.find(actor.tenantId, { where: { id: In([...new Set(page.map((c) => c.endUserId))]) } }) : [];
    const externalIds = new Map(owners.map((u) => [u.id, u.externalId]));
    const last = page[page.length - 1];
    return {
      data: page.map((connection) => ({ connection, externalId: externalIds.get(connection.endUserId) ?? '' })),
      nextCursor: rows.length > query.limit && last ? encodeTimeCursor(last.createdAt, last.id) : null,
    };
  }

  private async counts(actor: Actor, ids: string[]): Promise<Map<string, EndUserCounts>> {
    const out = new Map<string, EndUserCounts>(ids.map((id) => [id, { connectionCount: 0, needsReauthCount: 0, enabledFlowCount: 0 }]));
    if (ids.length === 0) return out;
    const connections: Array<{ end_user_id: string; total: string; needs_reauth: string }> = await this.connections
      .query(actor.tenantId, 'c')
      .andWhere('c.endUserId IN (:...ids)', { ids })
      .select('c.endUserId', 'end_user_id')
      .addSelect('count(*)', 'total')
      .addSelect(`count(*) FILTER (WHERE c.status = 'needs_reauth')`, 'needs_reauth')
      .groupBy('c.endUserId')
      .getRawMany();
    for (const row of connections) Object.assign(out.get(row.end_user_id)!, { connectionCount: Number(row.total), needsReauthCount: Number(row.needs_reauth) });
    const flows: Array<{ end_user_id: string; enabled: string }> = await this.instances
      .query(actor.tenantId, 'i')
      .andWhere('i.endUserId IN (:...ids) AND i.enabled', { ids })
      .select('i.endUserId', 'end_user_id')
      .addSelect('count(*)', 'enabled')
      .groupBy('i.endUserId')
      .getRawMany();
    for (const row of flows) out.get(row.end_user_id)!.enabledFlowCount = Number(row.enabled);
    return out;
  }
}
