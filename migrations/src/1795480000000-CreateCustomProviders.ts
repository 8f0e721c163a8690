import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A tenant's own provider: a catalogue entry (the same format as connectors/catalogue/*.yaml)
 * under a key no shared connector has. Only that tenant sees it.
 */
export class CreateCustomProviders1795480000000 implements MigrationInterface {
  name = 'CreateCustomProviders1795480000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE custom_providers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        key text NOT NULL CHECK (key ~ '^[a-z][a-z0-9]*(-[a-z0-9]+)*$' AND length(key) <= 40),
        definition jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT custom_providers_tenant_key UNIQUE (tenant_id, key)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE custom_providers`);
  }
}
