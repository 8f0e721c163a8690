import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, MemberAuth } from '../auth/auth.decorators';
import type { Actor } from '../auth/principal';
import { UuidParam } from '../common/http/params';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import {
  CreateWebhookEndpointDto,
  DeliveryQuery,
  UpdateWebhookEndpointDto,
  WebhookDeliveryDetailView,
  WebhookDeliveryListView,
  WebhookDeliveryView,
  WebhookEndpointListView,
  WebhookEndpointView,
  WebhookEndpointWithSecretView,
} from './webhooks.dto';

/** Outbound webhooks to the tenant's own backend: endpoints, secrets, the delivery log. */
@ApiTags('admin: webhooks')
@Controller('v1/admin')
@MemberAuth('admin')
export class WebhooksController {
  constructor(private readonly webhooks: WebhookEndpointsService) {}

  @Get('webhook-endpoints')
  @ApiOperation({ summary: 'Webhook endpoints (never their secrets)' })
  @ApiOkResponse({ type: WebhookEndpointListView })
  async list(@CurrentActor() actor: Actor): Promise<WebhookEndpointListView> {
    return { data: (await this.webhooks.list(actor)).map(WebhookEndpointView.of), nextCursor: null };
  }

  @Post('webhook-endpoints')
  @ApiOperation({ summary: 'Add an endpoint; its signing secret is shown in this answer only' })
  @ApiCreatedResponse({ type: WebhookEndpointWithSecretView })
  async create(@CurrentActor() actor: Actor, @Body() body: CreateWebhookEndpointDto): Promise<WebhookEndpointWithSecretView> {
    const { endpoint, secret } = await this.webhooks.create(actor, body);
    return { ...WebhookEndpointView.of(endpoint), secret };
  }

  @Get('webhook-endpoints/:id')
  @ApiOperation({ summary: 'One endpoint' })
  @ApiOkResponse({ type: WebhookEndpointView })
  @ApiNotFoundResponse()
  async get(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<WebhookEndpointView> {
    return WebhookEndpointView.of(await this.webhooks.get(actor, id));
  }

  @Patch('webhook-endpoints/:id')
  @ApiOperation({ summary: 'Change the URL, description or event types; enable or disable' })
  @ApiOkResponse({ type: WebhookEndpointView })
  async update(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string, @Body() body: UpdateWebhookEndpointDto): Promise<WebhookEndpointView> {
    return WebhookEndpointView.of(await this.webhooks.update(actor, id, body));
  }

  @Delete('webhook-endpoints/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an endpoint and its delivery log' })
  @ApiNoContentResponse()
  async remove(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<void> {
    await this.webhooks.remove(actor, id);
  }

  @Post('webhook-endpoints/:id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({ summary: 'Replace the signing secret; the new one is shown in this answer only and signs from now on' })
  @ApiOkResponse({ type: WebhookEndpointWithSecretView })
  async rotateSecret(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<WebhookEndpointWithSecretView> {
    const { endpoint, secret } = await this.webhooks.rotateSecret(actor, id);
    return { ...WebhookEndpointView.of(endpoint), secret };
  }

  @Post('webhook-endpoints/:id/test')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a `ping` event to this endpoint (one attempt); follow it in the delivery log' })
  @ApiAcceptedResponse({ type: WebhookDeliveryView })
  async test(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<WebhookDeliveryView> {
    return WebhookDeliveryView.of(await this.webhooks.test(actor, id));
  }

  @Get('webhook-endpoints/:id/deliveries')
  @ApiOperation({ summary: 'The delivery log of an endpoint, newest first' })
  @ApiOkResponse({ type: WebhookDeliveryListView })
  async deliveries(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string, @Query() query: DeliveryQuery): Promise<WebhookDeliveryListView> {
    const page = await this.webhooks.listDeliveries(actor, id, query);
    return { data: page.data.map(WebhookDeliveryView.of), nextCursor: page.nextCursor };
  }

  @Get('webhook-deliveries/:id')
  @ApiOperation({ summary: 'One delivery with the body sent and every attempt' })
  @ApiOkResponse({ type: WebhookDeliveryDetailView })
  async delivery(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<WebhookDeliveryDetailView> {
    const { delivery, payload } = await this.webhooks.getDelivery(actor, id);
    return { ...WebhookDeliveryView.of(delivery), endpointId: delivery.endpointId, payload, attemptLog: delivery.attemptLog };
  }

  @Post('webhook-deliveries/:id/resend')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a delivery again now (same webhook-id); a pending one has its next retry brought forward' })
  @ApiAcceptedResponse({ type: WebhookDeliveryView })
  async resend(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<WebhookDeliveryView> {
    return WebhookDeliveryView.of(await this.webhooks.resend(actor, id));
  }
}
