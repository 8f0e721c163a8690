import type { InstanceNote } from './binding-health';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A flow the tenant authors: an editable draft and a count of published versions. */
@Entity('flow_templates')
export class FlowTemplate {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('text') key: string;
  @Column('text') name: string;
  /** `json`, not `jsonb`: kept exactly as written (key order is the settings form's order). */
  @Column('json') draft: Record<string, unknown>;
  @Column('integer', { name: 'latest_version' }) latestVersion: number;
  /** End users may move their instance to the latest version themselves (otherwise only rollouts and the host do). */
  @Column('boolean', { name: 'allow_end_user_upgrade' }) allowEndUserUpgrade: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

/** An immutable, published definition. */
@Entity('flow_template_versions')
export class FlowTemplateVersion {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'template_id' }) templateId: string;
  @Column('integer') version: number;
  /** `json`, not `jsonb`: kept exactly as written. */
  @Column('json') definition: Record<string, unknown>;
  @Column('text', { name: 'trigger_type' }) triggerType: string;
  @Column('text', { name: 'trigger_event', nullable: true }) triggerEvent: string | null;
  @Column('text', { name: 'published_by', nullable: true }) publishedBy: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

/** A template version an end user switched on, with its settings and which connection each connector uses. */
@Entity('flow_instances')
export class FlowInstance {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'end_user_id' }) endUserId: string;
  @Column('uuid', { name: 'template_id' }) templateId: string;
  @Column('uuid', { name: 'version_id' }) versionId: string;
  @Column('boolean') enabled: boolean;
  @Column('jsonb') settings: Record<string, unknown>;
  /** connector key → connection id */
  @Column('jsonb') connections: Record<string, string>;
  @Column('text', { name: 'trigger_event', nullable: true }) triggerEvent: string | null;
  /** What the system last told the end user about this instance (e.g. a rebind); cleared by their next change. */
  @Column('jsonb', { nullable: true }) note: InstanceNote | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
