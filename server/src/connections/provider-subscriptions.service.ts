import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { getConnector } from '@switchboard/connectors';
import { PinoLogger } from 'nestjs-pino';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AppError } from '../common/errors/app-error';
import { TenantId, trustedTenantId } from '../common/tenancy/tenant-id';
import { acrossTenants, tenantSql } from '../common/tenancy/tenant-sql';
import { InjectVault } from '../vault/vault.module';
import type { Vault } from '../vault/vault';
import { bindingFor } from '../vault/vault-fields';
import { ProviderClientService } from './provider-client.service';

/** What an instance needs subscribed at the provider. */
export interface WantedSubscription {
  instanceId: string;
  connectionId: string;
  connectorKey: string;
  events: string[];
  input: Record<string, unknown>;
  url: string;
}

interface SubscriptionRow {
  id: string;
  tenant_id: string;
  instance_id: string;
  connection_id: string;
  connector_key: string;
  events: string[];
  input: Record<string, unknown>;
  url: string;
  provider_id: string | null;
  status: 'subscribing' | 'active' | 'unsubscribing';
  attempts: number;
  live: boolean;
}

/** Attempts at removing a subscription before giving up on it (the provider keeps sending; deliveries then find no instance). */
const MAX_UNSUBSCRIBE_ATTEMPTS = 8;
const MAX_BACKOFF_MS = 3600_000;
const CALL_TIMEOUT_MS = 15_000;
const CLAIM_BATCH = 50;

/**
 * Provider-side webhook subscriptions (GitHub repository hooks, Stripe endpoints, Shopify
 * subscriptions) follow the flows that need them. Enabling wants one; switching off, changing the
 * trigger, deleting the instance or disconnecting drops it. The provider is never called inside
 * the caller's transaction: rows say what is wanted, and the worker's reconcile makes it so, with
 * backoff, so a failed or rolled-back change never leaves a subscription the rows do not know.
 */
