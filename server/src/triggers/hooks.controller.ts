import { Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/auth.decorators';
import { FailedAttemptThrottle } from '../auth/failed-attempt-throttle';
import { AppError } from '../common/errors/app-error';
import { MAX_TRIGGER_PAYLOAD_BYTES } from '../engine/runs.service';
import { ProviderEventsService } from './provider-events.service';
import { parseBody, WebhookTriggerService } from './webhook-trigger.service';

export class WebhookAccepted {
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description:
      "The run this call started (or, for a repeated idempotency-key / webhook-id / provider event id, the run the first call started); null when a connector's event was not for this flow",
  })
  runId: string | null;
  @ApiPropertyOptional({ type: [String], description: "A connector's webhook trigger: every run the delivery's events started (providers may batch events)" })
  runIds?: string[];
}

export class ProviderDeliveryAccepted {
  @ApiProperty({ description: 'Events in the delivery' }) events: number;
  @ApiProperty({ type: [String], description: 'Runs they started (or, for events seen before, the runs those started)' }) runIds: string[];
}

/** Webhook trigger URLs: the secret token in the path is the credential (see InstanceTriggersService). */
@ApiTags('triggers')
@Controller('v1/hooks')
export class HooksController {
  constructor(
    private readonly webhooks: WebhookTriggerService,
    private readonly providerEvents: ProviderEventsService,
    private readonly throttle: FailedAttemptThrottle,
  ) {}

  @Post(':token')
  @Public()
  @HttpCode(202)
  @ApiOperation({
    summary: "Start a run of the webhook-triggered flow this secret URL belongs to (JSON, form or text body; an 'idempotency-key' or 'webhook-id' header dedupes)",
  })
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded', 'text/plain')
  @ApiBody({ required: false, description: 'Anything the sender posts (at most 256 KB): $trigger.body of the run', schema: {} })
  @ApiAcceptedResponse({ type: WebhookAccepted })
  async receive(@Param('token') token: string, @Req() req: Request): Promise<WebhookAccepted> {
    // Only an unknown URL counts as a guess; a bad signature or body comes from a sender holding the right URL.
    const accepted = await this.throttle.guard(
      'webhook_url',
      req.ip,
      async () =>
        this.webhooks.receive({
          token,
          rawBody: await readBody(req),
          contentType: req.headers['content-type'],
          headers: req.headers,
          query: { ...(req.query as Record<string, unknown>) },
          url: req.originalUrl,
        }),
      ['not_found'],
    );
    return accepted!;
  }

  @Post('apps/:configId')
  @Public()
  @ApiOperation({
    summary:
      "Events a provider sends to a tenant's app (Slack Events API, HubSpot app webhooks): set this URL in the provider's app settings. Checked with the app's secret, routed by account to the flows listening",
  })
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded')
  @ApiBody({ required: false, description: "The provider's delivery (at most 256 KB)", schema: {} })
  @ApiOkResponse({ type: ProviderDeliveryAccepted, description: "Or, for a provider's URL check (Slack url_verification), the answer it expects" })
  async receiveForApp(@Param('configId') configId: string, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<ProviderDeliveryAccepted | unknown> {
    const delivery = await this.throttle.guard(
      'webhook_url',
      req.ip,
      async () => {
        const rawBody = await readBody(req);
        return this.providerEvents.forApp(configId, { url: req.originalUrl, rawBody, headers: req.headers, body: parseBody(rawBody, req.headers['content-type']) });
      },
      ['not_found'],
    );
    if (delivery!.handshake) {
      res.status(delivery!.handshake.status);
      return delivery!.handshake.body;
    }
    res.status(200);
    return { events: delivery!.events, runIds: delivery!.runIds };
  }
}

/** The raw body (signatures cover the exact bytes), refused early when it is over the trigger payload cap. */
async function readBody(req: Request): Promise<Buffer> {
  const tooLarge = () => new AppError('payload_too_large', `The request body is over the ${MAX_TRIGGER_PAYLOAD_BYTES}-byte limit`, { limit: MAX_TRIGGER_PAYLOAD_BYTES });
  if (Number(req.headers['content-length'] ?? 0) > MAX_TRIGGER_PAYLOAD_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_TRIGGER_PAYLOAD_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
