import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { notFound } from '../common/errors/app-error';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { CurrentActor, MemberAuth } from '../auth/auth.decorators';
import type { Actor } from '../auth/principal';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { EndUser } from '../end-users/end-user.entity';
import { ROLE_RANK } from '../members/membership.entity';
import { InstanceTrigger } from '../triggers/instance-trigger.entity';
import { EndUsersService } from '../end-users/end-users.service';
import { bindingsHealthySql } from './binding-health';
import { FlowInstancesService } from './flow-instances.service';
import { FlowInstance, FlowTemplateVersion } from './flow-template.entity';
import { FlowTemplatesService } from './flow-templates.service';
import { flowView } from './flows.dto';
import { FlowListView, SettingLabels, SettingLabelsView, TemplateInstancePage, TriggerHealthView } from './flow-views.dto';
import { OptionalNotNull, QueryInt } from '../common/http/validators';
import { OptionsService } from '../connections/options.service';
import type { VersionDoc } from './flow-instances.service';

export class InstancesQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 }) @OptionalNotNull() @Type(() => Number) @IsInt() @Min(1) @Max(200) limit = 50;
  @ApiPropertyOptional({ description: 'nextCursor from the previous page' }) @OptionalNotNull() @IsString() @MaxLength(500) cursor?: string;
  @ApiPropertyOptional({ description: 'Only instances pinned to this version' }) @OptionalNotNull() @QueryInt(1) version?: number;
  @ApiPropertyOptional({ enum: ['failing'], description: 'Only instances whose trigger (a poll, or a provider webhook subscription) is failing' })
  @OptionalNotNull()
  @IsIn(['failing'])
  triggerHealth?: 'failing';
}

/** Flow instances as the tenant's team sees them in the portal: who runs which version, with which settings. */
@ApiTags('admin: flow templates')
@Controller('v1/admin')
export class FlowInstancesAdminController {
  constructor(
    private readonly templates: FlowTemplatesService,
    private readonly instances: FlowInstancesService,
    private readonly endUsers: EndUsersService,
    @InjectTenantScoped(FlowInstance) private readonly instanceRows: TenantScopedRepository<FlowInstance>,
    private readonly options: OptionsService,
  ) {}