@Injectable()
export class ProviderSubscriptionsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectVault() private readonly vault: Vault,
    private readonly clients: ProviderClientService,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('ProviderSubscriptions');
  }

  /** The instance needs this subscription: kept if it already has it, else the old one is dropped and this one made. */
  async want(tenantId: TenantId, wanted: WantedSubscription, manager: EntityManager): Promise<void> {
    const [live]: Array<{ id: string; connection_id: string; events: string[]; input: unknown; url: string }> = await tenantSql(manager).query(
      tenantId,
      `SELECT id, connection_id, events, input, url FROM provider_subscriptions WHERE tenant_id = $1 AND instance_id = $2 AND status <> 'unsubscribing' FOR UPDATE`,
      [wanted.instanceId],
    );
    const same =
      live &&
      live.connection_id === wanted.connectionId &&
      live.url === wanted.url &&
      JSON.stringify([...live.events].sort()) === JSON.stringify([...wanted.events].sort()) &&
      JSON.stringify(live.input) === JSON.stringify(wanted.input);
    if (same) return;
    if (live) await this.dropRow(manager, tenantId, live.id);
    await tenantSql(manager).query(
      tenantId,
      `INSERT INTO provider_subscriptions (tenant_id, instance_id, connection_id, connector_key, events, input, url, status, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, 'subscribing', now())`,
      [wanted.instanceId, wanted.connectionId, wanted.connectorKey, wanted.events, JSON.stringify(wanted.input), wanted.url],
    );
  }

  /** The instance no longer needs its subscription (switched off, or its trigger changed). */
  async drop(tenantId: TenantId, instanceId: string, manager: EntityManager): Promise<void> {
    const rows: Array<{ id: string }> = await tenantSql(manager).query(
      tenantId,
      `SELECT id FROM provider_subscriptions WHERE tenant_id = $1 AND instance_id = $2 AND status <> 'unsubscribing'`,
      [instanceId],
    );
    for (const row of rows) await this.dropRow(manager, tenantId, row.id);
  }

  /** The signing secret of the instance's active subscription, or null. */
  async secretOf(tenantId: TenantId, instanceId: string): Promise<string | null> {
    const [row]: Array<{ id: string; secret: string | null }> = await tenantSql(this.db).query(
      tenantId,
      `SELECT id, secret FROM provider_subscriptions WHERE tenant_id = $1 AND instance_id = $2 AND status = 'active'`,
      [instanceId],
    );
    return row?.secret ? this.vault.decrypt(row.secret, bindingFor('providerSubscriptionSecret', { tenantId, id: row.id })) : null;
  }

  /**
   * Before a connection is deleted: remove its subscriptions at the provider while its credentials
   * still work (best effort, bounded in time; what fails is left to the reconcile, which gives up
   * once the connection is gone).
   */
  async removeForConnection(tenantId: TenantId, connectionId: string): Promise<void> {
    const [rows]: [SubscriptionRow[], number] = await tenantSql(this.db).query(
      tenantId,
      `UPDATE provider_subscriptions SET status = 'unsubscribing', next_attempt_at = now() + interval '1 minute', updated_at = now()
        WHERE tenant_id = $1 AND connection_id = $2 RETURNING *, false AS live`,
      [connectionId],
    );
    await Promise.all(rows.map((row) => this.unsubscribe(row).catch(() => undefined)));
  }

  /** One round of the worker's reconcile: drops what no enabled instance needs, then works the due rows. Answers how many were worked. */
  async reconcileDue(): Promise<number> {
    await acrossTenants(
      this.db,
      'a sweep of every tenant: an orphan (no enabled instance needs it) is a property of the row',
      `UPDATE provider_subscriptions s SET status = 'unsubscribing', next_attempt_at = now(), updated_at = now()
        WHERE s.status <> 'unsubscribing' AND NOT EXISTS (SELECT 1 FROM flow_instances i WHERE i.id = s.instance_id AND i.enabled)`,
    );
    // An UPDATE answers [rows, count].
    const [due]: [SubscriptionRow[], number] = await acrossTenants(
      this.db,
      'the worker claims due subscriptions of every tenant',
      `UPDATE provider_subscriptions s SET next_attempt_at = now() + interval '2 minutes'
        WHERE s.id IN (SELECT id FROM provider_subscriptions WHERE next_attempt_at <= now() ORDER BY next_attempt_at LIMIT ${CLAIM_BATCH} FOR UPDATE SKIP LOCKED)
       RETURNING s.*, true AS live`,
    );
    await Promise.all(due.map((row) => (row.status === 'unsubscribing' ? this.unsubscribe(row) : this.subscribe(row)).catch((error: unknown) => this.failed(row, error))));
    return due.length;
  }

  private async subscribe(row: SubscriptionRow): Promise<void> {
    const tenantId = trustedTenantId(row.tenant_id);
    const hooks = getConnector(row.connector_key)?.webhooks;
    if (!hooks?.subscribe) throw new AppError('validation_failed', `${row.connector_key} cannot subscribe to webhooks`);
    const { http, connection } = await this.clients.forConnection(tenantId, row.connection_id);
    const offered = `whsec_${randomBytes(24).toString('base64url')}`;
    const signal = AbortSignal.timeout(CALL_TIMEOUT_MS);
    const made = await hooks.subscribe(
      { http: { request: (request) => http.request(request, signal) }, config: connection.config, idempotencyKey: `subscribe:${row.id}`, signal },
      { url: row.url, secret: offered, events: row.events, input: row.input },
    );
    const secret = this.vault.encrypt(made.secret ?? offered, bindingFor('providerSubscriptionSecret', { tenantId, id: row.id }));
    const [, updated] = await tenantSql(this.db).query(
      tenantId,
      `UPDATE provider_subscriptions SET provider_id = $3, secret = $4, status = 'active', attempts = 0, last_error = NULL, next_attempt_at = NULL, updated_at = now()
        WHERE tenant_id = $1 AND id = $2 AND status = 'subscribing'`,
      [row.id, made.id, secret],
    );
    if (updated === 0) {
      // Dropped while it was being made: remove what was just made.
      await tenantSql(this.db).query(tenantId, `UPDATE provider_subscriptions SET provider_id = $3, next_attempt_at = now() WHERE tenant_id = $1 AND id = $2`, [row.id, made.id]);
      return;
    }
    await tenantSql(this.db).query(
      tenantId,
      `UPDATE flow_instance_triggers SET health = 'ok', failures = 0, last_error = NULL, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
      [row.instance_id],
    );
    this.logger.info({ instanceId: row.instance_id, tenantId, connector: row.connector_key, subscription: made.id }, 'provider webhook subscribed');
  }

  private async unsubscribe(row: SubscriptionRow): Promise<void> {
    const tenantId = trustedTenantId(row.tenant_id);
    const hooks = getConnector(row.connector_key)?.webhooks;
    if (row.provider_id && hooks?.unsubscribe) {
      let client: Awaited<ReturnType<ProviderClientService['forConnection']>> | null = null;
      try {
        client = await this.clients.forConnection(tenantId, row.connection_id);
      } catch (error) {
        // The connection is gone: nothing can remove the subscription on our side any more.
        if (!(error instanceof AppError && error.code === 'not_found')) throw error;
        this.logger.warn({ instanceId: row.instance_id, tenantId, subscription: row.provider_id }, 'provider webhook left in place: its connection is gone');
      }
      if (client) {
        const signal = AbortSignal.timeout(CALL_TIMEOUT_MS);
        const { http, connection } = client;
        await hooks.unsubscribe(
          { http: { request: (request) => http.request(request, signal) }, config: connection.config, idempotencyKey: `unsubscribe:${row.id}`, signal },
          { id: row.provider_id, input: row.input },
        );
      }
    }
    await tenantSql(this.db).query(tenantId, `DELETE FROM provider_subscriptions WHERE tenant_id = $1 AND id = $2`, [row.id]);
    this.logger.info({ instanceId: row.instance_id, tenantId, connector: row.connector_key, subscription: row.provider_id }, 'provider webhook removed');
  }

  private async failed(row: SubscriptionRow, error: unknown): Promise<void> {
    const tenantId = trustedTenantId(row.tenant_id);
    const attempts = row.attempts + 1;
    const message = (error as Error)?.message ?? String(error);
    if (row.status === 'unsubscribing' && attempts >= MAX_UNSUBSCRIBE_ATTEMPTS) {
      this.logger.warn({ instanceId: row.instance_id, subscription: row.provider_id, err: error }, 'gave up removing a provider webhook');
      await tenantSql(this.db).query(tenantId, `DELETE FROM provider_subscriptions WHERE tenant_id = $1 AND id = $2`, [row.id]);
      return;
    }
    const next = new Date(Date.now() + Math.min(MAX_BACKOFF_MS, 5000 * 2 ** Math.min(attempts - 1, 16)));
    await tenantSql(this.db).query(
      tenantId,
      `UPDATE provider_subscriptions SET attempts = $3, last_error = $4, next_attempt_at = $5, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
      [row.id, attempts, message.slice(0, 1000), next],
    );
    if (row.status === 'subscribing') {
      const code = error instanceof AppError ? error.code : 'subscription_failed';
      const lastError = { code, message: `Could not subscribe to ${row.connector_key} events: ${message}`, at: new Date().toISOString(), retryAt: next.toISOString() };
      await tenantSql(this.db).query(
        tenantId,
        `UPDATE flow_instance_triggers SET health = 'failing', failures = $3, last_error = $4::jsonb, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
        [row.instance_id, attempts, JSON.stringify(lastError)],
      );
      this.logger.warn({ instanceId: row.instance_id, tenantId: row.tenant_id, attempts, err: error }, 'provider webhook subscription failed; retrying');
    }
  }

  /**
   * Marks a subscription for removal. One being made right now keeps its claim (next_attempt_at is
   * then at most the 2-minute lease away): removing it before the provider answers would forget the
   * hook the answer creates.
   */
  private async dropRow(manager: EntityManager, tenantId: TenantId, id: string): Promise<void> {
    await tenantSql(manager).query(
      tenantId,
      `UPDATE provider_subscriptions SET status = 'unsubscribing', attempts = 0, next_attempt_at = LEAST(GREATEST(next_attempt_at, now()), now() + interval '2 minutes'), updated_at = now() WHERE tenant_id = $1 AND id = $2`,
      [id],
    );
  }
}
