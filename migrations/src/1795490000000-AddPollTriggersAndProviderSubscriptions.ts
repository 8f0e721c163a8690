import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Triggers from inside the apps. Poll triggers keep their state in the instance's trigger row
 * (cursor, next poll, health); provider webhooks that need a provider-side subscription get a
 * row of their own, which outlives the instance until the provider's side is removed.
 */
export class AddPollTriggersAndProviderSubscriptions1795490000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE flow_instance_triggers DROP CONSTRAINT flow_instance_triggers_type_check`);
    await q.query(`ALTER TABLE flow_instance_triggers ADD CONSTRAINT flow_instance_triggers_type_check CHECK (type IN ('schedule', 'webhook', 'poll'))`);
    await q.query(`
      ALTER TABLE flow_instance_triggers
        ADD COLUMN trigger_key text,
        ADD COLUMN trigger_input jsonb,
        ADD COLUMN poll_interval_seconds integer CHECK (poll_interval_seconds > 0),
        ADD COLUMN poll_cursor jsonb,
        ADD COLUMN polled_at timestamptz,
        ADD COLUMN next_poll_at timestamptz,
        ADD COLUMN backfill integer NOT NULL DEFAULT 0 CHECK (backfill >= 0),
        ADD COLUMN health text NOT NULL DEFAULT 'ok' CHECK (health IN ('ok', 'failing')),
        ADD COLUMN failures integer NOT NULL DEFAULT 0,
        ADD COLUMN last_error jsonb,
        ADD COLUMN last_item_at timestamptz,
        ADD CONSTRAINT flow_instance_triggers_poll_check CHECK (type <> 'poll' OR poll_interval_seconds IS NOT NULL)`);
    // The poller's claim: due rows, oldest first (a claimed row's next_poll_at is its lease).
    await q.query(`CREATE INDEX flow_instance_triggers_poll_due_idx ON flow_instance_triggers (next_poll_at) WHERE next_poll_at IS NOT NULL`);
    // Its fair share: each tenant's due rows, oldest first.
    await q.query(`CREATE INDEX flow_instance_triggers_poll_tenant_idx ON flow_instance_triggers (tenant_id, next_poll_at) WHERE type = 'poll' AND next_poll_at IS NOT NULL`);
    await q.query(`ALTER TABLE connector_configs ADD COLUMN webhook_signing_secret text`);
    await q.query(`
      CREATE TABLE provider_subscriptions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        instance_id uuid NOT NULL,
        connection_id uuid NOT NULL,
        connector_key text NOT NULL,
        events text[] NOT NULL,
        input jsonb NOT NULL,
        url text NOT NULL,
        provider_id text,
        secret text,
        status text NOT NULL CHECK (status IN ('subscribing', 'active', 'unsubscribing')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One live subscription per instance; old ones wait in 'unsubscribing' until the provider forgets them.
    await q.query(`CREATE UNIQUE INDEX provider_subscriptions_live_idx ON provider_subscriptions (instance_id) WHERE status <> 'unsubscribing'`);
    await q.query(`CREATE INDEX provider_subscriptions_due_idx ON provider_subscriptions (next_attempt_at) WHERE next_attempt_at IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE provider_subscriptions`);
    await q.query(`ALTER TABLE connector_configs DROP COLUMN webhook_signing_secret`);
    await q.query(`DELETE FROM flow_instance_triggers WHERE type = 'poll'`);
    await q.query(`
      ALTER TABLE flow_instance_triggers
        DROP CONSTRAINT flow_instance_triggers_poll_check,
        DROP COLUMN trigger_key, DROP COLUMN trigger_input, DROP COLUMN poll_interval_seconds, DROP COLUMN poll_cursor, DROP COLUMN polled_at,
        DROP COLUMN next_poll_at, DROP COLUMN backfill, DROP COLUMN health, DROP COLUMN failures, DROP COLUMN last_error, DROP COLUMN last_item_at`);
    await q.query(`ALTER TABLE flow_instance_triggers DROP CONSTRAINT flow_instance_triggers_type_check`);
    await q.query(`ALTER TABLE flow_instance_triggers ADD CONSTRAINT flow_instance_triggers_type_check CHECK (type IN ('schedule', 'webhook'))`);
  }
}
