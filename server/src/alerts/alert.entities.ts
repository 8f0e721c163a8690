import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const ALERT_KINDS = ['flow_failure_rate', 'flow_failures', 'connection_needs_reauth', 'webhook_endpoint_disabled', 'tenant_near_cap'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/**
 * What a rule watches. flow_*: `flowKey` (absent: every flow), `threshold` (a percentage of failed
 * runs, or a count of them) over `windowMinutes`, from `minRuns` finished runs on (rate only).
 * tenant_near_cap: `threshold` percent of a cap. The other kinds take no parameters.
 */
export interface AlertParams {
  flowKey?: string;
  threshold?: number;
  windowMinutes?: number;
  minRuns?: number;
}

export type AlertChannel = 'email' | 'slack' | 'webhook';

/** Where notices go: email recipients, a Slack channel through one of the tenant's own Slack connections, the tenant's webhook endpoints (alert.fired / alert.resolved). */
export interface AlertChannels {
  email?: string[];
  slack?: { connectionId: string; channel: string };
  webhook?: boolean;
}

@Entity('alert_rules')
export class AlertRule {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('text') name: string;
  @Column('text') kind: AlertKind;
  @Column('jsonb') params: AlertParams;
  @Column('jsonb') channels: AlertChannels;
  @Column('boolean') enabled: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

export type IncidentStatus = 'firing' | 'resolved';

/** One (rule, subject) condition while it holds, then resolved; its notices are listed in `notified`. */
@Entity('alert_incidents')
export class AlertIncident {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'rule_id' }) ruleId: string;
  /** The flow key, connection id, webhook endpoint id or cap name the condition is about. */
  @Column('text') subject: string;
  @Column('text') status: IncidentStatus;
  /** The measured value when it fired (a rate in percent, a count, a share of a cap in percent). */
  @Column('double precision') value: number;
  @Column('timestamptz', { name: 'fired_at' }) firedAt: Date;
  @Column('timestamptz', { name: 'resolved_at', nullable: true }) resolvedAt: Date | null;
  /** Notices sent, as `<status>:<channel>`. */
  @Column('text', { array: true }) notified: string[];
  @Column('integer', { name: 'notify_attempts' }) notifyAttempts: number;
  @Column('text', { name: 'notify_error', nullable: true }) notifyError: string | null;
}
