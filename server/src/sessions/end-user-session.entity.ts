import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A short-lived token the host minted for one end user; the widget sends it. Stored hashed. */
@Entity('end_user_sessions')
export class EndUserSession {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'end_user_id' }) endUserId: string;
  @Column('text', { name: 'token_hash', select: false }) tokenHash: string;
  /** Null: every connector the tenant enabled. */
  @Column('text', { name: 'allowed_connectors', array: true, nullable: true }) allowedConnectors: string[] | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt: Date;
}
