import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Connection } from './connection.entity';

export class ConnectionView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() connector: string;
  @ApiProperty({ description: "The end user's id in your system" }) endUserId: string;
  @ApiProperty({ enum: ['active', 'needs_reauth', 'revoked', 'error'] }) status: string;
  @ApiProperty({ description: "The provider's id of the account" }) accountId: string;
  @ApiProperty({ example: 'Acme workspace' }) accountName: string;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) config: Record<string, string>;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) expiresAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastRefreshedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) lastError: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;

  static of(c: Connection, externalId: string): ConnectionView {
    return {
      id: c.id,
      connector: c.connectorKey,
      endUserId: externalId,
      status: c.status,
      accountId: c.accountId,
      accountName: c.accountName,
      scopes: c.scopes,
      config: c.config,
      expiresAt: c.expiresAt?.toISOString() ?? null,
      lastRefreshedAt: c.lastRefreshedAt?.toISOString() ?? null,
      lastError: c.lastError,
      createdAt: c.createdAt.toISOString(),
      updatedAt: c.updatedAt.toISOString(),
    };
  }
}

export class ConnectionListView {
  @ApiProperty({ type: [ConnectionView] }) data: ConnectionView[];
}

export class AccessTokenView {
  @ApiProperty({ description: 'A fresh access token (or the API key) for this connection. Audited.' }) accessToken: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) expiresAt: string | null;
}

export class OptionView {
  @ApiProperty({ description: 'What a flow setting stores, e.g. a channel id' }) value: string;
  @ApiProperty({ description: 'What people see, e.g. #general' }) label: string;
  @ApiPropertyOptional() description?: string;
}

export class OptionPageView {
  @ApiProperty({ type: [OptionView] }) options: OptionView[];
  @ApiPropertyOptional({ description: 'Pass as cursor for the next page; absent on the last' }) nextCursor?: string;
}
