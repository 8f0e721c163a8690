import { decodeTimeCursor, encodeTimeCursor } from '../common/http/cursors';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { AppError } from '../common/errors/app-error';
import { TenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { tenantSql } from '../common/tenancy/tenant-sql';
import { AlertChannels, AlertIncident, AlertKind, AlertParams, AlertRule, IncidentStatus } from './alert.entities';

const MAX_RULES_PER_TENANT = 100;
/** Every notice a quietly resolved incident is taken to have had, so none is sent. */
const QUIET_RESOLVED = ['resolved:email', 'resolved:slack', 'resolved:webhook'];

export interface AlertRuleInput {
  name: string;
  kind: string;
  params?: AlertParams;
  channels: AlertChannels;
  enabled?: boolean;
}

const invalid = (path: string, message: string) => new AppError('validation_failed', `${path}: ${message}`, { errors: [{ path, message }] });

/** The parameters a kind uses, checked; the others are dropped. */
function checkParams(kind: AlertKind, params: AlertParams = {}): AlertParams {
  const need = (field: 'threshold' | 'windowMinutes') => {
    if (params[field] === undefined) throw invalid(`params.${field}`, `is required for ${kind}`);
    return params[field];
  };
  const percent = (value: number) => {
    if (value > 100) throw invalid('params.threshold', `is a percentage for ${kind} (1-100)`);
    return value;
  };
  const flow = params.flowKey === undefined ? {} : { flowKey: params.flowKey };
  switch (kind) {
    case 'flow_failure_rate':
      return { ...flow, threshold: percent(need('threshold')), windowMinutes: need('windowMinutes'), minRuns: params.minRuns ?? 1 };
    case 'flow_failures':
      return { ...flow, threshold: need('threshold'), windowMinutes: need('windowMinutes') };
    case 'tenant_near_cap':
      return { threshold: percent(need('threshold')) };
    default:
      return {};
  }
}

/** The tenant's alert rules and incidents, as the admin API changes and reads them; every change audited. */
@Injectable()
export class AlertRulesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectTenantScoped(AlertRule) private readonly rules: TenantScopedRepository<AlertRule>,
    @InjectTenantScoped(AlertIncident) private readonly incidents: TenantScopedRepository<AlertIncident>,
    private readonly audit: AuditService,
  ) {}

  list(tenantId: TenantId): Promise<AlertRule[]> {
    return this.rules.find(tenantId, { order: { createdAt: 'ASC', id: 'ASC' } });
  }

  get(tenantId: TenantId, id: string): Promise<AlertRule> {
    return this.rules.get(tenantId, { id }, id);
  }

  async create(actor: Actor, input: AlertRuleInput): Promise<AlertRule> {
    const kind = input.kind as AlertKind;
    const params = checkParams(kind, input.params);
    const channels = await this.checkChannels(actor.tenantId, input.channels);
    return this.db.transaction(async (manager) => {
      // Serialise creates per tenant so the cap holds under concurrency.
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('alert_rules:' || $1))`, [actor.tenantId]);
      const repo = this.rules.with(manager);
      if ((await repo.count(actor.tenantId)) >= MAX_RULES_PER_TENANT)
        throw new AppError('conflict', `A tenant can have at most ${MAX_RULES_PER_TENANT} alert rules; delete one first`);
      const rule = await repo.insert(actor.tenantId, { name: input.name, kind, params, channels, enabled: input.enabled ?? true });
      await this.audit.record(actor, 'alert_rule.created', { type: 'alert_rule', id: rule.id }, { name: rule.name, kind, params, channels: channelNames(channels) }, manager);
      return repo.get(actor.tenantId, { id: rule.id }, rule.id);
    });
  }

  async update(actor: Actor, id: string, patch: Partial<Omit<AlertRuleInput, 'kind'>>): Promise<AlertRule> {
    return this.db.transaction(async (manager) => {
      const repo = this.rules.with(manager);
      const current = await repo.query(actor.tenantId, 'r').andWhere('r.id = :id', { id }).setLock('pessimistic_write').getOne();
      if (!current) throw new AppError('not_found', `Alert rule ${id} was not found`);
      const changes: Partial<AlertRule> = {};
      if (patch.name !== undefined) changes.name = patch.name;
      if (patch.params !== undefined) changes.params = checkParams(current.kind, patch.params);
      if (patch.channels !== undefined) changes.channels = await this.checkChannels(actor.tenantId, patch.channels);
      if (patch.enabled !== undefined) changes.enabled = patch.enabled;
      if (Object.keys(changes).length === 0) return current;
      await repo.update(actor.tenantId, { id }, changes);
      if (changes.enabled === false) await this.resolveQuietly(manager, actor.tenantId, id);
      await this.audit.record(actor, 'alert_rule.updated', { type: 'alert_rule', id }, { fields: Object.keys(changes), enabled: changes.enabled ?? current.enabled }, manager);
      return repo.get(actor.tenantId, { id }, id);
    });
  }

  async remove(actor: Actor, id: string): Promise<void> {
    await this.db.transaction(async (manager) => {
      const current = await this.rules.with(manager).get(actor.tenantId, { id }, id);
      await this.rules.with(manager).delete(actor.tenantId, { id });
      await this.audit.record(actor, 'alert_rule.deleted', { type: 'alert_rule', id }, { name: current.name, kind: current.kind }, manager);
    });
  }

  /** Newest first; the cursor is the last row's fired_at and id. */
  async listIncidents(
    tenantId: TenantId,
    query: { status?: IncidentStatus; ruleId?: string; limit: number; cursor?: string },
  ): Promise<{ data: AlertIncident[]; nextCursor: string | null }> {
    const q = this.incidents
      .query(tenantId, 'i')
      .orderBy('i.firedAt', 'DESC')
      .addOrderBy('i.id', 'DESC')
      .take(query.limit + 1);
    if (query.status) q.andWhere('i.status = :status', { status: query.status });
    if (query.ruleId) q.andWhere('i.ruleId = :ruleId', { ruleId: query.ruleId });
    if (query.cursor) {
      const { at, id } = decodeTimeCursor(query.cursor);
      q.andWhere('(i.firedAt, i.id) < (:at, :id)', { at, id });
    }
    const rows = await q.getMany();
    const data = rows.slice(0, query.limit);
    const last = data[data.length - 1];
    return { data, nextCursor: rows.length > query.limit && last ? encodeTimeCursor(last.firedAt, last.id) : null };
  }

  private async resolveQuietly(manager: EntityManager, tenantId: TenantId, ruleId: string): Promise<void> {
    await tenantSql(manager).query(
      tenantId,
      `UPDATE alert_incidents SET status = 'resolved', resolved_at = now(), notified = notified || $3::text[]
        WHERE tenant_id = $1 AND rule_id = $2 AND status = 'firing'`,
      [ruleId, QUIET_RESOLVED],
    );
  }

  private async checkChannels(tenantId: TenantId, channels: AlertChannels): Promise<AlertChannels> {
    const result: AlertChannels = {};
    if (channels.email && channels.email.length > 0) result.email = [...new Set(channels.email)];
    if (channels.slack) {
      const [connection]: Array<{ connector_key: string }> = await tenantSql(this.db).query(tenantId, `SELECT connector_key FROM connections WHERE tenant_id = $1 AND id = $2`, [
        channels.slack.connectionId,
      ]);
      if (!connection) throw invalid('channels.slack.connectionId', 'is not one of your connections');
      if (connection.connector_key !== 'slack') throw invalid('channels.slack.connectionId', `is a ${connection.connector_key} connection, not a Slack one`);
      result.slack = { connectionId: channels.slack.connectionId, channel: channels.slack.channel };
    }
    if (channels.webhook) result.webhook = true;
    if (Object.keys(result).length === 0) throw invalid('channels', 'name at least one channel (email, slack or webhook)');
    return result;
  }
}

/** The channels a rule uses, for the audit log (not the recipients). */
export const channelNames = (channels: AlertChannels) => Object.keys(channels);
