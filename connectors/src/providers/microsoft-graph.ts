/** What the Microsoft Graph deep connectors share: the identity platform's OAuth, the tenant, the account, paging. */
import { send } from '../runtime';
import { AccountInfo, ActionContext, ConnectionConfigField, OAuth2Auth } from '../types';

/**
 * The Microsoft identity platform (v2.0) for `scopes`: a refresh token only with offline_access, and
 * a refresh must name scopes again (they pick the resource), hence refreshParams.scope.
 */
export function microsoftAuth(scopes: string[]): OAuth2Auth {
  const all = ['offline_access', 'User.Read', ...scopes];
  return {
    type: 'oauth2',
    authorizationUrl: 'https://login.microsoftonline.com/{{tenant}}/oauth2/v2.0/authorize',
    tokenUrl: 'https://login.microsoftonline.com/{{tenant}}/oauth2/v2.0/token',
    scopes: all,
    scopeSeparator: ' ',
    pkce: true,
    authorizationParams: { response_mode: 'query' },
    refreshParams: { scope: all.join(' ') },
    // MFA or a Conditional Access policy changed: the user must sign in again.
    invalidGrantErrors: ['interaction_required'],
    refreshable: true,
  };
}

export function tenantField(defaultTenant: 'common' | 'organizations', description: string): Record<string, ConnectionConfigField> {
  return {
    tenant: { title: 'Microsoft tenant', description, pattern: '[A-Za-z0-9][A-Za-z0-9.-]*', example: 'contoso.onmicrosoft.com', default: defaultTenant },
  };
}

export const GRAPH_BASE_URL = 'https://graph.microsoft.com/v1.0';

export async function graphAccount(ctx: ActionContext): Promise<AccountInfo> {
  const me = await send<{ id: string; displayName?: string; mail?: string | null; userPrincipalName: string }>(ctx, { method: 'GET', path: 'me' });
  const address = me.mail ?? me.userPrincipalName;
  return { id: me.id, name: me.displayName ? `${me.displayName} (${address})` : address, details: { userPrincipalName: me.userPrincipalName, mail: me.mail } };
}

/** A Graph collection page: `value`, and `@odata.nextLink` (a full URL to follow as is) when there is more. */
export interface GraphPage<T> {
  value: T[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

/** Follows `@odata.nextLink` from the first page until `enough` items or the end (at most `maxPages`). */
export async function graphCollect<T>(
  ctx: ActionContext,
  first: { path: string; query?: Record<string, string | number | boolean | undefined> },
  opts: { enough?: number; maxPages?: number } = {},
): Promise<{ items: T[]; nextLink?: string }> {
  const items: T[] = [];
  let page = await send<GraphPage<T>>(ctx, { method: 'GET', path: first.path, query: first.query });
  for (let pages = 1; ; pages++) {
    items.push(...page.value);
    const next = page['@odata.nextLink'];
    if (!next || items.length >= (opts.enough ?? Infinity) || pages >= (opts.maxPages ?? 50)) return { items, nextLink: next };
    page = await send<GraphPage<T>>(ctx, { method: 'GET', path: next });
  }
}

/** An OData string literal. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The poll cursor of Graph triggers: the newest timestamp seen and the ids seen at exactly that
 * time (Graph compares timestamps, so the next poll asks `ge` and drops those ids).
 */
export interface TimeCursor {
  at: string;
  ids: string[];
}

/** The cursor after `items` (sorted oldest first by `time`), continuing from `previous`. */
export function advance<T extends { id: string }>(previous: TimeCursor, items: T[], time: (item: T) => string): TimeCursor {
  let cursor = previous;
  for (const item of items) {
    const at = time(item);
    cursor = at === cursor.at ? { at, ids: [...cursor.ids, item.id] } : { at, ids: [item.id] };
  }
  return cursor;
}
