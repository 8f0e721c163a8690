import { InjectQueue, Process, Processor } from '@nestjs/bull';
import { Inject, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AuthedHttpClient } from '@switchboard/connectors';
import type { Job, Queue } from 'bull';
import type Redis from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, EntityManager } from 'typeorm';
import { AppError } from '../common/errors/app-error';
import { PROCESS_ID } from '../process-identity';
import { AuditService } from '../audit/audit.service';
import { TenantId, trustedTenantId } from '../common/tenancy/tenant-id';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AbortableHttpClient, ProviderClientService } from '../connections/provider-client.service';
import { evaluateTemplate } from '../flows/definition/expressions';
import { APPROVAL_DEFAULTS, bindingConnector, type FlowDefinition } from '../flows/definition/flow-definition.schema';
import { QUEUES } from '../queues/queues.module';
import { InjectRedis } from '../redis/redis.module';
import { ApprovalOutcome, Bindings, Effects, Executor, ModelAnswer, ModelCall, Park, RunStopped, StepFailure } from './executor';
import { publishRunFinished, RUN_CANCELLED_CHANNEL, RunFinished } from './run-events';
import { RunJob, runJobOptions } from './run-jobs';
import { RunLimiter } from './run-limits';
import type { Run, StepRecord } from './run.entity';
import { runView } from '../flows/flows.dto';
import type { Approval } from './approval.entity';
import { approvalView } from './approvals.dto';
import { WebhookEventsService } from '../webhooks/webhook-events.service';
import { generateText, jsonSchema, tool } from 'ai';
import { LlmModels } from '../llm-providers/llm-models.service';
import { addTokens, monthlyTokens } from './token-usage';

export type { RunJob } from './run-jobs';

interface LoadedRun {
  id: string;
  tenant_id: string;
  status: string;
  trigger: unknown;
  steps: StepRecord[];
  started_at: Date | null;
  /** Null for a run without a flow (an MCP tool call), which carries its own `definition`. */
  version_id: string | null;
  definition: FlowDefinition | null;
  attempt: number;
  active_ms: number;
  flow_key: string;
  settings: Record<string, unknown>;
  connections: Record<string, string>;
  end_user_id: string;
  external_id: string;
  display_name: string | null;
  email: string | null;
  metadata: Record<string, unknown>;
}

interface CachedVersion {
  definition: FlowDefinition;
}

interface FinishedRow {
  instance_id: string | null;
  trigger_type: string;
  tool: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date;
}

interface ApprovalRow {
  id: string;
  status: string;
  approved: boolean | null;
  decided_via: string | null;
  decided_by: string | null;
  comment: string | null;
  decided_at: Date | null;
  expires_at: Date | null;
  created_at: Date;
  created: boolean;
}

/** A run over its tenant's cap (or executing elsewhere): the job is failed with a backoff and comes back. */
class RunDeferred extends Error {
  constructor(reason: string) {
    super(`postponed: ${reason}`);
    this.stack = this.message;
  }
}

/**
 * Poison runs. An execution marks the run as its own (`execution_owner` = PROCESS_ID) and clears
 * the mark when it ends, however it ends, while its process lives. Finding another process's mark
 * when starting means that execution never ended; it counts as a crash only when that process has
 * no connection left to PostgreSQL (its PROCESS_ID is every connection's application_name, and a
 * killed process's connections close with it): a live process that merely lost its job's lock
 * under load is not a crash. Its own mark (an end this process could not write) is not either.
 */
const CLAIM_EXECUTION = `UPDATE runs SET execution_owner = $2,
    crashed_executions = crashed_executions + CASE WHEN execution_owner IS NOT NULL AND execution_owner <> $2
      AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = runs.execution_owner) THEN 1 ELSE 0 END
  WHERE id = $1 AND status IN ('queued', 'running', 'waiting')`;

/**
 * A run whose executions took their process down this many times is failed (run_poisoned) instead
 * of started again. Two, not one: a worker killed for an unrelated reason (a deploy, another run's
 * crash) takes every run it was executing with it, and those runs deserve another try.
 */
export const POISON_AFTER_CRASHES = 2;
// Published versions never change, so their definitions are cached by id.
const VERSION_CACHE_LIMIT = 1000;

