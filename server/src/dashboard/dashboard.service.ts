import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { TenantId } from '../common/tenancy/tenant-id';
import { tenantSql } from '../common/tenancy/tenant-sql';
import { monthlyTokens } from '../engine/token-usage';
import type { StatsView, StatsWindow } from './dashboard.dto';

/** Window length and bucket width, in seconds: 60 one-minute buckets, 48 half-hours, 42 four-hour blocks. */
const WINDOWS: Record<StatsWindow, { seconds: number; bucket: number }> = {
  '1h': { seconds: 3600, bucket: 60 },
  '24h': { seconds: 24 * 3600, bucket: 1800 },
  '7d': { seconds: 7 * 24 * 3600, bucket: 4 * 3600 },
};

const DURATION_MS = `extract(epoch FROM (r.finished_at - r.started_at)) * 1000`;
const int = (value: unknown) => Number(value ?? 0);
const numberOrNull = (value: unknown) => (value === null || value === undefined ? null : Math.round(Number(value)));

/**
 * Run statistics for the portal's dashboard, computed with SQL over `runs` (every query filters on
 * tenant_id first, which the (tenant_id, created_at) index serves).
 */
/** A run's flow key in the statistics; a run without a flow (an MCP tool call) counts as `mcp:<tool>`. */
const FLOW_KEY = `COALESCE(t.key, 'mcp:' || r.tool)`;

@Injectable()
export class DashboardService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async stats(tenantId: TenantId, window: StatsWindow, now = new Date()): Promise<StatsView> {
    const { seconds, bucket } = WINDOWS[window];
    // Buckets are aligned to the bucket width, so the chart does not shift between refreshes.
    const to = new Date(Math.ceil(now.getTime() / (bucket * 1000)) * bucket * 1000);
    const from = new Date(to.getTime() - seconds * 1000);
    const params = [from, to];
    const inWindow = `r.tenant_id = $1 AND r.created_at >= $2 AND r.created_at < $3`;

    const [totals] = await tenantSql(this.db).query(
      tenantId,
      `SELECT count(*) AS runs,
              count(*) FILTER (WHERE r.status = 'succeeded') AS succeeded,
              count(*) FILTER (WHERE r.status = 'failed') AS failed,
              count(*) FILTER (WHERE r.status = 'cancelled') AS cancelled,
              count(*) FILTER (WHERE r.status IN ('queued', 'running', 'waiting')) AS active,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY ${DURATION_MS}) FILTER (WHERE r.finished_at IS NOT NULL AND r.started_at IS NOT NULL) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY ${DURATION_MS}) FILTER (WHERE r.finished_at IS NOT NULL AND r.started_at IS NOT NULL) AS p95
         FROM runs r WHERE ${inWindow}`,
      params,
    );

    const series: Array<Record<string, unknown>> = await tenantSql(this.db).query(
      tenantId,
      `WITH buckets AS (
         SELECT generate_series($2::timestamptz, $3::timestamptz - make_interval(secs => $4), make_interval(secs => $4)) AS at
       ), counted AS (
         SELECT date_bin(make_interval(secs => $4), r.created_at, $2::timestamptz) AS at,
                count(*) AS total,
                count(*) FILTER (WHERE r.status = 'succeeded') AS succeeded,
                count(*) FILTER (WHERE r.status = 'failed') AS failed,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY ${DURATION_MS}) FILTER (WHERE r.finished_at IS NOT NULL AND r.started_at IS NOT NULL) AS p95
           FROM runs r WHERE ${inWindow}
          GROUP BY 1
       )
       SELECT b.at, coalesce(c.total, 0) AS total, coalesce(c.succeeded, 0) AS succeeded, coalesce(c.failed, 0) AS failed, c.p95
         FROM buckets b LEFT JOIN counted c ON c.at = b.at
        ORDER BY b.at`,
      [...params, bucket],
    );

    const failing: Array<Record<string, unknown>> = await tenantSql(this.db).query(
      tenantId,
      `SELECT ${FLOW_KEY} AS flow, COALESCE(t.name, 'MCP tool ' || r.tool) AS name, count(*) FILTER (WHERE r.status = 'failed') AS failed, count(*) AS total
         FROM runs r LEFT JOIN flow_templates t ON t.id = r.template_id AND t.tenant_id = r.tenant_id
        WHERE ${inWindow}
        GROUP BY 1, 2
       HAVING count(*) FILTER (WHERE r.status = 'failed') > 0
        ORDER BY 3 DESC, 1
        LIMIT 5`,
      params,
    );

    // Failed runs grouped by error code and flow, each group with its latest message.
    const errors: Array<Record<string, unknown>> = await tenantSql(this.db).query(
      tenantId,
      `SELECT code, flow, message, count, last_at FROM (
         SELECT coalesce(r.error->>'code', 'unknown') AS code, ${FLOW_KEY} AS flow, r.error->>'message' AS message,
                count(*) OVER g AS count, max(r.created_at) OVER g AS last_at,
                row_number() OVER (PARTITION BY coalesce(r.error->>'code', 'unknown'), ${FLOW_KEY} ORDER BY r.created_at DESC, r.id DESC) AS nth
           FROM runs r LEFT JOIN flow_templates t ON t.id = r.template_id AND t.tenant_id = r.tenant_id
          WHERE ${inWindow} AND r.status = 'failed'
         WINDOW g AS (PARTITION BY coalesce(r.error->>'code', 'unknown'), ${FLOW_KEY})
       ) e
       WHERE nth = 1
       ORDER BY count DESC, last_at DESC
       LIMIT 5`,
      params,
    );
    const topErrors = errors.map((e) => ({
      code: String(e.code),
      flow: String(e.flow),
      message: String(e.message ?? ''),
      count: int(e.count),
      lastAt: new Date(e.last_at as string).toISOString(),
    }));

    const succeeded = int(totals.succeeded);
    const failed = int(totals.failed);
    const month = await monthlyTokens(this.db, tenantId);
    return {
      window,
      from: from.toISOString(),
      to: to.toISOString(),
      bucketSeconds: bucket,
      totals: {
        runs: int(totals.runs),
        succeeded,
        failed,
        cancelled: int(totals.cancelled),
        active: int(totals.active),
        successRate: succeeded + failed > 0 ? succeeded / (succeeded + failed) : null,
        p50DurationMs: numberOrNull(totals.p50),
        p95DurationMs: numberOrNull(totals.p95),
      },
      series: series.map((s) => ({
        at: new Date(s.at as string).toISOString(),
        total: int(s.total),
        succeeded: int(s.succeeded),
        failed: int(s.failed),
        p95DurationMs: numberOrNull(s.p95),
      })),
      topFailingFlows: failing.map((f) => ({ flow: String(f.flow), name: String(f.name), failed: int(f.failed), total: int(f.total) })),
      topErrors,
      tokens: {
        thisMonth: { inputTokens: month.inputTokens, outputTokens: month.outputTokens, totalTokens: month.used, modelCalls: month.modelCalls },
        monthlyCap: month.cap,
      },
    };
  }
}
