import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectors, ConnectorDefinition, HttpError } from '../index';
import { Sandbox, startSandbox } from './index';
import { connect, Connected } from '../test-support/helpers';

let sandbox: Sandbox;
let slack: Connected;
beforeAll(async () => {
  sandbox = await startSandbox();
  slack = await connect(sandbox, connectors.slack as ConnectorDefinition);
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => sandbox.reset());

describe('fault injection', () => {
  it('answers the next N matching calls with 429 + Retry-After, then behaves', async () => {
    const rule = sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', status: 429, retryAfter: 3, times: 2 });
    const send = () => slack.ctx.http.request<{ ok: boolean; error?: string }>({ method: 'POST', path: 'chat.postMessage', body: { channel: '#general', text: 'hi' } });
    const a = await send();
    expect(a.status).toBe(429);
    expect(a.headers['retry-after']).toBe('3');
    expect(a.data).toEqual({ ok: false, error: 'ratelimited' });
    expect(rule.remaining()).toBe(1);
    expect((await send()).status).toBe(429);
    expect((await send()).status).toBe(200);
    expect(rule.remaining()).toBe(0);
    const calls = sandbox.calls({ path: '/api/chat.postMessage' });
    expect(calls.map((c) => c.status)).toEqual([429, 429, 200]);
    expect(calls[0]!.fault).toMatchObject({ kind: 'status', ruleId: rule.id });
    expect(sandbox.state.slack.messages).toHaveLength(1);
  });

  it('5xx answers become retryable HttpErrors in actions', async () => {
    const gh = await connect(sandbox, connectors.github as ConnectorDefinition);
    sandbox.inject({ connector: 'github', path: '/user', status: 502, body: { message: 'Server Error' } });
    const err = (await gh.connector.account(gh.ctx).catch((e: unknown) => e)) as HttpError;
    expect(err).toBeInstanceOf(HttpError);
    expect(err.status).toBe(502);
    expect(err.retryable).toBe(true);
    await expect(gh.connector.account(gh.ctx)).resolves.toMatchObject({ id: '583231' });
  });

  it('adds latency, matches by method and RegExp, and can drop connections', async () => {
    sandbox.inject({ connector: 'slack', method: 'POST', path: /auth\.test$/, latencyMs: 150 });
    const t0 = Date.now();
    await slack.connector.account(slack.ctx);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(sandbox.calls({ path: '/api/auth.test' })[0]!.fault?.kind).toBe('latency');
    const t1 = Date.now();
    await slack.connector.account(slack.ctx);
    expect(Date.now() - t1).toBeLessThan(140);
    sandbox.inject({ connector: 'slack', path: '/api/auth.test', drop: true });
    await expect(slack.connector.account(slack.ctx)).rejects.toThrow();
    await expect(slack.connector.account(slack.ctx)).resolves.toBeTruthy();
  });

  it('times: Infinity keeps failing until cancelled', async () => {
    const rule = sandbox.inject({ connector: 'slack', path: '/api/auth.test', status: 500, times: Infinity });
    for (let i = 0; i < 3; i++) expect((await slack.ctx.http.request({ method: 'POST', path: 'auth.test' })).status).toBe(500);
    rule.cancel();
    expect((await slack.ctx.http.request({ method: 'POST', path: 'auth.test' })).status).toBe(200);
  });
});

describe('recording and reset', () => {
  it('records method, path, query, headers (with Authorization) and body', async () => {
    await slack.ctx.http.request({ method: 'GET', path: 'conversations.list', query: { limit: 5, cursor: undefined } });
    const [call] = sandbox.calls({ connector: 'slack' });
    expect(call).toMatchObject({
      connector: 'slack',
      method: 'GET',
      path: '/api/conversations.list',
      url: '/slack/api/conversations.list?limit=5',
      query: { limit: '5' },
      status: 200,
    });
    expect(call!.headers.authorization).toMatch(/^Bearer xoxb-sandbox-/);
    expect(sandbox.calls((c) => c.status === 200)).toHaveLength(1);
    expect(sandbox.calls({ connector: 'github' })).toHaveLength(0);
  });

  it('reset() clears calls, rules and data but keeps tokens unless asked', async () => {
    await slack.ctx.http.request({ method: 'POST', path: 'chat.postMessage', body: { channel: '#general', text: 'x' } });
    sandbox.inject({ connector: 'slack', status: 500, times: 5 });
    sandbox.reset();
    expect(sandbox.calls()).toHaveLength(0);
    expect(sandbox.state.slack.messages).toHaveLength(0);
    await expect(slack.connector.account(slack.ctx)).resolves.toBeTruthy();
    sandbox.reset({ tokens: true });
    const err = await slack.connector.account(slack.ctx).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('invalid_auth');
    slack = await connect(sandbox, connectors.slack as ConnectorDefinition);
  });

  it('unknown providers and paths answer 404', async () => {
    expect((await fetch(`${sandbox.url}/nope/x`)).status).toBe(404);
    expect((await fetch(`${sandbox.url}/slack/api/nope.method`)).status).toBe(404);
    expect((await fetch(`${sandbox.url}/slack/api/chat.postMessage`)).status).toBe(405);
  });
});

describe('control endpoints (for a sandbox in another process)', () => {
  it('index, health, calls, inject, token-ttl, expire, issue, reset', async () => {
    const index = (await (await fetch(`${sandbox.url}/`)).json()) as { providers: Record<string, { url: string }> };
    expect(index.providers.slack!.url).toBe(`${sandbox.url}/slack`);
    expect(await (await fetch(`${sandbox.url}/_sandbox/health`)).json()).toMatchObject({ ok: true });
    const post = (path: string, body: unknown) =>
      fetch(`${sandbox.url}/_sandbox/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
        (r) => r.json() as Promise<any>,
      );
    const issued = await post('oauth/issue', { connector: 'hubspot' });
    expect(issued.accessToken).toBeTruthy();
    const auth = { authorization: `Bearer ${issued.accessToken}` };
    expect((await fetch(`${sandbox.url}/hubspot/account-info/v3/details`, { headers: auth })).status).toBe(200);
    await post('inject', { connector: 'hubspot', pathRegex: '^/account-info', status: 429, retryAfter: 1 });
    expect((await fetch(`${sandbox.url}/hubspot/account-info/v3/details`, { headers: auth })).status).toBe(429);
    await post('oauth/expire', { connector: 'hubspot' });
    const expired = await fetch(`${sandbox.url}/hubspot/account-info/v3/details`, { headers: auth });
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ category: 'EXPIRED_AUTHENTICATION' });
    const calls = (await (await fetch(`${sandbox.url}/_sandbox/calls?connector=hubspot`)).json()) as { calls: { status: number }[] };
    expect(calls.calls.map((c) => c.status)).toEqual([200, 429, 401]);
    await post('oauth/token-ttl', { seconds: 3600 });
    await post('reset', {});
    expect(sandbox.calls()).toHaveLength(0);
  });
});

describe('one command starts it', () => {
  const main = join(__dirname, '..', '..', 'dist', 'sandbox', 'main.js');
  it.skipIf(!existsSync(main))('node dist/sandbox/main.js listens on SANDBOX_PORT and prints the URL', async () => {
    const child = spawn(process.execPath, [main], { env: { ...process.env, SANDBOX_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 10_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const health = (await (await fetch(`${url}/_sandbox/health`)).json()) as { ok: boolean };
      expect(health.ok).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
