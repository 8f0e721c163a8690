import { Body, Controller, Get, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import type { Response } from 'express';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyAuth, CurrentActor, CurrentPrincipal, EndUserAuth, MemberAuth, Public } from '../auth/auth.decorators';
import type { Actor, EndUserPrincipal } from '../auth/principal';
import { EndUsersService } from '../end-users/end-users.service';
import { flowDefinitionSchema } from './definition/flow-definition.schema';
import { FlowForEndUser, FlowInstancesService } from './flow-instances.service';
import { FlowTemplatesService } from './flow-templates.service';
import { DefinitionBody, flowView, InstanceBody, OptionalDefinitionBody, PromoteBody, PromotionQuery, TemplateOptionsBody, templateView, WebhookSecretBody } from './flows.dto';
import {
  FlowListView,
  FlowTemplateListView,
  FlowTemplateView,
  FlowValidationView,
  FlowView,
  PromotionPreviewView,
  PromotionView,
  PublishedFlowVersionView,
} from './flow-views.dto';

@ApiTags('admin: flow templates')
@Controller('v1/admin/flow-templates')
export class FlowTemplatesController {
  constructor(private readonly templates: FlowTemplatesService) {}

  @Get()
  @MemberAuth('viewer')
  @ApiOperation({ summary: 'Flow templates' })
  @ApiOkResponse({ type: FlowTemplateListView })
  async list(@CurrentActor() actor: Actor): Promise<FlowTemplateListView> {
    return { data: (await this.templates.list(actor)).map((t) => templateView(t)) };
  }

  @Post()
  @MemberAuth('developer')
  @ApiOperation({ summary: 'Create a template from a draft definition (needs key and name; validated on publish)' })
  @ApiCreatedResponse({ type: FlowTemplateView })
  async create(@CurrentActor() actor: Actor, @Body() body: DefinitionBody): Promise<FlowTemplateView> {
    return templateView(await this.templates.create(actor, body.definition));
  }

  @Get(':key')
  @MemberAuth('viewer')
  @ApiOperation({ summary: 'A template: its draft and every published version' })
  @ApiOkResponse({ type: FlowTemplateView })
  async get(@CurrentActor() actor: Actor, @Param('key') key: string): Promise<FlowTemplateView> {
    const template = await this.templates.get(actor, key);
    return templateView(template, await this.templates.listVersions(actor, template.id));
  }

  @Patch(':key')
  @MemberAuth('developer')
  @ApiOperation({ summary: "Change the template's options (whether end users may upgrade themselves)" })
  @ApiOkResponse({ type: FlowTemplateView })
  async setOptions(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() body: TemplateOptionsBody): Promise<FlowTemplateView> {
    const template = await this.templates.setOptions(actor, key, body);
    return templateView(template, await this.templates.listVersions(actor, template.id));
  }

  @Put(':key/draft')
  @MemberAuth('developer')
  @ApiOperation({ summary: 'Replace the draft (published versions never change)' })
  @ApiOkResponse({ type: FlowTemplateView })
  async updateDraft(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() body: DefinitionBody): Promise<FlowTemplateView> {
    return templateView(await this.templates.updateDraft(actor, key, body.definition));
  }

  @Post(':key/validate')
  @HttpCode(200)
  @MemberAuth('viewer')
  @ApiOperation({ summary: 'Validate the draft (or a given definition); errors name the JSON path' })
  @ApiOkResponse({ type: FlowValidationView })
  async validate(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() body: OptionalDefinitionBody): Promise<FlowValidationView> {
    const definition = body.definition ?? (await this.templates.get(actor, key)).draft;
    const checked = await this.templates.validate(actor, definition);
    return checked.ok ? { valid: true, errors: [] } : { valid: false, errors: checked.errors };
  }

  @Post(':key/publish')
  @MemberAuth('developer')
  @ApiOperation({
    summary: 'Publish the draft as the next immutable version',
    description: 'A draft equal to the latest version publishes nothing: 200 with that version and `changed: false` (201 and `changed: true` otherwise).',
  })
  @ApiCreatedResponse({ type: PublishedFlowVersionView, description: 'A new version was published' })
  @ApiOkResponse({ type: PublishedFlowVersionView, description: 'The draft equals the latest version: that version, nothing published' })
  async publish(@CurrentActor() actor: Actor, @Param('key') key: string, @Res({ passthrough: true }) res: Response): Promise<PublishedFlowVersionView> {
    const { version, changed } = await this.templates.publish(actor, key);
    if (!changed) res.status(200);
    return { key, version: version.version, changed, publishedAt: version.createdAt.toISOString(), definition: version.definition };
  }

