import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:net';
import { inject } from 'vitest';
import type { ApiOptions } from '../src/api.module';
import { AppConfig, loadConfig } from '../src/config/app-config';
import { createApi } from '../src/create-api';

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

export interface TestApi {
  url: string;
  origin: string;
  config: AppConfig;
  app: NestExpressApplication;
  logs: LogLine[];
  close(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A webhook endpoint on a free port: it records each request's headers and body and answers 204. */
export async function startReceiver(): Promise<{ port: number; received: { headers: IncomingHttpHeaders; body: string }[]; close(): Promise<void> }> {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The environment a test process gets: this run's database, a Redis prefix of its own, a fresh master key. */
export function testEnv(port: number, env: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: `${inject('redisPrefix')}:${randomBytes(4).toString('hex')}`,
    MASTER_KEY: randomBytes(32).toString('base64'),
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: 'info',
    ALLOW_SIGNUP: 'true',
    SIGNUP_MAX_PER_HOUR: '1000',
    ...env,
  };
}

/** A real API on a real port, talking to this run's PostgreSQL and Redis; its logs are captured. */
export async function startApi(env: Record<string, string> = {}, options: ApiOptions = {}): Promise<TestApi> {
  const port = await freePort();
  const config = loadConfig(testEnv(port, env));
  const logs: LogLine[] = [];
  const app = await createApi(config, {
    ...options,
    logDestination: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) },
  });
  await app.listen(port, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  return { url, origin: url, config, app, logs, close: () => app.close() };
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small HTTP client: JSON in, JSON out, remembers the session cookie like a browser would. */
export class Http {
  cookie?: string;

  constructor(
    readonly base: string,
    readonly options: { bearer?: string; origin?: string } = {},
  ) {}

  withBearer(bearer: string): Http {
    return new Http(this.base, { ...this.options, bearer });
  }

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    const init: RequestInit = { method, headers: { ...headers } };
    const h = init.headers as Record<string, string>;
    if (body !== undefined) {
      h['content-type'] ??= 'application/json';
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    if (this.options.bearer) h.authorization = `Bearer ${this.options.bearer}`;
    if (this.cookie) h.cookie = this.cookie;
    if (this.options.origin && method !== 'GET') h.origin ??= this.options.origin;
    const res = await fetch(this.base + path, init);
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('sb_session='));
    if (setCookie) {
      const value = setCookie.split(';')[0];
      this.cookie = value === 'sb_session=' ? undefined : value;
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>('GET', path, undefined, headers);
  }
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('POST', path, body ?? {}, headers);
  }
  put<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('PUT', path, body ?? {}, headers);
  }
  patch<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('PATCH', path, body ?? {}, headers);
  }
  delete<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>('DELETE', path, undefined, headers);
  }
}

let counter = 0;
export const uniqueEmail = (label = 'user') => `${label}-${Date.now().toString(36)}-${counter++}-${randomBytes(2).toString('hex')}@example.test`;

export interface TenantFixture {
  tenantId: string;
  email: string;
  password: string;
  /** The owner's browser, signed in. */
  owner: Http;
  /** A host backend with a fresh secret key. */
  host: Http;
  apiKeyId: string;
}

