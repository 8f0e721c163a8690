/**
 * The expression sandbox: a small pool of child processes that evaluate tenant-authored expressions
 * (and regular expressions) under hard bounds on time and memory.
 *
 * Why processes, not worker_threads: a worker thread's `resourceLimits` are enforced by a near-heap-
 * limit callback that only grants 16 MB of leeway, so one allocation larger than that (`$pad("",
 * 200000000)`) aborts the whole process (V8 "Reached heap limit" is fatal). A child process that
 * aborts takes nothing else down; the parent sees it exit and starts a fresh one.
 *
 * - Each child runs with `--max-old-space-size` / `--max-semi-space-size`, an empty environment (no
 *   secrets, no NODE_OPTIONS) and no inherited exec flags; it compiles and caches JSONata itself.
 * - One job at a time per child. The parent starts a wall-clock timer when it hands a job over and
 *   SIGKILLs the child on overrun (a native regex or a huge join cannot be interrupted otherwise).
 * - Bindings go in as one JSON string (its size is checked first); results come back as one JSON
 *   string (its size is checked in the child, before it is sent).
 * - Children start lazily, are unref'ed while idle (they never keep a process alive) and exit when
 *   their parent goes away (IPC disconnect).
 *
 * This module knows nothing of JSONata; expressions.ts turns its replies into values and errors.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';

/** The bounds (read-only outside configureExpressionSandbox). */
export const EXPRESSION_LIMITS = {
  /** Compiled expressions kept (per process, and per sandbox child). */
  cacheSize: 5000,
  /** Wall-clock budget of one evaluation: one template (all its expressions) or one pattern test. */
  timeoutMs: 1000,
  /** Slack after the budget before the child is killed (JSONata's own check usually fires first). */
  killGraceMs: 100,
  /** Nesting of JSONata evaluation (deep non-tail recursion fails with D1011). */
  maxDepth: 1000,
  /** JS heap of a sandbox child (old generation), in MB. */
  memoryMb: 128,
  /** Young generation (semi-space) of a sandbox child, in MB. */
  youngMemoryMb: 16,
  /** Largest JSON of the bindings handed to one evaluation. */
  maxBindingsBytes: 8 * 1024 * 1024,
  /** Largest JSON result of one evaluation (the default BODY_LIMIT; step outputs are further capped at 256 KB). */
  maxResultBytes: 1024 * 1024,
  /** Sandbox children per process. */
  processes: Math.max(1, Math.min(2, availableParallelism())),
};

/**
 * Changes the time budget or the memory of the sandbox (tests; the defaults are the product's).
 * Running children are replaced, so the next evaluation sees the new bounds.
 */
export async function configureExpressionSandbox(change: Partial<Pick<typeof EXPRESSION_LIMITS, 'timeoutMs' | 'memoryMb'>>): Promise<void> {
  await stopExpressionSandbox();
  Object.assign(EXPRESSION_LIMITS, change);
}

/** The failure codes of the bounds above (what a failed run's error shows). */
export const EXPRESSION_LIMIT_CODES = ['expression_timeout', 'expression_memory_exceeded', 'expression_result_too_large', 'expression_input_too_large'] as const;
export type ExpressionLimitCode = (typeof EXPRESSION_LIMIT_CODES)[number];

export function isExpressionLimitCode(code: unknown): code is ExpressionLimitCode {
  return (EXPRESSION_LIMIT_CODES as readonly unknown[]).includes(code);
}

export type SandboxJob = { op: 'template'; template: unknown; bindings: string } | { op: 'test'; pattern: string; value: string };

/** An evaluation error as the child reports it (the fields of ExpressionError). */
export interface SandboxErrorInfo {
  message: string;
  expression?: string;
  code?: string;
  position?: number;
  path?: string;
}

export type SandboxReply =
  | { ok: true; json?: string }
  | { ok: false; error: SandboxErrorInfo }
  /** A bound was hit: `expression`/`path` name the expression when the child knows it, `bytes` the size. */
  | { ok: false; limit: ExpressionLimitCode; bytes?: number; expression?: string; path?: string };

