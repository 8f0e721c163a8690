/**
 * What the Microsoft Graph fakes share: the Microsoft identity platform (v2.0 endpoints under a
 * tenant segment: /common/oauth2/v2.0/token), Graph's error body, throttling and OData paging.
 */
import { randomUUID } from 'node:crypto';
import type { OAuthServer } from '../oauth';
import { bearerToken, json, matchPath, OAuthProviderSpec, ProviderContext, ProviderModule, SandboxAccount, SandboxRequest, SandboxResponse, TokenErrorKind } from '../core';
import { overBudget, Throttle } from './throttle';

export interface GraphState {
  throttle: Throttle;
}

export const MICROSOFT_TENANT_ID = '72f988bf-86f1-41af-91ab-2d7cd011db47';

export const microsoftAccounts: SandboxAccount[] = [
  { id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd', name: 'Jane Cooper', email: 'jane@acme.test', tenantId: MICROSOFT_TENANT_ID, jobTitle: 'Sales lead' },
  { id: '5c6a1f1b-3b86-4a8a-9d7c-0b1e2f3a4b5c', name: 'Hank Scorpio', email: 'hank@globex.test', tenantId: '0d2f4e6a-8b1c-4d3e-9f5a-6b7c8d9e0f1a', jobTitle: 'CEO' },
];

/** Graph's error body: `{ error: { code, message, innerError: { date, request-id, client-request-id } } }`. */
export function graphError(status: number, code: string, message: string, headers: Record<string, string> = {}): SandboxResponse {
  const id = randomUUID();
  return json(status, { error: { code, message, innerError: { date: new Date().toISOString().replace(/\.\d+Z$/, ''), 'request-id': id, 'client-request-id': id } } }, headers);
}

export const itemNotFound = () => graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');

/** Azure AD's token errors: an AADSTS code in the description and in error_codes. */
function aadError(status: number, error: string, code: number, text: string): SandboxResponse {
  const trace = randomUUID();
  const correlation = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  return json(status, {
    error,
    error_description: `AADSTS${code}: ${text} Trace ID: ${trace} Correlation ID: ${correlation} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: trace,
    correlation_id: correlation,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  });
}

const TOKEN_ERRORS: Record<TokenErrorKind, [number, string, number, string]> = {
  invalid_code: [400, 'invalid_grant', 70000, 'The provided value for the input parameter "code" is not valid.'],
  invalid_refresh_token: [400, 'invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity.'],
  invalid_client: [
    401,
    'invalid_client',
    7000215,
    'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
  ],
  redirect_uri_mismatch: [400, 'invalid_grant', 50011, 'The redirect URI specified in the request does not match the redirect URIs configured for the application.'],
  invalid_request: [400, 'invalid_request', 900144, 'The request is not valid.'],
  unsupported_grant_type: [400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.'],
};

export const microsoftOAuth: OAuthProviderSpec = {
  // The tenant segment varies; graphModule() routes /{tenant}/oauth2/v2.0/… itself.
  authorizePath: '/common/oauth2/v2.0/authorize',
  tokenPath: '/common/oauth2/v2.0/token',
  defaultTtlSeconds: 3599,
  tokenError(kind, description) {
    const [status, error, code, text] = TOKEN_ERRORS[kind];
    return aadError(status, error, code, kind === 'invalid_request' ? description : text);
  },
  tokenResponse(issued) {
    return {
      token_type: 'Bearer',
      scope: issued.scope.filter((s) => s !== 'offline_access').join(' '),
      expires_in: Number.isFinite(issued.expiresIn) ? issued.expiresIn : undefined,
      ext_expires_in: Number.isFinite(issued.expiresIn) ? issued.expiresIn : undefined,
      access_token: issued.accessToken,
      refresh_token: issued.refreshToken,
    };
  },
};

function authError(reason: string): SandboxResponse {
  const message =
    reason === 'missing'
      ? 'Access token is empty.'
      : reason === 'expired' || reason === 'revoked'
        ? 'Access token has expired or is not yet valid.'
        : 'IDX14100: JWT is not well formed, there are no dots (.).';
  return graphError(401, 'InvalidAuthenticationToken', message, {
    'www-authenticate': 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
  });
}

export interface GraphRoute<S> {
  method: string;
  /** A path under /v1.0, e.g. /v1.0/me/messages/:id. */
  path: string;
  handler(req: SandboxRequest, ctx: ProviderContext<S>, me: SandboxAccount): SandboxResponse;
}

export function userResource(me: SandboxAccount) {
  const [givenName, surname] = me.name.split(' ');
  return {
    '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/$entity',
    businessPhones: [],
    displayName: me.name,
    givenName,
    surname,
    jobTitle: me.jobTitle ?? null,
    mail: me.email,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: 'en-US',
    userPrincipalName: me.email,
    id: me.id,
  };
}

/** A Graph fake: the tenant's OAuth endpoints, bearer auth and per-token throttling, then `routes`. */
export function graphModule<S extends GraphState>(spec: {
  key: string;
  displayName: string;
  seed(): S;
  routes: GraphRoute<S>[];
  tick?(ctx: ProviderContext<S>): void;
}): ProviderModule<S> {
  const module: ProviderModule<S> = {
    key: spec.key,
    displayName: spec.displayName,
    accounts: microsoftAccounts,
    tokenPrefix: { access: 'eyJ0eXAiOiJKV1QiLCJub25jZSI6Sbx.', refresh: '0.AXEAv4j5cvGGr0GRqy180BHbRSbx.' },
    oauth: microsoftOAuth,
    authError,
    seed: spec.seed,
    routes: [],
    tick: spec.tick,
    handle(req, ctx, server: OAuthServer) {
      const oauth = /^\/([^/]+)\/oauth2\/v2\.0\/(authorize|token)$/.exec(req.path);
      if (oauth) {
        const [, tenant, endpoint] = oauth;
        if (endpoint === 'authorize') {
          if (req.method === 'POST') return server.authorizeDecision(module, req, ctx);
          // The consent form posts back to this tenant's path; codes are bound to the tenant.
          return server.authorizePage({ ...module, oauth: { ...microsoftOAuth, authorizePath: req.path } }, req, ctx, tenant);
        }
        if (req.method !== 'POST') return json(405, { error: 'method_not_allowed' });
        const body = (req.body ?? {}) as Record<string, unknown>;
        if (body.grant_type === 'refresh_token' && !body.scope) {
          return aadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
        }
        return server.tokenEndpoint(module, req, ctx, tenant);
      }
      if (!req.path.startsWith('/v1.0/')) return graphError(400, 'BadRequest', `Invalid version: ${req.path.split('/')[1] ?? ''}`);
      const a = ctx.authorize(req);
      if ('error' in a) return a.error;
      const wait = overBudget(ctx.state.throttle, bearerToken(req) ?? '', ctx.now());
      if (wait !== null) return graphError(429, 'TooManyRequests', 'Too many requests. Retry after the time in Retry-After.', { 'retry-after': String(wait) });
      if (req.path === '/v1.0/me' && req.method === 'GET') return json(200, userResource(a.account));
      let pathMatched = false;
      for (const route of spec.routes) {
        const params = matchPath(route.path, req.path);
        if (!params) continue;
        pathMatched = true;
        if (route.method === req.method) return route.handler({ ...req, params }, ctx, a.account);
      }
      if (pathMatched) return graphError(405, 'Request_BadRequest', `The HTTP method '${req.method}' is not allowed on this resource.`);
      return graphError(400, 'BadRequest', `Resource not found for the segment '${req.path.split('/').pop()}'.`);
    },
  };
  return module;
}

// ---- OData query options --------------------------------------------------------------------------

type FieldType = 'date' | 'bool' | 'string';

/** `$filter` with `and`ed comparisons (`receivedDateTime ge 2026-01-01T00:00:00Z`, `isRead eq false`): the predicate and the fields in order, or an error. */
export function parseFilter<T>(
  expr: string,
  fields: Record<string, FieldType>,
  get: (item: T, field: string) => unknown,
): { test: (item: T) => boolean; fields: string[] } | { error: string } {
  const tests: ((item: T) => boolean)[] = [];
  const used: string[] = [];
  for (const clause of expr.split(/\s+and\s+/i)) {
    const m = /^\s*(\w+)\s+(eq|ne|gt|ge|lt|le)\s+(.+?)\s*$/.exec(clause);
    if (!m || !(m[1]! in fields)) return { error: `Invalid filter clause: ${clause.trim()}` };
    const [field, op, raw] = [m[1]!, m[2]!, m[3]!];
    const type = fields[field]!;
    let value: string | number | boolean;
    if (type === 'date') {
      if (Number.isNaN(Date.parse(raw)) || !/^\d{4}-\d\d-\d\dT/.test(raw))
        return { error: `The DateTimeOffset text '${raw}' should be in format 'yyyy-mm-ddThh:mm:ss('.'s+)?(zz|Z)?' and each field value is within valid range.` };
      value = Date.parse(raw);
    } else if (type === 'bool') {
      if (raw !== 'true' && raw !== 'false') return { error: `Invalid filter clause: ${clause.trim()}` };
      value = raw === 'true';
    } else {
      if (!/^'.*'$/.test(raw)) return { error: `Invalid filter clause: ${clause.trim()}` };
      value = raw.slice(1, -1).replace(/''/g, "'");
    }
    used.push(field);
    tests.push((item) => {
      const v0 = get(item, field);
      const v = type === 'date' ? Date.parse(String(v0)) : v0;
      switch (op) {
        case 'eq':
          return v === value;
        case 'ne':
          return v !== value;
        case 'gt':
          return (v as number) > (value as number);
        case 'ge':
          return (v as number) >= (value as number);
        case 'lt':
          return (v as number) < (value as number);
        default:
          return (v as number) <= (value as number);
      }
    });
  }
  return { test: (item) => tests.every((t) => t(item)), fields: used };
}

/** A page of `items` by `$top` and `$skip` (or an opaque `$skiptoken`), with `@odata.nextLink` to the next one. */
export function odataPage<T>(
  req: SandboxRequest,
  ctx: ProviderContext,
  items: T[],
  opts: { context: string; defaultTop: number; maxTop: number; skipToken?: boolean },
): SandboxResponse {
  const topRaw = req.query.get('$top');
  const top = topRaw === null ? opts.defaultTop : Number(topRaw);
  if (!Number.isInteger(top) || top < 1 || top > opts.maxTop)
    return graphError(400, 'BadRequest', `Invalid page size specified: '${topRaw}'. Must be between 1 and ${opts.maxTop} inclusive.`);
  let skip = 0;
  if (opts.skipToken) {
    const token = req.query.get('$skiptoken');
    if (token) {
      const m = /^sbx~(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
      if (!m) return graphError(400, 'BadRequest', 'The skip token is invalid.');
      skip = Number(m[1]);
    }
  } else skip = Number(req.query.get('$skip') ?? 0) || 0;
  const body: Record<string, unknown> = { '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#${opts.context}`, value: items.slice(skip, skip + top) };
  if (skip + top < items.length) {
    const next = new URLSearchParams(req.query);
    next.set('$top', String(top));
    if (opts.skipToken) next.set('$skiptoken', Buffer.from(`sbx~${skip + top}`).toString('base64url'));
    else next.set('$skip', String(skip + top));
    body['@odata.nextLink'] = `${ctx.providerUrl}${req.path}?${next.toString()}`;
  }
  return json(200, body);
}
