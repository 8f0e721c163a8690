import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A tenant's LLM provider credentials (OpenAI, Anthropic, any OpenAI-compatible server), named by a
 * key that flows' agent steps reference. The API key is a vault envelope (VAULT_FIELDS.llmProviderApiKey).
 */
export class CreateLlmProviders1795493000000 implements MigrationInterface {
  name = 'CreateLlmProviders1795493000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE llm_providers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        key text NOT NULL CHECK (key ~ '^[a-z][a-z0-9]*(-[a-z0-9]+)*$' AND length(key) <= 40),
        kind text NOT NULL CHECK (kind IN ('openai', 'anthropic', 'openai-compatible')),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        base_url text CHECK (length(base_url) <= 2000),
        api_key text,
        default_model text CHECK (length(default_model) BETWEEN 1 AND 200),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT llm_providers_tenant_key UNIQUE (tenant_id, key),
        CONSTRAINT llm_providers_compatible_base_url CHECK (kind <> 'openai-compatible' OR base_url IS NOT NULL)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE llm_providers`);
  }
}
