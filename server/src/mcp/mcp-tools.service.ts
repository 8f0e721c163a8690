import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ActionDefinition, ConnectorDefinition } from '@switchboard/connectors';
import Ajv2020, { ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import type { TenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { tenantSql } from '../common/tenancy/tenant-sql';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Connection } from '../connections/connection.entity';
import { ConnectorConfigsService } from '../connector-configs/connector-configs.service';
import { ConnectorRegistry } from '../connector-configs/connector-registry.service';
import { RunsService } from '../engine/runs.service';
import type { Run } from '../engine/run.entity';
import { SessionsService } from '../sessions/sessions.service';
import { McpSettingsService } from './mcp-settings.service';
import { CALL_RESULT_TOOL, describeInput, toolAnnotations, toolName, toolTitle } from './tool-names';

/** Who is calling: an end user of one tenant (their own session or JWT, or a secret key naming them). */
export interface McpIdentity {
  actor: Actor;
  tenantId: TenantId;
  endUserId: string;
  externalId: string;
  /** Null: every connector the tenant switched on. */
  allowedConnectors: string[] | null;
}

/** One exposed action of one connector, as an MCP tool. */
interface ToolEntry {
  name: string;
  connector: ConnectorDefinition;
  actionKey: string;
  action: ActionDefinition;
  requireApproval: boolean;
}

/** What tools/list answers per tool (the SDK's Tool shape). */
export interface ToolView {
  name: string;
  title: string;
  description: string;
  inputSchema: { type: 'object'; [key: string]: unknown };
  annotations: Record<string, unknown>;
}

/** A tools/call result (the SDK's CallToolResult shape). */
export interface ToolResult {
  [key: string]: unknown;
  content: Array<{ type: 'text'; text: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** An unknown tool name: a JSON-RPC error (invalid params), not a tool result. */
export class UnknownTool extends Error {}

/** Longest a call without approval is waited for before answering "still running" (the run goes on). */
const CALL_WAIT_MS = 30_000;
/** How long a gated call waits for the worker to ask its approval before answering without its id. */
const APPROVAL_ASKED_WAIT_MS = 10_000;
/** A link to connect an account, minted for one connector, lives this long. */
const CONNECT_LINK_TTL_SECONDS = 15 * 60;

const CALL_RESULT_SCHEMA = {
  type: 'object',
  properties: { runId: { type: 'string', format: 'uuid', description: 'The runId a pending call answered' } },
  required: ['runId'],
  additionalProperties: false,
} as const;

/**
 * The MCP server's tools: the tenant's exposed actions, for one end user. Every call is an engine
 * run without a flow (trigger type `mcp`): an optional approval step asked of the end user, then
 * the action with the caller's arguments as `$trigger.input`. The worker executes it like any run
 * (per-connection rate limit, idempotency key, approvals, audit, webhooks).
 */
@Injectable()
export class McpToolsService {
  private readonly ajv = addFormats(new Ajv2020({ strict: false, allErrors: true, validateFormats: true }));
  /** Compiled input schemas, by schema object (definitions are long-lived objects). */
  private readonly validators = new WeakMap<object, ValidateFunction>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectTenantScoped(Connection) private readonly connections: TenantScopedRepository<Connection>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly settings: McpSettingsService,
    private readonly configs: ConnectorConfigsService,
    private readonly registry: ConnectorRegistry,
    private readonly runs: RunsService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
  ) {}

  /** The exposed actions of the tenant's switched-on connectors this end user's session allows. */
  private async entries(identity: McpIdentity): Promise<{ tools: ToolEntry[]; approvalMode: 'pending' | 'wait'; approvalWaitSeconds: number }> {
    const [settings, enabled] = await Promise.all([this.settings.get(identity.tenantId), this.configs.listEnabled(identity.tenantId)]);
    const on = new Set(enabled.map((c) => c.connectorKey));
    const tools: ToolEntry[] = [];
    for (const [key, exposure] of Object.entries(settings.connectors).sort(([a], [b]) => a.localeCompare(b))) {
      if (!on.has(key) || (identity.allowedConnectors && !identity.allowedConnectors.includes(key))) continue;
      const connector = await this.registry.find(identity.tenantId, key);
      if (!connector) continue;
      for (const actionKey of exposure.exposed) {
        const action = connector.actions[actionKey];
        if (!action) continue; // an imported action removed since
        tools.push({ name: toolName(key, actionKey), connector, actionKey, action, requireApproval: exposure.requireApproval.includes(actionKey) });
      }
    }
    return { tools, approvalMode: settings.approvalMode, approvalWaitSeconds: settings.approvalWaitSeconds };
  }

  async list(identity: McpIdentity): Promise<ToolView[]> {
    const { tools } = await this.entries(identity);
    const views: ToolView[] = tools.map((t) => ({
      name: t.name,
      title: toolTitle(t.connector, t.action),
      description: t.requireApproval
        ? `${t.action.description}\n\nEach call waits for the user's approval; a pending call answers a runId to pass to ${CALL_RESULT_TOOL}.`
        : t.action.description,
      inputSchema: { ...(t.action.input as Record<string, unknown>), type: 'object' },
      annotations: toolAnnotations(t.connector, t.actionKey, t.action),
    }));
    if (tools.some((t) => t.requireApproval)) {
      views.push({
        name: CALL_RESULT_TOOL,
        title: 'Result of a call waiting for approval',
        description: "The outcome of a tool call that answered pending (it needed the user's approval): the result once approved and done, a rejection, or still pending.",
        inputSchema: { ...CALL_RESULT_SCHEMA } as ToolView['inputSchema'],
        annotations: { title: 'Result of a call waiting for approval', readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      });
    }
    return views;
  }

  async call(identity: McpIdentity, name: string, args: Record<string, unknown>): Promise<ToolResult> {
    const { tools, approvalMode, approvalWaitSeconds } = await this.entries(identity);
    if (name === CALL_RESULT_TOOL && tools.some((t) => t.requireApproval)) return this.callResult(identity, args);
    const tool = tools.find((t) => t.name === name);
    if (!tool) throw new UnknownTool(`Unknown tool: ${name.length > 100 ? `${name.slice(0, 100)}…` : name}`);
    const title = toolTitle(tool.connector, tool.action);

    const problems = this.validate(tool.action, args);
    if (problems) return errorResult(`The arguments for ${name} are not valid: ${problems}`, { code: 'invalid_arguments' });

    const connectorKey = tool.connector.key;
    const [connection] = await this.connections.find(identity.tenantId, { where: { endUserId: identity.endUserId, connectorKey }, order: { createdAt: 'DESC' } }).then((all) => {
      const active = all.filter((c) => c.status === 'active');
      return active.length > 0 ? active : all;
    });
    if (!connection || connection.status !== 'active') {
      const url = await this.connectLink(identity, connectorKey);
      const why = connection
        ? `The ${tool.connector.name} account connected here needs to be connected again (${connection.status.replace('_', ' ')})`
        : `No ${tool.connector.name} account is connected`;
      return errorResult(`${why}, so "${title}" cannot run. Ask the user to open this link to connect ${tool.connector.name}, then try again: ${url}`, {
        code: connection ? 'connection_needs_reauth' : 'connection_missing',
        connector: connectorKey,
        connectUrl: url,
      });
    }

    const definition = {
      key: name,
      name: 'AI assistant (MCP)',
      description: `An MCP tool call: ${title}`,
      trigger: { type: 'request' },
      connectors: [connectorKey],
      inputs: {},
      steps: [
        ...(tool.requireApproval
          ? [{ id: 'approval', type: 'approval', title, description: describeInput(title, tool.action.input as Record<string, unknown>, args), approvers: 'end_user' }]
          : []),
        // The caller's arguments reach the action only as data ($trigger.input), never as a template.
        { id: 'call', type: 'action', connector: connectorKey, action: tool.actionKey, input: '=$trigger.input' },
      ],
    };
    const trigger = { tool: name, connector: connectorKey, action: tool.actionKey, input: args };
    const { runId, enqueue } = await this.db.transaction(async (manager) => {
      const started = await this.runs.startDefinedRun(
        { tenantId: identity.tenantId, endUserId: identity.endUserId, triggerType: 'mcp', trigger, definition, tool: name, connections: { [connectorKey]: connection.id } },
        manager,
      );
      await this.audit.record(
        identity.actor,
        'mcp.tool_called',
        { type: 'run', id: started.runId },
        {
          tool: name,
          connector: connectorKey,
          action: tool.actionKey,
          connectionId: connection.id,
          endUserId: identity.externalId,
          approvalRequired: tool.requireApproval,
        },
        manager,
      );
      return started;
    });
    await enqueue();

    if (!tool.requireApproval) {
      await this.runs.waitFor(identity.tenantId, runId, CALL_WAIT_MS);
      return this.outcome(identity, runId);
    }
    if (approvalMode === 'wait') {
      await this.runs.waitFor(identity.tenantId, runId, approvalWaitSeconds * 1000);
      return this.outcome(identity, runId);
    }
    // 'pending': answer once the worker has asked the approval (so its id can be given), or the run ended first.
    const deadline = Date.now() + APPROVAL_ASKED_WAIT_MS;
    while (Date.now() < deadline) {
      const [state]: Array<{ status: string; approval: string | null }> = await tenantSql(this.db).query(
        identity.tenantId,
        `SELECT r.status, (SELECT a.id FROM approvals a WHERE a.run_id = r.id ORDER BY a.created_at DESC LIMIT 1) AS approval FROM runs r WHERE r.tenant_id = $1 AND r.id = $2`,
        [runId],
      );
      if (!state || state.approval || ['succeeded', 'failed', 'cancelled'].includes(state.status)) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.outcome(identity, runId);
  }

  /** switchboard_call_result: the outcome of one of this end user's MCP calls. */
  private async callResult(identity: McpIdentity, args: Record<string, unknown>): Promise<ToolResult> {
    const runId = args.runId;
    if (typeof runId !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(runId)) {
      return errorResult('runId must be the runId (a UUID) a pending call answered', { code: 'invalid_arguments' });
    }
    return this.outcome(identity, runId);
  }

  /** A run of this end user's MCP calls as a tool result: its result, its failure, or pending. */
  async outcome(identity: McpIdentity, runId: string): Promise<ToolResult> {
    let run: Run;
    try {
      run = await this.runs.get(identity.tenantId, runId, identity.endUserId);
    } catch {
      return errorResult(`No call ${runId} of yours was found`, { code: 'not_found', runId });
    }
    if (run.triggerType !== 'mcp') return errorResult(`No call ${runId} of yours was found`, { code: 'not_found', runId });
    const tool = run.tool ?? 'tool';
    if (run.status === 'succeeded') {
      const result = run.result ?? null;
      return {
        content: [{ type: 'text', text: typeof result === 'string' ? result : JSON.stringify(result) }],
        structuredContent: { status: 'succeeded', runId, result },
      };
    }
    if (run.status === 'failed' || run.status === 'cancelled') {
      const error = run.error ?? { code: run.status, message: `The call was ${run.status}` };
      if (error.code === 'approval_rejected') {
        const approval = await this.approval(identity.tenantId, runId);
        const how = approval?.decided_via === 'timeout' ? 'was not approved in time' : 'was rejected by the user';
        const comment = approval?.comment ? ` Their comment: ${approval.comment}` : '';
        return errorResult(`The call to ${tool} ${how}; nothing was done.${comment}`, { status: 'rejected', code: 'approval_rejected', runId, comment: approval?.comment ?? null });
      }
      return errorResult(`The call to ${tool} failed: ${error.message} (${error.code})`, { status: run.status, code: error.code, runId });
    }
    const approval = await this.approval(identity.tenantId, runId);
    if (approval?.status === 'pending') {
      return {
        content: [
          {
            type: 'text',
            text: `The call to ${tool} is waiting for the user's approval (approval ${approval.id}); nothing has been done yet. Call ${CALL_RESULT_TOOL} with runId ${runId} later for its outcome.`,
          },
        ],
        structuredContent: { status: 'pending_approval', runId, approvalId: approval.id },
      };
    }
    return {
      content: [{ type: 'text', text: `The call to ${tool} is still ${run.status}. Call ${CALL_RESULT_TOOL} with runId ${runId} later for its outcome.` }],
      structuredContent: { status: run.status, runId },
    };
  }

  private async approval(tenantId: TenantId, runId: string): Promise<{ id: string; status: string; decided_via: string | null; comment: string | null } | undefined> {
    const [row] = await tenantSql(this.db).query(
      tenantId,
      `SELECT id, status, decided_via, comment FROM approvals WHERE tenant_id = $1 AND run_id = $2 ORDER BY created_at DESC LIMIT 1`,
      [runId],
    );
    return row;
  }

  /** The arguments against the action's input schema; null when they fit, else the problems in words. */
  private validate(action: ActionDefinition, args: Record<string, unknown>): string | null {
    let validate = this.validators.get(action.input);
    if (!validate) {
      validate = this.ajv.compile(action.input);
      this.validators.set(action.input, validate);
    }
    if (validate(args)) return null;
    return (validate.errors ?? [])
      .slice(0, 10)
      .map((e) => `${e.instancePath || '(input)'} ${e.message ?? 'is invalid'}`)
      .join('; ');
  }

  /** A link a person opens to connect `connector`: a short-lived session allowed that connector only. */
  private async connectLink(identity: McpIdentity, connector: string): Promise<string> {
    const { token } = await this.sessions.create(identity.actor, { externalId: identity.externalId, allowedConnectors: [connector], ttlSeconds: CONNECT_LINK_TTL_SECONDS });
    return `${this.config.publicUrl}/connect/${encodeURIComponent(connector)}?${new URLSearchParams({ session: token })}`;
  }
}

function errorResult(text: string, structured: Record<string, unknown>): ToolResult {
  return { content: [{ type: 'text', text }], structuredContent: structured, isError: true };
}
