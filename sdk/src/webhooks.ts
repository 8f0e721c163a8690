import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookVerificationError } from './errors.js';
import type { Approval, Connection, Run } from './types.js';

/** The end user's flow instance after it was switched on or off (`flow` is the template key). */
export interface FlowInstanceChange {
  id: string;
  version: number;
  enabled: boolean;
  settings: Record<string, unknown>;
  /** Connector key → connection id. */
  connections: Record<string, string>;
}

/** An alert rule's incident as `alert.fired` / `alert.resolved` carry it (docs/operations.md, Alerts). */
export interface AlertIncidentChange {
  incidentId: string;
  ruleId: string;
  ruleName: string;
  kind: 'flow_failure_rate' | 'flow_failures' | 'connection_needs_reauth' | 'webhook_endpoint_disabled' | 'tenant_near_cap';
  /** The flow key, connection id, webhook endpoint id or cap (`monthly_tokens`, `concurrent_runs`). */
  subject: string;
  status: 'firing' | 'resolved';
  value: number;
  firedAt: string;
  resolvedAt: string | null;
}

/** Each event type's `data`: your id for the end user next to the object it is about (alerts, about your integrations as a whole, carry the alert). */
export interface WebhookEventData {
  'connection.created': { endUserId: string; connection: Connection };
  'connection.needs_reauth': { endUserId: string; connection: Connection };
  'connection.deleted': { endUserId: string; connection: Connection };
  'flow.enabled': { endUserId: string; flow: string; instance: FlowInstanceChange };
  'flow.disabled': { endUserId: string; flow: string; instance: FlowInstanceChange };
  'run.succeeded': { endUserId: string; run: Run };
  'run.failed': { endUserId: string; run: Run };
  'approval.requested': { endUserId: string; approval: Approval };
  'alert.fired': { alert: AlertIncidentChange };
  'alert.resolved': { alert: AlertIncidentChange };
  /** The portal's "Send test event". */
  ping: { endpointId: string; message: string };
}

export type WebhookEventType = keyof WebhookEventData;

/** A verified webhook; narrow on `type` to get its `data`. */
export type WebhookEvent = { [K in WebhookEventType]: { type: K; timestamp: string; data: WebhookEventData[K] } }[WebhookEventType];

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** How far the webhook-timestamp may be from now, in seconds (default 300): older deliveries are replays. */
  toleranceSeconds?: number;
  /** For tests: what "now" is, in milliseconds. */
  now?: number;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Checks a Switchboard webhook per the Standard Webhooks scheme and returns the parsed event.
 * `rawBody` must be the exact bytes received (before any JSON parsing); `secret` is the endpoint's
 * `whsec_…` secret. Throws WebhookVerificationError when anything does not match.
 */
export function verifyWebhook(rawBody: string | Uint8Array, headers: WebhookHeaders, secret: string, options: VerifyOptions = {}): WebhookEvent {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError('Missing webhook-id, webhook-timestamp or webhook-signature header');
  if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookVerificationError('Invalid webhook-timestamp');
  const tolerance = options.toleranceSeconds ?? 300;
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(now - Number(timestamp)) > tolerance) throw new WebhookVerificationError(`webhook-timestamp is more than ${tolerance} s from now`);

  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  if (key.length === 0) throw new WebhookVerificationError('The secret is empty or not base64');
  const body = typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody).toString('utf8');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  // The header may carry several signatures (e.g. during a secret rotation): any one may match.
  const matched = signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    if (version !== 'v1' || !signature) return false;
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matched) throw new WebhookVerificationError('No matching signature: wrong secret, or the body was changed');
  try {
    return JSON.parse(body) as WebhookEvent;
  } catch {
    throw new WebhookVerificationError('The body is not JSON');
  }
}
