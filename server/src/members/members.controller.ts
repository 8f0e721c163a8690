import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, MemberAuth } from '../auth/auth.decorators';
import type { Actor } from '../auth/principal';
import { UuidParam } from '../common/http/params';
import { ChangeRoleDto, InvitedMemberView, InviteMemberDto, MemberListView, MemberView } from './members.dto';
import { MembersService } from './members.service';

@ApiTags('admin: members')
@Controller('v1/admin/members')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @Get()
  @MemberAuth('viewer')
  @ApiOperation({ summary: 'List members and pending invitations' })
  @ApiOkResponse({ type: MemberListView })
  async list(@CurrentActor() actor: Actor): Promise<MemberListView> {
    return { data: (await this.members.list(actor)).map(MemberView.of) };
  }

  @Post()
  @MemberAuth('admin')
  @ApiOperation({ summary: 'Invite someone by email with a role (only owners may invite owners)' })
  @ApiCreatedResponse({ type: InvitedMemberView })
  async invite(@CurrentActor() actor: Actor, @Body() body: InviteMemberDto): Promise<InvitedMemberView> {
    const { membership, inviteToken, inviteUrl } = await this.members.invite(actor, body.email, body.role);
    return { member: MemberView.of(membership), inviteToken, inviteUrl };
  }

  @Patch(':id')
  @MemberAuth('admin')
  @ApiOperation({ summary: "Change a member's role; the last owner cannot be demoted" })
  @ApiOkResponse({ type: MemberView })
  @ApiNotFoundResponse()
  async changeRole(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string, @Body() body: ChangeRoleDto): Promise<MemberView> {
    return MemberView.of(await this.members.changeRole(actor, id, body.role));
  }

  @Delete(':id')
  @HttpCode(204)
  @MemberAuth('viewer')
  @ApiOperation({ summary: 'Remove a member or cancel an invitation (admins; anyone may remove themselves); the last owner cannot be removed' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  async remove(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<void> {
    await this.members.remove(actor, id);
  }
}
