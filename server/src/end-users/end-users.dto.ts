import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEmail, IsInt, IsObject, IsOptional, IsString, Length, Max, MaxLength, Min } from 'class-validator';
import type { EndUser } from './end-user.entity';
import { OptionalNotNull } from '../common/http/validators';

export class UpsertEndUserDto {
  @ApiPropertyOptional({ nullable: true, type: String, example: 'Jane Doe' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  displayName?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, example: 'jane@customer.com' })
  @IsOptional()
  @IsEmail()
  @MaxLength(254)
  email?: string | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Free-form; shown to your team in the portal' })
  @OptionalNotNull()
  @IsObject()
  metadata?: Record<string, unknown>;
}

export class ListQueryDto {
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
  @MaxLength(500)
  cursor?: string;
}

export class EndUserView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'Your own id for this customer' }) externalId: string;
  @ApiProperty({ nullable: true, type: String }) displayName: string | null;
  @ApiProperty({ nullable: true, type: String }) email: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;

  static of(u: EndUser): EndUserView {
    return {
      id: u.id,
      externalId: u.externalId,
      displayName: u.displayName,
      email: u.email,
      metadata: u.metadata,
      createdAt: u.createdAt.toISOString(),
      updatedAt: u.updatedAt.toISOString(),
    };
  }
}

export class EndUserPage {
  @ApiProperty({ type: [EndUserView] }) data: EndUserView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
