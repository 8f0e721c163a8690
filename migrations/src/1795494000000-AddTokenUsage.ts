import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tokens the tenant's agents used, one row per tenant and calendar month (UTC), added to by every
 * model call; and the tenant's optional monthly cap, checked before each call.
 */
export class AddTokenUsage1795494000000 implements MigrationInterface {
  name = 'AddTokenUsage1795494000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tenants ADD COLUMN monthly_token_cap bigint CHECK (monthly_token_cap >= 0)`);
    await q.query(`
      CREATE TABLE token_usage (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        month date NOT NULL,
        input_tokens bigint NOT NULL DEFAULT 0,
        output_tokens bigint NOT NULL DEFAULT 0,
        model_calls integer NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, month)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE token_usage`);
    await q.query(`ALTER TABLE tenants DROP COLUMN monthly_token_cap`);
  }
}
