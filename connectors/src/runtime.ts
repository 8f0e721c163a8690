/**
 * Helpers shared by the server, the sandbox and the connectors themselves: URL templating and
 * resolution, base-URL overrides (the sandbox), request encoding, token-response parsing, and a
 * minimal reference HTTP client (no retries, no refresh) for tests and scripts.
 */
import {
  ActionContext,
  AuthedHttpClient,
  AuthFailureSpec,
  AuthSpec,
  ConnectorDefinition,
  HttpError,
  HttpRequest,
  HttpResponse,
  OAuth2Auth,
  OAuth2ClientCredentialsAuth,
} from './types';

/** Reads a dot path (`authed_user.access_token`, `items.0.id`) from a JSON value. */
export function getPath(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

const TEMPLATE = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/** Names of the `{{config}}` variables a templated string uses. */
export function templateVariables(template: string): string[] {
  return [...template.matchAll(TEMPLATE)].map((m) => m[1]!);
}

/**
 * Replaces `{{name}}` by `config[name]`. A missing value is an error naming the variable (it is
 * a connection that was set up incompletely, never something to guess).
 */
export function renderTemplate(template: string, config: Record<string, string | undefined>, options: { allowEmpty?: boolean } = {}): string {
  return template.replace(TEMPLATE, (_, name: string) => {
    const value = config[name];
    if (value === undefined || (value === '' && !options.allowEmpty)) throw new Error(`Missing connection config value "${name}"`);
    return value;
  });
}

/** The connector's default headers, lower-cased, with `{{config}}` values filled (an API version, a tenant's developer token). */
export function defaultHeadersFor(connector: Pick<ConnectorDefinition, 'defaultHeaders' | 'connectionConfig'>, config: Record<string, string | undefined>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(connector.defaultHeaders ?? {})) {
    // A header naming what the verify call learns (Xero's tenant id) waits until it is known: the verify call goes without it.
    if (templateVariables(v).some((name) => config[name] === undefined && connector.connectionConfig?.[name]?.fromAccount)) continue;
    headers[k.toLowerCase()] = renderTemplate(v, config);
  }
  return headers;
}

const renderValues = (values: Record<string, string> | undefined, config: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(values ?? {}).map(([k, v]) => [k, renderTemplate(v, config)]));

/** Connection config with each field's default applied where the value is absent. */
export function withConfigDefaults(connector: Pick<ConnectorDefinition, 'connectionConfig'>, config: Record<string, string>): Record<string, string> {
  const out = { ...config };
  for (const [name, field] of Object.entries(connector.connectionConfig ?? {})) {
    if (out[name] === undefined && field.default !== undefined) out[name] = field.default;
  }
  return out;
}