/** A tenant made the way a person makes one: sign up, then create a secret key in the admin API. */
export async function createTenant(api: TestApi, name = 'Tenant'): Promise<TenantFixture> {
  const owner = new Http(api.url, { origin: api.origin });
  const email = uniqueEmail('owner');
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const signup = await owner.post('/v1/signup', { tenantName: name, email, password });
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.status} ${JSON.stringify(signup.body)}`);
  const key = await owner.post('/v1/admin/api-keys', { name: 'test key' });
  if (key.status !== 201) throw new Error(`api key failed: ${key.status} ${JSON.stringify(key.body)}`);
  return {
    tenantId: signup.body.id,
    email,
    password,
    owner,
    host: new Http(api.url).withBearer(key.body.secret),
    apiKeyId: key.body.apiKey.id,
  };
}

/**
 * Another environment of `tenant` (created unless it exists), as a fixture of its own: the owner
 * signed in a second time with that environment active, and a secret key made in it. Protection is
 * lifted so tests can author flows there directly.
 */
export async function environmentOf(api: TestApi, tenant: TenantFixture, name: string): Promise<TenantFixture & { environmentId: string }> {
  const owner = new Http(api.url, { origin: api.origin });
  const login = await owner.post('/v1/auth/login', { email: tenant.email, password: tenant.password });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  let env = (login.body.environments as Array<{ id: string; name: string }>).find((e) => e.name === name);
  if (!env) {
    const created = await owner.post('/v1/admin/environments', { name });
    if (created.status !== 201) throw new Error(`environment failed: ${created.status} ${JSON.stringify(created.body)}`);
    env = created.body;
  }
  const switched = await owner.post('/v1/auth/switch-tenant', { tenantId: env!.id });
  if (switched.status !== 200) throw new Error(`switch failed: ${switched.status} ${JSON.stringify(switched.body)}`);
  const unprotected = await owner.patch(`/v1/admin/environments/${env!.id}`, { protected: false });
  if (unprotected.status !== 200) throw new Error(`unprotect failed: ${unprotected.status} ${JSON.stringify(unprotected.body)}`);
  const key = await owner.post('/v1/admin/api-keys', { name: `${name} key` });
  if (key.status !== 201) throw new Error(`api key failed: ${key.status} ${JSON.stringify(key.body)}`);
  return { ...tenant, tenantId: env!.id, environmentId: env!.id, owner, host: new Http(api.url).withBearer(key.body.secret), apiKeyId: key.body.apiKey.id };
}

/** Invites `email` with `role` and accepts the invitation in a fresh browser, returning that browser. */
export async function addMember(api: TestApi, tenant: TenantFixture, role: string, email = uniqueEmail(role)) {
  const invite = await tenant.owner.post('/v1/admin/members', { email, role });
  if (invite.status !== 201) throw new Error(`invite failed: ${invite.status} ${JSON.stringify(invite.body)}`);
  const browser = new Http(api.url, { origin: api.origin });
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const accepted = await browser.post('/v1/auth/accept-invite', { token: invite.body.inviteToken, password });
  if (accepted.status !== 200) throw new Error(`accept failed: ${accepted.status} ${JSON.stringify(accepted.body)}`);
  return { browser, email, password, membershipId: invite.body.member.id as string, userId: accepted.body.userId as string };
}

/** A database of its own (migrated), for tests that act on every row, like `vault rotate`. Dropped by `drop()`. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const { Client } = await import('pg');
  const { migrateUp } = await import('../src/database/migrate');
  const base = new URL(inject('databaseUrl'));
  const name = `${base.pathname.slice(1)}_${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: Object.assign(new URL(base), { pathname: '/postgres' }).toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = Object.assign(new URL(base), { pathname: `/${name}` }).toString();
  await migrateUp(url);
  return {
    url,
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** A worker (queue processors) in this process, sharing the API's configuration (same database, Redis prefix, master key). */
export async function startWorker(config: AppConfig): Promise<{ logs: LogLine[]; close(): Promise<void> }> {
  const { NestFactory } = await import('@nestjs/core');
  const { WorkerModule } = await import('../src/worker.module');
  const logs: LogLine[] = [];
  const app = await NestFactory.createApplicationContext(
    WorkerModule.forRoot(config, {
      logDestination: {
        write: (line: string) => {
          logs.push(JSON.parse(line) as LogLine);
          // DEBUG_WORKER=1 shows the worker's warnings and errors while a test is written.
          if (process.env.DEBUG_WORKER && (logs[logs.length - 1]!.level ?? 0) >= 40) process.stderr.write(line);
        },
      },
    }),
    { logger: false },
  );
  await app.init();
  return { logs, close: () => app.close() };
}

/** Resolves with the first truthy answer of `probe` (asked every 100 ms); fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * An end user connects a sandbox provider the way the popup does (session, /connect, the sandbox's
 * consent page), as `account` of the provider's sandbox accounts; answers the new connection's id.
 */
export async function connectInSandbox(
  api: { url: string },
  tenant: TenantFixture,
  connector: string,
  endUserId: string,
  options: { origin: string; account?: number },
): Promise<string> {
  const token = (await tenant.host.post('/v1/sessions', { endUserId })).body.token as string;
  const start = await fetch(`${api.url}/connect/${connector}?${new URLSearchParams({ session: token, origin: options.origin })}`, { redirect: 'manual' });
  const { consentInSandbox } = await import('@switchboard/connectors/dist/sandbox');
  const page = await (await fetch(await consentInSandbox(start.headers.get('location')!, { account: options.account }))).text();
  const id = /"connectionId":"([0-9a-f-]{36})"/.exec(page)?.[1];
  if (!id) throw new Error(`connecting ${connector} for ${endUserId} did not finish: ${page.slice(0, 300)}`);
  return id;
}

/**
 * Makes every poll trigger due now (a test's clock, instead of waiting an interval or a backoff)
 * and waits until each has its outcome: a claim moves `next_poll_at` but not `updated_at`; every
 * outcome (items, none, a failure) sets `updated_at`.
 */
export async function pollNow(db: { query(sql: string, params?: unknown[]): Promise<any> }): Promise<void> {
  const [{ at }] = await db.query(`SELECT now()::text AS at`);
  await db.query(`UPDATE flow_instance_triggers SET next_poll_at = now() WHERE type = 'poll' AND next_poll_at IS NOT NULL`);
  await until('the polls', async () => {
    const [row] = await db.query(`SELECT count(*)::int AS n FROM flow_instance_triggers WHERE type = 'poll' AND next_poll_at IS NOT NULL AND updated_at <= $1::timestamptz`, [at]);
    return row.n === 0;
  });
}

/**
 * After a test changed a connection row behind the API's back: the in-process API forgets its copy
 * now, instead of a few milliseconds later when PostgreSQL's announcement arrives (connection-cache.ts).
 */
export async function connectionChanged(api: TestApi, connectionId: string): Promise<void> {
  const { CredentialsService } = await import('../src/connections/credentials.service');
  api.app.get(CredentialsService).forget(connectionId);
}
