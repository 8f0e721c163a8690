import { retryAfterMs } from '../common/http/retry';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { HttpError, PollTrigger, ProviderError, TriggerItem } from '@switchboard/connectors';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, QueryFailedError } from 'typeorm';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../common/errors/app-error';
import { dependencyOutage } from '../common/errors/dependency-errors';
import { storable } from '../common/http/hostile-input';
import { TenantId, trustedTenantId } from '../common/tenancy/tenant-id';
import { acrossTenants, tenantSql } from '../common/tenancy/tenant-sql';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ProviderClientService } from '../connections/provider-client.service';
import { ConnectorConfigsService, ResolvedConnector } from '../connector-configs/connector-configs.service';
import { RunLimiter } from '../engine/run-limits';
import { RunsService } from '../engine/runs.service';
import { bindingsHealthySql } from '../flows/binding-health';
import { bindingConnector, type PollTrigger as PollTriggerSpec } from '../flows/definition/flow-definition.schema';
import type { TriggerError } from './instance-trigger.entity';
import { connectorTrigger } from './instance-triggers.service';

/** Items one poll may start; the connector leaves the rest for the next poll (and says `more`). */
export const POLL_ITEM_LIMIT = 100;
/** After `more`, the next poll comes this soon instead of at the interval. */
const MORE_DELAY_MS = 1000;
/** Failures back off from the interval, doubling, up to this. */
const MAX_BACKOFF_MS = 3600_000;
/** How long the poller trusts a tenant's connector settings (a changed client secret reaches polls this late). */
const RESOLVE_CACHE_MS = 5000;
/** Consecutive failures before the trigger shows as failing (a single blip does not alarm anyone). */
const FAILING_AFTER = 2;

/** A claimed poll: its row as the claim answered it (the lease is its new `next_poll_at`). */
export interface Claimed {
  id: string;
  tenant_id: string;
  lease: Date;
  poll_cursor: unknown;
  polled_at: Date | null;
  trigger_input: Record<string, unknown> | null;
  poll_interval_seconds: number;
  backfill: number;
  failures: number;
  health: 'ok' | 'failing';
  trigger: PollTriggerSpec;
  connection_id: string | null;
  healthy: boolean;
}

/** What one poll ended with, for the caller's counts (and the bench). */
export type PollOutcome = 'polled' | 'failed' | 'skipped' | 'lost';

/**
 * Runs due poll triggers. Any number of workers may call `pollDue` at once. A claim takes due rows
 * fairly (round-robin across tenants, one poll per connection at a time) and moves their
 * `next_poll_at` forward by a lease; the provider is called outside any transaction; then the new
 * items' runs and the new cursor commit together, only if the lease is still this worker's. A
 * worker that dies mid-poll loses nothing: its lease runs out and another worker polls again from
 * the old cursor, and a run's idempotency key `poll:<item>` (unique per instance) keeps an item
 * seen twice from running twice. Runs are stored before they are queued, so Redis being away
 * delays them (the recovery sweep queues them) but loses none.
 */
