import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsIn, IsString, Length, MaxLength } from 'class-validator';
import { PASSWORD_MIN_LENGTH } from '../common/crypto/passwords';
import { Membership, Role, ROLES } from './membership.entity';
import { OptionalNotNull } from '../common/http/validators';

export class InviteMemberDto {
  @ApiProperty({ example: 'dev@acme.com' }) @IsEmail() @MaxLength(254) email: string;
  @ApiProperty({ enum: ROLES }) @IsIn(ROLES) role: Role;
}

export class ChangeRoleDto {
  @ApiProperty({ enum: ROLES }) @IsIn(ROLES) role: Role;
}

export class AcceptInviteDto {
  @ApiProperty({ description: 'The inv_… token from the invitation' }) @IsString() @Length(10, 200) token: string;
  @ApiPropertyOptional({
    description: `New to Switchboard: the password to create your account with (at least ${PASSWORD_MIN_LENGTH} characters). Existing account: its password, unless you are signed in as it (portal session cookie)`,
  })
  @OptionalNotNull()
  @IsString()
  @Length(1, 200)
  password?: string;
  @ApiPropertyOptional({ description: 'Your name, when creating your account' }) @OptionalNotNull() @IsString() @Length(1, 200) name?: string;
}

export class InvitationTokenDto {
  @ApiProperty({ description: 'The inv_… token from the invitation' }) @IsString() @Length(10, 200) token: string;
}

export class InvitationView {
  @ApiProperty() email: string;
  @ApiProperty() tenantName: string;
  @ApiProperty({ enum: ROLES }) role: Role;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
  @ApiProperty({ description: 'The email already has an account: accept signed in as it, or with its password' }) accountExists: boolean;
  @ApiProperty({ description: 'The portal session of this browser belongs to the invited account' }) signedInAsInvitee: boolean;
}

export class MemberView {
  @ApiProperty({ format: 'uuid', description: 'Membership id' }) id: string;
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty() email: string;
  @ApiProperty({ nullable: true, type: String }) name: string | null;
  @ApiProperty({ enum: ROLES }) role: Role;
  @ApiProperty({ enum: ['active', 'invited'] }) status: 'active' | 'invited';
  @ApiProperty({ format: 'date-time' }) createdAt: string;

  static of(m: Membership): MemberView {
    return {
      id: m.id,
      userId: m.userId,
      email: m.user.email,
      name: m.user.name,
      role: m.role,
      status: m.status,
      createdAt: m.createdAt.toISOString(),
    };
  }
}

export class MemberListView {
  @ApiProperty({ type: [MemberView] }) data: MemberView[];
}

export class InvitedMemberView {
  @ApiProperty({ type: MemberView }) member: MemberView;
  @ApiProperty({ description: 'Shown once: send it to the invitee. Valid for INVITATION_TTL_SECONDS (72 hours by default).' }) inviteToken: string;
  @ApiProperty({ description: 'A portal link that carries the token' }) inviteUrl: string;
}
