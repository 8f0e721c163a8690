import { randomBytes } from 'node:crypto';
import type { OAuthServer } from './oauth';

/** A request as a fake provider sees it (the `/${connector}` prefix removed from the path). */
export interface SandboxRequest {
  connector: string;
  method: string;
  /** Provider path, e.g. /api/chat.postMessage. */
  path: string;
  query: URLSearchParams;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Parsed JSON or form body (object), else the raw text, or undefined when empty. */
  body: any;
  rawBody: string;
  /** `:name` segments of the matched route. */
  params: Record<string, string>;
}

export interface SandboxResponse {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings as HTML when they start with '<', else text. */
  body?: unknown;
}

/** An identity a sandbox provider can sign in as (picked on the consent page). */
export interface SandboxAccount {
  id: string;
  name: string;
  email: string;
  [field: string]: string;
}

export type AuthFailure = 'missing' | 'invalid' | 'expired' | 'revoked';

export type TokenErrorKind = 'invalid_code' | 'invalid_refresh_token' | 'invalid_client' | 'redirect_uri_mismatch' | 'invalid_request' | 'unsupported_grant_type';

export interface ProviderContext<S = any> {
  /** e.g. http://127.0.0.1:4010 */
  sandboxUrl: string;
  /** e.g. http://127.0.0.1:4010/slack */
  providerUrl: string;
  state: S;
  /** Checks the request's credentials; on failure `error` is the provider-style answer. */
  authorize(req: SandboxRequest): { account: SandboxAccount; accountIndex: number; scope: string[] } | { error: SandboxResponse };
  /** Time now in ms (sandbox clock). */
  now(): number;
  /**
   * Sends a webhook as the provider does: a POST of `body` with `headers`, repeated on a network
   * error or a 5xx (3 attempts), then given up. Recorded in Sandbox.deliveries().
   */
  deliver(delivery: { url: string; headers: Record<string, string>; body: string }): void;
  /**
   * The OAuth apps (clients) that set an app-level webhook URL for this provider (the Slack Events
   * API's request URL, a HubSpot app's target URL), with the secrets they sign with.
   */
  appClients(): Array<{ clientId: string; clientSecret: string; webhookUrl: string; signingSecret?: string }>;
  /** A registered OAuth app by client id: what a provider signing per-subscription webhooks with the client secret (Shopify) needs. */
  oauthClient(clientId: string): { clientId: string; clientSecret: string } | undefined;
}

/** A webhook the sandbox sent (or tried to). */
export interface RecordedDelivery {
  id: number;
  at: number;
  connector: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  attempts: number;
  /** The last answer's status; 0 after a network error, while not yet sent. */
  status: number;
  /** Whether a 2xx answered it. */
  delivered: boolean;
}

export interface Route<S = any> {
  method: string;
  /** '/api/chat.postMessage', '/repos/:owner/:repo/issues', or a RegExp with named groups. */
  path: string | RegExp;
  handler(req: SandboxRequest, ctx: ProviderContext<S>): SandboxResponse | Promise<SandboxResponse>;
}

export interface OAuthProviderSpec {
  authorizePath: string;
  tokenPath: string;
  /** Client must authenticate with HTTP Basic at the token endpoint (Notion). */
  requireBasicClientAuth?: boolean;
  /** Client must send client_id/client_secret in the body; HTTP Basic is refused. */
  requirePostClientAuth?: boolean;
  /** Serves the client_credentials grant. */
  clientCredentialsGrant?: boolean;
  /** Extra query parameters on the redirect back with a code (QuickBooks' realmId). */
  callbackParams?(providerUrl: string): Record<string, string>;
  /** Issue refresh tokens (rotating, single-use). Default true. */
  refreshTokens?: boolean;
  /** Whether token responses carry expires_in (Salesforce and Notion do not). Default true. */
  sendsExpiresIn?: boolean;
  /** Default access-token lifetime in seconds for this provider. */
  defaultTtlSeconds?: number;
  /** Provider-style token endpoint error. Default: RFC 6749 (400/401 { error, error_description }). */
  tokenError?(kind: TokenErrorKind, description: string, req: SandboxRequest): SandboxResponse;
  /** Provider-style successful token response. */
  tokenResponse(issued: IssuedTokens, account: SandboxAccount, ctx: ProviderContext, req: SandboxRequest): Record<string, unknown>;
  /** Some providers answer form-encoded unless asked for JSON (GitHub). */
  formUnlessJsonAccepted?: boolean;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken?: string;
  expiresIn: number;
  scope: string[];
  grantType: 'authorization_code' | 'refresh_token' | 'client_credentials';
}

