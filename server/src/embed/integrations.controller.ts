import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiNotModifiedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { CurrentActor, CurrentPrincipal, EndUserAuth } from '../auth/auth.decorators';
import type { Actor, EndUserPrincipal } from '../auth/principal';
import { IntegrationListView, WidgetConfigView } from './integrations.dto';
import { IntegrationsService } from './integrations.service';

/** The end user's catalogue and the widget's look, for the widget and the headless browser API. */
@ApiTags('me')
@Controller('v1/me')
@EndUserAuth()
export class IntegrationsController {
  constructor(private readonly integrations: IntegrationsService) {}

  @Get('integrations')
  @ApiOperation({ summary: 'The connectors I may connect, each with my connection (or null); send If-None-Match with the ETag to get 304 when nothing changed' })
  @ApiOkResponse({ type: IntegrationListView })
  @ApiNotModifiedResponse({ description: 'The list is what the ETag in If-None-Match names' })
  async list(
    @CurrentActor() actor: Actor,
    @CurrentPrincipal() me: EndUserPrincipal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<IntegrationListView | undefined> {
    const body: IntegrationListView = { data: await this.integrations.list(actor, me) };
    // Compared here, not by express: fetch() adds `Cache-Control: no-cache` to any request that
    // carries If-None-Match, and express then always answers 200.
    const etag = `W/"${createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 22)}"`;
    res.setHeader('ETag', etag);
    const given = req.headers['if-none-match']?.split(',').map((tag) => tag.trim());
    if (given?.includes(etag) || given?.includes('*')) {
      res.status(304);
      return undefined;
    }
    return body;
  }

  @Get('widget-config')
  @ApiOperation({ summary: "The tenant's name and widget theme" })
  @ApiOkResponse({ type: WidgetConfigView })
  config(@CurrentPrincipal() me: EndUserPrincipal): Promise<WidgetConfigView> {
    return this.integrations.widgetConfig(me);
  }
}
