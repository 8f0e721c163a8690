import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import type { ConnectionStatus } from '../connections/connection.entity';
import { ConnectionView } from '../connections/connections.dto';
import { EndUserView, ListQueryDto } from './end-users.dto';
import { OptionalNotNull } from '../common/http/validators';

export class EndUserSearchQuery extends ListQueryDto {
  @ApiPropertyOptional({ description: 'Part of the external id, display name or email (case-insensitive)' })
  @OptionalNotNull()
  @IsString()
  @MaxLength(200)
  search?: string;
}

export class EndUserSummary extends EndUserView {
  @ApiProperty({ description: 'Connections of any status' }) connectionCount: number;
  @ApiProperty({ description: 'Connections that need the end user to reconnect' }) needsReauthCount: number;
  @ApiProperty({ description: 'Flows switched on' }) enabledFlowCount: number;
}

export class EndUserSummaryPage {
  @ApiProperty({ type: [EndUserSummary] }) data: EndUserSummary[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class EndUserDetail extends EndUserView {
  @ApiProperty({ type: [ConnectionView] }) connections: ConnectionView[];
}

const CONNECTION_STATUSES: ConnectionStatus[] = ['active', 'needs_reauth', 'revoked', 'error'];

export class ConnectionSearchQuery {
  @ApiPropertyOptional({ description: 'Only connections of this connector, e.g. slack' }) @OptionalNotNull() @IsString() @MaxLength(100) connector?: string;
  @ApiPropertyOptional({ enum: CONNECTION_STATUSES }) @OptionalNotNull() @IsIn(CONNECTION_STATUSES) status?: ConnectionStatus;
  @ApiPropertyOptional({ description: "Part of the end user's external id or the account name (case-insensitive)" })
  @OptionalNotNull()
  @IsString()
  @MaxLength(200)
  search?: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 }) @OptionalNotNull() @Type(() => Number) @IsInt() @Min(1) @Max(200) limit = 50;
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' }) @OptionalNotNull() @IsString() @Matches(/^[A-Za-z0-9_-]{1,200}$/) cursor?: string;
}

export class ConnectionPage {
  @ApiProperty({ type: [ConnectionView] }) data: ConnectionView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
