import { consentInSandbox, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { Client } from 'pg';
import { alive, CuttableProxy, PrivateRedis, Proc, run, stop, waitFor } from './child-processes';
import { createTenant, freePort, freshDatabase, TenantFixture, testEnv } from './harness';

export const HOST_ORIGIN = 'https://host.example';

/** The compiled API (and workers on demand) whose Redis, PostgreSQL connection and sandbox the test owns and may break. */
export interface BreakableDeployment {
  sandbox: Sandbox;
  redis: PrivateRedis;
  /** Between the processes and PostgreSQL: `cut()` is an outage. */
  proxy: CuttableProxy;
  env: Record<string, string>;
  url: string;
  api: Proc;
  /** Straight to this deployment's database (not through the proxy). */
  db: Client;
  tenant: TenantFixture;
  /** Every worker started so far, dead or alive. */
  workers: Set<Proc>;
  startWorker(): Promise<Proc>;
  close(): Promise<void>;
}

/**
 * Starts it with a database of its own (the recovery sweep looks at every run in its database, and
 * this deployment's Redis and master key must not pick up the runs of tests running beside it),
 * and a tenant with Slack on the sandbox, `flows` published, and each of `endUsers` connected to
 * Slack with every flow enabled.
 */
export async function startBreakableDeployment(options: {
  tenantName: string;
  env: Record<string, string>;
  flows: Array<{ key: string }>;
  endUsers: string[];
}): Promise<BreakableDeployment> {
  const sandbox = await startSandbox();
  const redis = new PrivateRedis(await freePort());
  await redis.start();
  const fresh = await freshDatabase();
  const database = new URL(fresh.url);
  const proxy = new CuttableProxy(await freePort(), { host: database.hostname, port: Number(database.port || 5432) });
  await proxy.open();
  const env = testEnv(await freePort(), {
    DATABASE_URL: Object.assign(new URL(database), { port: String(proxy.port) }).toString(),
    REDIS_URL: redis.url,
    SANDBOX_URL: sandbox.url,
    OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}`,
    MAINTENANCE_INTERVAL_SECONDS: '1',
    QUEUE_STALLED_INTERVAL_MS: '500',
    CONNECTION_RATE_LIMITS: 'false',
    LOG_LEVEL: 'info', // the worker's "ready" line
    ...options.env,
  });
  const url = env.PUBLIC_URL;
  const api = run('main.js', env);
  await waitFor(async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined), 60_000, 'API ready');
  const db = new Client({ connectionString: fresh.url });
  await db.connect();

  const tenant = await createTenant({ url, origin: url } as never, options.tenantName);
  await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
  const ok = (res: { status: number }, expected: number, what: string) => {
    if (res.status !== expected) throw new Error(`${what}: ${res.status}`);
  };
  ok(await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } }), 200, 'Slack on the sandbox');
  for (const definition of options.flows) {
    ok(await tenant.owner.post('/v1/admin/flow-templates', { definition }), 201, `create ${definition.key}`);
    ok(await tenant.owner.post(`/v1/admin/flow-templates/${definition.key}/publish`), 201, `publish ${definition.key}`);
  }
  for (const endUserId of options.endUsers) {
    const token = (await tenant.host.post('/v1/sessions', { endUserId })).body.token as string;
    const start = await fetch(`${url}/connect/slack?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
    const consented = await (await fetch(await consentInSandbox(start.headers.get('location')!))).text();
    if (!consented.includes('"connected"')) throw new Error(`connecting Slack for ${endUserId} failed`);
    for (const { key } of options.flows) ok(await tenant.host.post(`/v1/end-users/${endUserId}/flows/${key}/enable`, { settings: {} }), 200, `enable ${key}`);
  }

  const workers = new Set<Proc>();
  return {
    sandbox,
    redis,
    proxy,
    env,
    url,
    api,
    db,
    tenant,
    workers,
    async startWorker() {
      const p = run('worker.js', env);
      workers.add(p);
      await waitFor(() => (p.output().includes('Switchboard worker ready') ? true : alive(p) ? undefined : Promise.reject(new Error(p.output()))), 60_000, 'worker ready');
      return p;
    },
    async close() {
      for (const p of [...workers, api]) await stop(p);
      await db.end();
      await proxy.cut();
      await redis.kill();
      await sandbox.close();
      await fresh.drop();
    },
  };
}
