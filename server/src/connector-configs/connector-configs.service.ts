import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ConnectorDefinition, withSandbox } from '@switchboard/connectors';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { AppError, notFound } from '../common/errors/app-error';
import { TenantId, trustedTenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { acrossTenants, tenantSql } from '../common/tenancy/tenant-sql';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Vault } from '../vault/vault';
import { bindingFor } from '../vault/vault-fields';
import { InjectVault } from '../vault/vault.module';
import { ConnectorConfig, ConnectorSettings } from './connector-config.entity';
import { ConnectorRegistry } from './connector-registry.service';
import { ConnectionCache } from '../connections/connection-cache';

/** The sandbox's registered demo OAuth client, used when a sandboxed connector has none of its own. */
export const SANDBOX_CLIENT = { clientId: 'sandbox-client-id', clientSecret: 'sandbox-client-secret' };

export interface ConnectorConfigPatch {
  enabled?: boolean;
  clientId?: string | null;
  clientSecret?: string | null;
  webhookSigningSecret?: string | null;
  scopes?: string[] | null;
  settings?: ConnectorSettings;
}

export interface StoredSecrets {
  clientSecret: boolean;
  webhookSigningSecret: boolean;
}

/** Where an app-level provider webhook (`/v1/hooks/apps/:id`) goes, and the secrets it may be signed with. */
export interface AppWebhookTarget {
  tenantId: TenantId;
  connectorKey: string;
  definition: ConnectorDefinition;
  clientSecret: string | null;
  signingSecret: string | null;
}

/** Everything needed to talk to a provider for one tenant: the (maybe sandboxed) definition and its OAuth app. */
export interface ResolvedConnector {
  definition: ConnectorDefinition;
  config: ConnectorConfig;
  clientId: string | null;
  clientSecret: string | null;
  scopes: string[];
}

/**
 * SQL for a stamp that changes whenever what resolve() answers for tenant $1 and the connector key
 * `keySql` may change (its config, its imported OpenAPI actions, its custom provider), so a
 * statement the caller makes anyway can say whether a resolved connector is still current.
 */
export const connectorStampSql = (keySql: string): string =>
  `concat_ws('|', (SELECT updated_at::text FROM connector_configs WHERE tenant_id = $1 AND connector_key = ${keySql}),
     (SELECT string_agg(id::text || '@' || updated_at::text, ',' ORDER BY id) FROM connector_openapi_imports WHERE tenant_id = $1 AND connector_key = ${keySql}),
     (SELECT 'custom@' || updated_at::text FROM custom_providers WHERE tenant_id = $1 AND key = ${keySql}))`;

const STAMPED_LIMIT = 1000;

@Injectable()
export class ConnectorConfigsService {
  /** resolve()'s answers by tenant and connector, with the stamp they were current at. */
  private readonly stamped = new Map<string, { stamp: string; resolved: Promise<ResolvedConnector> }>();

  constructor(
    @InjectTenantScoped(ConnectorConfig) private readonly configs: TenantScopedRepository<ConnectorConfig>,
    @InjectDataSource() private readonly db: DataSource,
    @InjectVault() private readonly vault: Vault,
    @Inject(APP_CONFIG) private readonly appConfig: AppConfig,
    private readonly audit: AuditService,
    private readonly registry: ConnectorRegistry,
    private readonly cache: ConnectionCache,
  ) {}

  list(tenantId: TenantId): Promise<ConnectorConfig[]> {
    return this.configs.find(tenantId);
  }

  /** The connectors the tenant switched on (what its end users may connect). */
  listEnabled(tenantId: TenantId): Promise<ConnectorConfig[]> {
    return this.configs.find(tenantId, { where: { enabled: true } });
  }

  /** Which secrets each of the tenant's connectors has stored, in one query, without decrypting any. */
  async storedSecretsByKey(tenantId: TenantId): Promise<Map<string, StoredSecrets>> {
    const rows = await this.configs
      .query(tenantId, 'c')
      .select('c.connectorKey', 'key')
      .addSelect('c.clientSecret IS NOT NULL', 'client')
      .addSelect('c.webhookSigningSecret IS NOT NULL', 'signing')
      .getRawMany<{ key: string; client: boolean; signing: boolean }>();
    return new Map(rows.map((r) => [r.key, { clientSecret: r.client, webhookSigningSecret: r.signing }]));
  }

