import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager, In } from 'typeorm';
import { AppError } from '../common/errors/app-error';
import { hashToken } from '../common/crypto/tokens';
import { TenantId, trustedTenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { acrossTenants, tenantSql } from '../common/tenancy/tenant-sql';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { EndUser } from '../end-users/end-user.entity';
import { DEFAULT_MIN_POLL_SECONDS, getConnector, TriggerDefinition } from '@switchboard/connectors';
import Ajv2020, { ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { durationMs } from '../flows/definition/durations';
import { evaluate, ExpressionError } from '../flows/definition/expressions';
import { bindingConnector, type PollTrigger, type Trigger, type WebhookTrigger } from '../flows/definition/flow-definition.schema';
import { InjectVault } from '../vault/vault.module';
import type { Vault } from '../vault/vault';
import { bindingFor } from '../vault/vault-fields';
import { bindingsHealthySql } from '../flows/binding-health';
import { ProviderSubscriptionsService } from '../connections/provider-subscriptions.service';
import { InstanceTrigger, TriggerError } from './instance-trigger.entity';
import { nextFire, scheduleProblems } from './schedule';

/** What an instance view shows of its trigger. */
export interface TriggerState {
  nextRunAt: Date | null;
  webhookUrl: string | null;
  /** Only for webhook triggers that declare `verify`: the key of the HMAC the sender must add. */
  webhookSecret: string | null;
  /** Poll triggers and provider webhooks: whether the trigger works; null for the others. */
  health: TriggerHealth | null;
}

export interface TriggerHealth {
  /** 'waiting': not checked yet (the first poll, or the provider subscription, is to come). */
  status: 'ok' | 'failing' | 'waiting';
  error: TriggerError | null;
  /** The last successful poll. */
  lastCheckedAt: Date | null;
  /** When an item last started a run. */
  lastItemAt: Date | null;
  /** The next poll (null while off). */
  nextCheckAt: Date | null;
}

/** The instance a webhook URL belongs to, found by its token. */
export interface WebhookTarget {
  tenantId: TenantId;
  instanceId: string;
  trigger: WebhookTrigger;
  secret: string | null;
  /** A connector's webhook trigger: its parameters as evaluated when enabled. */
  input: Record<string, unknown>;
}

/** The parts of an instance its trigger state depends on. */
export interface InstanceForTrigger {
  id: string;
  endUserId: string;
  enabled: boolean;
  settings: Record<string, unknown>;
  /** binding → connection id */
  connections: Record<string, string>;
}

// The URL token and the signing secret: 256 random bits, prefixed by kind like every other token.
const newWebhookToken = () => `whk_${randomBytes(32).toString('base64url')}`;
const newWebhookSecret = () => `whks_${randomBytes(32).toString('base64url')}`;

/**
 * Keeps each instance's trigger state in line with the instance: the schedule's next fire (from
 * the cron and time zone evaluated against the instance's settings and end user), and the webhook
 * URL token and signing secret. Called by FlowInstancesService inside its transactions.
 */
@Injectable()
export class InstanceTriggersService {
  constructor(
    @InjectTenantScoped(InstanceTrigger) private readonly rows: TenantScopedRepository<InstanceTrigger>,
    @InjectTenantScoped(EndUser) private readonly endUsers: TenantScopedRepository<EndUser>,
    @InjectDataSource() private readonly db: DataSource,
    @InjectVault() private readonly vault: Vault,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly subscriptions: ProviderSubscriptionsService,
  ) {}

  /**
   * After an enable, a settings change or an upgrade: the schedule is recomputed from now, a
   * webhook keeps its URL (or gets one), other triggers keep no state. A disabled instance's
   * schedule is cleared.
   */
  async sync(tenantId: TenantId, instance: InstanceForTrigger, trigger: Trigger, manager: EntityManager, now = new Date()): Promise<void> {
    const rows = this.rows.with(manager);
    const existing = await rows.findOne(tenantId, { id: instance.id });
    if (trigger.type === 'schedule') {
      const schedule = await this.resolveSchedule(tenantId, instance, trigger, manager);
      const values = {
        type: 'schedule' as const,
        ...schedule,
        nextFireAt: instance.enabled ? nextFire(schedule, now) : null,
        ...NO_WEBHOOK,
        ...NO_POLL,
        triggerKey: null,
        triggerInput: null,
      };
      if (existing) await rows.update(tenantId, { id: instance.id }, values);
      else await rows.insert(tenantId, { id: instance.id, ...values });
      return;
    }
    if (trigger.type === 'poll') {
      const resolved = await this.resolveConnectorTrigger(tenantId, instance, trigger, manager);
      const interval = await this.resolveInterval(tenantId, instance, trigger, manager);
      const triggerKey = `${bindingConnector(trigger.connector)}.${trigger.event}`;
      // Same trigger and parameters, and polling: keep the cursor. Anything else (first enable, back
      // on after being off, another event or input) starts over with the first-run policy.
      const keep = existing?.type === 'poll' && existing.nextPollAt !== null && instance.enabled && existing.triggerKey === triggerKey && sameJson(existing.triggerInput, resolved);
      const values = {
        type: 'poll' as const,
        ...NO_SCHEDULE,
        ...NO_WEBHOOK,
        triggerKey,
        triggerInput: resolved,
        pollIntervalSeconds: interval,
        backfill: trigger.backfill ?? 0,
        ...(keep ? {} : { pollCursor: null, polledAt: null, nextPollAt: instance.enabled ? now : null, ...HEALTHY }),
      };
      if (existing) await rows.update(tenantId, { id: instance.id }, values);
      else await rows.insert(tenantId, { id: instance.id, ...values });
      return;
    }
    if (!(trigger.type === 'webhook' && trigger.connector !== undefined && trigger.event !== undefined && instance.enabled)) {
      await this.subscriptions.drop(tenantId, instance.id, manager);
    }
    if (trigger.type === 'webhook') {
      const connectorTrigger = trigger.connector !== undefined && trigger.event !== undefined;
      const fromConnector = connectorTrigger
        ? {
            triggerKey: `${bindingConnector(trigger.connector!)}.${trigger.event}`,
            triggerInput: await this.resolveConnectorTrigger(tenantId, instance, trigger as ConnectorTrigger, manager),
          }
        : { triggerKey: null, triggerInput: null };
      if (existing?.type === 'webhook') {
        // The URL survives settings changes, upgrades and off/on: the sender is configured with it.
        // A secret exists exactly while the version verifies signatures.
        const secret = trigger.verify ? (existing.webhookSecret ?? this.seal(tenantId, instance.id, 'webhookTriggerSecret', newWebhookSecret())) : null;
        await rows.update(
          tenantId,
          { id: instance.id },
          { webhookSecret: secret, ...fromConnector, ...(instance.enabled && connectorTrigger && existing.triggerKey !== fromConnector.triggerKey ? HEALTHY : {}) },
        );
      } else await this.putWebhookCredentials(tenantId, instance.id, trigger, existing, manager, fromConnector);
      if (connectorTrigger && instance.enabled) await this.wantSubscription(tenantId, instance, trigger as ConnectorTrigger, fromConnector.triggerInput!, manager);
      return;
    }
    if (existing) await rows.delete(tenantId, { id: instance.id });
  }

  /** The webhook URL of an instance (for provider subscriptions), or null when it has none. */
  async webhookUrlOf(tenantId: TenantId, instanceId: string, manager: EntityManager): Promise<string | null> {
    const row = await this.rows.with(manager).findOne(tenantId, { id: instanceId, type: 'webhook' });
    return row?.webhookToken ? this.webhookUrl(this.vault.decrypt(row.webhookToken, bindingFor('webhookTriggerToken', row))) : null;
  }

  /** The instance was switched off: nothing fires until it is enabled again (missed fires are not caught up). */
  async pause(tenantId: TenantId, instanceId: string, manager: EntityManager): Promise<void> {
    await this.rows.with(manager).update(tenantId, { id: instanceId }, { nextFireAt: null, nextPollAt: null });
    await this.subscriptions.drop(tenantId, instanceId, manager);
  }

  /**
   * Enabled, healthy instances whose provider webhook has no live subscription on the connection
   * they are bound to — after a disconnect and reconnect (the instance was rebound), or a
   * subscription given up on — get one wanted again. The worker's loop calls this now and then.
   */
  async resubscribeMissing(limit = 100): Promise<number> {
    const rows: Array<InstanceForTrigger & { tenant_id: string; trigger: Trigger; trigger_input: Record<string, unknown> | null; trigger_key: string }> = await acrossTenants(
      this.db,
      'a sweep of every tenant: a missing subscription is a property of the row',
      `SELECT t.id, t.tenant_id, t.trigger_input, t.trigger_key, v.definition -> 'trigger' AS trigger,
              i.end_user_id AS "endUserId", i.enabled, i.settings, i.connections
         FROM flow_instance_triggers t
         JOIN flow_instances i ON i.id = t.id AND i.enabled
         JOIN flow_template_versions v ON v.id = i.version_id
        WHERE t.type = 'webhook' AND t.trigger_key IS NOT NULL AND ${bindingsHealthySql('i')}
          AND NOT EXISTS (SELECT 1 FROM provider_subscriptions s
                           WHERE s.instance_id = t.id AND s.status <> 'unsubscribing'
                             AND s.connection_id::text = i.connections ->> (v.definition -> 'trigger' ->> 'connector'))
        LIMIT $1`,
      [limit],
    );
    let wanted = 0;
    for (const row of rows) {
      const hooks = getConnector(row.trigger_key.split('.')[0]!)?.webhooks;
      if (hooks?.routing !== 'instance' || !hooks.subscribe || row.trigger.type !== 'webhook') continue;
      await this.db.transaction((manager) => this.wantSubscription(trustedTenantId(row.tenant_id), row, row.trigger as ConnectorTrigger, row.trigger_input ?? {}, manager));
      wanted++;
    }
    return wanted;
  }

  /** Provider webhooks routed per instance: the provider must send this instance's events to its URL. */
  private async wantSubscription(
    tenantId: TenantId,
    instance: InstanceForTrigger,
    trigger: ConnectorTrigger,
    input: Record<string, unknown>,
    manager: EntityManager,
  ): Promise<void> {
    const key = bindingConnector(trigger.connector);
    const hooks = getConnector(key)?.webhooks;
    if (hooks?.routing !== 'instance' || !hooks.subscribe) return;
    const connectionId = instance.connections[trigger.connector];
    const url = await this.webhookUrlOf(tenantId, instance.id, manager);
    if (!connectionId || !url) return;
    const definition = connectorTrigger(trigger);
    const events = definition.kind === 'webhook' ? definition.events : [];
    await this.subscriptions.want(tenantId, { instanceId: instance.id, connectionId, connectorKey: key, events, input, url }, manager);
  }

  /** A new URL (and signing secret, if the trigger verifies); the old ones stop working at once. */
  async rotateWebhook(tenantId: TenantId, instanceId: string, trigger: Trigger, manager: EntityManager): Promise<void> {
    if (trigger.type !== 'webhook') throw new AppError('conflict', `This flow is triggered by ${trigger.type}, not by a webhook: it has no URL to rotate`);
    const existing = await this.rows.with(manager).findOne(tenantId, { id: instanceId });
    await this.putWebhookCredentials(tenantId, instanceId, trigger, existing, manager);
    if (trigger.connector !== undefined && trigger.event !== undefined && existing?.triggerInput) {
      // The provider must send to the new URL: the subscription is made again.
      const [instance]: InstanceForTrigger[] = await tenantSql(manager).query(
        tenantId,
        `SELECT id, end_user_id AS "endUserId", enabled, settings, connections FROM flow_instances WHERE tenant_id = $1 AND id = $2`,
        [instanceId],
      );
      if (instance?.enabled) await this.wantSubscription(tenantId, instance, trigger as ConnectorTrigger, existing.triggerInput, manager);
    }
  }

  /**
   * Uses the sender's own signing secret instead of the generated one (for senders that issue
   * their secret, like Stripe or Slack, rather than accept one).
   */
  async setWebhookSecret(tenantId: TenantId, instanceId: string, trigger: Trigger, secret: string, manager: EntityManager): Promise<void> {
    if (trigger.type !== 'webhook' || !trigger.verify) throw new AppError('conflict', 'This flow does not check webhook signatures, so it has no signing secret');
    const updated = await this.rows
      .with(manager)
      .update(tenantId, { id: instanceId, type: 'webhook' }, { webhookSecret: this.seal(tenantId, instanceId, 'webhookTriggerSecret', secret) });
    if (updated === 0) throw new AppError('conflict', 'This flow has no webhook URL yet: enable it first');
  }

  /**
   * Enabled schedule and webhook instances without trigger state (enabled before it existed) get
   * it; workers call this at boot. One short transaction per instance, its row locked, so workers
   * booting together do not collide. Answers how many were repaired and which could not be.
   */
  async repairMissing(): Promise<{ repaired: number; failed: Array<{ instanceId: string; error: string }> }> {
    const missing: Array<{ id: string; tenant_id: string }> = await acrossTenants(
      this.db,
      'a sweep of every tenant: a missing trigger row is a property of the instance',
      `SELECT i.id, i.tenant_id FROM flow_instances i JOIN flow_template_versions v ON v.id = i.version_id
        WHERE i.enabled AND v.trigger_type IN ('schedule', 'webhook', 'poll')
          AND NOT EXISTS (SELECT 1 FROM flow_instance_triggers t WHERE t.id = i.id)
        LIMIT 10000`,
    );
    let repaired = 0;
    const failed: Array<{ instanceId: string; error: string }> = [];
    for (const { id, tenant_id } of missing) {
      try {
        const done = await this.db.transaction(async (manager) => {
          const [row]: Array<InstanceForTrigger & { trigger: Trigger; has_state: boolean }> = await tenantSql(manager).query(
            trustedTenantId(tenant_id),
            `SELECT i.id, i.end_user_id AS "endUserId", i.enabled, i.settings, i.connections, v.definition -> 'trigger' AS trigger,
                    EXISTS (SELECT 1 FROM flow_instance_triggers t WHERE t.id = i.id) AS has_state
               FROM flow_instances i JOIN flow_template_versions v ON v.id = i.version_id
              WHERE i.tenant_id = $1 AND i.id = $2 FOR UPDATE OF i`,
            [id],
          );
          if (!row || row.has_state || !row.enabled) return false;
          await this.sync(trustedTenantId(tenant_id), row, row.trigger, manager);
          return true;
        });
        if (done) repaired++;
      } catch (error) {
        failed.push({ instanceId: id, error: (error as Error).message });
      }
    }
    return { repaired, failed };
  }

  /** Trigger state of instances, for their views. */
  async states(tenantId: TenantId, instances: Array<{ id: string; enabled: boolean }>): Promise<Map<string, TriggerState>> {
    const out = new Map<string, TriggerState>();
    if (instances.length === 0) return out;
    const rows = await this.rows.find(tenantId, { where: { id: In(instances.map((i) => i.id)) } });
    for (const instance of instances) {
      const row = rows.find((r) => r.id === instance.id);
      const webhook = row?.type === 'webhook' && instance.enabled;
      const tracked = row && (row.type === 'poll' || row.triggerKey !== null);
      out.set(instance.id, {
        health: tracked
          ? {
              status: row.health === 'failing' ? 'failing' : row.type === 'poll' && !row.polledAt ? 'waiting' : 'ok',
              error: row.lastError,
              lastCheckedAt: row.polledAt,
              lastItemAt: row.lastItemAt,
              nextCheckAt: instance.enabled ? row.nextPollAt : null,
            }
          : null,
        nextRunAt: row?.nextFireAt ?? null,
        webhookUrl: webhook && row.webhookToken ? this.webhookUrl(this.vault.decrypt(row.webhookToken, bindingFor('webhookTriggerToken', row))) : null,
        webhookSecret: webhook && row.webhookSecret ? this.vault.decrypt(row.webhookSecret, bindingFor('webhookTriggerSecret', row)) : null,
      });
    }
    return out;
  }

  /**
   * The enabled webhook-triggered instance a URL token belongs to, or null. The token decides the
   * tenant (like an API key does), so this lookup is across tenants by design.
   */
  async findByWebhookToken(token: string): Promise<WebhookTarget | null> {
    if (!/^whk_[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const [row]: Array<{ id: string; tenant_id: string; webhook_secret: string | null; trigger: Trigger; trigger_input: Record<string, unknown> | null }> = await acrossTenants(
      this.db,
      "a webhook URL's token decides the tenant",
      `SELECT t.id, t.tenant_id, t.webhook_secret, t.trigger_input, v.definition -> 'trigger' AS trigger
         FROM flow_instance_triggers t
         JOIN flow_instances i ON i.id = t.id AND i.enabled
         JOIN flow_template_versions v ON v.id = i.version_id
        WHERE t.webhook_token_hash = $1 AND t.type = 'webhook'`,
      [hashToken(token)],
    );
    if (!row || row.trigger.type !== 'webhook') return null;
    const tenantId = trustedTenantId(row.tenant_id);
    const secret = row.webhook_secret ? this.vault.decrypt(row.webhook_secret, bindingFor('webhookTriggerSecret', { tenantId, id: row.id })) : null;
    return { tenantId, instanceId: row.id, trigger: row.trigger, secret, input: row.trigger_input ?? {} };
  }

  private webhookUrl(token: string): string {
    return `${this.config.publicUrl}/v1/hooks/${token}`;
  }

  /** A fresh URL token (and secret), replacing whatever state the instance's trigger had. */
  private async putWebhookCredentials(
    tenantId: TenantId,
    instanceId: string,
    trigger: WebhookTrigger,
    existing: InstanceTrigger | null,
    manager: EntityManager,
    fromConnector: Pick<InstanceTrigger, 'triggerKey' | 'triggerInput'> = { triggerKey: existing?.triggerKey ?? null, triggerInput: existing?.triggerInput ?? null },
  ): Promise<void> {
    const token = newWebhookToken();
    const values = {
      type: 'webhook' as const,
      ...NO_SCHEDULE,
      ...NO_POLL,
      ...fromConnector,
      ...(existing?.type === 'webhook' ? {} : HEALTHY),
      webhookTokenHash: hashToken(token),
      webhookToken: this.seal(tenantId, instanceId, 'webhookTriggerToken', token),
      webhookSecret: trigger.verify ? this.seal(tenantId, instanceId, 'webhookTriggerSecret', newWebhookSecret()) : null,
    };
    const rows = this.rows.with(manager);
    if (existing) await rows.update(tenantId, { id: instanceId }, values);
    else await rows.insert(tenantId, { id: instanceId, ...values });
  }

  private seal(tenantId: TenantId, instanceId: string, field: 'webhookTriggerToken' | 'webhookTriggerSecret', value: string): string {
    return this.vault.encrypt(value, bindingFor(field, { tenantId, id: instanceId }));
  }

  /**
   * The cron and time zone, evaluated against the instance's settings and end user when they are
   * expressions. A bad result is the end user's (or the template's) to fix: the error names the
   * setting when the expression is just `$inputs.<key>`.
   */
  /** The bindings trigger settings are evaluated with: $inputs and $endUser (loaded only when used). */
  private async settingBindings(tenantId: TenantId, instance: InstanceForTrigger, sources: unknown[], manager: EntityManager) {
    const needsEndUser = JSON.stringify(sources).includes('$endUser');
    const endUser = needsEndUser ? await this.endUsers.with(manager).get(tenantId, { id: instance.endUserId }) : null;
    return {
      trigger: undefined,
      inputs: instance.settings,
      steps: {},
      endUser: endUser && { id: endUser.externalId, externalId: endUser.externalId, displayName: endUser.displayName, email: endUser.email, metadata: endUser.metadata },
      run: undefined,
    };
  }

  /**
   * A connector trigger's parameters, evaluated against the instance's settings and end user and
   * checked against the trigger's input schema; a bad value names the setting it came from.
   */
  private async resolveConnectorTrigger(tenantId: TenantId, instance: InstanceForTrigger, trigger: ConnectorTrigger, manager: EntityManager): Promise<Record<string, unknown>> {
    const definition = connectorTrigger(trigger);
    const given = trigger.input ?? {};
    const bindings = await this.settingBindings(tenantId, instance, Object.values(given), manager);
    const problems: Array<{ path: string; message: string }> = [];
    const resolved: Record<string, unknown> = {};
    for (const [key, source] of Object.entries(given)) {
      try {
        const value = await evaluate(source, bindings);
        if (value !== undefined) resolved[key] = value;
      } catch (error) {
        problems.push({ path: `trigger.input.${key}`, message: error instanceof ExpressionError ? error.message : String(error) });
      }
    }
    if (problems.length === 0) {
      const validate = triggerInputValidator(trigger, definition.input);
      if (!validate(resolved)) {
        for (const e of validate.errors ?? []) {
          const key = e.instancePath.split('/')[1] ?? (e.params as { missingProperty?: string }).missingProperty ?? '';
          const source = given[key];
          const path = (typeof source === 'string' && settingPath(source)) || (key ? `trigger.input.${key}` : 'trigger.input');
          problems.push({ path, message: `${definition.name}: ${key ? `'${key}' ` : ''}${e.message ?? 'is invalid'}` });
        }
      }
    }
    if (problems.length) throw new AppError('validation_failed', problems.map((p) => `${p.path}: ${p.message}`).join('; '), { errors: problems });
    return resolved;
  }

  /** Seconds between polls: the flow's interval (evaluated) or the trigger's default, never below its minimum. */
  private async resolveInterval(tenantId: TenantId, instance: InstanceForTrigger, trigger: PollTrigger, manager: EntityManager): Promise<number> {
    const definition = connectorTrigger(trigger);
    if (definition.kind !== 'poll') throw new AppError('validation_failed', `trigger.event: ${trigger.event} is not a poll trigger`);
    const min = definition.minIntervalSeconds ?? DEFAULT_MIN_POLL_SECONDS;
    if (trigger.interval === undefined) return Math.max(min, definition.intervalSeconds);
    let value: unknown;
    try {
      value = await evaluate(trigger.interval, await this.settingBindings(tenantId, instance, [trigger.interval], manager));
    } catch (error) {
      throw new AppError('validation_failed', `trigger.interval: ${error instanceof ExpressionError ? error.message : String(error)}`);
    }
    const ms = durationMs(value);
    const path = settingPath(trigger.interval) ?? 'trigger.interval';
    if (ms === undefined)
      throw new AppError('validation_failed', `${path}: the poll interval must be an ISO-8601 duration like 'PT5M' (got ${JSON.stringify(value)})`, {
        errors: [{ path, message: 'not a duration' }],
      });
    if (ms < min * 1000)
      throw new AppError('validation_failed', `${path}: the poll interval must be at least ${min} seconds (got ${ms / 1000})`, {
        errors: [{ path, message: `at least ${min} seconds` }],
      });
    return Math.ceil(ms / 1000);
  }

  private async resolveSchedule(
    tenantId: TenantId,
    instance: InstanceForTrigger,
    trigger: { cron: string; timezone: string },
    manager: EntityManager,
  ): Promise<{ cron: string; timezone: string }> {
    const bindings = await this.settingBindings(tenantId, instance, [trigger.cron, trigger.timezone], manager);
    const problems: Array<{ path: string; message: string }> = [];
    const resolved: Record<'cron' | 'timezone', string> = { cron: '', timezone: '' };
    for (const field of ['cron', 'timezone'] as const) {
      const source = trigger[field];
      let value: unknown;
      try {
        value = await evaluate(source, bindings);
      } catch (error) {
        problems.push({ path: `trigger.${field}`, message: error instanceof ExpressionError ? error.message : String(error) });
        continue;
      }
      if (typeof value !== 'string' || value === '') {
        problems.push({
          path: settingPath(source) ?? `trigger.${field}`,
          message: `the schedule's ${field === 'cron' ? 'cron expression' : 'time zone'} must be a non-empty string (got ${value === undefined ? 'nothing' : JSON.stringify(value)})`,
        });
        continue;
      }
      resolved[field] = value;
    }
    if (problems.length === 0) {
      for (const p of scheduleProblems(resolved)) problems.push({ path: settingPath(trigger[p.field]) ?? `trigger.${p.field}`, message: p.message });
    }
    if (problems.length) throw new AppError('validation_failed', problems.map((p) => `${p.path}: ${p.message}`).join('; '), { errors: problems });
    return { cron: resolved.cron.trim(), timezone: resolved.timezone };
  }
}

const NO_SCHEDULE = { cron: null, timezone: null, nextFireAt: null };
const NO_WEBHOOK = { webhookTokenHash: null, webhookToken: null, webhookSecret: null };
const NO_POLL = { pollIntervalSeconds: null, pollCursor: null, polledAt: null, nextPollAt: null, backfill: 0 };
const HEALTHY = { health: 'ok' as const, failures: 0, lastError: null };

/** A trigger that names a connector's trigger: poll, or webhook with `connector` and `event`. */
type ConnectorTrigger = { connector: string; event: string; input?: Record<string, unknown> };

/** The connector's definition of a flow's trigger (validated when the version was stored). */
export function connectorTrigger(trigger: ConnectorTrigger): TriggerDefinition {
  const key = bindingConnector(trigger.connector);
  const definition = getConnector(key)?.triggers?.[trigger.event];
  if (!definition) throw new AppError('validation_failed', `trigger.event: connector '${key}' has no trigger '${trigger.event}'`);
  return definition;
}

const inputValidators = new Map<string, ValidateFunction>();
const triggerAjv = new Ajv2020({ strict: false, allErrors: true, useDefaults: true });
addFormats(triggerAjv);

function triggerInputValidator(trigger: ConnectorTrigger, schema: Record<string, unknown> | undefined): ValidateFunction {
  const key = `${bindingConnector(trigger.connector)}.${trigger.event}`;
  let validate = inputValidators.get(key);
  if (!validate) {
    validate = triggerAjv.compile(schema ?? { type: 'object', additionalProperties: false });
    inputValidators.set(key, validate);
  }
  return validate;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** `=$inputs.when` → `settings.when`: where the end user can fix the value. */
function settingPath(source: string): string | null {
  const m = /^=\s*\$inputs\.([A-Za-z][A-Za-z0-9_]*)\s*$/.exec(source);
  return m ? `settings.${m[1]}` : null;
}
