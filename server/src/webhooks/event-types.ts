/** The event types endpoints subscribe to. `ping` (the test button) is sent to one endpoint on request only. */
export const WEBHOOK_EVENT_TYPES = [
  'connection.created',
  'connection.needs_reauth',
  'connection.deleted',
  'flow.enabled',
  'flow.disabled',
  'run.succeeded',
  'run.failed',
  'approval.requested',
  'alert.fired',
  'alert.resolved',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * Every event's data names the end user (your id for them) next to the object it is about; alert
 * events are about the tenant's integrations as a whole and carry the alert instead.
 */
export type WebhookEventData = ({ endUserId: string } | { alert: Record<string, unknown> }) & Record<string, unknown>;