  /** The tenant's config for an enabled connector, or 404 (disabled and unknown look the same to end users). */
  /**
   * The connector as this tenant uses it. With `stamp` (connectorStampSql, read by the caller's own
   * statement), an answer resolved at the same stamp is reused instead of read again.
   */
  resolve(tenantId: TenantId, key: string, stamp?: string): Promise<ResolvedConnector> {
    if (stamp === undefined) return this.resolveNow(tenantId, key);
    const id = `${tenantId}:${key}`;
    const hit = this.stamped.get(id);
    if (hit?.stamp === stamp) return hit.resolved;
    const resolved = this.resolveNow(tenantId, key);
    this.stamped.delete(id);
    this.stamped.set(id, { stamp, resolved });
    if (this.stamped.size > STAMPED_LIMIT) this.stamped.delete(this.stamped.keys().next().value!);
    resolved.catch(() => this.stamped.get(id)?.resolved === resolved && this.stamped.delete(id));
    return resolved;
  }

  private async resolveNow(tenantId: TenantId, key: string): Promise<ResolvedConnector> {
    const definition = await this.registry.definition(tenantId, key);
    const config = await this.configs.query(tenantId, 'c').addSelect('c.clientSecret').andWhere('c.connectorKey = :key', { key }).getOne();
    if (!config || !config.enabled) throw new AppError('not_found', `Connector ${key} is not enabled for this tenant`);
    const sandboxed = Boolean(config.settings.useSandbox && this.appConfig.sandboxUrl);
    const clientSecret = config.clientSecret ? this.vault.decrypt(config.clientSecret, bindingFor('connectorClientSecret', config)) : null;
    const useSandboxClient = sandboxed && !config.clientId;
    // A connector with auth choices (the generic HTTP one) uses the kind the tenant picked.
    const chosen = config.settings.authType ? definition.authSpecs?.find((spec) => spec.type === config.settings.authType) : undefined;
    const effective = chosen ? { ...definition, auth: chosen } : definition;
    const auth = effective.auth;
    return {
      definition: sandboxed ? withSandbox(effective, this.appConfig.sandboxUrl!) : effective,
      config,
      clientId: useSandboxClient ? SANDBOX_CLIENT.clientId : config.clientId,
      clientSecret: useSandboxClient ? SANDBOX_CLIENT.clientSecret : clientSecret,
      scopes: config.scopes ?? ('scopes' in auth && auth.scopes ? auth.scopes : []),
    };
  }

  /** Creates or changes a tenant's connector config. The client secret is write-only and encrypted. */
  async upsert(actor: Actor, key: string, patch: ConnectorConfigPatch): Promise<ConnectorConfig> {
    const definition = await this.registry.definition(actor.tenantId, key);
    if (patch.settings?.authType && !definition.authChoices?.includes(patch.settings.authType as never)) {
      throw new AppError('validation_failed', `settings.authType: ${definition.name} offers ${definition.authChoices?.join(', ') ?? 'no auth choices'}`, {
        errors: [{ path: 'settings.authType', message: `must be one of ${definition.authChoices?.join(', ') ?? '(none)'}` }],
      });
    }
    if (patch.settings?.endUserApp && definition.auth.type !== 'oauth2') {
      throw new AppError('validation_failed', `settings.endUserApp: ${definition.name} does not use OAuth authorization, so there is no app to bring`, {
        errors: [{ path: 'settings.endUserApp', message: 'only for OAuth (authorization code) connectors' }],
      });
    }
    if (patch.settings?.useSandbox && !this.appConfig.sandboxUrl) {
      throw new AppError('validation_failed', 'settings.useSandbox: this deployment has no sandbox (SANDBOX_URL is not set)', {
        errors: [{ path: 'settings.useSandbox', message: 'no sandbox on this deployment' }],
      });
    }
    return this.cache.changing(actor.tenantId, () =>
      this.db.transaction(async (manager) => {
        const repo = this.configs.with(manager);
        await tenantSql(manager).query(
          actor.tenantId,
          `INSERT INTO connector_configs (tenant_id, connector_key, enabled) VALUES ($1, $2, false) ON CONFLICT (tenant_id, connector_key) DO NOTHING`,
          [key],
        );
        const current = await repo.query(actor.tenantId, 'c').addSelect('c.clientSecret').andWhere('c.connectorKey = :key', { key }).setLock('pessimistic_write').getOneOrFail();
        const changes: Partial<ConnectorConfig> = {};
        if (patch.enabled !== undefined && patch.enabled !== current.enabled) changes.enabled = patch.enabled;
        if (patch.clientId !== undefined && patch.clientId !== current.clientId) changes.clientId = patch.clientId;
        if (patch.clientSecret !== undefined) {
          changes.clientSecret = patch.clientSecret === null ? null : this.vault.encrypt(patch.clientSecret, bindingFor('connectorClientSecret', current));
        }
        if (patch.webhookSigningSecret !== undefined) {
          changes.webhookSigningSecret =
            patch.webhookSigningSecret === null ? null : this.vault.encrypt(patch.webhookSigningSecret, bindingFor('connectorWebhookSigningSecret', current));
        }
        if (patch.scopes !== undefined) changes.scopes = patch.scopes === null ? null : [...new Set(patch.scopes)];
        if (patch.settings !== undefined) {
          // Only the settings given change; a DTO's unset fields must not erase stored ones.
          const given = Object.fromEntries(Object.entries(patch.settings).filter(([, v]) => v !== undefined));
          changes.settings = { ...current.settings, ...given };
        }
        const next = { ...current, ...changes };
        const sandboxed = Boolean(next.settings.useSandbox);
        // With end users' own apps the tenant needs none; client-credentials clients are the end users' too.
        const appless = definition.auth.type === 'oauth2' && next.settings.endUserApp;
        if (next.enabled && definition.auth.type === 'oauth2' && !sandboxed && !appless && !(next.clientId && next.clientSecret)) {
          throw new AppError('validation_failed', `${definition.name} uses OAuth: set clientId and clientSecret (from your ${definition.name} app) before enabling it`, {
            errors: [{ path: next.clientId ? 'clientSecret' : 'clientId', message: 'is required to enable an OAuth connector' }],
          });
        }
        if (Object.keys(changes).length > 0) {
          await repo.update(actor.tenantId, { id: current.id }, changes);
          // Field names only: the secret's value never reaches the audit log.
          await this.audit.record(actor, 'connector_config.updated', { type: 'connector', id: key }, { fields: Object.keys(changes), enabled: next.enabled }, manager);
        }
        return repo.get(actor.tenantId, { id: current.id });
      }),
    );
  }

