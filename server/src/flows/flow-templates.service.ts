import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
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
      const repo = this.templates.with(manager);
      const template = await repo.query(actor.tenantId, 't').andWhere('t.key = :key', { key }).setLock('pessimistic_write').getOne();
      if (!template) throw notFound('Flow template', key);
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
    });
  }
}
