import { MigrationInterface, QueryRunner } from 'typeorm';

export class AddScheduleAndWebhookTriggers1795460500000 implements MigrationInterface {
  name = 'AddScheduleAndWebhookTriggers1795460500000';

  async up(q: QueryRunner): Promise<void> {
    // One row per instance whose trigger keeps state (schedule, webhook; later poll), keyed by the
    // instance's own id. Schedule: the cron and time zone as evaluated at enable time, and the next
    // fire (NULL while the instance is off). Webhook: the URL token's SHA-256 for lookup, plus the
    // token and signing secret vault-encrypted so the URL can be shown again.
    await q.query(`
      CREATE TABLE flow_instance_triggers (
        id uuid PRIMARY KEY REFERENCES flow_instances(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        type text NOT NULL CHECK (type IN ('schedule', 'webhook')),
        cron text,
        timezone text,
        next_fire_at timestamptz,
        webhook_token_hash text UNIQUE,
        webhook_token text,
        webhook_secret text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (type <> 'schedule' OR (cron IS NOT NULL AND timezone IS NOT NULL)),
        CHECK (type <> 'webhook' OR (webhook_token_hash IS NOT NULL AND webhook_token IS NOT NULL))
      )`);
    // The scheduler's claim: due rows, oldest first.
    await q.query(`CREATE INDEX flow_instance_triggers_due_idx ON flow_instance_triggers (next_fire_at) WHERE next_fire_at IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE flow_instance_triggers`);
  }
}
