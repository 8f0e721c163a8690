import { Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { ApiKeyAuth, CurrentActor, CurrentPrincipal, EndUserAuth } from '../auth/auth.decorators';
import type { Actor, EndUserPrincipal } from '../auth/principal';
import { UuidParam } from '../common/http/params';
import { AccessTokenView, ConnectionListView, ConnectionView, OptionPageView } from './connections.dto';
import { ConnectionsService } from './connections.service';
import { OptionsService } from './options.service';
import { OptionalNotNull } from '../common/http/validators';

class OptionsQuery {
  @ApiPropertyOptional() @OptionalNotNull() @IsString() @Length(0, 200) search?: string;
  @ApiPropertyOptional() @OptionalNotNull() @IsString() @Length(1, 2000) cursor?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'Which of your connections to use (default: your first active one)' })
  @OptionalNotNull()
  @IsString()
  @Length(36, 36)
  connectionId?: string;
}

/** Connections as the host backend sees them (secret key), by end user. */
@ApiTags('connections')
@Controller()
@ApiKeyAuth()
export class ConnectionsController {
  constructor(private readonly connections: ConnectionsService) {}

  @Get('v1/end-users/:externalId/connections')
  @ApiOperation({ summary: "An end user's connections" })
  @ApiOkResponse({ type: ConnectionListView })
  async list(@CurrentActor() actor: Actor, @Param('externalId') externalId: string): Promise<ConnectionListView> {
    const { connections } = await this.connections.listForExternalId(actor, externalId);
    return { data: connections.map((c) => ConnectionView.of(c, externalId)) };
  }

  @Get('v1/connections/:id')
  @ApiOperation({ summary: 'One connection' })
  @ApiOkResponse({ type: ConnectionView })
  @ApiNotFoundResponse()
  async get(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<ConnectionView> {
    const connection = await this.connections.get(actor.tenantId, id);
    return ConnectionView.of(connection, await this.connections.externalIdOf(actor.tenantId, connection.endUserId));
  }

  @Delete('v1/connections/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a connection and its stored credentials' })
  @ApiNoContentResponse()
  async remove(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<void> {
    await this.connections.remove(actor, id);
  }

  @Post('v1/connections/:id/access-token')
  @HttpCode(200)
  @ApiOperation({ summary: 'A fresh access token for your backend to call the provider directly (audited)' })
  @ApiOkResponse({ type: AccessTokenView })
  accessToken(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<AccessTokenView> {
    return this.connections.accessToken(actor, id);
  }
}

/** The end user's own connections (widget / headless browser API). */
@ApiTags('me')
@Controller('v1/me')
@EndUserAuth()
export class MyConnectionsController {
  constructor(
    private readonly connections: ConnectionsService,
    private readonly options: OptionsService,
  ) {}

  @Get('connections')
  @ApiOperation({ summary: 'My connections' })
  @ApiOkResponse({ type: ConnectionListView })
  async list(@CurrentActor() actor: Actor, @CurrentPrincipal() me: EndUserPrincipal): Promise<ConnectionListView> {
    return { data: (await this.connections.listForEndUser(actor, me.endUserId)).map((c) => ConnectionView.of(c, me.externalId)) };
  }

  @Get('connections/:id')
  @ApiOperation({ summary: 'One of my connections' })
  @ApiOkResponse({ type: ConnectionView })
  async get(@CurrentActor() actor: Actor, @CurrentPrincipal() me: EndUserPrincipal, @Param('id', UuidParam('id')) id: string): Promise<ConnectionView> {
    return ConnectionView.of(await this.connections.get(actor.tenantId, id, me.endUserId), me.externalId);
  }

  @Delete('connections/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Disconnect one of my connections' })
  @ApiNoContentResponse()
  async remove(@CurrentActor() actor: Actor, @CurrentPrincipal() me: EndUserPrincipal, @Param('id', UuidParam('id')) id: string): Promise<void> {
    await this.connections.remove(actor, id, me.endUserId);
  }

  @Get('connectors/:key/options/:source')
  @ApiOperation({ summary: 'Dynamic options (e.g. Slack channels) from one of my connections, with search and paging' })
  @ApiOkResponse({ type: OptionPageView })
  getOptions(@CurrentPrincipal() me: EndUserPrincipal, @Param('key') key: string, @Param('source') source: string, @Query() query: OptionsQuery): Promise<OptionPageView> {
    return this.options.list(me, key, source, query);
  }
}