@Injectable()
export class PollService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runs: RunsService,
    private readonly limiter: RunLimiter,
    private readonly clients: ProviderClientService,
    private readonly configs: ConnectorConfigsService,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('PollService');
  }

  /** Polls what is due at `now`, at most `limit` claimed at once; answers each poll's outcome (tests and one-off catch-ups). */
  async pollDue(now = new Date(), limit = this.config.polling.concurrency * 2): Promise<PollOutcome[]> {
    const claimed = await this.claim(now, limit);
    const resolve = this.resolver();
    const outcomes: PollOutcome[] = [];
    let next = 0;
    const lane = async () => {
      while (next < claimed.length) outcomes.push(await this.pollSafely(claimed[next++]!, resolve));
    };
    await Promise.all(Array.from({ length: Math.min(this.config.polling.concurrency, claimed.length) }, lane));
    return outcomes;
  }

  /**
   * The worker's poller: `concurrency` lanes take claimed rows from a local buffer, which is
   * refilled (one claim at a time) as soon as it runs low, so a slow provider holds up one lane,
   * not the batch. With nothing due, lanes wait `idleMs` and look again. Resolves once `signal`
   * aborts and the polls in hand are done (rows claimed but not started come back after their lease).
   */
  async pump(signal: AbortSignal, idleMs: number, onOutcome: (outcome: PollOutcome) => void = () => undefined): Promise<void> {
    const concurrency = this.config.polling.concurrency;
    // Each idle lane waits on the signal.
    setMaxListeners(concurrency + 10, signal);
    const buffer: Claimed[] = [];
    let claiming: Promise<number> | null = null;
    let resolve = this.resolver();
    let resolvedAt = Date.now();
    const refill = (): Promise<number> =>
      (claiming ??= this.claim(new Date(), concurrency)
        .then((rows) => (buffer.push(...rows), rows.length))
        .finally(() => (claiming = null)));
    const lane = async () => {
      while (!signal.aborted) {
        if (buffer.length <= concurrency / 2) void refill().catch(() => undefined);
        let row = buffer.shift();
        if (!row) {
          // PostgreSQL away or nothing due: wait for the claim in flight, then a tick.
          const got = await refill().catch((error: unknown) => (this.logger.warn({ err: error }, 'could not claim due polls; retrying'), 0));
          row = buffer.shift();
          if (!row) {
            if (got === 0) await sleep(idleMs, undefined, { signal }).catch(() => undefined);
            continue;
          }
        }
        // Connector settings are read once per tenant and connector for a few seconds, not per poll.
        if (Date.now() - resolvedAt > RESOLVE_CACHE_MS) [resolve, resolvedAt] = [this.resolver(), Date.now()];
        onOutcome(await this.pollSafely(row, resolve));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  }

  /** ConnectorConfigsService.resolve, remembered per tenant and connector for one batch. */
  private resolver(): (tenantId: TenantId, key: string) => Promise<ResolvedConnector> {
    const cache = new Map<string, Promise<ResolvedConnector>>();
    return (tenantId, key) => {
      const id = `${tenantId}:${key}`;
      let resolved = cache.get(id);
      if (!resolved) {
        resolved = this.configs.resolve(tenantId, key);
        resolved.catch(() => cache.delete(id));
        cache.set(id, resolved);
      }
      return resolved;
    };
  }

  /** One poll's trouble (PostgreSQL gone mid-way, say) is not the others': its lease brings it back. */
  private pollSafely(row: Claimed, resolve: ReturnType<PollService['resolver']>): Promise<PollOutcome> {
    return this.pollOne(row, resolve).catch((error: unknown) => {
      this.logger.warn({ err: error, instanceId: row.id }, 'poll could not finish; retried after its lease');
      return 'lost' as const;
    });
  }

  /**
   * Due rows, fairly: each tenant's oldest first, tenants taking turns (so one tenant's thousands of
   * instances cannot starve another's few), and one row per connection (polls of one account never
   * run in parallel). The UPDATE re-checks `next_poll_at`, so two workers never claim one row.
   */
  async claim(now: Date, limit: number): Promise<Claimed[]> {
    const leaseMs = this.config.polling.timeoutSeconds * 2000;
    // An UPDATE answers [rows, count].
    const [rows]: [Claimed[], number] = await acrossTenants(
      this.db,
      'the poller claims due poll triggers of every tenant (fairly, a few per tenant); being due is a property of the row',
      `WITH tenants AS (
         SELECT DISTINCT tenant_id FROM flow_instance_triggers WHERE next_poll_at <= $1 AND type = 'poll'
       ), candidates AS (
         SELECT c.id, c.next_poll_at, c.tenant_id,
                i.connections ->> (v.definition -> 'trigger' ->> 'connector') AS connection_id,
                row_number() OVER (PARTITION BY c.tenant_id ORDER BY c.next_poll_at) AS tenant_turn
           FROM tenants
           CROSS JOIN LATERAL (
             SELECT t.id, t.tenant_id, t.next_poll_at FROM flow_instance_triggers t
              WHERE t.tenant_id = tenants.tenant_id AND t.next_poll_at <= $1 AND t.type = 'poll'
              ORDER BY t.next_poll_at
              -- Enough of each tenant's for its turns (twice its even share), not the whole limit from each of many.
              LIMIT LEAST($2, GREATEST(16, 2 * ceil($2::numeric / (SELECT count(*) FROM tenants))))
           ) c
           JOIN flow_instances i ON i.id = c.id
           JOIN flow_template_versions v ON v.id = i.version_id
       ), picked AS (
         SELECT id FROM (
           SELECT id, tenant_turn, next_poll_at, row_number() OVER (PARTITION BY connection_id ORDER BY next_poll_at) AS connection_turn FROM candidates
         ) ranked
          WHERE connection_turn = 1
          ORDER BY tenant_turn, next_poll_at
          LIMIT $2
       )
       UPDATE flow_instance_triggers t SET next_poll_at = $3
         FROM picked, flow_instances i, flow_template_versions v
        WHERE t.id = picked.id AND t.next_poll_at <= $1 AND i.id = t.id AND v.id = i.version_id
       RETURNING t.id, t.tenant_id, t.next_poll_at AS lease, t.poll_cursor, t.polled_at, t.trigger_input, t.poll_interval_seconds,
                 t.backfill, t.failures, t.health, v.definition -> 'trigger' AS trigger,
                 i.connections ->> (v.definition -> 'trigger' ->> 'connector') AS connection_id, ${bindingsHealthySql('i')} AS healthy`,
      [now, limit, new Date(now.getTime() + leaseMs)],
    );
    return rows;
  }

  private async pollOne(row: Claimed, resolve: ReturnType<PollService['resolver']>): Promise<PollOutcome> {
    const tenantId = trustedTenantId(row.tenant_id);
    const intervalMs = row.poll_interval_seconds * 1000;
    if (!row.healthy || !row.connection_id) {
      // Paused (its connection is gone or unusable): the instance view says so already. Look again
      // at the interval; reconnecting resumes from the same cursor.
      await this.release(row, { next_poll_at: this.jittered(Date.now() + intervalMs) });
      return 'skipped';
    }
    const first = row.polled_at === null;
    let result: { items: TriggerItem[]; cursor: unknown; more?: boolean };
    try {
      const definition = connectorTrigger(row.trigger) as PollTrigger;
      const {
        http,
        connection,
        definition: connector,
      } = await this.clients.forConnection(tenantId, row.connection_id, await resolve(tenantId, bindingConnector(row.trigger.connector)));
      const signal = AbortSignal.timeout(this.config.polling.timeoutSeconds * 1000);
      await this.limiter.throttle(row.connection_id, connector.rateLimit?.requestsPerSecond, signal).catch((error: unknown) => {
        // Redis away: poll anyway (the provider's own 429 still backs this instance off).
        if (signal.aborted) throw error;
      });
      const limit = first ? Math.max(row.backfill, 1) : POLL_ITEM_LIMIT;
      result = await definition.poll(
        { http: { request: (request) => http.request(request, signal) }, config: connection.config, idempotencyKey: `poll:${row.id}`, signal },
        { input: row.trigger_input ?? {}, cursor: first ? null : row.poll_cursor, limit },
      );
      if (!result || !Array.isArray(result.items) || result.cursor === undefined) throw new ProviderError(`${definition.name} answered no items or no cursor`, 'poll_invalid');
    } catch (error) {
      // Our PostgreSQL, not the provider: no failure is counted; the lease brings the poll back.
      if (ourDatabase(error)) throw error;
      return this.failed(row, error);
    }
    // The first poll only finds where "now" is, unless the flow asks for a backfill of the newest items.
    // Later polls run every item answered (the cursor is past them all, so dropping any would lose it).
    const items = first ? (row.backfill > 0 ? result.items.slice(-row.backfill) : []) : result.items;
    const next = result.more && !first ? Date.now() + MORE_DELAY_MS : this.jittered(Date.now() + intervalMs);
    const cursor = JSON.stringify(result.cursor ?? null);
    try {
      if (items.length === 0) {
        // Most polls find nothing: one statement, no transaction.
        const [, updated] = await tenantSql(this.db).query(
          tenantId,
          `UPDATE flow_instance_triggers SET poll_cursor = $4::jsonb, polled_at = now(), next_poll_at = $5, health = 'ok', failures = 0, last_error = NULL, updated_at = now()
            WHERE tenant_id = $1 AND id = $2 AND next_poll_at = $3`,
          [row.id, row.lease, cursor, new Date(next)],
        );
        if (updated === 0) return 'lost';
        if (row.health === 'failing') this.logger.info({ instanceId: row.id, tenantId }, 'poll trigger recovered');
        return 'polled';
      }
      const enqueue = await this.db.transaction(async (manager) => {
        const toEnqueue: Array<() => Promise<void>> = [];
        for (const item of items) {
          const key = `poll:${String(item.dedupeKey ?? item.id).slice(0, 200)}`;
          const { created, enqueue: enqueueRun } = await this.runs.startInstanceRun(
            { tenantId, instanceId: row.id, triggerType: 'poll', trigger: storable(item.data ?? {}), idempotencyKey: key },
            manager,
          );
          if (created) toEnqueue.push(enqueueRun);
        }
        const [, updated] = await tenantSql(manager).query(
          tenantId,
          `UPDATE flow_instance_triggers
              SET poll_cursor = $4::jsonb, polled_at = now(), next_poll_at = $5, health = 'ok', failures = 0, last_error = NULL,
                  last_item_at = CASE WHEN $6 THEN now() ELSE last_item_at END, updated_at = now()
            WHERE tenant_id = $1 AND id = $2 AND next_poll_at = $3`,
          [row.id, row.lease, cursor, new Date(next), toEnqueue.length > 0],
        );
        // Someone else owns the row now (switched off, changed, or the lease ran out): this poll's
        // work is theirs to redo, so none of it is kept.
        if (updated === 0) throw new LeaseLost();
        return toEnqueue;
      });
      if (row.health === 'failing') this.logger.info({ instanceId: row.id, tenantId }, 'poll trigger recovered');
      // After commit, so a worker never picks up a run it cannot read yet.
      for (const run of enqueue)
        await run().catch((error: unknown) => this.logger.warn({ err: error, instanceId: row.id }, 'poll run stored but not queued; the recovery sweep queues it'));
      return 'polled';
    } catch (error) {
      if (error instanceof LeaseLost) return 'lost';
      if (error instanceof AppError && (error.code === 'not_found' || error.code === 'flow_paused')) return 'lost';
      if (ourDatabase(error)) throw error;
      return this.failed(row, error);
    }
  }

  /** Backs off (the provider's Retry-After, else doubling from the interval) and records why. */
  private async failed(row: Claimed, error: unknown): Promise<PollOutcome> {
    const failures = row.failures + 1;
    const described = describe(error);
    const asked = error instanceof HttpError ? retryAfter(error.headers) : undefined;
    const backoff = asked ?? Math.min(MAX_BACKOFF_MS, row.poll_interval_seconds * 1000 * 2 ** Math.min(failures - 1, 16));
    const next = this.jittered(Date.now() + backoff);
    const failing = failures >= FAILING_AFTER || !described.transient;
    const lastError: TriggerError = { code: described.code, message: described.message, at: new Date().toISOString(), retryAt: new Date(next).toISOString() };
    const level = failing ? 'warn' : 'info';
    this.logger[level]({ instanceId: row.id, tenantId: row.tenant_id, failures, code: described.code, retryInMs: next - Date.now() }, `poll failed: ${described.message}`);
    await this.release(row, { next_poll_at: next, failures, last_error: lastError, ...(failing ? { health: 'failing' } : {}) });
    return 'failed';
  }

  /** Writes a claimed row's outcome, if the row is still this worker's. */
  private async release(row: Claimed, values: { next_poll_at: number; failures?: number; last_error?: TriggerError; health?: 'failing' }): Promise<void> {
    await tenantSql(this.db).query(
      trustedTenantId(row.tenant_id),
      `UPDATE flow_instance_triggers
          SET next_poll_at = $4, failures = COALESCE($5, failures), last_error = COALESCE($6::jsonb, last_error), health = COALESCE($7, health), updated_at = now()
        WHERE tenant_id = $1 AND id = $2 AND next_poll_at = $3`,
      [row.id, row.lease, new Date(values.next_poll_at), values.failures ?? null, values.last_error ? JSON.stringify(values.last_error) : null, values.health ?? null],
    );
  }

  /** ±10 %, so instances enabled together drift apart instead of polling in lockstep. */
  private jittered(at: number): number {
    const spread = (at - Date.now()) * 0.1;
    return Math.round(at + (Math.random() * 2 - 1) * spread);
  }
}

class LeaseLost extends Error {}

/**
 * A failure of our PostgreSQL (a query, the pool), not of the provider: a bare socket error code
 * is left to the provider, since the poll's HTTP call may raise one too.
 */
function ourDatabase(error: unknown): boolean {
  return error instanceof QueryFailedError || (dependencyOutage(error) === 'database' && typeof (error as { code?: unknown }).code !== 'string');
}

/** What the end user and the team are told, and whether it may pass by itself. */
function describe(error: unknown): { code: string; message: string; transient: boolean } {
  if (error instanceof AppError) return { code: error.code, message: error.message, transient: !error.code.startsWith('connection_') };
  if (error instanceof HttpError) {
    const transient = error.retryable;
    const code = error.status === 401 || error.status === 403 ? 'provider_auth_failed' : error.status === 429 ? 'provider_rate_limited' : 'provider_error';
    return { code, message: error.message, transient };
  }
  if (error instanceof ProviderError) return { code: error.code, message: error.message, transient: false };
  const e = error as Error;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return { code: 'provider_timeout', message: 'The provider did not answer in time', transient: true };
  return { code: 'provider_unreachable', message: e?.message ?? String(error), transient: true };
}

/** Retry-After (seconds or an HTTP date) in ms, capped. */
function retryAfter(headers: Record<string, string>): number | undefined {
  const ms = retryAfterMs(headers['retry-after']);
  return ms ? Math.min(ms, MAX_BACKOFF_MS) : undefined;
}
