import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import type { ApiKey } from './api-key.entity';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'Production backend', minLength: 1, maxLength: 100 })
  @IsString()
  @Length(1, 100)
  name: string;
}

export class ApiKeyView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'The first characters of the key, to recognise it', example: 'sk_production_Vq3x' }) prefix: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastUsedAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) revokedAt: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) createdByUserId: string | null;

  static of(key: ApiKey): ApiKeyView {
    return {
      id: key.id,
      name: key.name,
      prefix: key.tokenPrefix,
      createdAt: key.createdAt.toISOString(),
      lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
      revokedAt: key.revokedAt?.toISOString() ?? null,
      createdByUserId: key.createdByUserId,
    };
  }
}

export class CreatedApiKeyView {
  @ApiProperty({ type: ApiKeyView }) apiKey: ApiKeyView;
  @ApiProperty({ description: 'The secret key. Shown only in this response; store it now.', example: 'sk_…' })
  secret: string;
}

export class ApiKeyListView {
  @ApiProperty({ type: [ApiKeyView] }) data: ApiKeyView[];
}
