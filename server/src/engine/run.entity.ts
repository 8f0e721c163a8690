import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, VirtualColumn } from 'typeorm';

export type RunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';

/** Tokens one model call (or a run, or an agent step) used. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/** One step's record in a run's timeline. */
export interface StepRecord {
  /** Where in the tree: `post`, `big/then/post`, `each[3]/post`. Unique per run. */
  path: string;
  id: string;
  type: string;
  /**
   * `running`: an action/request in flight (written before the call, so a crash during it is seen);
   * `cancelled`: in views only, a step in flight when its run was cancelled.
   */
  status: 'succeeded' | 'failed' | 'skipped' | 'waiting' | 'running' | 'cancelled';
  input?: unknown;
  output?: unknown;
  error?: { code: string; message: string };
  attempts: number;
  startedAt: string;
  durationMs: number;
  /** runId:path (the path names every enclosing loop index) — passed to actions and providers that accept one. */
  idempotencyKey?: string;
  /**
   * `unknown`: the step failed with a request still unanswered (a timeout, a dropped connection):
   * the provider may have received and acted on it.
   */
  outcome?: 'unknown';
  /**
   * The call was repeated after an earlier execution may already have sent it (a worker died
   * mid-call, or a retried run whose outcome was unknown): the provider may have it twice, unless
   * it de-duplicates by the idempotency key.
   */
  possibleDuplicate?: true;
  /** A model call (`type: 'model'`, a sub-step of an agent) or a whole agent step: the tokens used. */
  usage?: TokenUsage;
  /** An agent's tool call that needed a person's approval: the decision. */
  approval?: { approved: boolean; decidedBy: string | null; decidedVia: string; comment: string | null; decidedAt: string };
}

@Entity('runs')
export class Run {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  /** Null for a run without a flow (an MCP tool call): it carries its own definition and connections. */
  @Column('uuid', { name: 'instance_id', nullable: true }) instanceId: string | null;
  @Column('uuid', { name: 'template_id', nullable: true }) templateId: string | null;
  @Column('uuid', { name: 'version_id', nullable: true }) versionId: string | null;
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
  /** A run without a flow: the definition it executes (an MCP tool call's approval and action steps). */
  @Column('jsonb', { nullable: true, select: false }) definition: unknown;
  /** The MCP tool a run without a flow was started for, e.g. `slack_send_message`. */
  @Column('text', { nullable: true }) tool: string | null;
  /** A run without a flow: its connection bindings (`{ slack: <connection id> }`). */
  @Column('jsonb', { nullable: true }) connections: Record<string, string> | null;
  /** 1, then +1 each time the run is retried from its failed step. */
  @Column('integer', { default: 1 }) attempt: number;
  /** Execution time so far, what the per-run timeout measures (queued and parked time excluded). */
  @Column('integer', { name: 'active_ms', default: 0 }) activeMs: number;
  /** The template's key (null for a run without a flow) and the end user's external id, for views (primary-key lookups). */
  @VirtualColumn({ type: 'text', query: (run) => `SELECT t.key FROM flow_templates t WHERE t.id = ${run}.template_id` }) flow: string | null;
  @VirtualColumn({ type: 'text', query: (run) => `SELECT u.external_id FROM end_users u WHERE u.id = ${run}.end_user_id` }) endUserExternalId: string;
}
