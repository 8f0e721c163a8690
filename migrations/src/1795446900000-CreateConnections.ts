import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateConnections1795446900000 implements MigrationInterface {
  name = 'CreateConnections1795446900000';

  async up(q: QueryRunner): Promise<void> {
    // A tenant's settings for one connector: its OAuth app, scopes, whether end users may use it.
    await q.query(`
      CREATE TABLE connector_configs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        connector_key text NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        client_id text,
        client_secret text,
        scopes text[],
        settings jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, connector_key)
      )`);
    // Public keys a host signs end-user JWTs with.
    await q.query(`
      CREATE TABLE host_signing_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        algorithm text NOT NULL CHECK (algorithm IN ('ES256', 'RS256')),
        public_key jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await q.query(`CREATE INDEX host_signing_keys_tenant_idx ON host_signing_keys (tenant_id)`);
    await q.query(`
      CREATE TABLE end_user_sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        end_user_id uuid NOT NULL REFERENCES end_users(id) ON DELETE CASCADE,
        token_hash text NOT NULL UNIQUE,
        allowed_connectors text[],
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX end_user_sessions_expires_idx ON end_user_sessions (expires_at)`);
    await q.query(`
      CREATE TABLE connections (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        end_user_id uuid NOT NULL REFERENCES end_users(id) ON DELETE CASCADE,
        connector_key text NOT NULL,
        status text NOT NULL CHECK (status IN ('active', 'needs_reauth', 'revoked', 'error')),
        account_id text NOT NULL,
        account_name text NOT NULL,
        credentials text NOT NULL,
        config jsonb NOT NULL DEFAULT '{}',
        scopes text[] NOT NULL DEFAULT '{}',
        expires_at timestamptz,
        last_refreshed_at timestamptz,
        last_used_at timestamptz,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, end_user_id, connector_key, account_id)
      )`);
    await q.query(`CREATE INDEX connections_end_user_idx ON connections (tenant_id, end_user_id)`);
    await q.query(`CREATE INDEX connections_expiring_idx ON connections (expires_at) WHERE status = 'active'`);
    // A pending OAuth authorization: single use, short-lived, bound to tenant, end user and connector.
    await q.query(`
      CREATE TABLE oauth_states (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        end_user_id uuid NOT NULL REFERENCES end_users(id) ON DELETE CASCADE,
        connector_key text NOT NULL,
        state_hash text NOT NULL UNIQUE,
        code_verifier text NOT NULL,
        redirect_uri text NOT NULL,
        opener_origin text,
        connection_id uuid REFERENCES connections(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        consumed_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE oauth_states`);
    await q.query(`DROP TABLE connections`);
    await q.query(`DROP TABLE end_user_sessions`);
    await q.query(`DROP TABLE host_signing_keys`);
    await q.query(`DROP TABLE connector_configs`);
  }
}
