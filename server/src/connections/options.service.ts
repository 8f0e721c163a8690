import { Injectable } from '@nestjs/common';
import { ProviderError } from '@switchboard/connectors';
import type { EndUserPrincipal } from '../auth/principal';
import { AppError, notFound } from '../common/errors/app-error';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { Connection } from './connection.entity';
import { ProviderClientService } from './provider-client.service';
import { isUUID } from 'class-validator';
import type { TenantId } from '../common/tenancy/tenant-id';

/** Labels of saved values: how many pages of an option source are read at most, and for how long in all. */
const LABEL_PAGES = 10;
const LABEL_TIME_MS = 10_000;

@Injectable()
export class OptionsService {
  constructor(
    @InjectTenantScoped(Connection) private readonly connections: TenantScopedRepository<Connection>,
    private readonly clients: ProviderClientService,
  ) {}

  async list(me: EndUserPrincipal, key: string, source: string, query: { search?: string; cursor?: string; connectionId?: string }) {
    if (me.allowedConnectors && !me.allowedConnectors.includes(key)) throw new AppError('forbidden', `This session may not use ${key}`);
    // A flow's settings form asks with the connection the flow is bound to; once that is disconnected
    // (or someone else's id is sent: the same answer) the end user needs to connect again, which a 404 would not say.
    const connection = query.connectionId
      ? isUUID(query.connectionId)
        ? await this.connections.findOne(me.tenantId, { id: query.connectionId, endUserId: me.endUserId, connectorKey: key })
        : null
      : (await this.connections.find(me.tenantId, { where: { endUserId: me.endUserId, connectorKey: key, status: 'active' }, order: { createdAt: 'ASC' }, take: 1 }))[0];
    if (!connection) {
      const message = query.connectionId
        ? `The ${key} connection ${query.connectionId} is no longer connected; connect ${key} again`
        : `Connect ${key} first: you have no active ${key} connection`;
      throw new AppError('connection_missing', message, { connector: key, ...(query.connectionId ? { connectionId: query.connectionId } : {}) });
    }
    if (connection.status !== 'active') {
      throw new AppError('connection_needs_reauth', `Your ${key} connection is ${connection.status.replace('_', ' ')}; reconnect ${key} first`, {
        connector: key,
        connectionId: connection.id,
        status: connection.status,
      });
    }
    const { http, definition } = await this.clients.forConnection(me.tenantId, connection.id);
    const optionSource = definition.options && Object.hasOwn(definition.options, source) ? definition.options[source] : undefined;
    if (!optionSource) throw notFound(`Option source ${source} of ${key}`);
    try {
      return await optionSource.run({ http, config: connection.config, idempotencyKey: `options:${connection.id}`, signal: AbortSignal.timeout(15_000) } as never, {
        search: query.search || undefined,
        cursor: query.cursor,
      });
    } catch (error) {
      if (error instanceof AppError) throw error;
      const message = error instanceof ProviderError ? error.message : `${definition.name} could not list ${optionSource.name}: ${(error as Error).message}`;
      throw new AppError('provider_error', message);
    }
  }

  /**
   * What an option source calls saved values (Slack channel ids → `#sales`), for views of an end
   * user's settings: reads the source with the connection the flow is bound to, page after page
   * until every value is found (at most LABEL_PAGES pages, LABEL_TIME_MS in all). Values not found
   * are left out; `error` says why none could be looked up (a connection gone, the provider failing).
   */
  async labels(tenantId: TenantId, connectionId: string | undefined, source: string, values: string[]): Promise<{ labels: Record<string, string>; error: string | null }> {
    const labels: Record<string, string> = {};
    const connection = connectionId && isUUID(connectionId) ? await this.connections.findOne(tenantId, { id: connectionId }) : null;
    if (!connection) return { labels, error: 'The connection this flow used is gone' };
    if (connection.status !== 'active') return { labels, error: `The ${connection.connectorKey} connection is ${connection.status.replace('_', ' ')}` };
    const signal = AbortSignal.timeout(LABEL_TIME_MS);
    try {
      const { http, definition } = await this.clients.forConnection(tenantId, connection.id);
      const optionSource = definition.options && Object.hasOwn(definition.options, source) ? definition.options[source] : undefined;
      if (!optionSource) return { labels, error: `${definition.name} has no option source ${source}` };
      const wanted = new Set(values);
      let cursor: string | undefined;
      for (let page = 0; page < LABEL_PAGES && wanted.size > 0; page++) {
        const answer = await optionSource.run({ http, config: connection.config, idempotencyKey: `options:${connection.id}`, signal } as never, { cursor });
        for (const option of answer.options) {
          if (wanted.delete(option.value)) labels[option.value] = option.label;
        }
        if (!answer.nextCursor) break;
        cursor = answer.nextCursor;
      }
      return { labels, error: null };
    } catch (error) {
      return { labels, error: error instanceof ProviderError || error instanceof AppError ? error.message : `Could not list ${source}: ${(error as Error).message}` };
    }
  }
}
