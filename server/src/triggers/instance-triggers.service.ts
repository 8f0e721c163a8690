import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager, In } from 'typeorm';
import { AppError } from '../common/errors/app-error';
import { hashToken } from '../common/crypto/tokens';
import { TenantId, trustedTenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { EndUser } from '../end-users/end-user.entity';
import { evaluate, ExpressionError } from '../flows/definition/expressions';
import type { Trigger, WebhookTrigger } from '../flows/definition/flow-definition.schema';
import { InjectVault } from '../vault/vault.module';
import type { Vault } from '../vault/vault';
import { bindingFor } from '../vault/vault-fields';
import { InstanceTrigger } from './instance-trigger.entity';
import { nextFire, scheduleProblems } from './schedule';

/** What an instance view shows of its trigger. */
export interface TriggerState {
  nextRunAt: Date | null;
  webhookUrl: string | null;
  /** Only for webhook triggers that declare `verify`: the key of the HMAC the sender must add. */
  webhookSecret: string | null;
}

/** The instance a webhook URL belongs to, found by its token. */
export interface WebhookTarget {
  tenantId: TenantId;
  instanceId: string;
  trigger: WebhookTrigger;
  secret: string | null;
}

/** The parts of an instance its trigger state depends on. */
export interface InstanceForTrigger {
  id: string;
  endUserId: string;
  enabled: boolean;
  settings: Record<string, unknown>;
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
      const values = { type: 'schedule' as const, ...schedule, nextFireAt: instance.enabled ? nextFire(schedule, now) : null, webhookTokenHash: null, webhookToken: null, webhookSecret: null };
      if (existing) await rows.update(tenantId, { id: instance.id }, values);
      else await rows.insert(tenantId, { id: instance.id, ...values });
      return;
    }
    if (trigger.type === 'webhook') {
      if (existing?.type === 'webhook') {
        // The URL survives settings changes, upgrades and off/on: the sender is configured with it.
        // A secret exists exactly while the version verifies signatures.
        const secret = trigger.verify ? (existing.webhookSecret ?? this.seal(tenantId, instance.id, 'webhookTriggerSecret', newWebhookSecret())) : null;
        if (secret !== existing.webhookSecret) await rows.update(tenantId, { id: instance.id }, { webhookSecret: secret });
        return;
      }
      await this.putWebhookCredentials(tenantId, instance.id, trigger, existing, manager);
      return;
    }
    if (existing) await rows.delete(tenantId, { id: instance.id });
  }

  /** The instance was switched off: nothing fires until it is enabled again (missed fires are not caught up). */
  async pause(tenantId: TenantId, instanceId: string, manager: EntityManager): Promise<void> {
    await this.rows.with(manager).update(tenantId, { id: instanceId }, { nextFireAt: null });
  }

  /** A new URL (and signing secret, if the trigger verifies); the old ones stop working at once. */
  async rotateWebhook(tenantId: TenantId, instanceId: string, trigger: Trigger, manager: EntityManager): Promise<void> {
    if (trigger.type !== 'webhook') throw new AppError('conflict', `This flow is triggered by ${trigger.type}, not by a webhook: it has no URL to rotate`);
    const existing = await this.rows.with(manager).findOne(tenantId, { id: instanceId });
    await this.putWebhookCredentials(tenantId, instanceId, trigger, existing, manager);
  }

  /**
   * Uses the sender's own signing secret instead of the generated one (for senders that issue
   * their secret, like Stripe or Slack, rather than accept one).
   */
  async setWebhookSecret(tenantId: TenantId, instanceId: string, trigger: Trigger, secret: string, manager: EntityManager): Promise<void> {
    if (trigger.type !== 'webhook' || !trigger.verify) throw new AppError('conflict', 'This flow does not check webhook signatures, so it has no signing secret');
    const updated = await this.rows.with(manager).update(tenantId, { id: instanceId, type: 'webhook' }, { webhookSecret: this.seal(tenantId, instanceId, 'webhookTriggerSecret', secret) });
    if (updated === 0) throw new AppError('conflict', 'This flow has no webhook URL yet: enable it first');
  }

  /**
   * Enabled schedule and webhook instances without trigger state (enabled before it existed) get
   * it; workers call this at boot. One short transaction per instance, its row locked, so workers
   * booting together do not collide. Answers how many were repaired and which could not be.
   */
  async repairMissing(): Promise<{ repaired: number; failed: Array<{ instanceId: string; error: string }> }> {
    // Across tenants by design: a missing row is a property of the instance, whatever its tenant.
    const missing: Array<{ id: string; tenant_id: string }> = await this.db.query(
      `SELECT i.id, i.tenant_id FROM flow_instances i JOIN flow_template_versions v ON v.id = i.version_id
        WHERE i.enabled AND v.trigger_type IN ('schedule', 'webhook')
          AND NOT EXISTS (SELECT 1 FROM flow_instance_triggers t WHERE t.id = i.id)
        LIMIT 10000`,
    );
    let repaired = 0;
    const failed: Array<{ instanceId: string; error: string }> = [];
    for (const { id, tenant_id } of missing) {
      try {
        const done = await this.db.transaction(async (manager) => {
          const [row]: Array<InstanceForTrigger & { trigger: Trigger; has_state: boolean }> = await manager.query(
            `SELECT i.id, i.end_user_id AS "endUserId", i.enabled, i.settings, v.definition -> 'trigger' AS trigger,
                    EXISTS (SELECT 1 FROM flow_instance_triggers t WHERE t.id = i.id) AS has_state
               FROM flow_instances i JOIN flow_template_versions v ON v.id = i.version_id
              WHERE i.id = $1 FOR UPDATE OF i`,
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
      out.set(instance.id, {
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
    const [row]: Array<{ id: string; tenant_id: string; webhook_secret: string | null; trigger: Trigger }> = await this.db.query(
      `SELECT t.id, t.tenant_id, t.webhook_secret, v.definition -> 'trigger' AS trigger
         FROM flow_instance_triggers t
         JOIN flow_instances i ON i.id = t.id AND i.enabled
         JOIN flow_template_versions v ON v.id = i.version_id
        WHERE t.webhook_token_hash = $1 AND t.type = 'webhook'`,
      [hashToken(token)],
    );
    if (!row || row.trigger.type !== 'webhook') return null;
    const tenantId = trustedTenantId(row.tenant_id);
    const secret = row.webhook_secret ? this.vault.decrypt(row.webhook_secret, bindingFor('webhookTriggerSecret', { tenantId, id: row.id })) : null;
    return { tenantId, instanceId: row.id, trigger: row.trigger, secret };
  }

  private webhookUrl(token: string): string {
    return `${this.config.publicUrl}/v1/hooks/${token}`;
  }

  /** A fresh URL token (and secret), replacing whatever state the instance's trigger had. */
  private async putWebhookCredentials(tenantId: TenantId, instanceId: string, trigger: WebhookTrigger, existing: InstanceTrigger | null, manager: EntityManager): Promise<void> {
    const token = newWebhookToken();
    const values = {
      type: 'webhook' as const,
      cron: null,
      timezone: null,
      nextFireAt: null,
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
  private async resolveSchedule(tenantId: TenantId, instance: InstanceForTrigger, trigger: { cron: string; timezone: string }, manager: EntityManager): Promise<{ cron: string; timezone: string }> {
    const needsEndUser = [trigger.cron, trigger.timezone].some((v) => v.startsWith('=') && v.includes('$endUser'));
    const endUser = needsEndUser ? await this.endUsers.with(manager).get(tenantId, { id: instance.endUserId }) : null;
    const bindings = {
      trigger: undefined,
      inputs: instance.settings,
      steps: {},
      endUser: endUser && { id: endUser.externalId, externalId: endUser.externalId, displayName: endUser.displayName, email: endUser.email, metadata: endUser.metadata },
      run: undefined,
    };
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
        problems.push({ path: settingPath(source) ?? `trigger.${field}`, message: `the schedule's ${field === 'cron' ? 'cron expression' : 'time zone'} must be a non-empty string (got ${value === undefined ? 'nothing' : JSON.stringify(value)})` });
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

/** `=$inputs.when` → `settings.when`: where the end user can fix the value. */
function settingPath(source: string): string | null {
  const m = /^=\s*\$inputs\.([A-Za-z][A-Za-z0-9_]*)\s*$/.exec(source);
  return m ? `settings.${m[1]}` : null;
}
