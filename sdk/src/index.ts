/**
 * @switchboard/sdk — typed client for host backends. Zero runtime dependencies: Node >= 20's
 * global fetch and node:crypto. ESM and CommonJS builds.
 */
export { ROUTES, Switchboard } from './client.js';
export type { RouteName, SwitchboardOptions } from './client.js';
export { SwitchboardError, WebhookVerificationError } from './errors.js';
export { verifyWebhook } from './webhooks.js';
export type { AlertIncidentChange, FlowInstanceChange, VerifyOptions, WebhookEvent, WebhookEventData, WebhookEventType, WebhookHeaders } from './webhooks.js';
export type * from './types.js';
