import { backoffMs, retryAfterMs } from '../common/http/retry';

const MAX_RETRY_WAIT_MS = 10_000;

/** The proxy's and token refresh's wait before retry `attempt` + 1: Retry-After when given, else backoff; at most 10 s. */
export function retryDelayMs(header: string | null | undefined, attempt: number): number {
  return Math.min(retryAfterMs(header) ?? backoffMs(attempt + 1, { initialMs: 300, maxMs: MAX_RETRY_WAIT_MS }), MAX_RETRY_WAIT_MS);
}
