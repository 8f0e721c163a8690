import { Injectable } from '@nestjs/common';
import { ActionDefinition, allConnectors, catalogueConnector, ConnectorDefinition, getConnector } from '@switchboard/connectors';
import { notFound } from '../common/errors/app-error';
import { TenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { CustomProvider } from '../custom-providers/custom-provider.entity';

/**
 * The connectors a tenant can use, by key: the deep connectors and the catalogue providers every
 * tenant shares, then the tenant's own providers; each with the actions the tenant imported for it.
 * Everything that needs a connector definition for a tenant asks here.
 */
@Injectable()
export class ConnectorRegistry {
  constructor(@InjectTenantScoped(CustomProvider) private readonly customProviders: TenantScopedRepository<CustomProvider>) {}

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

  /** Actions the tenant imported (OpenAPI), by connector key: of one connector, or of all. */
  private async importedActions(_tenantId: TenantId, _key?: string): Promise<Map<string, Record<string, ActionDefinition>>> {
    return new Map();
  }
}

/** The connector with more actions; its own win on a name clash. */
function withActions(definition: ConnectorDefinition, actions: Record<string, ActionDefinition> | undefined): ConnectorDefinition {
  return actions ? { ...definition, actions: { ...actions, ...definition.actions } } : definition;
}
