import { ApiProperty } from '@nestjs/swagger';
import { IsObject, IsString, Matches, MaxLength } from 'class-validator';
import type { CustomProvider } from './custom-provider.entity';

export const PROVIDER_KEY_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export class CustomProviderDto {
  @ApiProperty({ example: 'acme-crm', maxLength: 40, description: "The connector key flows and the widget use; kebab-case, not a shared connector's" })
  @IsString()
  @MaxLength(40)
  @Matches(PROVIDER_KEY_PATTERN, { message: 'key must be kebab-case (a-z, 0-9 and single dashes, starting with a letter)' })
  key: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'A catalogue entry (see connectors/catalogue/*.yaml and docs/connectors.md): name, description, categories, logo (a monogram: { color, text }), docsUrl, auth, baseUrl, verify, …. URLs must be https; http only for hosts OUTBOUND_ALLOWLIST permits.',
  })
  @IsObject()
  definition: Record<string, unknown>;
}

export class CustomProviderView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() key: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['oauth2', 'oauth2_client_credentials', 'api_key', 'basic'] }) authType: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The catalogue entry as stored' }) definition: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;

  static of(p: CustomProvider): CustomProviderView {
    return {
      id: p.id,
      key: p.key,
      name: p.definition.name,
      authType: p.definition.auth.type,
      definition: p.definition as unknown as Record<string, unknown>,
      createdAt: p.createdAt.toISOString(),
      updatedAt: p.updatedAt.toISOString(),
    };
  }
}

export class CustomProviderListView {
  @ApiProperty({ type: [CustomProviderView] }) data: CustomProviderView[];
}
