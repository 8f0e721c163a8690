/**
 * The one retry policy of outbound calls (the proxy, flow steps, token refreshes, polls, webhook
 * deliveries): how long a provider's Retry-After asks for, and jittered exponential backoff.
 */

/** Milliseconds a Retry-After value (delta seconds or an HTTP date) asks for; undefined without a valid one. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

export interface Backoff {
  /** Before the first retry. */
  initialMs: number;
  /** Cap on any one wait. */
  maxMs: number;
  /** Growth per retry (default 2). */
  multiplier?: number;
}

/** The wait before retry number `retry` (1 = the first): exponential, capped, with jitter (50–100 %). */
export function backoffMs(retry: number, policy: Backoff): number {
  const base = Math.min(policy.initialMs * (policy.multiplier ?? 2) ** (retry - 1), policy.maxMs);
  return base * (0.5 + Math.random() / 2);
}

/** 408, 429 and 5xx: answers a repeat may change. */
export const isRetryableStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;
