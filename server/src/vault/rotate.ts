import { DataSource } from 'typeorm';
import { Vault } from './vault';
import { bindingFor, VAULT_FIELDS, VaultField } from './vault-fields';

const BATCH = 500;

/**
 * Re-encrypts every value not under the current master key, in batches of short transactions
 * (row locks held briefly; live traffic goes on). Safe to interrupt and run again.
 */
export async function rotateVault(db: DataSource, vault: Vault, log: (line: string) => void): Promise<number> {
  let total = 0;
  for (const field of Object.keys(VAULT_FIELDS) as VaultField[]) {
    const { table, column } = VAULT_FIELDS[field];
    let done = 0;
    for (;;) {
      const count = await db.transaction(async (manager) => {
        const rows: Array<{ id: string; tenant_id: string; value: string }> = await manager.query(
          `SELECT id, tenant_id, ${column} AS value FROM ${table}
            WHERE ${column} IS NOT NULL AND split_part(${column}, '.', 2) <> $1
            LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
          [vault.currentKeyId],
        );
        for (const row of rows) {
          const binding = bindingFor(field, { tenantId: row.tenant_id, id: row.id });
          await manager.query(`UPDATE ${table} SET ${column} = $1 WHERE id = $2`, [vault.encrypt(vault.decrypt(row.value, binding), binding), row.id]);
        }
        return rows.length;
      });
      done += count;
      if (count < BATCH) break;
    }
    log(`${table}.${column}: re-encrypted ${done}`);
    total += done;
  }
  return total;
}
