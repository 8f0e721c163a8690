import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/**
 * One environment of a vendor (development, production…). Every tenant-scoped row is keyed by this
 * id, so environments are isolated exactly as tenants are; a vendor's environments share `accountId`.
 */
@Entity('tenants')
export class Tenant {
  @PrimaryGeneratedColumn('uuid') id: string;
  /** The vendor's first environment, which holds its memberships (equal to `id` there). */
  @Column('uuid', { name: 'account_id' }) accountId: string;
  @Column('text') environment: string;
  /** Flow templates reach a protected environment by promotion only. */
  @Column('boolean') protected: boolean;
  @Column() name: string;
  @Column() slug: string;
  /** Origins allowed to embed the widget and receive its postMessages, e.g. https://app.acme.com. */
  @Column('text', { array: true, name: 'allowed_origins' }) allowedOrigins: string[];
  @Column('jsonb') settings: Record<string, unknown>;
  /** Tokens the tenant's agents may use per calendar month (UTC); null: no cap. */
  @Column('bigint', { name: 'monthly_token_cap', nullable: true, transformer: { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) } })
  monthlyTokenCap: number | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
