import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, EntityManager } from 'typeorm';
import { TenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { tenantSql } from '../common/tenancy/tenant-sql';
import { QUEUES } from '../queues/queues.module';
import { afterCommit, installAfterCommit } from './after-commit';
import type { WebhookEventData, WebhookEventType } from './event-types';
import { WebhookDelivery, WebhookEvent } from './webhook.entities';

export const DELIVER_JOB = 'deliver';
/** Jobs carry the delivery id and the attempt they are for (so a stale job does nothing). */
export interface DeliverJob {
  deliveryId: string;
  attempt: number;
}
export const deliverJobId = (deliveryId: string, attempt: number) => `${deliveryId}:${attempt}`;

/** Bodies above this are sent with the objects reduced to their ids (the receiver fetches the rest). */
const MAX_BODY_BYTES = 256 * 1024;

/**
 * What other modules call to emit an outbound webhook. Writes the event and one delivery per
 * subscribed, enabled endpoint — inside the caller's transaction when given its manager (an
 * outbox: no webhook for a change that rolled back) — and enqueues the deliveries after commit.
 * A job lost in between is picked up by the worker's recovery sweep.
 */
@Injectable()
export class WebhookEventsService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectTenantScoped(WebhookEvent) private readonly events: TenantScopedRepository<WebhookEvent>,
    @InjectTenantScoped(WebhookDelivery) private readonly deliveries: TenantScopedRepository<WebhookDelivery>,
    @InjectQueue(QUEUES.webhooks) private readonly queue: Queue<DeliverJob>,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('WebhookEventsService');
  }

  onModuleInit(): void {
    installAfterCommit(this.db);
  }

  async publish(tenantId: TenantId, type: WebhookEventType, data: WebhookEventData, manager?: EntityManager): Promise<void> {
    const outbox = this.outbox(type, data, '$2', '$3');
    const [row]: Array<{ delivery_ids: string[] | null }> = await tenantSql(manager ?? this.db).query(
      tenantId,
      `WITH any_endpoint AS (SELECT 1 FROM webhook_endpoints WHERE tenant_id = $1 AND enabled LIMIT 1), ${outbox.ctes('any_endpoint')} SELECT ${outbox.deliveryIds} AS delivery_ids`,
      [outbox.type, outbox.body],
    );
    const ids = row?.delivery_ids ?? [];
    if (ids.length > 0) afterCommit(manager, () => void this.enqueue(ids));
  }

  /**
   * One event's outbox as CTEs of the caller's statement, for tenant $1 with the event type and body
   * in the parameters named: the event and a pending delivery (due now) per endpoint subscribed to
   * the type, written only when the CTE `onlyIf` has a row. `deliveryIds` selects the deliveries'
   * ids, for enqueue() once committed.
   */
  outbox(type: WebhookEventType, data: WebhookEventData, typeParam: string, bodyParam: string) {
    return {
      type,
      body: this.body(type, data),
      ctes: (onlyIf: string) => `wh_endpoints AS (
          SELECT id FROM webhook_endpoints WHERE tenant_id = $1 AND enabled AND ${typeParam}::text = ANY(event_types) AND EXISTS (SELECT 1 FROM ${onlyIf})),
        wh_event AS (INSERT INTO webhook_events (tenant_id, type, body) SELECT $1, ${typeParam}, ${bodyParam} WHERE EXISTS (SELECT 1 FROM wh_endpoints) RETURNING id),
        wh_deliveries AS (
          INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, event_type, status, manual, attempts, attempt_log, next_attempt_at)
          SELECT $1, e.id, ev.id, ${typeParam}, 'pending', false, 0, '[]'::jsonb, now() FROM wh_endpoints e CROSS JOIN wh_event ev RETURNING id)`,
      deliveryIds: `(SELECT array_agg(id) FROM wh_deliveries)`,
    };
  }

  /** The event row and its deliveries (pending, due now). Returns the delivery ids. */
  async record(m: EntityManager, tenantId: TenantId, type: string, data: WebhookEventData | Record<string, unknown>, endpointIds: string[], manual: boolean): Promise<string[]> {
    const event = await this.events.with(m).insert(tenantId, { type, body: this.body(type, data) });
    const ids: string[] = [];
    for (const endpointId of endpointIds) {
      const delivery = await this.deliveries.with(m).insert(tenantId, {
        endpointId,
        eventId: event.id,
        eventType: type,
        status: 'pending',
        manual,
        attempts: 0,
        attemptLog: [],
        nextAttemptAt: new Date(),
      });
      ids.push(delivery.id);
    }
    return ids;
  }

  private body(type: string, data: Record<string, unknown>): string {
    const timestamp = new Date().toISOString();
    const body = JSON.stringify({ type, timestamp, data });
    if (Buffer.byteLength(body) <= MAX_BODY_BYTES) return body;
    const slim = Object.fromEntries(
      Object.entries(data).map(([key, value]) => [
        key,
        value && typeof value === 'object' && 'id' in value ? { id: (value as { id: unknown }).id } : typeof value === 'object' ? null : value,
      ]),
    );
    this.logger.warn({ type, bytes: Buffer.byteLength(body) }, 'webhook body over 256 KB: objects reduced to their ids');
    return JSON.stringify({ type, timestamp, data: { ...slim, truncated: true } });
  }

  /** Queues attempt `attempt` of each delivery; Redis being down is logged, and the recovery sweep retries. */
  async enqueue(deliveryIds: string[], attempt = 0, delayMs = 0): Promise<void> {
    for (const deliveryId of deliveryIds) {
      try {
        await this.queue.add(DELIVER_JOB, { deliveryId, attempt }, { jobId: deliverJobId(deliveryId, attempt), delay: delayMs, removeOnComplete: true, removeOnFail: 1000 });
      } catch (error) {
        this.logger.warn({ deliveryId, err: (error as Error).message }, 'could not enqueue a webhook delivery; the recovery sweep will');
      }
    }
  }
}
