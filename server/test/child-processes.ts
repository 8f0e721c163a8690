import { ChildProcess, spawn } from 'node:child_process';
import { connect, createServer, Server, Socket } from 'node:net';
import { join } from 'node:path';

/** Helpers of the tests that run the compiled API and workers as real processes and break what they depend on. */

const DIST = join(__dirname, '..', 'dist');

export interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

/** Starts `dist/<script>` with exactly `env` (plus PATH); keeps the last 50 KB of its output. */
export function run(script: string, env: Record<string, string>): Proc {
  let output = '';
  const child = spawn(process.execPath, [join(DIST, script)], { env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv });
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-50_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, output: () => output, exited };
}

export const alive = (p: Proc) => p.child.exitCode === null && p.child.signalCode === null;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve(probe()).catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** SIGTERM, then SIGKILL after 10 s. */
export async function stop(p: Proc | undefined): Promise<void> {
  if (!p || !alive(p)) return;
  p.child.kill('SIGTERM');
  await Promise.race([p.exited, sleep(10_000).then(() => p.child.kill('SIGKILL'))]);
}

/**
 * A Redis of the test's own (never the shared one): no persistence, so a restart comes back empty,
 * like a cache-configured Redis that lost its memory.
 */
export class PrivateRedis {
  private proc: ChildProcess | null = null;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = child;
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor(
      () => (out.includes('Ready to accept connections') ? true : child.exitCode !== null ? Promise.reject(new Error(out)) : undefined),
      10_000,
      `redis-server on ${this.port}`,
    );
  }

  /** SIGSTOP / SIGCONT: connections stay open, commands wait (a Redis stalled, not gone). */
  pause(paused: boolean): void {
    this.proc?.kill(paused ? 'SIGSTOP' : 'SIGCONT');
  }

  /** SIGKILL: everything it held is gone. */
  async kill(): Promise<void> {
    const child = this.proc;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    this.proc = null;
  }
}

/**
 * A TCP proxy in front of the shared PostgreSQL that the test can cut (every connection dropped,
 * new ones refused) and restore. The shared server itself is never touched.
 */
export class CuttableProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Drops every connection and refuses new ones until `open()`. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
