import { Injectable } from '@nestjs/common';
import { ActionDefinition, allConnectors, catalogueConnector, ConnectorDefinition, getConnector, importedConnectorParts, OptionSource } from '@switchboard/connectors';
import { In } from 'typeorm';
import { notFound } from '../common/errors/app-error';
import { TenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { CustomProvider } from '../custom-providers/custom-provider.entity';
import { OpenApiImport } from './openapi-import.entity';

/** What a tenant added to a connector: actions (and option sources) from its OpenAPI document. */
type ImportedParts = { actions: Record<string, ActionDefinition>; options: Record<string, OptionSource> };
/** Built documents kept per process (each at most OPENAPI_LIMITS.maxNormalisedBytes of schemas). */
const MAX_BUILT_IMPORTS = 100;

/**
 * The connectors a tenant can use, by key: the deep connectors and the catalogue providers every
 * tenant shares, then the tenant's own providers; each with the actions the tenant imported for it.
 * Everything that needs a connector definition for a tenant asks here.
 */
@Injectable()
export class ConnectorRegistry {
  /** Imported documents turned into definitions, by row id and version (its updated_at), oldest first. */
  private readonly built = new Map<string, { version: string; parts: ImportedParts }>();

  constructor(
    @InjectTenantScoped(OpenApiImport) private readonly openApiImports: TenantScopedRepository<OpenApiImport>,
    @InjectTenantScoped(CustomProvider) private readonly customProviders: TenantScopedRepository<CustomProvider>,
  ) {}

  /** The connector `key` names for the tenant, or 404. */
  async definition(tenantId: TenantId, key: string): Promise<ConnectorDefinition> {
    const definition = await this.find(tenantId, key);
    if (!definition) throw notFound('Connector', key);
    return definition;
  }

  async find(tenantId: TenantId, key: string): Promise<ConnectorDefinition | undefined> {
    const definition = getConnector(key) ?? (await this.tenantProvider(tenantId, key));
    if (!definition) return undefined;
    return withActions(definition, (await this.importedActions(tenantId, key)).get(key));
  }

  /** Every connector the tenant can use (shared ones first, then its own), with its imported actions. */
  async list(tenantId: TenantId): Promise<ConnectorDefinition[]> {
    const [own, imported] = await Promise.all([this.tenantProviders(tenantId), this.importedActions(tenantId)]);
    return [...allConnectors(), ...own].map((d) => withActions(d, imported.get(d.key)));
  }

  /** The tenant's own providers (custom providers): catalogue entries it defined, built the catalogue's way. */
  private async tenantProviders(tenantId: TenantId): Promise<ConnectorDefinition[]> {
    return (await this.customProviders.find(tenantId, { order: { key: 'ASC' } })).map((p) => catalogueConnector(p.key, p.definition));
  }

  private async tenantProvider(tenantId: TenantId, key: string): Promise<ConnectorDefinition | undefined> {
    const row = await this.customProviders.findOne(tenantId, { key });
    return row ? catalogueConnector(row.key, row.definition) : undefined;
  }

  /** Actions (and option sources) the tenant imported from OpenAPI documents, by connector key: of one connector, or of all. */
  private async importedActions(tenantId: TenantId, key?: string): Promise<Map<string, ImportedParts>> {
    // Only ids and versions are read each time; a document's operations are loaded and built once per change.
    const query = this.openApiImports.query(tenantId, 'i').select('i.id', 'id').addSelect('i.connectorKey', 'key').addSelect('i.updated_at::text', 'version');
    if (key !== undefined) query.andWhere('i.connectorKey = :key', { key });
    const rows: { id: string; key: string; version: string }[] = await query.getRawMany();
    const stale = rows.filter((r) => this.built.get(r.id)?.version !== r.version);
    if (stale.length > 0) {
      const loaded = await this.openApiImports.find(tenantId, { where: { id: In(stale.map((r) => r.id)) } });
      for (const row of loaded) {
        this.built.delete(row.id);
        this.built.set(row.id, { version: stale.find((r) => r.id === row.id)?.version ?? '', parts: importedConnectorParts(row.operations, row.optionSources) });
      }
      while (this.built.size > MAX_BUILT_IMPORTS) this.built.delete(this.built.keys().next().value!);
    }
    const result = new Map<string, ImportedParts>();
    for (const r of rows) {
      const built = this.built.get(r.id);
      if (built) result.set(r.key, built.parts);
    }
    return result;
  }
}

/** The connector with more actions and option sources; its own win on a name clash. */
function withActions(definition: ConnectorDefinition, imported: ImportedParts | undefined): ConnectorDefinition {
  return imported ? { ...definition, actions: { ...imported.actions, ...definition.actions }, options: { ...imported.options, ...definition.options } } : definition;
}
