import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ConnectionView } from '../connections/connections.dto';
import { WidgetThemeDto } from '../tenants/tenants.dto';

export class MonogramView {
  @ApiProperty({ example: '#03363D' }) color: string;
  @ApiProperty({ example: 'ZD', description: '1–3 letters, white on the colour' }) text: string;
}

export class IntegrationView {
  @ApiProperty({ example: 'slack' }) key: string;
  @ApiProperty({ example: 'Slack' }) name: string;
  @ApiProperty({ example: 'Send messages to channels and people' }) description: string;
  @ApiProperty({ example: 'Communication', description: 'The first of categories' }) category: string;
  @ApiProperty({ type: [String] }) categories: string[];
  @ApiPropertyOptional({ example: 'https://switchboard.example.com/embed/v1/logos/slack.svg?v=3mJr7AoUXx', description: 'Versioned: cacheable for good' }) logoUrl?: string;
  @ApiPropertyOptional({ type: MonogramView, description: 'When the logo is a monogram: the widget draws it instead of fetching logoUrl' })
  monogram?: MonogramView;
  @ApiProperty({ enum: ['oauth2', 'oauth2_client_credentials', 'api_key', 'basic'] }) authType: string;
  @ApiProperty({ type: ConnectionView, nullable: true, description: 'My connection of this connector (an active one first), or null' })
  connection: ConnectionView | null;
}

export class IntegrationListView {
  @ApiProperty({ type: [IntegrationView] }) data: IntegrationView[];
}

export class WidgetConfigView {
  @ApiProperty({ example: 'Acme CRM' }) tenantName: string;
  @ApiProperty({ type: WidgetThemeDto }) theme: WidgetThemeDto;
}
