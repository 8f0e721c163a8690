import { Injectable } from '@nestjs/common';
import { ActionDefinition, allConnectors, ConnectorDefinition, getConnector } from '@switchboard/connectors';
import { notFound } from '../common/errors/app-error';
import { TenantId } from '../common/tenancy/tenant-id';

/**
 * The connectors a tenant can use, by key: the deep connectors and the catalogue providers every
 * tenant shares, then the tenant's own providers; each with the actions the tenant imported for it.
 * Everything that needs a connector definition for a tenant asks here.
 */
@Injectable()
export class ConnectorRegistry {
  /** The connector `key` names for the tenant, or 404. */
  async definition(tenantId: TenantId, key: string): Promise<ConnectorDefinition> {
    const definition = await this.find(tenantId, key);
    if (!definition) throw notFound('Connector', key);
    return definition;
  }

  async find(tenantId: TenantId, key: string): Promise<ConnectorDefinition | undefined> {
    const definition = getConnector(key) ?? (await this.tenantProviders(tenantId)).find((d) => d.key === key);
    if (!definition) return undefined;
    return withActions(definition, (await this.importedActions(tenantId, key)).get(key));
  }

  /** Every connector the tenant can use (shared ones first, then its own), with its imported actions. */
  async list(tenantId: TenantId): Promise<ConnectorDefinition[]> {
    const [own, imported] = await Promise.all([this.tenantProviders(tenantId), this.importedActions(tenantId)]);
    return [...allConnectors(), ...own].map((d) => withActions(d, imported.get(d.key)));
  }

  /** The tenant's own providers (custom providers). */
  private async tenantProviders(_tenantId: TenantId): Promise<ConnectorDefinition[]> {
    return [];
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
