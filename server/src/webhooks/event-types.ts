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
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Every event's data names the end user (your id for them) next to the object it is about. */
export type WebhookEventData = { endUserId: string } & Record<string, unknown>;
