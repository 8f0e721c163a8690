import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { buildTokenRequest, ConnectorDefinition, OAuth2Auth, OAuth2ClientCredentialsAuth, parseTokenResponse, TokenResult, withConfigDefaults } from '@switchboard/connectors';
import type Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AppError } from '../common/errors/app-error';
import { createGuardedFetch } from '../common/net/guarded-fetch';
import { OutboundGuard } from '../common/net/outbound-guard';
import { TenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ConnectorConfigsService } from '../connector-configs/connector-configs.service';
import { InjectRedis } from '../redis/redis.module';
import { Vault } from '../vault/vault';
import { bindingFor } from '../vault/vault-fields';
import { InjectVault } from '../vault/vault.module';
import { tenantSql } from '../common/tenancy/tenant-sql';
import { ConnectionCache } from './connection-cache';
import { ConnectionEvents } from './connection-events';
import { CONNECTION_READ, ReadConnection, readConnection } from './connection-row';
import { Connection, Credentials } from './connection.entity';
import { retryDelayMs } from './retry';

// Outlasts the slowest refresh (3 attempts of up to 30 s plus backoff), so the lock never lapses mid-refresh.
const LOCK_TTL_MS = 120_000;
const REFRESH_ATTEMPTS = 3;
const LOCK_POLL_MS = 25;
const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** A connection with its credentials decrypted; `connectorStamp` when read with them (see connection-row.ts). */
export interface Loaded {
  connection: Connection;
  credentials: Credentials;
  connectorStamp?: string;
}

/**
 * Credentials of connections: decrypts them, and refreshes OAuth tokens shortly before expiry or
 * after a 401. A refresh is single-flight per connection across every process (a Redis lock, and
 * a re-read of the row after acquiring it), so a rotating refresh token is used exactly once.
 */
@Injectable()
export class CredentialsService {
  private readonly inflight = new Map<string, Promise<Loaded>>();
  private readonly fetch: ReturnType<typeof createGuardedFetch>;

  constructor(
    @InjectTenantScoped(Connection) private readonly connections: TenantScopedRepository<Connection>,
    @InjectDataSource() private readonly db: DataSource,
    @InjectVault() private readonly vault: Vault,
    @InjectRedis() private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly connectorConfigs: ConnectorConfigsService,
    private readonly audit: AuditService,
    guard: OutboundGuard,
    private readonly events: ConnectionEvents,
    private readonly cache: ConnectionCache,
  ) {
    this.fetch = createGuardedFetch(guard);
  }

  /** After this process changed a connection (committed): its next read comes from PostgreSQL. */
  forget(id: string): void {
    this.cache.forget(id);
  }

  seal(connection: Pick<Connection, 'tenantId' | 'id'>, credentials: Credentials): string {
    return this.vault.encryptJson(credentials, bindingFor('connectionCredentials', connection));
  }

  /** The connection with its credentials decrypted, and its connector's stamp (connection-row.ts), in one statement. */
  private async load(tenantId: TenantId, id: string): Promise<Loaded> {
    const {
      rows: [row],
    } = await tenantSql(this.db).prepared<{ read: Record<string, unknown> }>(
      'connection-read',
      tenantId,
      `SELECT ${CONNECTION_READ} AS read FROM connections c WHERE c.tenant_id = $1 AND c.id = $2`,
      [id],
    );
    if (!row) throw new AppError('not_found', `Connection ${id} was not found`);
    return this.unseal(readConnection(row.read));
  }

  /**
   * Credentials good for at least the refresh margin. `staleAccessToken`: a token the provider just
   * refused (401); refresh unless someone already replaced it.
   */
  async fresh(tenantId: TenantId, id: string, staleAccessToken?: string, endUserId?: string): Promise<Loaded> {
    // After a refused token, the row itself: the refresh decision must see what is stored now.
    const current = staleAccessToken ? await this.load(tenantId, id) : await this.cache.get(tenantId, id, () => this.load(tenantId, id));
    // An end user reaches only its own connections; another's is simply not there.
    if (endUserId && current.connection.endUserId !== endUserId) throw new AppError('not_found', `Connection ${id} was not found`);
    return this.freshFrom(tenantId, current, staleAccessToken);
  }

