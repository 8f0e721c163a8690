/**
 * The generic sandbox provider: one per catalogue entry, behaving as that entry says its provider
 * does, so every entry's connect → refresh → proxy path runs in CI. Reached the way withSandbox
 * points a connector: `/${key}/<path>` for fixed hosts, `/${key}/~<filled host>/<path>` for
 * templated ones. It serves the entry's authorize and token endpoints (on the shared OAuthServer),
 * its verify call, and echoes any other authenticated request.
 */
import { catalogueConnector, CatalogueEntry, catalogueEntries } from '../../catalogue';
import { withSandbox } from '../../runtime';
import { AuthSpec, ConnectorDefinition, OAuth2Auth } from '../../types';
import { bearerToken, json, ProviderContext, ProviderModule, SandboxAccount, SandboxRequest, SandboxResponse, TokenErrorKind } from '../core';
import type { OAuthServer } from '../oauth';

/** The API key every catalogue api_key entry accepts in the sandbox. */
export const CATALOGUE_API_KEY = 'sandbox-catalogue-key';
/** The user name and password every catalogue basic-auth entry accepts in the sandbox. */
export const CATALOGUE_BASIC = { username: 'sandbox-user', password: 'sandbox-password' };

const TEMPLATE = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/** A URL of the entry as a request path under `/${key}`, matched with its placeholders captured. */
interface PathPattern {
  template: string;
  regex: RegExp;
  names: string[];
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `/zendesk/~{{subdomain}}.zendesk.com/api/v2` → a pattern of `/~{{subdomain}}.zendesk.com/api/v2`.
 * A leading full-URL placeholder (`{{instance_url}}/services`) stands for the provider's own URL,
 * which is what the sandbox's token response puts there.
 */
function pathPattern(sandboxedUrl: string, key: string, prefixOnly: boolean): PathPattern {
  let template = sandboxedUrl.replace(/[?#].*$/, '');
  if (template.startsWith(`/${key}/`) || template === `/${key}`) template = template.slice(key.length + 1);
  else template = template.replace(/^\{\{\s*[A-Za-z0-9_]+\s*\}\}\/?/, '/');
  template = template.replace(/\/+$/, '');
  const names: string[] = [];
  let source = '';
  let last = 0;
  for (const m of template.matchAll(TEMPLATE)) {
    source += escapeRegex(template.slice(last, m.index)) + '([^/]*)';
    names.push(m[1]!);
    last = m.index! + m[0].length;
  }
  source += escapeRegex(template.slice(last));
  return { template, names, regex: new RegExp(`^${source}${prefixOnly ? '(/.*)?' : '/?'}$`) };
}

type Match = { values: Record<string, string>; rest: string } | { unfilled: string };

function match(pattern: PathPattern, path: string): Match | null {
  const m = pattern.regex.exec(path);
  if (!m) return null;
  const values: Record<string, string> = {};
  for (let i = 0; i < pattern.names.length; i++) {
    const value = m[i + 1] ?? '';
    // An empty host label or a literal placeholder: the caller did not fill the template.
    if (!value || value.includes('{{') || value.includes('}}')) return { unfilled: pattern.names[i]! };
    values[pattern.names[i]!] = value;
  }
  return { values, rest: m[pattern.names.length + 1] ?? '' };
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** Sets a dot path (`data.viewer.id`) in a JSON object, creating objects on the way. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let current = target;
  for (const part of parts.slice(0, -1)) {
    if (!current[part] || typeof current[part] !== 'object') current[part] = {};
    current = current[part] as Record<string, unknown>;
  }
  current[parts[parts.length - 1]!] = value;
}

/** Placeholder values the grant is bound to, as a canonical string (names sorted). */
function bindingOf(values: Record<string, string>, names: Set<string>): string | undefined {
  const kept = Object.keys(values)
    .filter((n) => names.has(n))
    .sort()
    .map((n) => [n, values[n]]);
  return kept.length > 0 ? JSON.stringify(Object.fromEntries(kept)) : undefined;
}

function unfilled(name: string, where: string): SandboxResponse {
  return json(400, {
    error: 'placeholder_not_filled',
    message: `The ${where} URL's \${${name}} was not filled in with the connection's ${name}`,
  });
}

/** The sandbox value of a connection-config field the provider sends (token response or callback). */
function providedValue(connector: ConnectorDefinition, name: string, providerUrl: string): string {
  const urls = [connector.baseUrl, ...Object.values(connector.baseUrls ?? {})];
  const leading = new RegExp(`^\\{\\{\\s*${name}\\s*\\}\\}(.?)`);
  const used = urls.map((u) => leading.exec(u)).find(Boolean);
  // A base URL starting with it (`${instance_url}/services`, `${api_endpoint}projects`): the provider itself.
  if (used) return used[1] === '/' || used[1] === '' ? providerUrl : `${providerUrl}/`;
  const field = connector.connectionConfig?.[name];
  return field?.example ?? field?.default ?? `sandbox-${name.replace(/_/g, '-')}`;
}

/** The generic provider standing for catalogue entry `key`. */
export function catalogueSandboxProvider(key: string, entry: CatalogueEntry): ProviderModule<Record<string, never>> {
  const connector = catalogueConnector(key, entry);
  const sandboxed = withSandbox(connector, '');
  const auth = sandboxed.auth as AuthSpec;
  const oauth2 = auth.type === 'oauth2' ? (auth as OAuth2Auth) : undefined;
  const tokenUrl = auth.type === 'oauth2' || auth.type === 'oauth2_client_credentials' ? auth.tokenUrl : undefined;
  const authorizePattern = oauth2 ? pathPattern(oauth2.authorizationUrl, key, false) : undefined;
  const tokenPattern = tokenUrl ? pathPattern(tokenUrl, key, false) : undefined;
  // Figma and Adobe Sign refresh at a URL of their own; code exchanges stay at tokenUrl.
  const refreshPattern = oauth2?.refreshUrl ? pathPattern(oauth2.refreshUrl, key, false) : undefined;
  const bases: Record<string, PathPattern> = { '': pathPattern(sandboxed.baseUrl, key, true) };
  for (const [name, url] of Object.entries(sandboxed.baseUrls ?? {})) bases[name] = pathPattern(url, key, true);
  // A grant is bound to the placeholders both OAuth endpoints share (a subdomain, a region).
  const oauthNames = new Set(tokenPattern ? tokenPattern.names.filter((n) => !authorizePattern || authorizePattern.names.includes(n)) : []);
  const verify = entry.verify;
  const verifyPath = verify.path.replace(/\$\{([a-z][a-z0-9_]*)\}/g, '{{$1}}').split('?')[0]!;
  const verifyPattern = pathPattern(`/${key}${bases[verify.base ?? '']!.template}/${verifyPath.replace(/^\/+/, '')}`, key, false);
  const tokenResponsePaths = oauth2?.tokenResponse ?? {};
  const clientAuth = auth.type === 'oauth2' || auth.type === 'oauth2_client_credentials' ? (auth.clientAuthentication ?? 'client_secret_post') : undefined;

  const accounts: SandboxAccount[] = [1, 2].map((n) => ({
    id: `${key}-user-${n}`,
    name: `${entry.name} Sandbox User ${n}`,
    email: `user${n}@${key}.sandbox.test`,
  }));

  const authError = (message: string): SandboxResponse => {
    const failure = entry.authFailure;
    const body: Record<string, unknown> = { error: 'invalid_token', message };
    if (failure?.bodyPath && failure.bodyValues?.[0]) setPath(body, failure.bodyPath, failure.bodyValues[0]);
    return json(failure?.status?.[0] ?? 401, body, { 'www-authenticate': 'Bearer realm="sandbox"' });
  };

  const module: ProviderModule<Record<string, never>> = {
    key,
    displayName: entry.name,
    accounts,
    tokenPrefix: { access: `sbx_${key.replace(/-/g, '_')}_at_`, refresh: `sbx_${key.replace(/-/g, '_')}_rt_` },
    oauth: tokenPattern
      ? {
          authorizePath: authorizePattern?.template ?? '',
          tokenPath: tokenPattern.template,
          requireBasicClientAuth: clientAuth === 'client_secret_basic',
          requirePostClientAuth: clientAuth === 'client_secret_post',
          clientCredentialsGrant: auth.type === 'oauth2_client_credentials',
          refreshTokens: oauth2?.refreshable ?? false,
          // Tokens that cannot be refreshed do not expire (unless a test says so).
          defaultTtlSeconds: oauth2?.refreshable ? 3600 : Infinity,
          callbackParams: (providerUrl) =>
            Object.fromEntries(
              Object.entries(connector.connectionConfig ?? {})
                .filter(([, f]) => f.fromCallback)
                .map(([name, f]) => [typeof f.fromCallback === 'string' ? f.fromCallback : name, providedValue(connector, name, providerUrl)]),
            ),
          tokenError(kind: TokenErrorKind, description: string) {
            const dead = kind === 'invalid_code' || kind === 'invalid_refresh_token' || kind === 'redirect_uri_mismatch';
            const code = dead ? (oauth2?.invalidGrantErrors?.[0] ?? 'invalid_grant') : kind;
            const status = kind === 'invalid_client' ? 401 : 400;
            const body: Record<string, unknown> = { error_description: description };
            setPath(body, tokenResponsePaths.error ?? 'error', code);
            return json(status, body, { 'cache-control': 'no-store' });
          },
          tokenResponse(issued, _account, ctx) {
            const body: Record<string, unknown> = {};
            setPath(body, tokenResponsePaths.accessToken ?? 'access_token', issued.accessToken);
            if (!tokenResponsePaths.accessToken) body.token_type = 'Bearer';
            if (issued.refreshToken) setPath(body, tokenResponsePaths.refreshToken ?? 'refresh_token', issued.refreshToken);
            if (Number.isFinite(issued.expiresIn)) setPath(body, tokenResponsePaths.expiresIn ?? 'expires_in', issued.expiresIn);
            if (issued.scope.length > 0) setPath(body, tokenResponsePaths.scope ?? 'scope', issued.scope.join(oauth2?.scopeSeparator ?? ' '));
            for (const [name, path] of Object.entries(oauth2?.connectionConfigFromToken ?? {})) setPath(body, path, providedValue(connector, name, ctx.providerUrl));
            return body;
          },
        }
      : undefined,
    authError: (reason) => authError(`The credentials are ${reason}`),
    seed: () => ({}),
    routes: [],
    handle(req, ctx, server) {
      const path = decodePath(req.path);
      if (authorizePattern) {
        const m = match(authorizePattern, path);
        if (m) {
          if ('unfilled' in m) return unfilled(m.unfilled, 'authorization');
          // The consent form posts back here; a provider whose token URL is the same (Egnyte) gets the token POST too.
          const consent = req.method === 'POST' && typeof req.body === 'object' && req.body !== null && 'consent_id' in req.body;
          if (consent) return server.authorizeDecision(module, req, ctx);
          if (req.method === 'GET') {
            const problem = authorizeProblem(req.query);
            if (problem) return json(400, { error: 'invalid_request', error_description: problem });
            // The consent form posts back to the path the browser came to (the filled host).
            const here = { ...module, oauth: { ...module.oauth!, authorizePath: req.path } };
            return server.authorizePage(here, req, ctx, bindingOf(m.values, oauthNames));
          }
          if (!tokenPattern || !match(tokenPattern, path)) return json(405, { error: 'method_not_allowed' });
        }
      }
      for (const [pattern, where] of [
        [refreshPattern, 'refresh'],
        [tokenPattern, 'token'],
      ] as const) {
        const m = pattern ? match(pattern, path) : null;
        if (!m) continue;
        if ('unfilled' in m) return unfilled(m.unfilled, where);
        if (req.method !== 'POST') return json(405, { error: 'method_not_allowed' });
        const problem = tokenRequestProblem(req, where, m.values);
        if (problem) return module.oauth!.tokenError!('invalid_request', problem, req);
        return server.tokenEndpoint(module, req, ctx, bindingOf(m.values, oauthNames));
      }
      return api(req, path, ctx, server);
    },
  };

  /** What is wrong with an authorize request, measured against the entry. */
  function authorizeProblem(q: URLSearchParams): string | undefined {
    if (q.get('response_type') !== 'code') return 'response_type must be "code"';
    if (!q.get('state')) return 'state is required';
    const pkce = oauth2!.pkce ?? true;
    if (pkce && !q.get('code_challenge')) return `${entry.name} requires PKCE: code_challenge is missing`;
    if (pkce && q.get('code_challenge_method') !== 'S256') return 'code_challenge_method must be S256';
    if (!pkce && q.get('code_challenge')) return `${entry.name} does not support PKCE: code_challenge must not be sent`;
    const scope = q.get('scope') ?? '';
    const separator = oauth2!.scopeSeparator ?? ' ';
    const wrong = separator === ',' ? ' ' : ',';
    if (scope.includes(wrong)) return `scope must be joined with "${separator}", got "${scope}"`;
    for (const [name, value] of Object.entries(oauth2!.authorizationParams ?? {})) {
      if (q.get(name) !== value) return `${name} must be "${value}" (got ${q.get(name) === null ? 'nothing' : `"${q.get(name)}"`})`;
    }
    return undefined;
  }

  /** What is wrong with a token request's encoding or extra parameters, measured against the entry. */
  function tokenRequestProblem(req: SandboxRequest, where: 'token' | 'refresh', known: Record<string, string>): string | undefined {
    const type = req.headers['content-type'] ?? '';
    const json = oauth2?.tokenRequestFormat === 'json';
    if (json && !type.includes('json')) return `${entry.name} takes token requests as JSON, got "${type || 'no content type'}"`;
    if (!json && !type.includes('application/x-www-form-urlencoded')) return `${entry.name} takes token requests form-encoded, got "${type || 'no content type'}"`;
    const params = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
    const refreshing = params.grant_type === 'refresh_token';
    if (refreshPattern && where === 'token' && refreshing) return `${entry.name} refreshes tokens at its refresh URL, not its token URL`;
    if (where === 'refresh' && !refreshing) return `${entry.name}'s refresh URL only takes grant_type=refresh_token`;
    const tokenParams = auth.type === 'oauth2' || auth.type === 'oauth2_client_credentials' ? auth.tokenParams : undefined;
    const expected = { ...tokenParams, ...(refreshing ? oauth2?.refreshParams : {}) };
    for (const [name, value] of Object.entries(expected)) {
      // Templated values (`https://${org_host}/…`) arrive filled: known placeholders exactly, others with anything.
      if (typeof params[name] !== 'string' || !templateRegex(value, known).test(params[name] as string)) return `${name} must be "${value}" on this token request`;
    }
    return undefined;
  }

  /** A template (`offline_access https://{{org_host}}/x`) as a regex of its filled-in forms. */
  function templateRegex(template: string, known: Record<string, string>): RegExp {
    let source = '';
    let last = 0;
    for (const m of template.matchAll(TEMPLATE)) {
      source += escapeRegex(template.slice(last, m.index));
      const value = known[m[1]!];
      source += value !== undefined ? escapeRegex(value) : '(?!\\{\\{)[^\\s]+';
      last = m.index! + m[0].length;
    }
    return new RegExp(`^${source}${escapeRegex(template.slice(last))}$`);
  }

  /** Who the request's credentials belong to, or the provider's auth-failure answer. */
  function authenticate(req: SandboxRequest, values: Record<string, string>, server: OAuthServer): { account: SandboxAccount } | { error: SandboxResponse } {
    switch (auth.type) {
      case 'oauth2':
      case 'oauth2_client_credentials': {
        // Where the entry says the token goes (Shopify's X-Shopify-Access-Token), else a bearer header.
        const header = auth.tokenHeader;
        let presented = header ? req.headers[header.name.toLowerCase()] : bearerToken(req);
        if (header && presented !== undefined) {
          if (header.prefix && !presented.startsWith(header.prefix)) return { error: authError(`The access token in ${header.name} must start with "${header.prefix}"`) };
          presented = presented.slice(header.prefix?.length ?? 0);
        }
        const checked = server.checkAccessToken(key, presented);
        if ('failure' in checked) return { error: authError(`The access token is ${checked.failure}`) };
        const bound: Record<string, string> = checked.record.binding ? JSON.parse(checked.record.binding) : {};
        for (const [name, value] of Object.entries(bound)) {
          if (values[name] !== undefined && values[name] !== value) return { error: authError(`The access token was issued for ${name} "${value}", not "${values[name]}"`) };
        }
        return { account: accounts[checked.record.accountIndex] ?? accounts[0]! };
      }
      case 'api_key': {
        const expected = `${auth.prefix ?? ''}${CATALOGUE_API_KEY}`;
        if (auth.name.includes('{{')) {
          const nameRegex = new RegExp(`^${escapeRegex(auth.name.toLowerCase()).replace(/\\\{\\\{\s*[A-Za-z0-9_]+\s*\\\}\\\}/g, '.+')}$`);
          const found =
            auth.in === 'header'
              ? Object.entries(req.headers).some(([n, v]) => nameRegex.test(n) && v === expected)
              : [...req.query].some(([n, v]) => nameRegex.test(n.toLowerCase()) && v === expected);
          return found ? { account: accounts[0]! } : { error: authError(`Expected the API key in ${auth.in} ${auth.name}`) };
        }
        const given = auth.in === 'header' ? req.headers[auth.name.toLowerCase()] : (req.query.get(auth.name) ?? undefined);
        if (given === undefined) return { error: authError(`The API key is missing: expected ${auth.in === 'header' ? 'header' : 'query parameter'} ${auth.name}`) };
        if (given !== expected) {
          const hint = given.endsWith(CATALOGUE_API_KEY) ? ` (expected it prefixed "${auth.prefix ?? ''}")` : '';
          return { error: authError(`The API key in ${auth.name} is invalid${hint}`) };
        }
        return { account: accounts[0]! };
      }
      case 'basic': {
        const header = req.headers['authorization'] ?? '';
        // A fixed user name or password (Mailgun's `api`, BambooHR's `x`) stands in for ours.
        const expected = `Basic ${Buffer.from(`${auth.username ?? CATALOGUE_BASIC.username}:${auth.password ?? CATALOGUE_BASIC.password}`).toString('base64')}`;
        return header === expected ? { account: accounts[0]! } : { error: authError(header ? 'The user name or password is wrong' : 'Basic authentication is required') };
      }
    }
  }

  /** The API: the verify call answers with the account at the entry's dot paths; anything else is echoed. */
  function api(req: SandboxRequest, path: string, ctx: ProviderContext, server: OAuthServer): SandboxResponse {
    let values: Record<string, string> | undefined;
    for (const pattern of Object.values(bases)) {
      const m = match(pattern, path);
      if (!m) continue;
      if ('unfilled' in m) return unfilled(m.unfilled, 'API base');
      values = m.values;
      break;
    }
    if (!values) {
      return json(404, {
        error: 'not_found',
        message: `${req.method} ${req.path} is under none of ${entry.name}'s API bases (${Object.values(bases)
          .map((b) => b.template || '/')
          .join(', ')})`,
      });
    }
    const who = authenticate(req, values, server);
    if ('error' in who) return who.error;
    const verifyMatch = req.method === (verify.method ?? 'GET') ? match(verifyPattern, path) : null;
    if (verifyMatch && !('unfilled' in verifyMatch)) {
      if (verify.body !== undefined && JSON.stringify(req.body) !== JSON.stringify(verify.body)) {
        return json(400, { error: 'invalid_request', message: `The verify call's body must be ${JSON.stringify(verify.body)}` });
      }
      const body: Record<string, unknown> = {};
      // What the connection learns from this answer (Xero's tenant id); the account's id wins where they share a path (Atlassian's cloud id).
      for (const [name, path] of Object.entries(verify.connectionConfig ?? {})) setPath(body, path, providedValue(connector, name, ctx.providerUrl));
      if (!verify.accountId.includes('${')) setPath(body, verify.accountId, who.account.id);
      if (verify.accountName && verify.accountName !== verify.accountId) setPath(body, verify.accountName, who.account.email);
      return json(200, body);
    }
    const { authorization: _a, ...headers } = req.headers;
    return json(200, {
      sandbox: 'echo',
      method: req.method,
      path: req.path,
      query: Object.fromEntries(req.query),
      headers,
      body: req.body ?? null,
      account: who.account.id,
      at: new Date(ctx.now()).toISOString(),
    });
  }

  return module;
}

/** A generic provider for every catalogue entry not served by a deep sandbox provider. */
export function catalogueSandboxProviders(except: Iterable<string>): Record<string, ProviderModule> {
  const skip = new Set(except);
  return Object.fromEntries(
    Object.entries(catalogueEntries())
      .filter(([key]) => !skip.has(key))
      .map(([key, entry]) => [key, catalogueSandboxProvider(key, entry)]),
  );
}
