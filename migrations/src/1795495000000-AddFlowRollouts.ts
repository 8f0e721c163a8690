import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rollouts of a published flow version to many instances at once (the worker moves them in
 * batches), one item per chosen instance with the version and settings it had, so a rollback can
 * restore them; and the template's switch for end users upgrading themselves.
 */
export class AddFlowRollouts1795495000000 implements MigrationInterface {
  name = 'AddFlowRollouts1795495000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE flow_templates ADD COLUMN allow_end_user_upgrade boolean NOT NULL DEFAULT true`);
    await q.query(`
      CREATE TABLE flow_rollouts (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        template_id uuid NOT NULL REFERENCES flow_templates(id) ON DELETE CASCADE,
        version_id uuid NOT NULL REFERENCES flow_template_versions(id),
        version integer NOT NULL,
        started_by text,
        target jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'stopped', 'completed', 'rolling_back', 'rolled_back')),
        total integer NOT NULL,
        batches integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    await q.query(`CREATE INDEX flow_rollouts_template_idx ON flow_rollouts (tenant_id, template_id, created_at DESC)`);
    // One active rollout per template: the API checks first, this makes it true under races.
    await q.query(`CREATE UNIQUE INDEX flow_rollouts_active_idx ON flow_rollouts (tenant_id, template_id) WHERE status IN ('running', 'rolling_back')`);
    await q.query(`
      CREATE TABLE flow_rollout_items (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        rollout_id uuid NOT NULL REFERENCES flow_rollouts(id) ON DELETE CASCADE,
        instance_id uuid NOT NULL REFERENCES flow_instances(id) ON DELETE CASCADE,
        previous_version_id uuid NOT NULL REFERENCES flow_template_versions(id),
        previous_settings jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'upgraded', 'needs_settings', 'skipped', 'failed', 'rolled_back')),
        error text,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (rollout_id, instance_id)
      )`);
    await q.query(`CREATE INDEX flow_rollout_items_status_idx ON flow_rollout_items (tenant_id, rollout_id, status)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE flow_rollout_items`);
    await q.query(`DROP TABLE flow_rollouts`);
    await q.query(`ALTER TABLE flow_templates DROP COLUMN allow_end_user_upgrade`);
  }
}
