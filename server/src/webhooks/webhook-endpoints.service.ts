import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { AppError } from '../common/errors/app-error';
import { OutboundGuard } from '../common/net/outbound-guard';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { QUEUES } from '../queues/queues.module';
import { Vault } from '../vault/vault';
import { bindingFor } from '../vault/vault-fields';
import { InjectVault } from '../vault/vault.module';
import { afterCommit } from './after-commit';
import { generateWebhookSecret } from './webhook-signature';
import { DeliverJob, deliverJobId, WebhookEventsService } from './webhook-events.service';
import { WebhookDelivery, WebhookEndpoint, WebhookEvent } from './webhook.entities';
import type { CreateWebhookEndpointDto, DeliveryQuery, UpdateWebhookEndpointDto } from './webhooks.dto';
import { decodeTimeCursor, encodeTimeCursor } from '../common/http/cursors';

const MAX_ENDPOINTS_PER_TENANT = 50;

const invalidUrl = (message: string) => new AppError('validation_failed', `url: ${message}`, { errors: [{ path: 'url', message }] });

/** The admin side of outbound webhooks: endpoints, their secrets, the delivery log, resend and test. */
@Injectable()
export class WebhookEndpointsService {
  constructor(
    @InjectTenantScoped(WebhookEndpoint) private readonly endpoints: TenantScopedRepository<WebhookEndpoint>,
    @InjectTenantScoped(WebhookDelivery) private readonly deliveries: TenantScopedRepository<WebhookDelivery>,
    @InjectTenantScoped(WebhookEvent) private readonly events: TenantScopedRepository<WebhookEvent>,
    @InjectDataSource() private readonly db: DataSource,
    @InjectVault() private readonly vault: Vault,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectQueue(QUEUES.webhooks) private readonly queue: Queue<DeliverJob>,
    private readonly guard: OutboundGuard,
    private readonly webhookEvents: WebhookEventsService,
    private readonly audit: AuditService,
  ) {}

