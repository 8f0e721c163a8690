import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ConnectorDefinition } from '@switchboard/connectors';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { AppError } from '../common/errors/app-error';
import type { TenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { tenantSql } from '../common/tenancy/tenant-sql';
import { ConnectorConfigsService } from '../connector-configs/connector-configs.service';
import { ConnectorRegistry } from '../connector-configs/connector-registry.service';
import { ApprovalMode, ConnectorExposure, MCP_DEFAULTS, McpSettings } from './mcp-settings.entity';
import { toolName } from './tool-names';

export interface McpOverview {
  approvalMode: ApprovalMode;
  approvalWaitSeconds: number;
  connectors: Array<{
    key: string;
    name: string;
    /** Switched on for the tenant's end users (a connector that is off offers no tools, whatever is exposed). */
    enabled: boolean;
    actions: Array<{ key: string; name: string; description: string; readOnly: boolean; tool: string; exposed: boolean; requireApproval: boolean }>;
  }>;
}

/** A tenant's MCP exposure: nothing is a tool until the tenant says so, per connector and action. */
@Injectable()
export class McpSettingsService {
  constructor(
    @InjectTenantScoped(McpSettings) private readonly settings: TenantScopedRepository<McpSettings>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly registry: ConnectorRegistry,
    private readonly configs: ConnectorConfigsService,
    private readonly audit: AuditService,
  ) {}

  /** The tenant's settings, or the defaults (nothing exposed). */
  async get(tenantId: TenantId): Promise<Pick<McpSettings, 'approvalMode' | 'approvalWaitSeconds' | 'connectors'>> {
    return (await this.settings.findOne(tenantId, {})) ?? { ...MCP_DEFAULTS, connectors: {} };
  }

  /** Every connector the tenant switched on or exposed something of, with each action's exposure. */
  async overview(tenantId: TenantId): Promise<McpOverview> {
    const [settings, enabled] = await Promise.all([this.get(tenantId), this.configs.listEnabled(tenantId)]);
    const enabledKeys = new Set(enabled.map((c) => c.connectorKey));
    const keys = [...new Set([...enabledKeys, ...Object.keys(settings.connectors)])].sort();
    const connectors: McpOverview['connectors'] = [];
    for (const key of keys) {
      const definition = await this.registry.find(tenantId, key);
      if (!definition) continue; // a custom provider deleted since: nothing to offer
      const exposure = settings.connectors[key] ?? { exposed: [], requireApproval: [] };
      connectors.push({
        key,
        name: definition.name,
        enabled: enabledKeys.has(key),
        actions: Object.entries(definition.actions).map(([action, a]) => ({
          key: action,
          name: a.name,
          description: a.description,
          readOnly: a.readOnly,
          tool: toolName(key, action),
          exposed: exposure.exposed.includes(action),
          requireApproval: exposure.requireApproval.includes(action),
        })),
      });
    }
    return { approvalMode: settings.approvalMode, approvalWaitSeconds: settings.approvalWaitSeconds, connectors };
  }

  /** Replaces one connector's exposure. Unknown connector: 404; unknown action: 400 naming it. */
  async setConnector(actor: Actor, key: string, input: ConnectorExposure): Promise<McpOverview> {
    const definition = await this.registry.definition(actor.tenantId, key);
    const exposed = [...new Set(input.exposed)];
    const requireApproval = [...new Set(input.requireApproval)];
    const problems = [
      ...exposed.filter((a) => !definition.actions[a]).map((a) => ({ path: `exposed[${input.exposed.indexOf(a)}]`, message: `${definition.name} (${key}) has no action ${a}` })),
      ...requireApproval
        .filter((a) => !definition.actions[a])
        .map((a) => ({ path: `requireApproval[${input.requireApproval.indexOf(a)}]`, message: `${definition.name} (${key}) has no action ${a}` })),
      ...requireApproval
        .filter((a) => definition.actions[a] && !exposed.includes(a))
        .map((a) => ({ path: `requireApproval[${input.requireApproval.indexOf(a)}]`, message: `${a} is not exposed: list it in exposed too, or leave it out here` })),
    ];
    if (problems.length > 0) throw new AppError('validation_failed', problems.map((p) => `${p.path}: ${p.message}`).join('; '), { errors: problems });
    checkToolNames(definition, exposed);
    await this.db.transaction(async (manager) => {
      const before = await this.lockedRow(actor.tenantId, manager);
      const connectors = { ...before.connectors };
      if (exposed.length === 0) delete connectors[key];
      else connectors[key] = { exposed, requireApproval };
      await tenantSql(manager).query(actor.tenantId, `UPDATE mcp_settings SET connectors = $2, updated_at = now() WHERE tenant_id = $1`, [JSON.stringify(connectors)]);
      await this.audit.record(
        actor,
        'mcp.connector_exposure_updated',
        { type: 'connector', id: key },
        {
          exposed,
          requireApproval,
          before: before.connectors[key] ?? { exposed: [], requireApproval: [] },
        },
        manager,
      );
    });
    return this.overview(actor.tenantId);
  }

  /** How approval-gated calls answer. */
  async setApproval(actor: Actor, input: { approvalMode: ApprovalMode; approvalWaitSeconds?: number }): Promise<McpOverview> {
    await this.db.transaction(async (manager) => {
      const before = await this.lockedRow(actor.tenantId, manager);
      const waitSeconds = input.approvalWaitSeconds ?? before.approvalWaitSeconds;
      await tenantSql(manager).query(actor.tenantId, `UPDATE mcp_settings SET approval_mode = $2, approval_wait_seconds = $3, updated_at = now() WHERE tenant_id = $1`, [
        input.approvalMode,
        waitSeconds,
      ]);
      await this.audit.record(
        actor,
        'mcp.approval_settings_updated',
        null,
        {
          approvalMode: input.approvalMode,
          approvalWaitSeconds: waitSeconds,
          before: { approvalMode: before.approvalMode, approvalWaitSeconds: before.approvalWaitSeconds },
        },
        manager,
      );
    });
    return this.overview(actor.tenantId);
  }

  /** The tenant's row, created with the defaults when missing, locked for this transaction. */
  private async lockedRow(tenantId: TenantId, manager: DataSource['manager']): Promise<McpSettings> {
    await tenantSql(manager).query(tenantId, `INSERT INTO mcp_settings (tenant_id, approval_mode, approval_wait_seconds) VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO NOTHING`, [
      MCP_DEFAULTS.approvalMode,
      MCP_DEFAULTS.approvalWaitSeconds,
    ]);
    const [row]: Array<{ approval_mode: ApprovalMode; approval_wait_seconds: number; connectors: Record<string, ConnectorExposure> }> = await tenantSql(manager).query(
      tenantId,
      `SELECT approval_mode, approval_wait_seconds, connectors FROM mcp_settings WHERE tenant_id = $1 FOR UPDATE`,
    );
    return { tenantId, approvalMode: row.approval_mode, approvalWaitSeconds: row.approval_wait_seconds, connectors: row.connectors, updatedAt: new Date() };
  }
}

/** Two actions whose names map to the same tool name (after replacing characters MCP refuses) cannot both be exposed. */
function checkToolNames(definition: ConnectorDefinition, exposed: string[]): void {
  const seen = new Map<string, string>();
  for (const action of exposed) {
    const name = toolName(definition.key, action);
    const other = seen.get(name);
    if (other)
      throw new AppError('validation_failed', `exposed: ${other} and ${action} both become the tool name ${name}; expose one of them`, {
        errors: [{ path: 'exposed', message: `${other} and ${action} share the tool name ${name}` }],
      });
    seen.set(name, action);
  }
}
