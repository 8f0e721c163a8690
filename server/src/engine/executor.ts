import { ConnectorDefinition, HttpError, ProviderError } from '@switchboard/connectors';
import type { ModelMessage, ToolResultPart } from 'ai';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../common/errors/app-error';
import { backoffMs, isRetryableStatus, retryAfterMs } from '../common/http/retry';
import { DeliveryLog } from '../connections/provider-client.service';
import { durationMs } from '../flows/definition/durations';
import { ExpressionError, isExpressionLimitCode } from '../flows/definition/expressions';
import {
  AGENT_DEFAULTS,
  type AgentStep,
  agentToolName,
  APPROVAL_DEFAULTS,
  type ApprovalStep,
  FLOW_LIMITS,
  isSwitchBranch,
  LOOP_DEFAULTS,
  RETRY_DEFAULTS,
  type RetryPolicy,
  splitAgentTool,
  type Step,
  STEP_TIMEOUT_DEFAULT_MS,
} from '../flows/definition/flow-definition.schema';
import type { StepRecord, TokenUsage } from './run.entity';

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

/** A connector action offered to an agent's model. */
export interface AgentTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** One call to a model: the conversation so far and the tools it may call. */
export interface ModelCall {
  provider: string;
  model?: string;
  system: string;
  messages: ModelMessage[];
  tools: AgentTool[];
  /** Set only when the agent's token budget is nearly spent. */
  maxOutputTokens?: number;
}

/** What a model answered: text, or tool calls to make (or both). */
export interface ModelAnswer {
  text: string;
  toolCalls: Array<{ id: string; name: string; input: unknown }>;
  finishReason: string;
  usage: TokenUsage;
  /** The model that answered, as its provider names it. */
  model: string;
}

/** What an approval asks, in plain words. */
export interface Asked {
  title: string;
  description: string | null;
}

