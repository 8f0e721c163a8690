import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type ConnectionStatus = 'active' | 'needs_reauth' | 'revoked' | 'error';

/** An end user's account at a provider. Credentials are a vault envelope and never leave the server. */
@Entity('connections')
export class Connection {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'end_user_id' }) endUserId: string;
  @Column('text', { name: 'connector_key' }) connectorKey: string;
  @Column('text') status: ConnectionStatus;
  @Column('text', { name: 'account_id' }) accountId: string;
  @Column('text', { name: 'account_name' }) accountName: string;
  /** Vault envelope of Credentials (VAULT_FIELDS.connectionCredentials). */
  @Column('text', { select: false }) credentials: string;
  /** Connection-config values (not secret), e.g. { instance_url }. */
  @Column('jsonb') config: Record<string, string>;
  @Column('text', { array: true }) scopes: string[];
  /** When the access token expires (null: it does not). */
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt: Date | null;
  @Column('timestamptz', { name: 'last_refreshed_at', nullable: true }) lastRefreshedAt: Date | null;
  @Column('timestamptz', { name: 'last_used_at', nullable: true }) lastUsedAt: Date | null;
  @Column('text', { name: 'last_error', nullable: true }) lastError: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

export type Credentials =
  | { type: 'oauth2'; accessToken: string; refreshToken?: string; expiresAt?: string; app?: OAuthApp }
  | { type: 'oauth2_client_credentials'; clientId: string; clientSecret: string; accessToken?: string; expiresAt?: string }
  | { type: 'api_key'; apiKey: string }
  | { type: 'basic'; username: string; password: string };

/** An end user's own OAuth app: used instead of the tenant's for this connection's authorization and every refresh. */
export interface OAuthApp {
  clientId: string;
  clientSecret: string;
}
