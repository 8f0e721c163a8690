import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Connection-config values the end user gave before the OAuth redirect (a Zendesk subdomain the
 * authorize and token URLs are built from), kept with the pending authorization until the callback
 * stores them on the connection. Not secret, like connections.config.
 */
export class AddOAuthStateConnectionConfig1795479000000 implements MigrationInterface {
  name = 'AddOAuthStateConnectionConfig1795479000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE oauth_states ADD COLUMN connection_config jsonb NOT NULL DEFAULT '{}'::jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE oauth_states DROP COLUMN connection_config`);
  }
}