  @Get(':key/promotion')
  @MemberAuth('viewer')
  @ApiOperation({ summary: 'What promoting a published version to another environment would change there (a diff, and what would stop it)' })
  @ApiOkResponse({ type: PromotionPreviewView })
  previewPromotion(@CurrentActor() actor: Actor, @Param('key') key: string, @Query() query: PromotionQuery): Promise<PromotionPreviewView> {
    return this.templates.previewPromotion(actor, key, query.environmentId, query.version);
  }

  @Post(':key/promote')
  @MemberAuth('developer')
  @ApiOperation({
    summary: 'Promote a published version to another environment as the next version of the template there',
    description:
      'Promoting to a protected environment needs the admin role. Send the preview’s `to.version` as `expectedVersion` so a target that moved in between is not overwritten.',
  })
  @ApiCreatedResponse({ type: PromotionView })
  async promote(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() body: PromoteBody): Promise<PromotionView> {
    const promoted = await this.templates.promote(actor, key, body);
    return { environment: promoted.environment, key, version: promoted.version.version, changed: promoted.changed };
  }
}

@ApiTags('flows')
@Controller('v1/schemas')
export class FlowSchemaController {
  @Get('flow-definition.json')
  @Public()
  @ApiOperation({ summary: 'The JSON Schema of flow definitions' })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true, description: 'A JSON Schema (draft 2020-12)' } })
  schema(): Record<string, unknown> {
    return flowDefinitionSchema;
  }
}

/** The end user's view: an upgrade is only offered when the template lets end users upgrade themselves. */
const myFlowView = (f: FlowForEndUser) => {
  const view = flowView(f);
  if (view.instance && !f.template.allowEndUserUpgrade) view.instance.upgradeAvailable = false;
  return view;
};

/** The end user's flows: what is available, switch on and off, settings. */
@ApiTags('me')
@Controller('v1/me/flows')
@EndUserAuth()
export class MyFlowsController {
  constructor(private readonly instances: FlowInstancesService) {}

  @Get()
  @ApiOperation({ summary: 'Published flows and whether I have them on' })
  @ApiOkResponse({ type: FlowListView })
  async list(@CurrentActor() actor: Actor, @CurrentPrincipal() me: EndUserPrincipal): Promise<FlowListView> {
    return { data: (await this.instances.listForEndUser(actor, me.endUserId)).map(myFlowView) };
  }

  @Post(':key/enable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Switch a flow on with settings and connection bindings' })
  @ApiOkResponse({ type: FlowView })
  async enable(@CurrentActor() actor: Actor, @CurrentPrincipal() me: EndUserPrincipal, @Param('key') key: string, @Body() body: InstanceBody): Promise<FlowView> {
    await this.instances.enable(actor, me.endUserId, key, body);
    return myFlowView(await this.instances.getForEndUser(actor, me.endUserId, key));
  }

  @Patch(':key')
  @ApiOperation({ summary: 'Change settings or bindings' })
  @ApiOkResponse({ type: FlowView })
  async update(@CurrentActor() actor: Actor, @CurrentPrincipal() me: EndUserPrincipal, @Param('key') key: string, @Body() body: InstanceBody): Promise<FlowView> {
    await this.instances.update(actor, me.endUserId, key, body);
    return myFlowView(await this.instances.getForEndUser(actor, me.endUserId, key));
  }

  @Post(':key/disable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Switch a flow off' })
  @ApiOkResponse({ type: FlowView })
  async disable(@CurrentActor() actor: Actor, @CurrentPrincipal() me: EndUserPrincipal, @Param('key') key: string): Promise<FlowView> {
    await this.instances.disable(actor, me.endUserId, key);
    return myFlowView(await this.instances.getForEndUser(actor, me.endUserId, key));
  }

  @Post(':key/upgrade')
  @HttpCode(200)
  @ApiOperation({ summary: 'Move to the latest version, keeping settings (new required inputs must be given); 403 when the template does not let end users upgrade' })
  @ApiOkResponse({ type: FlowView })
  async upgrade(@CurrentActor() actor: Actor, @CurrentPrincipal() me: EndUserPrincipal, @Param('key') key: string, @Body() body: InstanceBody): Promise<FlowView> {
    const { template } = await this.instances.getForEndUser(actor, me.endUserId, key);
    if (!template.allowEndUserUpgrade) throw new AppError('forbidden', `Upgrades of ${key} are rolled out by the vendor`);
    await this.instances.upgrade(actor, me.endUserId, key, body);
    return myFlowView(await this.instances.getForEndUser(actor, me.endUserId, key));
  }

  @Post(':key/webhook/rotate')
  @HttpCode(200)
  @ApiOperation({ summary: 'A new secret webhook URL (and signing secret) for a webhook-triggered flow; the old ones stop working' })
  @ApiOkResponse({ type: FlowView })
  async rotateWebhook(@CurrentActor() actor: Actor, @CurrentPrincipal() me: EndUserPrincipal, @Param('key') key: string): Promise<FlowView> {
    await this.instances.rotateWebhook(actor, me.endUserId, key);
    return myFlowView(await this.instances.getForEndUser(actor, me.endUserId, key));
  }

  @Put(':key/webhook/secret')
  @ApiOperation({ summary: 'Use the signing secret the sender issued (flows whose webhook trigger verifies signatures)' })
  @ApiOkResponse({ type: FlowView })
  async setWebhookSecret(@CurrentActor() actor: Actor, @CurrentPrincipal() me: EndUserPrincipal, @Param('key') key: string, @Body() body: WebhookSecretBody): Promise<FlowView> {
    await this.instances.setWebhookSecret(actor, me.endUserId, key, body.secret);
    return myFlowView(await this.instances.getForEndUser(actor, me.endUserId, key));
  }
}

