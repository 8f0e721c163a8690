import { HttpError, ProviderError } from '@switchboard/connectors';
import { AppError } from '../common/errors/app-error';
import { durationMs } from '../flows/definition/durations';
import { isSwitchBranch, LOOP_DEFAULTS, RETRY_DEFAULTS, type RetryPolicy, type Step } from '../flows/definition/flow-definition.schema';
import type { StepRecord } from './run.entity';

/** What the executor needs from the definition module: expression evaluation over JSON templates. */
export type Evaluate = (template: unknown, bindings: Bindings) => Promise<unknown>;

export interface Bindings {
  trigger: unknown;
  inputs: Record<string, unknown>;
  steps: Record<string, unknown>;
  endUser: { id: string; externalId: string; displayName: string | null; email: string | null; metadata: Record<string, unknown> };
  run: { id: string; startedAt: string };
  /** Inside a loop: the current element and its index. */
  item?: unknown;
  index?: number;
}

export type ExecStep = Step;

/** Side effects, provided by the worker: calling a connector action or a raw request through a connection. */
export interface Effects {
  action(connector: string, connectionKey: string, action: string, input: unknown, ctx: { idempotencyKey: string; signal: AbortSignal }): Promise<unknown>;
  request(connector: string, request: { method: string; path: string; query?: unknown; headers?: unknown; body?: unknown }, ctx: { idempotencyKey: string; signal: AbortSignal }): Promise<unknown>;
  /** Persist the timeline so far: called after every step with side effects. */
  checkpoint(records: StepRecord[]): Promise<void>;
}

/** A delay: the run parks until `until` (ms since epoch) and resumes from its checkpoint. */
export class Park extends Error {
  constructor(readonly until: number) {
    super('parked');
  }
}

export class StepFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

// Transient failures are retried unless the step says otherwise; final ones (4xx, validation) never are.
const DEFAULT_RETRY: RetryPolicy = { ...RETRY_DEFAULTS, attempts: Math.max(RETRY_DEFAULTS.attempts, 3) };
const DEFAULT_STEP_TIMEOUT_MS = 30_000;

function classify(error: unknown): { code: string; message: string; retryable: boolean } {
  if (error instanceof StepFailure) return { code: error.code, message: error.message, retryable: false };
  if (error instanceof ProviderError) return { code: `provider_${error.code}`, message: error.message, retryable: false };
  if (error instanceof HttpError) return { code: `http_${error.status}`, message: error.message, retryable: error.retryable };
  if (error instanceof AppError) {
    return { code: error.code, message: error.message, retryable: error.code === 'provider_timeout' || error.code === 'service_unavailable' };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'step_error', message, retryable: (error as { name?: string })?.name === 'TimeoutError' };
}

/**
 * Runs a flow's steps in order. Steps already finished in an earlier attempt (`done`) are not
 * run again: effectful ones reuse their recorded output, pure ones are recomputed (cheaply and
 * deterministically). The result is the first `respond` output, else the last step's output.
 */
export class Executor {
  private readonly records: StepRecord[];
  private response: { output: unknown; status?: number } | undefined;
  private last: unknown;

  constructor(
    private readonly runId: string,
    private readonly bindings: Bindings,
    private readonly evaluate: Evaluate,
    private readonly effects: Effects,
    private readonly done: Map<string, StepRecord>,
  ) {
    this.records = [...done.values()];
  }

  get timeline(): StepRecord[] {
    return this.records;
  }

  async execute(steps: ExecStep[]): Promise<{ result: unknown; status?: number }> {
    await this.runSteps(steps, '', this.bindings, 0);
    return this.response ? { result: this.response.output, status: this.response.status } : { result: this.last };
  }

  private async runSteps(steps: ExecStep[], prefix: string, bindings: Bindings, iteration: number): Promise<void> {
    for (const step of steps) await this.runStep(step, prefix ? `${prefix}/${step.id}` : step.id, bindings, iteration);
  }

  private async eval(template: unknown, path: string, bindings: Bindings): Promise<unknown> {
    try {
      return await this.evaluate(template, bindings);
    } catch (error) {
      throw new StepFailure('expression_error', (error as Error).message, path);
    }
  }

  private async delayUntil(step: Extract<Step, { type: 'delay' }>, path: string, bindings: Bindings): Promise<number> {
    if (step.until !== undefined) {
      const at = Date.parse(String(await this.eval(step.until, path, bindings)));
      if (Number.isNaN(at)) throw new StepFailure('invalid_delay', 'The delay\'s "until" is not a date-time', path);
      return at;
    }
    const value = typeof step.for === 'string' && step.for.startsWith('=') ? await this.eval(step.for, path, bindings) : step.for;
    const ms = durationMs(value);
    if (ms === undefined) throw new StepFailure('invalid_delay', 'The delay\'s "for" is not a duration (ISO 8601 or milliseconds)', path);
    return Date.now() + ms;
  }

