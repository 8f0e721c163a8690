import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { GroupCommit } from '../common/batching/group-commit';
import { acrossTenants, tenantSql } from '../common/tenancy/tenant-sql';
import { TenantId, trustedTenantId } from '../common/tenancy/tenant-id';
import type { FlowDefinition } from '../flows/definition/flow-definition.schema';
import { runView } from '../flows/flows.dto';
import { PROCESS_ID } from '../process-identity';
import { afterCommit } from '../webhooks/after-commit';
import { WebhookEventsService } from '../webhooks/webhook-events.service';
import type { RunFinished } from './run-events';
import { CONNECTION_READ, ReadConnection, readConnection } from '../connections/connection-row';
import type { Run, StepRecord } from './run.entity';

/** A run as the worker executes it: the run, its flow's key and settings, its connections and its end user. */
export interface LoadedRun {
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
  crashed_executions: number;
  flow_key: string;
  settings: Record<string, unknown>;
  connections: Record<string, string>;
  end_user_id: string;
  external_id: string;
  display_name: string | null;
  email: string | null;
  metadata: Record<string, unknown>;
  instance_id: string | null;
  trigger_type: string;
  tool: string | null;
  created_at: Date;
  /** Whether an endpoint was subscribed to run.succeeded or run.failed when the run was claimed. */
  run_webhooks: boolean;
  /** The run's connections by binding, read with the run (a deleted one is absent). */
  bound: Record<string, ReadConnection>;
}

interface QuietFinish {
  id: string;
  status: string;
  result: string;
  error: string | null;
  steps: string;
  startedAt: Date;
  finishedAt: Date;
  activeMs: number;
}

export type RunError = { code: string; message: string; step?: string };

/**
 * A batch as one JSON array for `jsonb_to_recordset`: `plain` fields are serialised, `raw` ones are
 * JSON text already (a timeline, a result) and are spliced in as they are — neither escaped again
 * nor parsed and serialised twice, as one array parameter per column would be.
 */
function batchJson<T>(items: T[], plain: (item: T) => Record<string, unknown>, raw: (item: T) => Record<string, string>): string {
  return `[${items
    .map((item) => {
      const own = JSON.stringify(plain(item));
      const spliced = Object.entries(raw(item)).map(([key, json]) => `${JSON.stringify(key)}:${json}`);
      return `${own.slice(0, -1)}${own.length > 2 ? ',' : ''}${spliced.join(',')}}`;
    })
    .join(',')}]`;
}

const ACTIVE = `status IN ('queued', 'running', 'waiting')`;
/** Ends this process's execution mark (see CLAIM_EXECUTION) in the statement that ends an execution; $3 is PROCESS_ID. */
const END_EXECUTION = `execution_owner = CASE WHEN execution_owner = $3 THEN NULL ELSE execution_owner END`;
const RUN_WEBHOOKS = `SELECT 1 FROM webhook_endpoints WHERE tenant_id = $1 AND enabled AND event_types && ARRAY['run.succeeded', 'run.failed']`;

/**
 * Poison runs. An execution marks the run as its own (`execution_owner` = PROCESS_ID) and clears
 * the mark when it ends, however it ends, while its process lives. Finding another process's mark
 * when starting means that execution never ended; it counts as a crash only when that process has
 * no connection left to PostgreSQL (its PROCESS_ID is every connection's application_name, and a
 * killed process's connections close with it): a live process that merely lost its job's lock
 * under load is not a crash. Its own mark (an end this process could not write) is not either.
 */
const CLAIM_EXECUTION = `UPDATE runs SET execution_owner = $3,
    crashed_executions = crashed_executions + CASE WHEN execution_owner IS NOT NULL AND execution_owner <> $3
      AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = runs.execution_owner) THEN 1 ELSE 0 END
  WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND ${ACTIVE}`;

// Published versions never change, so their definitions are cached by id.
const VERSION_CACHE_LIMIT = 1000;

