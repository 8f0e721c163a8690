import { Body, Controller, Get, Inject, Param, Put } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, MemberAuth } from '../auth/auth.decorators';
import type { Actor } from '../auth/principal';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ConnectorExposureBody, McpApprovalBody, McpOverviewView } from './mcp.dto';
import { McpOverview, McpSettingsService } from './mcp-settings.service';

/** The tenant decides what its end users' AI assistants may do over MCP: nothing until set here. */
@ApiTags('admin: mcp')
@Controller('v1/admin/mcp')
export class McpAdminController {
  constructor(
    private readonly settings: McpSettingsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @MemberAuth('viewer')
  @ApiOperation({ summary: 'MCP exposure: per connector, the actions offered as tools and those needing approval; the approval mode' })
  @ApiOkResponse({ type: McpOverviewView })
  async get(@CurrentActor() actor: Actor): Promise<McpOverviewView> {
    return this.view(await this.settings.overview(actor.tenantId));
  }

  @Put('connectors/:connector')
  @MemberAuth('admin')
  @ApiOperation({ summary: "Replace one connector's exposure (400 naming an unknown action, 404 for an unknown connector)" })
  @ApiOkResponse({ type: McpOverviewView })
  @ApiNotFoundResponse({ description: 'No such connector' })
  async setConnector(@CurrentActor() actor: Actor, @Param('connector') connector: string, @Body() body: ConnectorExposureBody): Promise<McpOverviewView> {
    return this.view(await this.settings.setConnector(actor, connector, body));
  }

  @Put('approval')
  @MemberAuth('admin')
  @ApiOperation({ summary: 'How approval-gated tool calls answer: at once with the approval id (pending), or after waiting for the decision (wait)' })
  @ApiOkResponse({ type: McpOverviewView })
  async setApproval(@CurrentActor() actor: Actor, @Body() body: McpApprovalBody): Promise<McpOverviewView> {
    return this.view(await this.settings.setApproval(actor, body));
  }

  private view(overview: McpOverview): McpOverviewView {
    return { url: `${this.config.publicUrl}/mcp`, ...overview };
  }
}
