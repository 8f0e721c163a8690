import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthFailure, escapeHtml, IssuedTokens, json, ProviderContext, ProviderModule, SandboxAccount, SandboxRequest, SandboxResponse, TokenErrorKind } from './core';

/** An OAuth client registered with the sandbox's authorization servers. */
export interface SandboxClient {
  clientId: string;
  clientSecret: string;
  /** Allowed redirect URIs (exact match). Empty/absent: any http(s) URI is accepted at authorize. */
  redirectUris?: string[];
  /** Connectors this client may be used with. Absent: all. */
  connectors?: string[];
  /** Shown on the consent page. */
  name?: string;
  /** The app's webhook URL, for providers that push events to an app rather than per subscription (Slack, HubSpot). */
  webhookUrl?: string;
  /** The app's separate signing secret (Slack); others sign with the client secret. */
  signingSecret?: string;
}

export const DEFAULT_CLIENT: SandboxClient = {
  clientId: 'sandbox-client-id',
  clientSecret: 'sandbox-client-secret',
  name: 'Switchboard (sandbox)',
};

interface PendingConsent {
  connector: string;
  clientId: string;
  redirectUri: string;
  redirectUriGiven: boolean;
  state?: string;
  scope: string[];
  codeChallenge?: string;
  codeChallengeMethod?: string;
  expiresAt: number;
  binding?: string;
}

interface CodeRecord {
  connector: string;
  clientId: string;
  redirectUri: string;
  redirectUriGiven: boolean;
  scope: string[];
  accountIndex: number;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  expiresAt: number;
  used: boolean;
  /** Family of the tokens issued from this code (revoked if the code is replayed). */
  familyId?: string;
  binding?: string;
}

export interface AccessTokenRecord {
  token: string;
  connector: string;
  clientId: string;
  accountIndex: number;
  scope: string[];
  familyId: string;
  issuedAt: number;
  /** null = never expires. */
  expiresAt: number | null;
  /**
   * The templated-host values the grant was made at (`acme` of acme.zendesk.com): tokens work only
   * there, as a real tenant-scoped provider's would. Absent for fixed hosts.
   */
  binding?: string;
}

export interface RefreshTokenRecord {
  token: string;
  connector: string;
  clientId: string;
  accountIndex: number;
  scope: string[];
  familyId: string;
  used: boolean;
  binding?: string;
}

export interface OAuthSnapshot {
  clients: SandboxClient[];
  accessTokens: AccessTokenRecord[];
  refreshTokens: RefreshTokenRecord[];
  families: Array<{ id: string; revoked: boolean; accessTokens: string[] }>;
}

interface Family {
  revoked: boolean;
  accessTokens: Set<string>;
}

/** What happened at the token endpoints (for assertions). */
export interface OAuthEvent {
  at: number;
  connector: string;
  grantType: string;
  outcome: 'issued' | 'error';
  error?: TokenErrorKind;
  /** Refresh-token reuse or code replay revoked a whole token family. */
  familyRevoked?: boolean;
}

