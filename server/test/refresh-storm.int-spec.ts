import { consentInSandbox, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import Redis from 'ioredis';
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, freePort, Http, Reply, TenantFixture, testEnv } from './harness';

/**
 * The refresh storm, on the compiled server: many concurrent proxy calls on a connection whose token
 * has expired, spread over two API processes that share PostgreSQL and Redis. The provider (the
 * sandbox, whose refresh tokens rotate and are single-use) must see exactly one refresh.
 */

const DIST = join(__dirname, '..', 'dist');
const HOST_ORIGIN = 'https://host.example';
const CALLS = 200;
const TOKEN_PATH = '/api/oauth.v2.access';

interface Proc {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

function runApi(env: Record<string, string>): Proc {
  let output = '';
  const child = spawn(process.execPath, [join(DIST, 'main.js')], { env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv });
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, url: env.PUBLIC_URL, output: () => output, exited };
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
}

describe('refresh storm across two API processes', () => {
  let sandbox: Sandbox;
  let env: Record<string, string>;
  let apis: Proc[] = [];
  let db: Client;
  let redis: Redis;
  let tenant: TenantFixture;
  /** The same secret key, against each process. */
  let hosts: Http[];
  let connectionId: string;

  /** Expires the connection on both sides: the provider refuses the token, and our row says so. */
  async function expire() {
    sandbox.oauth.expireAccessTokens('slack');
    const updated = await db.query(`UPDATE connections SET expires_at = now() - interval '1 minute' WHERE id = $1`, [connectionId]);
    expect(updated.rowCount).toBe(1);
    // The processes drop their in-memory copy when PostgreSQL announces the change (connection-cache.ts), a few milliseconds after the commit.
    await new Promise((r) => setTimeout(r, 250));
  }

  /** CALLS proxy calls, half to each process, all started in the same tick. */
  async function storm(): Promise<Reply[]> {
    const started = Array.from({ length: CALLS }, (_, i) => hosts[i % hosts.length]!.get(`/v1/proxy/${connectionId}/auth.test`));
    return Promise.all(started);
  }

  const describeFailures = (replies: Reply[]) =>
    replies
      .map((r, i) => ({ i, process: i % 2, status: r.status, body: r.body }))
      .filter((r) => r.status !== 200 || r.body?.ok !== true)
      .slice(0, 5);

  beforeAll(async () => {
    sandbox = await startSandbox();
    const [port1, port2] = [await freePort(), await freePort()];
    env = testEnv(port1, { SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}`, LOG_LEVEL: 'warn' });
    const env2 = { ...env, PORT: String(port2), PUBLIC_URL: `http://127.0.0.1:${port2}` };
    apis = [runApi(env), runApi(env2)];
    for (const api of apis) await waitFor(async () => ((await fetch(`${api.url}/readyz`)).ok ? true : undefined));

    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    redis = new Redis(env.REDIS_URL, { keyPrefix: `${env.REDIS_PREFIX}:`, lazyConnect: true });
    await redis.connect();

    // Set up through process 1, the way a host app would.
    const [first] = apis;
    tenant = await createTenant({ url: first!.url, origin: first!.url } as never, 'Storm Co');
    expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] })).status).toBe(200);
    expect((await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    const secret = tenant.host.options.bearer!;
    hosts = apis.map((api) => new Http(api.url).withBearer(secret));

    // The connect popup, over HTTP: connect page → sandbox consent → callback → result page.
    const session = await tenant.host.post('/v1/sessions', { endUserId: 'storm-user' });
    expect(session.status).toBe(201);
    const start = await fetch(`${first!.url}/connect/slack?${new URLSearchParams({ session: session.body.token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const callback = await consentInSandbox(start.headers.get('location')!);
    const page = await fetch(callback);
    const html = await page.text();
    expect(page.status).toBe(200);
    const result = JSON.parse(/<script type="application\/json" id="switchboard-result">([^<]*)<\/script>/.exec(html)![1]!);
    expect(result.message).toMatchObject({ status: 'connected', connector: 'slack' });
    connectionId = result.message.connectionId;

    // Both processes can use it before the storm (and have warm caches and pools).
    for (const host of hosts) expect((await host.get(`/v1/proxy/${connectionId}/auth.test`)).body).toMatchObject({ ok: true });
  });

  afterAll(async () => {
    for (const api of apis) {
      if (api.child.exitCode === null && api.child.signalCode === null) {
        api.child.kill('SIGTERM');
        await api.exited;
      }
    }
    await db?.end();
    await redis?.quit();
    await sandbox?.close();
  });

  it(`${CALLS} concurrent calls on an expired token, 2 processes: exactly one refresh, every call succeeds`, async () => {
    await expire();
    const refreshesBefore = sandbox.oauth.refreshCount('slack');
    const eventsBefore = sandbox.oauth.events('slack').length;
    const callsBefore = sandbox.calls().length;

    const replies = await storm();

    expect(describeFailures(replies)).toEqual([]);
    expect(replies.filter((r) => r.status === 200 && r.body.ok === true)).toHaveLength(CALLS);
    expect(sandbox.oauth.refreshCount('slack') - refreshesBefore).toBe(1);
    // No refresh token was presented twice (reuse would have revoked the family).
    const events = sandbox.oauth.events('slack').slice(eventsBefore);
    expect(events).toEqual([expect.objectContaining({ grantType: 'refresh_token', outcome: 'issued' })]);
    expect(events.some((e) => e.familyRevoked)).toBe(false);

    // Upstream: one token request, then exactly one provider call per proxy call, all with the new token.
    const upstream = sandbox.calls().slice(callsBefore);
    expect(upstream.filter((c) => c.path === TOKEN_PATH)).toHaveLength(1);
    const apiCalls = upstream.filter((c) => c.path === '/api/auth.test');
    expect(apiCalls).toHaveLength(CALLS);
    expect(new Set(apiCalls.map((c) => c.headers.authorization)).size).toBe(1);
    expect(replies.every((r) => r.headers.get('x-switchboard-attempts') === '1')).toBe(true);

    const [row] = (await db.query(`SELECT expires_at, last_refreshed_at FROM connections WHERE id = $1`, [connectionId])).rows;
    expect(row.expires_at.getTime()).toBeGreaterThan(Date.now() + 3600_000);
    expect(row.last_refreshed_at).not.toBeNull();
    expect(await redis.exists(`refresh-lock:${connectionId}`)).toBe(0);
  });

  it('the token endpoint answering 503 once: the refresh is retried, once more, and every call still succeeds', async () => {
    await expire();
    const refreshesBefore = sandbox.oauth.refreshCount('slack');
    const eventsBefore = sandbox.oauth.events('slack').length;
    const callsBefore = sandbox.calls().length;
    const fault = sandbox.inject({ connector: 'slack', path: TOKEN_PATH, status: 503, times: 1 });

    const replies = await storm();

    expect(fault.remaining()).toBe(0);
    expect(describeFailures(replies)).toEqual([]);
    expect(replies.filter((r) => r.status === 200 && r.body.ok === true)).toHaveLength(CALLS);
    expect(sandbox.oauth.refreshCount('slack') - refreshesBefore).toBe(1);
    const events = sandbox.oauth.events('slack').slice(eventsBefore);
    expect(events).toEqual([expect.objectContaining({ grantType: 'refresh_token', outcome: 'issued' })]);
    // The 503, then the retry that spent the refresh token.
    expect(
      sandbox
        .calls()
        .slice(callsBefore)
        .filter((c) => c.path === TOKEN_PATH)
        .map((c) => c.status),
    ).toEqual([503, 200]);
    expect(await redis.exists(`refresh-lock:${connectionId}`)).toBe(0);
  });
});
