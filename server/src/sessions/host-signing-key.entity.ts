import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A public key the host signs end-user JWTs with; its id is the JWT's `kid`. */
@Entity('host_signing_keys')
export class HostSigningKey {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column() name: string;
  @Column('text') algorithm: 'ES256' | 'RS256';
  /** The public key as a JWK. */
  @Column('jsonb', { name: 'public_key' }) publicKey: Record<string, unknown>;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt: Date | null;
}
