import { Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionCache } from '../src/connections/connection-cache';
import { connectInSandbox, createTenant, Http, startApi, TenantFixture, TestApi, until } from './harness';

/**
 * The API keeps proxied connections (credentials decrypted) in memory; PostgreSQL announces every
 * change at commit and the entry goes. A change made with triggers off (no announcement) shows the
 * cache is real; every other change must be seen at once.
 */
const HOST = 'https://host.example';

describe('connections kept in memory by the proxy', () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let tenant: TenantFixture;
  let db: Client;
  let connectionId: string;

  const proxied = () => tenant.host.get(`/v1/proxy/${connectionId}/auth.test`);
  /** A change PostgreSQL does not announce: triggers off for this statement's session. */
  const unannounced = async (sql: string) => {
    await db.query(`SET session_replication_role = replica`);
    try {
      await db.query(sql, [connectionId]);
    } finally {
      await db.query(`SET session_replication_role = DEFAULT`);
    }
  };

  /**
   * PostgreSQL's announcements reach this API seconds late, as they may on a loaded box: what this
   * process changed itself must be seen on its next read all the same. Returns the undo.
   */
  const announcementsLate = () => {
    const client = (api.app.get(ConnectionCache) as unknown as { client: Client }).client;
    const [deliver] = client.listeners('notification') as Array<(n: unknown) => void>;
    client.removeAllListeners('notification');
    client.on('notification', (n) => setTimeout(() => deliver(n), 3_000));
    return () => {
      client.removeAllListeners('notification');
      client.on('notification', deliver);
    };
  };

  beforeAll(async () => {
    sandbox = await startSandbox();
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    db = new Client({ connectionString: api.config.database.url });
    await db.connect();
    tenant = await createTenant(api, 'Cache Co');
    await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST] });
    await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true, endUserProxy: true } });
    await tenant.host.put('/v1/end-users/ann', {});
    connectionId = await connectInSandbox(api, tenant, 'slack', 'ann', { origin: HOST });
  });
  afterAll(async () => {
    await db?.end();
    await api?.close();
    await sandbox?.close();
  });

  it('serves a proxied call from memory, and drops it as soon as the row changes', async () => {
    expect((await proxied()).status).toBe(200);
    // Unannounced, the change is not seen: the connection came from memory.
    await unannounced(`UPDATE connections SET status = 'needs_reauth' WHERE id = $1`);
    expect((await proxied()).status).toBe(200);
    // Announced (any ordinary write), it is seen on the next call.
    await db.query(`UPDATE connections SET last_error = 'checked' WHERE id = $1`, [connectionId]);
    await until('the change to be seen', async () => ((await proxied()).status === 409 ? true : undefined), 10_000);
    expect((await proxied()).body.error.code).toBe('connection_needs_reauth');
    await db.query(`UPDATE connections SET status = 'active', last_error = NULL WHERE id = $1`, [connectionId]);
    await until('the connection to work again', async () => ((await proxied()).status === 200 ? true : undefined), 10_000);
  });

  it("sees at once what this process changed: the connector's settings, a revocation, an end user's deletion", async () => {
    const onTime = announcementsLate();
    try {
      const session = (await tenant.host.post('/v1/sessions', { endUserId: 'ann' })).body.token as string;
      const ann = new Http(api.url, { bearer: session, origin: HOST });
      expect((await ann.get(`/v1/proxy/${connectionId}/auth.test`)).status).toBe(200);
      expect((await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true, endUserProxy: false } })).status).toBe(200);
      expect((await ann.get(`/v1/proxy/${connectionId}/auth.test`)).status).toBe(403);

      expect((await proxied()).status).toBe(200);
      expect((await tenant.host.delete(`/v1/connections/${connectionId}`)).status).toBeLessThan(300);
      expect((await proxied()).status).toBe(404);

      await tenant.host.put('/v1/end-users/bob', {});
      const bobs = await connectInSandbox(api, tenant, 'slack', 'bob', { origin: HOST });
      expect((await tenant.host.get(`/v1/proxy/${bobs}/auth.test`)).status).toBe(200);
      expect((await tenant.host.delete('/v1/end-users/bob')).status).toBe(204);
      expect((await tenant.host.get(`/v1/proxy/${bobs}/auth.test`)).status).toBe(404);
    } finally {
      onTime();
    }
    connectionId = await connectInSandbox(api, tenant, 'slack', 'ann', { origin: HOST });
  });

  it('keeps nothing while the announcements are lost, and caches again once they are back', async () => {
    expect((await proxied()).status).toBe(200);
    const killed = await db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN switchboard_connections' AND datname = current_database() AND pid <> pg_backend_pid()`,
    );
    expect(killed.rowCount).toBeGreaterThan(0);
    // Not listening: an unannounced change is seen at once, because nothing is kept.
    await unannounced(`UPDATE connections SET status = 'needs_reauth' WHERE id = $1`);
    await until('the unannounced change to be seen', async () => ((await proxied()).status === 409 ? true : undefined), 10_000);
    await unannounced(`UPDATE connections SET status = 'active' WHERE id = $1`);
    // Listening again (within a second or two): cached again, which an unannounced change shows.
    // When it does not, the cache's own lines say whether it tried to listen again and why it failed.
    const cacheLines = () => JSON.stringify(api.logs.filter((line) => JSON.stringify(line).includes('ConnectionCache')));
    await until(
      'caching again',
      async () => {
        await unannounced(`UPDATE connections SET status = 'active' WHERE id = $1`);
        if ((await proxied()).status !== 200) return undefined;
        await unannounced(`UPDATE connections SET status = 'needs_reauth' WHERE id = $1`);
        return (await proxied()).status === 200 ? true : undefined;
      },
      // Listening again takes a second after the loss; a loaded CI box takes longer.
      20_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; the cache's log lines: ${cacheLines()}`);
    });
    await db.query(`UPDATE connections SET status = 'active' WHERE id = $1`, [connectionId]);
  });
});
