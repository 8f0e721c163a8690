import { tenantSql } from '../common/tenancy/tenant-sql';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, MoreThan } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { AppError, notFound } from '../common/errors/app-error';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { Connection } from '../connections/connection.entity';
import { InstanceTriggersService, TriggerState } from '../triggers/instance-triggers.service';
import { WebhookEventsService } from '../webhooks/webhook-events.service';
import { FlowInstance, FlowTemplate, FlowTemplateVersion } from './flow-template.entity';
import { BindingProblem, bindingProblems } from './binding-health';
import { bindingConnector, Trigger } from './definition/flow-definition.schema';
import { InputSpec, resolveSettings } from './settings';
import { isUUID } from 'class-validator';

export interface VersionDoc {
  name: string;
  description?: string;
  connectors: string[];
  inputs?: Record<string, InputSpec>;
  trigger: Trigger;
}

export interface FlowForEndUser {
  template: FlowTemplate;
  latest: FlowTemplateVersion;
  instance: FlowInstance | null;
  /** The instance's pinned version, when it is older than the latest. */
  pinned: FlowTemplateVersion | null;
  /** The instance's schedule and webhook URL, when its trigger has them. */
  trigger: TriggerState | null;
  /** Bindings whose connection is gone or unusable: an enabled instance with any is paused. */
  problems: BindingProblem[];
}

export interface InstanceChange {
  settings?: Record<string, unknown>;
  /** connector key → connection id; missing connectors default to the end user's first active connection. */
  connections?: Record<string, string>;
}

@Injectable()
export class FlowInstancesService {
  constructor(
    @InjectTenantScoped(FlowTemplate) private readonly templates: TenantScopedRepository<FlowTemplate>,
    @InjectTenantScoped(FlowTemplateVersion) private readonly versions: TenantScopedRepository<FlowTemplateVersion>,
    @InjectTenantScoped(FlowInstance) private readonly instances: TenantScopedRepository<FlowInstance>,
    @InjectTenantScoped(Connection) private readonly connections: TenantScopedRepository<Connection>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditService,
    private readonly triggers: InstanceTriggersService,
    private readonly webhooks: WebhookEventsService,
  ) {}

  /** Every published flow, with this end user's instance if any. */
  async listForEndUser(actor: Actor, endUserId: string): Promise<FlowForEndUser[]> {
    const templates = await this.templates.find(actor.tenantId, { where: { latestVersion: MoreThan(0) }, order: { createdAt: 'ASC' } });
    const instances = await this.instances.find(actor.tenantId, { where: { endUserId } });
    const triggers = await this.triggers.states(actor.tenantId, instances);
    const owned = instances.length ? await this.connections.find(actor.tenantId, { where: { endUserId } }) : [];
    const out: FlowForEndUser[] = [];
    for (const template of templates) {
      const latest = await this.versions.get(actor.tenantId, { templateId: template.id, version: template.latestVersion });
      const instance = instances.find((i) => i.templateId === template.id) ?? null;
      const pinned = instance && instance.versionId !== latest.id ? await this.versions.get(actor.tenantId, { id: instance.versionId }) : null;
      const problems = instance ? bindingProblems(instance.connections, owned, endUserId) : [];
      out.push({ template, latest, instance, pinned, trigger: instance ? (triggers.get(instance.id) ?? null) : null, problems });
    }
    return out;
  }

  async getForEndUser(actor: Actor, endUserId: string, key: string): Promise<FlowForEndUser> {
    const found = (await this.listForEndUser(actor, endUserId)).find((f) => f.template.key === key);
    if (!found) throw notFound('Published flow', key);
    return found;
  }

