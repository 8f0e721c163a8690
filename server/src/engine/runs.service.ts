import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { DataSource } from 'typeorm';
import type { Actor } from '../auth/principal';
import { AppError, notFound } from '../common/errors/app-error';
import { TenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { EndUsersService } from '../end-users/end-users.service';
import { QUEUES } from '../queues/queues.module';
import { RunJob } from './run.processor';
import { Run, RunStatus } from './run.entity';
import { RunWaiter } from './run-waiter.service';

export const MAX_TRIGGER_PAYLOAD_BYTES = 256 * 1024;
const MAX_WAIT_MS = 30_000;

export interface RunFilters {
  status?: RunStatus;
  flow?: string;
  endUserId?: string;
  since?: Date;
  until?: Date;
  cursor?: string;
  limit: number;
}

const jobOptions = (runId: string) => ({ jobId: runId, removeOnComplete: true, removeOnFail: 1000, attempts: 1 });

@Injectable()
export class RunsService {
  constructor(
    @InjectTenantScoped(Run) private readonly runs: TenantScopedRepository<Run>,
    @InjectDataSource() private readonly db: DataSource,
    @InjectQueue(QUEUES.runs) private readonly queue: Queue<RunJob>,
    private readonly endUsers: EndUsersService,
    private readonly waiter: RunWaiter,
  ) {}

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
  async sendEvent(actor: Actor, input: { name: string; endUserId: string; payload?: unknown; idempotencyKey?: string }): Promise<Run[]> {
    this.assertPayload(input.payload);
    const endUser = await this.endUsers.get(actor, input.endUserId);
    const key = input.idempotencyKey ?? null;
    const inserted: Array<{ id: string }> = await this.db.query(
      `INSERT INTO runs (tenant_id, instance_id, template_id, version_id, end_user_id, trigger_type, trigger, idempotency_key, status)
       SELECT i.tenant_id, i.id, i.template_id, i.version_id, i.end_user_id, 'event', $4::jsonb, $5, 'queued'
         FROM flow_instances i
        WHERE i.tenant_id = $1 AND i.end_user_id = $2 AND i.trigger_event = $3 AND i.enabled
       ON CONFLICT (instance_id, idempotency_key) DO NOTHING
       RETURNING id`,
      [actor.tenantId, endUser.id, input.name, JSON.stringify({ event: input.name, ...(isObject(input.payload) ? input.payload : { payload: input.payload ?? null }) }), key],
    );
    await this.enqueue(inserted.map((r) => r.id));
    if (key === null) return this.byIds(actor.tenantId, inserted.map((r) => r.id));
    // With a key, answer every run of this event and key, new or from an earlier call.
    return this.runs.query(actor.tenantId, 'r').andWhere('r.endUserId = :endUserId AND r.idempotencyKey = :key AND r.triggerType = :type', { endUserId: endUser.id, key, type: 'event' }).getMany();
  }

  /** The host runs one flow for one end user, optionally waiting for its result. */
  async runFlow(actor: Actor, key: string, input: { endUserId: string; input?: unknown; idempotencyKey?: string; wait?: boolean; timeoutMs?: number }): Promise<{ run: Run; finished: boolean }> {
    this.assertPayload(input.input);
    const endUser = await this.endUsers.get(actor, input.endUserId);
    const [instance]: Array<{ id: string; enabled: boolean; trigger_type: string }> = await this.db.query(
      `SELECT i.id, i.enabled, v.trigger_type FROM flow_instances i
         JOIN flow_templates t ON t.id = i.template_id JOIN flow_template_versions v ON v.id = i.version_id
        WHERE i.tenant_id = $1 AND i.end_user_id = $2 AND t.key = $3`,
      [actor.tenantId, endUser.id, key],
    );
    if (!instance || !instance.enabled) throw new AppError('not_found', `Flow ${key} is not enabled for end user ${input.endUserId}`);
    if (instance.trigger_type !== 'request') throw new AppError('conflict', `Flow ${key} is triggered by ${instance.trigger_type}, not by a request`);
    const [row]: Array<{ id: string }> = await this.db.query(
      `INSERT INTO runs (tenant_id, instance_id, template_id, version_id, end_user_id, trigger_type, trigger, idempotency_key, status)
       SELECT tenant_id, id, template_id, version_id, end_user_id, 'request', $2::jsonb, $3, 'queued' FROM flow_instances WHERE id = $1
       ON CONFLICT (instance_id, idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
       RETURNING id, (xmax = 0) AS inserted`,
      [instance.id, JSON.stringify(input.input ?? {}), input.idempotencyKey ?? null],
    );
    if ((row as unknown as { inserted: boolean }).inserted) await this.enqueue([row.id]);
    if (input.wait) {
      const timeout = Math.min(input.timeoutMs ?? MAX_WAIT_MS, MAX_WAIT_MS);
      await this.waiter.wait(row.id, timeout, async () => isFinished((await this.get(actor.tenantId, row.id)).status));
    }
    const run = await this.get(actor.tenantId, row.id);
    return { run, finished: isFinished(run.status) };
  }

  private async enqueue(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    // The job id is the run id, so a recovery re-enqueue never doubles a run.
    await this.queue.addBulk(ids.map((runId) => ({ data: { runId }, opts: jobOptions(runId) })));
  }

  get(tenantId: TenantId, id: string, endUserId?: string): Promise<Run> {
    return this.runs.get(tenantId, endUserId ? { id, endUserId } : { id }, id);
  }

  private byIds(tenantId: TenantId, ids: string[]): Promise<Run[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.runs.query(tenantId, 'r').andWhere('r.id IN (:...ids)', { ids }).getMany();
  }

  async list(actor: Actor, filters: RunFilters, endUserId?: string): Promise<{ data: Run[]; nextCursor: string | null }> {
    const q = this.runs.query(actor.tenantId, 'r');
    if (endUserId) q.andWhere('r.endUserId = :endUserId', { endUserId });
    if (filters.status) q.andWhere('r.status = :status', { status: filters.status });
    if (filters.flow) q.andWhere('r.templateId IN (SELECT id FROM flow_templates WHERE tenant_id = :tenantId AND key = :flow)', { flow: filters.flow, tenantId: actor.tenantId });
    if (filters.endUserId) q.andWhere('r.endUserId IN (SELECT id FROM end_users WHERE tenant_id = :tenantId AND external_id = :externalId)', { externalId: filters.endUserId, tenantId: actor.tenantId });
    if (filters.since) q.andWhere('r.createdAt >= :since', { since: filters.since });
    if (filters.until) q.andWhere('r.createdAt < :until', { until: filters.until });
    if (filters.cursor) {
      const [at, id] = Buffer.from(filters.cursor, 'base64url').toString().split('|');
      if (!at || !id || Number.isNaN(Date.parse(at))) throw new AppError('validation_failed', 'cursor: is not a cursor this API returned', { errors: [{ path: 'cursor', message: 'is not a cursor this API returned' }] });
      q.andWhere('(r.createdAt, r.id) < (:at, :id)', { at, id });
    }
    const rows = await q.orderBy('r.createdAt', 'DESC').addOrderBy('r.id', 'DESC').limit(filters.limit + 1).getMany();
    const data = rows.slice(0, filters.limit);
    const last = data[data.length - 1];
    return { data, nextCursor: rows.length > filters.limit && last ? Buffer.from(`${last.createdAt.toISOString()}|${last.id}`).toString('base64url') : null };
  }

  notFound(id: string): AppError {
    return notFound('Run', id);
  }
}

const isFinished = (status: string) => status === 'succeeded' || status === 'failed' || status === 'cancelled';
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
