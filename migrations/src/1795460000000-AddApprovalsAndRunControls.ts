import { MigrationInterface, QueryRunner } from 'typeorm';

export class AddApprovalsAndRunControls1795460000000 implements MigrationInterface {
  name = 'AddApprovalsAndRunControls1795460000000';

  async up(q: QueryRunner): Promise<void> {
    // attempt: 1, then +1 per retry from the failed step. active_ms: execution time so far (not
    // counting time queued or parked), what the per-run timeout measures.
    await q.query(`ALTER TABLE runs ADD COLUMN attempt integer NOT NULL DEFAULT 1, ADD COLUMN active_ms integer NOT NULL DEFAULT 0`);
    // One approval per (run, step path, attempt): a resumed run finds its approval instead of asking
    // again; a retried run asks again. Flow key/name and the end user's external id are copied at
    // creation so lists need no joins (they never change for a given run).
    await q.query(`
      CREATE TABLE approvals (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        run_id uuid NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        run_attempt integer NOT NULL,
        step_path text NOT NULL,
        step_id text NOT NULL,
        end_user_id uuid NOT NULL,
        end_user_external_id text NOT NULL,
        flow_key text NOT NULL,
        flow_name text NOT NULL,
        title text NOT NULL,
        description text,
        approvers text NOT NULL CHECK (approvers IN ('end_user', 'host', 'any')),
        on_timeout text NOT NULL CHECK (on_timeout IN ('approve', 'reject')),
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
        approved boolean,
        decided_via text CHECK (decided_via IN ('end_user', 'host', 'timeout', 'cancel')),
        decided_by text,
        comment text,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        expires_at timestamptz,
        decided_at timestamptz,
        UNIQUE (run_id, step_path, run_attempt)
      )`);
    await q.query(`CREATE INDEX approvals_tenant_idx ON approvals (tenant_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX approvals_pending_idx ON approvals (tenant_id, end_user_id) WHERE status = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE approvals`);
    await q.query(`ALTER TABLE runs DROP COLUMN attempt, DROP COLUMN active_ms`);
  }
}
