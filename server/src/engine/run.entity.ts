import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type RunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';

/** One step's record in a run's timeline. */
export interface StepRecord {
  /** Where in the tree: `post`, `big/then/post`, `each[3]/post`. Unique per run. */
  path: string;
  id: string;
  type: string;
  status: 'succeeded' | 'failed' | 'skipped' | 'waiting';
  input?: unknown;
  output?: unknown;
  error?: { code: string; message: string };
  attempts: number;
  startedAt: string;
  durationMs: number;
  /** runId:path:iteration — passed to actions and providers that accept one. */
  idempotencyKey?: string;
}

@Entity('runs')
export class Run {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'instance_id' }) instanceId: string;
  @Column('uuid', { name: 'template_id' }) templateId: string;
  @Column('uuid', { name: 'version_id' }) versionId: string;
  @Column('uuid', { name: 'end_user_id' }) endUserId: string;
  @Column('text', { name: 'trigger_type' }) triggerType: string;
  @Column('jsonb') trigger: unknown;
  @Column('text', { name: 'idempotency_key', nullable: true }) idempotencyKey: string | null;
  @Column('text') status: RunStatus;
  @Column('jsonb', { nullable: true }) result: unknown;
  @Column('jsonb', { nullable: true }) error: { code: string; message: string; step?: string } | null;
  @Column('jsonb') steps: StepRecord[];
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt: Date | null;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt: Date | null;
}
