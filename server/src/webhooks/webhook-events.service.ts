import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, EntityManager } from 'typeorm';
import { TenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { QUEUES } from '../queues/queues.module';
import { afterCommit, installAfterCommit } from './after-commit';
import type { WebhookEventData, WebhookEventType } from './event-types';
import { WebhookDelivery, WebhookEndpoint, WebhookEvent } from './webhook.entities';

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
    @InjectTenantScoped(WebhookEndpoint) private readonly endpoints: TenantScopedRepository<WebhookEndpoint>,
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
    const write = async (m: EntityManager) => {
      const endpoints = await this.endpoints.with(m).query(tenantId, 'e').select(['e.id']).andWhere('e.enabled = true').andWhere(':type = ANY(e.eventTypes)', { type }).getMany();
      if (endpoints.length === 0) return [];
      return this.record(
        m,
        tenantId,
        type,
        data,
        endpoints.map((e) => e.id),
        false,
      );
    };
    const ids = manager ? await write(manager) : await this.db.transaction(write);
    afterCommit(manager, () => void this.enqueue(ids));
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
