import { ConnectorDefinition, HttpError, ProviderError } from '@switchboard/connectors';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../common/errors/app-error';
import { DeliveryLog } from '../connections/provider-client.service';
import { durationMs } from '../flows/definition/durations';
import { ExpressionError, isExpressionLimitCode } from '../flows/definition/expressions';
import { APPROVAL_DEFAULTS, type ApprovalStep, FLOW_LIMITS, isSwitchBranch, LOOP_DEFAULTS, RETRY_DEFAULTS, type Step, STEP_TIMEOUT_DEFAULT_MS } from '../flows/definition/flow-definition.schema';
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

/** What a decided approval step gives the run as `$steps.<id>`. */
export interface ApprovalOutcome {
  approved: boolean;
  decidedBy: string | null;
  decidedVia: string;
  comment: string | null;
  decidedAt: string;
}

/** What an action or request call gets besides its input. */
export interface EffectContext {
  idempotencyKey: string;
  signal: AbortSignal;
  /** What `prepare` answered for this attempt. */
  prepared: PreparedConnection;
  /** Pass to every provider request of this attempt: decides whether it may be repeated. */
  delivery: DeliveryLog;
}

/** A connection ready for calls, with the connector it is of (as the tenant sees it: own providers, imported actions). */
export interface PreparedConnection {
  definition: Pick<ConnectorDefinition, 'actions' | 'rateLimit'>;
}

/** Side effects, provided by the worker: connector actions, raw requests, approvals, checkpoints. */
export interface Effects {
  /**
   * Gets the connection ready and waits until its request rate allows one more call. Runs before
   * the step's own timeout starts: waiting for the rate is bounded by the run, not by the step.
   */
  prepare(connectionKey: string, signal: AbortSignal): Promise<PreparedConnection>;
  action(connector: string, connectionKey: string, action: string, input: unknown, ctx: EffectContext): Promise<unknown>;
  request(connectionKey: string, request: { method: string; path: string; query?: unknown; headers?: unknown; body?: unknown }, ctx: EffectContext): Promise<unknown>;
  /** Finds or creates the approval of this step: its outcome once decided, else `{ pending }`. */
  approval(path: string, step: ApprovalStep, asked: { title: string; description: string | null }): Promise<ApprovalOutcome | { pending: string }>;
  /**
   * Persist the timeline so far: called before every step with side effects (its record says it is
   * in flight, after the records of the steps before it). False: the run is no longer ours (cancelled).
   */
  checkpoint(records: StepRecord[]): Promise<boolean>;
}

/** The run pauses: a delay until `until` (ms since epoch), or an approval (`until` null: a decision or its timeout wakes it). */
export class Park extends Error {
  constructor(readonly until: number | null) {
    super('parked');
  }
}

