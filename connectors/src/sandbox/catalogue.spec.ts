/**
 * Every catalogue entry, driven through the connector runtime against the sandbox's generic
 * provider: authorize URL as the entry builds it → consent → code exchange with its quirks →
 * verify (account) → a request through the connection → token expired → refresh → request again.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  buildAuthorizationUrl,
  buildTokenRequest,
  CatalogueEntry,
  catalogueConnector,
  ConnectorDefinition,
  createSimpleHttpClient,
  Credentials,
  HttpError,
  isAuthFailure,
  loadCatalogue,
  OAuth2Auth,
  OAuth2ClientCredentialsAuth,
  parseTokenResponse,
  withSandbox,
} from '../index';
import { consentInSandbox, Sandbox, SANDBOX_CREDENTIALS, startSandbox } from './index';
import { makeCtx, pkcePair, postToken, REDIRECT_URI } from '../test-support/helpers';

const catalogue = loadCatalogue();
const client = SANDBOX_CREDENTIALS.client;

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => {
  sandbox.reset({ tokens: true });
});

/** What an end user would type for each asked-for connection-config field. */
function askedConfig(connector: ConnectorDefinition): Record<string, string> {
  const config: Record<string, string> = {};
  for (const [name, field] of Object.entries(connector.connectionConfig ?? {})) {
    if (field.fromToken || field.fromCallback || field.fromAccount) continue;
    const value = field.example ?? field.default ?? 'acme';
    if (field.pattern) expect(value, `${connector.key}: connectionConfig.${name}'s example must match its pattern`).toMatch(new RegExp(`^(?:${field.pattern})$`));
    config[name] = value;
  }
  return config;
}

function sandboxed(key: string, entry: CatalogueEntry): ConnectorDefinition {
  return withSandbox(catalogueConnector(key, entry), sandbox.url);
}

async function authorize(connector: ConnectorDefinition, config: Record<string, string>) {
  const auth = connector.auth as OAuth2Auth;
  const state = randomBytes(12).toString('base64url');
  const { verifier, challenge } = pkcePair();
  const pkce = auth.pkce ?? true;
  const url = buildAuthorizationUrl(auth, { clientId: client.clientId, redirectUri: REDIRECT_URI, state, codeChallenge: pkce ? challenge : undefined, config });
  const callback = await consentInSandbox(url);
  expect(callback.searchParams.get('error_description') ?? callback.searchParams.get('error')).toBeNull();
  expect(callback.searchParams.get('state')).toBe(state);
  return { callback, verifier: pkce ? verifier : undefined };
}

async function tokenGrant(connector: ConnectorDefinition, grant: Parameters<typeof buildTokenRequest>[2], config: Record<string, string>) {
  const auth = connector.auth as OAuth2Auth | OAuth2ClientCredentialsAuth;
  const res = await postToken(buildTokenRequest(auth, client, grant, config));
  return { ...res, result: parseTokenResponse(auth, res.status, res.body) };
}