  private async runStep(step: ExecStep, path: string, bindings: Bindings, iteration: number): Promise<void> {
    const prior = this.done.get(path);
    if (prior?.status === 'succeeded' && (step.type === 'action' || step.type === 'request' || step.type === 'delay')) {
      bindings.steps[step.id] = prior.output;
      this.last = prior.output;
      return;
    }
    const startedAt = new Date();
    const started = performance.now();
    const record = (fields: Partial<StepRecord>): StepRecord => {
      const rec: StepRecord = { path, id: step.id, type: step.type, status: 'succeeded', attempts: 1, startedAt: startedAt.toISOString(), durationMs: Math.round((performance.now() - started) * 1000) / 1000, ...fields };
      const at = this.records.findIndex((r) => r.path === path);
      if (at >= 0) this.records[at] = rec;
      else this.records.push(rec);
      return rec;
    };
    switch (step.type) {
      case 'transform': {
        const output = await this.eval(step.output, path, bindings);
        record({ output });
        bindings.steps[step.id] = output;
        this.last = output;
        return;
      }
      case 'respond': {
        const output = await this.eval(step.output, path, bindings);
        record({ output });
        this.response ??= { output, status: step.status };
        bindings.steps[step.id] = output;
        return;
      }
      case 'branch': {
        let arm: string;
        let steps: Step[];
        if (isSwitchBranch(step)) {
          const value = await this.eval(step.switch, path, bindings);
          let index = -1;
          for (let i = 0; i < step.cases.length && index < 0; i++) {
            if ((await this.eval(step.cases[i].when, `${path}/cases/${i}`, bindings)) === value) index = i;
          }
          arm = index >= 0 ? `cases/${index}` : 'default';
          steps = index >= 0 ? step.cases[index].steps : (step.default ?? []);
        } else {
          const taken = Boolean(await this.eval(step.if, path, bindings));
          arm = taken ? 'then' : 'else';
          steps = (taken ? step.then : step.else) ?? [];
        }
        const output = { branch: arm };
        record({ output });
        bindings.steps[step.id] = output;
        await this.runSteps(steps, `${path}/${arm}`, bindings, iteration);
        return;
      }
      case 'loop': {
        // JSONata gives a single match as a value and no match as undefined: treat them as lists.
        const over = await this.eval(step.over, path, bindings);
        const items = Array.isArray(over) ? over : over === undefined || over === null ? [] : [over];
        const cap = step.maxIterations ?? LOOP_DEFAULTS.maxIterations;
        if (items.length > cap) throw new StepFailure('loop_too_long', `The loop has ${items.length} items; the cap is ${cap}`, path);
        const results: Array<Record<string, unknown>> = new Array(items.length);
        let next = 0;
        // Each iteration sees the steps before the loop plus its own; iterations never see each other.
        const worker = async () => {
          while (next < items.length) {
            const index = next++;
            const own: Bindings = { ...bindings, steps: { ...bindings.steps }, item: items[index], index };
            await this.runSteps(step.steps, `${path}[${index}]`, own, index);
            results[index] = Object.fromEntries(step.steps.map((s) => [s.id, own.steps[s.id]]));
          }
        };
        await Promise.all(Array.from({ length: Math.min(step.concurrency ?? 1, items.length || 1) }, worker));
        record({ output: results });
        bindings.steps[step.id] = results;
        this.last = results;
        return;
      }
      case 'delay': {
        const until = prior?.output && typeof (prior.output as { until?: number }).until === 'number'
          ? (prior.output as { until: number }).until
          : await this.delayUntil(step, path, bindings);
        if (until > Date.now()) {
          record({ status: 'waiting', output: { until } });
          throw new Park(until);
        }
        record({ output: { until } });
        bindings.steps[step.id] = { until };
        return;
      }
      case 'approval':
        throw new StepFailure('not_supported', 'Approval steps are not supported by this engine yet', path);
      case 'action':
      case 'request': {
        const input =
          step.type === 'action'
            ? await this.eval(step.input ?? {}, path, bindings)
            : await this.eval({ method: step.method, path: step.path, query: step.query, headers: step.headers, body: step.body }, path, bindings);
        // runId:stepPath:iteration, the same on every attempt and every resume.
        const idempotencyKey = `${this.runId}:${path.replace(/\[\d+\]/g, '')}:${iteration}`;
        const policy = step.retry ?? DEFAULT_RETRY;
        for (let attempt = 1; ; attempt++) {
          try {
            const signal = AbortSignal.timeout(step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS);
            const output =
              step.type === 'action'
                ? await this.effects.action(step.connector, step.connection ?? step.connector, step.action, input, { idempotencyKey, signal })
                : await this.effects.request(step.connector, input as { method: string; path: string }, { idempotencyKey, signal });
            record({ input, output, attempts: attempt, idempotencyKey });
            bindings.steps[step.id] = output;
            this.last = output;
            await this.effects.checkpoint(this.records);
            return;
          } catch (error) {
            const failure = classify(error);
            if (failure.retryable && attempt < policy.attempts) {
              const b = { initialMs: 200, maxMs: 5000, multiplier: 2, ...policy.backoff };
              const wait = Math.min(b.initialMs * b.multiplier ** (attempt - 1), b.maxMs) * (0.5 + Math.random() / 2);
              await new Promise((r) => setTimeout(r, wait));
              continue;
            }
            record({ input, status: 'failed', error: { code: failure.code, message: failure.message }, attempts: attempt, idempotencyKey });
            throw new StepFailure(failure.code, failure.message, path);
          }
        }
      }
    }
  }
}
