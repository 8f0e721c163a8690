import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateFlows1795449000000 implements MigrationInterface {
  name = 'CreateFlows1795449000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE flow_templates (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        key text NOT NULL CHECK (key ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
        name text NOT NULL,
        draft jsonb NOT NULL,
        latest_version integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, key)
      )`);
    // Published versions never change; instances pin one.
    await q.query(`
      CREATE TABLE flow_template_versions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        template_id uuid NOT NULL REFERENCES flow_templates(id) ON DELETE CASCADE,
        version integer NOT NULL CHECK (version > 0),
        definition jsonb NOT NULL,
        trigger_type text NOT NULL,
        trigger_event text,
        published_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (template_id, version)
      )`);
    await q.query(`
      CREATE TABLE flow_instances (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        end_user_id uuid NOT NULL REFERENCES end_users(id) ON DELETE CASCADE,
        template_id uuid NOT NULL REFERENCES flow_templates(id) ON DELETE CASCADE,
        version_id uuid NOT NULL REFERENCES flow_template_versions(id),
        enabled boolean NOT NULL DEFAULT true,
        settings jsonb NOT NULL DEFAULT '{}',
        connections jsonb NOT NULL DEFAULT '{}',
        trigger_event text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, end_user_id, template_id)
      )`);
    // Event fan-out looks instances up by (tenant, end user, event).
    await q.query(`CREATE INDEX flow_instances_event_idx ON flow_instances (tenant_id, end_user_id, trigger_event) WHERE enabled`);
    await q.query(`
      CREATE TABLE runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        instance_id uuid NOT NULL REFERENCES flow_instances(id) ON DELETE CASCADE,
        template_id uuid NOT NULL,
        version_id uuid NOT NULL,
        end_user_id uuid NOT NULL,
        trigger_type text NOT NULL,
        trigger jsonb NOT NULL,
        idempotency_key text,
        status text NOT NULL CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled')),
        result jsonb,
        error jsonb,
        steps jsonb NOT NULL DEFAULT '[]',
        -- Millisecond precision, so the (created_at, id) cursor round-trips through JavaScript exactly.
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        started_at timestamptz,
        finished_at timestamptz,
        UNIQUE (instance_id, idempotency_key)
      )`);
    await q.query(`CREATE INDEX runs_tenant_idx ON runs (tenant_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX runs_queued_idx ON runs (created_at) WHERE status = 'queued'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE runs`);
    await q.query(`DROP TABLE flow_instances`);
    await q.query(`DROP TABLE flow_template_versions`);
    await q.query(`DROP TABLE flow_templates`);
  }
}