  /** Switches a flow on for the end user (pinning the latest version on first enable). */
  enable(actor: Actor, endUserId: string, key: string, change: InstanceChange): Promise<FlowInstance> {
    return this.db.transaction(async (manager) => {
      const { template, latest, instance } = await this.getForEndUser(actor, endUserId, key);
      const version = instance ? await this.versions.with(manager).get(actor.tenantId, { id: instance.versionId }) : latest;
      const doc = version.definition as unknown as VersionDoc;
      const settings = await resolveSettings(doc.inputs ?? {}, change.settings ?? instance?.settings ?? {});
      const bindings = await this.bind(actor, endUserId, doc.connectors, change.connections ?? {}, instance?.connections ?? {}, manager);
      const repo = this.instances.with(manager);
      let saved: FlowInstance;
      if (instance) {
        await repo.update(actor.tenantId, { id: instance.id }, { enabled: true, settings, connections: bindings, note: null });
        saved = await repo.get(actor.tenantId, { id: instance.id });
      } else {
        saved = await repo.insert(actor.tenantId, {
          endUserId,
          templateId: template.id,
          versionId: version.id,
          enabled: true,
          settings,
          connections: bindings,
          triggerEvent: version.triggerEvent,
        });
      }
      await this.triggers.sync(actor.tenantId, saved, doc.trigger, manager);
      await this.audit.record(actor, 'flow.enabled', { type: 'flow_instance', id: saved.id }, { flow: key, version: version.version }, manager);
      await this.publish(manager, actor, 'flow.enabled', saved, key, version.version);
      return saved;
    });
  }

  update(actor: Actor, endUserId: string, key: string, change: InstanceChange): Promise<FlowInstance> {
    return this.db.transaction(async (manager) => {
      const { instance } = await this.getForEndUser(actor, endUserId, key);
      if (!instance) throw new AppError('not_found', `Flow ${key} is not enabled for this end user`);
      const version = await this.versions.with(manager).get(actor.tenantId, { id: instance.versionId });
      const doc = version.definition as unknown as VersionDoc;
      const settings = change.settings ? await resolveSettings(doc.inputs ?? {}, change.settings) : instance.settings;
      const bindings = change.connections ? await this.bind(actor, endUserId, doc.connectors, change.connections, instance.connections, manager) : instance.connections;
      await this.instances.with(manager).update(actor.tenantId, { id: instance.id }, { settings, connections: bindings, note: null });
      if (change.settings) await this.triggers.sync(actor.tenantId, { ...instance, settings }, doc.trigger, manager);
      await this.audit.record(actor, 'flow.updated', { type: 'flow_instance', id: instance.id }, { flow: key, fields: Object.keys(change) }, manager);
      return this.instances.with(manager).get(actor.tenantId, { id: instance.id });
    });
  }

  disable(actor: Actor, endUserId: string, key: string): Promise<FlowInstance> {
    return this.db.transaction(async (manager) => {
      const { instance } = await this.getForEndUser(actor, endUserId, key);
      if (!instance) throw new AppError('not_found', `Flow ${key} is not enabled for this end user`);
      if (instance.enabled) {
        await this.instances.with(manager).update(actor.tenantId, { id: instance.id }, { enabled: false, note: null });
        await this.triggers.pause(actor.tenantId, instance.id, manager);
        await this.audit.record(actor, 'flow.disabled', { type: 'flow_instance', id: instance.id }, { flow: key }, manager);
        const version = await this.versions.with(manager).get(actor.tenantId, { id: instance.versionId });
        await this.publish(manager, actor, 'flow.disabled', { ...instance, enabled: false }, key, version.version);
      }
      return { ...instance, enabled: false };
    });
  }

  /** Moves the instance to the latest version, carrying settings over; new required inputs must be given. */
  upgrade(actor: Actor, endUserId: string, key: string, change: InstanceChange): Promise<FlowInstance> {
    return this.db.transaction(async (manager) => {
      const { latest, instance } = await this.getForEndUser(actor, endUserId, key);
      if (!instance) throw new AppError('not_found', `Flow ${key} is not enabled for this end user`);
      const doc = latest.definition as unknown as VersionDoc;
      const carried = Object.fromEntries(Object.entries({ ...instance.settings, ...change.settings }).filter(([k]) => k in (doc.inputs ?? {})));
      const settings = await resolveSettings(doc.inputs ?? {}, carried);
      const bindings = await this.bind(actor, endUserId, doc.connectors, change.connections ?? {}, instance.connections, manager);
      await this.instances
        .with(manager)
        .update(actor.tenantId, { id: instance.id }, { versionId: latest.id, settings, connections: bindings, triggerEvent: latest.triggerEvent, note: null });
      await this.triggers.sync(actor.tenantId, { ...instance, settings }, doc.trigger, manager);
      await this.audit.record(actor, 'flow.upgraded', { type: 'flow_instance', id: instance.id }, { flow: key, to: latest.version }, manager);
      return this.instances.with(manager).get(actor.tenantId, { id: instance.id });
    });
  }

