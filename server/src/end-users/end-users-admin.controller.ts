import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, MemberAuth } from '../auth/auth.decorators';
import type { Actor } from '../auth/principal';
import { ConnectionView } from '../connections/connections.dto';
import { ConnectionPage, ConnectionSearchQuery, EndUserDetail, EndUserSearchQuery, EndUserSummaryPage } from './end-users-admin.dto';
import { EndUsersAdminService } from './end-users-admin.service';
import { externalIdParam } from './end-users.controller';
import { EndUserView } from './end-users.dto';

/** End users for the tenant's team in the portal (read-only; the host backend manages them). */
@ApiTags('admin: end users')
@Controller('v1/admin/end-users')
export class EndUsersAdminController {
  constructor(private readonly endUsers: EndUsersAdminService) {}

  @Get()
  @MemberAuth('viewer')
  @ApiOperation({ summary: 'Search end users by external id, name or email, with connection and flow counts' })
  @ApiOkResponse({ type: EndUserSummaryPage })
  async search(@CurrentActor() actor: Actor, @Query() query: EndUserSearchQuery): Promise<EndUserSummaryPage> {
    const page = await this.endUsers.search(actor, query);
    return {
      data: page.data.map((u) => ({ ...EndUserView.of(u), connectionCount: u.connectionCount, needsReauthCount: u.needsReauthCount, enabledFlowCount: u.enabledFlowCount })),
      nextCursor: page.nextCursor,
    };
  }

  @Get(':externalId')
  @MemberAuth('viewer')
  @ApiOperation({ summary: 'An end user with their connections (status, account, last refresh)' })
  @ApiOkResponse({ type: EndUserDetail })
  @ApiNotFoundResponse()
  async get(@CurrentActor() actor: Actor, @Param('externalId') externalId: string): Promise<EndUserDetail> {
    const endUser = await this.endUsers.get(actor, externalIdParam(externalId));
    const connections = await this.endUsers.connectionsOf(actor, endUser.id);
    return { ...EndUserView.of(endUser), connections: connections.map((c) => ConnectionView.of(c, endUser.externalId)) };
  }
}

/** Connections across the tenant's end users, for the portal (e.g. the alert form's Slack connection picker). */
@ApiTags('admin: end users')
@Controller('v1/admin/connections')
export class ConnectionsAdminController {
  constructor(private readonly endUsers: EndUsersAdminService) {}

  @Get()
  @MemberAuth('viewer')
  @ApiOperation({ summary: "Connections of every end user, newest first; filter by connector, status, or part of the end user's external id or account name" })
  @ApiOkResponse({ type: ConnectionPage })
  async search(@CurrentActor() actor: Actor, @Query() query: ConnectionSearchQuery): Promise<ConnectionPage> {
    const page = await this.endUsers.searchConnections(actor, query);
    return { data: page.data.map((c) => ConnectionView.of(c.connection, c.externalId)), nextCursor: page.nextCursor };
  }
}
