import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsDefined, IsIn, IsInt, IsObject, IsOptional, IsString, IsUUID, Length, Max, MaxLength, Min } from 'class-validator';
import { ANY_JSON } from '../common/http/openapi';
import { OptionalNotNull, QueryDate } from '../common/http/validators';
import type { Run, StepRecord } from '../engine/run.entity';
import { runTokens } from '../engine/token-usage';
import type { FlowForEndUser } from './flow-instances.service';
import type { FlowTemplate, FlowTemplateVersion } from './flow-template.entity';
import type { FlowTemplateView, FlowView } from './flow-views.dto';

export class DefinitionBody {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'A flow definition (see /v1/schemas/flow-definition.json)' })
  @IsDefined()
  @IsObject()
  definition: Record<string, unknown>;
}

export class OptionalDefinitionBody {
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Validate this instead of the saved draft' })
  @OptionalNotNull()
  @IsObject()
  definition?: Record<string, unknown>;
}

export class InstanceBody {
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: "Values for the flow's inputs" })
  @OptionalNotNull()
  @IsObject()
  settings?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: 'connector key → connection id (default: your first active connection)' })
  @OptionalNotNull()
  @IsObject()
  connections?: Record<string, string>;
}

export class TemplateOptionsBody {
  @ApiPropertyOptional({ description: 'End users may upgrade their instance themselves in the widget (default true)' })
  @OptionalNotNull()
  @IsBoolean()
  allowEndUserUpgrade?: boolean;
}

export class WebhookSecretBody {
  @ApiProperty({ minLength: 16, maxLength: 256, description: "The signing secret the sender issued (e.g. Stripe's whsec_…); the HMAC key, as its UTF-8 bytes" })
  @IsString()
  @Length(16, 256)
  secret: string;
}

export class EventBody {
  @ApiProperty({ example: 'deal.won' }) @IsString() @Length(1, 200) name: string;
  @ApiProperty({ description: 'Your id for the end user' }) @IsString() @Length(1, 255) endUserId: string;
  @ApiPropertyOptional({ ...ANY_JSON, description: 'Available to flows as $trigger (any JSON)' }) @IsOptional() payload?: unknown;
  @ApiPropertyOptional({ description: 'Sending the same key again returns the same runs and starts nothing new' })
  @OptionalNotNull()
  @IsString()
  @Length(1, 255)
  idempotencyKey?: string;
}

export class RunFlowBody {
  @ApiProperty({ description: 'Your id for the end user' }) @IsString() @Length(1, 255) endUserId: string;
  @ApiPropertyOptional({ ...ANY_JSON, description: 'Available to the flow as $trigger (any JSON)' }) @IsOptional() input?: unknown;
  @ApiPropertyOptional() @OptionalNotNull() @IsString() @Length(1, 255) idempotencyKey?: string;
  @ApiPropertyOptional({ description: 'Wait for the result (from a respond step, else the last output)' }) @OptionalNotNull() @IsBoolean() wait?: boolean;
  @ApiPropertyOptional({ maximum: 30000, default: 30000 }) @OptionalNotNull() @IsInt() @Min(1) @Max(30000) timeoutMs?: number;
}

