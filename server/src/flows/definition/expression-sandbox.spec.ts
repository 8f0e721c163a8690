import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveSettings } from '../settings';
import { AppError } from '../../common/errors/app-error';
import { configureExpressionSandbox, sandboxPids, stopExpressionSandbox } from './expression-sandbox';
import { Bindings, evaluate, EXPRESSION_LIMITS, ExpressionError, matchesPattern } from './expressions';

/**
 * The expression sandbox against real abuse: real child processes, real catastrophic regexes and
 * allocation bombs. Needs the build (the sandbox child runs from dist/).
 */
const bindings = (over: Partial<Bindings> = {}): Bindings => ({
  trigger: { deal: { amount: 25000, name: 'Acme' }, items: [1, 2, 3] },
  inputs: {},
  steps: {},
  endUser: { id: 'eu_1' },
  run: { id: 'run_1' },
  ...over,
});
// Backtracks 2^30 times: about half a minute on this box, far past any budget here (27 took 4.4 s,
// inside the 5 s budget of the concurrency test on a quiet box).
const REGEX_BOMB = '=$match("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /^(a+)+$/)';
const PAD_BOMB = '=$length($pad("", 200000000))';

async function failure(promise: Promise<unknown>): Promise<ExpressionError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ExpressionError);
    return error as ExpressionError;
  }
  throw new Error('expected the evaluation to fail');
}

afterAll(() => stopExpressionSandbox());

/** Both children up and idle, so a timing below measures the evaluation, not a boot. */
async function warm(): Promise<void> {
  await Promise.all([1, 2, 3, 4].map((n) => evaluate(`=$sum($trigger.items) + ${n}`, bindings())));
}

