import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A customer of the tenant, known by the host's own id for it. */
@Entity('end_users')
export class EndUser {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('text', { name: 'external_id' }) externalId: string;
  @Column('text', { name: 'display_name', nullable: true }) displayName: string | null;
  @Column('text', { nullable: true }) email: string | null;
  @Column('jsonb') metadata: Record<string, unknown>;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
