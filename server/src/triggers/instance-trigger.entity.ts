import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Why a trigger is failing, for the end user and the team. */
export interface TriggerError {
  code: string;
  message: string;
  at: string;
  /** When it is tried again. */
  retryAt: string | null;
}

/**
 * The state of an instance's trigger, for the trigger types that keep one (one row per instance,
 * keyed by the instance's id). Event and request triggers have none.
 */
@Entity('flow_instance_triggers')
export class InstanceTrigger {
  /** The flow instance's id. */
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('text') type: 'schedule' | 'webhook' | 'poll';
  /** Schedule: the cron expression and time zone as evaluated when the instance was enabled or changed. */
  @Column('text', { nullable: true }) cron: string | null;
  @Column('text', { nullable: true }) timezone: string | null;
  /** Schedule: the next fire; null while the instance is off. */
  @Column('timestamptz', { name: 'next_fire_at', nullable: true }) nextFireAt: Date | null;
  /** Webhook: SHA-256 of the URL token (the lookup), the token and the signing secret (vault). */
  @Column('text', { name: 'webhook_token_hash', nullable: true }) webhookTokenHash: string | null;
  @Column('text', { name: 'webhook_token', nullable: true }) webhookToken: string | null;
  @Column('text', { name: 'webhook_secret', nullable: true }) webhookSecret: string | null;
  /** Poll, and webhook from a connector: `<connector>.<trigger>`, and the trigger's parameters as evaluated when enabled or changed. */
  @Column('text', { name: 'trigger_key', nullable: true }) triggerKey: string | null;
  @Column('jsonb', { name: 'trigger_input', nullable: true }) triggerInput: Record<string, unknown> | null;
  /** Poll: seconds between polls, the provider's cursor, the last good poll (null: the first is to come), the next poll (null while off). */
  @Column('integer', { name: 'poll_interval_seconds', nullable: true }) pollIntervalSeconds: number | null;
  @Column('jsonb', { name: 'poll_cursor', nullable: true }) pollCursor: unknown;
  @Column('timestamptz', { name: 'polled_at', nullable: true }) polledAt: Date | null;
  @Column('timestamptz', { name: 'next_poll_at', nullable: true }) nextPollAt: Date | null;
  /** Poll: how many existing items the first poll runs. */
  @Column('integer') backfill: number;
  /** Whether the trigger works: 'failing' after a poll or a subscription failed, until one succeeds. */
  @Column('text') health: 'ok' | 'failing';
  @Column('integer') failures: number;
  @Column('jsonb', { name: 'last_error', nullable: true }) lastError: TriggerError | null;
  /** When an item last started a run. */
  @Column('timestamptz', { name: 'last_item_at', nullable: true }) lastItemAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
