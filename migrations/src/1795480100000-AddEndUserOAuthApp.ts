import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An end user's own OAuth app (client id and secret), typed in the connect popup when the tenant
 * lets end users bring one: kept encrypted with the pending authorization until the callback, then
 * inside the connection's credentials.
 */
export class AddEndUserOAuthApp1795480100000 implements MigrationInterface {
  name = 'AddEndUserOAuthApp1795480100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE oauth_states ADD COLUMN end_user_app text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE oauth_states DROP COLUMN end_user_app`);
  }
}