function sha256base64url(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function token(prefix: string, bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

/** RFC 6749 style errors, used unless a provider answers in its own style. */
export function standardTokenError(kind: TokenErrorKind, description: string): SandboxResponse {
  const map: Record<TokenErrorKind, [number, string]> = {
    invalid_code: [400, 'invalid_grant'],
    invalid_refresh_token: [400, 'invalid_grant'],
    invalid_client: [401, 'invalid_client'],
    redirect_uri_mismatch: [400, 'invalid_grant'],
    invalid_request: [400, 'invalid_request'],
    unsupported_grant_type: [400, 'unsupported_grant_type'],
  };
  const [status, error] = map[kind];
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (status === 401) headers['www-authenticate'] = 'Basic realm="sandbox"';
  return json(status, { error, error_description: description }, headers);
}

/**
 * One authorization server per sandbox, serving every oauth2 provider at that provider's own
 * authorize/token paths. Codes: single use, short-lived, bound to client, redirect URI and PKCE
 * challenge. Refresh tokens: rotate on every use and are single-use; reusing one (or replaying a
 * code) revokes the whole family.
 */
export class OAuthServer {
  readonly clients = new Map<string, SandboxClient>();
  private readonly pending = new Map<string, PendingConsent>();
  private readonly codes = new Map<string, CodeRecord>();
  readonly accessTokens = new Map<string, AccessTokenRecord>();
  private readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  private readonly families = new Map<string, Family>();
  readonly events: OAuthEvent[] = [];
  private ttl = new Map<string, number>();
  codeTtlSeconds = 60;
  consentTtlSeconds = 600;

  constructor(private readonly now: () => number) {
    this.registerClient(DEFAULT_CLIENT);
  }

  registerClient(client: SandboxClient): void {
    this.clients.set(client.clientId, client);
  }

  /** Access-token lifetime in seconds, for one connector or (no key) all. 0 = already expired on issue. */
  setTokenTtl(seconds: number, connector?: string): void {
    if (connector) this.ttl.set(connector, seconds);
    else {
      this.ttl.clear();
      this.ttl.set('*', seconds);
    }
  }

  tokenTtl(provider: ProviderModule): number {
    return this.ttl.get(provider.key) ?? this.ttl.get('*') ?? provider.oauth?.defaultTtlSeconds ?? 3600;
  }

  /** Makes every current access token (of one connector) expired. */
  expireAccessTokens(connector?: string): number {
    let n = 0;
    for (const t of this.accessTokens.values()) {
      if (!connector || t.connector === connector) {
        t.expiresAt = this.now() - 1000;
        n++;
      }
    }
    return n;
  }

  /** Revokes every token family (of one connector): as if the user uninstalled the app. */
  revokeAll(connector?: string): void {
    for (const t of [...this.accessTokens.values(), ...this.refreshTokens.values()]) {
      if (!connector || t.connector === connector) this.revokeFamily(t.familyId);
    }
  }

  clearTokens(): void {
    this.pending.clear();
    this.codes.clear();
    this.accessTokens.clear();
    this.refreshTokens.clear();
    this.families.clear();
    this.events.length = 0;
  }

  /**
   * What must outlive a restart for connections to keep working: clients, issued access and
   * refresh tokens and their families. Consents and codes live minutes and are not kept.
   */
  snapshot(): OAuthSnapshot {
    return {
      clients: [...this.clients.values()],
      accessTokens: [...this.accessTokens.values()],
      refreshTokens: [...this.refreshTokens.values()],
      families: [...this.families].map(([id, f]) => ({ id, revoked: f.revoked, accessTokens: [...f.accessTokens] })),
    };
  }

  restore(snapshot: OAuthSnapshot): void {
    for (const c of snapshot.clients ?? []) this.clients.set(c.clientId, c);
    for (const t of snapshot.accessTokens ?? []) this.accessTokens.set(t.token, t);
    for (const t of snapshot.refreshTokens ?? []) this.refreshTokens.set(t.token, t);
    for (const f of snapshot.families ?? []) this.families.set(f.id, { revoked: f.revoked, accessTokens: new Set(f.accessTokens) });
  }

  /** Successful refresh-token grants so far (of one connector). */
  refreshCount(connector?: string): number {
    return this.events.filter((e) => e.grantType === 'refresh_token' && e.outcome === 'issued' && (!connector || e.connector === connector)).length;
  }

  private revokeFamily(familyId: string): void {
    const family = this.families.get(familyId);
    if (family) family.revoked = true;
  }

  /** Checks a bearer token presented to a provider's API. */
  checkAccessToken(connector: string, value: string | undefined): { record: AccessTokenRecord } | { failure: AuthFailure } {
    if (!value) return { failure: 'missing' };
    const record = this.accessTokens.get(value);
    if (!record || record.connector !== connector) return { failure: 'invalid' };
    if (this.families.get(record.familyId)?.revoked) return { failure: 'revoked' };
    if (record.expiresAt !== null && record.expiresAt <= this.now()) return { failure: 'expired' };
    return { record };
  }

  /** Mints tokens directly (no browser dance): for benchmarks and tests that need a connection fast. */
  issue(
    provider: ProviderModule,
    opts: { clientId?: string; accountIndex?: number; scope?: string[]; ttlSeconds?: number; familyId?: string; grantType?: IssuedTokens['grantType']; binding?: string } = {},
  ): IssuedTokens & { familyId: string } {
    const familyId = opts.familyId ?? randomBytes(8).toString('hex');
    if (!this.families.has(familyId)) this.families.set(familyId, { revoked: false, accessTokens: new Set() });
    const prefix = provider.tokenPrefix ?? { access: 'sbx_at_', refresh: 'sbx_rt_' };
    const ttl = opts.ttlSeconds ?? this.tokenTtl(provider);
    const now = this.now();
    const clientId = opts.clientId ?? DEFAULT_CLIENT.clientId;
    const accountIndex = opts.accountIndex ?? 0;
    const scope = opts.scope ?? [];
    const access: AccessTokenRecord = {
      token: token(prefix.access),
      connector: provider.key,
      clientId,
      accountIndex,
      scope,
      familyId,
      issuedAt: now,
      expiresAt: Number.isFinite(ttl) ? now + ttl * 1000 : null,
      binding: opts.binding,
    };
    this.accessTokens.set(access.token, access);
    this.families.get(familyId)!.accessTokens.add(access.token);
    let refreshToken: string | undefined;
    const grantType = opts.grantType ?? 'authorization_code';
    if ((provider.oauth?.refreshTokens ?? true) && grantType !== 'client_credentials') {
      refreshToken = token(prefix.refresh, 32);
      this.refreshTokens.set(refreshToken, { token: refreshToken, connector: provider.key, clientId, accountIndex, scope, familyId, used: false, binding: opts.binding });
    }
    return { accessToken: access.token, refreshToken, expiresIn: ttl, scope, grantType, familyId };
  }

  // ---- authorize endpoint -------------------------------------------------------------------

  private errorPage(status: number, title: string, message: string): SandboxResponse {
    return {
      status,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><main><h1 id="sandbox-error">${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></main></body></html>`,
    };
  }

  private redirect(uri: string, params: Record<string, string | undefined>): SandboxResponse {
    const url = new URL(uri);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
    return { status: 302, headers: { location: url.toString(), 'cache-control': 'no-store' } };
  }

  /** GET authorize: validates the request and shows the consent page. */
  authorizePage(provider: ProviderModule, req: SandboxRequest, ctx: ProviderContext, binding?: string): SandboxResponse {
    const q = req.query;
    const clientId = q.get('client_id') ?? '';
    const client = this.clients.get(clientId);
    if (!client || (client.connectors && !client.connectors.includes(provider.key))) {
      return this.errorPage(400, 'Unknown application', `No application with client_id "${clientId}" is registered with ${provider.displayName}.`);
    }
    let redirectUri = q.get('redirect_uri') ?? '';
    const redirectUriGiven = redirectUri !== '';
    if (!redirectUriGiven) {
      if (!client.redirectUris?.length) return this.errorPage(400, 'Missing redirect_uri', 'The request has no redirect_uri and the application registered none.');
      redirectUri = client.redirectUris[0]!;
    }
    let parsed: URL;
    try {
      parsed = new URL(redirectUri);
    } catch {
      return this.errorPage(400, 'Invalid redirect_uri', `"${redirectUri}" is not a URL.`);
    }
    if (!/^https?:$/.test(parsed.protocol) || parsed.hash) return this.errorPage(400, 'Invalid redirect_uri', 'The redirect URI must be an http(s) URL without a fragment.');
    if (client.redirectUris?.length && !client.redirectUris.includes(redirectUri)) {
      return this.errorPage(400, 'redirect_uri mismatch', `The redirect URI "${redirectUri}" is not registered for this application.`);
    }
    const state = q.get('state') ?? undefined;
    const responseType = q.get('response_type');
    if (responseType !== null && responseType !== 'code') {
      return this.redirect(redirectUri, { error: 'unsupported_response_type', error_description: 'Only response_type=code is supported', state });
    }
    const codeChallenge = q.get('code_challenge') ?? undefined;
    const method = q.get('code_challenge_method') ?? (codeChallenge ? 'plain' : undefined);
    if (codeChallenge && method !== 'S256' && method !== 'plain') {
      return this.redirect(redirectUri, { error: 'invalid_request', error_description: 'code_challenge_method must be S256 or plain', state });
    }
    if (codeChallenge && !/^[A-Za-z0-9._~-]{43,128}$/.test(codeChallenge)) {
      return this.redirect(redirectUri, { error: 'invalid_request', error_description: 'code_challenge is malformed', state });
    }
    const rawScope = q.get('scope') ?? '';
    const scope = rawScope.split(/[ ,]+/).filter(Boolean);
    const id = randomBytes(16).toString('base64url');
    this.pending.set(id, {
      connector: provider.key,
      clientId,
      redirectUri,
      redirectUriGiven,
      state,
      scope,
      codeChallenge,
      codeChallengeMethod: method,
      expiresAt: this.now() + this.consentTtlSeconds * 1000,
      binding,
    });
    const action = `${ctx.providerUrl}${provider.oauth!.authorizePath}`;
    const accounts = provider.accounts.map((a, i) => `<option value="${i}"${i === 0 ? ' selected' : ''}>${escapeHtml(a.name)} (${escapeHtml(a.email)})</option>`).join('');
    const scopes = scope.length ? scope.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('') : '<li>Access to the pages and databases you choose</li>';
    const appName = client.name ?? client.clientId;
    const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorize ${escapeHtml(appName)} – ${escapeHtml(provider.displayName)} (sandbox)</title>
<style>body{font:16px system-ui,sans-serif;background:#f4f5f7;margin:0}main{max-width:28rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:12px;box-shadow:0 2px 12px #0002}
button{font:inherit;padding:.6rem 1.4rem;border-radius:8px;border:1px solid #999;cursor:pointer;margin-right:.5rem}#sandbox-allow{background:#1a7f37;color:#fff;border-color:#1a7f37}
.note{color:#666;font-size:.85rem}</style></head>
<body><main>
<p class="note">${escapeHtml(provider.displayName)} · sandbox provider</p>
<h1 id="sandbox-consent-title">${escapeHtml(appName)} wants to access your ${escapeHtml(provider.displayName)} account</h1>
<form method="post" action="${escapeHtml(action)}" id="sandbox-consent-form">
<input type="hidden" name="consent_id" value="${id}">
<p><label for="sandbox-account">Signed in as</label><br><select id="sandbox-account" name="account">${accounts}</select></p>
<p>It will be able to:</p><ul id="sandbox-scopes">${scopes}</ul>
<p class="note">You will be sent back to ${escapeHtml(parsed.origin)}</p>
<button type="submit" name="decision" value="allow" id="sandbox-allow" aria-label="Allow">Allow</button>
<button type="submit" name="decision" value="deny" id="sandbox-deny" aria-label="Deny">Deny</button>
</form></main></body></html>`;
    return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-frame-options': 'DENY' }, body };
  }

  /** POST authorize (the consent form): redirects back with a code or error=access_denied. */
  authorizeDecision(provider: ProviderModule, req: SandboxRequest, ctx?: ProviderContext): SandboxResponse {
    const form = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, string>;
    const pending = this.pending.get(form.consent_id ?? '');
    if (!pending || pending.connector !== provider.key) return this.errorPage(400, 'Authorization request not found', 'Start again from the application.');
    this.pending.delete(form.consent_id!);
    if (pending.expiresAt <= this.now()) return this.errorPage(400, 'Authorization request expired', 'Start again from the application.');
    if (form.decision !== 'allow') {
      return this.redirect(pending.redirectUri, { error: 'access_denied', error_description: 'The user denied access', state: pending.state });
    }
    const accountIndex = Math.min(provider.accounts.length - 1, Math.max(0, Number.parseInt(form.account ?? '0', 10) || 0));
    const code = randomBytes(24).toString('base64url');
    this.codes.set(code, {
      connector: provider.key,
      clientId: pending.clientId,
      redirectUri: pending.redirectUri,
      redirectUriGiven: pending.redirectUriGiven,
      scope: pending.scope,
      accountIndex,
      codeChallenge: pending.codeChallenge,
      codeChallengeMethod: pending.codeChallengeMethod,
      expiresAt: this.now() + this.codeTtlSeconds * 1000,
      used: false,
      binding: pending.binding,
    });
    return this.redirect(pending.redirectUri, { ...provider.oauth?.callbackParams?.(ctx?.providerUrl ?? ''), code, state: pending.state });
  }

  // ---- token endpoint -----------------------------------------------------------------------

  private clientCredentials(req: SandboxRequest, params: Record<string, string>): { id: string; secret: string; basic: boolean } | null {
    const h = req.headers['authorization'];
    if (h && /^Basic\s+/i.test(h)) {
      const decoded = Buffer.from(h.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i < 0) return null;
      const dec = (s: string) => {
        try {
          return decodeURIComponent(s.replace(/\+/g, ' '));
        } catch {
          return s;
        }
      };
      return { id: dec(decoded.slice(0, i)), secret: dec(decoded.slice(i + 1)), basic: true };
    }
    if (params.client_id !== undefined) return { id: params.client_id, secret: params.client_secret ?? '', basic: false };
    return null;
  }

  /** POST token: authorization_code, refresh_token and client_credentials grants. */
  tokenEndpoint(provider: ProviderModule, req: SandboxRequest, ctx: ProviderContext, binding?: string): SandboxResponse {
    const spec = provider.oauth!;
    const fail = (kind: TokenErrorKind, description: string, grantType: string, familyRevoked = false): SandboxResponse => {
      this.events.push({ at: this.now(), connector: provider.key, grantType, outcome: 'error', error: kind, familyRevoked });
      return spec.tokenError ? spec.tokenError(kind, description, req) : standardTokenError(kind, description);
    };
    const params: Record<string, string> = {};
    const raw = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
    for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') params[k] = v;
    // Slack and GitHub do not require grant_type for the code exchange.
    const grantType = params.grant_type ?? (params.code ? 'authorization_code' : '');

    const creds = this.clientCredentials(req, params);
    const client = creds ? this.clients.get(creds.id) : undefined;
    if (!creds || !client || !safeEqual(client.clientSecret, creds.secret) || (client.connectors && !client.connectors.includes(provider.key))) {
      return fail('invalid_client', 'Client authentication failed', grantType);
    }
    if (spec.requireBasicClientAuth && !creds.basic) {
      return fail('invalid_client', 'Client credentials must be sent with HTTP Basic authentication', grantType);
    }
    if (spec.requirePostClientAuth && creds.basic) {
      return fail('invalid_client', 'Client credentials must be sent as client_id and client_secret in the request body, not with HTTP Basic', grantType);
    }

    if (grantType === 'authorization_code') {
      const code = params.code ? this.codes.get(params.code) : undefined;
      if (!code || code.connector !== provider.key) return fail('invalid_code', 'The authorization code is invalid', grantType);
      if (code.used) {
        // Replay: revoke what the first exchange issued (RFC 6749 §4.1.2).
        if (code.familyId) this.revokeFamily(code.familyId);
        return fail('invalid_code', 'The authorization code was already used', grantType, true);
      }
      code.used = true;
      if (code.expiresAt <= this.now()) return fail('invalid_code', 'The authorization code has expired', grantType);
      if (code.clientId !== creds.id) return fail('invalid_code', 'The authorization code was issued to another client', grantType);
      if (code.binding !== binding) return fail('invalid_code', `The authorization code was issued at ${code.binding ?? 'another host'}, not ${binding ?? 'this host'}`, grantType);
      const redirectUri = params.redirect_uri;
      if ((code.redirectUriGiven || redirectUri !== undefined) && redirectUri !== code.redirectUri) {
        return fail('redirect_uri_mismatch', 'redirect_uri does not match the one used at authorization', grantType);
      }
      if (code.codeChallenge) {
        const verifier = params.code_verifier;
        if (!verifier || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return fail('invalid_code', 'code_verifier is missing or malformed', grantType);
        const computed = code.codeChallengeMethod === 'S256' ? sha256base64url(verifier) : verifier;
        if (!safeEqual(computed, code.codeChallenge)) return fail('invalid_code', 'PKCE verification failed', grantType);
      } else if (params.code_verifier) {
        return fail('invalid_code', 'code_verifier sent but no code_challenge was given at authorization', grantType);
      }
      const issued = this.issue(provider, { clientId: creds.id, accountIndex: code.accountIndex, scope: code.scope, binding });
      code.familyId = issued.familyId;
      this.events.push({ at: this.now(), connector: provider.key, grantType, outcome: 'issued' });
      return this.success(provider, issued, code.accountIndex, req, ctx);
    }

    if (grantType === 'refresh_token') {
      const record = params.refresh_token ? this.refreshTokens.get(params.refresh_token) : undefined;
      if (!record || record.connector !== provider.key) return fail('invalid_refresh_token', 'The refresh token is invalid', grantType);
      if (record.clientId !== creds.id) return fail('invalid_refresh_token', 'The refresh token was issued to another client', grantType);
      if (record.binding !== binding)
        return fail('invalid_refresh_token', `The refresh token was issued at ${record.binding ?? 'another host'}, not ${binding ?? 'this host'}`, grantType);
      const family = this.families.get(record.familyId);
      if (record.used) {
        // Reuse of a rotated refresh token: assume theft, revoke the whole family.
        this.revokeFamily(record.familyId);
        return fail('invalid_refresh_token', 'The refresh token was already used', grantType, true);
      }
      if (!family || family.revoked) return fail('invalid_refresh_token', 'The refresh token has been revoked', grantType);
      record.used = true;
      let scope = record.scope;
      if (params.scope) {
        const asked = params.scope.split(/[ ,]+/).filter(Boolean);
        if (asked.some((s) => !record.scope.includes(s)) && record.scope.length > 0) return fail('invalid_request', 'scope exceeds the original grant', grantType);
        scope = asked;
      }
      const issued = this.issue(provider, { clientId: creds.id, accountIndex: record.accountIndex, scope, familyId: record.familyId, grantType: 'refresh_token', binding });
      this.events.push({ at: this.now(), connector: provider.key, grantType, outcome: 'issued' });
      return this.success(provider, issued, record.accountIndex, req, ctx);
    }

    if (grantType === 'client_credentials' && spec.clientCredentialsGrant) {
      const scope = (params.scope ?? '').split(/[ ,]+/).filter(Boolean);
      const issued = this.issue(provider, { clientId: creds.id, scope, grantType: 'client_credentials', binding });
      this.events.push({ at: this.now(), connector: provider.key, grantType, outcome: 'issued' });
      return this.success(provider, issued, 0, req, ctx);
    }
    return fail('unsupported_grant_type', `grant_type "${grantType}" is not supported`, grantType);
  }

  private success(provider: ProviderModule, issued: IssuedTokens, accountIndex: number, req: SandboxRequest, ctx: ProviderContext): SandboxResponse {
    const account: SandboxAccount = provider.accounts[accountIndex] ?? provider.accounts[0]!;
    const body = provider.oauth!.tokenResponse(issued, account, ctx, req);
    if (provider.oauth!.formUnlessJsonAccepted && !(req.headers['accept'] ?? '').includes('json')) {
      const form = new URLSearchParams();
      for (const [k, v] of Object.entries(body)) if (v !== undefined && v !== null) form.set(k, String(v));
      return { status: 200, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'cache-control': 'no-store' }, body: form.toString() };
    }
    return json(200, body, { 'cache-control': 'no-store', pragma: 'no-cache' });
  }
}