export class RunQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 }) @OptionalNotNull() @Type(() => Number) @IsInt() @Min(1) @Max(200) limit = 50;
  @ApiPropertyOptional() @OptionalNotNull() @IsString() @MaxLength(200) cursor?: string;
  @ApiPropertyOptional({ enum: ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'] })
  @OptionalNotNull()
  @IsIn(['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'])
  status?: 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';
  @ApiPropertyOptional({ description: 'Flow template key' }) @OptionalNotNull() @IsString() @MaxLength(100) flow?: string;
  @ApiPropertyOptional({ enum: ['event', 'request', 'schedule', 'poll', 'webhook', 'mcp'], description: 'How the runs were started (mcp: MCP tool calls, which have no flow)' })
  @OptionalNotNull()
  @IsIn(['event', 'request', 'schedule', 'poll', 'webhook', 'mcp'])
  triggerType?: string;
  @ApiPropertyOptional({ description: 'MCP tool name, e.g. slack_send_message (runs without a flow)' }) @OptionalNotNull() @IsString() @MaxLength(64) tool?: string;
  @ApiPropertyOptional({ description: 'Your id for the end user' }) @OptionalNotNull() @IsString() @MaxLength(255) endUserId?: string;
  @ApiPropertyOptional({ format: 'date-time' }) @OptionalNotNull() @QueryDate() since?: Date;
  @ApiPropertyOptional({ format: 'date-time' }) @OptionalNotNull() @QueryDate() until?: Date;
}

export const templateView = (t: FlowTemplate, versions: FlowTemplateVersion[] = []): FlowTemplateView => ({
  id: t.id,
  key: t.key,
  name: t.name,
  latestVersion: t.latestVersion,
  allowEndUserUpgrade: t.allowEndUserUpgrade,
  draft: t.draft,
  versions: versions.map((v) => ({ version: v.version, publishedAt: v.createdAt.toISOString(), publishedBy: v.publishedBy, definition: v.definition })),
  createdAt: t.createdAt.toISOString(),
  updatedAt: t.updatedAt.toISOString(),
});

export const flowView = (f: FlowForEndUser): FlowView => {
  const d = f.latest.definition as { name?: string; description?: string; trigger: Record<string, unknown>; connectors?: string[]; inputs?: Record<string, unknown> };
  return {
    key: f.template.key,
    name: d.name ?? f.template.name,
    description: d.description ?? null,
    version: f.latest.version,
    trigger: d.trigger,
    connectors: d.connectors ?? [],
    inputs: d.inputs ?? {},
    instance: f.instance
      ? {
          id: f.instance.id,
          enabled: f.instance.enabled,
          /** `on`, `off`, or `paused`: enabled, but a connection it uses is gone or unusable, so triggers skip it until it is reconnected. */
          status: !f.instance.enabled ? 'off' : f.problems.length ? 'paused' : 'on',
          /** Why it is paused (the first problem): connection_missing, connection_needs_reauth, connection_revoked, connection_error. */
          pausedReason: f.instance.enabled ? (f.problems[0]?.reason ?? null) : null,
          /** Every binding whose connection is gone or unusable (shown even while off, so re-enabling is not a surprise). */
          connectionProblems: f.problems.map((p) => ({ binding: p.binding, connector: p.connector, connectionId: p.connectionId, reason: p.reason })),
          /** What Switchboard changed on its own, e.g. `{ code: "connection_rebound", message, at, binding, from, to }`; cleared by the next change. */
          note: f.instance.note,
          version: f.pinned?.version ?? f.latest.version,
          upgradeAvailable: f.pinned !== null,
          settings: f.instance.settings,
          connections: f.instance.connections,
          /** Schedule triggers: the next fire (null while off). */
          nextRunAt: f.trigger?.nextRunAt?.toISOString() ?? null,
          /** Webhook triggers: the instance's secret URL (null while off). */
          webhookUrl: f.trigger?.webhookUrl ?? null,
          /** Webhook triggers that `verify`: the key the sender signs the body with. */
          webhookSecret: f.trigger?.webhookSecret ?? null,
          /**
           * Poll triggers and provider webhooks: `{ status: ok | failing | waiting, error: { code, message, at, retryAt } | null,
           * lastCheckedAt, lastItemAt, nextCheckAt }`; null for other triggers.
           */
          triggerHealth: f.trigger?.health
            ? {
                status: f.trigger.health.status,
                error: f.trigger.health.error,
                lastCheckedAt: f.trigger.health.lastCheckedAt?.toISOString() ?? null,
                lastItemAt: f.trigger.health.lastItemAt?.toISOString() ?? null,
                nextCheckAt: f.trigger.health.nextCheckAt?.toISOString() ?? null,
              }
            : null,
          updatedAt: f.instance.updatedAt.toISOString(),
        }
      : null,
  };
};

/**
 * A run's step records as views show them. A record still `running` in a finished run was in flight
 * when the run stopped (cancelled mid-call): its outcome is unknown.
 */
const stepViews = (r: Pick<Run, 'status' | 'steps'>): StepRecord[] =>
  ['queued', 'running', 'waiting'].includes(r.status)
    ? r.steps
    : r.steps.map((s) => (s.status === 'running' ? { ...s, status: r.status === 'cancelled' ? 'cancelled' : 'failed', outcome: 'unknown' } : s));

export const runView = (r: Run) => ({
  id: r.id,
  status: r.status,
  /** Null for a run without a flow (trigger type `mcp`: an MCP tool call, named by `tool`). */
  flow: r.flow ?? null,
  tool: r.tool ?? null,
  endUserId: r.endUserExternalId,
  instanceId: r.instanceId,
  triggerType: r.triggerType,
  trigger: r.trigger,
  result: r.result,
  error: r.error,
  steps: stepViews(r),
  createdAt: r.createdAt.toISOString(),
  startedAt: r.startedAt?.toISOString() ?? null,
  finishedAt: r.finishedAt?.toISOString() ?? null,
  durationMs: r.startedAt && r.finishedAt ? r.finishedAt.getTime() - r.startedAt.getTime() : null,
  /** 1, then +1 per retry from the failed step. */
  attempt: r.attempt,
  /** Tokens the run's agent steps used. */
  usage: runTokens(r.steps),
});

export class PromotionQuery {
  @ApiProperty({ format: 'uuid', description: 'The environment to promote to (another of your tenant’s)' }) @IsUUID() environmentId: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'The version to promote (default: the latest published)' })
  @OptionalNotNull()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  version?: number;
}

export class PromoteBody {
  @ApiProperty({ format: 'uuid', description: 'The environment to promote to (another of your tenant’s)' }) @IsUUID() environmentId: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'The version to promote (default: the latest published)' }) @OptionalNotNull() @IsInt() @Min(1) version?: number;
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description: 'The target’s version the preview showed (0: none yet); if it has moved since, the promotion is refused (409 promotion_outdated)',
  })
  @OptionalNotNull()
  @IsInt()
  @Min(0)
  expectedVersion?: number;
}
