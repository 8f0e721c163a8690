import { MigrationInterface, QueryRunner } from 'typeorm';

/** A rollout may pause the instances the new version needs more settings for, instead of leaving them on their version. */
export class AddRolloutPause1795498000000 implements MigrationInterface {
  name = 'AddRolloutPause1795498000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE flow_rollouts ADD COLUMN when_settings_missing text NOT NULL DEFAULT 'stay' CHECK (when_settings_missing IN ('stay', 'pause'))`);
    await q.query(`ALTER TABLE flow_rollout_items ADD COLUMN previous_enabled boolean`);
    await q.query(`ALTER TABLE flow_rollout_items DROP CONSTRAINT flow_rollout_items_status_check`);
    await q.query(
      `ALTER TABLE flow_rollout_items ADD CONSTRAINT flow_rollout_items_status_check CHECK (status IN ('pending', 'upgraded', 'paused', 'needs_settings', 'skipped', 'failed', 'rolled_back'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE flow_rollout_items SET status = 'needs_settings' WHERE status = 'paused'`);
    await q.query(`ALTER TABLE flow_rollout_items DROP CONSTRAINT flow_rollout_items_status_check`);
    await q.query(
      `ALTER TABLE flow_rollout_items ADD CONSTRAINT flow_rollout_items_status_check CHECK (status IN ('pending', 'upgraded', 'needs_settings', 'skipped', 'failed', 'rolled_back'))`,
    );
    await q.query(`ALTER TABLE flow_rollout_items DROP COLUMN previous_enabled`);
    await q.query(`ALTER TABLE flow_rollouts DROP COLUMN when_settings_missing`);
  }
}