  /** A new webhook URL (and signing secret) for the end user's instance; the old ones stop working at once. */
  rotateWebhook(actor: Actor, endUserId: string, key: string): Promise<void> {
    return this.changeTrigger(actor, endUserId, key, 'flow.webhook_rotated', (id, trigger, manager) => this.triggers.rotateWebhook(actor.tenantId, id, trigger, manager));
  }

  /** Sets the signing secret the sender uses (one it issued), replacing the generated one. */
  setWebhookSecret(actor: Actor, endUserId: string, key: string, secret: string): Promise<void> {
    return this.changeTrigger(actor, endUserId, key, 'flow.webhook_secret_set', (id, trigger, manager) =>
      this.triggers.setWebhookSecret(actor.tenantId, id, trigger, secret, manager),
    );
  }

  /** Changes the trigger state of the end user's instance, with its audit event, in one transaction. */
  private changeTrigger(
    actor: Actor,
    endUserId: string,
    key: string,
    action: string,
    change: (instanceId: string, trigger: Trigger, manager: EntityManager) => Promise<void>,
  ): Promise<void> {
    return this.db.transaction(async (manager) => {
      const { instance } = await this.getForEndUser(actor, endUserId, key);
      if (!instance) throw new AppError('not_found', `Flow ${key} is not enabled for this end user`);
      const version = await this.versions.with(manager).get(actor.tenantId, { id: instance.versionId });
      await change(instance.id, (version.definition as unknown as VersionDoc).trigger, manager);
      await this.audit.record(actor, action, { type: 'flow_instance', id: instance.id }, { flow: key }, manager);
    });
  }

  /** Outbound webhook in the same transaction; the instance's settings, never its webhook secret. */
  private async publish(manager: EntityManager, actor: Actor, type: 'flow.enabled' | 'flow.disabled', instance: FlowInstance, flow: string, version: number): Promise<void> {
    const [row]: Array<{ external_id: string }> = await tenantSql(manager).query(actor.tenantId, `SELECT external_id FROM end_users WHERE tenant_id = $1 AND id = $2`, [
      instance.endUserId,
    ]);
    const endUserId = row?.external_id ?? '';
    await this.webhooks.publish(
      actor.tenantId,
      type,
      { endUserId, flow, instance: { id: instance.id, version, enabled: instance.enabled, settings: instance.settings, connections: instance.connections } },
      manager,
    );
  }

  /**
   * Every connector the flow uses needs an active connection of this end user's own. `given`
   * (from the request) must be exactly that; a `carried` binding (the instance's current one) is
   * kept while its connection is active, otherwise it falls back to the end user's first active
   * connection of the connector, so re-enabling or upgrading a paused flow heals it.
   */
  private async bind(
    actor: Actor,
    endUserId: string,
    connectors: string[],
    given: Record<string, string>,
    carried: Record<string, string>,
    manager: EntityManager,
  ): Promise<Record<string, string>> {
    const repo = this.connections.with(manager);
    const out: Record<string, string> = {};
    const problems: Array<{ path: string; message: string }> = [];
    for (const key of Object.keys(given)) if (!connectors.includes(key)) problems.push({ path: `connections.${key}`, message: 'this flow does not use that connector' });
    // Each entry is a connector or a named binding of one (`slack:alerts`), bound to one connection.
    for (const binding of connectors) {
      const connector = bindingConnector(binding);
      const path = `connections.${binding}`;
      const wanted = given[binding];
      const ofEndUser = (id: unknown) => (typeof id === 'string' && isUUID(id) ? repo.findOne(actor.tenantId, { id, endUserId, connectorKey: connector }) : Promise.resolve(null));
      const kept = !wanted && carried[binding] ? await ofEndUser(carried[binding]) : null;
      const connection = wanted
        ? await ofEndUser(wanted)
        : kept?.status === 'active'
          ? kept
          : (await repo.find(actor.tenantId, { where: { endUserId, connectorKey: connector, status: 'active' }, order: { createdAt: 'ASC' }, take: 1 }))[0];
      if (!connection) problems.push({ path, message: wanted ? 'is not a connection of this end user for this connector' : `connect ${connector} first` });
      else if (connection.status !== 'active') problems.push({ path, message: `the connection is ${connection.status}; reconnect it first` });
      else out[binding] = connection.id;
    }
    if (problems.length) throw new AppError('validation_failed', problems.map((p) => `${p.path}: ${p.message}`).join('; '), { errors: problems });
    return out;
  }
}
