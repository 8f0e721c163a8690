import { consentInSandbox, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionChanged, createTenant, freePort, TenantFixture, startApi, TestApi } from './harness';

const HOST_ORIGIN = 'https://host.example';

/**
 * `npm run demo` restarts: the sandbox providers come back with the tokens they issued (kept in a
 * state file), so the connections Switchboard holds keep working, through the proxy and through a
 * token refresh, without the end user reconnecting.
 */
describe('sandbox restarts with a state file', () => {
  let dir: string;
  let port: number;
  let sandbox: Sandbox;
  let api: TestApi;
  let tenant: TenantFixture;

  const start = (stateFile?: string) => startSandbox({ port, stateFile, warn: (m) => warnings.push(m) });
  const warnings: string[] = [];

  async function connectSlack(endUserId: string): Promise<string> {
    const session = (await tenant.host.post('/v1/sessions', { endUserId })).body.token;
    const begin = await fetch(`${api.url}/connect/slack?${new URLSearchParams({ session, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
    expect(begin.status).toBe(302);
    const page = await (await fetch(await consentInSandbox(begin.headers.get('location')!))).text();
    return /"connectionId":"([0-9a-f-]{36})"/.exec(page)![1]!;
  }

  const post = (connectionId: string, text: string) => tenant.host.post(`/v1/proxy/${connectionId}/chat.postMessage`, { channel: 'C0000LFLS', text });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-sandbox-'));
    port = await freePort();
    sandbox = await start(join(dir, 'sandbox.json'));
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${port}` });
    tenant = await createTenant(api, 'Restart Co');
    expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] })).status).toBe(200);
    expect((await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
  });
  afterAll(async () => {
    await api?.close();
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps issued tokens and provider data across a restart, and refreshes with the kept refresh token', async () => {
    const file = join(dir, 'sandbox.json');
    const connectionId = await connectSlack('alice');
    const general = sandbox.state.slack.channels.find((c) => c.name === 'general')!;
    const before = await tenant.host.post(`/v1/proxy/${connectionId}/chat.postMessage`, { channel: general.id, text: 'before the restart' });
    expect(before.status, JSON.stringify(before.body)).toBe(200);
    expect(before.body.ok).toBe(true);

    await sandbox.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    sandbox = await start(file);

    // The same access token still works through the proxy, and the data is still there. (A read
    // first: the API's kept-alive socket to the old process is dead, and only a read is retried on it.)
    expect((await tenant.host.get(`/v1/proxy/${connectionId}/auth.test`)).body.ok).toBe(true);
    const after = await tenant.host.post(`/v1/proxy/${connectionId}/chat.postMessage`, { channel: general.id, text: 'after the restart' });
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect(after.body.ok).toBe(true);
    expect(sandbox.state.slack.messages.map((m) => m.text)).toEqual(['before the restart', 'after the restart']);
    expect(sandbox.oauth.refreshCount('slack')).toBe(0);

    // Once expired, the access token is refreshed with the refresh token issued before the restart.
    await sandbox.close();
    sandbox = await start(file);
    sandbox.oauth.expireAccessTokens('slack');
    await api.app.get(DataSource).query(`UPDATE connections SET expires_at = now() - interval '1 minute' WHERE id = $1`, [connectionId]);
    await connectionChanged(api, connectionId);
    const refreshed = await tenant.host.get(`/v1/proxy/${connectionId}/auth.test`);
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    expect(sandbox.oauth.refreshCount('slack')).toBe(1);
    expect((await tenant.host.get(`/v1/connections/${connectionId}`)).body.status).toBe('active');
    expect(warnings).toEqual([]);
  });

  it('forgets everything without a state file (tests stay in memory), and starts fresh from an unreadable one', async () => {
    const connectionId = await connectSlack('bob');
    await sandbox.close();
    sandbox = await start();
    const refused = await tenant.host.get(`/v1/proxy/${connectionId}/auth.test`);
    expect(refused.body).toMatchObject({ ok: false, error: 'invalid_auth' });

    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"version": 1, "oauth": ');
    await sandbox.close();
    sandbox = await start(broken);
    expect(warnings).toEqual([expect.stringContaining(`Sandbox state file ${broken} could not be read`)]);
    expect(sandbox.state.slack.messages).toEqual([]);
    // The next change rewrites it whole.
    sandbox.oauth.issueTokens('slack');
    await sandbox.close();
    expect(JSON.parse(readFileSync(broken, 'utf8'))).toMatchObject({ version: 1, oauth: { accessTokens: [expect.objectContaining({ connector: 'slack' })] } });
    sandbox = await start(broken);
  });
});
