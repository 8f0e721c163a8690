import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyAuth, CurrentActor, CurrentPrincipal, EndUserAuth, MemberAuth } from '../auth/auth.decorators';
import type { Actor, EndUserPrincipal } from '../auth/principal';
import { UuidParam } from '../common/http/params';
import { ApprovalPage, ApprovalQuery, approvalView, ApprovalViewDto, DecisionBody, HostApprovalQuery, HostDecisionBody } from './approvals.dto';
import { ApprovalsService } from './approvals.service';

const page = (p: { data: Parameters<typeof approvalView>[0][]; nextCursor: string | null }): ApprovalPage => ({ data: p.data.map(approvalView), nextCursor: p.nextCursor });

@ApiTags('approvals')
@Controller('v1')
export class ApprovalsController {
  constructor(private readonly approvals: ApprovalsService) {}

  @Get('approvals')
  @ApiKeyAuth()
  @ApiOperation({ summary: 'Approvals asked by approval steps, newest first (filters: status, endUserId)' })
  @ApiOkResponse({ type: ApprovalPage })
  async list(@CurrentActor() actor: Actor, @Query() query: HostApprovalQuery) {
    return page(await this.approvals.list(actor.tenantId, query));
  }

  @Get('approvals/:id')
  @ApiKeyAuth()
  @ApiOkResponse({ type: ApprovalViewDto })
  @ApiOperation({ summary: 'One approval' })
  async get(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string) {
    return approvalView(await this.approvals.get(actor.tenantId, id));
  }

  @Post('approvals/:id/approve')
  @ApiKeyAuth()
  @HttpCode(200)
  @ApiOkResponse({ type: ApprovalViewDto })
  @ApiOperation({ summary: "Approve (approvers 'host' or 'any'); the run resumes. 409 approval_already_decided if decided before" })
  async approve(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string, @Body() body: HostDecisionBody) {
    return approvalView(await this.approvals.decide(actor, id, true, { via: 'host', name: body.decidedBy }, body.comment));
  }

  @Post('approvals/:id/reject')
  @ApiKeyAuth()
  @HttpCode(200)
  @ApiOkResponse({ type: ApprovalViewDto })
  @ApiOperation({ summary: "Reject (approvers 'host' or 'any'); the run stops or goes on per the step's onReject" })
  async reject(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string, @Body() body: HostDecisionBody) {
    return approvalView(await this.approvals.decide(actor, id, false, { via: 'host', name: body.decidedBy }, body.comment));
  }

  @Get('admin/approvals')
  @MemberAuth('viewer')
  @ApiTags('admin: runs')
  @ApiOperation({ summary: 'Approvals, for the tenant team (filters: status, endUserId)' })
  @ApiOkResponse({ type: ApprovalPage })
  async adminList(@CurrentActor() actor: Actor, @Query() query: HostApprovalQuery) {
    return page(await this.approvals.list(actor.tenantId, query));
  }

  @Get('me/approvals')
  @EndUserAuth()
  @ApiTags('me')
  @ApiOperation({ summary: 'My approvals, newest first (filter: status)' })
  @ApiOkResponse({ type: ApprovalPage })
  async myList(@CurrentPrincipal() me: EndUserPrincipal, @Query() query: ApprovalQuery) {
    return page(await this.approvals.list(me.tenantId, query, me.endUserId));
  }

  @Get('me/approvals/:id')
  @EndUserAuth()
  @ApiTags('me')
  @ApiOkResponse({ type: ApprovalViewDto })
  @ApiOperation({ summary: 'One of my approvals' })
  async myGet(@CurrentPrincipal() me: EndUserPrincipal, @Param('id', UuidParam('id')) id: string) {
    return approvalView(await this.approvals.get(me.tenantId, id, me.endUserId));
  }

  @Post('me/approvals/:id/approve')
  @EndUserAuth()
  @ApiTags('me')
  @HttpCode(200)
  @ApiOkResponse({ type: ApprovalViewDto })
  @ApiOperation({ summary: "Approve one of my approvals (approvers 'end_user' or 'any')" })
  async myApprove(@CurrentActor() actor: Actor, @CurrentPrincipal() me: EndUserPrincipal, @Param('id', UuidParam('id')) id: string, @Body() body: DecisionBody) {
    return approvalView(await this.approvals.decide(actor, id, true, { via: 'end_user', endUserId: me.endUserId, externalId: me.externalId }, body.comment));
  }

  @Post('me/approvals/:id/reject')
  @EndUserAuth()
  @ApiTags('me')
  @HttpCode(200)
  @ApiOkResponse({ type: ApprovalViewDto })
  @ApiOperation({ summary: "Reject one of my approvals (approvers 'end_user' or 'any')" })
  async myReject(@CurrentActor() actor: Actor, @CurrentPrincipal() me: EndUserPrincipal, @Param('id', UuidParam('id')) id: string, @Body() body: DecisionBody) {
    return approvalView(await this.approvals.decide(actor, id, false, { via: 'end_user', endUserId: me.endUserId, externalId: me.externalId }, body.comment));
  }
}