/** Side effects, provided by the worker: connector actions, raw requests, approvals, model calls, checkpoints. */
export interface Effects {
  /**
   * Gets the connection ready and waits until its request rate allows one more call. Runs before
   * the step's own timeout starts: waiting for the rate is bounded by the run, not by the step.
   */
  prepare(connectionKey: string, signal: AbortSignal): Promise<PreparedConnection>;
  action(connector: string, connectionKey: string, action: string, input: unknown, ctx: EffectContext): Promise<unknown>;
  request(connectionKey: string, request: { method: string; path: string; query?: unknown; headers?: unknown; body?: unknown }, ctx: EffectContext): Promise<unknown>;
  /** The connector behind a binding, to describe its actions as an agent's tools (reserves no request). */
  connector(connectionKey: string): Promise<Pick<ConnectorDefinition, 'name' | 'actions'>>;
  /** One model call; counts its tokens against the tenant's monthly cap. */
  model(call: ModelCall, signal: AbortSignal): Promise<ModelAnswer>;
  /**
   * Finds or creates the approval of this step: its outcome once decided, else `{ pending }`.
   * `asked` may be computed only when the approval is created (it may call the provider).
   */
  approval(path: string, step: ApprovalStep, asked: Asked | (() => Promise<Asked>)): Promise<ApprovalOutcome | { pending: string }>;
  /** What an option source calls these values (Slack channel ids → `#sales`); best effort, `{}` when it cannot say. */
  optionLabels(connectionKey: string, source: string, values: string[]): Promise<Record<string, string>>;
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

export function classify(error: unknown): { code: string; message: string; retryable: boolean } {
  if (error instanceof StepTimeout) return { code: 'step_timed_out', message: error.message, retryable: true };
  if (error instanceof HttpStatusFailure) return { code: `http_${error.status}`, message: error.message, retryable: isRetryableStatus(error.status) };
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

  /** Writes (or rewrites) the timeline record at `path`; its duration runs from this call. */
  private recorder(path: string, id: string, type: string): Recorder {
    const startedAt = new Date().toISOString();
    const started = performance.now();
    return (fields) => {
      const rec: StepRecord = { path, id, type, status: 'succeeded', attempts: 1, startedAt, durationMs: Math.round((performance.now() - started) * 1000) / 1000, ...fields };
      const at = this.records.findIndex((r) => r.path === path);
      if (at >= 0) this.records[at] = rec;
      else this.records.push(rec);
      return rec;
    };
  }

  private async runStep(step: ExecStep, path: string, bindings: Bindings): Promise<void> {
    this.checkLimits(path);
    const prior = this.done.get(path);
    if (prior?.status === 'succeeded' && (step.type === 'action' || step.type === 'request' || step.type === 'delay' || step.type === 'approval' || step.type === 'agent')) {
      bindings.steps[step.id] = prior.output;
      this.last = prior.output;
      return;
    }
    const record = this.recorder(path, step.id, step.type);
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
        const until =
          prior?.output && typeof (prior.output as { until?: number }).until === 'number' ? (prior.output as { until: number }).until : await this.delayUntil(step, path, bindings);
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
        const call = step.type === 'action' ? { kind: 'action' as const, action: step.action } : { kind: 'request' as const, failOnError: step.failOnError !== false };
        const output = await this.callProvider(
          { path, id: step.id, type: step.type, connector: step.connector, connectionKey: step.connection ?? step.connector, ...call },
          input,
          step.retry ?? RETRY_DEFAULTS,
          step.timeoutMs ?? STEP_TIMEOUT_DEFAULT_MS,
          record,
        );
        bindings.steps[step.id] = output;
        this.last = output;
        return;
      }
      case 'agent': {
        const output = await this.runAgent(step, path, bindings, record);
        bindings.steps[step.id] = output;
        this.last = output;
        return;
      }
    }
  }

  /**
   * One connector call (an action, or a raw request) under a retry policy. Written to the timeline
   * as in flight before it goes out, so a crash during it is seen on resume. Answers its output;
   * a final failure is recorded and thrown as a StepFailure.
   */
  private async callProvider(
    target: { path: string; id: string; type: string; connector: string; connectionKey: string } & ({ kind: 'action'; action: string } | { kind: 'request'; failOnError: boolean }),
    input: unknown,
    policy: RetryPolicy,
    timeoutMs: number,
    record: Recorder,
    extra: Partial<StepRecord> = {},
  ): Promise<unknown> {
    const { path, connectionKey } = target;
    const prior = this.done.get(path);
    const idempotencyKey = idempotencyKeyFor(this.runId, path);
    // In flight at an earlier execution that stopped (a worker died), or failed with an unknown
    // outcome and retried: the provider may already have this request.
    const possibleDuplicate = prior?.status === 'running' || prior?.outcome === 'unknown' || prior?.possibleDuplicate ? { possibleDuplicate: true as const } : {};
    // Written before the call (with the steps before it), so a crash during it is seen on resume.
    record({ ...extra, input, status: 'running', attempts: 1, idempotencyKey, ...possibleDuplicate });
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
          target.kind === 'action'
            ? this.effects.action(target.connector, connectionKey, target.action, input, { idempotencyKey, signal, prepared, delivery })
            : this.effects.request(connectionKey, input as { method: string; path: string }, { idempotencyKey, signal, prepared, delivery }),
        );
        if (target.kind === 'request' && target.failOnError) {
          const { status, body, headers } = output as { status: number; body: unknown; headers: Record<string, string> };
          if (status >= 400) throw new HttpStatusFailure(status, body, headers ?? {});
        }
        this.capOutput(output, path);
        record({ ...extra, input, output, attempts: attempt, idempotencyKey, ...possibleDuplicate });
        return output;
      } catch (error) {
        if (error instanceof RunStopped || (error instanceof StepFailure && (error.code === 'run_timed_out' || error.code === 'step_output_too_large'))) {
          if (error instanceof StepFailure)
            record({
              ...extra,
              input,
              status: 'failed',
              error: { code: error.code, message: error.message },
              attempts: attempt,
              idempotencyKey,
              ...possibleDuplicate,
              ...outcome(),
            });
          throw error;
        }
        const failure = classify(error);
        unanswered ||= delivery.unanswered > 0;
        // A request that may have reached the provider is repeated only where that cannot duplicate its effect.
        // (Whether the whole action may be repeated after a POST/PATCH of it may have reached the provider.)
        const retrySafe = target.kind === 'action' && connector?.actions[target.action]?.retrySafe === true;
        const repeatable = failure.retryable && (retrySafe || !delivery.unsafeMaybeDelivered);
        if (repeatable && attempt < policy.attempts) {
          const backoff = backoffMs(attempt, { ...RETRY_DEFAULTS.backoff, ...policy.backoff });
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
        record({
          ...extra,
          input,
          status: 'failed',
          error: { code: failure.code, message: failure.message },
          attempts: attempt,
          idempotencyKey,
          ...possibleDuplicate,
          ...outcome(),
        });
        throw new StepFailure(failure.code, failure.message, path);
      }
    }
  }

  /**
   * The agent loop, driven here rather than inside the model library so that every model call and
   * tool call is a sub-step of the run, checkpointed: a resumed run replays the finished ones from
   * the timeline (the conversation is rebuilt from them) and never repeats a finished tool call.
   */
  private async runAgent(step: AgentStep, path: string, bindings: Bindings, record: Recorder): Promise<AgentOutput> {
    const instructions = String((await this.eval(step.instructions, path, bindings)) ?? '');
    const input = step.input === undefined ? null : await this.eval(step.input, path, bindings);
    const limits = {
      iterations: step.maxIterations ?? AGENT_DEFAULTS.maxIterations,
      tokens: step.maxTokens ?? AGENT_DEFAULTS.maxTokens,
      timeMs: step.timeoutMs ?? AGENT_DEFAULTS.timeoutMs,
    };
    const approve = new Set(step.approve ?? []);
    const tools = new Map<string, AgentToolBinding>();
    for (const ref of step.tools ?? []) {
      const { binding, action } = splitAgentTool(ref);
      const connector = await this.bounded(this.limits.deadline - Date.now(), path, () => this.effects.connector(binding));
      const definition = connector.actions[action];
      if (!definition) throw new StepFailure('unknown_action', `${connector.name} has no action ${action}`, path);
      tools.set(agentToolName(ref), { ref, binding, connectorKey: binding.split(':')[0], connectorName: connector.name, action, definition, approve: approve.has(ref) });
    }
    const offered: AgentTool[] = [...tools].map(([name, t]) => ({
      name,
      description: `${t.definition.name} (${t.connectorName}${t.definition.readOnly ? ', reads only' : ''}): ${t.definition.description}`,
      inputSchema: withoutAnnotations(t.definition.input) as Record<string, unknown>,
    }));
    const context = (step.context ?? []).map((id) => `$steps.${id} = ${JSON.stringify(bindings.steps[id] ?? null)}`);
    const system = [
      instructions,
      context.length ? `Results of earlier steps of this workflow:\n${context.join('\n')}` : '',
      step.output ? `Give your final answer as JSON only (no prose, no code fence), valid against this JSON Schema:\n${JSON.stringify(step.output)}` : '',
    ]
      .filter(Boolean)
      .join('\n\n');
    const validate = step.output ? agentOutputValidator(step.output) : null;
    const summary = { provider: step.provider, model: step.model ?? null, instructions, input, tools: [...tools.values()].map((t) => t.ref) };
    const messages: ModelMessage[] = [{ role: 'user', content: typeof input === 'string' ? input : JSON.stringify(input) }];
    const used: TokenUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
    let spentMs = 0;
    let toolCalls = 0;
    let invalidAnswers = 0;
    const fail = (code: string, message: string): never => {
      record({ input: summary, status: 'failed', error: { code, message }, usage: { ...used } });
      throw new StepFailure(code, message, path);
    };
    record({ input: summary, status: 'running' });
    for (let turn = 0; ; turn++) {
      const turnPath = `${path}/turn[${turn}]`;
      const replayed = this.done.get(turnPath);
      let answer: ModelAnswer;
      if (replayed?.status === 'succeeded') {
        answer = { ...(replayed.output as Omit<ModelAnswer, 'usage'>), usage: replayed.usage ?? { inputTokens: 0, outputTokens: 0, totalTokens: 0 } };
        spentMs += replayed.durationMs;
      } else {
        this.checkLimits(path);
        if (turn >= limits.iterations) fail('agent_iterations_exhausted', `The agent made ${turn} model calls, its limit (maxIterations), without giving a final answer`);
        if (used.totalTokens >= limits.tokens)
          fail('agent_tokens_exhausted', `The agent used ${used.totalTokens} tokens, over its budget of ${limits.tokens} (maxTokens), without giving a final answer`);
        if (spentMs >= limits.timeMs)
          fail(
            'agent_time_exhausted',
            `The agent's model and tool calls took ${Math.round(spentMs)} ms, its time budget of ${limits.timeMs} ms (timeoutMs), without a final answer`,
          );
        const recordTurn = this.recorder(turnPath, 'model', 'model');
        const remaining = limits.tokens - used.totalTokens;
        const call: ModelCall = { provider: step.provider, model: step.model, system, messages, tools: offered, ...(remaining < 4096 ? { maxOutputTokens: remaining } : {}) };
        // Written before the call with the tool calls before it, so a crash during it repeats this model call, never a finished tool call.
        recordTurn({ status: 'running', input: { messages: messages.length } });
        if (!(await this.effects.checkpoint(this.records))) throw new RunStopped();
        try {
          answer = await this.bounded(limits.timeMs - spentMs, turnPath, (signal) => this.effects.model(call, signal));
        } catch (error) {
          const failure =
            error instanceof StepTimeout
              ? { code: 'agent_time_exhausted', message: `The agent ran out of its time budget of ${limits.timeMs} ms (timeoutMs) waiting for the model` }
              : error instanceof RunStopped || (error instanceof StepFailure && error.code === 'run_timed_out')
                ? null
                : classifyModelError(error);
          const rec = recordTurn({ status: 'failed', input: { messages: messages.length }, ...(failure ? { error: failure } : {}) });
          if (!failure) throw error;
          spentMs += rec.durationMs;
          fail(failure.code, failure.message);
        }
        const done = recordTurn({
          input: { messages: messages.length },
          output: { text: answer!.text, toolCalls: answer!.toolCalls, finishReason: answer!.finishReason, model: answer!.model },
          usage: answer!.usage,
        });
        spentMs += done.durationMs;
      }
      addUsage(used, answer!.usage);
      messages.push({
        role: 'assistant',
        content: [
          ...(answer!.text ? [{ type: 'text' as const, text: answer!.text }] : []),
          ...answer!.toolCalls.map((c) => ({ type: 'tool-call' as const, toolCallId: c.id, toolName: c.name, input: c.input })),
        ],
      });
      if (answer!.toolCalls.length === 0) {
        let result: unknown = answer!.text;
        if (validate) {
          const checked = validate(answer!.text);
          if ('errors' in checked) {
            invalidAnswers++;
            if (invalidAnswers > 1) fail('agent_output_invalid', `The agent's answer does not match the step's output schema, also after being told why: ${checked.errors}`);
            messages.push({ role: 'user', content: `Your answer is not valid: ${checked.errors}. Answer again with only the JSON, valid against the schema.` });
            continue;
          }
          result = checked.value;
        }
        const output: AgentOutput = { answer: result, usage: { ...used }, modelCalls: turn + 1, toolCalls };
        this.capOutput(output, path);
        record({ input: summary, output, usage: { ...used } });
        return output;
      }
      const results: ToolResultPart[] = [];
      for (const [j, call] of answer!.toolCalls.entries()) {
        const callPath = `${turnPath}/call[${j}]`;
        const { output, durationMs } = await this.agentToolCall(step, callPath, call, tools.get(call.name), summary, record);
        spentMs += durationMs;
        toolCalls++;
        results.push({ type: 'tool-result', toolCallId: call.id, toolName: call.name, output });
      }
      messages.push({ role: 'tool', content: results });
    }
  }

  /**
   * One tool call of an agent: replayed when it finished before (succeeded, failed or rejected —
   * never made twice), else approved first when the step says so, then made. A failure or a
   * rejection is the model's to handle: it gets it as the tool's result.
   */
  private async agentToolCall(
    step: AgentStep,
    path: string,
    call: ModelAnswer['toolCalls'][number],
    tool: AgentToolBinding | undefined,
    summary: unknown,
    recordAgent: Recorder,
  ): Promise<{ output: ToolResultPart['output']; durationMs: number }> {
    const prior = this.done.get(path);
    if (prior && (prior.status === 'succeeded' || prior.status === 'failed' || prior.status === 'skipped')) {
      return { output: toolResult(prior), durationMs: prior.status === 'skipped' ? 0 : prior.durationMs };
    }
    this.checkLimits(path);
    const record = this.recorder(path, call.name, 'tool');
    if (!tool) {
      const rec = record({
        input: call.input,
        status: 'failed',
        error: { code: 'unknown_tool', message: `There is no tool named ${call.name}; the tools are ${[...(step.tools ?? [])].map(agentToolName).join(', ') || 'none'}` },
      });
      return { output: toolResult(rec), durationMs: 0 };
    }
    // The model's arguments are checked against the action's schema before anyone is asked or anything is sent.
    const invalid = inputProblems(tool.definition.input as Record<string, unknown>, call.input);
    if (invalid) {
      const rec = record({
        input: call.input,
        status: 'failed',
        error: { code: 'invalid_tool_input', message: `The arguments do not fit ${call.name}'s input schema: ${invalid}` },
      });
      return { output: toolResult(rec), durationMs: 0 };
    }
    let approval: ApprovalOutcome | undefined;
    if (tool.approve) {
      const outcome = await this.effects.approval(
        path,
        {
          id: step.id,
          type: 'approval',
          title: '',
          approvers: step.approvers ?? AGENT_DEFAULTS.approvers,
          ...(step.approvalTimeoutMs ? { timeoutMs: step.approvalTimeoutMs, onTimeout: 'reject' as const } : {}),
        },
        () => this.toolApprovalText(tool, call.input),
      );
      if ('pending' in outcome) {
        record({ input: call.input, status: 'waiting', output: { approvalId: outcome.pending } });
        recordAgent({ input: summary, status: 'waiting' });
        throw new Park(null);
      }
      approval = outcome;
      if (!outcome.approved) {
        const why =
          outcome.decidedVia === 'timeout' ? 'nobody approved it in time' : `${outcome.decidedBy ?? 'a person'} rejected it${outcome.comment ? `: ${outcome.comment}` : ''}`;
        const rec = record({ input: call.input, status: 'skipped', approval, error: { code: 'approval_rejected', message: `The call was not made: ${why}` } });
        return { output: toolResult(rec), durationMs: 0 };
      }
    }
    const started = performance.now();
    try {
      await this.callProvider(
        { path, id: call.name, type: 'tool', connector: tool.connectorKey, connectionKey: tool.binding, kind: 'action', action: tool.action },
        call.input,
        RETRY_DEFAULTS,
        STEP_TIMEOUT_DEFAULT_MS,
        record,
        approval ? { approval } : {},
      );
    } catch (error) {
      if (!(error instanceof StepFailure) || error.code === 'run_timed_out' || error.code === 'step_output_too_large') throw error;
    }
    const rec = this.records.find((r) => r.path === path)!;
    return { output: toolResult(rec), durationMs: performance.now() - started };
  }

  /**
   * The approval a person sees for an agent's tool call, in plain words: what it will do, with
   * what. A value from an option source shows as its name (`#support`, not `C0123`).
   */
  private async toolApprovalText(tool: AgentToolBinding, input: unknown): Promise<Asked> {
    const properties = ((tool.definition.input as { properties?: Record<string, { title?: string; 'x-options'?: string }> }).properties ?? {}) as Record<
      string,
      { title?: string; 'x-options'?: string }
    >;
    const fields = Object.entries(input && typeof input === 'object' ? (input as Record<string, unknown>) : {});
    const names: Record<string, string> = {};
    for (const [key, value] of fields) {
      const source = properties[key]?.['x-options'];
      if (source && typeof value === 'string') names[key] = (await this.effects.optionLabels(tool.binding, source, [value]))[value] ?? value;
    }
    const lines = fields.map(([key, value]) => {
      const text = names[key] ?? (typeof value === 'string' ? value : JSON.stringify(value));
      // Further lines of a value are indented, so they never read as a field of their own.
      return `${properties[key]?.title ?? key}: ${(text.length > 500 ? `${text.slice(0, 500)}…` : text).replace(/\n/g, '\n  ')}`;
    });
    return { title: `The AI agent wants to: ${tool.definition.name} in ${tool.connectorName}`.slice(0, 500), description: lines.join('\n').slice(0, 5000) };
  }
}

