import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A note the system leaves on a flow instance for its end user, such as "rebound to your
 * reconnected Slack account": `{ code, message, at, … }`, or null. Cleared by the next change the
 * end user (or host) makes to the instance.
 */
export class AddFlowInstanceNote1795470500000 implements MigrationInterface {
  name = 'AddFlowInstanceNote1795470500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE flow_instances ADD COLUMN note jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE flow_instances DROP COLUMN note`);
  }
}
