import type { DataSource, EntityManager } from 'typeorm';
import type { TenantId } from '../common/tenancy/tenant-id';
import { tenantSql } from '../common/tenancy/tenant-sql';
import type { TokenUsage } from './run.entity';

const THIS_MONTH = `date_trunc('month', now() AT TIME ZONE 'UTC')::date`;

export interface MonthlyTokens {
  used: number;
  cap: number | null;
}

/** The tenant's tokens this calendar month (UTC) and its monthly cap (null: none). */
export async function monthlyTokens(
  db: DataSource | EntityManager,
  tenantId: TenantId,
): Promise<{ used: number; inputTokens: number; outputTokens: number; modelCalls: number; cap: number | null }> {
  const [row]: Array<{ input_tokens: string | null; output_tokens: string | null; model_calls: number | null; cap: string | null }> = await tenantSql(db).query(
    tenantId,
    `SELECT u.input_tokens, u.output_tokens, u.model_calls, (SELECT monthly_token_cap FROM tenants WHERE id = $1) AS cap
       FROM (SELECT 1) one LEFT JOIN token_usage u ON u.tenant_id = $1 AND u.month = ${THIS_MONTH}`,
  );
  const inputTokens = Number(row?.input_tokens ?? 0);
  const outputTokens = Number(row?.output_tokens ?? 0);
  return { used: inputTokens + outputTokens, inputTokens, outputTokens, modelCalls: row?.model_calls ?? 0, cap: row?.cap == null ? null : Number(row.cap) };
}

/** Adds one model call's tokens to the tenant's month; answers the month's total after it and the cap. */
export async function addTokens(db: DataSource | EntityManager, tenantId: TenantId, usage: TokenUsage): Promise<MonthlyTokens> {
  const [row]: Array<{ used: string; cap: string | null }> = await tenantSql(db).query(
    tenantId,
    `INSERT INTO token_usage (tenant_id, month, input_tokens, output_tokens, model_calls)
     VALUES ($1, ${THIS_MONTH}, $2, $3, 1)
     ON CONFLICT (tenant_id, month) DO UPDATE SET input_tokens = token_usage.input_tokens + EXCLUDED.input_tokens,
       output_tokens = token_usage.output_tokens + EXCLUDED.output_tokens, model_calls = token_usage.model_calls + 1
     RETURNING input_tokens + output_tokens AS used, (SELECT monthly_token_cap FROM tenants WHERE id = $1) AS cap`,
    [usage.inputTokens, usage.outputTokens],
  );
  return { used: Number(row.used), cap: row.cap == null ? null : Number(row.cap) };
}

/** A run's tokens: the sum of its model calls' (agent sub-steps). */
export function runTokens(steps: Array<{ type: string; usage?: TokenUsage }>): TokenUsage {
  const total: TokenUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  for (const step of steps) {
    if (step.type !== 'model' || !step.usage) continue;
    total.inputTokens += step.usage.inputTokens;
    total.outputTokens += step.usage.outputTokens;
    total.totalTokens += step.usage.totalTokens;
  }
  return total;
}
