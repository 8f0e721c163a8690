import { HttpError, ProviderError } from '@switchboard/connectors';
import { AppError } from '../common/errors/app-error';
import type { StepRecord } from './run.entity';

/** What the executor needs from the definition module: expression evaluation over JSON templates. */
export type Evaluate = (template: unknown, bindings: Bindings) => Promise<unknown>;

export interface Bindings {
  trigger: unknown;
  inputs: Record<string, unknown>;
  steps: Record<string, unknown>;
  endUser: { id: string; externalId: string; displayName: string | null; email: string | null; metadata: Record<string, unknown> };
  run: { id: string; startedAt: string };
}

/** The step shapes the executor runs (the definition module validates documents into these). */
export type ExecStep =
  | { id: string; type: 'transform'; output: unknown }
  | { id: string; type: 'branch'; if: string; then: ExecStep[]; else?: ExecStep[] }
  | { id: string; type: 'action'; connector: string; action: string; input?: Record<string, unknown>; connection?: string; retry?: RetryPolicy; timeoutMs?: number }
  | { id: string; type: 'request'; connector: string; method: string; path: string; query?: unknown; headers?: unknown; body?: unknown; retry?: RetryPolicy; timeoutMs?: number }
  | { id: string; type: 'respond'; output: unknown; status?: number };

export interface RetryPolicy {
  attempts: number;
  backoff?: { initialMs?: number; maxMs?: number; multiplier?: number };
}

/** Side effects, provided by the worker: calling a connector action or a raw request through a connection. */
export interface Effects {
  action(connector: string, connectionKey: string, action: string, input: unknown, ctx: { idempotencyKey: string; signal: AbortSignal }): Promise<unknown>;
  request(connector: string, request: { method: string; path: string; query?: unknown; headers?: unknown; body?: unknown }, ctx: { idempotencyKey: string; signal: AbortSignal }): Promise<unknown>;
  /** Persist the timeline so far: called after every step with side effects. */
  checkpoint(records: StepRecord[]): Promise<void>;
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

const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoff: { initialMs: 200, maxMs: 5000, multiplier: 2 } };
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
    await this.runSteps(steps, '');
    return this.response ? { result: this.response.output, status: this.response.status } : { result: this.last };
  }

  private async runSteps(steps: ExecStep[], prefix: string): Promise<void> {
    for (const step of steps) await this.runStep(step, prefix ? `${prefix}/${step.id}` : step.id);
  }

  private async eval(template: unknown, path: string): Promise<unknown> {
    try {
      return await this.evaluate(template, this.bindings);
    } catch (error) {
      throw new StepFailure('expression_error', (error as Error).message, path);
    }
  }

  private async runStep(step: ExecStep, path: string): Promise<void> {
    const prior = this.done.get(path);
    if (prior?.status === 'succeeded' && (step.type === 'action' || step.type === 'request')) {
      this.bindings.steps[step.id] = prior.output;
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
        const output = await this.eval(step.output, path);
        record({ output });
        this.bindings.steps[step.id] = output;
        this.last = output;
        return;
      }
      case 'respond': {
        const output = await this.eval(step.output, path);
        record({ output });
        this.response ??= { output, status: step.status };
        this.bindings.steps[step.id] = output;
        return;
      }
      case 'branch': {
        const taken = Boolean(await this.eval(step.if, path));
        const output = { branch: taken ? 'then' : 'else' };
        record({ output });
        this.bindings.steps[step.id] = output;
        await this.runSteps((taken ? step.then : step.else) ?? [], `${path}/${output.branch}`);
        return;
      }
      case 'action':
      case 'request': {
        const input = step.type === 'action' ? await this.eval(step.input ?? {}, path) : await this.eval({ method: step.method, path: step.path, query: step.query, headers: step.headers, body: step.body }, path);
        const idempotencyKey = `${this.runId}:${path}:0`;
        const policy = step.retry ?? DEFAULT_RETRY;
        for (let attempt = 1; ; attempt++) {
          try {
            const signal = AbortSignal.timeout(step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS);
            const output =
              step.type === 'action'
                ? await this.effects.action(step.connector, step.connection ?? step.connector, step.action, input, { idempotencyKey, signal })
                : await this.effects.request(step.connector, input as { method: string; path: string }, { idempotencyKey, signal });
            record({ input, output, attempts: attempt, idempotencyKey });
            this.bindings.steps[step.id] = output;
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
