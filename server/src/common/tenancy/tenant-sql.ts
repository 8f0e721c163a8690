import type { DataSource, EntityManager } from 'typeorm';
import type { TenantId } from './tenant-id';

type Queryable = Pick<DataSource | EntityManager, 'query'>;
/** The pg pool under TypeORM's PostgreSQL driver (its `master`), as far as named statements need it. */
type PgPool = { query(statement: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[]; rowCount: number | null }> };

/**
 * A statement scoped to one tenant names it as `$1`: in a `tenant_id = $1` condition, or as the
 * first column and value of an INSERT.
 */
const SCOPED = /\btenant_id\s*=\s*\$1\b|INSERT\s+INTO\s+\w+\s*\(\s*tenant_id\b[^)]*\)\s*VALUES\s*\(\s*\$1\b/i;

/**
 * Raw SQL on tenant-owned tables, scoped like TenantScopedRepository: the tenant id is always `$1`
 * and the statement must filter on it (checked on every call, so a query that forgets it fails in
 * the first test that runs it, not in production). `params` are `$2`, `$3`…
 */
export function tenantSql(db: Queryable) {
  return {
    query<T = any>(tenantId: TenantId, sql: string, params: unknown[] = []): Promise<T> {
      assertScoped(sql);
      return db.query(sql, [tenantId, ...params]);
    },
    /**
     * The same as a named prepared statement, outside any transaction: each pooled connection
     * parses and plans it once instead of on every call (the engine's hot statements). Answers the
     * rows (RETURNING included) and how many rows the statement touched.
     */
    async prepared<T = any>(name: string, tenantId: TenantId, sql: string, params: unknown[] = []): Promise<{ rows: T[]; count: number }> {
      assertScoped(sql);
      const pool = ((db as DataSource).driver as unknown as { master?: PgPool } | undefined)?.master;
      if (!pool) throw new Error('Prepared tenant SQL runs on the DataSource, outside transactions');
      const result = await pool.query({ name, text: sql, values: [tenantId, ...params] });
      return { rows: result.rows as T[], count: result.rowCount ?? 0 };
    },
  };
}

function assertScoped(sql: string): void {
  if (!SCOPED.test(sql)) throw new Error(`Tenant SQL must filter on "tenant_id = $1" (or insert it as $1): ${sql.slice(0, 120)}`);
}

/**
 * Raw SQL that deliberately spans tenants — a sweep, a claim of due rows, a lookup by an id a job
 * or a token carries — with the reason, so every such statement says why it may.
 */
export function acrossTenants<T = any>(db: Queryable, why: string, sql: string, params: unknown[] = []): Promise<T> {
  if (!why.trim()) throw new Error('acrossTenants needs a reason');
  return db.query(sql, params);
}