  /** fresh() for a connection the caller has just read with its sealed credentials (`unseal`). */
  async freshFrom(tenantId: TenantId, current: Loaded, staleAccessToken?: string): Promise<Loaded> {
    const { id } = current.connection;
    if (current.connection.status === 'needs_reauth' || current.connection.status === 'revoked') {
      throw new AppError('connection_needs_reauth', `Connection ${id} needs to be reconnected by its end user`, { status: current.connection.status });
    }
    if (!this.needsRefresh(current, staleAccessToken)) return current;
    // One refresh per connection per process; other processes wait on the Redis lock.
    const key = `${id}:${staleAccessToken ?? ''}`;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.refreshLocked(tenantId, id, staleAccessToken).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** A connection read with its sealed credentials (connection-row.ts), decrypted. */
  unseal({ connection, connectorStamp }: ReadConnection): Loaded {
    return { connection, connectorStamp, credentials: this.vault.decryptJson<Credentials>(connection.credentials, bindingFor('connectionCredentials', connection)) };
  }

  private needsRefresh({ connection, credentials }: { connection: Connection; credentials: Credentials }, staleAccessToken?: string): boolean {
    if (credentials.type !== 'oauth2' && credentials.type !== 'oauth2_client_credentials') return false;
    if (staleAccessToken) return credentials.accessToken === staleAccessToken;
    // The column mirrors the credentials' expiry and is what the background job selects on.
    if (!connection.expiresAt) return false;
    return connection.expiresAt.getTime() - Date.now() < this.config.tokenRefreshMarginSeconds * 1000;
  }

  private async refreshLocked(tenantId: TenantId, id: string, staleAccessToken?: string) {
    const lockKey = `refresh-lock:${id}`;
    const owner = randomBytes(16).toString('hex');
    const deadline = Date.now() + LOCK_TTL_MS;
    while ((await this.redis.set(lockKey, owner, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK') {
      if (Date.now() > deadline) throw new AppError('provider_timeout', `Timed out waiting for another process to refresh connection ${id}`);
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
    try {
      // Re-read under the lock: another process may have refreshed while we waited.
      const current = await this.load(tenantId, id);
      if (!this.needsRefresh(current, staleAccessToken)) return current;
      return await this.refresh(tenantId, current.connection, current.credentials);
    } finally {
      await this.redis.eval(RELEASE_LOCK, 1, lockKey, owner);
    }
  }

  private async refresh(tenantId: TenantId, connection: Connection, credentials: Credentials) {
    if (credentials.type === 'oauth2_client_credentials') return this.regrant(tenantId, connection, credentials);
    if (credentials.type !== 'oauth2' || !credentials.refreshToken) {
      await this.markNeedsReauth(tenantId, connection, 'The access token expired and the provider gave no refresh token');
      throw new AppError('connection_needs_reauth', `Connection ${connection.id} expired and cannot be refreshed; its end user must reconnect`);
    }
    const resolved = await this.connectorConfigs.resolve(tenantId, connection.connectorKey);
    const auth = resolved.definition.auth as OAuth2Auth;
    // A connection made with the end user's own OAuth app refreshes with that app: its tokens belong to it.
    const request = buildTokenRequest(
      auth,
      credentials.app ?? { clientId: resolved.clientId ?? '', clientSecret: resolved.clientSecret ?? '' },
      { grantType: 'refresh_token', refreshToken: credentials.refreshToken },
      withConfigDefaults(resolved.definition, connection.config),
    );
    const { status, body } = await this.tokenRequest(request, `${resolved.definition.name} to refresh the token`);
    const result = parseTokenResponse(auth, status, body);
    if (!result.ok) {
      if (result.invalidGrant) {
        await this.markNeedsReauth(tenantId, connection, `${resolved.definition.name} refused the refresh token (${result.error})`);
        throw new AppError('connection_needs_reauth', `${resolved.definition.name} no longer accepts this connection; its end user must reconnect`, {
          providerError: result.error,
        });
      }
      throw new AppError(status >= 500 ? 'provider_timeout' : 'provider_error', `${resolved.definition.name} refused the token refresh: ${result.error}`, {
        providerError: result.error,
      });
    }
    return this.saveRefreshed(
      tenantId,
      connection,
      {
        type: 'oauth2',
        accessToken: result.tokens.accessToken,
        // Providers that do not rotate send no new refresh token: keep the old one.
        refreshToken: result.tokens.refreshToken ?? credentials.refreshToken,
        expiresAt: result.tokens.expiresIn ? new Date(Date.now() + result.tokens.expiresIn * 1000).toISOString() : undefined,
        ...(credentials.app ? { app: credentials.app } : {}),
      },
      result.tokens.connectionConfig,
    );
  }

  /** A client-credentials connection gets a new token the way it got the first: the grant again, with its own client. */
  private async regrant(tenantId: TenantId, connection: Connection, credentials: Extract<Credentials, { type: 'oauth2_client_credentials' }>) {
    const resolved = await this.connectorConfigs.resolve(tenantId, connection.connectorKey);
    const result = await this.grantClientCredentials(resolved.definition, credentials, connection.config, resolved.scopes);
    if (!result.ok) {
      if (result.invalidClient || result.invalidGrant) {
        await this.markNeedsReauth(tenantId, connection, `${resolved.definition.name} refused the connection's client credentials (${result.error})`);
        throw new AppError('connection_needs_reauth', `${resolved.definition.name} no longer accepts this connection's client credentials; its end user must reconnect`, {
          providerError: result.error,
        });
      }
      throw new AppError(result.status >= 500 ? 'provider_timeout' : 'provider_error', `${resolved.definition.name} refused the token request: ${result.error}`, {
        providerError: result.error,
      });
    }
    return this.saveRefreshed(
      tenantId,
      connection,
      {
        ...credentials,
        accessToken: result.tokens.accessToken,
        expiresAt: result.tokens.expiresIn ? new Date(Date.now() + result.tokens.expiresIn * 1000).toISOString() : undefined,
      },
      result.tokens.connectionConfig,
    );
  }

  /**
   * The client-credentials grant with a connection's own client id and secret (the end user's API
   * client at the provider), at the token URL built from the connection config.
   */
  async grantClientCredentials(
    definition: ConnectorDefinition,
    client: { clientId: string; clientSecret: string },
    config: Record<string, string>,
    scopes: string[],
  ): Promise<TokenResult> {
    const auth = definition.auth as OAuth2ClientCredentialsAuth;
    const request = buildTokenRequest(auth, client, { grantType: 'client_credentials', scopes }, withConfigDefaults(definition, config));
    const { status, body } = await this.tokenRequest(request, definition.name);
    return parseTokenResponse(auth, status, body);
  }

  /**
   * Sends a token request. Transient failures are retried with backoff: 429/5xx (the provider said
   * it did not act) and connections that never reached it. A request that may have been processed
   * is not repeated: with rotating refresh tokens a repeat would spend a consumed token.
   */
  private async tokenRequest(request: ReturnType<typeof buildTokenRequest>, what: string): Promise<{ status: number; body: unknown }> {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetch(request.url, { method: 'POST', headers: request.headers, body: request.body, signal: AbortSignal.timeout(30_000) });
      } catch (error) {
        if (error instanceof AppError) throw error;
        const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
        if (attempt + 1 < REFRESH_ATTEMPTS && ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'].includes(code ?? '')) {
          await new Promise((r) => setTimeout(r, retryDelayMs(null, attempt)));
          continue;
        }
        throw new AppError('provider_timeout', `Could not reach ${what}: ${(error as Error).message}`);
      }
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // form-encoded or plain: parseTokenResponse copes
      }
      if ((response.status === 429 || response.status >= 500) && attempt + 1 < REFRESH_ATTEMPTS) {
        await new Promise((r) => setTimeout(r, retryDelayMs(response.headers.get('retry-after'), attempt)));
        continue;
      }
      return { status: response.status, body };
    }
  }

  private async saveRefreshed(tenantId: TenantId, connection: Connection, next: Credentials & { expiresAt?: string }, fromToken: Record<string, string>) {
    const now = new Date();
    const expiresAt = next.expiresAt ? new Date(next.expiresAt) : null;
    await this.connections.update(
      tenantId,
      { id: connection.id },
      {
        credentials: this.seal(connection, next),
        expiresAt,
        lastRefreshedAt: now,
        lastError: null,
        config: { ...connection.config, ...fromToken },
      },
    );
    this.forget(connection.id);
    return { connection: { ...connection, expiresAt, lastRefreshedAt: now }, credentials: next };
  }

  async markNeedsReauth(tenantId: TenantId, connection: Connection, reason: string): Promise<void> {
    await this.db.transaction(async (manager) => {
      const changed = await this.connections.with(manager).update(tenantId, { id: connection.id, status: 'active' }, { status: 'needs_reauth', lastError: reason });
      if (changed) {
        await this.audit.record(
          { tenantId, type: 'system', id: null },
          'connection.needs_reauth',
          { type: 'connection', id: connection.id },
          { connector: connection.connectorKey, reason },
          manager,
        );
        await this.events.publish(manager, tenantId, 'connection.needs_reauth', { ...connection, status: 'needs_reauth', lastError: reason, updatedAt: new Date() });
      }
    });
    this.forget(connection.id);
  }
}
