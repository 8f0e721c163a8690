import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookVerify } from '../flows/definition/flow-definition.schema';

/** What a signature scheme sees of an inbound call: the exact bytes and the headers (lowercase names). */
export interface SignedRequest {
  rawBody: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A scheme that authenticates webhook calls: answers what is wrong, or null when the call is
 * authentic. The definition's generic `verify` (an HMAC of the body in one header) is one; a
 * connector's own scheme (Stripe's `t=…,v1=…` with a timestamp, Slack's `v0:` base string…) is
 * another implementation of the same interface, chosen by `trigger.connector`.
 */
export interface SignatureScheme {
  check(request: SignedRequest, secret: string): string | null;
}

/** The definition's `verify`: HMAC of the raw body keyed with the instance's secret (its UTF-8 bytes), in one header. */
export function hmacScheme(spec: WebhookVerify): SignatureScheme {
  const header = spec.header.toLowerCase();
  const algorithm = spec.algorithm ?? 'sha256';
  const encoding = spec.encoding ?? 'hex';
  const prefix = spec.prefix ?? '';
  return {
    check(request, secret) {
      const raw = request.headers[header];
      const given = Array.isArray(raw) ? raw[0] : raw;
      if (!given) return `the ${spec.header} header is missing`;
      const expected = createHmac(algorithm, secret).update(request.rawBody).digest();
      const signature = given.trim();
      if (!signature.startsWith(prefix)) return `the ${spec.header} header does not match`;
      const decoded = decode(signature.slice(prefix.length), encoding);
      if (!decoded || decoded.length !== expected.length || !timingSafeEqual(decoded, expected)) return `the ${spec.header} header does not match`;
      return null;
    },
  };
}

function decode(value: string, encoding: 'hex' | 'base64'): Buffer | null {
  if (encoding === 'hex') return /^[0-9a-fA-F]+$/.test(value) && value.length % 2 === 0 ? Buffer.from(value, 'hex') : null;
  return /^[A-Za-z0-9+/_-]+={0,2}$/.test(value) ? Buffer.from(value, 'base64') : null;
}
