import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAuditEvents1795444953422 implements MigrationInterface {
  name = 'CreateAuditEvents1795444953422';

  async up(q: QueryRunner): Promise<void> {
    // bigint identity: a strictly increasing id doubles as the pagination cursor.
    await q.query(`
      CREATE TABLE audit_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        actor_type text NOT NULL CHECK (actor_type IN ('member', 'api_key', 'end_user', 'system')),
        actor_id text,
        action text NOT NULL,
        target_type text,
        target_id text,
        data jsonb NOT NULL DEFAULT '{}',
        request_id text,
        ip text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX audit_events_tenant_idx ON audit_events (tenant_id, id DESC)`);
    await q.query(`CREATE INDEX audit_events_tenant_action_idx ON audit_events (tenant_id, action, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_events`);
  }
}
