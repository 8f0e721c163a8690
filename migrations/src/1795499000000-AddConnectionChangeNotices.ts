import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every change to a connection, or to what its connector resolves from (the tenant's settings,
 * OpenAPI imports, custom provider), is announced on `switchboard_connections` at commit: processes
 * that keep connections in memory drop them. `c:<id>` names a connection, `t:<tenant id>` a tenant's.
 */
export class AddConnectionChangeNotices1795499000000 implements MigrationInterface {
  name = 'AddConnectionChangeNotices1795499000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION notify_connection_change() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        r record := CASE WHEN TG_OP = 'INSERT' THEN NEW ELSE OLD END;
      BEGIN
        PERFORM pg_notify('switchboard_connections', CASE WHEN TG_TABLE_NAME = 'connections' THEN 'c:' || r.id ELSE 't:' || r.tenant_id END);
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER connections_updated AFTER UPDATE ON connections FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION notify_connection_change()`);
    await q.query(`CREATE TRIGGER connections_deleted AFTER DELETE ON connections FOR EACH ROW EXECUTE FUNCTION notify_connection_change()`);
    for (const table of ['connector_configs', 'connector_openapi_imports', 'custom_providers']) {
      await q.query(`CREATE TRIGGER ${table}_changed AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION notify_connection_change()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER connections_updated ON connections`);
    await q.query(`DROP TRIGGER connections_deleted ON connections`);
    for (const table of ['connector_configs', 'connector_openapi_imports', 'custom_providers']) await q.query(`DROP TRIGGER ${table}_changed ON ${table}`);
    await q.query(`DROP FUNCTION notify_connection_change()`);
  }
}
