import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsDefined, IsEmail, IsIn, IsInt, IsObject, IsOptional, IsString, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { EndUserView } from '../end-users/end-users.dto';
import type { HostSigningKey } from './host-signing-key.entity';
import { OptionalNotNull } from '../common/http/validators';

export class CreateSessionDto {
  @ApiProperty({ description: 'Your id for the end user; created on first use', example: 'customer-42' })
  @IsString()
  @Length(1, 255)
  endUserId: string;

  @ApiPropertyOptional({ nullable: true, type: String }) @IsOptional() @IsString() @Length(1, 200) displayName?: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) @IsOptional() @IsEmail() @MaxLength(254) email?: string | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) @OptionalNotNull() @IsObject() metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ type: [String], description: 'Limit the session to these connectors (default: all the tenant enabled)', example: ['slack'] })
  @OptionalNotNull()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(/^[a-z0-9][a-z0-9-]{0,62}$/, { each: true, message: 'each connector key must be lowercase letters, digits and dashes' })
  allowedConnectors?: string[];

  @ApiPropertyOptional({ minimum: 60, maximum: 86400, description: 'Lifetime in seconds (default END_USER_SESSION_TTL_SECONDS, 1800)' })
  @OptionalNotNull()
  @IsInt()
  @Min(60)
  @Max(86400)
  ttlSeconds?: number;
}

export class SessionView {
  @ApiProperty({ description: 'The session token (sess_…) for the widget. Shown once.' }) token: string;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
  @ApiProperty({ type: [String], nullable: true }) allowedConnectors: string[] | null;
  @ApiProperty({ type: EndUserView }) endUser: EndUserView;
}

export class RegisterSigningKeyDto {
  @ApiProperty({ example: 'Production signer' }) @IsString() @Length(1, 100) name: string;
  @ApiProperty({ enum: ['ES256', 'RS256'] }) @IsIn(['ES256', 'RS256']) algorithm: 'ES256' | 'RS256';
  @ApiProperty({ description: 'The public key: a PEM string or a JWK object', oneOf: [{ type: 'string' }, { type: 'object' }] })
  @IsDefined()
  publicKey: string | Record<string, unknown>;
}

export class SigningKeyView {
  @ApiProperty({ format: 'uuid', description: 'Put this in your JWT header as "kid"' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['ES256', 'RS256'] }) algorithm: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The public key as a JWK' }) publicKey: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) revokedAt: string | null;

  static of(k: HostSigningKey): SigningKeyView {
    return { id: k.id, name: k.name, algorithm: k.algorithm, publicKey: k.publicKey, createdAt: k.createdAt.toISOString(), revokedAt: k.revokedAt?.toISOString() ?? null };
  }
}

export class SigningKeyListView {
  @ApiProperty({ type: [SigningKeyView] }) data: SigningKeyView[];
}

export class MeView {
  @ApiProperty({ type: EndUserView }) endUser: EndUserView;
  @ApiProperty({ type: [String], nullable: true }) allowedConnectors: string[] | null;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
}
