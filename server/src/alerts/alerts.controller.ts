import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, MemberAuth } from '../auth/auth.decorators';
import type { Actor } from '../auth/principal';
import { UuidParam } from '../common/http/params';
import type { AlertParams } from './alert.entities';
import { AlertRulesService } from './alert-rules.service';
import { AlertIncidentListView, AlertIncidentQuery, AlertIncidentView, AlertRuleListView, AlertRuleView, CreateAlertRuleDto, UpdateAlertRuleDto } from './alerts.dto';

/** Alert rules on what the dashboard measures, and the incidents they raised. */
@ApiTags('admin: alerts')
@Controller('v1/admin')
export class AlertsController {
  constructor(private readonly alerts: AlertRulesService) {}

  @Get('alert-rules')
  @MemberAuth('viewer')
  @ApiOperation({ summary: "The tenant's alert rules, oldest first" })
  @ApiOkResponse({ type: AlertRuleListView })
  async list(@CurrentActor() actor: Actor): Promise<AlertRuleListView> {
    return { data: (await this.alerts.list(actor.tenantId)).map(AlertRuleView.of) };
  }

  @Post('alert-rules')
  @MemberAuth('admin')
  @ApiOperation({ summary: 'Add an alert rule: what to watch (kind and params) and where to send notices (channels)' })
  @ApiCreatedResponse({ type: AlertRuleView })
  async create(@CurrentActor() actor: Actor, @Body() body: CreateAlertRuleDto): Promise<AlertRuleView> {
    return AlertRuleView.of(await this.alerts.create(actor, { ...body, params: body.params as AlertParams | undefined }));
  }

  @Get('alert-rules/:id')
  @MemberAuth('viewer')
  @ApiOperation({ summary: 'One alert rule' })
  @ApiOkResponse({ type: AlertRuleView })
  @ApiNotFoundResponse()
  async get(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<AlertRuleView> {
    return AlertRuleView.of(await this.alerts.get(actor.tenantId, id));
  }

  @Patch('alert-rules/:id')
  @MemberAuth('admin')
  @ApiOperation({ summary: 'Rename, change parameters or channels, enable or disable (the kind cannot change)' })
  @ApiOkResponse({ type: AlertRuleView })
  @ApiNotFoundResponse()
  async update(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string, @Body() body: UpdateAlertRuleDto): Promise<AlertRuleView> {
    return AlertRuleView.of(await this.alerts.update(actor, id, body));
  }

  @Delete('alert-rules/:id')
  @HttpCode(204)
  @MemberAuth('admin')
  @ApiOperation({ summary: 'Delete an alert rule and its incidents' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  async remove(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<void> {
    await this.alerts.remove(actor, id);
  }

  @Get('alert-incidents')
  @MemberAuth('viewer')
  @ApiOperation({ summary: 'Incidents alert rules raised, newest first; filter by status or rule' })
  @ApiOkResponse({ type: AlertIncidentListView })
  async incidents(@CurrentActor() actor: Actor, @Query() query: AlertIncidentQuery): Promise<AlertIncidentListView> {
    const page = await this.alerts.listIncidents(actor.tenantId, query);
    return { data: page.data.map(AlertIncidentView.of), nextCursor: page.nextCursor };
  }
}