describe('expression sandbox bounds', () => {
  it('stops a catastrophic regex at the time budget (a native regex JSONata cannot interrupt) and replaces the child', async () => {
    await warm();
    const before = sandboxPids();
    const started = Date.now();
    const error = await failure(evaluate({ text: { slow: REGEX_BOMB } }, bindings()));
    const elapsed = Date.now() - started;
    expect(error.code).toBe('expression_timeout');
    expect(error.path).toBe('text.slow');
    expect(error.message).toBe(`Expression "${REGEX_BOMB}" ran longer than the 1000 ms an evaluation may take`);
    expect(elapsed).toBeGreaterThanOrEqual(EXPRESSION_LIMITS.timeoutMs);
    expect(elapsed).toBeLessThan(EXPRESSION_LIMITS.timeoutMs + 1000);
    // The pool recovers: the killed child is gone, the next evaluation gets an answer.
    expect(await evaluate('=$sum($trigger.items)', bindings())).toBe(6);
    expect(before.filter((pid) => !sandboxPids().includes(pid)).length).toBe(1);
  });

  it('stops an allocation bomb with expression_memory_exceeded; this process is untouched and the pool recovers', async () => {
    // A long budget, so that on a loaded machine memory (not time) is the bound this bomb hits.
    await configureExpressionSandbox({ timeoutMs: 30_000 });
    const rss = process.memoryUsage().rss;
    const error = await failure(evaluate({ n: PAD_BOMB }, bindings())).finally(() => configureExpressionSandbox({ timeoutMs: 1000 }));
    expect(error).toMatchObject({ code: 'expression_memory_exceeded', path: 'n', expression: PAD_BOMB.slice(1) });
    expect(error.message).toBe(`Expression "${PAD_BOMB}" used more than the ${EXPRESSION_LIMITS.memoryMb} MB of memory an evaluation may use`);
    expect(process.memoryUsage().rss - rss).toBeLessThan(100 * 1024 * 1024);
    expect(await evaluate('=$count($trigger.items)', bindings())).toBe(3);
  });

  it('refuses a result larger than the cap, from JSONata and from a plain path alike', async () => {
    // A long budget: this is about size, and a loaded machine must not turn it into a timeout.
    await configureExpressionSandbox({ timeoutMs: 30_000 });
    const big = await failure(evaluate('=$pad("", 2000000)', bindings()));
    expect(big.code).toBe('expression_result_too_large');
    expect(big.message).toBe(`Expression "=$pad("", 2000000)" produced 2000002 bytes of JSON; the limit is ${EXPRESSION_LIMITS.maxResultBytes}`);
    const copy = await failure(evaluate({ all: '=$trigger.blob' }, bindings({ trigger: { blob: 'x'.repeat(EXPRESSION_LIMITS.maxResultBytes) } })));
    expect(copy).toMatchObject({ code: 'expression_result_too_large', path: 'all' });
    await configureExpressionSandbox({ timeoutMs: 1000 });
  });

  it('refuses bindings larger than the cap before sending them to the sandbox', async () => {
    const huge = bindings({ steps: { fetch: { body: 'x'.repeat(EXPRESSION_LIMITS.maxBindingsBytes) } } });
    const error = await failure(evaluate('=$count($trigger.items)', huge));
    expect(error.code).toBe('expression_input_too_large');
    expect(error.message).toMatch(
      /^Expression "=\$count\(\$trigger.items\)" cannot be evaluated: its bindings \(\$trigger, \$steps, …\) are \d+ bytes of JSON; the limit is 8388608$/,
    );
  });

  it.skipIf(EXPRESSION_LIMITS.processes < 2)('runs evaluations concurrently: a stuck child does not hold up the others', async () => {
    // A 5 s budget: the stuck child stays stuck while the others answer, however loaded the machine.
    await configureExpressionSandbox({ timeoutMs: 5000 });
    await warm();
    const slow = failure(evaluate(REGEX_BOMB, bindings())).finally(() => configureExpressionSandbox({ timeoutMs: 1000 }));
    let slowDone = false;
    void slow.then(() => (slowDone = true));
    const quick = await Promise.all(Array.from({ length: 40 }, (_, i) => evaluate(`=$sum($trigger.items) + ${i}`, bindings())));
    expect(quick).toEqual(Array.from({ length: 40 }, (_, i) => 6 + i));
    expect(slowDone).toBe(false);
    expect((await slow).code).toBe('expression_timeout');
  });

  it.skipIf(EXPRESSION_LIMITS.processes !== 2)(
    "serves waiting evaluations round-robin by tenant: one tenant's backlog of slow expressions does not hold up another's",
    async () => {
      await warm();
      const order: string[] = [];
      const flood = Array.from({ length: 6 }, (_, i) => failure(evaluate(REGEX_BOMB, bindings(), { fairnessKey: 'tenant-a' })).then(() => order.push(`a${i}`)));
      const other = evaluate('=$sum($trigger.items)', bindings(), { fairnessKey: 'tenant-b' }).then((v) => order.push(`b=${v}`));
      await Promise.all([...flood, other]);
      // First-come-first-served would run all six bombs (three rounds of two) before b; round-robin runs b in the second round.
      expect(order.indexOf('b=6')).toBeLessThan(order.indexOf('a4'));
      expect(order.indexOf('b=6')).toBeLessThan(order.indexOf('a5'));
    },
  );

  it('a child does not outlive a parent killed with SIGKILL, even stuck in a native regex', async () => {
    const dist = join(__dirname, '..', '..', '..', 'dist', 'flows', 'definition');
    // The parent gives the job a minute, so only the child's own watchdog can end it.
    const script = `
      const sandbox = require(${JSON.stringify(join(dist, 'expression-sandbox.js'))});
      const { evaluate } = require(${JSON.stringify(join(dist, 'expressions.js'))});
      const b = { trigger: {}, inputs: {}, steps: {}, endUser: {}, run: {} };
      (async () => {
        await sandbox.configureExpressionSandbox({ timeoutMs: 60000 });
        await evaluate('=$sum([1, 2])', b);
        evaluate(${JSON.stringify(REGEX_BOMB)}, b).catch(() => {});
        setTimeout(() => console.log(sandbox.sandboxPids()[0]), 300);
      })();`;
    const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const childPid = await new Promise<number>((resolve) => parent.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      expect(alive(childPid)).toBe(true);
      parent.kill('SIGKILL');
      const deadline = Date.now() + 5000;
      while (alive(childPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(alive(childPid)).toBe(false);
    } finally {
      if (alive(childPid)) process.kill(childPid, 'SIGKILL');
    }
  });

  it('runs a job lost to an outside kill once more on a fresh child; a second loss fails it', async () => {
    await configureExpressionSandbox({ timeoutMs: 30_000 });
    const busyPid = async (other?: number) => {
      for (let i = 0; i < 400; i++) {
        const pid = sandboxPids('busy').find((p) => p !== other);
        if (pid) return pid;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('no child took the job');
    };
    try {
      const job = evaluate(REGEX_BOMB, bindings()).then(
        () => 'answered',
        (error: Error) => error.message,
      );
      const first = await busyPid();
      process.kill(first, 'SIGKILL'); // the OOM killer, say: not the expression's doing
      const second = await busyPid(first);
      process.kill(second, 'SIGKILL');
      expect(await job).toBe('The expression sandbox stopped unexpectedly (signal SIGKILL, no output)');
    } finally {
      await configureExpressionSandbox({ timeoutMs: 1000 });
    }
  });

  it('reads plain paths and literal templates in-process, without starting a child', async () => {
    await stopExpressionSandbox();
    expect(sandboxPids()).toEqual([]);
    expect(await evaluate({ a: '=$trigger.deal.amount', b: ['=$endUser.id', 'x'], c: '==y' }, bindings())).toEqual({ a: 25000, b: ['eu_1', 'x'], c: '=y' });
    expect(sandboxPids()).toEqual([]);
    // A path that meets an array needs JSONata's mapping: the sandbox.
    expect(await evaluate('=$trigger.items.x', bindings({ trigger: { items: [{ x: 1 }, { x: 2 }] } }))).toEqual([1, 2]);
    expect(sandboxPids().length).toBe(1);
  });
});

describe('input patterns in the sandbox', () => {
  it('tests a pattern, and stops a catastrophic one at the time budget', async () => {
    await warm();
    expect(await matchesPattern('^[a-z]+$', 'abc')).toBe(true);
    expect(await matchesPattern('^[a-z]+$', 'ab1')).toBe(false);
    const started = Date.now();
    const error = await failure(matchesPattern('^(a+)+$', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaa!'));
    expect(error.code).toBe('expression_timeout');
    expect(Date.now() - started).toBeLessThan(EXPRESSION_LIMITS.timeoutMs + 1000);
  });

  it("an end user's settings against a catastrophic pattern: a validation error naming the setting, within the budget", async () => {
    await warm();
    const started = Date.now();
    const error = await resolveSettings(
      { code: { type: 'string', pattern: '^(a+)+$' }, level: { type: 'string', pattern: '^[a-z]+$' } },
      { code: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', level: 'x1' },
    ).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(EXPRESSION_LIMITS.timeoutMs + 1000);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('validation_failed');
    expect((error as AppError).details).toEqual({
      errors: [
        { path: 'settings.code', message: 'must match ^(a+)+$ (checking it was stopped: The pattern ^(a+)+$ took longer than 1000 ms to check)' },
        { path: 'settings.level', message: 'must match ^[a-z]+$' },
      ],
    });
  });
});