  remove(actor: Actor, key: string): Promise<void> {
    return this.cache.changing(actor.tenantId, () =>
      this.db.transaction(async (manager) => {
        const deleted = await this.configs.with(manager).delete(actor.tenantId, { connectorKey: key });
        if (deleted === 0) throw notFound('Connector config', key);
        await this.audit.record(actor, 'connector_config.deleted', { type: 'connector', id: key }, {}, manager);
      }),
    );
  }

  /**
   * The tenant app an app-level webhook URL names (its config id), with its secrets, or null. The
   * id decides the tenant, so this lookup is across tenants by design; the signature, checked with
   * the tenant's own secret, is what authenticates the call.
   */
  async appWebhookTarget(configId: string): Promise<AppWebhookTarget | null> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(configId)) return null;
    const [row]: Array<{ tenant_id: string; connector_key: string; enabled: boolean }> = await acrossTenants(
      this.db,
      'an app webhook URL names only its connector config, and the config decides the tenant',
      `SELECT tenant_id, connector_key, enabled FROM connector_configs WHERE id = $1`,
      [configId],
    );
    if (!row?.enabled) return null;
    const tenantId = trustedTenantId(row.tenant_id);
    const resolved = await this.resolve(tenantId, row.connector_key).catch(() => null);
    if (!resolved?.definition.webhooks || resolved.definition.webhooks.routing !== 'app') return null;
    const [secrets]: Array<{ webhook_signing_secret: string | null }> = await tenantSql(this.db).query(
      tenantId,
      `SELECT webhook_signing_secret FROM connector_configs WHERE tenant_id = $1 AND id = $2`,
      [configId],
    );
    const signingSecret = secrets?.webhook_signing_secret
      ? this.vault.decrypt(secrets.webhook_signing_secret, bindingFor('connectorWebhookSigningSecret', { tenantId, id: configId }))
      : null;
    return { tenantId, connectorKey: row.connector_key, definition: resolved.definition, clientSecret: resolved.clientSecret, signingSecret };
  }

  /** The tenant app's webhook signing secret for a connector, or null. */
  async appWebhookSecret(tenantId: TenantId, key: string): Promise<string | null> {
    const config = await this.configs.query(tenantId, 'c').addSelect('c.webhookSigningSecret').andWhere('c.connectorKey = :key', { key }).getOne();
    return config?.webhookSigningSecret ? this.vault.decrypt(config.webhookSigningSecret, bindingFor('connectorWebhookSigningSecret', config)) : null;
  }

  /** The URL a provider's app settings send events to, for connectors whose webhooks go to the app. */
  appWebhookUrl(config: Pick<ConnectorConfig, 'id'>): string {
    return `${this.appConfig.publicUrl}/v1/hooks/apps/${config.id}`;
  }

  /** Which secrets are set, without decrypting them. */
  async storedSecrets(tenantId: TenantId, key: string): Promise<StoredSecrets> {
    const row = await this.configs
      .query(tenantId, 'c')
      .select('c.clientSecret IS NOT NULL', 'client')
      .addSelect('c.webhookSigningSecret IS NOT NULL', 'signing')
      .andWhere('c.connectorKey = :key', { key })
      .getRawOne<{ client: boolean; signing: boolean }>();
    return { clientSecret: row?.client ?? false, webhookSigningSecret: row?.signing ?? false };
  }
}
