import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { OptionalNotNull, QueryDate } from '../common/http/validators';
import type { AuditEvent } from './audit-event.entity';

const ACTOR_TYPES = ['member', 'api_key', 'end_user', 'system'];
export class AuditQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 })
  @OptionalNotNull()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit = 50;

  @ApiPropertyOptional({ description: 'nextCursor from the previous page' })
  @OptionalNotNull()
  @IsString()
  @MaxLength(100)
  cursor?: string;

  @ApiPropertyOptional({ description: 'Exact action (api_key.created) or a prefix ending in a dot (member.)', example: 'member.' })
  @OptionalNotNull()
  @IsString()
  @MaxLength(100)
  action?: string;

  @ApiPropertyOptional({ enum: ACTOR_TYPES }) @OptionalNotNull() @IsIn(ACTOR_TYPES) actorType?: string;
  @ApiPropertyOptional() @OptionalNotNull() @IsString() @MaxLength(100) actorId?: string;
  @ApiPropertyOptional() @OptionalNotNull() @IsString() @MaxLength(100) targetType?: string;
  @ApiPropertyOptional() @OptionalNotNull() @IsString() @MaxLength(100) targetId?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Events at or after this time' })
  @OptionalNotNull()
  @QueryDate()
  since?: Date;

  @ApiPropertyOptional({ format: 'date-time', description: 'Events before this time' })
  @OptionalNotNull()
  @QueryDate()
  until?: Date;
}

export class AuditEventView {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ACTOR_TYPES }) actorType: string;
  @ApiProperty({ nullable: true, type: String }) actorId: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: "Who: a member's email, an API key's name, an end user's external id (null for the system, or one no longer found)",
  })
  actorName: string | null;
  @ApiProperty({ example: 'api_key.created' }) action: string;
  @ApiProperty({ nullable: true, type: String }) targetType: string | null;
  @ApiProperty({ nullable: true, type: String }) targetId: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'What, when it is a member, an API key or an end user (as actorName)' })
  targetName: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) data: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String }) requestId: string | null;
  @ApiProperty({ nullable: true, type: String }) ip: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;

  static of(e: AuditEvent, names: Map<string, string> = new Map()): AuditEventView {
    return {
      id: e.id,
      actorType: e.actorType,
      actorId: e.actorId,
      actorName: (e.actorId && names.get(`${e.actorType}:${e.actorId}`)) || null,
      action: e.action,
      targetType: e.targetType,
      targetId: e.targetId,
      targetName: (e.targetId && names.get(`${e.targetType}:${e.targetId}`)) || null,
      data: e.data,
      requestId: e.requestId,
      ip: e.ip,
      createdAt: e.createdAt.toISOString(),
    };
  }
}

export class AuditEventPage {
  @ApiProperty({ type: [AuditEventView] }) data: AuditEventView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
