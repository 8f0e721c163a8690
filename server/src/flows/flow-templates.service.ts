import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { ROLE_RANK } from '../members/membership.entity';
import { tenantSql } from '../common/tenancy/tenant-sql';
import { EnvironmentsService, environmentName } from '../tenants/environments.service';
import { AppError, notFound } from '../common/errors/app-error';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { ConnectorCatalog, validateDefinitionWithPatterns } from './definition/validate-definition';
import { ConnectorRegistry } from '../connector-configs/connector-registry.service';
import { TenantId } from '../common/tenancy/tenant-id';
import { FlowTemplate, FlowTemplateVersion } from './flow-template.entity';

/** Validation paths are JSON Pointers into the definition (`/steps/1/input/channel`); the API reports them under `definition`. */
const inBody = (pointer: string) => (pointer.startsWith('/') ? `definition${pointer.replace(/\//g, '.')}` : `definition.${pointer}`).replace(/\.$/, '');

function invalid(errors: Array<{ path: string; message: string }>): AppError {
  return new AppError('validation_failed', `The flow definition is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, {
    errors: errors.map((e) => ({ path: inBody(e.path), message: e.message })),
  });
}

@Injectable()
export class FlowTemplatesService {
  constructor(
    @InjectTenantScoped(FlowTemplate) private readonly templates: TenantScopedRepository<FlowTemplate>,
    @InjectTenantScoped(FlowTemplateVersion) private readonly versions: TenantScopedRepository<FlowTemplateVersion>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditService,
    private readonly registry: ConnectorRegistry,
    private readonly environments: EnvironmentsService,
  ) {}

  /** The connectors a flow of this tenant may use, by key (its own providers and imported actions included). */
  private async catalog(tenantId: TenantId): Promise<ConnectorCatalog> {
    return Object.fromEntries((await this.registry.list(tenantId)).map((d) => [d.key, d]));
  }

  list(actor: Actor): Promise<FlowTemplate[]> {
    return this.templates.find(actor.tenantId, { order: { createdAt: 'ASC' } });
  }

  get(actor: Actor, key: string): Promise<FlowTemplate> {
    return this.templates.get(actor.tenantId, { key }, key);
  }

  listVersions(actor: Actor, templateId: string): Promise<FlowTemplateVersion[]> {
    return this.versions.find(actor.tenantId, { where: { templateId }, order: { version: 'DESC' } });
  }

  setOptions(actor: Actor, key: string, options: { allowEndUserUpgrade?: boolean }): Promise<FlowTemplate> {
    return this.db.transaction(async (manager) => {
      const repo = this.templates.with(manager);
      const template = await repo.get(actor.tenantId, { key }, key);
      if (options.allowEndUserUpgrade !== undefined) await repo.update(actor.tenantId, { id: template.id }, { allowEndUserUpgrade: options.allowEndUserUpgrade });
      await this.audit.record(actor, 'flow_template.options_updated', { type: 'flow_template', id: template.id }, { key, ...options }, manager);
      return repo.get(actor.tenantId, { id: template.id });
    });
  }

  /** Checks a document without saving it. */
  async validate(actor: Actor, definition: unknown) {
    return validateDefinitionWithPatterns(definition, await this.catalog(actor.tenantId));
  }

  /** A new template from a draft; the draft may be incomplete, but it must name a key and a name. */
  create(actor: Actor, definition: Record<string, unknown>): Promise<FlowTemplate> {
    const key = definition.key;
    const name = definition.name;
    if (typeof key !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(key) || typeof name !== 'string' || !name) {
      throw invalid([
        ...(typeof key !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(key) ? [{ path: 'key', message: 'must be lowercase letters, digits and dashes' }] : []),
        ...(typeof name !== 'string' || !name ? [{ path: 'name', message: 'is required' }] : []),
      ]);
    }
    return this.db.transaction(async (manager) => {
      await this.environments.assertTemplatesEditable(actor.tenantId, manager);
      const repo = this.templates.with(manager);
      if (await repo.findOne(actor.tenantId, { key })) throw new AppError('conflict', `A flow template with key ${key} exists`, { key });
      const template = await repo.insert(actor.tenantId, { key, name, draft: definition, latestVersion: 0, allowEndUserUpgrade: true });
      await this.audit.record(actor, 'flow_template.created', { type: 'flow_template', id: template.id }, { key }, manager);
      return template;
    });
  }

  updateDraft(actor: Actor, key: string, definition: Record<string, unknown>): Promise<FlowTemplate> {
    if (definition.key !== undefined && definition.key !== key) throw invalid([{ path: 'key', message: `cannot change: this template is ${key}` }]);
    return this.db.transaction(async (manager) => {
      await this.environments.assertTemplatesEditable(actor.tenantId, manager);
      const repo = this.templates.with(manager);
      const template = await repo.get(actor.tenantId, { key }, key);
      const draft: Record<string, unknown> = { ...definition, key };
      await repo.update(actor.tenantId, { id: template.id }, { draft, name: typeof draft.name === 'string' && draft.name ? draft.name : template.name });
      await this.audit.record(actor, 'flow_template.draft_updated', { type: 'flow_template', id: template.id }, { key }, manager);
      return repo.get(actor.tenantId, { id: template.id });
    });
  }

  /**
   * Validates the draft and freezes it as the next numbered version; a draft equal to the latest
   * version publishes nothing and answers that version (`changed: false`).
   */
  publish(actor: Actor, key: string): Promise<{ version: FlowTemplateVersion; changed: boolean }> {
    return this.db.transaction(async (manager) => {
      await this.environments.assertTemplatesEditable(actor.tenantId, manager);
      const template = await this.templates.with(manager).query(actor.tenantId, 't').andWhere('t.key = :key', { key }).setLock('pessimistic_write').getOne();
      if (!template) throw notFound('Flow template', key);
      return this.publishDraft(actor, template, manager);
    });
  }

  /** Publishes a locked template's draft (the caller checked the environment lets it). */
  private async publishDraft(actor: Actor, template: FlowTemplate, manager: EntityManager): Promise<{ version: FlowTemplateVersion; changed: boolean }> {
    const key = template.key;
    const repo = this.templates.with(manager);
    const checked = await validateDefinitionWithPatterns(template.draft, await this.catalog(actor.tenantId));
    if (!checked.ok) throw invalid(checked.errors);
    const definition = checked.definition as unknown as { trigger: { type: string; event?: string } };
    if (template.latestVersion > 0) {
      const latest = await this.versions.with(manager).get(actor.tenantId, { templateId: template.id, version: template.latestVersion }, `${key} v${template.latestVersion}`);
      // Definitions are stored as json (key order kept), so equal text is an equal document.
      if (JSON.stringify(latest.definition) === JSON.stringify(checked.definition)) return { version: latest, changed: false };
    }
    const version = template.latestVersion + 1;
    const created = await this.versions.with(manager).insert(actor.tenantId, {
      templateId: template.id,
      version,
      definition: checked.definition as unknown as Record<string, unknown>,
      triggerType: definition.trigger.type,
      triggerEvent: definition.trigger.type === 'event' ? (definition.trigger.event ?? null) : null,
      publishedBy: actor.id,
    });
    await repo.update(actor.tenantId, { id: template.id }, { latestVersion: version, name: String((checked.definition as unknown as { name: string }).name) });
    await this.audit.record(actor, 'flow_template.published', { type: 'flow_template', id: template.id }, { key, version }, manager);
    return { version: created, changed: true };
  }

  /** What promoting `key` (its latest published version, or `version`) to another environment would change there. */
  async previewPromotion(actor: Actor, key: string, environmentId: string, version?: number): Promise<PromotionPreview> {
    const sides = await this.promotionSides(actor, key, environmentId, version, this.db.manager, false);
    const before = sides.targetLatest ? pretty(sides.targetLatest.definition) : '';
    const after = pretty(sides.source.definition);
    const checked = await validateDefinitionWithPatterns(sides.source.definition, await this.catalog(sides.target.id));
    const needed = connectorKeysOf(sides.source.definition);
    // Required here: only a promotion preview diffs, and no process should carry the differ for nothing.
    const { createTwoFilesPatch } = require('diff') as typeof import('diff');
    const configured: Array<{ connector_key: string }> = needed.length
      ? await tenantSql(this.db).query(sides.target.id, 'SELECT connector_key FROM connector_configs WHERE tenant_id = $1 AND enabled AND connector_key = ANY($2)', [needed])
      : [];
    return {
      key,
      from: { environment: sides.sourceEnvironment, version: sides.source.version },
      to: {
        environmentId: sides.target.id,
        environment: sides.target.environment,
        version: sides.targetTemplate?.latestVersion ?? 0,
      },
      upToDate: before === after,
      diff:
        before === after
          ? ''
          : createTwoFilesPatch(`${sides.target.environment}/${key}`, `${sides.sourceEnvironment}/${key}@v${sides.source.version}`, before, after, '', '', { context: 3 }),
      problems: checked.ok ? [] : checked.errors.map((e) => ({ path: inBody(e.path), message: e.message })),
      connectorsNotEnabled: needed.filter((c) => !configured.some((r) => r.connector_key === c)),
    };
  }

  /**
   * Copies a published version to another environment of the tenant as that template's next version
   * there (created if new). `expectedVersion` is the target version the preview showed: a promotion
   * made against a changed target is refused rather than overwriting what someone else promoted.
   */
  promote(actor: Actor, key: string, input: { environmentId: string; version?: number; expectedVersion?: number }) {
    return this.db.transaction(async (manager) => {
      const sides = await this.promotionSides(actor, key, input.environmentId, input.version, manager, true);
      const { target, source } = sides;
      if (target.protected && ROLE_RANK[actor.role ?? 'viewer'] < ROLE_RANK.admin) {
        throw new AppError('insufficient_role', `Promoting to ${target.environment} (protected) needs the admin role`, { requiredRole: 'admin', role: actor.role });
      }
      const current = sides.targetTemplate?.latestVersion ?? 0;
      if (input.expectedVersion !== undefined && input.expectedVersion !== current) {
        throw new AppError('promotion_outdated', `${key} in ${target.environment} is at version ${current} now, not ${input.expectedVersion}: review the changes again`, {
          expectedVersion: input.expectedVersion,
          version: current,
        });
      }
      const inTarget: Actor = { ...actor, tenantId: target.id };
      const repo = this.templates.with(manager);
      const draft = source.definition;
      const template = sides.targetTemplate
        ? (await repo.update(target.id, { id: sides.targetTemplate.id }, { draft }), { ...sides.targetTemplate, draft })
        : await repo.insert(target.id, { key, name: String(draft.name ?? key), draft, latestVersion: 0, allowEndUserUpgrade: sides.sourceTemplate.allowEndUserUpgrade });
      let published: { version: FlowTemplateVersion; changed: boolean };
      try {
        published = await this.publishDraft(inTarget, template, manager);
      } catch (err) {
        if (err instanceof AppError && err.code === 'validation_failed') {
          throw new AppError('validation_failed', `In ${target.environment}: ${err.message}`, { ...err.details, environment: target.environment });
        }
        throw err;
      }
      const details = { key, from: sides.sourceEnvironment, fromVersion: source.version, to: target.environment, toVersion: published.version.version, changed: published.changed };
      await this.audit.record(actor, 'flow_template.promoted', { type: 'flow_template', id: sides.sourceTemplate.id }, details, manager);
      await this.audit.record(inTarget, 'flow_template.promoted', { type: 'flow_template', id: template.id }, details, manager);
      return { environment: target.environment, template: await repo.get(target.id, { id: template.id }), ...published };
    });
  }

  private async promotionSides(actor: Actor, key: string, environmentId: string, version: number | undefined, manager: EntityManager, lock: boolean) {
    const target = await this.environments.get(actor, environmentId, manager);
    if (target.id === actor.tenantId)
      throw new AppError('validation_failed', 'environmentId: is the environment you are in; promote to another one', {
        errors: [{ path: 'environmentId', message: 'must be another environment' }],
      });
    const sourceTemplate = await this.templates.with(manager).get(actor.tenantId, { key }, key);
    const wanted = version ?? sourceTemplate.latestVersion;
    if (wanted < 1) throw new AppError('conflict', `${key} has no published version to promote: publish it first`, { key });
    const source = await this.versions.with(manager).get(actor.tenantId, { templateId: sourceTemplate.id, version: wanted }, `${key} v${wanted}`);
    const query = this.templates.with(manager).query(target.id, 't').andWhere('t.key = :key', { key });
    const targetTemplate = await (lock ? query.setLock('pessimistic_write') : query).getOne();
    const targetLatest =
      targetTemplate && targetTemplate.latestVersion > 0
        ? await this.versions.with(manager).get(target.id, { templateId: targetTemplate.id, version: targetTemplate.latestVersion }, `${key} v${targetTemplate.latestVersion}`)
        : null;
    const sourceEnvironment = await environmentName(manager, actor.tenantId);
    return { target, sourceTemplate, source, targetTemplate, targetLatest, sourceEnvironment };
  }
}

export interface PromotionPreview {
  key: string;
  from: { environment: string; version: number };
  to: { environmentId: string; environment: string; version: number };
  upToDate: boolean;
  diff: string;
  problems: Array<{ path: string; message: string }>;
  connectorsNotEnabled: string[];
}

/** Definitions as the diff shows them: stored key order, two-space indent. */
const pretty = (definition: Record<string, unknown>) => `${JSON.stringify(definition, null, 2)}\n`;

/** The connectors a definition's bindings (`slack`, `hubspot:crm`) name. */
function connectorKeysOf(definition: Record<string, unknown>): string[] {
  const bindings = Array.isArray(definition.connectors) ? (definition.connectors as unknown[]) : [];
  return [...new Set(bindings.filter((b): b is string => typeof b === 'string').map((b) => b.split(':')[0]))];
}
