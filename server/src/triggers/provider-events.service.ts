import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { getConnector, type ProviderWebhooks, type WebhookEvent, type WebhookRequest, type WebhookTrigger as ConnectorWebhookTrigger } from '@switchboard/connectors';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { AppError } from '../common/errors/app-error';
import { storable } from '../common/http/hostile-input';
import { TenantId } from '../common/tenancy/tenant-id';
import { tenantSql } from '../common/tenancy/tenant-sql';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ProviderSubscriptionsService } from '../connections/provider-subscriptions.service';
import { ConnectorConfigsService } from '../connector-configs/connector-configs.service';
import { RunsService } from '../engine/runs.service';
import { bindingConnector, type WebhookTrigger } from '../flows/definition/flow-definition.schema';
import { connectorTrigger, WebhookTarget } from './instance-triggers.service';

/** A provider's call, as read off the wire. */
export interface ProviderCall {
  /** Path and query as received. */
  url: string;
  rawBody: Buffer;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** What a delivery did: its events, and the runs they started (a repeated event finds its first run). */
export interface ProviderDelivery {
  events: number;
  runIds: string[];
  /** A handshake's answer (Slack's URL check), sent back as is. */
  handshake?: { status: number; body: unknown };
}

interface Listener {
  tenantId: TenantId;
  instanceId: string;
  trigger: WebhookTrigger;
  input: Record<string, unknown>;
}

/**
 * Events providers push (connector-defined webhook triggers). A delivery is checked the provider's
 * way (its signature scheme and secret), split into events, routed to the instances listening for
 * them — by the instance's own URL, or for app-level webhooks by the account each event is about —
 * and each (event, instance) starts one run, keyed by the provider's event id so a redelivery
 * starts nothing.
 */
@Injectable()
export class ProviderEventsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly configs: ConnectorConfigsService,
    private readonly subscriptions: ProviderSubscriptionsService,
    private readonly runs: RunsService,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('ProviderEvents');
  }

  /** A delivery to one instance's URL (the provider subscription made for it). */
  async forInstance(target: WebhookTarget & { input: Record<string, unknown> }, call: ProviderCall): Promise<ProviderDelivery> {
    const key = bindingConnector(target.trigger.connector!);
    const hooks = getConnector(key)?.webhooks;
    if (!hooks) throw new AppError('not_found', 'Not found');
    const secret = await this.secretFor(hooks, target.tenantId, key, () => this.subscriptions.secretOf(target.tenantId, target.instanceId));
    const request = this.request(call);
    this.verify(hooks, request, secret, key);
    const handshake = hooks.handshake?.(request);
    if (handshake) return { events: 0, runIds: [], handshake };
    const events = hooks.events(request);
    const runIds: string[] = [];
    for (const event of events) {
      const runId = await this.start({ tenantId: target.tenantId, instanceId: target.instanceId, trigger: target.trigger, input: target.input }, event);
      if (runId) runIds.push(runId);
    }
    return { events: events.length, runIds };
  }

  /** A delivery to a tenant app's URL (`/v1/hooks/apps/:id`): routed by account to the connections it is about. */
  async forApp(configId: string, call: ProviderCall): Promise<ProviderDelivery> {
    const app = await this.configs.appWebhookTarget(configId);
    if (!app) throw new AppError('not_found', 'Not found');
    const hooks = app.definition.webhooks!;
    const secret = hooks.secret === 'signing_secret' ? app.signingSecret : app.clientSecret;
    const request = this.request(call);
    if (!secret) {
      const what = hooks.secret === 'signing_secret' ? 'webhook signing secret' : 'client secret';
      throw new AppError('webhook_signature_invalid', `The ${app.definition.name} app's ${what} is not set in Switchboard, so its webhooks cannot be checked`);
    }
    this.verify(hooks, request, secret, app.connectorKey);
    const handshake = hooks.handshake?.(request);
    if (handshake) return { events: 0, runIds: [], handshake };
    const events = hooks.events(request);
    const runIds: string[] = [];
    const accounts = new Map<string, string[]>();
    for (const event of events) {
      if (event.account === undefined) continue;
      let connections = accounts.get(event.account);
      if (!connections) {
        connections = await this.connectionsFor(app.tenantId, app.connectorKey, hooks, event.account);
        accounts.set(event.account, connections);
      }
      if (connections.length === 0) continue;
      for (const listener of await this.listeners(app.tenantId, app.connectorKey, connections)) {
        const runId = await this.start(listener, event);
        if (runId) runIds.push(runId);
      }
    }
    return { events: events.length, runIds };
  }

  /** One run for the event if the instance's trigger wants it; its id (the first run's, for a redelivery). */
  private async start(listener: Listener, event: WebhookEvent): Promise<string | null> {
    let definition: ConnectorWebhookTrigger;
    try {
      definition = connectorTrigger(listener.trigger as { connector: string; event: string }) as ConnectorWebhookTrigger;
    } catch {
      return null;
    }
    if (definition.kind !== 'webhook' || !definition.events.includes(event.type)) return null;
    const item = definition.map(event, listener.input);
    if (!item) return null;
    try {
      const { run, enqueue } = await this.runs.startInstanceRun({
        tenantId: listener.tenantId,
        instanceId: listener.instanceId,
        triggerType: 'webhook',
        trigger: storable(item.data),
        idempotencyKey: `event:${String(item.dedupeKey ?? event.id).slice(0, 200)}`,
      });
      await enqueue();
      await tenantSql(this.db).query(
        listener.tenantId,
        `UPDATE flow_instance_triggers SET last_item_at = now(), health = 'ok', failures = 0, last_error = NULL
          WHERE tenant_id = $1 AND id = $2 AND (health <> 'ok' OR last_item_at IS NULL OR last_item_at < now() - interval '1 second')`,
        [listener.instanceId],
      );
      return run.id;
    } catch (error) {
      // A paused or switched-off instance misses the event, like any other trigger would.
      if (error instanceof AppError && (error.code === 'flow_paused' || error.code === 'not_found')) return null;
      throw error;
    }
  }

  private async secretFor(hooks: ProviderWebhooks, tenantId: TenantId, key: string, subscriptionSecret: () => Promise<string | null>): Promise<string> {
    let secret: string | null;
    if (hooks.secret === 'subscription') secret = await subscriptionSecret();
    else {
      const resolved = await this.configs.resolve(tenantId, key).catch(() => null);
      secret = hooks.secret === 'client_secret' ? (resolved?.clientSecret ?? null) : ((await this.configs.appWebhookSecret(tenantId, key)) ?? null);
    }
    if (!secret) throw new AppError('webhook_signature_invalid', 'The webhook cannot be checked yet: its subscription has no signing secret');
    return secret;
  }

  private verify(hooks: ProviderWebhooks, request: WebhookRequest, secret: string, key: string): void {
    const problem = hooks.verify(request, secret, Date.now());
    if (problem) {
      this.logger.info({ connector: key, problem }, 'provider webhook refused: bad signature');
      throw new AppError('webhook_signature_invalid', `The webhook signature is not valid: ${problem}`);
    }
  }

  private request(call: ProviderCall): WebhookRequest {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(call.headers)) if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    return { method: 'POST', url: call.url, publicUrl: `${this.config.publicUrl}${call.url}`, headers, rawBody: call.rawBody, body: call.body };
  }

  /** The tenant's active connections of the connector whose account the event names. */
  private async connectionsFor(tenantId: TenantId, key: string, hooks: ProviderWebhooks, account: string): Promise<string[]> {
    const rows: Array<{ id: string; account_id: string; config: Record<string, string> }> = await tenantSql(this.db).query(
      tenantId,
      `SELECT id, account_id, config FROM connections WHERE tenant_id = $1 AND connector_key = $2 AND status = 'active'`,
      [key],
    );
    const keyOf = hooks.accountKey ?? ((c: { accountId: string }) => c.accountId);
    return rows.filter((r) => keyOf({ accountId: r.account_id, config: r.config ?? {} }) === account).map((r) => r.id);
  }

  /** Enabled instances of the tenant whose trigger is one of this connector's webhook triggers, bound to one of these connections. */
  private async listeners(tenantId: TenantId, key: string, connectionIds: string[]): Promise<Listener[]> {
    const rows: Array<{ id: string; trigger: WebhookTrigger; trigger_input: Record<string, unknown> | null }> = await tenantSql(this.db).query(
      tenantId,
      `SELECT t.id, v.definition -> 'trigger' AS trigger, t.trigger_input
         FROM flow_instance_triggers t
         JOIN flow_instances i ON i.id = t.id AND i.enabled
         JOIN flow_template_versions v ON v.id = i.version_id
        WHERE t.tenant_id = $1 AND t.type = 'webhook' AND t.trigger_key LIKE $2
          AND (i.connections ->> (v.definition -> 'trigger' ->> 'connector')) = ANY($3::text[])`,
      [`${key.replace(/[\\%_]/g, '\\$&')}.%`, connectionIds],
    );
    return rows.map((r) => ({ tenantId, instanceId: r.id, trigger: r.trigger, input: r.trigger_input ?? {} }));
  }
}
