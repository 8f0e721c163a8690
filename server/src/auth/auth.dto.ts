import { EnvironmentView } from '../tenants/environments.dto';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsString, IsUUID, Length, MaxLength } from 'class-validator';
import { ROLES, Role } from '../members/membership.entity';
import { OptionalNotNull } from '../common/http/validators';

export class LoginDto {
  @ApiProperty({ example: 'owner@acme.com' }) @IsEmail() @MaxLength(254) email: string;
  @ApiProperty() @IsString() @Length(1, 200) password: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'Tenant to start in; defaults to your first' })
  @OptionalNotNull()
  @IsUUID()
  tenantId?: string;
}

export class SwitchTenantDto {
  @ApiProperty({ format: 'uuid', description: 'An environment of one of your tenants (a tenant’s own id is its first environment’s)' }) @IsUUID() tenantId: string;
}

export class MembershipSummary {
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty() tenantName: string;
  @ApiProperty({ enum: ROLES }) role: Role;
}

export class PortalMeView {
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty() email: string;
  @ApiProperty({ nullable: true, type: String }) name: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The environment admin calls act on (one of `environments`)' })
  activeTenantId: string | null;
  @ApiProperty({ type: [MembershipSummary] }) memberships: MembershipSummary[];
  @ApiProperty({ type: [EnvironmentView], description: 'The active tenant’s environments (empty without one)' }) environments: EnvironmentView[];
}