function joinUrl(base: string, path: string): string {
  if (!path) return base;
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

function isAbsolute(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/**
 * The URL a request goes to: `path` joined to `baseUrl` (or `baseUrls[base]`), templates rendered,
 * query appended. An absolute path must share an origin with one of the connector's bases.
 */
export function resolveUrl(
  connector: Pick<ConnectorDefinition, 'key' | 'baseUrl' | 'baseUrls' | 'connectionConfig'>,
  request: Pick<HttpRequest, 'path' | 'base' | 'query'>,
  config: Record<string, string>,
): URL {
  const cfg = withConfigDefaults(connector, config);
  let baseTemplate = connector.baseUrl;
  if (request.base !== undefined) {
    const named = connector.baseUrls?.[request.base];
    if (named === undefined) throw new Error(`Connector "${connector.key}" has no base URL named "${request.base}"`);
    baseTemplate = named;
  }
  const base = renderTemplate(baseTemplate, cfg);
  let url: URL;
  if (isAbsolute(request.path)) {
    url = new URL(request.path);
    const allowed = [connector.baseUrl, ...Object.values(connector.baseUrls ?? {})].map((b) => new URL(renderTemplate(b, cfg)).origin);
    if (!allowed.includes(url.origin)) {
      throw new Error(`URL ${url.origin} is outside the origins of connector "${connector.key}"`);
    }
  } else {
    url = new URL(joinUrl(base, request.path));
  }
  for (const [k, v] of Object.entries(request.query ?? {})) {
    if (v !== undefined) url.searchParams.append(k, String(v));
  }
  return url;
}

/** Every absolute URL of a connector: auth endpoints and API bases (full-URL templates such as `{{instance_url}}/x` left out). */
function connectorUrls(connector: ConnectorDefinition): string[] {
  const urls: string[] = [connector.baseUrl, ...Object.values(connector.baseUrls ?? {})];
  for (const spec of [connector.auth, ...(connector.authSpecs ?? [])]) {
    if (spec.type === 'oauth2') urls.push(spec.authorizationUrl, spec.tokenUrl, ...(spec.refreshUrl ? [spec.refreshUrl] : []));
    if (spec.type === 'oauth2_client_credentials') urls.push(spec.tokenUrl);
  }
  return urls.filter(isAbsolute);
}

/** `https://{{subdomain}}.zendesk.com/api` → `{{subdomain}}.zendesk.com/api`: the host holds a template. */
function templatedHostAndRest(url: string): string | undefined {
  const m = /^https?:\/\/([^/?#]*)(.*)$/is.exec(url);
  return m && m[1]!.includes('{{') ? `${m[1]}${m[2]}` : undefined;
}

/** The distinct provider origins a connector talks to (templated hosts such as `{{subdomain}}.zendesk.com` excluded). */
export function connectorOrigins(connector: ConnectorDefinition): string[] {
  const origins = new Set<string>();
  for (const url of connectorUrls(connector)) {
    if (templatedHostAndRest(url) === undefined) origins.add(new URL(url).origin);
  }
  return [...origins];
}

function overrideUrl(url: string, overrides: Map<string, string>): string {
  if (!isAbsolute(url) || templatedHostAndRest(url) !== undefined) return url;
  const parsed = new URL(url);
  const replacement = overrides.get(parsed.origin);
  if (replacement === undefined) return url;
  // Keep the template braces that URL parsing would percent-encode.
  const rest = url.slice(parsed.origin.length);
  return `${replacement.replace(/\/+$/, '')}${rest}`;
}

function mapAuthUrls<T extends AuthSpec>(spec: T, map: (url: string) => string): T {
  if (spec.type === 'oauth2') {
    return { ...spec, authorizationUrl: map(spec.authorizationUrl), tokenUrl: map(spec.tokenUrl), ...(spec.refreshUrl ? { refreshUrl: map(spec.refreshUrl) } : {}) };
  }
  if (spec.type === 'oauth2_client_credentials') return { ...spec, tokenUrl: map(spec.tokenUrl) };
  return { ...spec };
}

/** A copy of the connector with `map` applied to its OAuth endpoints, baseUrl and baseUrls. */
function mapConnectorUrls<T extends ConnectorDefinition>(connector: T, map: (url: string) => string): T {
  const copy: T = { ...connector, auth: mapAuthUrls(connector.auth, map), baseUrl: map(connector.baseUrl) };
  if (connector.baseUrls) copy.baseUrls = Object.fromEntries(Object.entries(connector.baseUrls).map(([k, v]) => [k, map(v)]));
  if (connector.authSpecs) copy.authSpecs = connector.authSpecs.map((s) => mapAuthUrls(s, map));
  return copy;
}

/**
 * A copy of the connector whose provider origins are replaced: `overrides` maps an origin
 * (`https://slack.com`) to a URL prefix (`http://127.0.0.1:4010/slack`); paths are kept. Covers
 * the OAuth endpoints, baseUrl and baseUrls — the only URLs actions use (they call ctx.http with
 * relative paths). Templated hosts (`{{subdomain}}.zendesk.com`) and full-URL templates
 * (`{{instance_url}}`) are left alone: see withSandbox for the former; the latter come from the
 * connection (the sandbox's token responses name the sandbox as instance_url).
 */
export function withBaseUrlOverrides<T extends ConnectorDefinition>(connector: T, overrides: Record<string, string>): T {
  const map = new Map<string, string>();
  for (const [origin, prefix] of Object.entries(overrides)) map.set(new URL(origin).origin, prefix);
  return mapConnectorUrls(connector, (url) => overrideUrl(url, map));
}

/**
 * A copy of the connector pointing at the sandbox: every provider origin becomes
 * `${sandboxUrl}/${connector.key}` (https://slack.com/api/chat.postMessage →
 * http://127.0.0.1:4010/slack/api/chat.postMessage). A templated host is kept after a `~` so the
 * sandbox sees the value filled in (https://{{subdomain}}.zendesk.com/oauth/tokens →
 * http://127.0.0.1:4010/zendesk/~{{subdomain}}.zendesk.com/oauth/tokens).
 */
export function withSandbox<T extends ConnectorDefinition>(connector: T, sandboxUrl: string): T {
  const prefix = `${sandboxUrl.replace(/\/+$/, '')}/${connector.key}`;
  const origins = new Map(connectorOrigins(connector).map((o) => [o, prefix]));
  return mapConnectorUrls(connector, (url) => {
    const templated = templatedHostAndRest(url);
    return templated === undefined ? overrideUrl(url, origins) : `${prefix}/~${templated}`;
  });
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** A short human message out of a provider's error body (the many shapes providers use). */
export function providerErrorMessage(data: unknown): string | undefined {
  if (typeof data === 'string') return data.slice(0, 300) || undefined;
  if (Array.isArray(data)) return providerErrorMessage(data[0]);
  if (data && typeof data === 'object') {
    const d = data as Record<string, unknown>;
    if (d.error && typeof d.error === 'object') return providerErrorMessage(d.error);
    for (const key of ['message', 'error_description', 'error', 'detail', 'title']) {
      if (typeof d[key] === 'string' && d[key]) return d[key] as string;
    }
    return stringify(data).slice(0, 300);
  }
  return undefined;
}

/** Throws HttpError unless the response is 2xx. */
export function ensureOk<T>(response: HttpResponse<T>, request: Pick<HttpRequest, 'method' | 'path'>): HttpResponse<T> {
  if (response.status >= 200 && response.status < 300) return response;
  const detail = providerErrorMessage(response.data);
  throw new HttpError(`${request.method} ${request.path} answered ${response.status}${detail ? `: ${detail}` : ''}`, response.status, response.data, response.headers);
}

/** ctx.http.request + ensureOk: what actions use. Resolves with the response body. */
export async function send<T = any>(ctx: Pick<ActionContext, 'http'>, request: HttpRequest): Promise<T> {
  const response = await ctx.http.request<T>(request);
  return ensureOk(response, request).data;
}

/** Whether a response says the token is bad (refresh once and retry), per the connector's authFailure. */
export function isAuthFailure(spec: AuthFailureSpec | undefined, response: Pick<HttpResponse, 'status' | 'data'>): boolean {
  const statuses = spec?.status ?? [401];
  if (statuses.includes(response.status)) return true;
  if (spec?.bodyPath && spec.bodyValues) {
    const value = getPath(response.data, spec.bodyPath);
    return typeof value === 'string' && spec.bodyValues.includes(value);
  }
  return false;
}

/** Body + content type for an HttpRequest (JSON unless `form`). */
export function encodeBody(request: Pick<HttpRequest, 'body' | 'form'>): { body?: string; contentType?: string } {
  if (request.form) return { body: new URLSearchParams(request.form).toString(), contentType: 'application/x-www-form-urlencoded' };
  if (request.body === undefined) return {};
  if (typeof request.body === 'string') return { body: request.body, contentType: 'text/plain; charset=utf-8' };
  return { body: JSON.stringify(request.body), contentType: 'application/json; charset=utf-8' };
}

/** Parses a fetch Response body: JSON when it says so (or looks like it), else text. */
export async function decodeBody(response: Response): Promise<unknown> {
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json') || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  return text;
}

/** Credentials as the reference client understands them. */
export type Credentials =
  | { type: 'oauth2'; accessToken: string }
  | { type: 'oauth2_client_credentials'; accessToken: string }
  | { type: 'api_key'; apiKey: string }
  | { type: 'basic'; username: string; password: string };

/** Adds credentials to headers/URL as the auth spec says. */
export function applyCredentials(spec: AuthSpec, credentials: Credentials, headers: Record<string, string>, url: URL, config: Record<string, string>): void {
  switch (credentials.type) {
    case 'oauth2':
    case 'oauth2_client_credentials': {
      const header = spec.type === 'oauth2' || spec.type === 'oauth2_client_credentials' ? spec.tokenHeader : undefined;
      if (header) headers[header.name.toLowerCase()] = `${header.prefix ?? ''}${credentials.accessToken}`;
      else headers['authorization'] = `Bearer ${credentials.accessToken}`;
      return;
    }
    case 'basic':
      headers['authorization'] = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
      return;
    case 'api_key': {
      if (spec.type !== 'api_key') throw new Error('api_key credentials for a connector whose auth is not api_key');
      const name = renderTemplate(spec.name, config);
      const prefix = spec.prefix ? renderTemplate(spec.prefix, config, { allowEmpty: true }) : '';
      if (spec.in === 'query') url.searchParams.set(name, `${prefix}${credentials.apiKey}`);
      else headers[name.toLowerCase()] = `${prefix}${credentials.apiKey}`;
      return;
    }
  }
}

export interface SimpleHttpClientOptions {
  connector: ConnectorDefinition;
  config?: Record<string, string>;
  credentials: Credentials;
  /** Which auth spec the credentials are for (defaults to connector.auth, or the authSpecs entry of the credentials' type). */
  auth?: AuthSpec;
  fetch?: typeof fetch;
}

/**
 * A minimal AuthedHttpClient: resolves URLs, injects credentials and default headers, encodes and
 * decodes bodies. No retries, no refresh, no SSRF checks — the server's client adds those. For
 * tests, scripts and the sandbox's own checks.
 */
export function createSimpleHttpClient(options: SimpleHttpClientOptions): AuthedHttpClient {
  const { connector, credentials } = options;
  const config = withConfigDefaults(connector, options.config ?? {});
  const doFetch = options.fetch ?? fetch;
  const spec = options.auth ?? (connector.auth.type === credentials.type ? connector.auth : connector.authSpecs?.find((s) => s.type === credentials.type)) ?? connector.auth;
  return {
    async request<T = unknown>(request: HttpRequest): Promise<HttpResponse<T>> {
      const url = resolveUrl(connector, request, config);
      const headers = defaultHeadersFor(connector, config);
      for (const [k, v] of Object.entries(request.headers ?? {})) headers[k.toLowerCase()] = v;
      applyCredentials(spec, credentials, headers, url, config);
      const { body, contentType } = encodeBody(request);
      if (contentType && !headers['content-type']) headers['content-type'] = contentType;
      if (!headers['accept']) headers['accept'] = 'application/json';
      const response = await doFetch(url, { method: request.method, headers, body });
      const responseHeaders: Record<string, string> = {};
      response.headers.forEach((v, k) => (responseHeaders[k] = v));
      return { status: response.status, headers: responseHeaders, data: (await decodeBody(response)) as T };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// OAuth2 helpers (the server may use oauth4webapi for the protocol; these encode what differs per
// provider so every caller agrees with the connector definition).

export interface AuthorizationUrlParams {
  clientId: string;
  redirectUri: string;
  state: string;
  /** S256 challenge; left out when the connector has pkce: false. */
  codeChallenge?: string;
  /** Defaults to the connector's scopes. */
  scopes?: string[];
  config?: Record<string, string>;
}

/** The provider's authorize URL with client id, redirect URI, state, scopes, PKCE and extra params. */
export function buildAuthorizationUrl(auth: OAuth2Auth, params: AuthorizationUrlParams): URL {
  const url = new URL(renderTemplate(auth.authorizationUrl, params.config ?? {}));
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', params.clientId);
  url.searchParams.set('redirect_uri', params.redirectUri);
  url.searchParams.set('state', params.state);
  const scopes = (params.scopes ?? auth.scopes).map((s) => renderTemplate(s, params.config ?? {}));
  if (scopes.length > 0) url.searchParams.set('scope', scopes.join(auth.scopeSeparator ?? ' '));
  if ((auth.pkce ?? true) && params.codeChallenge) {
    url.searchParams.set('code_challenge', params.codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
  }
  for (const [k, v] of Object.entries(renderValues(auth.authorizationParams, params.config ?? {}))) url.searchParams.set(k, v);
  return url;
}

export type TokenGrant =
  | { grantType: 'authorization_code'; code: string; redirectUri: string; codeVerifier?: string }
  | { grantType: 'refresh_token'; refreshToken: string }
  | { grantType: 'client_credentials'; scopes?: string[] };

/** A ready-to-send token request (URL, headers, encoded body) honouring client auth and body format. */
export function buildTokenRequest(
  auth: OAuth2Auth | OAuth2ClientCredentialsAuth,
  client: { clientId: string; clientSecret: string },
  grant: TokenGrant,
  config: Record<string, string> = {},
): { url: string; method: 'POST'; headers: Record<string, string>; body: string } {
  const params: Record<string, string> = { grant_type: grant.grantType };
  if (grant.grantType === 'authorization_code') {
    params.code = grant.code;
    params.redirect_uri = grant.redirectUri;
    if (grant.codeVerifier) params.code_verifier = grant.codeVerifier;
  } else if (grant.grantType === 'refresh_token') {
    params.refresh_token = grant.refreshToken;
  } else if (grant.scopes && grant.scopes.length > 0) {
    params.scope = grant.scopes.map((s) => renderTemplate(s, config)).join(auth.scopeSeparator ?? ' ');
  }
  Object.assign(params, renderValues(auth.tokenParams, config), auth.type === 'oauth2' && grant.grantType === 'refresh_token' ? renderValues(auth.refreshParams, config) : {});
  const headers: Record<string, string> = { accept: 'application/json' };
  if (auth.clientAuthentication === 'client_secret_basic') {
    const enc = (s: string) => encodeURIComponent(s);
    headers.authorization = `Basic ${Buffer.from(`${enc(client.clientId)}:${enc(client.clientSecret)}`).toString('base64')}`;
  } else {
    params.client_id = client.clientId;
    params.client_secret = client.clientSecret;
  }
  const json = auth.type === 'oauth2' && auth.tokenRequestFormat === 'json';
  headers['content-type'] = json ? 'application/json' : 'application/x-www-form-urlencoded';
  return {
    url: renderTemplate(auth.type === 'oauth2' && grant.grantType === 'refresh_token' && auth.refreshUrl ? auth.refreshUrl : auth.tokenUrl, config),
    method: 'POST',
    headers,
    body: json ? JSON.stringify(params) : new URLSearchParams(params).toString(),
  };
}

export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  /** Seconds, when the provider says. */
  expiresIn?: number;
  scope?: string;
  tokenType?: string;
  /** Values named by connectionConfigFromToken (e.g. Salesforce instance_url). */
  connectionConfig: Record<string, string>;
  raw: Record<string, unknown>;
}

export type TokenResult =
  | { ok: true; tokens: TokenSet }
  | {
      ok: false;
      /** The provider's error code (`invalid_grant`, `invalid_refresh_token`, `BAD_REFRESH_TOKEN`…). */
      error: string;
      description?: string;
      /** The grant is dead: mark the connection needs_reauth. */
      invalidGrant: boolean;
      /** The client id/secret were rejected: a tenant configuration problem. */
      invalidClient: boolean;
      status: number;
      raw: unknown;
    };

const INVALID_CLIENT = ['invalid_client', 'unauthorized_client', 'invalid_client_id', 'bad_client_secret', 'incorrect_client_credentials', 'BAD_CLIENT_ID', 'BAD_CLIENT_SECRET'];

/**
 * Interprets a token endpoint answer per the connector: non-standard field paths, errors sent
 * with HTTP 200 (Slack, GitHub), error codes that mean "reconnect". `body` is the parsed JSON (or
 * a form-encoded string, as GitHub answers without Accept: application/json).
 */
export function parseTokenResponse(auth: OAuth2Auth | { type: 'oauth2_client_credentials' }, status: number, body: unknown): TokenResult {
  let raw: unknown = body;
  if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw);
    } catch {
      raw = Object.fromEntries(new URLSearchParams(raw as string));
    }
  }
  const mapping = auth.type === 'oauth2' ? (auth.tokenResponse ?? {}) : {};
  const obj = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const accessToken = getPath(obj, mapping.accessToken ?? 'access_token');
  const errorCode = getPath(obj, mapping.error ?? 'error') ?? obj.error;
  if (status < 200 || status >= 300 || typeof accessToken !== 'string' || !accessToken || (typeof errorCode === 'string' && !accessToken)) {
    const code = typeof errorCode === 'string' && errorCode ? errorCode : status >= 400 ? `http_${status}` : 'invalid_token_response';
    const invalidGrantCodes = ['invalid_grant', ...(auth.type === 'oauth2' ? (auth.invalidGrantErrors ?? []) : [])];
    const description = getPath(obj, 'error_description') ?? getPath(obj, 'message');
    return {
      ok: false,
      error: code,
      description: typeof description === 'string' ? description : undefined,
      invalidGrant: invalidGrantCodes.includes(code),
      invalidClient: INVALID_CLIENT.includes(code) || status === 401,
      status,
      raw,
    };
  }
  const refreshToken = getPath(obj, mapping.refreshToken ?? 'refresh_token');
  const expiresIn = getPath(obj, mapping.expiresIn ?? 'expires_in');
  const scope = getPath(obj, mapping.scope ?? 'scope');
  const tokenType = getPath(obj, 'token_type');
  const connectionConfig: Record<string, string> = {};
  if (auth.type === 'oauth2') {
    for (const [name, path] of Object.entries(auth.connectionConfigFromToken ?? {})) {
      const value = getPath(obj, path);
      if (value !== undefined && value !== null) connectionConfig[name] = String(value);
    }
  }
  const expires = typeof expiresIn === 'number' ? expiresIn : typeof expiresIn === 'string' && expiresIn ? Number(expiresIn) : undefined;
  return {
    ok: true,
    tokens: {
      accessToken,
      refreshToken: typeof refreshToken === 'string' && refreshToken ? refreshToken : undefined,
      expiresIn: expires !== undefined && Number.isFinite(expires) ? expires : undefined,
      scope: typeof scope === 'string' ? scope : undefined,
      tokenType: typeof tokenType === 'string' ? tokenType : undefined,
      connectionConfig,
      raw: obj,
    },
  };
}
