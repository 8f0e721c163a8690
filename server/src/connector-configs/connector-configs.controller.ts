import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type ConnectorDefinition, DEFAULT_MIN_POLL_SECONDS, getConnector } from '@switchboard/connectors';
import { CurrentActor, MemberAuth } from '../auth/auth.decorators';
import type { Actor } from '../auth/principal';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { logoUrl } from '../embed/embed-files';
import { ConnectorConfig } from './connector-config.entity';
import { ConnectorConfigView, ConnectorListView, ConnectorView, UpdateConnectorConfigDto } from './connector-configs.dto';
import { ConnectorConfigsService, StoredSecrets } from './connector-configs.service';

const NO_SECRETS: StoredSecrets = { clientSecret: false, webhookSigningSecret: false };
import { ConnectorRegistry } from './connector-registry.service';

@ApiTags('admin: connectors')
@Controller('v1/admin/connectors')
export class ConnectorConfigsController {
  constructor(
    private readonly configs: ConnectorConfigsService,
    private readonly registry: ConnectorRegistry,
    @Inject(APP_CONFIG) private readonly appConfig: AppConfig,
  ) {}

  @Get()
  @MemberAuth('viewer')
  @ApiOperation({ summary: "The connector catalogue with this tenant's settings for each (logos by logoUrl only)" })
  @ApiOkResponse({ type: ConnectorListView })
  async list(@CurrentActor() actor: Actor): Promise<ConnectorListView> {
    const [stored, secrets, definitions] = await Promise.all([
      this.configs.list(actor.tenantId),
      this.configs.storedSecretsByKey(actor.tenantId),
      this.registry.list(actor.tenantId),
    ]);
    const configs = new Map(stored.map((c) => [c.connectorKey, c]));
    // Lean: logos by URL (cached by the browser) rather than 150+ SVG documents in every list.
    return { data: definitions.map((d) => this.view(actor, d, configs.get(d.key), secrets.get(d.key) ?? NO_SECRETS, false)) };
  }

  @Get(':key')
  @MemberAuth('viewer')
  @ApiOperation({ summary: "One connector with this tenant's settings" })
  @ApiOkResponse({ type: ConnectorView })
  async get(@CurrentActor() actor: Actor, @Param('key') key: string): Promise<ConnectorView> {
    const definition = await this.registry.definition(actor.tenantId, key);
    const config = (await this.configs.list(actor.tenantId)).find((c) => c.connectorKey === key);
    return this.view(actor, definition, config, config ? await this.configs.storedSecrets(actor.tenantId, key) : NO_SECRETS);
  }

  @Put(':key')
  @MemberAuth('admin')
  @ApiOperation({ summary: 'Enable/disable a connector, set its OAuth app (the secret is write-only) and scopes' })
  @ApiOkResponse({ type: ConnectorView })
  async update(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() body: UpdateConnectorConfigDto): Promise<ConnectorView> {
    const config = await this.configs.upsert(actor, key, body);
    return this.view(actor, await this.registry.definition(actor.tenantId, key), config, await this.configs.storedSecrets(actor.tenantId, key));
  }

  @Delete(':key')
  @HttpCode(204)
  @MemberAuth('admin')
  @ApiOperation({ summary: "Forget this tenant's settings for a connector (disables it)" })
  @ApiNoContentResponse()
  async remove(@CurrentActor() actor: Actor, @Param('key') key: string): Promise<void> {
    await this.registry.definition(actor.tenantId, key);
    await this.configs.remove(actor, key);
  }

  private view(actor: Actor, d: ConnectorDefinition, config: ConnectorConfig | undefined, secrets: StoredSecrets, withLogo = true): ConnectorView {
    const configView: ConnectorConfigView = {
      enabled: config?.enabled ?? false,
      clientId: config?.clientId ?? null,
      hasClientSecret: secrets.clientSecret,
      hasWebhookSigningSecret: secrets.webhookSigningSecret,
      webhookUrl: config && d.webhooks?.routing === 'app' ? this.configs.appWebhookUrl(config) : null,
      scopes: config?.scopes ?? null,
      settings: config?.settings ?? {},
      callbackUrl: `${this.appConfig.publicUrl}/oauth/callback`,
    };
    return {
      key: d.key,
      name: d.name,
      description: d.description,
      ...(withLogo ? { logo: d.logo } : {}),
      logoUrl: logoUrl(this.appConfig.publicUrl, d.key, d.logo, getConnector(d.key) ? undefined : actor.tenantId),
      categories: d.categories,
      docsUrl: d.docsUrl,
      authType: d.auth.type,
      defaultScopes: 'scopes' in d.auth && d.auth.scopes ? d.auth.scopes : [],
      actions: Object.entries(d.actions).map(([key, a]) => ({ key, name: a.name, description: a.description, readOnly: a.readOnly })),
      optionSources: Object.keys(d.options ?? {}),
      triggers: Object.entries(d.triggers ?? {}).map(([key, t]) => ({
        key,
        kind: t.kind,
        name: t.name,
        description: t.description,
        ...(t.kind === 'poll' ? { intervalSeconds: t.intervalSeconds, minIntervalSeconds: t.minIntervalSeconds ?? DEFAULT_MIN_POLL_SECONDS } : { events: t.events }),
        ...(withLogo ? { input: t.input ?? { type: 'object', properties: {}, additionalProperties: false }, output: t.output } : {}),
      })),
      webhooks: d.webhooks ? { routing: d.webhooks.routing, secret: d.webhooks.secret } : null,
      config: configView,
    };
  }
}