  /**
   * https, or http outside production (local receivers while developing). IP literals in private
   * ranges are refused here; names are checked on the address actually connected to at delivery.
   */
  private checkUrl(raw: string): string {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw invalidUrl('must be an absolute URL, e.g. https://api.example.com/webhooks');
    }
    const allowed = this.config.env === 'production' ? ['https:'] : ['https:', 'http:'];
    if (!allowed.includes(url.protocol)) throw invalidUrl(this.config.env === 'production' ? 'must be an https URL' : 'must be an http or https URL');
    if (url.username || url.password) throw invalidUrl('must not contain credentials');
    try {
      this.guard.assertUrl(url);
    } catch (error) {
      throw invalidUrl((error as Error).message);
    }
    return url.toString();
  }

  private seal(endpoint: { tenantId: string; id: string }, secret: string): string {
    return this.vault.encrypt(secret, bindingFor('webhookEndpointSecret', endpoint));
  }

  list(actor: Actor): Promise<WebhookEndpoint[]> {
    return this.endpoints.find(actor.tenantId, { order: { createdAt: 'ASC' } });
  }

  get(actor: Actor, id: string): Promise<WebhookEndpoint> {
    return this.endpoints.get(actor.tenantId, { id }, id);
  }

  async create(actor: Actor, body: CreateWebhookEndpointDto): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const url = this.checkUrl(body.url);
    const secret = generateWebhookSecret();
    const endpoint = await this.db.transaction(async (manager) => {
      const repo = this.endpoints.with(manager);
      // Serialise creates per tenant so the cap holds under concurrency.
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('webhook_endpoints:' || $1))`, [actor.tenantId]);
      if ((await repo.count(actor.tenantId)) >= MAX_ENDPOINTS_PER_TENANT) {
        throw new AppError('conflict', `A tenant can have at most ${MAX_ENDPOINTS_PER_TENANT} webhook endpoints; delete one first`);
      }
      const id = (await manager.query(`SELECT gen_random_uuid() AS id`))[0].id as string;
      const created = await repo.insert(actor.tenantId, {
        id,
        url,
        description: body.description ?? null,
        eventTypes: body.eventTypes,
        enabled: true,
        disabledReason: null,
        secret: this.seal({ tenantId: actor.tenantId, id }, secret),
        consecutiveFailures: 0,
      });
      await this.audit.record(actor, 'webhook_endpoint.created', { type: 'webhook_endpoint', id }, { url, eventTypes: body.eventTypes }, manager);
      return created;
    });
    return { endpoint: await this.get(actor, endpoint.id), secret };
  }

  async update(actor: Actor, id: string, body: UpdateWebhookEndpointDto): Promise<WebhookEndpoint> {
    const patch: Partial<WebhookEndpoint> = {};
    if (body.url !== undefined) patch.url = this.checkUrl(body.url);
    if (body.description !== undefined) patch.description = body.description;
    if (body.eventTypes !== undefined) patch.eventTypes = body.eventTypes;
    if (body.enabled !== undefined) {
      patch.enabled = body.enabled;
      // Switching on again starts the failure count afresh; switching off by hand is its own reason.
      patch.disabledReason = body.enabled ? null : 'Disabled by a team member';
      if (body.enabled) patch.consecutiveFailures = 0;
    }
    await this.db.transaction(async (manager) => {
      const repo = this.endpoints.with(manager);
      const before = await repo.get(actor.tenantId, { id }, id);
      if (Object.keys(patch).length === 0) return;
      if (body.enabled !== undefined && body.enabled === before.enabled) {
        delete patch.enabled;
        delete patch.disabledReason;
        delete patch.consecutiveFailures;
      }
      if (Object.keys(patch).length === 0) return;
      await repo.update(actor.tenantId, { id }, patch);
      const changes = Object.keys(patch).filter((k) => k !== 'disabledReason' && k !== 'consecutiveFailures');
      await this.audit.record(
        actor,
        'webhook_endpoint.updated',
        { type: 'webhook_endpoint', id },
        { changes, url: patch.url, eventTypes: patch.eventTypes, enabled: patch.enabled },
        manager,
      );
    });
    return this.get(actor, id);
  }

  async remove(actor: Actor, id: string): Promise<void> {
    await this.db.transaction(async (manager) => {
      const endpoint = await this.endpoints.with(manager).get(actor.tenantId, { id }, id);
      await this.endpoints.with(manager).delete(actor.tenantId, { id });
      await this.audit.record(actor, 'webhook_endpoint.deleted', { type: 'webhook_endpoint', id }, { url: endpoint.url }, manager);
    });
  }

  async rotateSecret(actor: Actor, id: string): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const secret = generateWebhookSecret();
    await this.db.transaction(async (manager) => {
      const repo = this.endpoints.with(manager);
      await repo.get(actor.tenantId, { id }, id);
      await repo.update(actor.tenantId, { id }, { secret: this.seal({ tenantId: actor.tenantId, id }, secret) });
      await this.audit.record(actor, 'webhook_endpoint.secret_rotated', { type: 'webhook_endpoint', id }, {}, manager);
    });
    return { endpoint: await this.get(actor, id), secret };
  }

  /** Sends a `ping` event to this endpoint only (one attempt, whether or not the endpoint is enabled). */
  async test(actor: Actor, id: string): Promise<WebhookDelivery> {
    const [deliveryId] = await this.db.transaction(async (manager) => {
      await this.endpoints.with(manager).get(actor.tenantId, { id }, id);
      const ids = await this.webhookEvents.record(manager, actor.tenantId, 'ping', { endpointId: id, message: 'A test event from Switchboard' }, [id], true);
      await this.audit.record(actor, 'webhook_endpoint.tested', { type: 'webhook_endpoint', id }, {}, manager);
      afterCommit(manager, () => void this.webhookEvents.enqueue(ids));
      return ids;
    });
    return this.deliveries.get(actor.tenantId, { id: deliveryId });
  }

  /** Newest first; the cursor is `<createdAt>|<id>` of the last row of the previous page. */
  async listDeliveries(actor: Actor, endpointId: string, query: DeliveryQuery): Promise<{ data: WebhookDelivery[]; nextCursor: string | null }> {
    await this.get(actor, endpointId);
    const q = this.deliveries.query(actor.tenantId, 'd').andWhere('d.endpointId = :endpointId', { endpointId });
    if (query.status) q.andWhere('d.status = :status', { status: query.status });
    if (query.cursor) {
      const { at, id } = decodeTimeCursor(query.cursor);
      q.andWhere('(d.createdAt, d.id) < (:at, :id)', { at, id });
    }
    const rows = await q
      .orderBy('d.createdAt', 'DESC')
      .addOrderBy('d.id', 'DESC')
      .limit(query.limit + 1)
      .getMany();
    const data = rows.slice(0, query.limit);
    const last = data[data.length - 1];
    return { data, nextCursor: rows.length > query.limit ? encodeTimeCursor(last.createdAt, last.id) : null };
  }

  async getDelivery(actor: Actor, id: string): Promise<{ delivery: WebhookDelivery; payload: string }> {
    const delivery = await this.deliveries.get(actor.tenantId, { id }, id);
    const event = await this.events.get(actor.tenantId, { id: delivery.eventId });
    return { delivery, payload: event.body };
  }

  /**
   * Sends a delivery again now, with the same webhook-id (receivers deduplicate on it). A finished
   * delivery gets one more attempt; a pending one has its next retry brought forward.
   */
  async resend(actor: Actor, id: string): Promise<WebhookDelivery> {
    const delivery = await this.deliveries.get(actor.tenantId, { id }, id);
    if (delivery.status === 'pending') {
      const job = await this.queue.getJob(deliverJobId(id, delivery.attempts));
      if (job && (await job.isDelayed())) await job.promote();
      else if (!job) await this.webhookEvents.enqueue([id], delivery.attempts);
    } else {
      const changed = await this.db.transaction(async (manager) => {
        const n = await this.deliveries
          .with(manager)
          .update(actor.tenantId, { id, status: delivery.status, attempts: delivery.attempts }, { status: 'pending', manual: true, nextAttemptAt: new Date() });
        if (n)
          await this.audit.record(actor, 'webhook_delivery.resent', { type: 'webhook_delivery', id }, { eventType: delivery.eventType, endpointId: delivery.endpointId }, manager);
        return n;
      });
      if (!changed) throw new AppError('conflict', `Webhook delivery ${id} changed meanwhile; try again`);
      await this.webhookEvents.enqueue([id], delivery.attempts);
    }
    return this.deliveries.get(actor.tenantId, { id });
  }
}
