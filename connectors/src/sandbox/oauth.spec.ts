import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectors, ConnectorDefinition, createSimpleHttpClient, isAuthFailure, OAuth2Auth, renderTemplate, withSandbox } from '../index';
import { Sandbox, startSandbox } from './index';
import { askedConfig, makeCtx, oauthDance, refresh, REDIRECT_URI } from '../test-support/helpers';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => {
  sandbox.reset({ tokens: true });
  sandbox.oauth.setCodeTtl(60);
});

const oauthConnectors = Object.values(connectors).filter((c) => c.auth.type === 'oauth2') as ConnectorDefinition[];

describe.each(oauthConnectors.map((c) => [c.key, c] as const))('%s authorization server', (key, connector) => {
  it('serves a consent page with Allow and Deny buttons', async () => {
    const auth = withSandbox(connector, sandbox.url).auth as OAuth2Auth;
    const url = new URL(renderTemplate(auth.authorizationUrl, askedConfig(connector)));
    url.searchParams.set('client_id', 'sandbox-client-id');
    url.searchParams.set('redirect_uri', REDIRECT_URI);
    url.searchParams.set('state', 's1');
    const res = await fetch(url);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(html).toContain('id="sandbox-allow"');
    expect(html).toContain('id="sandbox-deny"');
    expect(html).toMatch(/>Allow</);
    expect(html).toMatch(/>Deny</);
  });

  it('code → tokens → account; refresh rotates; reusing a refresh token is invalid_grant and revokes the family', async () => {
    const dance = await oauthDance(sandbox, connector);
    expect(dance.callback.origin + dance.callback.pathname).toBe(REDIRECT_URI);
    expect(dance.callback.searchParams.get('state')).toBe(dance.state);
    const first = await dance.exchange();
    expect(first.result.ok, JSON.stringify(first.body)).toBe(true);
    if (!first.result.ok) return;
    const tokens = first.result.tokens;
    const refreshable = (connector.auth as OAuth2Auth).refreshable;
    expect(Boolean(tokens.refreshToken)).toBe(refreshable);

    const sandboxed = withSandbox(connector, sandbox.url);
    const config = { ...askedConfig(connector), ...tokens.connectionConfig };
    const account = await sandboxed.account(makeCtx(sandboxed, config, { type: 'oauth2', accessToken: tokens.accessToken }));
    expect(account.id).toBeTruthy();
    expect(account.name).toBeTruthy();

    // Same code again: invalid_grant (in the provider's words) and the tokens it gave are revoked.
    const replay = await dance.exchange();
    expect(replay.result.ok).toBe(false);
    if (!replay.result.ok) expect(replay.result.invalidGrant).toBe(true);

    // A fresh grant to test rotation (Intercom's tokens never expire and are not refreshed).
    if (!refreshable) return;
    const d2 = await oauthDance(sandbox, connector, { account: 1 });
    const second = await d2.exchange();
    if (!second.result.ok) throw new Error('second exchange failed');
    const r1 = second.result.tokens.refreshToken!;
    const rotated = await refresh(sandbox, connector, r1);
    expect(rotated.result.ok, JSON.stringify(rotated.body)).toBe(true);
    if (!rotated.result.ok) return;
    const r2 = rotated.result.tokens.refreshToken!;
    expect(r2).toBeTruthy();
    expect(r2).not.toBe(r1);
    expect(rotated.result.tokens.accessToken).not.toBe(second.result.tokens.accessToken);
    const ctx2 = makeCtx(
      sandboxed,
      { ...config, ...rotated.result.tokens.connectionConfig, ...second.result.tokens.connectionConfig },
      { type: 'oauth2', accessToken: rotated.result.tokens.accessToken },
    );
    const otherAccount = await sandboxed.account(ctx2);
    // Another user of the same typed-in store (Shopify's shop) is the same account.
    if (Object.keys(askedConfig(connector)).length === 0) expect(otherAccount.id).not.toBe(account.id);

    const reuse = await refresh(sandbox, connector, r1);
    expect(reuse.result.ok).toBe(false);
    if (!reuse.result.ok) expect(reuse.result.invalidGrant, JSON.stringify(reuse.body)).toBe(true);
    // The whole family is gone: the rotated refresh token and the newest access token too.
    const after = await refresh(sandbox, connector, r2);
    expect(after.result.ok).toBe(false);
    if (!after.result.ok) expect(after.result.invalidGrant).toBe(true);
    await expect(sandboxed.account(ctx2)).rejects.toThrow();
    expect(sandbox.oauth.refreshCount(key)).toBe(1);
    expect(sandbox.oauth.events(key).some((e) => e.familyRevoked)).toBe(true);
  });

  it('Deny redirects with error=access_denied and the state', async () => {
    const dance = await oauthDance(sandbox, connector, { decision: 'deny' });
    expect(dance.callback.searchParams.get('error')).toBe('access_denied');
    expect(dance.callback.searchParams.get('state')).toBe(dance.state);
    expect(dance.callback.searchParams.get('code')).toBeNull();
  });

  it('rejects a wrong PKCE verifier, a different redirect_uri, a bad client secret and an expired code', async () => {
    const withPkce = (connector.auth as OAuth2Auth).pkce ?? true;
    if (withPkce) {
      const d = await oauthDance(sandbox, connector);
      const wrong = await d.exchange({ verifier: 'x'.repeat(43) });
      expect(wrong.result.ok).toBe(false);
      if (!wrong.result.ok) expect(wrong.result.invalidGrant).toBe(true);
    }
    const d2 = await oauthDance(sandbox, connector);
    const mismatch = await d2.exchange({ redirectUri: 'http://127.0.0.1:9/other' });
    expect(mismatch.result.ok).toBe(false);

    const d3 = await oauthDance(sandbox, connector);
    const badSecret = await d3.exchange({ clientSecret: 'nope' });
    expect(badSecret.result.ok).toBe(false);
    if (!badSecret.result.ok) expect(badSecret.result.invalidClient).toBe(true);

    const d4 = await oauthDance(sandbox, connector);
    sandbox.advanceTime(61);
    const expired = await d4.exchange();
    expect(expired.result.ok).toBe(false);
    if (!expired.result.ok) expect(expired.result.invalidGrant).toBe(true);
  });

  it('expired access tokens are refused in the provider style the connector recognises', async () => {
    const d = await oauthDance(sandbox, connector);
    const { result } = await d.exchange();
    if (!result.ok) throw new Error('exchange failed');
    sandbox.oauth.expireAccessTokens(key);
    const sandboxed = withSandbox(connector, sandbox.url);
    const http = createSimpleHttpClient({
      connector: sandboxed,
      config: { ...askedConfig(connector), ...result.tokens.connectionConfig },
      credentials: { type: 'oauth2', accessToken: result.tokens.accessToken },
    });
    const probe = {
      slack: { method: 'POST' as const, path: 'auth.test' },
      github: { method: 'GET' as const, path: 'user' },
      hubspot: { method: 'GET' as const, path: 'account-info/v3/details' },
      salesforce: { method: 'GET' as const, path: 'sobjects' },
      'google-sheets': { method: 'GET' as const, path: 'files', base: 'drive' },
      notion: { method: 'GET' as const, path: 'users/me' },
      gmail: { method: 'GET' as const, path: 'users/me/profile' },
      'google-calendar': { method: 'GET' as const, path: 'users/me/calendarList' },
      outlook: { method: 'GET' as const, path: 'me' },
      'microsoft-teams': { method: 'GET' as const, path: 'me' },
      shopify: { method: 'GET' as const, path: 'shop.json' },
      asana: { method: 'GET' as const, path: 'users/me' },
      pipedrive: { method: 'GET' as const, path: 'users/me' },
      airtable: { method: 'GET' as const, path: 'meta/whoami' },
      jira: { method: 'GET' as const, path: 'oauth/token/accessible-resources', base: 'atlassian' },
      zendesk: { method: 'GET' as const, path: 'users/me.json' },
      intercom: { method: 'GET' as const, path: 'me' },
      linear: { method: 'POST' as const, path: 'graphql', body: { query: '{ viewer { id } }' } },
    }[key as 'slack'];
    const res = await http.request(probe);
    expect(isAuthFailure(sandboxed.authFailure, res), JSON.stringify(res.data)).toBe(true);
  });
});

