/** What every Google fake shares: Google's OAuth server and accounts (as google-sheets), errors, userinfo, quota. */
import { bearerToken, json, ProviderContext, ProviderModule, SandboxAccount, SandboxRequest, SandboxResponse } from '../core';
import { googleSheetsSandbox } from './google-sheets';
import { overBudget, Throttle } from './throttle';

/** Google's error body: `{ error: { code, message, status, errors: [{ message, domain, reason }] } }`. */
export function googleError(code: number, status: string, message: string, reason: string, headers: Record<string, string> = {}): SandboxResponse {
  return json(code, { error: { code, message, status, errors: [{ message, domain: code === 429 ? 'usageLimits' : 'global', reason }] } }, headers);
}

export const notFound = () => googleError(404, 'NOT_FOUND', 'Requested entity was not found.', 'notFound');
export const invalid = (message: string) => googleError(400, 'INVALID_ARGUMENT', message, 'invalid');

/** The Google OAuth server, accounts and token style, as the google-sheets fake has them. */
export const googleIdentity: Pick<ProviderModule, 'accounts' | 'tokenPrefix' | 'oauth' | 'authError'> = {
  accounts: googleSheetsSandbox.accounts,
  tokenPrefix: googleSheetsSandbox.tokenPrefix,
  oauth: googleSheetsSandbox.oauth,
  authError: googleSheetsSandbox.authError,
};

/** Authorizes the request and counts it against the token's per-user quota (429 + Retry-After past it). */
export function guard(req: SandboxRequest, ctx: ProviderContext<{ throttle: Throttle }>): { account: SandboxAccount } | { error: SandboxResponse } {
  const a = ctx.authorize(req);
  if ('error' in a) return a;
  const wait = overBudget(ctx.state.throttle, bearerToken(req) ?? '', ctx.now());
  if (wait !== null) {
    return {
      error: googleError(429, 'RESOURCE_EXHAUSTED', `User-rate limit exceeded. Retry after ${new Date(ctx.now() + wait * 1000).toISOString()}`, 'rateLimitExceeded', {
        'retry-after': String(wait),
      }),
    };
  }
  return { account: a.account };
}

export { userinfoRoute } from './google-sheets';

/** Opaque page tokens: the offset, base64url (the fakes' only paging state). */
export function pageToken(offset: number): string {
  return Buffer.from(`sbx~${offset}`).toString('base64url');
}

export function readPageToken(token: string | null): number | null {
  if (!token) return 0;
  const m = /^sbx~(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  return m ? Number(m[1]) : null;
}
