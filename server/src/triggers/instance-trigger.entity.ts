import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * The state of an instance's trigger, for the trigger types that keep one (one row per instance,
 * keyed by the instance's id). Event and request triggers have none.
 */
@Entity('flow_instance_triggers')
export class InstanceTrigger {
  /** The flow instance's id. */
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('text') type: 'schedule' | 'webhook';
  /** Schedule: the cron expression and time zone as evaluated when the instance was enabled or changed. */
  @Column('text', { nullable: true }) cron: string | null;
  @Column('text', { nullable: true }) timezone: string | null;
  /** Schedule: the next fire; null while the instance is off. */
  @Column('timestamptz', { name: 'next_fire_at', nullable: true }) nextFireAt: Date | null;
  /** Webhook: SHA-256 of the URL token (the lookup), the token and the signing secret (vault). */
  @Column('text', { name: 'webhook_token_hash', nullable: true }) webhookTokenHash: string | null;
  @Column('text', { name: 'webhook_token', nullable: true }) webhookToken: string | null;
  @Column('text', { name: 'webhook_secret', nullable: true }) webhookSecret: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