describe('authorization server details', () => {
  it('shows an error page (no redirect) for an unknown client_id', async () => {
    const res = await fetch(`${sandbox.url}/slack/oauth/v2/authorize?client_id=nobody&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Unknown application');
  });

  it('enforces registered redirect URIs of registered clients', async () => {
    sandbox.oauth.registerClient({ clientId: 'strict', clientSecret: 'strict-secret', redirectUris: ['https://app.example/cb'] });
    const bad = await fetch(`${sandbox.url}/github/login/oauth/authorize?client_id=strict&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`);
    expect(bad.status).toBe(400);
    const d = await oauthDance(sandbox, connectors.github, { client: { clientId: 'strict', clientSecret: 'strict-secret' }, redirectUri: 'https://app.example/cb' });
    expect(d.callback.origin).toBe('https://app.example');
    expect((await d.exchange()).result.ok).toBe(true);
  });

  it('requires HTTP Basic client authentication for Notion', async () => {
    const d = await oauthDance(sandbox, connectors.notion);
    const res = await fetch(`${sandbox.url}/notion/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'authorization_code',
        code: d.callback.searchParams.get('code'),
        redirect_uri: REDIRECT_URI,
        client_id: 'sandbox-client-id',
        client_secret: 'sandbox-client-secret',
      }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
  });

  it('answers provider-specific token shapes', async () => {
    const slack = await (await oauthDance(sandbox, connectors.slack)).exchange();
    expect(slack.body).toMatchObject({ ok: true, token_type: 'bot', team: { id: 'T0SBXACME1' }, authed_user: { id: 'U0SBXJANE1' } });
    const sf = await (await oauthDance(sandbox, connectors.salesforce)).exchange();
    expect(sf.body).toMatchObject({ instance_url: `${sandbox.url}/salesforce`, token_type: 'Bearer' });
    expect(sf.body).not.toHaveProperty('expires_in');
    if (sf.result.ok) expect(sf.result.tokens.connectionConfig.instance_url).toBe(`${sandbox.url}/salesforce`);
    const notion = await (await oauthDance(sandbox, connectors.notion)).exchange();
    expect(notion.body).toMatchObject({ workspace_name: 'Acme HQ', owner: { type: 'user' } });
    const hubspot = await (await oauthDance(sandbox, connectors.hubspot)).exchange();
    expect(hubspot.body).toMatchObject({ token_type: 'bearer', expires_in: 1800 });
    const bad = await (await oauthDance(sandbox, connectors.hubspot)).exchange({ code: 'nope' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ status: 'BAD_AUTH_CODE' });
  });

  it('GitHub answers form-encoded tokens unless JSON is accepted, and errors with HTTP 200', async () => {
    const d = await oauthDance(sandbox, connectors.github);
    const res = await fetch(`${sandbox.url}/github/login/oauth/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: 'sandbox-client-id',
        client_secret: 'sandbox-client-secret',
        code: d.callback.searchParams.get('code')!,
        redirect_uri: REDIRECT_URI,
        code_verifier: d.verifier,
      }).toString(),
    });
    expect(res.headers.get('content-type')).toContain('application/x-www-form-urlencoded');
    const form = new URLSearchParams(await res.text());
    expect(form.get('access_token')).toMatch(/^ghu_/);
    const again = await d.exchange();
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ error: 'bad_verification_code' });
  });

  it('token TTL is configurable and the clock can be moved', async () => {
    sandbox.oauth.setTokenTtl(5, 'github');
    const { result } = await (await oauthDance(sandbox, connectors.github)).exchange();
    if (!result.ok) throw new Error('exchange failed');
    expect(result.tokens.expiresIn).toBe(5);
    const gh = withSandbox(connectors.github, sandbox.url);
    const ctx = makeCtx(gh, {}, { type: 'oauth2', accessToken: result.tokens.accessToken });
    await expect(gh.account(ctx)).resolves.toMatchObject({ id: '583231' });
    sandbox.advanceTime(6);
    await expect(gh.account(ctx)).rejects.toMatchObject({ status: 401 });
    sandbox.oauth.setTokenTtl(3600);
  });

  it('concurrent refreshes with one token: exactly one wins, the rest are invalid_grant and the family dies', async () => {
    const { result } = await (await oauthDance(sandbox, connectors.slack)).exchange();
    if (!result.ok) throw new Error('exchange failed');
    const answers = await Promise.all(Array.from({ length: 5 }, () => refresh(sandbox, connectors.slack, result.tokens.refreshToken!)));
    const winners = answers.filter((a) => a.result.ok);
    expect(winners).toHaveLength(1);
    expect(answers.filter((a) => !a.result.ok && a.result.invalidGrant)).toHaveLength(4);
    const next = winners[0]!.result.ok ? winners[0]!.result.tokens.refreshToken! : '';
    expect((await refresh(sandbox, connectors.slack, next)).result.ok).toBe(false);
    expect(sandbox.oauth.refreshCount('slack')).toBe(1);
  });

  it('issueTokens mints a working connection without the dance', async () => {
    const t = sandbox.oauth.issueTokens('slack', { account: 1 });
    expect(t.response).toMatchObject({ ok: true, team: { name: 'Globex' } });
    const slack = withSandbox(connectors.slack, sandbox.url);
    const acc = await slack.account(makeCtx(slack, {}, { type: 'oauth2', accessToken: t.accessToken }));
    expect(acc.id).toBe('T0SBXGLBX2:U0SBXBOT01');
  });
});