@Processor(QUEUES.runs)
export class RunProcessor implements OnModuleInit, OnModuleDestroy {
  private readonly versions = new Map<string, CachedVersion>();
  private readonly limiter: RunLimiter;
  /** Runs executing in this process, so a cancel announced on Redis stops them at once. */
  private readonly executing = new Map<string, AbortController>();
  private subscriber: Redis | null = null;
  /** Executions that ended while PostgreSQL could not be told (released with the next one). */
  private readonly unreleased = new Set<string>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRedis() private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clients: ProviderClientService,
    private readonly logger: PinoLogger,
    @InjectQueue(QUEUES.runs) private readonly runsQueue: Queue<RunJob>,
    private readonly webhooks: WebhookEventsService,
    private readonly audit: AuditService,
    private readonly models: LlmModels,
  ) {
    logger.setContext('RunProcessor');
    this.limiter = new RunLimiter(redis, {
      tenantMaxConcurrentRuns: config.engine.tenantMaxConcurrentRuns,
      leaseMs: config.queue.lockDurationMs,
      rateLimits: config.engine.connectionRateLimits,
    });
  }

  async onModuleInit(): Promise<void> {
    this.subscriber = this.redis.duplicate();
    this.subscriber.on('error', () => undefined); // reconnects and resubscribes by itself; readyz reports the outage
    this.subscriber.on('message', (_: string, runId: string) => this.executing.get(runId)?.abort());
    // Never fails the boot: without Redis the subscription is made when it is back (meanwhile a
    // cancelled run still stops at its next checkpoint). Subscribing again is harmless.
    const channel = `${this.config.redis.prefix}:${RUN_CANCELLED_CHANNEL}`;
    this.subscriber.on('ready', () => void this.subscriber?.subscribe(channel).catch(() => undefined));
    await this.subscriber.subscribe(channel).catch(() => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }

  @Process({ concurrency: 50 })
  async process(job: Job<RunJob>): Promise<void> {
    try {
      const { runId, expireApproval } = job.data;
      if (expireApproval) await this.expireApproval(expireApproval);
      const tenantId = job.data.tenantId ?? (await this.db.query(`SELECT tenant_id FROM runs WHERE id = $1`, [runId]))[0]?.tenant_id;
      if (!tenantId) return; // deleted meanwhile
      const slot = await this.limiter.acquire(tenantId, runId, String(job.id), this.wake);
      if (slot.answer !== 'acquired') {
        // Postponed, never failed: the same job comes back later. Over the tenant's cap it waits in
        // line and a release wakes it; the delay is only the fallback (a lapsed lease, a lost wake-up).
        // The same run executing elsewhere: back after a short, growing pause.
        const pause = slot.answer === 'tenant_busy' ? this.config.queue.lockDurationMs : Math.min(200 * 2 ** Math.min(job.attemptsMade, 3), 1600);
        job.opts.attempts = Number.MAX_SAFE_INTEGER;
        job.opts.backoff = { type: 'fixed', delay: Math.round(pause * (0.75 + Math.random() / 2)) };
        throw new RunDeferred(slot.answer);
      }
      let finished: RunFinished | null = null;
      try {
        finished = await this.execute(runId);
      } finally {
        await this.releaseExecution(runId);
        // Announce the finish to waiting callers in the same round trip as the slot's release.
        await slot.release(finished ? (batch) => publishRunFinished(batch, this.config.redis.prefix, finished!) : undefined);
      }
    } catch (error) {
      if (!(error instanceof RunDeferred)) job.discard(); // an infrastructure failure: recovery re-enqueues the run later
      throw error;
    }
  }

  /**
   * The execution ended (finished, parked, failed, cancelled, or stopped by an infrastructure
   * failure), with this process alive: it did not crash it. When PostgreSQL is down the release is
   * kept and written later, so an outage is never mistaken for a crash.
   */
  private async releaseExecution(runId: string): Promise<void> {
    const ids = [runId, ...this.unreleased];
    try {
      await this.db.query(`UPDATE runs SET execution_owner = NULL WHERE id = ANY($1::uuid[]) AND execution_owner = $2`, [ids, PROCESS_ID]);
      for (const id of ids) this.unreleased.delete(id); // not clear(): a release failing meanwhile keeps its id
    } catch {
      this.unreleased.add(runId);
    }
  }

  /**
   * Brings postponed jobs back now. One still active is between joining the line and being
   * postponed: answered, to be woken by the next release. Others (woke by themselves, gone) are dropped.
   */
  private readonly wake = async (jobIds: string[]): Promise<string[]> => {
    const notYet: string[] = [];
    for (const id of jobIds) {
      const job = await this.runsQueue.getJob(id);
      // Active: another worker is postponing it right now (a few ms); delayed: it just was.
      for (let tries = 0; job && tries < 10; tries++) {
        const promoted = await job.promote().then(() => true, () => false);
        if (promoted) break;
        const state = await job.getState();
        if (state === 'delayed') continue;
        if (state !== 'active') break; // woke by itself, or gone
        if (tries === 9) notYet.push(id);
        else await new Promise((r) => setTimeout(r, 10));
      }
    }
    return notYet;
  };

  /** A timed-out approval: settled per its onTimeout, unless someone decided first. */
  private async expireApproval(id: string): Promise<void> {
    await this.db.query(
      `UPDATE approvals SET status = 'expired', approved = (on_timeout = 'approve'), decided_via = 'timeout', decided_at = now() WHERE id = $1 AND status = 'pending'`,
      [id],
    );
  }

  /** Executes the run as far as it goes; answers its final status if it reached one. */
  private async execute(runId: string): Promise<RunFinished | null> {
    // One query for the run, its instance, its template key and its end user. A run without a flow
    // (an MCP tool call) has no instance or template: its definition, tool name and connections are its own.
    // Loading the run claims its execution for this process (see CLAIM_EXECUTION).
    const rows: Array<LoadedRun & { crashed_executions: number }> = await this.db.query(
      `WITH r AS (${CLAIM_EXECUTION} RETURNING *)
       SELECT r.id, r.tenant_id, r.status, r.trigger, r.steps, r.started_at, r.version_id, r.definition, r.attempt, r.active_ms, r.crashed_executions,
              COALESCE(t.key, 'mcp:' || r.tool) AS flow_key, COALESCE(i.settings, '{}'::jsonb) AS settings, COALESCE(r.connections, i.connections) AS connections,
              u.id AS end_user_id, u.external_id, u.display_name, u.email, u.metadata
         FROM r LEFT JOIN flow_instances i ON i.id = r.instance_id JOIN end_users u ON u.id = r.end_user_id LEFT JOIN flow_templates t ON t.id = r.template_id
        WHERE r.instance_id IS NULL OR i.id IS NOT NULL`,
      [runId, PROCESS_ID],
    );
    const run = rows[0];
    if (!run) return null; // deleted, finished or cancelled meanwhile
    const tenantId = trustedTenantId(run.tenant_id);
    const segmentStart = Date.now();
    const startedAt = run.started_at ?? new Date();
    if (run.crashed_executions >= POISON_AFTER_CRASHES) {
      this.logger.error({ runId: run.id, tenantId, crashedExecutions: run.crashed_executions }, 'run poisoned: its executions took worker processes down; failed, not retried');
      const error = {
        code: 'run_poisoned',
        message: `The run was stopped after ${run.crashed_executions} executions ended with the worker process gone (killed or crashed while executing it); it is not retried automatically`,
      };
      return this.finish(run, 'failed', null, error, run.steps, startedAt, run.active_ms, (manager) =>
        this.audit.record({ tenantId, type: 'system', id: null }, 'run.poisoned', { type: 'run', id: run.id }, { crashedExecutions: run.crashed_executions }, manager),
      );
    }
    const activeMs = () => run.active_ms + (Date.now() - segmentStart);
    const { definition } = run.definition ? { definition: run.definition } : await this.version(run.version_id!);
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
    /**
     * The connection's client, read first, then one call reserved at the connection's rate, so the
     * reservation is taken right before the first request goes out. Every further request of the
     * same step waits for its own turn.
     */
    const prepare = async (connectionKey: string, signal: AbortSignal): Promise<Prepared> => {
      const connectionId = this.connectionFor(run, connectionKey);
      const client = await this.clients.forConnection(tenantId, connectionId).catch((error: unknown) => {
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
    const connectors = new Map<string, Promise<Prepared['definition']>>();
    const effects: Effects = {
      prepare,
      connector: (connectionKey) => {
        let found = connectors.get(connectionKey);
        if (!found) {
          const connectionId = this.connectionFor(run, connectionKey);
          found = this.clients.forConnection(tenantId, connectionId).then(
            (client) => client.definition,
            (error: unknown) => {
              connectors.delete(connectionKey);
              if (error instanceof AppError && error.code === 'not_found') throw this.missing(connectionKey);
              throw error;
            },
          );
          connectors.set(connectionKey, found);
        }
        return found;
      },
      model: (call, signal) => this.callModel(tenantId, call, signal),
      action: async (connector, _connectionKey, action, input, ctx) => {
        const { http: client, definition: connectorDef, connection } = ctx.prepared as Prepared;
        const act = connectorDef.actions[action];
        if (!act) throw new StepFailure('unknown_action', `${connector} has no action ${action}`, action);
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
      approval: (path, step, asked) => this.approval(run, definition, path, step, asked),
      checkpoint: async (records) => {
        const [, updated] = await this.db.query(
          `UPDATE runs SET status = 'running', started_at = COALESCE(started_at, $2), steps = $3, active_ms = $4 WHERE id = $1 AND status IN ('queued', 'running', 'waiting')`,
          [run.id, startedAt, JSON.stringify(records), activeMs()],
        );
        return updated > 0;
      },
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
    let error: { code: string; message: string; step?: string } | null = null;
    try {
      ({ result } = await executor.execute(definition.steps));
      status = 'succeeded';
    } catch (failure) {
      if (failure instanceof RunStopped) return null; // cancelled: the cancel wrote the final state
      if (failure instanceof Park) {
        // A delay or an approval: park the run. A delay comes back by itself (a job id per wake-up,
        // so it never collides); an approval's decision or timeout enqueues the run.
        const [, parked] = await this.db.query(
          `UPDATE runs SET status = 'waiting', steps = $2, started_at = COALESCE(started_at, $3), active_ms = $4 WHERE id = $1 AND status IN ('queued', 'running', 'waiting')`,
          [run.id, JSON.stringify(executor.timeline), startedAt, activeMs()],
        );
        if (parked > 0 && failure.until !== null) {
          await this.runsQueue.add({ runId: run.id, tenantId }, runJobOptions(`${run.id}:wake:${failure.until}`, Math.max(0, failure.until - Date.now())));
        }
        return null;
      }
      status = 'failed';
      error =
        failure instanceof StepFailure
          ? { code: failure.code, message: failure.message, step: failure.path }
          : { code: 'engine_error', message: (failure as Error).message };
      if (!(failure instanceof StepFailure)) this.logger.error({ err: failure, runId: run.id, tenantId }, 'run failed in the engine');
    } finally {
      this.executing.delete(run.id);
    }
    return this.finish(run, status, result, error, executor.timeline, startedAt, activeMs());
  }

  /**
   * The one place a run the engine executed reaches its final status (cancellation is in
   * RunsService). The update is conditional, so it never overwrites a cancel. Waiting callers are
   * told by the caller, with the slot's release.
   */
  private async finish(
    run: LoadedRun,
    status: 'succeeded' | 'failed',
    result: unknown,
    error: { code: string; message: string; step?: string } | null,
    timeline: StepRecord[],
    startedAt: Date,
    activeMs: number,
    also?: (manager: EntityManager) => Promise<void>,
  ): Promise<RunFinished | null> {
    // The run.succeeded / run.failed webhook is written in the same transaction (outbox).
    return this.db.transaction(async (manager) => {
      const [rows, updated]: [FinishedRow[], number] = await manager.query(
        `UPDATE runs SET status = $2, result = $3, error = $4, steps = $5, started_at = COALESCE(started_at, $6), finished_at = now(), active_ms = $7
          WHERE id = $1 AND status IN ('queued', 'running', 'waiting')
          RETURNING instance_id, trigger_type, tool, created_at, started_at, finished_at`,
        [run.id, status, JSON.stringify(result ?? null), error ? JSON.stringify(error) : null, JSON.stringify(timeline), startedAt, activeMs],
      );
      if (updated === 0) return null;
      const row = rows[0];
      const view = runView({
        id: run.id,
        status,
        flow: row.instance_id ? run.flow_key : null,
        tool: row.tool,
        endUserExternalId: run.external_id,
        instanceId: row.instance_id,
        triggerType: row.trigger_type,
        trigger: run.trigger,
        result: result ?? null,
        error,
        steps: timeline,
        createdAt: row.created_at,
        startedAt: row.started_at,
        finishedAt: row.finished_at,
        attempt: run.attempt,
      } as Run);
      await this.webhooks.publish(trustedTenantId(run.tenant_id), status === 'succeeded' ? 'run.succeeded' : 'run.failed', { endUserId: run.external_id, run: view }, manager);
      await also?.(manager);
      return { runId: run.id, status };
    });
  }

  /**
   * The approval of one step of one attempt of a run: created the first time the run reaches the
   * step, found again on every resume (so never asked twice).
   */
  private async approval(
    run: LoadedRun,
    definition: FlowDefinition,
    path: string,
    step: Parameters<Effects['approval']>[1],
    asked: { title: string; description: string | null },
  ): Promise<ApprovalOutcome | { pending: string }> {
    const expiresAt = step.timeoutMs ? new Date(Date.now() + step.timeoutMs) : null;
    // The CTE's insert is invisible to the second SELECT (same snapshot): exactly one row either way.
    // The approval.requested webhook is written in the insert's transaction (outbox).
    const row = await this.db.transaction(async (manager) => {
      const [found]: ApprovalRow[] = await manager.query(
        `WITH created AS (
           INSERT INTO approvals (tenant_id, run_id, run_attempt, step_path, step_id, end_user_id, end_user_external_id, flow_key, flow_name, title, description, approvers, on_timeout, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
           ON CONFLICT (run_id, step_path, run_attempt) DO NOTHING
           RETURNING id, status, approved, decided_via, decided_by, comment, decided_at, expires_at, created_at, true AS created)
         SELECT * FROM created
         UNION ALL
         SELECT id, status, approved, decided_via, decided_by, comment, decided_at, expires_at, created_at, false FROM approvals WHERE run_id = $2 AND step_path = $4 AND run_attempt = $3`,
        [
          run.tenant_id,
          run.id,
          run.attempt,
          path,
          step.id,
          run.end_user_id,
          run.external_id,
          run.flow_key,
          definition.name,
          asked.title,
          asked.description,
          step.approvers ?? APPROVAL_DEFAULTS.approvers,
          step.onTimeout ?? APPROVAL_DEFAULTS.onTimeout,
          expiresAt,
        ],
      );
      if (found.created) {
        const approval = {
          id: found.id,
          runId: run.id,
          flowKey: run.flow_key,
          flowName: definition.name,
          stepId: step.id,
          endUserExternalId: run.external_id,
          title: asked.title,
          description: asked.description,
          approvers: step.approvers ?? APPROVAL_DEFAULTS.approvers,
          status: 'pending',
          decidedBy: null,
          decidedVia: null,
          comment: null,
          createdAt: new Date(found.created_at),
          expiresAt: found.expires_at ? new Date(found.expires_at) : null,
          decidedAt: null,
        } as Approval;
        await this.webhooks.publish(trustedTenantId(run.tenant_id), 'approval.requested', { endUserId: run.external_id, approval: approvalView(approval) }, manager);
      }
      return found;
    });
    if (row.status === 'pending') {
      if (row.expires_at) {
        // Added on every resume too (a crash may have come between the insert and this); the job id dedups it.
        await this.runsQueue.add(
          { runId: run.id, tenantId: run.tenant_id, expireApproval: row.id },
          runJobOptions(`approval:${row.id}:timeout`, Math.max(0, new Date(row.expires_at).getTime() - Date.now())),
        );
      }
      return { pending: row.id };
    }
    return {
      approved: row.approved === true,
      decidedBy: row.decided_by,
      decidedVia: row.decided_via ?? 'timeout',
      comment: row.comment,
      decidedAt: new Date(row.decided_at ?? Date.now()).toISOString(),
    };
  }

  /**
   * One model call of an agent step, through the tenant's LLM provider, within the tenant's monthly
   * token cap (checked before, counted after: a call in flight may take the month past it).
   */
  private async callModel(tenantId: TenantId, call: ModelCall, signal: AbortSignal): Promise<ModelAnswer> {
    const month = await monthlyTokens(this.db, tenantId);
    if (month.cap !== null && month.used >= month.cap) {
      throw new StepFailure('token_cap_reached', `The tenant's agents used ${month.used} tokens this month, its monthly cap of ${month.cap}; raise the cap (monthlyTokenCap) or wait for next month`, 'model');
    }
    const { model, modelName } = await this.models.model(tenantId, call.provider, call.model);
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
    await addTokens(this.db, tenantId, usage);
    return {
      text: result.text,
      toolCalls: result.toolCalls.map((c) => ({ id: c.toolCallId, name: c.toolName, input: c.input })),
      finishReason: result.finishReason,
      usage,
      model: result.response.modelId || modelName,
    };
  }

  private connectionFor(run: LoadedRun, connectionKey: string): string {
    const id = run.connections[connectionKey];
    if (!id) throw this.missing(connectionKey);
    return id;
  }

  private missing(connectionKey: string): StepFailure {
    const connector = bindingConnector(connectionKey);
    return new StepFailure('connection_missing', `The ${connector} connection this flow uses was disconnected; the flow is paused until the end user connects ${connector} again`, connectionKey);
  }

  private async version(id: string): Promise<CachedVersion> {
    const cached = this.versions.get(id);
    if (cached) return cached;
    const [row]: Array<{ definition: FlowDefinition }> = await this.db.query(`SELECT definition FROM flow_template_versions WHERE id = $1`, [id]);
    if (this.versions.size >= VERSION_CACHE_LIMIT) this.versions.delete(this.versions.keys().next().value!);
    const version = { definition: row.definition };
    this.versions.set(id, version);
    return version;
  }
}
