import { createHmac, randomBytes } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';

/** A Standard Webhooks secret: whsec_ + base64 of 32 random bytes. */
export const generateWebhookSecret = (): string => SECRET_PREFIX + randomBytes(32).toString('base64');

/**
 * The Standard Webhooks headers for one attempt: `webhook-signature` is `v1,` + base64 HMAC-SHA256,
 * keyed with the base64-decoded part after `whsec_`, over `<id>.<timestamp>.<body>`.
 */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): Record<string, string> {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestampSeconds), 'webhook-signature': `v1,${signature}` };
}
