import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiConsumes, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Public } from '../auth/auth.decorators';
import { FailedAttemptThrottle } from '../auth/failed-attempt-throttle';
import { AppError } from '../common/errors/app-error';
import { MAX_TRIGGER_PAYLOAD_BYTES } from '../engine/runs.service';
import { WebhookTriggerService } from './webhook-trigger.service';

export class WebhookAccepted {
  @ApiProperty({ format: 'uuid', description: 'The run this call started (or, for a repeated idempotency-key / webhook-id, the run the first call started)' })
  runId: string;
}

/** Webhook trigger URLs: the secret token in the path is the credential (see InstanceTriggersService). */
@ApiTags('triggers')
@Controller('v1/hooks')
export class HooksController {
  constructor(
    private readonly webhooks: WebhookTriggerService,
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
        }),
      ['not_found'],
    );
    return { runId: accepted!.runId };
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
