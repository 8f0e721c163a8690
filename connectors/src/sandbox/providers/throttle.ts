/**
 * A per-token request budget in a fixed window, kept in a fake's state (JSON, so it persists and
 * tests can lower `limit` to see the provider's 429). High by default: only tests that want it trip it.
 */
export interface Throttle {
  /** Requests allowed per token per window. */
  limit: number;
  windowSeconds: number;
  windows: Record<string, { start: number; count: number }>;
}

export function throttle(limit = 10_000, windowSeconds = 60): Throttle {
  return { limit, windowSeconds, windows: {} };
}

/** Counts one request of `token`; answers the seconds to wait when the budget is spent, else null. */
export function overBudget(t: Throttle, token: string, now: number): number | null {
  const windowMs = t.windowSeconds * 1000;
  let w = t.windows[token];
  if (!w || now - w.start >= windowMs) w = t.windows[token] = { start: now, count: 0 };
  w.count += 1;
  if (w.count <= t.limit) return null;
  return Math.max(1, Math.ceil((w.start + windowMs - now) / 1000));
}
