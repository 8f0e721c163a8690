import { createHash, randomBytes } from 'node:crypto';
import {
  ActionContext,
  buildAuthorizationUrl,
  buildTokenRequest,
  ConnectorDefinition,
  createSimpleHttpClient,
  Credentials,
  OAuth2Auth,
  parseTokenResponse,
  TokenResult,
  TokenSet,
  withSandbox,
} from '../index';
import { consentInSandbox, Sandbox, SANDBOX_CREDENTIALS } from '../sandbox';

export const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';

/** What an end user types before connecting (each asked field's default, else its example): Shopify's shop, Microsoft's tenant. */
export function askedConfig(connector: ConnectorDefinition): Record<string, string> {
  return Object.fromEntries(
    Object.entries(connector.connectionConfig ?? {})
      .filter(([, f]) => !f.fromToken && !f.fromCallback && !f.fromAccount && (f.default ?? f.example) !== undefined)
      .map(([name, f]) => [name, (f.default ?? f.example)!]),
  );
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export async function postToken(req: ReturnType<typeof buildTokenRequest>): Promise<{ status: number; body: unknown }> {
  const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* form-encoded or text */
  }
  return { status: res.status, body };
}

export interface Connected {
  connector: ConnectorDefinition;
  tokens?: TokenSet;
  config: Record<string, string>;
  credentials: Credentials;
  ctx: ActionContext;
}

export function makeCtx(connector: ConnectorDefinition, config: Record<string, string>, credentials: Credentials): ActionContext {
  return {
    http: createSimpleHttpClient({ connector, config, credentials }),
    config,
    idempotencyKey: `run_${randomBytes(6).toString('hex')}:step:0`,
    signal: new AbortController().signal,
  };
}

/** Runs the authorization-code flow against the sandbox: authorize → consent → code → token. */
export async function oauthDance(
  sandbox: Sandbox,
  base: ConnectorDefinition,
  opts: { account?: number; decision?: 'allow' | 'deny'; pkce?: boolean; client?: { clientId: string; clientSecret: string }; redirectUri?: string } = {},
): Promise<{
  callback: URL;
  state: string;
  verifier: string;
  exchange: (override?: { code?: string; verifier?: string; redirectUri?: string; clientSecret?: string }) => Promise<{ status: number; body: unknown; result: TokenResult }>;
}> {
  const connector = withSandbox(base, sandbox.url);
  const auth = connector.auth as OAuth2Auth;
  const client = opts.client ?? SANDBOX_CREDENTIALS.client;
  const state = randomBytes(12).toString('base64url');
  const { verifier, challenge } = pkcePair();
  const usePkce = opts.pkce ?? auth.pkce ?? true;
  // Templated OAuth URLs are filled as an end user would: Shopify's shop, Microsoft's tenant.
  const config = askedConfig(base);
  const url = buildAuthorizationUrl(auth, {
    clientId: client.clientId,
    redirectUri: opts.redirectUri ?? REDIRECT_URI,
    state,
    codeChallenge: usePkce ? challenge : undefined,
    config,
  });
  const callback = await consentInSandbox(url, { decision: opts.decision, account: opts.account });
  const exchange = async (o: { code?: string; verifier?: string; redirectUri?: string; clientSecret?: string } = {}) => {
    const req = buildTokenRequest(
      auth,
      { clientId: client.clientId, clientSecret: o.clientSecret ?? client.clientSecret },
      {
        grantType: 'authorization_code',
        code: o.code ?? callback.searchParams.get('code') ?? '',
        redirectUri: o.redirectUri ?? opts.redirectUri ?? REDIRECT_URI,
        codeVerifier: usePkce ? (o.verifier ?? verifier) : o.verifier,
      },
      config,
    );
    const res = await postToken(req);
    return { ...res, result: parseTokenResponse(auth, res.status, res.body) };
  };
  return { callback, state, verifier, exchange };
}

export async function refresh(sandbox: Sandbox, base: ConnectorDefinition, refreshToken: string): Promise<{ status: number; body: unknown; result: TokenResult }> {
  const auth = withSandbox(base, sandbox.url).auth as OAuth2Auth;
  const res = await postToken(buildTokenRequest(auth, SANDBOX_CREDENTIALS.client, { grantType: 'refresh_token', refreshToken }, askedConfig(base)));
  return { ...res, result: parseTokenResponse(auth, res.status, res.body) };
}

/** A working connection to the sandbox for any connector (OAuth dance, API key, or http config). */
export async function connect(sandbox: Sandbox, base: ConnectorDefinition, account = 0): Promise<Connected> {
  const connector = withSandbox(base, sandbox.url);
  if (connector.auth.type === 'oauth2') {
    const dance = await oauthDance(sandbox, base, { account });
    const { result } = await dance.exchange();
    if (!result.ok) throw new Error(`token exchange failed: ${result.error}`);
    const credentials: Credentials = { type: 'oauth2', accessToken: result.tokens.accessToken };
    const config = { ...askedConfig(base), ...result.tokens.connectionConfig };
    return { connector, tokens: result.tokens, config, credentials, ctx: makeCtx(connector, config, credentials) };
  }
  if (connector.key === 'stripe') {
    const credentials: Credentials = { type: 'api_key', apiKey: account === 0 ? SANDBOX_CREDENTIALS.stripe.apiKey : SANDBOX_CREDENTIALS.stripe.otherAccountApiKey };
    return { connector, config: {}, credentials, ctx: makeCtx(connector, {}, credentials) };
  }
  const config = { base_url: sandbox.connectorUrl('http'), health_path: '/me' };
  const credentials: Credentials = { type: 'api_key', apiKey: SANDBOX_CREDENTIALS.http.apiKey };
  return { connector, config, credentials, ctx: makeCtx(connector, config, credentials) };
}
