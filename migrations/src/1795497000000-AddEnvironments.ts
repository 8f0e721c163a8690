import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Environments: each environment is its own `tenants` row (the unit every tenant-scoped table is
 * keyed by), so nothing crosses between them; rows of one vendor share `account_id`, the id of its
 * first environment, which holds the memberships. Existing tenants become `production` (direct edits
 * stay allowed: nothing they did before is refused) and get an empty `development`.
 */
export class AddEnvironments1795497000000 implements MigrationInterface {
  name = 'AddEnvironments1795497000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE tenants
        ADD COLUMN account_id uuid REFERENCES tenants(id) ON DELETE CASCADE,
        ADD COLUMN environment text CHECK (environment ~ '^[a-z][a-z0-9-]{0,30}$'),
        ADD COLUMN protected boolean NOT NULL DEFAULT false`);
    await q.query(`UPDATE tenants SET account_id = id, environment = 'production'`);
    await q.query(`ALTER TABLE tenants ALTER COLUMN account_id SET NOT NULL, ALTER COLUMN environment SET NOT NULL`);
    // The slug names the vendor: unique among first environments, shared by the others.
    await q.query(`ALTER TABLE tenants DROP CONSTRAINT tenants_slug_key`);
    await q.query(`CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug) WHERE id = account_id`);
    await q.query(`CREATE UNIQUE INDEX tenants_account_environment_key ON tenants (account_id, environment)`);
    await q.query(`
      INSERT INTO tenants (name, slug, allowed_origins, settings, account_id, environment)
      SELECT name, slug, '{}', settings, id, 'development' FROM tenants`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM tenants WHERE id <> account_id`);
    await q.query(`DROP INDEX tenants_account_environment_key`);
    await q.query(`DROP INDEX tenants_slug_key`);
    await q.query(`ALTER TABLE tenants ADD CONSTRAINT tenants_slug_key UNIQUE (slug)`);
    await q.query(`ALTER TABLE tenants DROP COLUMN protected, DROP COLUMN environment, DROP COLUMN account_id`);
  }
}
