import { Inject, Injectable } from '@nestjs/common';
import { getConnector } from '@switchboard/connectors';
import type { Actor, EndUserPrincipal } from '../auth/principal';
import type { Connection } from '../connections/connection.entity';
import { ConnectionView } from '../connections/connections.dto';
import { ConnectionsService } from '../connections/connections.service';
import { ConnectorConfigsService } from '../connector-configs/connector-configs.service';
import { ConnectorRegistry } from '../connector-configs/connector-registry.service';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { widgetThemeOf } from '../tenants/tenants.dto';
import { TenantsService } from '../tenants/tenants.service';
import { logoUrl } from './embed-files';
import type { IntegrationView, WidgetConfigView } from './integrations.dto';

const STATUS_RANK: Record<string, number> = { active: 0, needs_reauth: 1, error: 2, revoked: 3 };

/** What the widget shows an end user: the tenant's enabled connectors with the end user's connection of each. */
/**
 * One collator for every list (String#localeCompare builds its rules again on each call), built on
 * the first list: building it maps ICU's collation data (~2.7 MB) into the process.
 */
let byName: Intl.Collator | undefined;

@Injectable()
export class IntegrationsService {
  constructor(
    private readonly connectorConfigs: ConnectorConfigsService,
    private readonly registry: ConnectorRegistry,
    private readonly connections: ConnectionsService,
    private readonly tenants: TenantsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async list(actor: Actor, me: EndUserPrincipal): Promise<IntegrationView[]> {
    const [configs, connections, all] = await Promise.all([
      this.connectorConfigs.listEnabled(me.tenantId),
      this.connections.listForEndUser(actor, me.endUserId),
      this.registry.list(me.tenantId),
    ]);
    const definitions = new Map(all.map((d) => [d.key, d]));
    const views: IntegrationView[] = [];
    for (const config of configs) {
      const definition = definitions.get(config.connectorKey);
      if (!definition) continue;
      if (me.allowedConnectors && !me.allowedConnectors.includes(config.connectorKey)) continue;
      const connection = pickConnection(connections.filter((c) => c.connectorKey === config.connectorKey));
      views.push({
        key: definition.key,
        name: definition.name,
        description: definition.description,
        category: definition.categories[0] ?? 'Other',
        categories: definition.categories,
        logoUrl: definition.logo.startsWith('<svg')
          ? logoUrl(this.config.publicUrl, definition.key, definition.logo, getConnector(definition.key) ? undefined : me.tenantId)
          : undefined,
        // The widget draws a monogram rather than fetch it: 150+ <img> elements cost more than the rest of the list (bench/catalogue.mjs).
        // The URL stays for hosts drawing their own UI from the headless API.
        ...(definition.monogram ? { monogram: definition.monogram } : {}),
        authType: config.settings.authType ?? definition.auth.type,
        connection: connection ? ConnectionView.of(connection, me.externalId) : null,
      });
    }
    const collator = (byName ??= new Intl.Collator('en'));
    return views.sort((a, b) => collator.compare(a.name, b.name));
  }

  async widgetConfig(me: EndUserPrincipal): Promise<WidgetConfigView> {
    const tenant = await this.tenants.get(me.tenantId);
    return { tenantName: tenant.name, theme: widgetThemeOf(tenant) };
  }
}

/** The connection the widget shows: an active one before one needing attention; the newest among equals. */
function pickConnection(candidates: Connection[]): Connection | null {
  return [...candidates].sort((a, b) => (STATUS_RANK[a.status] ?? 9) - (STATUS_RANK[b.status] ?? 9) || b.createdAt.getTime() - a.createdAt.getTime())[0] ?? null;
}
