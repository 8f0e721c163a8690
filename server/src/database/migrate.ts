import { migrations, MIGRATIONS_TABLE } from '@switchboard/migrations';
import { DataSource } from 'typeorm';

/** A short-lived connection that only migrates: the app itself never changes the schema. */
export async function withMigrationDataSource<T>(url: string, work: (db: DataSource) => Promise<T>): Promise<T> {
  const db = new DataSource({ type: 'postgres', url, migrations, migrationsTableName: MIGRATIONS_TABLE, synchronize: false, logging: false });
  await db.initialize();
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/** Applies every pending migration, each in its own transaction; returns the names applied. */
export function migrateUp(url: string): Promise<string[]> {
  return withMigrationDataSource(url, async (db) => (await db.runMigrations({ transaction: 'each' })).map((m) => m.name));
}

/** Reverts the last `steps` migrations (all of them with Infinity); returns how many were reverted. */
export function migrateDown(url: string, steps: number): Promise<number> {
  return withMigrationDataSource(url, async (db) => {
    let reverted = 0;
    while (reverted < steps && (await appliedCount(db)) > 0) {
      await db.undoLastMigration({ transaction: 'each' });
      reverted++;
    }
    return reverted;
  });
}

export function migrationStatus(url: string): Promise<Array<{ name: string; applied: boolean }>> {
  return withMigrationDataSource(url, async (db) => {
    const applied = new Set(await appliedNames(db));
    return db.migrations.map((m) => ({ name: m.name ?? m.constructor.name, applied: applied.has(m.name ?? m.constructor.name) }));
  });
}

async function appliedNames(db: DataSource): Promise<string[]> {
  const exists: Array<{ exists: boolean }> = await db.query(`SELECT to_regclass($1) IS NOT NULL AS exists`, [MIGRATIONS_TABLE]);
  if (!exists[0].exists) return [];
  const rows: Array<{ name: string }> = await db.query(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`);
  return rows.map((r) => r.name);
}

async function appliedCount(db: DataSource): Promise<number> {
  return (await appliedNames(db)).length;
}