type Recorder = (fields: Partial<StepRecord>) => StepRecord;

interface AgentToolBinding {
  ref: string;
  binding: string;
  connectorKey: string;
  connectorName: string;
  action: string;
  definition: ConnectorDefinition['actions'][string];
  approve: boolean;
}

/** An agent step's output: `$steps.<id>.answer` is its final answer (parsed JSON with an output schema). */
export interface AgentOutput {
  answer: unknown;
  usage: TokenUsage;
  modelCalls: number;
  toolCalls: number;
}

function addUsage(total: TokenUsage, more: TokenUsage): void {
  total.inputTokens += more.inputTokens;
  total.outputTokens += more.outputTokens;
  total.totalTokens += more.totalTokens;
}

/** What the model is told a finished tool call gave. */
function toolResult(record: StepRecord): ToolResultPart['output'] {
  if (record.status === 'skipped') return { type: 'execution-denied', reason: record.error?.message };
  if (record.status === 'failed') return { type: 'error-text', value: `${record.error?.code ?? 'error'}: ${record.error?.message ?? 'the call failed'}` };
  return { type: 'json', value: (record.output ?? null) as never };
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validators = new WeakMap<object, ReturnType<typeof ajv.compile>>();

/** Parses a final answer as JSON (a code fence around it tolerated) and checks it against the step's schema. */
function agentOutputValidator(schema: Record<string, unknown>): (text: string) => { value: unknown } | { errors: string } {
  let validate = validators.get(schema);
  if (!validate) validators.set(schema, (validate = ajv.compile(schema)));
  return (text) => {
    const json = text.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, '$1');
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      return { errors: 'it is not JSON' };
    }
    if (validate(value)) return { value };
    return { errors: ajv.errorsText(validate.errors, { dataVar: 'answer' }) };
  };
}

/** A JSON Schema without our `x-…` annotations (option sources…), which a model's tool schema does not need. */
function withoutAnnotations(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutAnnotations);
  if (!schema || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key]) => !key.startsWith('x-'))
      .map(([key, value]) => [key, withoutAnnotations(value)]),
  );
}

/** What is wrong with an action's input (a step's computed input, a tool call's arguments), or null. */
export function inputProblems(schema: Record<string, unknown>, input: unknown): string | null {
  let validate = validators.get(schema);
  if (!validate) validators.set(schema, (validate = ajv.compile(schema)));
  return validate(input) ? null : ajv.errorsText(validate.errors, { dataVar: 'input' });
}

/** A failed model call, in the run's words: the provider's status when it gave one. */
function classifyModelError(error: unknown): { code: string; message: string } {
  if (error instanceof StepFailure || error instanceof AppError) return { code: error.code, message: error.message };
  const status = (error as { statusCode?: number }).statusCode;
  const message = error instanceof Error ? error.message : String(error);
  return { code: status ? `model_http_${status}` : 'model_error', message: `The model call failed: ${message}` };
}
