import { retryAfterMs } from '../common/http/retry';
import { InjectQueue, Process, Processor } from '@nestjs/bull';
import { Inject } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Job, Queue } from 'bull';
import type { IncomingMessage } from 'node:http';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { guardedRequest } from '../common/net/guarded-fetch';
import { OutboundGuard } from '../common/net/outbound-guard';
import { TenantId, trustedTenantId } from '../common/tenancy/tenant-id';
import { acrossTenants, tenantSql } from '../common/tenancy/tenant-sql';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { QUEUES } from '../queues/queues.module';
import { Vault } from '../vault/vault';
import { bindingFor } from '../vault/vault-fields';
import { InjectVault } from '../vault/vault.module';
import { DELIVER_JOB, DeliverJob, deliverJobId, WebhookEventsService } from './webhook-events.service';
import { AttemptOutcome, WebhookMetrics } from './webhook-metrics';
import { signWebhook } from './webhook-signature';
import type { DeliveryAttempt } from './webhook.entities';
import { PRUNE_WEBHOOKS_JOB, RECOVER_DELIVERIES_JOB } from './webhooks.scheduler';
import { liveOrClear } from '../queues/live-jobs';

const TIMEOUT_MS = 10_000;
const RESPONSE_BODY_BYTES = 1024;
const MAX_RETRY_AFTER_MS = 24 * 3600_000;
const LOG_ENTRIES = 50;

interface Claimed {
  tenant_id: string;
  endpoint_id: string;
  manual: boolean;
  url: string;
  secret: string;
  enabled: boolean;
  body: string;
  event_id: string;
  event_type: string;
}

/** Retry-After in milliseconds, at most a day; 0 without one. */
export function cappedRetryAfterMs(header: string | null): number {
  return Math.min(retryAfterMs(header) ?? 0, MAX_RETRY_AFTER_MS);
}

/** Reads at most `limit` bytes of an answer, then lets the rest go. */
async function readStart(res: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= limit) break; // leaving the loop destroys the stream
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/**
 * Sends outbound webhooks, one attempt per job. An attempt is claimed with a lease (so a duplicate
 * job or the recovery sweep cannot send it twice at once), signed per Standard Webhooks, posted
 * through the private-network guard with a 10 s timeout, and recorded; a failure schedules the
 * next attempt from WEBHOOK_RETRY_SCHEDULE_MS (with jitter, never sooner than a Retry-After).
 */
