import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A tenant's receiver of outbound webhooks, subscribed to some event types. */
@Entity('webhook_endpoints')
export class WebhookEndpoint {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('text') url: string;
  @Column('text', { nullable: true }) description: string | null;
  @Column('text', { name: 'event_types', array: true }) eventTypes: string[];
  @Column('boolean') enabled: boolean;
  @Column('text', { name: 'disabled_reason', nullable: true }) disabledReason: string | null;
  /** Vault envelope of the whsec_… signing secret (VAULT_FIELDS.webhookEndpointSecret). */
  @Column('text', { select: false }) secret: string;
  /** Deliveries in a row that used up every retry; reset by a success. */
  @Column('integer', { name: 'consecutive_failures' }) consecutiveFailures: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

/** Something that happened, with the exact body every delivery of it sends. */
@Entity('webhook_events')
export class WebhookEvent {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('text') type: string;
  @Column('text') body: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

/** One attempt, as the delivery log shows it. */
export interface DeliveryAttempt {
  at: string;
  responseStatus: number | null;
  latencyMs: number;
  error: string | null;
  responseBody: string | null;
}

/** One event to one endpoint: its state and the outcome of its latest attempt. */
@Entity('webhook_deliveries')
export class WebhookDelivery {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'endpoint_id' }) endpointId: string;
  @Column('uuid', { name: 'event_id' }) eventId: string;
  @Column('text', { name: 'event_type' }) eventType: string;
  @Column('text') status: DeliveryStatus;
  /** A resend or a test: one attempt, no automatic retries, no effect on the endpoint's failure count. */
  @Column('boolean') manual: boolean;
  @Column('integer') attempts: number;
  @Column('integer', { name: 'response_status', nullable: true }) responseStatus: number | null;
  @Column('integer', { name: 'latency_ms', nullable: true }) latencyMs: number | null;
  @Column('text', { nullable: true }) error: string | null;
  @Column('text', { name: 'response_body', nullable: true }) responseBody: string | null;
  @Column('jsonb', { name: 'attempt_log' }) attemptLog: DeliveryAttempt[];
  @Column('timestamptz', { name: 'next_attempt_at', nullable: true }) nextAttemptAt: Date | null;
  @Column('timestamptz', { name: 'last_attempt_at', nullable: true }) lastAttemptAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
