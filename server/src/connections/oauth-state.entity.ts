import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A pending OAuth authorization: single use, ten minutes, bound to tenant, end user and connector. */
@Entity('oauth_states')
export class OAuthState {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'end_user_id' }) endUserId: string;
  @Column('text', { name: 'connector_key' }) connectorKey: string;
  @Column('text', { name: 'state_hash', select: false }) stateHash: string;
  /** Vault envelope of the PKCE verifier (VAULT_FIELDS.oauthCodeVerifier). */
  @Column('text', { name: 'code_verifier', select: false }) codeVerifier: string;
  /** Vault envelope of the end user's own OAuth app `{ clientId, clientSecret }` (VAULT_FIELDS.oauthEndUserApp), when the tenant lets them bring one. */
  @Column('text', { name: 'end_user_app', nullable: true, select: false }) endUserApp: string | null;
  @Column('text', { name: 'redirect_uri' }) redirectUri: string;
  /** Where the result is posted (window.opener); one of the tenant's allowed origins. */
  @Column('text', { name: 'opener_origin', nullable: true }) openerOrigin: string | null;
  /** Set when reconnecting: the connection whose credentials are replaced. */
  @Column('uuid', { name: 'connection_id', nullable: true }) connectionId: string | null;
  /** Connection-config values asked before the redirect (e.g. a subdomain in the authorize URL). */
  @Column('jsonb', { name: 'connection_config' }) connectionConfig: Record<string, string>;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt: Date;
  @Column('timestamptz', { name: 'consumed_at', nullable: true }) consumedAt: Date | null;
}