/** Connects as the end user would; returns the connection's config and credentials. */
async function connect(connector: ConnectorDefinition): Promise<{ config: Record<string, string>; credentials: Credentials; refreshToken?: string }> {
  const config = askedConfig(connector);
  const auth = connector.auth;
  if (auth.type === 'api_key') return { config, credentials: { type: 'api_key', apiKey: SANDBOX_CREDENTIALS.catalogue.apiKey } };
  if (auth.type === 'basic') {
    const { username, password } = SANDBOX_CREDENTIALS.catalogue.basic;
    return { config, credentials: { type: 'basic', username: auth.username ?? username, password: auth.password ?? password } };
  }
  if (auth.type === 'oauth2_client_credentials') {
    const token = await tokenGrant(connector, { grantType: 'client_credentials', scopes: auth.scopes }, config);
    if (!token.result.ok) throw new Error(`client_credentials grant failed: ${JSON.stringify(token.body)}`);
    return { config, credentials: { type: 'oauth2_client_credentials', accessToken: token.result.tokens.accessToken } };
  }
  const { callback, verifier } = await authorize(connector, config);
  for (const [name, field] of Object.entries(connector.connectionConfig ?? {})) {
    if (!field.fromCallback) continue;
    const value = callback.searchParams.get(typeof field.fromCallback === 'string' ? field.fromCallback : name);
    expect(value, `the callback carries ${name}`).toBeTruthy();
    config[name] = value!;
  }
  const token = await tokenGrant(
    connector,
    { grantType: 'authorization_code', code: callback.searchParams.get('code') ?? '', redirectUri: REDIRECT_URI, codeVerifier: verifier },
    config,
  );
  if (!token.result.ok) throw new Error(`code exchange failed (${token.status}): ${JSON.stringify(token.body)}`);
  Object.assign(config, token.result.tokens.connectionConfig);
  for (const [name, field] of Object.entries(connector.connectionConfig ?? {})) {
    if (field.fromToken && !field.optional) expect(config[name], `the token response carries ${name}`).toBeTruthy();
  }
  return { config, credentials: { type: 'oauth2', accessToken: token.result.tokens.accessToken }, refreshToken: token.result.tokens.refreshToken };
}