/** The same, by the host on an end user's behalf (headless set-ups). */
@ApiTags('flows')
@Controller('v1/end-users/:externalId/flows')
@ApiKeyAuth()
export class EndUserFlowsController {
  constructor(
    private readonly instances: FlowInstancesService,
    private readonly endUsers: EndUsersService,
  ) {}

  private async id(actor: Actor, externalId: string): Promise<string> {
    return (await this.endUsers.get(actor, externalId)).id;
  }

  @Get()
  @ApiOperation({ summary: "An end user's flows" })
  @ApiOkResponse({ type: FlowListView })
  async list(@CurrentActor() actor: Actor, @Param('externalId') externalId: string): Promise<FlowListView> {
    return { data: (await this.instances.listForEndUser(actor, await this.id(actor, externalId))).map(flowView) };
  }

  @Post(':key/enable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Switch a flow on for the end user' })
  @ApiOkResponse({ type: FlowView })
  async enable(@CurrentActor() actor: Actor, @Param('externalId') externalId: string, @Param('key') key: string, @Body() body: InstanceBody): Promise<FlowView> {
    const endUserId = await this.id(actor, externalId);
    await this.instances.enable(actor, endUserId, key, body);
    return flowView(await this.instances.getForEndUser(actor, endUserId, key));
  }

  @Patch(':key')
  @ApiOperation({ summary: "Change the end user's settings or bindings" })
  @ApiOkResponse({ type: FlowView })
  async update(@CurrentActor() actor: Actor, @Param('externalId') externalId: string, @Param('key') key: string, @Body() body: InstanceBody): Promise<FlowView> {
    const endUserId = await this.id(actor, externalId);
    await this.instances.update(actor, endUserId, key, body);
    return flowView(await this.instances.getForEndUser(actor, endUserId, key));
  }

  @Post(':key/disable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Switch a flow off for the end user' })
  @ApiOkResponse({ type: FlowView })
  async disable(@CurrentActor() actor: Actor, @Param('externalId') externalId: string, @Param('key') key: string): Promise<FlowView> {
    const endUserId = await this.id(actor, externalId);
    await this.instances.disable(actor, endUserId, key);
    return flowView(await this.instances.getForEndUser(actor, endUserId, key));
  }

  @Post(':key/upgrade')
  @HttpCode(200)
  @ApiOperation({ summary: 'Move the end user to the latest version' })
  @ApiOkResponse({ type: FlowView })
  async upgrade(@CurrentActor() actor: Actor, @Param('externalId') externalId: string, @Param('key') key: string, @Body() body: InstanceBody): Promise<FlowView> {
    const endUserId = await this.id(actor, externalId);
    await this.instances.upgrade(actor, endUserId, key, body);
    return flowView(await this.instances.getForEndUser(actor, endUserId, key));
  }

  @Post(':key/webhook/rotate')
  @HttpCode(200)
  @ApiOperation({ summary: "A new secret webhook URL (and signing secret) for the end user's webhook-triggered flow; the old ones stop working" })
  @ApiOkResponse({ type: FlowView })
  async rotateWebhook(@CurrentActor() actor: Actor, @Param('externalId') externalId: string, @Param('key') key: string): Promise<FlowView> {
    const endUserId = await this.id(actor, externalId);
    await this.instances.rotateWebhook(actor, endUserId, key);
    return flowView(await this.instances.getForEndUser(actor, endUserId, key));
  }

  @Put(':key/webhook/secret')
  @ApiOperation({ summary: "Use the signing secret the sender issued for the end user's flow (flows whose webhook trigger verifies signatures)" })
  @ApiOkResponse({ type: FlowView })
  async setWebhookSecret(@CurrentActor() actor: Actor, @Param('externalId') externalId: string, @Param('key') key: string, @Body() body: WebhookSecretBody): Promise<FlowView> {
    const endUserId = await this.id(actor, externalId);
    await this.instances.setWebhookSecret(actor, endUserId, key, body.secret);
    return flowView(await this.instances.getForEndUser(actor, endUserId, key));
  }
}
