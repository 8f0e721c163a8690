import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, Length, ValidateNested } from 'class-validator';
import { OptionalNotNull } from '../common/http/validators';

export class ConnectorSettingsDto {
  @ApiPropertyOptional({ description: 'Use the local sandbox providers instead of the real ones (needs SANDBOX_URL)' })
  @OptionalNotNull()
  @IsBoolean()
  useSandbox?: boolean;

  @ApiPropertyOptional({ description: 'Generic HTTP connector: the auth end users connect with', enum: ['api_key', 'basic', 'oauth2_client_credentials'] })
  @OptionalNotNull()
  @IsIn(['api_key', 'basic', 'oauth2_client_credentials'], { message: 'authType must be api_key, basic or oauth2_client_credentials' })
  authType?: string;

  @ApiPropertyOptional({ description: 'Let end users call the proxy for their own connections' })
  @OptionalNotNull()
  @IsBoolean()
  endUserProxy?: boolean;

  @ApiPropertyOptional({ description: 'OAuth connectors: end users bring their own OAuth app (client id and secret, asked in the connect popup) instead of using yours' })
  @OptionalNotNull()
  @IsBoolean()
  endUserApp?: boolean;
}

export class UpdateConnectorConfigDto {
  @ApiPropertyOptional() @OptionalNotNull() @IsBoolean() enabled?: boolean;

  @ApiPropertyOptional({ nullable: true, type: String, description: "Your OAuth app's client id" })
  @IsOptional()
  @IsString()
  @Length(1, 500)
  clientId?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, description: 'Write-only; stored encrypted; never returned' })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  clientSecret?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: "Connectors whose app signs webhooks with a secret of its own (Slack's signing secret): write-only; stored encrypted; never returned",
  })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  webhookSigningSecret?: string | null;

  @ApiPropertyOptional({ type: [String], nullable: true, description: "Scopes to ask for (default: the connector's)" })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 200, { each: true })
  scopes?: string[] | null;

  @ApiPropertyOptional({ type: ConnectorSettingsDto })
  @OptionalNotNull()
  @ValidateNested()
  @Type(() => ConnectorSettingsDto)
  settings?: ConnectorSettingsDto;
}

export class ConnectorConfigView {
  @ApiProperty() enabled: boolean;
  @ApiProperty({ nullable: true, type: String }) clientId: string | null;
  @ApiProperty({ description: 'Whether a client secret is stored (it is never returned)' }) hasClientSecret: boolean;
  @ApiProperty({ type: [String], nullable: true }) scopes: string[] | null;
  @ApiProperty({ type: ConnectorSettingsDto }) settings: ConnectorSettingsDto;
  @ApiProperty({ description: "Register this redirect URI in the provider's OAuth app" }) callbackUrl: string;
  @ApiProperty({ description: 'Whether a webhook signing secret is stored (it is never returned)' }) hasWebhookSigningSecret: boolean;
  @ApiProperty({
    nullable: true,
    type: String,
    description: "Connectors whose provider sends events to the app (Slack Events API, HubSpot): set this URL in the provider's app settings",
  })
  webhookUrl: string | null;
}

export class ConnectorActionView {
  @ApiProperty() key: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({ description: 'The action only reads; it changes nothing at the provider' }) readOnly: boolean;
}

export class ConnectorTriggerView {
  @ApiProperty({ example: 'new_issue' }) key: string;
  @ApiProperty({ enum: ['poll', 'webhook'], description: 'poll: Switchboard asks the provider on an interval; webhook: the provider pushes events' }) kind: 'poll' | 'webhook';
  @ApiProperty({ example: 'New issue' }) name: string;
  @ApiProperty() description: string;
  @ApiPropertyOptional({ description: 'Poll: default seconds between polls' }) intervalSeconds?: number;
  @ApiPropertyOptional({ description: 'Poll: the shortest interval a flow may ask for' }) minIntervalSeconds?: number;
  @ApiPropertyOptional({ type: [String], description: "Webhook: the provider's event types" }) events?: string[];
  @ApiPropertyOptional({ type: Object, description: "JSON Schema of the trigger's parameters (a flow's trigger.input); on one connector, not in the list" }) input?: Record<
    string,
    unknown
  >;
  @ApiPropertyOptional({ type: Object, description: 'JSON Schema of $trigger; on one connector, not in the list' }) output?: Record<string, unknown>;
}

export class ConnectorWebhooksView {
  @ApiProperty({
    enum: ['instance', 'app'],
    description: "instance: a URL per enabled flow, registered by Switchboard; app: one URL (config.webhookUrl) set in the provider's app settings",
  })
  routing: 'instance' | 'app';
  @ApiProperty({
    enum: ['subscription', 'client_secret', 'signing_secret'],
    description: 'signing_secret: the app signs deliveries with a secret of its own, entered as webhookSigningSecret',
  })
  secret: 'subscription' | 'client_secret' | 'signing_secret';
}

export class ConnectorView {
  @ApiProperty() key: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiPropertyOptional({ description: 'SVG document; on one connector, not in the list' }) logo?: string;
  @ApiProperty({ description: 'The logo as an image URL, versioned and cacheable for good' }) logoUrl: string;
  @ApiProperty({ type: [String] }) categories: string[];
  @ApiProperty() docsUrl: string;
  @ApiProperty({ enum: ['oauth2', 'oauth2_client_credentials', 'api_key', 'basic'] }) authType: string;
  @ApiProperty({ type: [String] }) defaultScopes: string[];
  @ApiProperty({ type: [ConnectorActionView] }) actions: ConnectorActionView[];
  @ApiProperty({ type: [String] }) optionSources: string[];
  @ApiProperty({ type: [ConnectorTriggerView], description: 'What can start a flow: polls and provider webhooks' }) triggers: ConnectorTriggerView[];
  @ApiProperty({ nullable: true, type: ConnectorWebhooksView, description: 'How the provider pushes events, when it does' }) webhooks: ConnectorWebhooksView | null;
  @ApiProperty({ type: () => ConnectorConfigView, description: "This tenant's settings" }) config: ConnectorConfigView;
}

export class ConnectorListView {
  @ApiProperty({ type: [ConnectorView] }) data: ConnectorView[];
}
