import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
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
  @ApiOperation({ summary: 'The connectors I may connect, each with my connection (or null)' })
  async list(@CurrentActor() actor: Actor, @CurrentPrincipal() me: EndUserPrincipal): Promise<IntegrationListView> {
    return { data: await this.integrations.list(actor, me) };
  }

  @Get('widget-config')
  @ApiOperation({ summary: "The tenant's name and widget theme" })
  config(@CurrentPrincipal() me: EndUserPrincipal): Promise<WidgetConfigView> {
    return this.integrations.widgetConfig(me);
  }
}
