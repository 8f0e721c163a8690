import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, EntityManager } from 'typeorm';
import { acrossTenants, tenantSql } from '../common/tenancy/tenant-sql';
import { TenantId } from '../common/tenancy/tenant-id';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { monthlyTokens } from '../engine/token-usage';
import type { AlertKind, AlertRule } from './alert.entities';

/** A condition that holds now: the rule, what it is about, and the value measured. */
export interface Breach {
  ruleId: string;
  subject: string;
  value: number;
}

const FLOW_KEY = `COALESCE(t.key, 'mcp:' || r.tool)`;

/**
 * Computes every enabled rule of a tenant from what the dashboard measures, one statement per rule
 * kind (never one per flow or connection), and turns the answer into incidents: a new firing one
 * per (rule, subject) newly breached — the partial unique index makes a second one impossible —
 * and resolved ones for conditions that cleared. Each tenant is evaluated under a transaction-level
 * advisory lock taken with try: a second worker at the same tenant skips it instead of waiting.
 */
@Injectable()
export class AlertEvaluator {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('AlertEvaluator');
  }

  /** Tenants with an enabled rule (alert_rules_enabled_idx). */
  async tenants(): Promise<TenantId[]> {
    const rows: Array<{ tenant_id: string }> = await acrossTenants(
      this.db,
      'the evaluator visits every tenant that has an enabled alert rule',
      `SELECT DISTINCT tenant_id FROM alert_rules WHERE enabled`,
    );
    return rows.map((row) => row.tenant_id as TenantId);
  }

  /** Evaluates one tenant's rules; answers false when another worker holds the tenant. */
  async evaluate(tenantId: TenantId): Promise<{ evaluated: boolean; fired: number; resolved: number }> {
    return this.db.transaction(async (m) => {
      const [{ locked }] = await m.query(`SELECT pg_try_advisory_xact_lock(hashtext('alerts:' || $1)) AS locked`, [tenantId]);
      if (!locked) return { evaluated: false, fired: 0, resolved: 0 };
      const rules: AlertRule[] = await tenantSql(m).query(tenantId, `SELECT id, kind, params FROM alert_rules WHERE tenant_id = $1 AND enabled`);
      const breaches = await this.measure(m, tenantId, rules);
      const [fired, resolved] = await this.reconcile(m, tenantId, rules, breaches);
      return { evaluated: true, fired, resolved };
    });
  }

  private async measure(m: EntityManager, tenantId: TenantId, rules: AlertRule[]): Promise<Breach[]> {
    const byKind = (kind: AlertKind) => rules.filter((rule) => rule.kind === kind);
    const flowRules = [...byKind('flow_failure_rate'), ...byKind('flow_failures')];
    const breaches: Breach[] = [];
    if (flowRules.length > 0) {
      // Runs per rule window and flow, the dashboard's grouping; runs (tenant_id, created_at) serves it.
      const rows: Array<{ rule_id: string; flow: string; failed: string; finished: string }> = await tenantSql(m).query(
        tenantId,
        `SELECT w.rule_id, ${FLOW_KEY} AS flow,
                count(*) FILTER (WHERE r.status = 'failed') AS failed,
                count(*) FILTER (WHERE r.status IN ('succeeded', 'failed')) AS finished
           FROM unnest($2::uuid[], $3::int[], $4::text[]) AS w(rule_id, minutes, flow_key)
           JOIN runs r ON r.tenant_id = $1 AND r.created_at >= now() - make_interval(mins => w.minutes)
           LEFT JOIN flow_templates t ON t.id = r.template_id AND t.tenant_id = r.tenant_id
          WHERE w.flow_key IS NULL OR t.key = w.flow_key
          GROUP BY 1, 2`,
        [flowRules.map((r) => r.id), flowRules.map((r) => r.params.windowMinutes), flowRules.map((r) => r.params.flowKey ?? null)],
      );
      for (const row of rows) {
        const rule = flowRules.find((r) => r.id === row.rule_id)!;
        const failed = Number(row.failed);
        const finished = Number(row.finished);
        const threshold = rule.params.threshold ?? 1;
        if (rule.kind === 'flow_failures') {
          if (failed >= threshold) breaches.push({ ruleId: rule.id, subject: row.flow, value: failed });
        } else if (finished >= (rule.params.minRuns ?? 1) && finished > 0) {
          const rate = Math.round((failed / finished) * 1000) / 10;
          if (rate >= threshold) breaches.push({ ruleId: rule.id, subject: row.flow, value: rate });
        }
      }
    }
    const stateRules = (kind: AlertKind, subjects: string[]) => {
      for (const rule of byKind(kind)) for (const subject of subjects) breaches.push({ ruleId: rule.id, subject, value: 1 });
    };
    if (byKind('connection_needs_reauth').length > 0) {
      const rows: Array<{ id: string }> = await tenantSql(m).query(tenantId, `SELECT id FROM connections WHERE tenant_id = $1 AND status = 'needs_reauth' LIMIT 1000`);
      stateRules(
        'connection_needs_reauth',
        rows.map((row) => row.id),
      );
    }
    if (byKind('webhook_endpoint_disabled').length > 0) {
      const rows: Array<{ id: string }> = await tenantSql(m).query(tenantId, `SELECT id FROM webhook_endpoints WHERE tenant_id = $1 AND NOT enabled`);
      stateRules(
        'webhook_endpoint_disabled',
        rows.map((row) => row.id),
      );
    }
    if (byKind('tenant_near_cap').length > 0) {
      const usage = await this.capUsage(m, tenantId);
      for (const rule of byKind('tenant_near_cap')) {
        for (const [subject, percent] of Object.entries(usage)) if (percent >= (rule.params.threshold ?? 100)) breaches.push({ ruleId: rule.id, subject, value: percent });
      }
    }
    return breaches;
  }

  /** Percent used of each cap the tenant has: monthly tokens (when capped) and runs executing at once. */
  private async capUsage(m: EntityManager, tenantId: TenantId): Promise<Record<string, number>> {
    const usage: Record<string, number> = {};
    const tokens = await monthlyTokens(m, tenantId);
    if (tokens.cap !== null) usage.monthly_tokens = tokens.cap === 0 ? 100 : Math.round((tokens.used / tokens.cap) * 1000) / 10;
    const [{ running }] = await tenantSql(m).query(tenantId, `SELECT count(*) AS running FROM runs WHERE tenant_id = $1 AND status = 'running'`);
    usage.concurrent_runs = Math.round((Number(running) / this.config.engine.tenantMaxConcurrentRuns) * 1000) / 10;
    return usage;
  }

  /** Opens incidents for new breaches and resolves firing ones whose condition cleared; answers how many of each. */
  private async reconcile(m: EntityManager, tenantId: TenantId, rules: AlertRule[], breaches: Breach[]): Promise<[number, number]> {
    const opened: unknown[] = await tenantSql(m).query(
      tenantId,
      `INSERT INTO alert_incidents (tenant_id, rule_id, subject, status, value)
       SELECT $1, b.rule_id, b.subject, 'firing', b.value FROM unnest($2::uuid[], $3::text[], $4::float8[]) AS b(rule_id, subject, value)
         JOIN alert_rules r ON r.tenant_id = $1 AND r.id = b.rule_id
       ON CONFLICT (rule_id, subject) WHERE status = 'firing' DO NOTHING
       RETURNING id`,
      [breaches.map((b) => b.ruleId), breaches.map((b) => b.subject), breaches.map((b) => b.value)],
    );
    const [resolved] = await tenantSql(m).query(
      tenantId,
      `UPDATE alert_incidents i SET status = 'resolved', resolved_at = now(), notify_attempts = 0, notify_error = NULL
        WHERE i.tenant_id = $1 AND i.status = 'firing' AND i.rule_id = ANY($2::uuid[])
          AND NOT EXISTS (SELECT 1 FROM unnest($3::uuid[], $4::text[]) AS b(rule_id, subject) WHERE b.rule_id = i.rule_id AND b.subject = i.subject)
        RETURNING i.id`,
      [rules.map((r) => r.id), breaches.map((b) => b.ruleId), breaches.map((b) => b.subject)],
    );
    const resolvedCount = Array.isArray(resolved) ? resolved.length : 0;
    if (opened.length > 0 || resolvedCount > 0) this.logger.info({ tenantId, fired: opened.length, resolved: resolvedCount }, 'alert incidents changed');
    return [opened.length, resolvedCount];
  }
}
