import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { AppError } from '../common/errors/app-error';
import { TenantId } from '../common/tenancy/tenant-id';
import { tenantSql } from '../common/tenancy/tenant-sql';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { EndUsersService } from '../end-users/end-users.service';
import { ConnectionEvents } from './connection-events';
import { Connection } from './connection.entity';
import { CredentialsService } from './credentials.service';
import { ProviderSubscriptionsService } from './provider-subscriptions.service';

@Injectable()
export class ConnectionsService {
  constructor(
    @InjectTenantScoped(Connection) private readonly connections: TenantScopedRepository<Connection>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly endUsers: EndUsersService,
    private readonly credentials: CredentialsService,
    private readonly audit: AuditService,
    private readonly events: ConnectionEvents,
    private readonly subscriptions: ProviderSubscriptionsService,
  ) {}

  async listForEndUser(actor: Actor, endUserId: string): Promise<Connection[]> {
    return this.connections.find(actor.tenantId, { where: { endUserId }, order: { createdAt: 'ASC' } });
  }

  async listForExternalId(actor: Actor, externalId: string): Promise<{ endUserId: string; connections: Connection[] }> {
    const endUser = await this.endUsers.get(actor, externalId);
    return { endUserId: endUser.id, connections: await this.listForEndUser(actor, endUser.id) };
  }

  /** A connection of the tenant, or (with `endUserId`) only of that end user; anything else is 404. */
  get(tenantId: TenantId, id: string, endUserId?: string): Promise<Connection> {
    return this.connections.get(tenantId, endUserId ? { id, endUserId } : { id }, id);
  }

  async externalIdOf(tenantId: TenantId, endUserId: string): Promise<string> {
    const rows: Array<{ external_id: string }> = await tenantSql(this.db).query(tenantId, `SELECT external_id FROM end_users WHERE tenant_id = $1 AND id = $2`, [endUserId]);
    return rows[0]?.external_id ?? '';
  }

  async remove(actor: Actor, id: string, endUserId?: string): Promise<void> {
    await this.connections.get(actor.tenantId, endUserId ? { id, endUserId } : { id }, id);
    // While the credentials still work: the provider stops sending events for this account.
    await this.subscriptions.removeForConnection(actor.tenantId, id);
    await this.db.transaction(async (manager) => {
      const repo = this.connections.with(manager);
      const connection = await repo.get(actor.tenantId, endUserId ? { id, endUserId } : { id }, id);
      await repo.delete(actor.tenantId, { id });
      await this.audit.record(actor, 'connection.deleted', { type: 'connection', id }, { connector: connection.connectorKey, account: connection.accountName }, manager);
      await this.events.publish(manager, actor.tenantId, 'connection.deleted', connection);
    });
    this.credentials.forget(id);
  }

  /** The one audited way to read a credential: a fresh access token (or API key) for the host's backend. */
  async accessToken(actor: Actor, id: string): Promise<{ accessToken: string; expiresAt: string | null }> {
    const { connection, credentials } = await this.credentials.fresh(actor.tenantId, id);
    const accessToken =
      credentials.type === 'oauth2'
        ? credentials.accessToken
        : credentials.type === 'api_key'
          ? credentials.apiKey
          : credentials.type === 'oauth2_client_credentials'
            ? credentials.accessToken
            : undefined;
    if (!accessToken) throw new AppError('conflict', `Connection ${id} uses ${credentials.type} credentials, which have no access token`);
    await this.audit.record(actor, 'connection.token_read', { type: 'connection', id }, { connector: connection.connectorKey });
    return { accessToken, expiresAt: connection.expiresAt?.toISOString() ?? null };
  }
}
