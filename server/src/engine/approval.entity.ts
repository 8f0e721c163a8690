import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';
export type Approvers = 'end_user' | 'host' | 'any';
/** Who settled it: the end user, the host backend, the step's timeout, or a cancelled run. */
export type DecidedVia = 'end_user' | 'host' | 'timeout' | 'cancel';

/** A person's go/no-go asked by an `approval` step; the run waits on it. */
@Entity('approvals')
export class Approval {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'run_id' }) runId: string;
  @Column('integer', { name: 'run_attempt' }) runAttempt: number;
  @Column('text', { name: 'step_path' }) stepPath: string;
  @Column('text', { name: 'step_id' }) stepId: string;
  @Column('uuid', { name: 'end_user_id' }) endUserId: string;
  @Column('text', { name: 'end_user_external_id' }) endUserExternalId: string;
  @Column('text', { name: 'flow_key' }) flowKey: string;
  @Column('text', { name: 'flow_name' }) flowName: string;
  @Column('text') title: string;
  @Column('text', { nullable: true }) description: string | null;
  @Column('text') approvers: Approvers;
  @Column('text', { name: 'on_timeout' }) onTimeout: 'approve' | 'reject';
  @Column('text') status: ApprovalStatus;
  /** The outcome the run sees (a timeout with onTimeout 'approve' is expired yet approved). */
  @Column('boolean', { nullable: true }) approved: boolean | null;
  @Column('text', { name: 'decided_via', nullable: true }) decidedVia: DecidedVia | null;
  @Column('text', { name: 'decided_by', nullable: true }) decidedBy: string | null;
  @Column('text', { nullable: true }) comment: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt: Date | null;
  @Column('timestamptz', { name: 'decided_at', nullable: true }) decidedAt: Date | null;
}