interface Pending {
  job: SandboxJob;
  key: string;
  /** Set once the job was lost to a child's unexplained death: a second loss fails it. */
  retried?: boolean;
  resolve(reply: SandboxReply): void;
  reject(error: Error): void;
}

interface Child {
  process: ChildProcess;
  ready: boolean;
  /** The job in flight, and its kill timer. */
  busy?: { pending: Pending; timer: NodeJS.Timeout; startedAt: number };
  /** Tail of stderr: tells an out-of-memory abort from other deaths. */
  stderr: string;
  dead: boolean;
}

/** server/{src,dist}/flows/definition → server/dist/flows/definition (tests run the sources, the child is always the build). */
const CHILD_FILE = resolve(__dirname, '..', '..', '..', 'dist', 'flows', 'definition', 'expression-sandbox-child.js');
const BOOT_TIMEOUT_MS = 15_000;
const OUT_OF_MEMORY = /heap out of memory|invalid size error|Invalid (array|string|typed array) length|allocation failed/i;

const children = new Set<Child>();
/**
 * Jobs waiting for a child, by fairness key (the engine passes the tenant), taken round-robin: a
 * tenant flooding the sandbox with slow expressions delays another tenant's next job by at most
 * one budget, not by its whole backlog. Map order is the rotation: a key served moves to the back.
 */
const waiting = new Map<string, Pending[]>();
let waitingCount = 0;

function nextWaiting(): Pending | undefined {
  for (const [key, jobs] of waiting) {
    waiting.delete(key);
    const pending = jobs.shift()!;
    if (jobs.length) waiting.set(key, jobs);
    waitingCount--;
    return pending;
  }
  return undefined;
}

function rejectWaiting(error: Error): void {
  for (let pending = nextWaiting(); pending; pending = nextWaiting()) pending.reject(error);
}
/** Set while stopExpressionSandbox kills the children: they are not replaced. */
let stopping = false;

/**
 * Runs one job in a sandbox child. Resolves with the child's reply, or a `limit` reply when the job
 * ran out of time or memory; rejects only when the sandbox itself cannot run (not built, cannot start).
 */
export function runInSandbox(job: SandboxJob, fairnessKey = ''): Promise<SandboxReply> {
  return new Promise((resolve, reject) => {
    enqueue({ job, key: fairnessKey, resolve, reject });
    dispatch();
  });
}

function enqueue(pending: Pending, first = false): void {
  const jobs = waiting.get(pending.key);
  if (!jobs) waiting.set(pending.key, [pending]);
  else if (first) jobs.unshift(pending);
  else jobs.push(pending);
  waitingCount++;
}

/** Kills every sandbox child (tests, shutdown). Jobs in flight fail as if they crashed. */
export async function stopExpressionSandbox(): Promise<void> {
  stopping = true;
  const exits = [...children].map(
    (child) =>
      new Promise<void>((done) => {
        if (child.process.exitCode !== null || child.process.signalCode !== null) return done();
        child.process.once('exit', () => done());
        child.process.kill('SIGKILL');
      }),
  );
  await Promise.all(exits);
  stopping = false;
  dispatch(); // jobs that arrived meanwhile get fresh children
}

/** Process ids of the live sandbox children, or of those running a job (tests). */
export function sandboxPids(only: 'all' | 'busy' = 'all'): number[] {
  return [...children].filter((c) => !c.dead && (only === 'all' || c.busy)).map((c) => c.process.pid!);
}

function dispatch(): void {
  while (waitingCount) {
    const child = [...children].find((c) => c.ready && !c.busy && !c.dead);
    if (!child) {
      let starting = [...children].filter((c) => !c.ready).length;
      while (children.size < EXPRESSION_LIMITS.processes && starting < waitingCount) {
        start();
        starting++;
      }
      return;
    }
    const pending = nextWaiting()!;
    const timer = setTimeout(() => overrun(child), EXPRESSION_LIMITS.timeoutMs + EXPRESSION_LIMITS.killGraceMs);
    child.busy = { pending, timer, startedAt: Date.now() };
    setRef(child, true);
    child.process.send(pending.job, (error) => {
      if (error && child.busy?.pending === pending) settle(child, () => pending.reject(error));
    });
  }
}

