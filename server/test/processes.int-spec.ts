import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, freePort, Http, testEnv } from './harness';

const DIST = join(__dirname, '..', 'dist');

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function run(script: string, env: Record<string, string | undefined>, args: string[] = []): Proc {
  let output = '';
  const child = spawn(process.execPath, [join(DIST, script), ...args], { env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv });
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
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

describe('the compiled processes', () => {
  let env: Record<string, string>;
  let api: Proc;
  let worker: Proc;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    env = testEnv(port, { MAINTENANCE_INTERVAL_SECONDS: '1', LOG_LEVEL: 'info' });
    url = env.PUBLIC_URL;
    api = run('main.js', env);
    await waitFor(async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined));
  });
  afterAll(async () => {
    for (const p of [api, worker]) {
      if (p && p.child.exitCode === null) {
        p.child.kill('SIGTERM');
        await p.exited;
      }
    }
  });

  it('the API enqueues maintenance into Redis and a separate worker process runs it', async () => {
    const tenant = await createTenant({ url, origin: url } as never, 'Process Co');
    const db = new (await import('pg')).Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    try {
      const sessionsOf = async () =>
        (await db.query(`SELECT count(*)::int AS n FROM member_sessions s JOIN users u ON u.id = s.user_id WHERE u.email = $1`, [tenant.email])).rows[0].n;
      expect(await sessionsOf()).toBe(1);
      // A cancelled invitation leaves a user who never had a password: maintenance removes it.
      const invitedEmail = `cancelled-${randomBytes(3).toString('hex')}@example.test`;
      const invite = await tenant.owner.post('/v1/admin/members', { email: invitedEmail, role: 'viewer' });
      expect((await tenant.owner.delete(`/v1/admin/members/${invite.body.member.id}`)).status).toBe(204);
      const usersNamed = async (email: string) => (await db.query(`SELECT count(*)::int AS n FROM users WHERE email = $1`, [email])).rows[0].n;
      expect(await usersNamed(invitedEmail)).toBe(1);
      await db.query(`UPDATE member_sessions SET expires_at = now() - interval '1 minute' WHERE user_id = (SELECT id FROM users WHERE email = $1)`, [tenant.email]);

      // Nothing consumes the queue until a worker runs.
      await new Promise((r) => setTimeout(r, 1500));
      expect(await sessionsOf()).toBe(1);

      worker = run('worker.js', env);
      await waitFor(async () => ((await sessionsOf()) === 0 ? true : undefined));
      await waitFor(async () => ((await usersNamed(invitedEmail)) === 0 ? true : undefined));
      await waitFor(async () => (worker.output().includes('purged expired rows') ? true : undefined));
      expect(await usersNamed(tenant.email)).toBe(1);
      expect(await new Http(url).get('/v1/auth/me', { cookie: tenant.owner.cookie! })).toMatchObject({ status: 401 });
    } finally {
      await db.end();
    }
  });

  it('writes one JSON log line per request with the request id', async () => {
    await fetch(`${url}/v1/nope`, { headers: { 'x-request-id': 'proc-log-1' } });
    const line = await waitFor(async () =>
      api
        .output()
        .split('\n')
        .find((l) => l.includes('"proc-log-1"') && l.includes('request completed')),
    );
    expect(JSON.parse(line)).toMatchObject({ req: { id: 'proc-log-1', method: 'GET' }, res: { statusCode: 404 } });
  });

  it('stops cleanly on SIGTERM: closes its connections, then re-raises the signal (Nest shutdown hooks)', async () => {
    const started = Date.now();
    api.child.kill('SIGTERM');
    await api.exited;
    expect(api.child.signalCode).toBe('SIGTERM');
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});

describe('configuration errors stop the process with a message naming the variable', () => {
  it.each([
    ['DATABASE_URL', undefined, 'DATABASE_URL: is required'],
    ['DATABASE_URL', 'mysql://x', 'DATABASE_URL: must be a postgres:// URL'],
    ['PORT', 'eighty', 'PORT:'],
    ['MASTER_KEY', 'too-short', 'MASTER_KEY: must be 32 random bytes'],
    ['REDIS_URL', 'http://localhost', 'REDIS_URL: must be a redis://'],
    ['BODY_LIMIT', 'lots', 'BODY_LIMIT: must be a size'],
  ])('%s=%s', async (name, value, message) => {
    const env: Record<string, string | undefined> = testEnv(1, {});
    env[name] = value;
    for (const script of ['main.js', 'worker.js']) {
      const proc = run(script, env);
      expect(await proc.exited).toBe(78);
      expect(proc.output()).toContain(message);
      if (env.MASTER_KEY) expect(proc.output()).not.toContain(env.MASTER_KEY);
    }
  });
});

describe('operator CLI', () => {
  it('create-tenant makes a tenant with its owner and a first key that work over HTTP', async () => {
    const port = await freePort();
    const env = testEnv(port);
    const email = `cli-${randomBytes(3).toString('hex')}@example.test`;
    const cli = run('cli/main.js', env, ['create-tenant', '--name', 'CLI Co', '--email', email, '--api-key', 'bootstrap']);
    expect(await cli.exited).toBe(0);
    const result = JSON.parse(cli.output().slice(cli.output().indexOf('{')));
    expect(result).toMatchObject({ email, slug: 'cli-co', password: expect.any(String), apiKey: expect.stringMatching(/^sk_/) });

    const server = run('main.js', env);
    try {
      await waitFor(async () => ((await fetch(`${env.PUBLIC_URL}/readyz`)).ok ? true : undefined));
      const login = await new Http(env.PUBLIC_URL).post('/v1/auth/login', { email, password: result.password });
      expect(login.body).toMatchObject({ activeTenantId: result.tenantId, memberships: [{ role: 'owner' }] });
      expect((await new Http(env.PUBLIC_URL).withBearer(result.apiKey).get('/v1/end-users')).status).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }

    const again = run('cli/main.js', env, ['create-tenant', '--name', 'CLI Co', '--slug', 'cli-co', '--email', email]);
    expect(await again.exited).toBe(1);
    expect(again.output()).toContain('The slug "cli-co" is taken');
  });

  it('migrate status lists every migration as applied', async () => {
    const cli = run('cli/main.js', testEnv(1), ['migrate', 'status']);
    expect(await cli.exited).toBe(0);
    const lines = cli.output().trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.every((l) => l.startsWith('[x] '))).toBe(true);
  });
});
