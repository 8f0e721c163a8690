import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AuthedHttpClient } from '@switchboard/connectors';
import type { Queue } from 'bull';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AppError } from '../common/errors/app-error';
import type { TenantId } from '../common/tenancy/tenant-id';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ConnectorConfigsService } from '../connector-configs/connector-configs.service';
import { CredentialsService } from '../connections/credentials.service';
import { OptionsService } from '../connections/options.service';
import { AbortableHttpClient, ProviderClientService } from '../connections/provider-client.service';
import { evaluateTemplate } from '../flows/definition/expressions';
import { bindingConnector } from '../flows/definition/flow-definition.schema';
import { LlmModels } from '../llm-providers/llm-models.service';
import { QUEUES } from '../queues/queues.module';
import { Broadcasts } from '../redis/broadcasts';
import { ApprovalRequests } from './approval-requests';
import { Bindings, Effects, Executor, inputProblems, ModelAnswer, ModelCall, Park, RunStopped, StepFailure } from './executor';
import { RUN_CANCELLED_CHANNEL, RunFinished } from './run-events';
import { RunJob, runJobIds, runJobOptions } from './run-jobs';
import { RunLimiter } from './run-limits';
import { LoadedRun, RunError, RunStore } from './run-store';
import { addTokens, MonthlyTokens, monthlyTokens } from './token-usage';

/**
 * A run whose executions took their process down this many times is failed (run_poisoned) instead
 * of started again. Two, not one: a worker killed for an unrelated reason (a deploy, another run's
 * crash) takes every run it was executing with it, and those runs deserve another try.
 */
export const POISON_AFTER_CRASHES = 2;

/**
 * Executes runs: loads one (claiming it), gives the executor its side effects — connections at
 * their rate, actions, approvals, model calls, checkpoints — and writes where it got to. Runs
 * executing here stop at once when a cancel is announced on Redis.
 */
