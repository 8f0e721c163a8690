import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  ApiKeyAuth,
  BasicAuth,
  buildAuthorizationUrl,
  buildTokenRequest,
  ConnectorDefinition,
  createSimpleHttpClient,
  HttpError,
  ProviderError,
  OAuth2Auth,
  OAuth2ClientCredentialsAuth,
  parseTokenResponse,
  TokenResult,
  TokenSet,
  withConfigDefaults,
} from '@switchboard/connectors';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor, EndUserPrincipal } from '../auth/principal';
import { hashToken } from '../common/crypto/tokens';
import { createGuardedFetch } from '../common/net/guarded-fetch';
import { OutboundGuard } from '../common/net/outbound-guard';
import { TenantId, trustedTenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { acrossTenants } from '../common/tenancy/tenant-sql';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ConnectorConfigsService, ResolvedConnector } from '../connector-configs/connector-configs.service';
import { originNotAllowedMessage } from '../embed/widget-cors';
import { rebindToConnection } from '../flows/binding-health';
import { Tenant } from '../tenants/tenant.entity';
import { Vault } from '../vault/vault';
import { bindingFor } from '../vault/vault-fields';
import { InjectVault } from '../vault/vault.module';
import { Connection, Credentials, OAuthApp } from './connection.entity';
import { ConnectResult } from './connect-pages';
import { configPositions, configValueProblem } from './connection-config';
import { ConnectionEvents } from './connection-events';
import { CredentialsService } from './credentials.service';
import { OAuthState } from './oauth-state.entity';

const STATE_TTL_MS = 10 * 60 * 1000;

export class ConnectError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Runs the connect popup: OAuth authorization with PKCE and single-use state, or a credentials form verified against the provider. */
@Injectable()
export class ConnectService {
  private readonly fetch: ReturnType<typeof createGuardedFetch>;

  constructor(
    @InjectTenantScoped(Connection) private readonly connections: TenantScopedRepository<Connection>,
    @InjectTenantScoped(OAuthState) private readonly states: TenantScopedRepository<OAuthState>,
    @InjectDataSource() private readonly db: DataSource,
    @InjectVault() private readonly vault: Vault,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly configs: ConnectorConfigsService,
    private readonly credentials: CredentialsService,
    private readonly audit: AuditService,
    guard: OutboundGuard,
    private readonly events: ConnectionEvents,
  ) {
    this.fetch = createGuardedFetch(guard);
  }

  get redirectUri(): string {
    return `${this.config.publicUrl}/oauth/callback`;
  }

  /** The opener origin must be one of the tenant's allowed origins, exactly; null when none was given. */
  async checkOrigin(tenantId: TenantId, origin: string | undefined): Promise<string | null> {
    if (!origin) return null;
    const tenant = await this.db.getRepository(Tenant).findOneOrFail({ where: { id: tenantId } });
    if (!tenant.allowedOrigins.includes(origin)) {
      throw new ConnectError('origin_not_allowed', originNotAllowedMessage(origin));
    }
    return origin;
  }

  /** Checks the session may connect this connector and returns the tenant's resolved connector. */
  async prepare(principal: EndUserPrincipal, key: string, connectionId?: string): Promise<ResolvedConnector> {
    if (principal.allowedConnectors && !principal.allowedConnectors.includes(key)) {
      throw new ConnectError('connector_not_allowed', `This session may not connect ${key}`);
    }
    let resolved: ResolvedConnector;
    try {
      resolved = await this.configs.resolve(principal.tenantId, key);
    } catch {
      throw new ConnectError('connector_not_enabled', `${key} is not available in this app`);
    }
    if (connectionId) {
      const existing = await this.connections.findOne(principal.tenantId, { id: connectionId, endUserId: principal.endUserId, connectorKey: key });
      if (!existing) throw new ConnectError('connection_not_found', 'The connection to reconnect was not found');
    }
    return resolved;
  }

  /** The config of the connection being reconnected, to prefill the form (the same subdomain, say). */
  async reconnectConfig(principal: EndUserPrincipal, key: string, connectionId?: string): Promise<Record<string, string>> {
    if (!connectionId) return {};
    const existing = await this.connections.findOne(principal.tenantId, { id: connectionId, endUserId: principal.endUserId, connectorKey: key });
    return existing?.config ?? {};
  }

