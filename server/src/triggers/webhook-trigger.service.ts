import { Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { RunsService } from '../engine/runs.service';
import type { WebhookTrigger } from '../flows/definition/flow-definition.schema';
import { InstanceTriggersService } from './instance-triggers.service';
import { ProviderEventsService } from './provider-events.service';
import { hmacScheme, SignatureScheme } from './webhook-signature';
import { assertStorable, jsonTooDeep, MAX_TRIGGER_JSON_DEPTH, tooDeep } from '../common/http/hostile-input';

/** An inbound call to a webhook URL, as read off the wire. */
export interface WebhookCall {
  token: string;
  rawBody: Buffer;
  contentType: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
}

// Credentials and hop-by-hop plumbing never reach $trigger (nor the run, which the tenant's team
// and the end user can read).
const DROPPED_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
]);
const MAX_IDEMPOTENCY_KEY = 255;

/** Unknown token, disabled instance, wrong trigger type: all the same answer, which reveals nothing. */
const notFound = () => new AppError('not_found', 'Not found');

@Injectable()
export class WebhookTriggerService {
  constructor(
    private readonly triggers: InstanceTriggersService,
    private readonly runs: RunsService,
    private readonly providerEvents: ProviderEventsService,
  ) {}

  /**
   * Authenticates the call, turns it into `$trigger` and starts (or, for a repeated delivery id, finds) the run.
   * A connector's webhook trigger goes to ProviderEventsService instead: its provider's signature,
   * its events (none, one or several runs).
   */
  async receive(call: WebhookCall & { url: string }): Promise<{ runId: string | null; runIds?: string[] }> {
    const target = await this.triggers.findByWebhookToken(call.token);
    if (!target) throw notFound();
    if (target.trigger.connector !== undefined && target.trigger.event !== undefined) {
      const delivery = await this.providerEvents.forInstance(target, {
        url: call.url,
        rawBody: call.rawBody,
        headers: call.headers,
        body: parseBody(call.rawBody, call.contentType),
      });
      return { runId: delivery.runIds[0] ?? null, runIds: delivery.runIds };
    }
    const scheme = signatureScheme(target.trigger);
    if (scheme) {
      const problem = target.secret ? scheme.check({ rawBody: call.rawBody, headers: call.headers }, target.secret) : 'the flow has no signing secret yet';
      if (problem) throw new AppError('webhook_signature_invalid', `The webhook signature is not valid: ${problem}`);
    }
    const key = header(call.headers, 'idempotency-key') ?? header(call.headers, 'webhook-id');
    if (key !== undefined && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY)) {
      throw new AppError('validation_failed', `headers.idempotency-key: must be 1 to ${MAX_IDEMPOTENCY_KEY} characters`, {
        errors: [{ path: 'headers.idempotency-key', message: `must be 1 to ${MAX_IDEMPOTENCY_KEY} characters` }],
      });
    }
    const trigger = { body: parseBody(call.rawBody, call.contentType), headers: safeHeaders(call.headers), query: call.query, receivedAt: new Date().toISOString() };
    assertStorable(trigger);
    const { run, enqueue } = await this.runs.startInstanceRun({
      tenantId: target.tenantId,
      instanceId: target.instanceId,
      triggerType: 'webhook',
      trigger,
      idempotencyKey: key === undefined ? null : `webhook:${key}`,
    });
    await enqueue();
    return { runId: run.id };
  }
}

/**
 * How a webhook trigger's calls are authenticated beyond the URL's secret token: the
 * definition's `verify` (an HMAC keyed with the instance's secret). A connector's webhook trigger
 * (`connector` + `event`) is checked with the provider's own scheme (ProviderEventsService); one
 * naming only `connector` is authenticated by the URL's secret token.
 */
function signatureScheme(trigger: WebhookTrigger): SignatureScheme | null {
  return trigger.verify ? hmacScheme(trigger.verify) : null;
}

/** JSON is parsed, a form becomes an object (repeated fields become lists), text stays text. */
export function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return null;
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const text = raw.toString('utf8');
  if (type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type)) {
    if (jsonTooDeep(raw, MAX_TRIGGER_JSON_DEPTH)) throw tooDeep(MAX_TRIGGER_JSON_DEPTH);
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new AppError('malformed_json', `The body is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    const fields = new Map<string, string | string[]>();
    for (const [name, value] of new URLSearchParams(text)) {
      const seen = fields.get(name);
      fields.set(name, seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value]);
    }
    return Object.fromEntries(fields);
  }
  if (type.startsWith('text/') || type === 'application/xml') return text;
  throw new AppError(
    'unsupported_media_type',
    `Send JSON (application/json), a form (application/x-www-form-urlencoded) or text (text/*) to a webhook URL (got ${contentType ?? 'no Content-Type'})`,
  );
}

export function safeHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || DROPPED_HEADERS.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
