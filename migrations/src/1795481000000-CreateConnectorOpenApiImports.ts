import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An OpenAPI document a tenant attached to a connector (shared or its own): the source (URL or
 * upload), and the operations normalised into actions, so runs never parse the document. One per
 * tenant and connector key; a new import replaces it.
 */
export class CreateConnectorOpenApiImports1795481000000 implements MigrationInterface {
  name = 'CreateConnectorOpenApiImports1795481000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE connector_openapi_imports (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        connector_key text NOT NULL,
        source_url text,
        document text NOT NULL,
        document_bytes integer NOT NULL,
        openapi_version text NOT NULL,
        title text NOT NULL,
        version text NOT NULL,
        servers text[] NOT NULL DEFAULT '{}',
        operations jsonb NOT NULL,
        warnings jsonb NOT NULL DEFAULT '[]',
        option_sources jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, connector_key)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE connector_openapi_imports`);
  }
}
