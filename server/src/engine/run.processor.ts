import { InjectQueue, Process, Processor } from '@nestjs/bull';
import { Inject } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Job, Queue } from 'bull';
import type Redis from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { trustedTenantId } from '../common/tenancy/tenant-id';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ProviderClientService } from '../connections/provider-client.service';
import { evaluateTemplate } from '../flows/definition/expressions';
import { QUEUES } from '../queues/queues.module';
import { InjectRedis } from '../redis/redis.module';
import { Bindings, Effects, ExecStep, Executor, Park, StepFailure } from './executor';
import { publishRunFinished } from './run-events';
import type { StepRecord } from './run.entity';

/** Jobs carry the run id only; everything else is read from PostgreSQL. */
export interface RunJob {
  runId: string;
}

interface LoadedRun {
  id: string;
  tenant_id: string;
  status: string;
  trigger: unknown;
  steps: StepRecord[];
  started_at: Date | null;
  version_id: string;
  settings: Record<string, unknown>;
  connections: Record<string, string>;
  end_user_id: string;
  external_id: string;
  display_name: string | null;
  email: string | null;
  metadata: Record<string, unknown>;
}

// Published versions never change, so their definitions are cached by id.
const VERSION_CACHE_LIMIT = 1000;

@Processor(QUEUES.runs)
export class RunProcessor {
  private readonly versions = new Map<string, { steps: ExecStep[] }>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRedis() private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clients: ProviderClientService,
    private readonly logger: PinoLogger,
    @InjectQueue(QUEUES.runs) private readonly runsQueue: Queue<RunJob>,
  ) {
    logger.setContext('RunProcessor');
  }

  @Process({ concurrency: 50 })
  async process(job: Job<RunJob>): Promise<void> {
    // One query for the run, its instance and its end user; the job id is the run id across tenants.
    const rows: LoadedRun[] = await this.db.query(
      `SELECT r.id, r.tenant_id, r.status, r.trigger, r.steps, r.started_at, r.version_id,
              i.settings, i.connections, u.id AS end_user_id, u.external_id, u.display_name, u.email, u.metadata
         FROM runs r JOIN flow_instances i ON i.id = r.instance_id JOIN end_users u ON u.id = r.end_user_id
        WHERE r.id = $1`,
      [job.data.runId],
    );
    const run = rows[0];
    if (!run || !['queued', 'running', 'waiting'].includes(run.status)) return; // deleted, finished or cancelled meanwhile
    const tenantId = trustedTenantId(run.tenant_id);
    const startedAt = run.started_at ?? new Date();
    const definition = await this.version(run.version_id);
    const bindings: Bindings = {
      trigger: run.trigger,
      inputs: run.settings,
      steps: {},
      endUser: { id: run.external_id, externalId: run.external_id, displayName: run.display_name, email: run.email, metadata: run.metadata },
      run: { id: run.id, startedAt: startedAt.toISOString() },
    };
    const effects: Effects = {
      action: async (connector, connectionKey, action, input, ctx) => {
        const { http, definition: connectorDef, connection } = await this.clients.forConnection(tenantId, this.connectionFor(run, connectionKey));
        const act = connectorDef.actions[action];
        if (!act) throw new StepFailure('unknown_action', `${connector} has no action ${action}`, action);
        return act.run({ http, config: connection.config, idempotencyKey: ctx.idempotencyKey, signal: ctx.signal }, input);
      },
      request: async (connector, request, ctx) => {
        const { http } = await this.clients.forConnection(tenantId, this.connectionFor(run, connector));
        const req = request as { method: 'GET'; path: string; query?: Record<string, string>; headers?: Record<string, string>; body?: unknown };
        const res = await http.request({ ...req, headers: { ...(req.headers ?? {}), 'idempotency-key': ctx.idempotencyKey } });
        return { status: res.status, headers: res.headers, body: res.data };
      },
      checkpoint: async (records) => {
        await this.db.query(`UPDATE runs SET status = 'running', started_at = COALESCE(started_at, $2), steps = $3 WHERE id = $1 AND status IN ('queued', 'running', 'waiting')`, [
          run.id,
          startedAt,
          JSON.stringify(records),
        ]);
      },
    };
    const done = new Map(run.steps.map((s) => [s.path, s]));
    const executor = new Executor(run.id, bindings, evaluateTemplate, effects, done);
    let status: 'succeeded' | 'failed';
    let result: unknown = null;
    let error: { code: string; message: string; step?: string } | null = null;
    try {
      ({ result } = await executor.execute(definition.steps));
      status = 'succeeded';
    } catch (failure) {
      if (failure instanceof Park) {
        // A delay: park the run and come back for it then (a job id per wake-up, so it never collides).
        await this.db.query(`UPDATE runs SET status = 'waiting', steps = $2, started_at = COALESCE(started_at, $3) WHERE id = $1 AND status IN ('queued', 'running', 'waiting')`, [
          run.id,
          JSON.stringify(executor.timeline),
          startedAt,
        ]);
        await this.runsQueue.add({ runId: run.id }, { jobId: `${run.id}:wake:${failure.until}`, delay: Math.max(0, failure.until - Date.now()), removeOnComplete: true, removeOnFail: 1000 });
        return;
      }
      status = 'failed';
      error =
        failure instanceof StepFailure
          ? { code: failure.code, message: failure.message, step: failure.path }
          : { code: 'engine_error', message: (failure as Error).message };
      if (!(failure instanceof StepFailure)) this.logger.error({ err: failure, runId: run.id, tenantId }, 'run failed in the engine');
    }
    await this.db.query(
      `UPDATE runs SET status = $2, result = $3, error = $4, steps = $5, started_at = COALESCE(started_at, $6), finished_at = now()
        WHERE id = $1 AND status IN ('queued', 'running', 'waiting')`,
      [run.id, status, JSON.stringify(result ?? null), error ? JSON.stringify(error) : null, JSON.stringify(executor.timeline), startedAt],
    );
    await publishRunFinished(this.redis, this.config.redis.prefix, { runId: run.id, status });
  }

  private connectionFor(run: LoadedRun, connectorKey: string): string {
    const id = run.connections[connectorKey];
    if (!id) throw new StepFailure('connection_missing', `No ${connectorKey} connection is bound to this flow; the end user must connect ${connectorKey} and re-enable the flow`, connectorKey);
    return id;
  }

  private async version(id: string): Promise<{ steps: ExecStep[] }> {
    const cached = this.versions.get(id);
    if (cached) return cached;
    const [row]: Array<{ definition: { steps: ExecStep[] } }> = await this.db.query(`SELECT definition FROM flow_template_versions WHERE id = $1`, [id]);
    if (this.versions.size >= VERSION_CACHE_LIMIT) this.versions.delete(this.versions.keys().next().value!);
    this.versions.set(id, row.definition);
    return row.definition;
  }
}