function start(): void {
  if (!existsSync(CHILD_FILE)) {
    const error = new Error(`The expression sandbox is not built (${CHILD_FILE} is missing): run npm run build`);
    rejectWaiting(error);
    return;
  }
  const proc = fork(CHILD_FILE, [String(EXPRESSION_LIMITS.timeoutMs)], {
    execArgv: [`--max-old-space-size=${EXPRESSION_LIMITS.memoryMb}`, `--max-semi-space-size=${EXPRESSION_LIMITS.youngMemoryMb}`],
    env: {},
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  const child: Child = { process: proc, ready: false, stderr: '', dead: false };
  children.add(child);
  // A spare started after a death must not keep this process alive; one a job waits for must.
  if (!waitingCount) setRef(child, false);
  const boot = setTimeout(() => {
    proc.kill('SIGKILL');
    rejectWaiting(new Error('The expression sandbox did not start'));
  }, BOOT_TIMEOUT_MS);
  boot.unref();
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (text: string) => {
    child.stderr = (child.stderr + text).slice(-4096);
  });
  proc.on('message', (message: { ready?: true } & SandboxReply) => {
    if (child.dead) return;
    if (message.ready) {
      clearTimeout(boot);
      child.ready = true;
      setRef(child, false);
      dispatch();
      return;
    }
    const busy = child.busy;
    if (busy) settle(child, () => busy.pending.resolve(message));
  });
  proc.on('error', () => {
    // 'exit' follows (or the spawn failed: then no child exists and 'exit' still fires with a code).
  });
  proc.on('exit', (code, signal) => {
    clearTimeout(boot);
    const busy = child.busy;
    const outOfMemory = OUT_OF_MEMORY.test(child.stderr);
    child.dead = true;
    children.delete(child);
    const why = `${signal ? `signal ${signal}` : `exit code ${code}`}, ${child.stderr.trim().split('\n').pop() || 'no output'}`;
    if (busy) {
      clearTimeout(busy.timer);
      child.busy = undefined;
      if (outOfMemory) busy.pending.resolve({ ok: false, limit: 'expression_memory_exceeded' });
      // Past its budget (the child's watchdog was quicker than our timer, on a starved machine): a timeout.
      else if (Date.now() - busy.startedAt >= EXPRESSION_LIMITS.timeoutMs) busy.pending.resolve({ ok: false, limit: 'expression_timeout' });
      // Killed from outside (the OOM killer…) within its budget: the job is not to blame; once more on a fresh child.
      else if (!busy.pending.retried && !stopping) enqueue({ ...busy.pending, retried: true }, true);
      else busy.pending.reject(new Error(`The expression sandbox stopped unexpectedly (${why})`));
    }
    if (!child.ready) {
      // Died while booting: a broken build, not an expression. Fail what waits; do not respawn in a loop.
      if (!stopping) rejectWaiting(new Error(`The expression sandbox did not start: ${why}`));
      return;
    }
    replace();
  });
}

/** The job ran past its budget: kill the child (the only way to stop a native regex) and report. */
function overrun(child: Child): void {
  const busy = child.busy;
  if (!busy) return;
  child.busy = undefined;
  child.dead = true;
  children.delete(child);
  child.process.kill('SIGKILL');
  busy.pending.resolve({ ok: false, limit: 'expression_timeout' });
  replace();
}

/** After a child died or was killed: start its successor now, so the next job does not wait for a boot. */
function replace(): void {
  if (!stopping && children.size < EXPRESSION_LIMITS.processes && existsSync(CHILD_FILE)) start();
  dispatch();
}

function settle(child: Child, finish: () => void): void {
  clearTimeout(child.busy!.timer);
  child.busy = undefined;
  setRef(child, false);
  finish();
  dispatch();
}

/** An idle child must not keep its parent alive; a busy one must (its caller awaits the answer). */
function setRef(child: Child, busy: boolean): void {
  const handles = [child.process, child.process.channel, child.process.stderr] as Array<{ ref?(): void; unref?(): void } | null | undefined>;
  for (const handle of handles) (busy ? handle?.ref : handle?.unref)?.call(handle);
}
