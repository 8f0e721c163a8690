import { describe, expect, it } from 'vitest';
import {
  buildAuthorizationUrl,
  buildTokenRequest,
  connectorOrigins,
  connectors,
  ensureOk,
  HttpError,
  isAuthFailure,
  OAuth2Auth,
  parseTokenResponse,
  renderTemplate,
  resolveUrl,
  withBaseUrlOverrides,
  applyCredentials,
  defaultHeadersFor,
  withSandbox,
} from './index';
import { stripeForm } from './providers/stripe';

describe('renderTemplate / resolveUrl', () => {
  it('renders config values and names missing ones', () => {
    expect(renderTemplate('{{instance_url}}/services', { instance_url: 'https://acme.my.salesforce.com' })).toBe('https://acme.my.salesforce.com/services');
    expect(() => renderTemplate('{{shop}}.myshopify.com', {})).toThrow('Missing connection config value "shop"');
  });

  it('joins paths to the base without dropping the base path, and adds the query', () => {
    const sf = connectors.salesforce;
    const cfg = { instance_url: 'https://acme.my.salesforce.com' };
    expect(resolveUrl(sf, { path: '/sobjects/Lead', query: { a: 1, b: undefined } }, cfg).toString()).toBe('https://acme.my.salesforce.com/services/data/v61.0/sobjects/Lead?a=1');
    expect(resolveUrl(sf, { path: 'services/oauth2/userinfo', base: 'instance' }, cfg).toString()).toBe('https://acme.my.salesforce.com/services/oauth2/userinfo');
    expect(resolveUrl(connectors.slack, { path: 'chat.postMessage' }, {}).toString()).toBe('https://slack.com/api/chat.postMessage');
  });

  it('accepts absolute URLs only on the connector’s own origins', () => {
    const g = connectors['google-sheets'];
    expect(resolveUrl(g, { path: 'https://www.googleapis.com/drive/v3/files' }, {}).host).toBe('www.googleapis.com');
    expect(() => resolveUrl(g, { path: 'https://169.254.169.254/latest' }, {})).toThrow(/outside the origins/);
    expect(() => resolveUrl(g, { path: 'x', base: 'nope' }, {})).toThrow(/no base URL named "nope"/);
  });

  it('applies config defaults (http connector)', () => {
    expect(resolveUrl(connectors.http, { path: '/v1/items' }, { base_url: 'https://api.example.com' }).toString()).toBe('https://api.example.com/v1/items');
  });
});

describe('base URL overrides', () => {
  it('lists origins and rewrites them, keeping paths and templates', () => {
    expect(connectorOrigins(connectors['google-sheets']).sort()).toEqual([
      'https://accounts.google.com',
      'https://oauth2.googleapis.com',
      'https://sheets.googleapis.com',
      'https://www.googleapis.com',
    ]);
    const s = withSandbox(connectors.slack, 'http://127.0.0.1:4010');
    expect(s.baseUrl).toBe('http://127.0.0.1:4010/slack/api');
    expect((s.auth as OAuth2Auth).authorizationUrl).toBe('http://127.0.0.1:4010/slack/oauth/v2/authorize');
    const custom = withBaseUrlOverrides(connectors.github, { 'https://api.github.com/': 'http://localhost:9000/gh-api' });
    expect(custom.baseUrl).toBe('http://localhost:9000/gh-api');
    expect((custom.auth as OAuth2Auth).tokenUrl).toBe('https://github.com/login/oauth/access_token');
    expect(connectors.slack.baseUrl).toBe('https://slack.com/api');
  });

  it('keeps a templated host visible in the sandbox URL, and leaves it out of the origins', () => {
    const tenantHosted = {
      ...connectors.http,
      key: 'acme-desk',
      auth: {
        type: 'oauth2' as const,
        authorizationUrl: 'https://{{subdomain}}.desk.example/oauth/authorize',
        tokenUrl: 'https://login.desk.example/{{subdomain}}/token',
        scopes: [],
        refreshable: true,
      },
      authSpecs: undefined,
      baseUrl: 'https://{{subdomain}}.desk.example/api/v2',
      baseUrls: { instance: '{{instance_url}}/services' },
    };
    expect(connectorOrigins(tenantHosted)).toEqual(['https://login.desk.example']);
    const s = withSandbox(tenantHosted, 'http://127.0.0.1:4010/');
    expect((s.auth as OAuth2Auth).authorizationUrl).toBe('http://127.0.0.1:4010/acme-desk/~{{subdomain}}.desk.example/oauth/authorize');
    expect((s.auth as OAuth2Auth).tokenUrl).toBe('http://127.0.0.1:4010/acme-desk/{{subdomain}}/token');
    expect(s.baseUrl).toBe('http://127.0.0.1:4010/acme-desk/~{{subdomain}}.desk.example/api/v2');
    expect(s.baseUrls).toEqual({ instance: '{{instance_url}}/services' });
    expect(resolveUrl(s, { path: 'users/me' }, { subdomain: 'acme' }).toString()).toBe('http://127.0.0.1:4010/acme-desk/~acme.desk.example/api/v2/users/me');
    // Overriding origins never collapses a templated host into the replacement.
    expect(withBaseUrlOverrides(tenantHosted, { 'https://login.desk.example': 'http://x' }).baseUrl).toBe('https://{{subdomain}}.desk.example/api/v2');
  });
});

