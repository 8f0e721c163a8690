import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alert rules of a tenant's team and the incidents they raise. One firing incident per (rule,
 * subject) at a time (a partial unique index: the de-duplication); `notified` lists the notices
 * sent ('firing:email', 'resolved:slack'…), and a lease keeps two workers from sending the same one.
 */
export class AddAlerts1795496000000 implements MigrationInterface {
  name = 'AddAlerts1795496000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE alert_rules (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        kind text NOT NULL CHECK (kind IN ('flow_failure_rate', 'flow_failures', 'connection_needs_reauth', 'webhook_endpoint_disabled', 'tenant_near_cap')),
        params jsonb NOT NULL DEFAULT '{}',
        channels jsonb NOT NULL DEFAULT '{}',
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX alert_rules_tenant_idx ON alert_rules (tenant_id, created_at)`);
    await q.query(`CREATE INDEX alert_rules_enabled_idx ON alert_rules (tenant_id) WHERE enabled`);
    await q.query(`
      CREATE TABLE alert_incidents (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        rule_id uuid NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
        subject text NOT NULL,
        status text NOT NULL CHECK (status IN ('firing', 'resolved')),
        value double precision NOT NULL,
        fired_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz,
        notified text[] NOT NULL DEFAULT '{}',
        notify_attempts integer NOT NULL DEFAULT 0,
        notify_error text,
        notify_lease_until timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX alert_incidents_firing_idx ON alert_incidents (rule_id, subject) WHERE status = 'firing'`);
    await q.query(`CREATE INDEX alert_incidents_tenant_idx ON alert_incidents (tenant_id, fired_at DESC, id DESC)`);
    await q.query(`CREATE INDEX connections_needs_reauth_idx ON connections (tenant_id) WHERE status = 'needs_reauth'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX connections_needs_reauth_idx`);
    await q.query(`DROP TABLE alert_incidents`);
    await q.query(`DROP TABLE alert_rules`);
  }
}
