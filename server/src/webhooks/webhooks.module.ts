import { Module } from '@nestjs/common';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { WebhookEventsService } from './webhook-events.service';
import { WebhookMetrics } from './webhook-metrics';
import { WebhookDelivery, WebhookEndpoint, WebhookEvent } from './webhook.entities';
import { WebhooksController } from './webhooks.controller';
import { WebhooksScheduler } from './webhooks.scheduler';

/**
 * Outbound webhooks. Depends only on the core (database, queues, vault, audit, net), so any
 * feature module can import it to call WebhookEventsService.publish without a cycle. The worker
 * adds WebhookDeliveryProcessor.
 */
@Module({
  controllers: [WebhooksController],
  providers: [
    WebhookEventsService,
    WebhookEndpointsService,
    WebhookMetrics,
    WebhooksScheduler,
    provideTenantScoped(WebhookEndpoint, 'Webhook endpoint'),
    provideTenantScoped(WebhookEvent, 'Webhook event'),
    provideTenantScoped(WebhookDelivery, 'Webhook delivery'),
  ],
  exports: [WebhookEventsService, WebhookMetrics],
})
export class WebhooksModule {}
