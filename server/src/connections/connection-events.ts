import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { TenantId } from '../common/tenancy/tenant-id';
import { tenantSql } from '../common/tenancy/tenant-sql';
import { WebhookEventsService } from '../webhooks/webhook-events.service';
import type { Connection } from './connection.entity';
import { ConnectionView } from './connections.dto';

/** Outbound webhooks about connections, written in the transaction that made the change. */
@Injectable()
export class ConnectionEvents {
  constructor(private readonly webhooks: WebhookEventsService) {}

  async publish(manager: EntityManager, tenantId: TenantId, type: 'connection.created' | 'connection.needs_reauth' | 'connection.deleted', connection: Connection): Promise<void> {
    const rows: Array<{ external_id: string }> = await tenantSql(manager).query(tenantId, `SELECT external_id FROM end_users WHERE tenant_id = $1 AND id = $2`, [
      connection.endUserId,
    ]);
    const endUserId = rows[0]?.external_id ?? '';
    await this.webhooks.publish(tenantId, type, { endUserId, connection: ConnectionView.of(connection, endUserId) }, manager);
  }
}