@Processor(QUEUES.webhooks)
export class WebhookDeliveryProcessor {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectVault() private readonly vault: Vault,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectQueue(QUEUES.webhooks) private readonly queue: Queue<DeliverJob>,
    private readonly guard: OutboundGuard,
    private readonly events: WebhookEventsService,
    private readonly metrics: WebhookMetrics,
    private readonly audit: AuditService,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('WebhookDeliveryProcessor');
  }

  @Process({ name: DELIVER_JOB, concurrency: 20 })
  async deliver(job: Job<DeliverJob>): Promise<void> {
    const { deliveryId, attempt } = job.data;
    const [rows]: [Claimed[], number] = await acrossTenants(
      this.db,
      'the job names only a delivery, and its row names the tenant',
      `UPDATE webhook_deliveries d SET leased_until = now() + interval '1 minute'
         FROM webhook_endpoints e, webhook_events ev
        WHERE d.id = $1 AND d.status = 'pending' AND d.attempts = $2 AND (d.leased_until IS NULL OR d.leased_until < now())
          AND e.id = d.endpoint_id AND ev.id = d.event_id
        RETURNING d.tenant_id, d.endpoint_id, d.manual, e.url, e.secret, e.enabled, ev.body, ev.id AS event_id, ev.type AS event_type`,
      [deliveryId, attempt],
    );
    const claimed = rows[0];
    if (!claimed) return; // done, deleted, or another attempt is in flight
    const tenantId = trustedTenantId(claimed.tenant_id);
    if (!claimed.enabled && !claimed.manual) {
      await tenantSql(this.db).query(
        tenantId,
        `UPDATE webhook_deliveries SET status = 'failed', error = $3, next_attempt_at = NULL, leased_until = NULL, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
        [deliveryId, 'Not sent: the endpoint is disabled'],
      );
      return;
    }

    const started = performance.now();
    const at = new Date();
    let responseStatus: number | null = null;
    let responseBody: string | null = null;
    let retryAfter: string | null = null;
    let error: string | null = null;
    try {
      let secret: string;
      try {
        secret = this.vault.decrypt(claimed.secret, bindingFor('webhookEndpointSecret', { tenantId, id: claimed.endpoint_id }));
      } catch {
        // Recorded as a failed attempt (and retried) rather than a crashing job: an operator can fix MASTER_KEY_PREVIOUS meanwhile.
        throw new Error("Not sent: the endpoint's signing secret cannot be decrypted with the configured master keys");
      }
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'Switchboard-Webhooks/1.0',
        ...signWebhook(secret, claimed.event_id, Math.floor(Date.now() / 1000), claimed.body),
      };
      const signal = AbortSignal.timeout(TIMEOUT_MS);
      const res = await guardedRequest(this.guard, new URL(claimed.url), { method: 'POST', headers, body: claimed.body, signal });
      responseStatus = res.statusCode ?? null;
      retryAfter = typeof res.headers['retry-after'] === 'string' ? res.headers['retry-after'] : null;
      responseBody = await readStart(res, RESPONSE_BODY_BYTES);
      if (responseStatus === null || responseStatus < 200 || responseStatus > 299) error = `HTTP ${responseStatus}`;
    } catch (caught) {
      const e = caught as Error & { code?: string };
      error = e.name === 'TimeoutError' || e.name === 'AbortError' ? `No answer within ${TIMEOUT_MS / 1000} s` : (e.message || e.code || 'request failed').slice(0, 300);
    }
    const latencyMs = Math.round(performance.now() - started);

    const succeeded = error === null;
    const attemptsNow = attempt + 1;
    const schedule = this.config.webhooks.retryScheduleMs;
    let outcome: AttemptOutcome = succeeded ? 'succeeded' : 'failed';
    let delayMs = 0;
    if (!succeeded && !claimed.manual && attemptsNow <= schedule.length) {
      outcome = 'retrying';
      // ±10 % jitter spreads retries of many deliveries that failed together.
      delayMs = Math.round(schedule[attemptsNow - 1] * (0.9 + Math.random() * 0.2));
      delayMs = Math.max(delayMs, cappedRetryAfterMs(retryAfter));
    }
    const entry: DeliveryAttempt = { at: at.toISOString(), responseStatus, latencyMs, error, responseBody };
    const [, changed] = await tenantSql(this.db).query(
      tenantId,
      `UPDATE webhook_deliveries
          SET attempts = attempts + 1, status = $4, response_status = $5, latency_ms = $6, error = $7, response_body = $8,
              last_attempt_at = $9, next_attempt_at = $10, leased_until = NULL, updated_at = now(),
              attempt_log = (CASE WHEN jsonb_array_length(attempt_log) >= ${LOG_ENTRIES} THEN attempt_log - 0 ELSE attempt_log END) || $11::jsonb
        WHERE tenant_id = $1 AND id = $2 AND attempts = $3`,
      [
        deliveryId,
        attempt,
        outcome === 'retrying' ? 'pending' : outcome,
        responseStatus,
        latencyMs,
        error,
        responseBody,
        at,
        outcome === 'retrying' ? new Date(Date.now() + delayMs) : null,
        JSON.stringify([entry]),
      ],
    );
    if (!changed) return;
    await this.metrics.count(outcome);
    this.logger.info(
      { deliveryId, endpointId: claimed.endpoint_id, eventType: claimed.event_type, attempt: attemptsNow, responseStatus, latencyMs, outcome },
      'webhook delivery attempt',
    );
    if (outcome === 'retrying') await this.events.enqueue([deliveryId], attemptsNow, delayMs);
    if (!claimed.manual && outcome !== 'retrying') await this.track(tenantId, claimed.endpoint_id, succeeded);
  }

  /** A success resets the endpoint's failure count; a delivery that used up its retries adds to it, and enough in a row disable it. */
  private async track(tenantId: TenantId, endpointId: string, succeeded: boolean): Promise<void> {
    if (succeeded) {
      await tenantSql(this.db).query(tenantId, `UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE tenant_id = $1 AND id = $2 AND consecutive_failures <> 0`, [
        endpointId,
      ]);
      return;
    }
    const limit = this.config.webhooks.disableAfterFailures;
    await this.db.transaction(async (manager) => {
      const [rows]: [Array<{ consecutive_failures: number; enabled: boolean }>, number] = await tenantSql(manager).query(
        tenantId,
        `UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1 WHERE tenant_id = $1 AND id = $2 RETURNING consecutive_failures, enabled`,
        [endpointId],
      );
      const row = rows[0];
      if (!row || !row.enabled || row.consecutive_failures < limit) return;
      const reason = `Disabled after ${row.consecutive_failures} deliveries in a row failed every attempt`;
      await tenantSql(manager).query(tenantId, `UPDATE webhook_endpoints SET enabled = false, disabled_reason = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [
        endpointId,
        reason,
      ]);
      await this.audit.record({ tenantId, type: 'system', id: null }, 'webhook_endpoint.disabled', { type: 'webhook_endpoint', id: endpointId }, { reason }, manager);
      this.logger.warn({ endpointId, tenantId }, 'webhook endpoint disabled after sustained failure');
    });
  }

  /** Pending deliveries whose job was lost (a crash between commit and enqueue, a flushed Redis) are queued again. */
  @Process(RECOVER_DELIVERIES_JOB)
  async recover(): Promise<number> {
    const rows: Array<{ id: string; attempts: number }> = await acrossTenants(
      this.db,
      'a sweep of every tenant: a stuck delivery is a property of the row',
      `SELECT id, attempts FROM webhook_deliveries
        WHERE status = 'pending' AND next_attempt_at < now() - interval '30 seconds' AND (leased_until IS NULL OR leased_until < now())
        ORDER BY next_attempt_at LIMIT 1000`,
    );
    let requeued = 0;
    for (const { id, attempts } of rows) {
      // Decided from the row; Redis only answers whether a live job exists (a broken one is cleared).
      if (await liveOrClear(this.queue, deliverJobId(id, attempts))) continue;
      await this.events.enqueue([id], attempts);
      requeued++;
    }
    if (requeued) this.logger.warn({ requeued }, 're-enqueued webhook deliveries whose job was lost');
    return requeued;
  }

  /** Events (and their deliveries) past RUN_RETENTION_DAYS go, in batches, unless a delivery is still pending. */
  @Process(PRUNE_WEBHOOKS_JOB)
  async prune(): Promise<number> {
    let total = 0;
    for (;;) {
      const [, deleted] = await acrossTenants(
        this.db,
        'retention prunes old events of every tenant; age is a property of the row',
        `DELETE FROM webhook_events WHERE id IN (
           SELECT e.id FROM webhook_events e
            WHERE e.created_at < now() - make_interval(days => $1)
              AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.status = 'pending')
            LIMIT 1000)`,
        [this.config.runRetentionDays],
      );
      total += Number(deleted);
      if (Number(deleted) < 1000) return total;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