  @Get('flow-templates/:key/instances')
  @MemberAuth('viewer')
  @ApiOperation({ summary: 'End users who enabled this template, with the version each is pinned to (by external id)' })
  @ApiOkResponse({ type: TemplateInstancePage })
  async byTemplate(@CurrentActor() actor: Actor, @Param('key') key: string, @Query() query: InstancesQuery): Promise<TemplateInstancePage> {
    const template = await this.templates.get(actor, key);
    const base = () =>
      this.instanceRows
        .query(actor.tenantId, 'i')
        .andWhere('i.templateId = :templateId', { templateId: template.id })
        .innerJoin(EndUser, 'u', 'u.id = i.endUserId AND u.tenantId = i.tenantId')
        .innerJoin(FlowTemplateVersion, 'v', 'v.id = i.versionId AND v.tenantId = i.tenantId')
        .leftJoin(InstanceTrigger, 't', 't.id = i.id AND t.tenantId = i.tenantId');
    const page = base();
    if (query.triggerHealth === 'failing') page.andWhere(`i.enabled AND t.health = 'failing'`);
    if (query.version !== undefined) page.andWhere('v.version = :version', { version: query.version });
    if (query.cursor !== undefined) page.andWhere('u.externalId > :cursor', { cursor: query.cursor });
    const rows: Array<{
      id: string;
      external_id: string;
      display_name: string | null;
      version: number;
      enabled: boolean;
      healthy: boolean;
      updated_at: Date;
      trigger_type: string | null;
      trigger_key: string | null;
      health: 'ok' | 'failing' | null;
      last_error: TriggerHealthView['error'];
      polled_at: Date | null;
      last_item_at: Date | null;
    }> = await page
      .select(['i.id AS id', 'u.externalId AS external_id', 'u.displayName AS display_name', 'v.version AS version', 'i.enabled AS enabled', 'i.updatedAt AS updated_at'])
      .addSelect([
        't.type AS trigger_type',
        't.triggerKey AS trigger_key',
        't.health AS health',
        't.lastError AS last_error',
        't.polledAt AS polled_at',
        't.lastItemAt AS last_item_at',
      ])
      .addSelect(bindingsHealthySql('i'), 'healthy')
      .orderBy('u.externalId', 'ASC')
      .limit(query.limit + 1)
      .getRawMany();
    const usage: Array<{ version: number; enabled: string; disabled: string }> = await base()
      .select('v.version', 'version')
      .addSelect('count(*) FILTER (WHERE i.enabled)', 'enabled')
      .addSelect('count(*) FILTER (WHERE NOT i.enabled)', 'disabled')
      .groupBy('v.version')
      .orderBy('v.version', 'DESC')
      .getRawMany();
    const data = rows.slice(0, query.limit);
    return {
      data: data.map((r) => ({
        id: r.id,
        endUserId: r.external_id,
        endUserName: r.display_name,
        version: Number(r.version),
        enabled: r.enabled,
        status: !r.enabled ? 'off' : r.healthy ? 'on' : 'paused',
        triggerHealth:
          r.trigger_type === 'poll' || r.trigger_key
            ? {
                status: r.health === 'failing' ? 'failing' : r.trigger_type === 'poll' && !r.polled_at ? 'waiting' : 'ok',
                error: r.last_error,
                lastCheckedAt: r.polled_at ? new Date(r.polled_at).toISOString() : null,
                lastItemAt: r.last_item_at ? new Date(r.last_item_at).toISOString() : null,
              }
            : null,
        updatedAt: new Date(r.updated_at).toISOString(),
      })),
      nextCursor: rows.length > query.limit ? data[data.length - 1].external_id : null,
      byVersion: usage.map((u) => ({ version: Number(u.version), enabled: Number(u.enabled), disabled: Number(u.disabled) })),
    };
  }

  @Get('end-users/:externalId/flows')
  @MemberAuth('viewer')
  @ApiOperation({ summary: "An end user's flows: every published flow, with their instance (version, on/off, settings) if any" })
  @ApiOkResponse({ type: FlowListView, description: 'webhookUrl and webhookSecret are null for viewers' })
  async byEndUser(@CurrentActor() actor: Actor, @Param('externalId') externalId: string): Promise<FlowListView> {
    const endUser = await this.endUsers.get(actor, externalId);
    const flows = (await this.instances.listForEndUser(actor, endUser.id)).map(flowView);
    // A webhook URL and signing secret let anyone start the end user's runs: developers and up only.
    if (ROLE_RANK[actor.role ?? 'viewer'] >= ROLE_RANK.developer) return { data: flows };
    return { data: flows.map((f) => (f.instance ? { ...f, instance: { ...f.instance, webhookUrl: null, webhookSecret: null } } : f)) };
  }

  @Get('end-users/:externalId/flows/:key/setting-labels')
  @MemberAuth('viewer')
  @ApiExtraModels(SettingLabels)
  @ApiOperation({
    summary: "The names of an end user's saved option values (Slack channel ids → #sales), read live from the provider with the flow's connection",
  })
  @ApiOkResponse({ type: SettingLabelsView })
  async settingLabels(@CurrentActor() actor: Actor, @Param('externalId') externalId: string, @Param('key') key: string): Promise<SettingLabelsView> {
    const endUser = await this.endUsers.get(actor, externalId);
    const { instance, pinned, latest } = await this.instances.getForEndUser(actor, endUser.id, key);
    if (!instance) throw notFound('Flow instance', `${key} of ${externalId}`);
    const inputs = ((pinned ?? latest).definition as unknown as VersionDoc).inputs ?? {};
    const data: Record<string, SettingLabels> = {};
    await Promise.all(
      Object.entries(inputs).map(async ([name, input]) => {
        const value = instance.settings[name];
        const values = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string' && v !== '');
        if (!input.options || values.length === 0) return;
        data[name] = await this.options.labels(actor.tenantId, instance.connections[input.options.connector], input.options.source, values);
      }),
    );
    return { data };
  }
}