/** The worker's reads and writes of runs: every statement scoped to the run's tenant. */
@Injectable()
export class RunStore {
  private readonly versions = new Map<string, FlowDefinition>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly webhooks: WebhookEventsService,
  ) {}

  /** The tenant of a run named by a job that does not carry it (jobs enqueued before they did). */
  async tenantOf(runId: string): Promise<TenantId | null> {
    const [row] = await acrossTenants<Array<{ tenant_id: string }>>(this.db, 'an old job names only its run', `SELECT tenant_id FROM runs WHERE id = $1`, [runId]);
    return row ? trustedTenantId(row.tenant_id) : null;
  }

  /**
   * Loads an active run and claims its execution for this process (see CLAIM_EXECUTION), in one
   * query with its instance, template key and end user. A run without a flow (an MCP tool call) has
   * no instance or template: its definition, tool name and connections are its own. The bound
   * connections come with it, with their credentials (sealed). Null: deleted, finished or cancelled
   * meanwhile.
   */
  claim(tenantId: TenantId, runId: string): Promise<LoadedRun | null> {
    return this.claims.add(tenantId, runId);
  }

  private readonly claims = new GroupCommit<string, LoadedRun | null>(
    async (tenantId, runIds) => {
      const { rows } = await tenantSql(this.db).prepared<Omit<LoadedRun, 'bound'> & { bound: Array<{ binding: string; row: Record<string, unknown> }> }>(
        'run-claim',
        trustedTenantId(tenantId),
        `WITH r AS (${CLAIM_EXECUTION} RETURNING *)
         SELECT r.id, r.tenant_id, r.status, r.trigger, r.steps, r.started_at, r.version_id, r.definition, r.attempt, r.active_ms, r.crashed_executions,
                r.instance_id, r.trigger_type, r.tool, r.created_at, EXISTS (${RUN_WEBHOOKS}) AS run_webhooks,
                COALESCE(t.key, 'mcp:' || r.tool) AS flow_key, COALESCE(i.settings, '{}'::jsonb) AS settings, COALESCE(r.connections, i.connections) AS connections,
                u.id AS end_user_id, u.external_id, u.display_name, u.email, u.metadata,
                (SELECT COALESCE(jsonb_agg(jsonb_build_object('binding', b.key, 'row', ${CONNECTION_READ})), '[]')
                   FROM jsonb_each_text(COALESCE(r.connections, i.connections)) b
                   -- One primary-key lookup per binding (LIMIT keeps the planner from hashing the tenant's every connection).
                   CROSS JOIN LATERAL (SELECT * FROM connections WHERE id = CASE WHEN b.value ~ '^[0-9a-fA-F-]{36}$' THEN b.value::uuid END AND tenant_id = $1 LIMIT 1) c) AS bound
           FROM r LEFT JOIN flow_instances i ON i.id = r.instance_id JOIN end_users u ON u.id = r.end_user_id LEFT JOIN flow_templates t ON t.id = r.template_id
          WHERE r.instance_id IS NULL OR i.id IS NOT NULL`,
        [runIds, PROCESS_ID],
      );
      const claimed = new Map<string, LoadedRun>();
      for (const row of rows) {
        const bound: Record<string, ReadConnection> = {};
        for (const { binding, row: read } of row.bound) bound[binding] = readConnection(read);
        claimed.set(row.id, { ...row, bound });
      }
      return runIds.map((id) => claimed.get(id) ?? null);
    },
    (runId) => runId,
  );

  /** The run's definition: its own, or its pinned version's (cached: versions never change). */
  async definitionOf(run: LoadedRun): Promise<FlowDefinition> {
    if (run.definition) return run.definition;
    const id = run.version_id!;
    const cached = this.versions.get(id);
    if (cached) return cached;
    const [row]: Array<{ definition: FlowDefinition }> = await tenantSql(this.db).query(
      trustedTenantId(run.tenant_id),
      `SELECT definition FROM flow_template_versions WHERE tenant_id = $1 AND id = $2`,
      [id],
    );
    if (this.versions.size >= VERSION_CACHE_LIMIT) this.versions.delete(this.versions.keys().next().value!);
    this.versions.set(id, row.definition);
    return row.definition;
  }

  /** Persists the timeline so far; false when the run is no longer active (cancelled). */
  checkpoint(run: LoadedRun, records: StepRecord[], startedAt: Date, activeMs: number): Promise<boolean> {
    return this.checkpoints.add(run.tenant_id, { id: run.id, startedAt, steps: JSON.stringify(records), activeMs });
  }

  private readonly checkpoints = new GroupCommit<{ id: string; startedAt: Date; steps: string; activeMs: number }, boolean>(
    async (tenantId, runs) => {
      const { rows } = await tenantSql(this.db).prepared<{ id: string }>(
        'run-checkpoint',
        trustedTenantId(tenantId),
        `UPDATE runs SET status = 'running', started_at = COALESCE(runs.started_at, v.started_at), steps = v.steps, active_ms = v.active_ms
           FROM jsonb_to_recordset($2::jsonb) AS v(id uuid, started_at timestamptz, steps jsonb, active_ms integer)
          WHERE runs.tenant_id = $1 AND runs.id = v.id AND runs.${ACTIVE}
         RETURNING runs.id`,
        [
          batchJson(
            runs,
            (r) => ({ id: r.id, started_at: r.startedAt, active_ms: r.activeMs }),
            (r) => ({ steps: r.steps }),
          ),
        ],
      );
      const updated = new Set(rows.map((r) => r.id));
      return runs.map((r) => updated.has(r.id));
    },
    (run) => run.id,
  );

  /** Parks the run as waiting (a delay or an approval), ending this execution; false when it is no longer active. */
  async park(run: LoadedRun, records: StepRecord[], startedAt: Date, activeMs: number): Promise<boolean> {
    const [, parked]: [unknown, number] = await tenantSql(this.db).query(
      trustedTenantId(run.tenant_id),
      `UPDATE runs SET status = 'waiting', steps = $4, started_at = COALESCE(started_at, $5), active_ms = $6, ${END_EXECUTION} WHERE tenant_id = $1 AND id = $2 AND ${ACTIVE}`,
      [run.id, PROCESS_ID, JSON.stringify(records), startedAt, activeMs],
    );
    return parked > 0;
  }

  /**
   * The one place a run the engine executed reaches its final status (cancellation is in
   * RunsService), ending this execution. The update is conditional, so it never overwrites a
   * cancel. The run.succeeded / run.failed webhook is written by the same statement (outbox); when
   * no endpoint was subscribed at the claim, the statement only finishes the run if that is still
   * so, and is made again with the webhook otherwise. `also` writes in the same transaction.
   */
  async finish(
    run: LoadedRun,
    outcome: { status: 'succeeded' | 'failed'; result: unknown; error: RunError | null; timeline: StepRecord[]; startedAt: Date; activeMs: number },
    options: { also?: (manager: EntityManager) => Promise<void>; reply?: boolean } = {},
  ): Promise<RunFinished | null> {
    const { also, reply } = options;
    const tenantId = trustedTenantId(run.tenant_id);
    const { status, result, error, timeline, activeMs } = outcome;
    const type = status === 'succeeded' ? 'run.succeeded' : 'run.failed';
    // Worker time, like started_at: the webhook says exactly what the row holds.
    const finishedAt = new Date();
    const startedAt = run.started_at ?? outcome.startedAt;
    const update = `UPDATE runs SET status = $4, result = $5, error = $6, steps = $7, started_at = COALESCE(started_at, $8), finished_at = $9, active_ms = $10, ${END_EXECUTION}
      WHERE tenant_id = $1 AND id = $2 AND ${ACTIVE}`;
    const written = {
      id: run.id,
      status,
      result: JSON.stringify(result ?? null),
      error: error ? JSON.stringify(error) : null,
      steps: JSON.stringify(timeline),
      startedAt,
      finishedAt,
      activeMs,
    };
    const params = [run.id, PROCESS_ID, status, written.result, written.error, written.steps, startedAt, finishedAt, activeMs];
    const view = () =>
      runView({
        id: run.id,
        status,
        flow: run.instance_id ? run.flow_key : null,
        tool: run.tool,
        endUserExternalId: run.external_id,
        instanceId: run.instance_id,
        triggerType: run.trigger_type,
        trigger: run.trigger,
        result: result ?? null,
        error,
        steps: timeline,
        createdAt: run.created_at,
        startedAt,
        finishedAt,
        attempt: run.attempt,
      } as Run);
    const finished = (): RunFinished => ({ runId: run.id, status, ...(reply ? { run: view() } : {}) });
    const withWebhook = (manager: EntityManager | DataSource) => {
      const outbox = this.webhooks.outbox(type, { endUserId: run.external_id, run: view() }, '$11', '$12');
      return tenantSql(manager).query(tenantId, `WITH done AS (${update} RETURNING 1), ${outbox.ctes('done')} SELECT ${outbox.deliveryIds} AS delivery_ids FROM done`, [
        ...params,
        outbox.type,
        outbox.body,
      ]);
    };
    const write = async (manager: EntityManager | DataSource): Promise<RunFinished | null> => {
      const rows: Array<{ delivery_ids: string[] | null }> = await withWebhook(manager);
      if (rows.length === 0) return null;
      const deliveryIds = rows[0].delivery_ids ?? [];
      if (deliveryIds.length > 0) afterCommit(manager instanceof DataSource ? undefined : manager, () => void this.webhooks.enqueue(deliveryIds));
      return finished();
    };
    if (also) return this.db.transaction(async (manager) => (await write(manager)) && (await also(manager), finished()));
    if (!run.run_webhooks) {
      if (await this.quietFinishes.add(tenantId, written)) return finished();
    }
    return write(this.db);
  }

  /** Finishes of runs no endpoint listens to, grouped; false for one that is no longer active or now has a listener. */
  private readonly quietFinishes = new GroupCommit<QuietFinish, boolean>(
    async (tenantId, runs) => {
      const { rows } = await tenantSql(this.db).prepared<{ id: string }>(
        'run-finish-quiet',
        trustedTenantId(tenantId),
        `UPDATE runs SET status = v.new_status, result = v.result, error = v.error, steps = v.steps, started_at = COALESCE(runs.started_at, v.started_at),
                finished_at = v.finished_at, active_ms = v.active_ms, execution_owner = CASE WHEN runs.execution_owner = $2 THEN NULL ELSE runs.execution_owner END
           FROM jsonb_to_recordset($3::jsonb)
                AS v(id uuid, new_status text, result jsonb, error jsonb, steps jsonb, started_at timestamptz, finished_at timestamptz, active_ms integer)
          WHERE runs.tenant_id = $1 AND runs.id = v.id AND runs.${ACTIVE} AND NOT EXISTS (${RUN_WEBHOOKS})
         RETURNING runs.id`,
        [
          PROCESS_ID,
          batchJson(
            runs,
            (r) => ({ id: r.id, new_status: r.status, started_at: r.startedAt, finished_at: r.finishedAt, active_ms: r.activeMs }),
            (r) => ({ result: r.result, error: r.error ?? 'null', steps: r.steps }),
          ),
        ],
      );
      const updated = new Set(rows.map((r) => r.id));
      return runs.map((r) => updated.has(r.id));
    },
    (run) => run.id,
  );

  /**
   * Clears this process's execution mark from runs whose execution ended (see CLAIM_EXECUTION).
   * Across tenants: one statement for every run this process has to release.
   */
  async release(runIds: string[]): Promise<void> {
    await acrossTenants(this.db, "this process's own execution marks", `UPDATE runs SET execution_owner = NULL WHERE id = ANY($1::uuid[]) AND execution_owner = $2`, [
      runIds,
      PROCESS_ID,
    ]);
  }

  /** A timed-out approval: settled per its onTimeout, unless someone decided first. */
  async expireApproval(tenantId: TenantId, approvalId: string): Promise<void> {
    await tenantSql(this.db).query(
      tenantId,
      `UPDATE approvals SET status = 'expired', approved = (on_timeout = 'approve'), decided_via = 'timeout', decided_at = now() WHERE tenant_id = $1 AND id = $2 AND status = 'pending'`,
      [approvalId],
    );
  }
}
