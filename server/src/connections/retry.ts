const MAX_RETRY_WAIT_MS = 10_000;

/** Seconds from Retry-After (delta or HTTP date), capped; jittered exponential backoff without it. */
export function retryDelayMs(header: string | null | undefined, attempt: number): number {
  if (header) {
    const seconds = Number(header);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
    if (Number.isFinite(ms)) return Math.min(Math.max(ms, 0), MAX_RETRY_WAIT_MS);
  }
  return Math.min(200 * 2 ** attempt * (0.5 + Math.random()), MAX_RETRY_WAIT_MS);
}
