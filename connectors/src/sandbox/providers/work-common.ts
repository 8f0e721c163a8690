/**
 * What the work-tracking fakes (Jira, Zendesk, Intercom, Linear) share: a per-token request budget
 * kept in a fake's state (JSON, so it persists; tests lower `limit` to see the provider's 429).
 * High by default, so only tests that want a 429 trip it.
 */
import { bearerToken, SandboxRequest } from '../core';

export interface RequestBudget {
  /** Requests allowed per token per window. */
  limit: number;
  windowSeconds: number;
  windows: Record<string, { start: number; count: number }>;
}

export function requestBudget(limit = 10_000, windowSeconds = 60): RequestBudget {
  return { limit, windowSeconds, windows: {} };
}

/** Counts one request of the caller's token; answers the seconds to wait when the budget is spent, else null. */
export function overBudget(budget: RequestBudget, req: SandboxRequest, now: number): { retryAfter: number; resetAt: number } | null {
  const token = bearerToken(req) ?? req.headers['authorization'] ?? 'anonymous';
  const windowMs = budget.windowSeconds * 1000;
  let w = budget.windows[token];
  if (!w || now - w.start >= windowMs) w = budget.windows[token] = { start: now, count: 0 };
  w.count += 1;
  if (w.count <= budget.limit) return null;
  return { retryAfter: Math.max(1, Math.ceil((w.start + windowMs - now) / 1000)), resetAt: w.start + windowMs };
}
