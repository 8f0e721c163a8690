import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Flow drafts and published definitions as `json`, which keeps the text as written, instead of
 * `jsonb`, which reorders object keys: the author's order of inputs is the order of the settings
 * form, and the editor shows the draft as it was saved.
 */
export class KeepDefinitionKeyOrder1795462000000 implements MigrationInterface {
  name = 'KeepDefinitionKeyOrder1795462000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE flow_templates ALTER COLUMN draft TYPE json USING draft::json`);
    await q.query(`ALTER TABLE flow_template_versions ALTER COLUMN definition TYPE json USING definition::json`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE flow_template_versions ALTER COLUMN definition TYPE jsonb USING definition::jsonb`);
    await q.query(`ALTER TABLE flow_templates ALTER COLUMN draft TYPE jsonb USING draft::jsonb`);
  }
}
