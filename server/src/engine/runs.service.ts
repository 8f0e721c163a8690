import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { AppError, notFound } from '../common/errors/app-error';
import { redisAfterCommit } from '../queues/after-commit-redis';
import { PinoLogger } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import { GroupCommit } from '../common/batching/group-commit';
import { TenantId, trustedTenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { Connection } from '../connections/connection.entity';
import { EndUsersService } from '../end-users/end-users.service';
import { bindingProblems, bindingsHealthySql, PausedReason } from '../flows/binding-health';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { QUEUES } from '../queues/queues.module';
import { InjectRedis } from '../redis/redis.module';
import { Broadcasts } from '../redis/broadcasts';
import { publishRunFinished, RUN_CANCELLED_CHANNEL } from './run-events';
import { RunJob, runJobIds, runJobOptions } from './run-jobs';
import { tenantSql } from '../common/tenancy/tenant-sql';
import { Run, RunStatus } from './run.entity';
import type { RunView } from './runs.dto';
import { runView } from '../flows/flows.dto';
import { RunWaiter } from './run-waiter.service';
import { decodeTimeCursor, encodeTimeCursor } from '../common/http/cursors';

export const MAX_TRIGGER_PAYLOAD_BYTES = 256 * 1024;
const MAX_WAIT_MS = 30_000;

export interface RunFilters {
  status?: RunStatus;
  flow?: string;
  triggerType?: string;
  tool?: string;
  endUserId?: string;
  since?: Date;
  until?: Date;
  cursor?: string;
  limit: number;
}

interface EventToStart {
  externalId: string;
  name: string;
  /** The trigger payload as JSON. */
  trigger: string;
  key: string | null;
}

interface StartedEvent {
  inserted: Array<Pick<Run, 'id' | 'instanceId' | 'status'>>;
  paused: Array<{ id: string; key: string }>;
}

@Injectable()
export class RunsService {
  constructor(
    @InjectTenantScoped(Run) private readonly runs: TenantScopedRepository<Run>,
    @InjectDataSource() private readonly db: DataSource,
    @InjectQueue(QUEUES.runs) private readonly queue: Queue<RunJob>,
    private readonly endUsers: EndUsersService,
    private readonly waiter: RunWaiter,
    private readonly audit: AuditService,
    private readonly broadcasts: Broadcasts,
    @InjectRedis() private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('RunsService');
  }

  private assertPayload(payload: unknown): void {
    const size = Buffer.byteLength(JSON.stringify(payload ?? null));
    if (size > MAX_TRIGGER_PAYLOAD_BYTES) {
      throw new AppError('payload_too_large', `The trigger payload is ${size} bytes; the limit is ${MAX_TRIGGER_PAYLOAD_BYTES}`, { limit: MAX_TRIGGER_PAYLOAD_BYTES, size });
    }
  }

  /**
   * An app event: one run per enabled instance of this end user listening to it. The runs are
   * written before answering; with an idempotency key, a repeat returns the same runs.
   */
  async sendEvent(
    actor: Actor,
    input: { name: string; endUserId: string; payload?: unknown; idempotencyKey?: string },
  ): Promise<{ runs: Array<Pick<Run, 'id' | 'instanceId' | 'status'>>; skipped: PausedInstance[] }> {
    const { runs, paused } = await this.startEventRuns(actor, input);
    // Listening instances that are paused (a connection gone or unusable) start nothing; the answer names them.
    const skipped: PausedInstance[] = [];
    for (const row of paused) skipped.push({ instanceId: row.id, flow: row.key, ...(await this.pausedReason(actor.tenantId, row.id)) });
    return { runs, skipped };
  }

  /** Why an enabled instance is paused: its first binding whose connection is gone or unusable. */
  private async pausedReason(tenantId: TenantId, instanceId: string): Promise<PausedWhy> {
    const [instance]: Array<{ connections: Record<string, string>; end_user_id: string }> = await tenantSql(this.db).query(
      tenantId,
      `SELECT connections, end_user_id FROM flow_instances WHERE tenant_id = $1 AND id = $2`,
      [instanceId],
    );
    const owned: Array<{ id: string; status: Connection['status']; end_user_id: string }> = await tenantSql(this.db).query(
      tenantId,
      `SELECT id, status, end_user_id FROM connections WHERE tenant_id = $1 AND end_user_id = $2`,
      [instance.end_user_id],
    );
    const [problem] = bindingProblems(
      instance.connections,
      owned.map((c) => ({ id: c.id, status: c.status, endUserId: c.end_user_id })),
      instance.end_user_id,
    );
    return { reason: problem?.reason ?? 'connection_missing', connector: problem?.connector ?? '', binding: problem?.binding ?? '' };
  }

  private pausedError(flow: string, endUser: string, why: PausedWhy): AppError {
    const state = why.reason === 'connection_missing' ? 'was disconnected' : `is ${why.reason.slice('connection_'.length).replace('_', ' ')}`;
    return new AppError(
      'flow_paused',
      `Flow ${flow} is paused for end user ${endUser}: the ${why.connector} connection it uses ${state}; it resumes when the end user reconnects ${why.connector}`,
      { ...why },
    );
  }

  /**
   * Events' runs, written by group commit: for each event, its end user's listening instances, a run
   * for each healthy one and the paused ones named, in one statement per batch, and the new runs
   * enqueued together. Only when an event inserted nothing is its end user looked up on its own (a
   * 404 for an unknown end user, else simply no listening flow or a repeated key).
   */
  private readonly eventRuns = new GroupCommit<EventToStart, StartedEvent>(
    async (tenantId, events) => {
      const { rows } = await tenantSql(this.db).prepared<{ n: string; kind: 'run' | 'paused'; id: string; instance_id: string; status: RunStatus; key: string | null }>(
        'event-runs',
        trustedTenantId(tenantId),
        `WITH ev AS (SELECT * FROM unnest($2::text[], $3::text[], $4::jsonb[], $5::text[]) WITH ORDINALITY AS e(external_id, name, trigger, key, n)),
         listening AS MATERIALIZED (
           SELECT e.n, e.trigger, e.key, gen_random_uuid() AS run_id, i.tenant_id, i.id, i.template_id, i.version_id, i.end_user_id, ${bindingsHealthySql('i')} AS healthy
             FROM ev e JOIN end_users u ON u.tenant_id = $1 AND u.external_id = e.external_id
             JOIN flow_instances i ON i.tenant_id = u.tenant_id AND i.end_user_id = u.id AND i.trigger_event = e.name AND i.enabled),
         inserted AS (
           INSERT INTO runs (id, tenant_id, instance_id, template_id, version_id, end_user_id, trigger_type, trigger, idempotency_key, status)
           SELECT run_id, tenant_id, id, template_id, version_id, end_user_id, 'event', trigger, key, 'queued' FROM listening WHERE healthy
           ON CONFLICT (instance_id, idempotency_key) DO NOTHING
           RETURNING id, status)
         SELECT l.n, 'run' AS kind, r.id, l.id AS instance_id, r.status, NULL AS key FROM inserted r JOIN listening l ON l.run_id = r.id
         UNION ALL
         SELECT l.n, 'paused', l.id, l.id, NULL, t.key FROM listening l JOIN flow_templates t ON t.id = l.template_id WHERE NOT l.healthy`,
        [events.map((e) => e.externalId), events.map((e) => e.name), events.map((e) => e.trigger), events.map((e) => e.key)],
      );
      const started = events.map((): StartedEvent => ({ inserted: [], paused: [] }));
      for (const row of rows) {
        const event = started[Number(row.n) - 1];
        if (row.kind === 'run') event.inserted.push({ id: row.id, instanceId: row.instance_id, status: row.status });
        else event.paused.push({ id: row.id, key: row.key! });
      }
      await this.enqueue(
        trustedTenantId(tenantId),
        started.flatMap((e) => e.inserted.map((r) => r.id)),
      );
      return started;
    },
    // Two events with one idempotency key for one end user never share a statement.
    (event) => (event.key === null ? randomUUID() : `${event.externalId}\u0000${event.name}\u0000${event.key}`),
  );

  private async startEventRuns(
    actor: Actor,
    input: { name: string; endUserId: string; payload?: unknown; idempotencyKey?: string },
  ): Promise<{ runs: Array<Pick<Run, 'id' | 'instanceId' | 'status'>>; paused: Array<{ id: string; key: string }> }> {
    this.assertPayload(input.payload);
    const key = input.idempotencyKey ?? null;
    const trigger = JSON.stringify({ event: input.name, ...(isObject(input.payload) ? input.payload : { payload: input.payload ?? null }) });
    const { inserted, paused } = await this.eventRuns.add(actor.tenantId, { externalId: input.endUserId, name: input.name, trigger, key });
    const runs = inserted;
    if ((runs.length > 0 || paused.length > 0) && key === null) return { runs, paused };
    const endUser = await this.endUsers.get(actor, input.endUserId);
    if (key === null) return { runs, paused };
    // With a key, answer every run of this event and key, new or from an earlier call.
    const all = await this.runs
      .query(actor.tenantId, 'r')
      .andWhere('r.endUserId = :endUserId AND r.idempotencyKey = :key AND r.triggerType = :type', { endUserId: endUser.id, key, type: 'event' })
      .getMany();
    return { runs: all, paused };
  }

  /**
   * The host runs one flow for one end user, optionally waiting for its result: the instance is
   * found and the run written in one statement, and a waiting caller listens before the run exists,
   * so the worker's announcement (with the finished run) is the answer.
   */
  async runFlow(
    actor: Actor,
    key: string,
    input: { endUserId: string; input?: unknown; idempotencyKey?: string; wait?: boolean; timeoutMs?: number },
  ): Promise<{ run: RunView; finished: boolean }> {
    this.assertPayload(input.input);
    const runId = randomUUID();
    const listening = input.wait ? this.waiter.listen(runId) : null;
    try {
      // The end user is resolved in the same statement; looked up on its own only to name a 404 right.
      const {
        rows: [row],
      } = await tenantSql(this.db).prepared<{ instance_id: string; enabled: boolean; healthy: boolean; trigger_type: string; run_id: string | null; inserted: boolean | null }>(
        'flow-run',
        actor.tenantId,
        `WITH instance AS (
           SELECT i.id, i.enabled, ${bindingsHealthySql('i')} AS healthy, v.trigger_type FROM end_users u
             JOIN flow_instances i ON i.tenant_id = u.tenant_id AND i.end_user_id = u.id
             JOIN flow_templates t ON t.id = i.template_id JOIN flow_template_versions v ON v.id = i.version_id
            WHERE u.tenant_id = $1 AND u.external_id = $2 AND t.key = $3),
         run AS (
           INSERT INTO runs (id, tenant_id, instance_id, template_id, version_id, end_user_id, trigger_type, trigger, idempotency_key, status)
           SELECT $4, i.tenant_id, i.id, i.template_id, i.version_id, i.end_user_id, 'request', $5::jsonb, $6, 'queued'
             FROM flow_instances i JOIN instance ON instance.id = i.id
            WHERE i.tenant_id = $1 AND instance.enabled AND instance.healthy AND instance.trigger_type = 'request'
           ON CONFLICT (instance_id, idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
           RETURNING id, (xmax = 0) AS inserted)
         SELECT instance.id AS instance_id, instance.enabled, instance.healthy, instance.trigger_type, run.id AS run_id, run.inserted FROM instance LEFT JOIN run ON true`,
        [input.endUserId, key, runId, JSON.stringify(input.input ?? {}), input.idempotencyKey ?? null],
      );
      if (!row || !row.enabled) {
        await this.endUsers.get(actor, input.endUserId);
        throw new AppError('not_found', `Flow ${key} is not enabled for end user ${input.endUserId}`);
      }
      if (row.trigger_type !== 'request') throw new AppError('conflict', `Flow ${key} is triggered by ${row.trigger_type}, not by a request`);
      if (!row.healthy) throw this.pausedError(key, input.endUserId, await this.pausedReason(actor.tenantId, row.instance_id));
      const id = row.run_id!;
      if (row.inserted) await this.enqueue(actor.tenantId, [id], input.wait === true);
      if (input.wait) {
        const timeout = Math.min(input.timeoutMs ?? MAX_WAIT_MS, MAX_WAIT_MS);
        // A repeated idempotency key answers the earlier run: that one may have finished already, so check it.
        const event =
          listening && id === runId ? await listening.finished(timeout) : await this.waiter.wait(id, timeout, async () => isFinished((await this.get(actor.tenantId, id)).status));
        if (event?.run) return { run: event.run as RunView, finished: true };
      }
      const run = await this.get(actor.tenantId, id);
      return { run: runView(run), finished: isFinished(run.status) };
    } finally {
      listening?.stop();
    }
  }

  /**
   * Queues committed runs. The run row is the promise made to the caller: when Redis does not take
   * the job the trigger is still acknowledged, and the recovery sweep enqueues the run from
   * PostgreSQL once Redis is back. The job id is the run id, so nothing doubles.
   */
  private async enqueue(tenantId: TenantId, ids: string[], reply = false): Promise<void> {
    if (ids.length === 0) return;
    await this.afterCommit('enqueue runs', { runIds: ids }, () =>
      this.queue.addBulk(ids.map((runId) => ({ data: { runId, tenantId, ...(reply ? { reply: true as const } : {}) }, opts: runJobOptions(runJobIds.start(runId)) }))),
    );
  }

  private afterCommit(what: string, context: Record<string, unknown>, work: () => Promise<unknown>): Promise<void> {
    return redisAfterCommit(this.logger, what, context, work);
  }

  /**
   * Stops a queued, running or waiting run: it is `cancelled` at once; a worker executing it stops
   * at its next step boundary (told through Redis, and its checkpoints no longer match the row).
   * Pending approvals of the run are settled as expired.
   */
  async cancel(actor: Actor, id: string): Promise<Run> {
    await this.db.transaction(async (manager) => {
      const [, updated] = await tenantSql(manager).query(
        actor.tenantId,
        `UPDATE runs SET status = 'cancelled', finished_at = now(), error = $3 WHERE tenant_id = $1 AND id = $2 AND status IN ('queued', 'running', 'waiting')`,
        [id, JSON.stringify({ code: 'cancelled', message: 'The run was cancelled' })],
      );
      if (updated === 0) {
        const run = await this.get(actor.tenantId, id);
        throw new AppError('run_already_finished', `Run ${id} has already finished (${run.status}); only queued, running or waiting runs can be cancelled`, { status: run.status });
      }
      await tenantSql(manager).query(
        actor.tenantId,
        `UPDATE approvals SET status = 'expired', decided_via = 'cancel', decided_at = now() WHERE tenant_id = $1 AND run_id = $2 AND status = 'pending'`,
        [id],
      );
      await this.audit.record(actor, 'run.cancelled', { type: 'run', id }, {}, manager);
    });
    // Without Redis a worker executing it still stops at its next checkpoint (the row no longer matches).
    await this.afterCommit('announce a cancel', { runId: id }, () =>
      Promise.all([this.broadcasts.publish(RUN_CANCELLED_CHANNEL, id), publishRunFinished(this.redis, this.config.redis.prefix, { runId: id, status: 'cancelled' })]),
    );
    return this.get(actor.tenantId, id);
  }

  /**
   * Runs a failed run again from its failed step: same run, finished steps kept (their effects are
   * not repeated), failed records dropped, `attempt` + 1, queued again. A failed record whose
   * outcome is unknown is kept until the step runs again, so the repeat is marked a possible duplicate.
   */
  async retry(actor: Actor, id: string): Promise<Run> {
    const attempt = await this.db.transaction(async (manager) => {
      // An UPDATE answers [rows, count].
      const [rows]: [Array<{ attempt: number }>, number] = await tenantSql(manager).query(
        actor.tenantId,
        `UPDATE runs SET status = 'queued', attempt = attempt + 1, error = NULL, result = NULL, finished_at = NULL, active_ms = 0, crashed_executions = 0, execution_owner = NULL,
                steps = COALESCE((SELECT jsonb_agg(s ORDER BY n) FROM jsonb_array_elements(steps) WITH ORDINALITY AS e(s, n) WHERE s->>'status' <> 'failed' OR s->>'outcome' = 'unknown'), '[]'::jsonb)
          WHERE tenant_id = $1 AND id = $2 AND status = 'failed'
          RETURNING attempt`,
        [id],
      );
      if (rows.length === 0) {
        const run = await this.get(actor.tenantId, id);
        throw new AppError('run_not_retryable', `Run ${id} is ${run.status}; only failed runs can be retried`, { status: run.status });
      }
      await this.audit.record(actor, 'run.retried', { type: 'run', id }, { attempt: rows[0].attempt }, manager);
      return rows[0].attempt;
    });
    await this.afterCommit('enqueue a retry', { runId: id }, () => this.queue.add({ runId: id, tenantId: actor.tenantId }, runJobOptions(runJobIds.retry(id, attempt))));
    return this.get(actor.tenantId, id);
  }

  get(tenantId: TenantId, id: string, endUserId?: string): Promise<Run> {
    return this.runs.get(tenantId, endUserId ? { id, endUserId } : { id }, id);
  }

  async list(actor: Actor, filters: RunFilters, endUserId?: string): Promise<{ data: Run[]; nextCursor: string | null }> {
    const q = this.runs.query(actor.tenantId, 'r');
    if (endUserId) q.andWhere('r.endUserId = :endUserId', { endUserId });
    if (filters.status) q.andWhere('r.status = :status', { status: filters.status });
    if (filters.flow) q.andWhere('r.templateId IN (SELECT id FROM flow_templates WHERE tenant_id = :tenantId AND key = :flow)', { flow: filters.flow, tenantId: actor.tenantId });
    if (filters.triggerType) q.andWhere('r.triggerType = :triggerType', { triggerType: filters.triggerType });
    if (filters.tool) q.andWhere('r.tool = :tool', { tool: filters.tool });
    if (filters.endUserId)
      q.andWhere('r.endUserId IN (SELECT id FROM end_users WHERE tenant_id = :tenantId AND external_id = :externalId)', {
        externalId: filters.endUserId,
        tenantId: actor.tenantId,
      });
    if (filters.since) q.andWhere('r.createdAt >= :since', { since: filters.since });
    if (filters.until) q.andWhere('r.createdAt < :until', { until: filters.until });
    if (filters.cursor) {
      const { at, id } = decodeTimeCursor(filters.cursor);
      q.andWhere('(r.createdAt, r.id) < (:at, :id)', { at: at.toISOString(), id });
    }
    const rows = await q
      .orderBy('r.createdAt', 'DESC')
      .addOrderBy('r.id', 'DESC')
      .limit(filters.limit + 1)
      .getMany();
    const data = rows.slice(0, filters.limit);
    const last = data[data.length - 1];
    return { data, nextCursor: rows.length > filters.limit && last ? encodeTimeCursor(last.createdAt, last.id) : null };
  }

  /**
   * Creates a run without a flow: it executes `definition` (trusted: built by the server, never by a
   * caller) with `connections` as its bindings. An MCP tool call is one (trigger type `mcp`, `tool`
   * its name). Pass the transaction's `manager` to create it inside a transaction; call `enqueue()`
   * once committed.
   */
  async startDefinedRun(
    input: { tenantId: TenantId; endUserId: string; triggerType: string; trigger: unknown; definition: unknown; tool: string; connections: Record<string, string> },
    manager: DataSource['manager'] = this.db.manager,
  ): Promise<{ runId: string; enqueue: () => Promise<void> }> {
    this.assertPayload(input.trigger);
    const [row]: Array<{ id: string }> = await tenantSql(manager).query(
      input.tenantId,
      `INSERT INTO runs (tenant_id, end_user_id, trigger_type, trigger, definition, tool, connections, status)
       VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7::jsonb, 'queued') RETURNING id`,
      [input.endUserId, input.triggerType, JSON.stringify(input.trigger ?? null), JSON.stringify(input.definition), input.tool, JSON.stringify(input.connections)],
    );
    return { runId: row.id, enqueue: () => this.enqueue(input.tenantId, [row.id]) };
  }

  /** Waits until the run finishes or `timeoutMs` passes; true when it finished. */
  async waitFor(tenantId: TenantId, runId: string, timeoutMs: number): Promise<boolean> {
    const finished = await this.waiter.wait(runId, timeoutMs, async () => isFinished((await this.get(tenantId, runId)).status));
    return finished !== null;
  }

  notFound(id: string): AppError {
    return notFound('Run', id);
  }

  /**
   * Creates a run of one enabled instance (schedule and webhook triggers). The idempotency key is
   * unique per instance: a repeated key answers the first run with `created: false`. Pass the
   * transaction's `manager` to create it inside a transaction; call `enqueue()` once committed.
   */
  async startInstanceRun(
    input: { tenantId: TenantId; instanceId: string; triggerType: string; trigger: unknown; idempotencyKey: string | null },
    manager: DataSource['manager'] = this.db.manager,
  ): Promise<{ run: Run; created: boolean; enqueue: () => Promise<void> }> {
    const [row]: Array<{ id: string }> = await tenantSql(manager).query(
      input.tenantId,
      `INSERT INTO runs (tenant_id, instance_id, template_id, version_id, end_user_id, trigger_type, trigger, idempotency_key, status)
       SELECT tenant_id, id, template_id, version_id, end_user_id, $3, $4::jsonb, $5, 'queued' FROM flow_instances i WHERE tenant_id = $1 AND id = $2 AND enabled AND ${bindingsHealthySql('i')}
       ON CONFLICT (instance_id, idempotency_key) DO NOTHING
       RETURNING id`,
      [input.instanceId, input.triggerType, JSON.stringify(input.trigger ?? null), input.idempotencyKey],
    );
    const runs = this.runs.with(manager);
    if (row) return { run: await runs.get(input.tenantId, { id: row.id }), created: true, enqueue: () => this.enqueue(input.tenantId, [row.id]) };
    const first = input.idempotencyKey === null ? null : await runs.findOne(input.tenantId, { instanceId: input.instanceId, idempotencyKey: input.idempotencyKey });
    if (first) return { run: first, created: false, enqueue: async () => undefined };
    const [state]: Array<{ enabled: boolean; key: string; external_id: string }> = await tenantSql(manager).query(
      input.tenantId,
      `SELECT i.enabled, t.key, u.external_id FROM flow_instances i JOIN flow_templates t ON t.id = i.template_id JOIN end_users u ON u.id = i.end_user_id WHERE i.tenant_id = $1 AND i.id = $2`,
      [input.instanceId],
    );
    if (!state?.enabled) throw new AppError('not_found', 'The flow is not enabled');
    throw this.pausedError(state.key, state.external_id, await this.pausedReason(input.tenantId, input.instanceId));
  }
}

interface PausedWhy {
  reason: PausedReason;
  connector: string;
  binding: string;
}

/** A listening instance an event did not start, and why. */
export interface PausedInstance extends PausedWhy {
  instanceId: string;
  flow: string;
}

const isFinished = (status: string) => status === 'succeeded' || status === 'failed' || status === 'cancelled';
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