  /** Whether the end user must fill in connection config (a subdomain, say) before connecting. */
  asksConfig(definition: ConnectorDefinition): boolean {
    return Object.values(definition.connectionConfig ?? {}).some((field) => !field.fromToken && !field.fromCallback && !field.fromAccount);
  }

  /**
   * The connection config the end user typed (`config.<name>` fields), checked against each
   * field's pattern; values the provider sends (fromToken, fromCallback, fromAccount) are not asked for.
   */
  askedConfig(definition: ConnectorDefinition, fields: Record<string, string | undefined>): Record<string, string> {
    const config: Record<string, string> = {};
    const positions = configPositions(definition);
    for (const [name, field] of Object.entries(definition.connectionConfig ?? {})) {
      if (field.fromToken || field.fromCallback || field.fromAccount) continue;
      const value = (fields[`config.${name}`] ?? '').trim();
      if (!value && field.default === undefined && !field.optional) throw new ConnectError('missing_config', `${field.title} is required`);
      if (value && field.pattern && !new RegExp(`^(?:${field.pattern})$`).test(value))
        throw new ConnectError('invalid_config', `${field.title} does not look right${field.example ? ` (e.g. ${field.example})` : ''}`);
      const problem = value ? configValueProblem(positions.get(name), value) : undefined;
      if (problem) throw new ConnectError('invalid_config', `${field.title} ${problem}`);
      if (value) config[name] = value;
    }
    return config;
  }

  /** Whether the tenant lets end users bring their own OAuth app for this connector (the popup asks for it first). */
  asksForEndUserApp(resolved: ResolvedConnector): boolean {
    return resolved.definition.auth.type === 'oauth2' && Boolean(resolved.config.settings.endUserApp);
  }

  /**
   * Starts OAuth: stores a single-use state (hashed) with an encrypted PKCE verifier, the connection
   * config asked so far and the end user's own app (when they brought one); returns the provider's
   * authorize URL (built from that config).
   */
  async beginOAuth(
    principal: EndUserPrincipal,
    resolved: ResolvedConnector,
    opts: { origin: string | null; connectionId?: string; config?: Record<string, string>; app?: OAuthApp },
  ): Promise<string> {
    const oauth = await import('oauth4webapi');
    const auth = resolved.definition.auth as OAuth2Auth;
    const clientId = opts.app?.clientId ?? resolved.clientId;
    if (!clientId) throw new ConnectError('connector_misconfigured', `${resolved.definition.name} has no OAuth app configured in this app`);
    const state = oauth.generateRandomState();
    const verifier = oauth.generateRandomCodeVerifier();
    const id = (await this.db.query(`SELECT gen_random_uuid() AS id`))[0].id as string;
    await this.states.insert(principal.tenantId, {
      id,
      endUserId: principal.endUserId,
      connectorKey: resolved.definition.key,
      stateHash: hashToken(state),
      codeVerifier: this.vault.encrypt(verifier, bindingFor('oauthCodeVerifier', { tenantId: principal.tenantId, id })),
      endUserApp: opts.app ? this.vault.encryptJson(opts.app, bindingFor('oauthEndUserApp', { tenantId: principal.tenantId, id })) : null,
      redirectUri: this.redirectUri,
      openerOrigin: opts.origin,
      connectionId: opts.connectionId ?? null,
      connectionConfig: opts.config ?? {},
      expiresAt: new Date(Date.now() + STATE_TTL_MS),
    });
    const url = buildAuthorizationUrl(auth, {
      clientId,
      redirectUri: this.redirectUri,
      state,
      codeChallenge: auth.pkce === false ? undefined : await oauth.calculatePKCECodeChallenge(verifier),
      scopes: resolved.scopes,
      config: withConfigDefaults(resolved.definition, opts.config ?? {}),
    });
    return url.toString();
  }

