import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Poison runs: which process is executing a run (set when an execution starts, cleared when it
 * ends), and how many executions ended with their process gone. In PostgreSQL, so the count
 * survives the loss of Redis.
 */
export class CountRunCrashes1795470300000 implements MigrationInterface {
  name = 'CountRunCrashes1795470300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE runs ADD COLUMN execution_owner text, ADD COLUMN crashed_executions smallint NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE runs DROP COLUMN crashed_executions, DROP COLUMN execution_owner`);
  }
}