@Injectable()
export class RunExecution implements OnModuleInit {
  /** Runs executing in this process, so a cancel announced on Redis stops them at once. */
  private readonly executing = new Map<string, AbortController>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly broadcasts: Broadcasts,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectQueue(QUEUES.runs) private readonly queue: Queue<RunJob>,
    private readonly store: RunStore,
    private readonly approvals: ApprovalRequests,
    private readonly limiter: RunLimiter,
    private readonly clients: ProviderClientService,
    private readonly credentials: CredentialsService,
    private readonly configs: ConnectorConfigsService,
    private readonly models: LlmModels,
    private readonly options: OptionsService,
    private readonly audit: AuditService,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('RunExecution');
  }

  onModuleInit(): void {
    // Without Redis a cancelled run still stops at its next checkpoint.
    this.broadcasts.on(RUN_CANCELLED_CHANNEL, (runId) => this.executing.get(runId)?.abort());
  }

  /**
   * Executes the run as far as it goes; answers its final status if it reached one, and whether the
   * statement that ended the execution also cleared its mark (else the caller releases it).
   */
  async execute(tenantId: TenantId, runId: string, reply = false): Promise<{ finished: RunFinished | null; released: boolean }> {
    const run = await this.store.claim(tenantId, runId);
    if (!run) return { finished: null, released: true }; // deleted, finished or cancelled meanwhile: nothing claimed
    const segmentStart = Date.now();
    const startedAt = run.started_at ?? new Date();
    if (run.crashed_executions >= POISON_AFTER_CRASHES) {
      this.logger.error({ runId: run.id, tenantId, crashedExecutions: run.crashed_executions }, 'run poisoned: its executions took worker processes down; failed, not retried');
      const error = {
        code: 'run_poisoned',
        message: `The run was stopped after ${run.crashed_executions} executions ended with the worker process gone (killed or crashed while executing it); it is not retried automatically`,
      };
      const finished = await this.store.finish(
        run,
        { status: 'failed', result: null, error, timeline: run.steps, startedAt, activeMs: run.active_ms },
        {
          reply,
          also: (manager) =>
            this.audit.record({ tenantId, type: 'system', id: null }, 'run.poisoned', { type: 'run', id: run.id }, { crashedExecutions: run.crashed_executions }, manager),
        },
      );
      return { finished, released: finished !== null };
    }
    const activeMs = () => run.active_ms + (Date.now() - segmentStart);
    const definition = await this.store.definitionOf(run);
    const timeoutMs = definition.timeoutMs ?? this.config.engine.runTimeoutSeconds * 1000;
    const cancel = new AbortController();
    this.executing.set(run.id, cancel);
    const bindings: Bindings = {
      trigger: run.trigger,
      inputs: run.settings,
      steps: {},
      endUser: { id: run.external_id, externalId: run.external_id, displayName: run.display_name, email: run.email, metadata: run.metadata },
      run: { id: run.id, startedAt: startedAt.toISOString() },
    };
    type Prepared = Awaited<ReturnType<ProviderClientService['forConnection']>>;
    const unusedBound = new Map(Object.entries(run.bound));
    /**
     * The connection's client, read first, then one call reserved at the connection's rate, so the
     * reservation is taken right before the first request goes out. Every further request of the
     * same step waits for its own turn.
     */
    const prepare = async (connectionKey: string, signal: AbortSignal): Promise<Prepared> => {
      const connectionId = this.connectionFor(run, connectionKey);
      // The connection as claimed with the run serves its first use; later ones read it afresh.
      const bound = unusedBound.get(connectionKey);
      unusedBound.delete(connectionKey);
      const client = await this.clients.forConnection(tenantId, connectionId, undefined, bound && this.credentials.unseal(bound)).catch((error: unknown) => {
        // Disconnected after the run was queued: say so, in the same words as a missing binding.
        if (error instanceof AppError && error.code === 'not_found') throw this.missing(connectionKey);
        throw error;
      });
      const rate = client.definition.rateLimit?.requestsPerSecond;
      await this.limiter.throttle(connectionId, rate, signal);
      let reserved = true;
      const http: AbortableHttpClient = {
        request: async (request, stepSignal = signal, delivery) => {
          if (!reserved) await this.limiter.throttle(connectionId, rate, stepSignal);
          reserved = false;
          return client.http.request(request, stepSignal, delivery);
        },
      };
      return { ...client, http };
    };
    // What an agent's tools look like needs only the connector's definition, not the credentials.
    const connectors = new Map<string, Promise<Prepared['definition']>>();
    let month: MonthlyTokens | null = null;
    const effects: Effects = {
      prepare,
      connector: (connectionKey) => {
        let found = connectors.get(connectionKey);
        if (!found) {
          this.connectionFor(run, connectionKey);
          const bound = run.bound[connectionKey];
          found = this.configs.resolve(tenantId, bound?.connection.connectorKey ?? bindingConnector(connectionKey), bound?.connectorStamp).then(({ definition }) => definition);
          found.catch(() => connectors.delete(connectionKey));
          connectors.set(connectionKey, found);
        }
        return found;
      },
      model: async (call, signal) => {
        const answer = await this.callModel(tenantId, call, signal, month);
        month = answer.month;
        return answer.answer;
      },
      action: async (connector, _connectionKey, action, input, ctx) => {
        const { http: client, definition: connectorDef, connection } = ctx.prepared as Prepared;
        const act = connectorDef.actions[action];
        if (!act) throw new StepFailure('unknown_action', `${connector} has no action ${action}`, action);
        // The computed input is checked before anything is sent: a clear error naming the field, never a provider's guess.
        const invalid = inputProblems(act.input as Record<string, unknown>, input);
        if (invalid) throw new StepFailure('invalid_action_input', `The input does not fit ${connectorDef.name}'s ${act.name}: ${invalid}`, action);
        // The step's signal (its timeout, the run's cancel) aborts every request the action makes.
        const http: AuthedHttpClient = { request: (request) => client.request(request, ctx.signal, ctx.delivery) };
        return act.run({ http, config: connection.config, idempotencyKey: ctx.idempotencyKey, signal: ctx.signal }, input);
      },
      request: async (_connectionKey, request, ctx) => {
        const { http } = ctx.prepared as Prepared;
        const req = request as { method: 'GET'; path: string; query?: Record<string, string>; headers?: Record<string, string>; body?: unknown };
        const res = await http.request({ ...req, headers: { ...(req.headers ?? {}), 'idempotency-key': ctx.idempotencyKey } }, ctx.signal, ctx.delivery);
        return { status: res.status, headers: res.headers, body: res.data };
      },
      approval: (path, step, asked) => this.approvals.findOrCreate(run, definition.name, path, step, asked),
      optionLabels: async (connectionKey, source, values) => {
        const connectionId = run.connections[connectionKey];
        return connectionId ? (await this.options.labels(tenantId, connectionId, source, values)).labels : {};
      },
      checkpoint: (records) => this.store.checkpoint(run, records, startedAt, activeMs()),
    };
    const done = new Map(run.steps.map((s) => [s.path, s]));
    // Round-robin by tenant in the expression sandbox: one tenant's slow expressions do not queue up ahead of others'.
    const executor = new Executor(run.id, bindings, (template, b) => evaluateTemplate(template, b, { fairnessKey: tenantId }), effects, done, {
      cancelled: cancel.signal,
      deadline: segmentStart + timeoutMs - run.active_ms,
      timeoutMs,
    });
    let status: 'succeeded' | 'failed';
    let result: unknown = null;
    let error: RunError | null = null;
    try {
      ({ result } = await executor.execute(definition.steps));
      status = 'succeeded';
    } catch (failure) {
      if (failure instanceof RunStopped) return { finished: null, released: false }; // cancelled: the cancel wrote the final state
      if (failure instanceof Park) {
        // A delay or an approval: park the run. A delay comes back by itself (a job id per wake-up,
        // so it never collides); an approval's decision or timeout enqueues the run.
        const parked = await this.store.park(run, executor.timeline, startedAt, activeMs());
        if (parked && failure.until !== null) {
          await this.queue.add({ runId: run.id, tenantId }, runJobOptions(runJobIds.wake(run.id, failure.until), Math.max(0, failure.until - Date.now())));
        }
        return { finished: null, released: parked };
      }
      status = 'failed';
      error = failure instanceof StepFailure ? { code: failure.code, message: failure.message, step: failure.path } : { code: 'engine_error', message: (failure as Error).message };
      if (!(failure instanceof StepFailure)) this.logger.error({ err: failure, runId: run.id, tenantId }, 'run failed in the engine');
    } finally {
      this.executing.delete(run.id);
    }
    const finished = await this.store.finish(run, { status, result, error, timeline: executor.timeline, startedAt, activeMs: activeMs() }, { reply });
    return { finished, released: finished !== null };
  }

  /**
   * One model call of an agent step, through the tenant's LLM provider, within the tenant's monthly
   * token cap (checked before, counted after: a call in flight may take the month past it). The
   * month's figure from this run's previous call stands in for reading it again.
   */
  private async callModel(tenantId: TenantId, call: ModelCall, signal: AbortSignal, known: MonthlyTokens | null): Promise<{ answer: ModelAnswer; month: MonthlyTokens }> {
    // A cap reached is read again: the tenant may have raised it since.
    const before = known && (known.cap === null || known.used < known.cap) ? known : await monthlyTokens(this.db, tenantId);
    if (before.cap !== null && before.used >= before.cap) {
      throw new StepFailure(
        'token_cap_reached',
        `The tenant's agents used ${before.used} tokens this month, its monthly cap of ${before.cap}; raise the cap (monthlyTokenCap) or wait for next month`,
        'model',
      );
    }
    const { model, modelName } = await this.models.model(tenantId, call.provider, call.model);
    // Required on the first model call: a worker that runs no agent does not carry the AI SDK.
    const { generateText, jsonSchema, tool } = require('ai') as typeof import('ai');
    const result = await generateText({
      model,
      system: call.system,
      messages: call.messages,
      tools: Object.fromEntries(call.tools.map((t) => [t.name, tool({ description: t.description, inputSchema: jsonSchema(t.inputSchema as never) })])),
      ...(call.maxOutputTokens ? { maxOutputTokens: call.maxOutputTokens } : {}),
      abortSignal: signal,
    });
    const usage = { inputTokens: result.usage.inputTokens ?? 0, outputTokens: result.usage.outputTokens ?? 0, totalTokens: 0 };
    usage.totalTokens = result.usage.totalTokens ?? usage.inputTokens + usage.outputTokens;
    const month = await addTokens(this.db, tenantId, usage);
    return {
      answer: {
        text: result.text,
        toolCalls: result.toolCalls.map((c) => ({ id: c.toolCallId, name: c.toolName, input: c.input })),
        finishReason: result.finishReason,
        usage,
        model: result.response.modelId || modelName,
      },
      month,
    };
  }

  private connectionFor(run: LoadedRun, connectionKey: string): string {
    const id = run.connections[connectionKey];
    if (!id) throw this.missing(connectionKey);
    return id;
  }

  private missing(connectionKey: string): StepFailure {
    const connector = bindingConnector(connectionKey);
    return new StepFailure(
      'connection_missing',
      `The ${connector} connection this flow uses was disconnected; the flow is paused until the end user connects ${connector} again`,
      connectionKey,
    );
  }
}