/** The run was cancelled while executing: stop at this step boundary, write nothing more. */
export class RunStopped extends Error {
  constructor() {
    super('run cancelled');
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

/** Limits of one execution: the cancel signal and the moment the run's time budget runs out. */
export interface RunLimits {
  cancelled: AbortSignal;
  /** ms since epoch. */
  deadline: number;
  /** The run's whole budget, for messages. */
  timeoutMs: number;
}

/** The longest wait a provider's Retry-After may impose between two attempts (the step's timeout may cap it lower). */
const RETRY_AFTER_MAX_MS = 60_000;
/** Stripe's limit; longer keys (deeply nested paths) are hashed. */
const IDEMPOTENCY_KEY_MAX = 255;

/** One key per run and step path; the path names every enclosing loop index (`each[2]/inner[0]/post`). */
export function idempotencyKeyFor(runId: string, path: string): string {
  const key = `${runId}:${path}`;
  return key.length <= IDEMPOTENCY_KEY_MAX ? key : `${runId}:${createHash('sha256').update(path).digest('base64url')}`;
}

/** Milliseconds a Retry-After value (seconds or an HTTP date) asks for, if any. */
function retryAfterMs(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

/** A request step's answer was an HTTP error and the step does not accept those (failOnError). */
class HttpStatusFailure extends Error {
  constructor(
    readonly status: number,
    body: unknown,
    readonly headers: Record<string, string>,
  ) {
    const text = typeof body === 'string' ? body : JSON.stringify(body ?? null);
    super(`The provider answered HTTP ${status}: ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`);
  }
}

class StepTimeout extends Error {
  constructor(readonly ms: number) {
    super(`The step did not finish within ${ms} ms`);
  }
}

function classify(error: unknown): { code: string; message: string; retryable: boolean } {
  if (error instanceof StepTimeout) return { code: 'step_timed_out', message: error.message, retryable: true };
  if (error instanceof HttpStatusFailure) return { code: `http_${error.status}`, message: error.message, retryable: error.status === 408 || error.status === 429 || error.status >= 500 };
  if (error instanceof StepFailure) return { code: error.code, message: error.message, retryable: false };
  if (error instanceof ProviderError) return { code: `provider_${error.code}`, message: error.message, retryable: false };
  if (error instanceof HttpError) return { code: `http_${error.status}`, message: error.message, retryable: error.retryable };
  if (error instanceof AppError) {
    return { code: error.code, message: error.message, retryable: ['provider_timeout', 'provider_unreachable', 'service_unavailable'].includes(error.code) };
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
    private readonly limits: RunLimits,
  ) {
    this.records = [...done.values()];
  }

  /** Every step boundary: stop a cancelled run, fail one past its time budget. */
  private checkLimits(path: string): void {
    if (this.limits.cancelled.aborted) throw new RunStopped();
    if (Date.now() >= this.limits.deadline) throw new StepFailure('run_timed_out', `The run exceeded its time limit of ${this.limits.timeoutMs} ms`, path);
  }

  /** Stored outputs are capped so one step cannot bloat the run row (containers are made of their steps' outputs). */
  private capOutput(output: unknown, path: string): void {
    const size = output === undefined ? 0 : Buffer.byteLength(JSON.stringify(output));
    if (size > FLOW_LIMITS.maxStepOutputBytes) {
      throw new StepFailure('step_output_too_large', `Step ${path} produced ${size} bytes of output; the limit is ${FLOW_LIMITS.maxStepOutputBytes}`, path);
    }
  }

  /**
   * Runs `call` with a signal that fires at the step timeout, the run's deadline or a cancel,
   * whichever comes first, and stops waiting for it then (the call may not honour the signal).
   */
  private async bounded<T>(timeoutMs: number, path: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const remaining = this.limits.deadline - Date.now();
    const stepFirst = timeoutMs < remaining;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(stepFirst ? new StepTimeout(timeoutMs) : undefined), Math.max(0, Math.min(timeoutMs, remaining)));
    const onCancel = () => controller.abort(new RunStopped());
    this.limits.cancelled.addEventListener('abort', onCancel, { once: true });
    try {
      return await new Promise<T>((resolve, reject) => {
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
        call(controller.signal).then(resolve, reject);
      });
    } catch (error) {
      if (this.limits.cancelled.aborted) throw new RunStopped();
      if (controller.signal.aborted && !stepFirst) throw new StepFailure('run_timed_out', `The run exceeded its time limit of ${this.limits.timeoutMs} ms`, path);
      throw error;
    } finally {
      clearTimeout(timer);
      this.limits.cancelled.removeEventListener('abort', onCancel);
    }
  }

  get timeline(): StepRecord[] {
    return this.records;
  }

  async execute(steps: ExecStep[]): Promise<{ result: unknown; status?: number }> {
    await this.runSteps(steps, '', this.bindings);
    return this.response ? { result: this.response.output, status: this.response.status } : { result: this.last };
  }

  private async runSteps(steps: ExecStep[], prefix: string, bindings: Bindings): Promise<void> {
    for (const step of steps) await this.runStep(step, prefix ? `${prefix}/${step.id}` : step.id, bindings);
  }

  private async eval(template: unknown, path: string, bindings: Bindings): Promise<unknown> {
    try {
      return await this.evaluate(template, bindings);
    } catch (error) {
      // A sandbox bound (expression_timeout, expression_memory_exceeded…) is reported as itself.
      const code = error instanceof ExpressionError && isExpressionLimitCode(error.code) ? error.code : 'expression_error';
      throw new StepFailure(code, (error as Error).message, path);
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

  private async runStep(step: ExecStep, path: string, bindings: Bindings): Promise<void> {
    this.checkLimits(path);
    const prior = this.done.get(path);
    if (prior?.status === 'succeeded' && (step.type === 'action' || step.type === 'request' || step.type === 'delay' || step.type === 'approval')) {
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
        this.capOutput(output, path);
        record({ output });
        bindings.steps[step.id] = output;
        this.last = output;
        return;
      }
      case 'respond': {
        const output = await this.eval(step.output, path, bindings);
        this.capOutput(output, path);
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
        await this.runSteps(steps, `${path}/${arm}`, bindings);
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
        let stopped = false;
        // Each iteration sees the steps before the loop plus its own; iterations never see each other.
        const worker = async () => {
          while (next < items.length && !stopped) {
            const index = next++;
            const own: Bindings = { ...bindings, steps: { ...bindings.steps }, item: items[index], index };
            try {
              await this.runSteps(step.steps, `${path}[${index}]`, own);
            } catch (error) {
              stopped = true;
              throw error;
            }
            results[index] = Object.fromEntries(step.steps.map((s) => [s.id, own.steps[s.id]]));
          }
        };
        // An iteration that fails or parks stops new ones; those in flight finish before the run is
        // written, so nothing of this execution runs behind its back.
        const settled = await Promise.allSettled(Array.from({ length: Math.min(step.concurrency ?? 1, items.length || 1) }, worker));
        const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
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
      case 'approval': {
        const title = String((await this.eval(step.title, path, bindings)) ?? '').slice(0, 500);
        const description = step.description === undefined ? null : String((await this.eval(step.description, path, bindings)) ?? '').slice(0, 5000);
        const outcome = await this.effects.approval(path, step, { title, description });
        if ('pending' in outcome) {
          record({ status: 'waiting', output: { approvalId: outcome.pending } });
          throw new Park(null);
        }
        if (!outcome.approved && (step.onReject ?? APPROVAL_DEFAULTS.onReject) === 'stop') {
          const message = `Approval ${step.id} was ${outcome.decidedVia === 'timeout' ? 'not given in time' : 'rejected'}`;
          record({ status: 'failed', output: outcome, error: { code: 'approval_rejected', message } });
          throw new StepFailure('approval_rejected', message, path);
        }
        record({ output: outcome });
        bindings.steps[step.id] = outcome;
        this.last = outcome;
        return;
      }
      case 'action':
      case 'request': {
        const input =
          step.type === 'action'
            ? await this.eval(step.input ?? {}, path, bindings)
            : await this.eval({ method: step.method, path: step.path, query: step.query, headers: step.headers, body: step.body }, path, bindings);
        const idempotencyKey = idempotencyKeyFor(this.runId, path);
        // Transient failures are retried per the step's policy; final ones (4xx, validation) never are.
        const policy = step.retry ?? RETRY_DEFAULTS;
        const connectionKey = step.connection ?? step.connector;
        const timeoutMs = step.timeoutMs ?? STEP_TIMEOUT_DEFAULT_MS;
        // In flight at an earlier execution that stopped (a worker died), or failed with an unknown
        // outcome and retried: the provider may already have this request.
        const possibleDuplicate = prior?.status === 'running' || prior?.outcome === 'unknown' || prior?.possibleDuplicate ? { possibleDuplicate: true as const } : {};
        // Written before the call (with the steps before it), so a crash during it is seen on resume.
        record({ input, status: 'running', attempts: 1, idempotencyKey, ...possibleDuplicate });
        if (!(await this.effects.checkpoint(this.records))) throw new RunStopped();
        // An effectful request of any attempt sent and never answered: the provider may have acted on it.
        let unanswered = false;
        let connector: PreparedConnection['definition'] | undefined;
        for (let attempt = 1; ; attempt++) {
          const delivery = new DeliveryLog();
          const outcome = () => ((unanswered ||= delivery.unanswered > 0) ? { outcome: 'unknown' as const } : {});
          try {
            const prepared = await this.bounded(this.limits.deadline - Date.now(), path, (signal) => this.effects.prepare(connectionKey, signal));
            connector = prepared.definition;
            const output = await this.bounded(timeoutMs, path, (signal) =>
              step.type === 'action'
                ? this.effects.action(step.connector, connectionKey, step.action, input, { idempotencyKey, signal, prepared, delivery })
                : this.effects.request(connectionKey, input as { method: string; path: string }, { idempotencyKey, signal, prepared, delivery }),
            );
            if (step.type === 'request' && step.failOnError !== false) {
              const { status, body, headers } = output as { status: number; body: unknown; headers: Record<string, string> };
              if (status >= 400) throw new HttpStatusFailure(status, body, headers ?? {});
            }
            this.capOutput(output, path);
            record({ input, output, attempts: attempt, idempotencyKey, ...possibleDuplicate });
            bindings.steps[step.id] = output;
            this.last = output;
            return;
          } catch (error) {
            if (error instanceof RunStopped || (error instanceof StepFailure && (error.code === 'run_timed_out' || error.code === 'step_output_too_large'))) {
              if (error instanceof StepFailure) record({ input, status: 'failed', error: { code: error.code, message: error.message }, attempts: attempt, idempotencyKey, ...possibleDuplicate, ...outcome() });
              throw error;
            }
            const failure = classify(error);
            unanswered ||= delivery.unanswered > 0;
            // A request that may have reached the provider is repeated only where that cannot duplicate its effect.
            // (Whether the whole action may be repeated after a POST/PATCH of it may have reached the provider.)
            const retrySafe = step.type === 'action' && connector?.actions[step.action]?.retrySafe === true;
            const repeatable = failure.retryable && (retrySafe || !delivery.unsafeMaybeDelivered);
            if (repeatable && attempt < policy.attempts) {
              const b = { ...RETRY_DEFAULTS.backoff, ...policy.backoff };
              const backoff = Math.min(b.initialMs * b.multiplier ** (attempt - 1), b.maxMs) * (0.5 + Math.random() / 2);
              const headers = error instanceof HttpError || error instanceof HttpStatusFailure ? error.headers : {};
              const asked = retryAfterMs(headers[connector?.rateLimit?.retryAfterHeader?.toLowerCase() ?? 'retry-after']);
              const wait = Math.max(backoff, Math.min(asked ?? 0, RETRY_AFTER_MAX_MS, timeoutMs));
              // A wait the run's budget cannot cover fails the step now, with the provider's answer.
              if (Date.now() + wait < this.limits.deadline) {
                await sleep(wait, undefined, { signal: this.limits.cancelled }).catch(() => undefined);
                this.checkLimits(path);
                continue;
              }
            }
            record({ input, status: 'failed', error: { code: failure.code, message: failure.message }, attempts: attempt, idempotencyKey, ...possibleDuplicate, ...outcome() });
            throw new StepFailure(failure.code, failure.message, path);
          }
        }
      }
    }
  }
}
