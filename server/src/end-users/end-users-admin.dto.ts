import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
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