describe.each(Object.entries(catalogue))('catalogue entry %s against the generic sandbox provider', (key, entry) => {
  it('connects, names the account, relays a request, and refreshes an expired token', async () => {
    const connector = sandboxed(key, entry);
    const { config, credentials, refreshToken } = await connect(connector);

    const account = await connector.account(makeCtx(connector, config, credentials));
    // Values only the verify call learns (fromAccount) join the connection's config, as the server does.
    for (const [name, field] of Object.entries(connector.connectionConfig ?? {})) {
      if (field.fromAccount) expect(account.config?.[name], `account() learns ${name}`).toBeTruthy();
    }
    Object.assign(config, account.config);
    const expectedId = entry.verify.accountId.includes('${') ? entry.verify.accountId.replace(/\$\{([a-z0-9_]+)\}/g, (_, n: string) => config[n]!) : `${key}-user-1`;
    expect(account.id).toBe(expectedId);
    if (entry.verify.accountName) expect(account.name).toBe(entry.verify.accountName === entry.verify.accountId ? expectedId : `user1@${key}.sandbox.test`);

    // A request through the connection reaches the provider with method, query and body intact.
    const http = createSimpleHttpClient({ connector, config, credentials });
    const echoed = await http.request<Record<string, any>>({ method: 'POST', path: 'sandbox-check/items', query: { q: 'x y' }, body: { hello: 'world' } });
    expect(echoed.status, JSON.stringify(echoed.data)).toBe(200);
    expect(echoed.data).toMatchObject({ sandbox: 'echo', method: 'POST', query: { q: 'x y' }, body: { hello: 'world' }, account: `${key}-user-1` });
    expect(echoed.data.path).toMatch(/\/sandbox-check\/items$/);
    // Templated hosts arrive filled with the connection's values.
    expect(sandbox.calls({ connector: key }).every((c) => !/\{\{|%7B%7B/i.test(c.url) && !/\/~\./.test(c.url))).toBe(true);

    const bad = await createSimpleHttpClient({ connector, config, credentials: withWrongSecret(credentials) }).request({ method: 'GET', path: 'sandbox-check' });
    expect(isAuthFailure(connector.authFailure, bad), `wrong credentials answer an auth failure (${bad.status})`).toBe(true);

    if (connector.auth.type === 'oauth2' && connector.auth.refreshable) {
      expect(refreshToken, 'a refreshable entry gets a refresh token').toBeTruthy();
      sandbox.oauth.expireAccessTokens(key);
      const expired = await http.request({ method: 'GET', path: 'sandbox-check' });
      expect(isAuthFailure(connector.authFailure, expired)).toBe(true);
      const refreshed = await tokenGrant(connector, { grantType: 'refresh_token', refreshToken: refreshToken! }, config);
      expect(refreshed.result.ok, JSON.stringify(refreshed.body)).toBe(true);
      if (!refreshed.result.ok) return;
      expect(refreshed.result.tokens.refreshToken).not.toBe(refreshToken);
      const again = await createSimpleHttpClient({ connector, config, credentials: { type: 'oauth2', accessToken: refreshed.result.tokens.accessToken } }).request({
        method: 'GET',
        path: 'sandbox-check',
      });
      expect(again.status).toBe(200);
      // The rotated-out refresh token is dead, in the provider's words.
      const reused = await tokenGrant(connector, { grantType: 'refresh_token', refreshToken: refreshToken! }, config);
      expect(reused.result.ok === false && reused.result.invalidGrant).toBe(true);
    } else if (connector.auth.type === 'oauth2') {
      expect(refreshToken).toBeUndefined();
    }
  });
});

function withWrongSecret(credentials: Credentials): Credentials {
  switch (credentials.type) {
    case 'api_key':
      return { ...credentials, apiKey: 'not-the-key' };
    case 'basic':
      return { ...credentials, password: 'wrong' };
    default:
      return { ...credentials, accessToken: 'sbx_not_a_token' };
  }
}

/** The first entry with a feature, to check the generic provider refuses what the real one would. */
function entryWhere(test: (entry: CatalogueEntry) => boolean): [string, CatalogueEntry] | undefined {
  return Object.entries(catalogue).find(([, e]) => test(e));
}

const oauthEntry = (test: (auth: OAuth2Auth) => boolean) => entryWhere((e) => e.auth.type === 'oauth2' && test(e.auth));
/** The placeholders in a URL's host. */
const hostPlaceholders = (url: string) => [...(/^https:\/\/([^/]*)/.exec(url)?.[1]?.matchAll(/\$\{(\w+)\}/g) ?? [])].map((m) => m[1]!);
// Authorize, token and API hosts all built from the same placeholder (Zendesk's subdomain).
const templatedHost = entryWhere((e) => {
  if (e.auth.type !== 'oauth2') return false;
  const shared = hostPlaceholders(e.auth.tokenUrl);
  return shared.length > 0 && shared.every((n) => hostPlaceholders(e.auth.type === 'oauth2' ? e.auth.authorizationUrl : '').includes(n) && hostPlaceholders(e.baseUrl).includes(n));
});

describe('the generic provider holds clients to the entry', () => {
  it('refuses an unfilled templated host, naming the placeholder', async () => {
    // Each check below needs a catalogue entry of its kind: fail, not skip, if none is left.
    expect(templatedHost, 'a catalogue entry to check this with').toBeDefined();
    const [key, entry] = templatedHost!;
    const auth = sandboxed(key, entry).auth as OAuth2Auth;
    const name = /\{\{(\w+)\}\}/.exec(auth.authorizationUrl)![1]!;
    for (const url of [auth.authorizationUrl, auth.authorizationUrl.replace(/\{\{\w+\}\}/g, '')]) {
      const res = await fetch(url);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'placeholder_not_filled', message: expect.stringContaining(`\${${name}}`) });
    }
  });

  it('binds a grant to the host it was made at', async () => {
    expect(templatedHost, 'a catalogue entry to check this with').toBeDefined();
    const [key, entry] = templatedHost!;
    const connector = sandboxed(key, entry);
    const config = askedConfig(connector);
    const name = hostPlaceholders(entry.auth.type === 'oauth2' ? entry.auth.tokenUrl : '')[0]!;
    const other = { ...config, [name]: `${config[name]}-other` };
    const first = await authorize(connector, config);
    const elsewhere = await tokenGrant(
      connector,
      { grantType: 'authorization_code', code: first.callback.searchParams.get('code')!, redirectUri: REDIRECT_URI, codeVerifier: first.verifier },
      other,
    );
    expect(elsewhere.result.ok).toBe(false);
    const connected = await connect(connector);
    const res = await createSimpleHttpClient({ connector, config: { ...connected.config, [name]: other[name]! }, credentials: connected.credentials }).request({
      method: 'GET',
      path: 'sandbox-check',
    });
    expect(res.status).toBe(entry.authFailure?.status?.[0] ?? 401);
    expect(JSON.stringify(res.data)).toContain(`was issued for ${name}`);
  });

  const pkce = oauthEntry((a) => a.pkce !== false);
  it('asks for PKCE where the entry uses it', async () => {
    expect(pkce, 'a catalogue entry to check this with').toBeDefined();
    const [key, entry] = pkce!;
    const connector = sandboxed(key, entry);
    const url = buildAuthorizationUrl(connector.auth as OAuth2Auth, { clientId: client.clientId, redirectUri: REDIRECT_URI, state: 's', config: askedConfig(connector) });
    const res = await fetch(url);
    expect(res.status).toBe(400);
    expect((await res.json()).error_description).toContain('code_challenge is missing');
  });

  const commaScopes = oauthEntry((a) => a.scopeSeparator === ',' && a.scopes.length > 1);
  it('checks scopes are joined with the entry’s separator', async () => {
    expect(commaScopes, 'a catalogue entry to check this with').toBeDefined();
    const [key, entry] = commaScopes!;
    const connector = sandboxed(key, entry);
    const auth = { ...(connector.auth as OAuth2Auth), scopeSeparator: ' ' as const };
    const res = await fetch(
      buildAuthorizationUrl(auth, { clientId: client.clientId, redirectUri: REDIRECT_URI, state: 's', codeChallenge: pkcePair().challenge, config: askedConfig(connector) }),
    );
    expect(res.status).toBe(400);
    expect((await res.json()).error_description).toContain('scope must be joined with ","');
  });

  const extraParams = oauthEntry((a) => Object.keys(a.authorizationParams ?? {}).length > 0);
  it('checks the entry’s authorization parameters are sent', async () => {
    expect(extraParams, 'a catalogue entry to check this with').toBeDefined();
    const [key, entry] = extraParams!;
    const connector = sandboxed(key, entry);
    const auth = { ...(connector.auth as OAuth2Auth), authorizationParams: {} };
    const res = await fetch(
      buildAuthorizationUrl(auth, { clientId: client.clientId, redirectUri: REDIRECT_URI, state: 's', codeChallenge: pkcePair().challenge, config: askedConfig(connector) }),
    );
    expect(res.status).toBe(400);
    expect((await res.json()).error_description).toContain(Object.keys((entry.auth as OAuth2Auth).authorizationParams!)[0]);
  });

  const postAuth = oauthEntry((a) => (a.clientAuthentication ?? 'client_secret_post') === 'client_secret_post');
  it('refuses the client authentication the entry does not use', async () => {
    expect(postAuth, 'a catalogue entry to check this with').toBeDefined();
    const [key, entry] = postAuth!;
    const connector = sandboxed(key, entry);
    const config = askedConfig(connector);
    const { callback, verifier } = await authorize(connector, config);
    const auth = { ...(connector.auth as OAuth2Auth), clientAuthentication: 'client_secret_basic' as const };
    const res = await postToken(
      buildTokenRequest(auth, client, { grantType: 'authorization_code', code: callback.searchParams.get('code')!, redirectUri: REDIRECT_URI, codeVerifier: verifier }, config),
    );
    expect(res.status).toBe(401);
    expect(JSON.stringify(res.body)).toContain('not with HTTP Basic');
  });

  const prefixedKey = entryWhere((e) => e.auth.type === 'api_key' && e.auth.in === 'header' && Boolean(e.auth.prefix));
  it('wants an API key with the entry’s prefix', async () => {
    expect(prefixedKey, 'a catalogue entry to check this with').toBeDefined();
    const [key, entry] = prefixedKey!;
    const connector = sandboxed(key, entry);
    const withoutPrefix = { ...connector, auth: { ...(connector.auth as Extract<typeof connector.auth, { type: 'api_key' }>), prefix: '' } };
    const error = await withoutPrefix
      .account(makeCtx(withoutPrefix, askedConfig(connector), { type: 'api_key', apiKey: SANDBOX_CREDENTIALS.catalogue.apiKey }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).message).toContain('expected it prefixed');
  });
});