  /**
   * The provider sent the browser back. The state is consumed atomically (a replay finds nothing),
   * the code exchanged with the verifier, the account identified, the connection stored.
   */
  async finishOAuth(params: URLSearchParams): Promise<{ result: ConnectResult; targetOrigin: string | null; connectorName: string }> {
    const state = params.get('state');
    if (!state) throw new ConnectError('invalid_state', 'This sign-in did not come from Switchboard (no state); start again from the app');
    // The state decides the tenant; consume it in one statement so two callbacks cannot both use it.
    // TypeORM answers an UPDATE … RETURNING with [rows, count].
    const [rows]: [Array<Record<string, string | null> & { connection_config: Record<string, string> }>, number] = await acrossTenants(
      this.db,
      'an OAuth callback presents only its state, and the state decides the tenant',
      `UPDATE oauth_states SET consumed_at = now()
        WHERE state_hash = $1 AND consumed_at IS NULL AND expires_at > now()
        RETURNING id, tenant_id, end_user_id, connector_key, code_verifier, end_user_app, redirect_uri, opener_origin, connection_id, connection_config`,
      [hashToken(state)],
    );
    const row = rows[0];
    if (!row) throw new ConnectError('invalid_state', 'This sign-in link has expired or was already used; start again from the app');
    const tenantId = trustedTenantId(row.tenant_id!);
    const key = row.connector_key!;
    const resolved = await this.configs.resolve(tenantId, key).catch(() => {
      throw new ConnectError('connector_not_enabled', `${key} is no longer available in this app`);
    });
    const name = resolved.definition.name;
    const fail = (code: string, message: string) => ({
      result: { status: 'error' as const, connector: key, error: { code, message } },
      targetOrigin: row.opener_origin,
      connectorName: name,
    });

    const providerError = params.get('error');
    if (providerError) {
      return providerError === 'access_denied'
        ? fail('consent_denied', `You did not allow access to ${name}. Nothing was connected.`)
        : fail('provider_error', `${name} reported an error: ${params.get('error_description') ?? providerError}`);
    }
    const code = params.get('code');
    if (!code) return fail('invalid_callback', `${name} sent no authorization code`);

    // What the end user gave before the redirect, then what the provider put on the callback (QuickBooks' realmId).
    const askedConfig = { ...row.connection_config };
    const positions = configPositions(resolved.definition);
    for (const [field, spec] of Object.entries(resolved.definition.connectionConfig ?? {})) {
      if (!spec.fromCallback) continue;
      const value = params.get(typeof spec.fromCallback === 'string' ? spec.fromCallback : field);
      if (!value && !spec.optional) return fail('invalid_callback', `${name} sent no ${field} with the authorization code`);
      const problem = value ? configValueProblem(positions.get(field), value) : undefined;
      if (problem) return fail('invalid_callback', `The ${field} ${name} sent with the authorization code ${problem}`);
      // Anyone can edit a callback URL, and a URL value (Adobe Sign's api_access_point) is where the code and client secret go next:
      // it must look like the provider's (in sandbox mode, the sandbox's).
      const sandboxed = resolved.config.settings.useSandbox && this.config.sandboxUrl && value?.startsWith(`${this.config.sandboxUrl}/`);
      if (value && spec.pattern && !sandboxed && !new RegExp(`^(?:${spec.pattern})$`).test(value)) {
        return fail('invalid_callback', `The ${field} ${name} sent with the authorization code does not look like ${name}'s`);
      }
      if (value) askedConfig[field] = value;
    }
    const verifier = this.vault.decrypt(row.code_verifier!, bindingFor('oauthCodeVerifier', { tenantId, id: row.id! }));
    const auth = resolved.definition.auth as OAuth2Auth;
    // The end user's own app, when they brought one, is bound to this state: it alone exchanges the code.
    const app = row.end_user_app ? this.vault.decryptJson<OAuthApp>(row.end_user_app, bindingFor('oauthEndUserApp', { tenantId, id: row.id! })) : undefined;
    const request = buildTokenRequest(
      auth,
      app ?? { clientId: resolved.clientId ?? '', clientSecret: resolved.clientSecret ?? '' },
      { grantType: 'authorization_code', code, redirectUri: row.redirect_uri!, codeVerifier: auth.pkce === false ? undefined : verifier },
      withConfigDefaults(resolved.definition, askedConfig),
    );
    let response: Response;
    try {
      response = await this.fetch(request.url, { method: 'POST', headers: request.headers, body: request.body, signal: AbortSignal.timeout(15_000) });
    } catch (error) {
      return fail('provider_unreachable', `Could not reach ${name}: ${(error as Error).message}`);
    }
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // parseTokenResponse reads form-encoded answers too
    }
    const token = parseTokenResponse(auth, response.status, body);
    if (!token.ok) {
      if (token.invalidClient && app) {
        return fail(
          'app_rejected',
          `${name} rejected the OAuth app you entered (${token.error}): check its client id and secret, and that ${this.redirectUri} is registered as its redirect URI, then try again`,
        );
      }
      return token.invalidClient
        ? fail('connector_misconfigured', `${name} rejected this app's OAuth client (${token.error}); the app's admin must fix its ${name} settings`)
        : fail('token_exchange_failed', `${name} did not accept the sign-in (${token.error}); please try again`);
    }
    const credentials: Credentials = {
      type: 'oauth2',
      accessToken: token.tokens.accessToken,
      refreshToken: token.tokens.refreshToken,
      expiresAt: token.tokens.expiresIn ? new Date(Date.now() + token.tokens.expiresIn * 1000).toISOString() : undefined,
      ...(app ? { app } : {}),
    };
    const connectionConfig = { ...askedConfig, ...token.tokens.connectionConfig };
    const scopes = token.tokens.scope ? token.tokens.scope.split(/[ ,]+/).filter(Boolean) : resolved.scopes;
    try {
      const account = await this.identify(resolved.definition, credentials, connectionConfig, token.tokens);
      Object.assign(connectionConfig, account.config);
      const actor: Actor = { tenantId, type: 'end_user', id: row.end_user_id };
      const connection = await this.store(actor, row.end_user_id!, resolved.definition, account, credentials, connectionConfig, scopes, row.connection_id);
      return { result: { status: 'connected', connector: key, connectionId: connection.id }, targetOrigin: row.opener_origin, connectorName: name };
    } catch (error) {
      if (error instanceof ConnectError) return fail(error.code, error.message);
      throw error;
    }
  }

  /** API-key and basic credentials: checked against the provider (account()) before anything is saved. */
  async connectWithCredentials(principal: EndUserPrincipal, resolved: ResolvedConnector, fields: Record<string, string>, connectionId?: string): Promise<Connection> {
    const auth = resolved.definition.auth as ApiKeyAuth | BasicAuth | OAuth2ClientCredentialsAuth;
    const config = this.askedConfig(resolved.definition, fields);
    if (auth.type === 'oauth2_client_credentials') {
      const credentials = await this.grantClientCredentials(resolved, fields, config);
      const account = await this.identify(resolved.definition, credentials, config);
      Object.assign(config, account.config);
      return this.store(
        { tenantId: principal.tenantId, type: 'end_user', id: principal.endUserId },
        principal.endUserId,
        resolved.definition,
        account,
        credentials,
        config,
        resolved.scopes,
        connectionId ?? null,
      );
    }
    const credentials: Credentials =
      auth.type === 'api_key'
        ? { type: 'api_key', apiKey: (fields.apiKey ?? '').trim() }
        : { type: 'basic', username: auth.username ?? fields.username ?? '', password: auth.password ?? fields.password ?? '' };
    if (credentials.type === 'api_key' && !credentials.apiKey)
      throw new ConnectError('missing_credentials', `Enter your ${auth.type === 'api_key' ? (auth.label ?? 'API key') : 'credentials'}`);
    const account = await this.identify(resolved.definition, credentials, config);
    Object.assign(config, account.config);
    return this.store(
      { tenantId: principal.tenantId, type: 'end_user', id: principal.endUserId },
      principal.endUserId,
      resolved.definition,
      account,
      credentials,
      config,
      [],
      connectionId ?? null,
    );
  }

  /**
   * Client credentials: the end user's own API client at the provider (id and secret typed in the
   * form) gets a token; the config it returns (fromToken) joins the connection's.
   */
  private async grantClientCredentials(resolved: ResolvedConnector, fields: Record<string, string>, config: Record<string, string>): Promise<Credentials> {
    const name = resolved.definition.name;
    const client = { clientId: (fields.clientId ?? '').trim(), clientSecret: fields.clientSecret ?? '' };
    if (!client.clientId || !client.clientSecret) throw new ConnectError('missing_credentials', `Enter the client ID and client secret of your ${name} API client`);
    let token: TokenResult;
    try {
      token = await this.credentials.grantClientCredentials(resolved.definition, client, config, resolved.scopes);
    } catch (error) {
      throw new ConnectError('provider_unreachable', `Could not reach ${name}: ${(error as Error).message}`);
    }
    if (!token.ok) throw new ConnectError('credentials_rejected', `${name} did not accept this client ID and secret (${token.error}). Check them and try again.`);
    Object.assign(config, token.tokens.connectionConfig);
    return {
      type: 'oauth2_client_credentials',
      ...client,
      accessToken: token.tokens.accessToken,
      expiresAt: token.tokens.expiresIn ? new Date(Date.now() + token.tokens.expiresIn * 1000).toISOString() : undefined,
    };
  }

  /** Calls the connector's account() with the new credentials: it names the account and proves they work. */
  private async identify(definition: ConnectorDefinition, credentials: Credentials, config: Record<string, string>, tokens?: TokenSet) {
    const http = createSimpleHttpClient({
      connector: definition,
      config,
      credentials:
        credentials.type === 'oauth2' || credentials.type === 'oauth2_client_credentials' ? { type: credentials.type, accessToken: credentials.accessToken ?? '' } : credentials,
      fetch: this.fetch as typeof fetch,
    });
    try {
      return await definition.account({
        http,
        config: withConfigDefaults(definition, config),
        idempotencyKey: `connect:${randomBytes(8).toString('hex')}`,
        signal: AbortSignal.timeout(15_000),
        tokenResponse: tokens?.raw,
      } as never);
    } catch (error) {
      // The provider said no: say it plainly. Anything else (unreachable, refused address) is worth its reason.
      const reason = error instanceof HttpError || error instanceof ProviderError ? ' Check them and try again.' : ` (${(error as Error).message})`;
      throw new ConnectError('credentials_rejected', `${definition.name} did not accept these credentials.${reason}`);
    }
  }

  /** Creates the connection, or replaces the credentials of the same one (reconnect, or the same account again). */
  private async store(
    actor: Actor,
    endUserId: string,
    connector: Pick<ConnectorDefinition, 'key' | 'name'>,
    account: { id: string; name: string },
    credentials: Credentials,
    config: Record<string, string>,
    scopes: string[],
    reconnectId: string | null,
  ): Promise<Connection> {
    const key = connector.key;
    const saved = await this.db.transaction(async (manager: EntityManager) => {
      const repo = this.connections.with(manager);
      const existing = reconnectId
        ? await repo.findOne(actor.tenantId, { id: reconnectId, endUserId, connectorKey: key })
        : await repo.findOne(actor.tenantId, { endUserId, connectorKey: key, accountId: account.id });
      const expiresAt = (credentials.type === 'oauth2' || credentials.type === 'oauth2_client_credentials') && credentials.expiresAt ? new Date(credentials.expiresAt) : null;
      if (existing) {
        await repo.update(
          actor.tenantId,
          { id: existing.id },
          {
            credentials: this.credentials.seal(existing, credentials),
            status: 'active',
            accountId: account.id,
            accountName: account.name,
            config,
            scopes,
            expiresAt,
            lastError: null,
            lastRefreshedAt: null,
          },
        );
        await this.audit.record(actor, 'connection.reconnected', { type: 'connection', id: existing.id }, { connector: key, account: account.name }, manager);
        const reconnected = await repo.get(actor.tenantId, { id: existing.id });
        await this.events.publish(manager, actor.tenantId, 'connection.created', reconnected);
        await rebindToConnection(manager, this.audit, actor, reconnected, connector.name);
        return reconnected;
      }
      const id = (await manager.query(`SELECT gen_random_uuid() AS id`))[0].id as string;
      const created = await repo.insert(actor.tenantId, {
        id,
        endUserId,
        connectorKey: key,
        status: 'active',
        accountId: account.id,
        accountName: account.name,
        credentials: this.credentials.seal({ tenantId: actor.tenantId, id }, credentials),
        config,
        scopes,
        expiresAt,
      });
      await this.audit.record(actor, 'connection.created', { type: 'connection', id }, { connector: key, account: account.name }, manager);
      await this.events.publish(manager, actor.tenantId, 'connection.created', created);
      // A flow paused because its connection was disconnected resumes on the new one.
      await rebindToConnection(manager, this.audit, actor, created, connector.name);
      return created;
    });
    this.credentials.forget(saved.id);
    return saved;
  }
}
