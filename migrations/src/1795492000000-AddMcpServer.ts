import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The MCP server. A tenant's exposure settings (which actions of which connector are tools, which
 * need an approval, how a gated call answers) in one row per tenant; nothing exposed until set.
 * Runs without a flow: an MCP tool call is a run that carries its own definition, its tool name and
 * the connection it uses, so instance, template and version are null for it.
 */
export class AddMcpServer1795492000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mcp_settings (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        approval_mode text NOT NULL DEFAULT 'pending' CHECK (approval_mode IN ('pending', 'wait')),
        approval_wait_seconds integer NOT NULL DEFAULT 50 CHECK (approval_wait_seconds BETWEEN 1 AND 300),
        -- { "<connector>": { "exposed": ["<action>", …], "requireApproval": ["<action>", …] } }
        connectors jsonb NOT NULL DEFAULT '{}',
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      ALTER TABLE runs
        ALTER COLUMN instance_id DROP NOT NULL,
        ALTER COLUMN template_id DROP NOT NULL,
        ALTER COLUMN version_id DROP NOT NULL,
        ADD COLUMN definition jsonb,
        ADD COLUMN tool text,
        ADD COLUMN connections jsonb,
        ADD CONSTRAINT runs_flow_or_definition CHECK (instance_id IS NOT NULL OR (definition IS NOT NULL AND connections IS NOT NULL))`);
    // Runs of a flow went with their instance when the end user was deleted; runs without one go with the end user.
    // NOT VALID: existing rows are not scanned (they all have an instance of the same end user).
    await q.query(`ALTER TABLE runs ADD CONSTRAINT runs_end_user_fk FOREIGN KEY (end_user_id) REFERENCES end_users(id) ON DELETE CASCADE NOT VALID`);
    await q.query(`CREATE INDEX runs_tool_idx ON runs (tenant_id, tool, created_at DESC) WHERE tool IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM runs WHERE instance_id IS NULL`);
    await q.query(`DROP INDEX runs_tool_idx`);
    await q.query(`ALTER TABLE runs DROP CONSTRAINT runs_end_user_fk, DROP CONSTRAINT runs_flow_or_definition, DROP COLUMN definition, DROP COLUMN tool, DROP COLUMN connections`);
    await q.query(`ALTER TABLE runs ALTER COLUMN instance_id SET NOT NULL, ALTER COLUMN template_id SET NOT NULL, ALTER COLUMN version_id SET NOT NULL`);
    await q.query(`DROP TABLE mcp_settings`);
  }
}