describe('OAuth helpers', () => {
  it('builds authorize URLs with the connector’s separator, PKCE choice and extra params', () => {
    const slack = buildAuthorizationUrl(connectors.slack.auth as OAuth2Auth, { clientId: 'c', redirectUri: 'https://sb.test/cb', state: 's', codeChallenge: 'x'.repeat(43) });
    expect(slack.searchParams.get('scope')).toContain('chat:write,');
    expect(slack.searchParams.get('code_challenge_method')).toBe('S256');
    const hub = buildAuthorizationUrl(connectors.hubspot.auth as OAuth2Auth, { clientId: 'c', redirectUri: 'https://sb.test/cb', state: 's', codeChallenge: 'x'.repeat(43) });
    expect(hub.searchParams.get('code_challenge')).toBeNull();
    expect(hub.searchParams.get('scope')).toContain('oauth crm.objects.contacts.read');
    const google = buildAuthorizationUrl(connectors['google-sheets'].auth as OAuth2Auth, { clientId: 'c', redirectUri: 'https://sb.test/cb', state: 's' });
    expect(google.searchParams.get('access_type')).toBe('offline');
    expect(google.searchParams.get('prompt')).toBe('consent');
    const notion = buildAuthorizationUrl(connectors.notion.auth as OAuth2Auth, { clientId: 'c', redirectUri: 'https://sb.test/cb', state: 's' });
    expect(notion.searchParams.get('owner')).toBe('user');
    expect(notion.searchParams.has('scope')).toBe(false);
  });

  it('builds token requests with basic or post client auth and JSON for Notion', () => {
    const notion = buildTokenRequest(connectors.notion.auth as OAuth2Auth, { clientId: 'id', clientSecret: 's:ecret' }, { grantType: 'refresh_token', refreshToken: 'r' });
    expect(notion.headers.authorization).toBe(`Basic ${Buffer.from('id:s%3Aecret').toString('base64')}`);
    expect(JSON.parse(notion.body)).toEqual({ grant_type: 'refresh_token', refresh_token: 'r' });
    const gh = buildTokenRequest(
      connectors.github.auth as OAuth2Auth,
      { clientId: 'id', clientSecret: 'sec' },
      { grantType: 'authorization_code', code: 'c', redirectUri: 'https://x/cb', codeVerifier: 'v' },
    );
    expect(Object.fromEntries(new URLSearchParams(gh.body))).toEqual({
      grant_type: 'authorization_code',
      code: 'c',
      redirect_uri: 'https://x/cb',
      code_verifier: 'v',
      client_id: 'id',
      client_secret: 'sec',
    });
    expect(gh.headers.accept).toBe('application/json');
  });

  it('fills connection config into scopes, extra OAuth parameters and default headers', () => {
    const auth: OAuth2Auth = {
      type: 'oauth2',
      authorizationUrl: 'https://login.example.com/{{tenant}}/authorize',
      tokenUrl: 'https://login.example.com/{{tenant}}/token',
      scopes: ['offline_access', 'https://{{org_host}}/user_impersonation'],
      authorizationParams: { resource: 'https://{{org_host}}' },
      refreshParams: { scope: 'offline_access https://{{org_host}}/user_impersonation' },
      refreshable: true,
    };
    const config = { tenant: 'organizations', org_host: 'contoso.crm.dynamics.com' };
    const url = buildAuthorizationUrl(auth, { clientId: 'c', redirectUri: 'https://sb.test/cb', state: 's', config });
    expect(url.searchParams.get('scope')).toBe('offline_access https://contoso.crm.dynamics.com/user_impersonation');
    expect(url.searchParams.get('resource')).toBe('https://contoso.crm.dynamics.com');
    const refresh = buildTokenRequest(auth, { clientId: 'c', clientSecret: 's' }, { grantType: 'refresh_token', refreshToken: 'r' }, config);
    expect(new URLSearchParams(refresh.body).get('scope')).toBe('offline_access https://contoso.crm.dynamics.com/user_impersonation');
    expect(() => buildTokenRequest(auth, { clientId: 'c', clientSecret: 's' }, { grantType: 'refresh_token', refreshToken: 'r' }, { tenant: 'x' })).toThrow(/org_host/);
    expect(defaultHeadersFor({ defaultHeaders: { 'Developer-Token': '{{developer_token}}', 'X-Api-Version': '2' } }, { developer_token: 'dt-1' })).toEqual({
      'developer-token': 'dt-1',
      'x-api-version': '2',
    });
  });

  it('puts an OAuth access token in the header the provider names (Shopify), else Authorization: Bearer', () => {
    const shopify: OAuth2Auth = {
      type: 'oauth2',
      authorizationUrl: 'https://x/a',
      tokenUrl: 'https://x/t',
      scopes: [],
      refreshable: false,
      tokenHeader: { name: 'X-Shopify-Access-Token' },
    };
    const headers: Record<string, string> = {};
    applyCredentials(shopify, { type: 'oauth2', accessToken: 'shpat_1' }, headers, new URL('https://x/admin'), {});
    expect(headers).toEqual({ 'x-shopify-access-token': 'shpat_1' });
    const plain: Record<string, string> = {};
    applyCredentials({ ...shopify, tokenHeader: undefined }, { type: 'oauth2', accessToken: 't' }, plain, new URL('https://x/admin'), {});
    expect(plain).toEqual({ authorization: 'Bearer t' });
  });

  it('sends refresh requests to refreshUrl when the provider has one, and code exchanges to tokenUrl', () => {
    const auth: OAuth2Auth = {
      type: 'oauth2',
      authorizationUrl: 'https://www.figma.com/oauth',
      tokenUrl: 'https://api.figma.com/v1/oauth/token',
      refreshUrl: 'https://api.figma.com/v1/oauth/refresh',
      scopes: [],
      refreshable: true,
    };
    const client = { clientId: 'id', clientSecret: 'sec' };
    expect(buildTokenRequest(auth, client, { grantType: 'refresh_token', refreshToken: 'r' }).url).toBe('https://api.figma.com/v1/oauth/refresh');
    expect(buildTokenRequest(auth, client, { grantType: 'authorization_code', code: 'c', redirectUri: 'https://x/cb' }).url).toBe('https://api.figma.com/v1/oauth/token');
    const sandboxed = withBaseUrlOverrides({ ...connectors.slack, auth }, { 'https://api.figma.com': 'http://127.0.0.1:4010/figma' }).auth as OAuth2Auth;
    expect(sandboxed.refreshUrl).toBe('http://127.0.0.1:4010/figma/v1/oauth/refresh');
  });

  it('parses provider token answers, including errors sent with HTTP 200', () => {
    const slackAuth = connectors.slack.auth as OAuth2Auth;
    const ok = parseTokenResponse(slackAuth, 200, {
      ok: true,
      access_token: 'xoxb-1',
      token_type: 'bot',
      refresh_token: 'xoxe-1',
      expires_in: 43200,
      team: { id: 'T1', name: 'Acme' },
      bot_user_id: 'U1',
      scope: 'chat:write',
    });
    expect(ok).toMatchObject({
      ok: true,
      tokens: { accessToken: 'xoxb-1', refreshToken: 'xoxe-1', expiresIn: 43200, connectionConfig: { team_id: 'T1', team_name: 'Acme', bot_user_id: 'U1' } },
    });
    expect(parseTokenResponse(slackAuth, 200, { ok: false, error: 'invalid_refresh_token' })).toMatchObject({ ok: false, error: 'invalid_refresh_token', invalidGrant: true });
    const gh = connectors.github.auth as OAuth2Auth;
    expect(parseTokenResponse(gh, 200, { error: 'bad_refresh_token', error_description: 'expired' })).toMatchObject({ ok: false, invalidGrant: true, description: 'expired' });
    expect(parseTokenResponse(gh, 200, 'access_token=gho_1&scope=repo&token_type=bearer')).toMatchObject({ ok: true, tokens: { accessToken: 'gho_1', scope: 'repo' } });
    const hs = connectors.hubspot.auth as OAuth2Auth;
    expect(parseTokenResponse(hs, 400, { status: 'BAD_REFRESH_TOKEN', message: 'missing or invalid refresh token' })).toMatchObject({
      ok: false,
      error: 'BAD_REFRESH_TOKEN',
      invalidGrant: true,
    });
    expect(parseTokenResponse(hs, 400, { status: 'BAD_CLIENT_ID', message: 'x' })).toMatchObject({ ok: false, invalidGrant: false, invalidClient: true });
    const g = connectors['google-sheets'].auth as OAuth2Auth;
    expect(parseTokenResponse(g, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' })).toMatchObject({ ok: false, invalidGrant: true });
    expect(parseTokenResponse(g, 503, 'upstream down')).toMatchObject({ ok: false, error: 'http_503', invalidGrant: false });
    expect(parseTokenResponse(g, 200, { access_token: 'ya29', expires_in: '3599' })).toMatchObject({ ok: true, tokens: { expiresIn: 3599 } });
  });
});

describe('errors and auth failures', () => {
  it('ensureOk turns statuses into HttpError with a provider message', () => {
    expect(() => ensureOk({ status: 404, headers: {}, data: { message: 'Not Found' } }, { method: 'GET', path: 'user' })).toThrow('GET user answered 404: Not Found');
    const e = (() => {
      try {
        ensureOk({ status: 429, headers: { 'retry-after': '2' }, data: { error: { message: 'slow down' } } }, { method: 'GET', path: 'x' });
      } catch (err) {
        return err as HttpError;
      }
      return undefined;
    })();
    expect(e?.retryable).toBe(true);
    expect(e?.headers['retry-after']).toBe('2');
    expect(() => ensureOk({ status: 400, headers: {}, data: [{ message: 'bad field', errorCode: 'INVALID_FIELD' }] }, { method: 'POST', path: 'x' })).toThrow('bad field');
  });

  it('isAuthFailure knows Slack’s 200 token_expired and the default 401', () => {
    expect(isAuthFailure(connectors.slack.authFailure, { status: 200, data: { ok: false, error: 'token_expired' } })).toBe(true);
    expect(isAuthFailure(connectors.slack.authFailure, { status: 200, data: { ok: false, error: 'channel_not_found' } })).toBe(false);
    expect(isAuthFailure(undefined, { status: 401, data: {} })).toBe(true);
    expect(isAuthFailure(undefined, { status: 403, data: {} })).toBe(false);
  });

  it('stripeForm flattens nested values the way Stripe expects', () => {
    expect(stripeForm({ email: 'a@b.c', metadata: { plan: 'pro' }, items: [{ price: 'p1' }], skip: undefined })).toEqual({
      email: 'a@b.c',
      'metadata[plan]': 'pro',
      'items[0][price]': 'p1',
    });
  });
});
