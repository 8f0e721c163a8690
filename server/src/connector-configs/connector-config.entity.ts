import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A tenant's settings for one connector: its OAuth app, scopes, and whether end users may use it. */
@Entity('connector_configs')
export class ConnectorConfig {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('text', { name: 'connector_key' }) connectorKey: string;
  @Column('boolean') enabled: boolean;
  @Column('text', { name: 'client_id', nullable: true }) clientId: string | null;
  /** Vault envelope (VAULT_FIELDS.connectorClientSecret); never returned by the API. */
  @Column('text', { name: 'client_secret', nullable: true, select: false }) clientSecret: string | null;
  /** Null: the connector's default scopes. */
  /** Vault-encrypted; the app's webhook signing secret where it is not the client secret (Slack). */
  @Column('text', { name: 'webhook_signing_secret', nullable: true, select: false }) webhookSigningSecret: string | null;
  @Column('text', { array: true, nullable: true }) scopes: string[] | null;
  @Column('jsonb') settings: ConnectorSettings;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

export interface ConnectorSettings {
  /** Talk to the local sandbox providers instead of the real ones (demo and tests). */
  useSandbox?: boolean;
  /** For the generic HTTP connector: which kind of auth end users connect with. */
  authType?: string;
  /** May end users call the proxy for their own connections of this connector? */
  endUserProxy?: boolean;
  /** OAuth connectors: the connect popup asks each end user for their own OAuth app (client id and secret) instead of using the tenant's. */
  endUserApp?: boolean;
}