export interface ProviderModule<S = any> {
  key: string;
  /** Shown on the consent page. */
  displayName: string;
  accounts: SandboxAccount[];
  oauth?: OAuthProviderSpec;
  /** Token prefixes, for realism (xoxb-, gho_, ya29.…). */
  tokenPrefix?: { access: string; refresh: string };
  /** API keys accepted (api_key providers) → account index. */
  apiKeys?: Record<string, number>;
  /** Basic credentials accepted (user:password) → account index. */
  basicCredentials?: Record<string, number>;
  /** Runs before routing API calls (not OAuth endpoints); an answer stops the request (e.g. Notion-Version check). */
  precheck?(req: SandboxRequest): SandboxResponse | undefined;
  /** Provider-style answer when the API credentials are bad. */
  authError(reason: AuthFailure, req: SandboxRequest): SandboxResponse;
  seed(ctx: { sandboxUrl: string; providerUrl: string }): S;
  routes: Route<S>[];
  /**
   * Changes the data as a user of the provider would (a new deal, an issue opened, a payment…),
   * sending the webhooks that change causes: called by Sandbox.tick() and, with `churnSeconds`,
   * on an interval (the demo's providers are never still).
   */
  tick?(ctx: ProviderContext<S>): void;
  /**
   * Answers every request itself, instead of fixed authorize/token paths and routes: the generic
   * catalogue provider, whose endpoints may sit under a templated host (`/~acme.zendesk.com/…`).
   */
  handle?(req: SandboxRequest, ctx: ProviderContext<S>, oauth: OAuthServer): SandboxResponse | Promise<SandboxResponse>;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): SandboxResponse {
  return { status, body, headers };
}

export function randomId(bytes = 12, alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'): string {
  const raw = randomBytes(bytes * 2);
  let out = '';
  for (let i = 0; i < raw.length && out.length < bytes * 2; i++) out += alphabet[raw[i]! % alphabet.length];
  return out.slice(0, Math.round(bytes * 1.5));
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Matches a route path against a request path; returns params or null. */
export function matchPath(pattern: string | RegExp, path: string): Record<string, string> | null {
  if (pattern instanceof RegExp) {
    const m = pattern.exec(path);
    if (!m) return null;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) params[k] = decodeURIComponent(v);
    return params;
  }
  const a = pattern.split('/').filter(Boolean);
  const b = path.split('/').filter(Boolean);
  if (a.length !== b.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    const seg = a[i]!;
    if (seg.startsWith(':')) params[seg.slice(1)] = decodeURIComponent(b[i]!);
    else if (seg !== b[i]) return null;
  }
  return params;
}

/** Opaque, base64 cursor like Slack's ("dXNlcjpVMDYxTkZUVDI="). */
export function encodeCursor(value: string | number): string {
  return Buffer.from(`next:${value}`).toString('base64');
}

export function decodeCursor(cursor: string | null | undefined): number | null {
  if (!cursor) return 0;
  try {
    const text = Buffer.from(cursor, 'base64').toString('utf8');
    if (!text.startsWith('next:')) return null;
    const n = Number(text.slice(5));
    return Number.isInteger(n) && n >= 0 ? n : null;
  } catch {
    return null;
  }
}

export function bearerToken(req: SandboxRequest): string | undefined {
  const h = req.headers['authorization'];
  if (!h) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  return m ? m[1]!.trim() : undefined;
}

/** Integer query/body parameter with bounds. */
export function intParam(value: unknown, fallback: number, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number.parseInt(String(value ?? ''), 10);
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, Math.trunc(n)));
}

export function isoNow(ms: number): string {
  return new Date(ms).toISOString();
}
