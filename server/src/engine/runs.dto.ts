import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ANY_JSON } from '../common/http/openapi';

const RUN_STATUSES = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'];
const PAUSED_REASONS = ['connection_missing', 'connection_needs_reauth', 'connection_revoked', 'connection_error'];

export class TokenUsageView {
  @ApiProperty() inputTokens: number;
  @ApiProperty() outputTokens: number;
  @ApiProperty() totalTokens: number;
}

export class StepErrorView {
  @ApiProperty() code: string;
  @ApiProperty() message: string;
}

export class StepApprovalView {
  @ApiProperty() approved: boolean;
  @ApiProperty({ nullable: true, type: String }) decidedBy: string | null;
  @ApiProperty() decidedVia: string;
  @ApiProperty({ nullable: true, type: String }) comment: string | null;
  @ApiProperty({ format: 'date-time' }) decidedAt: string;
}

export class StepView {
  @ApiProperty({ description: 'Where in the tree: `post`, `big/then/post`, `each[3]/post`. Unique per run.' }) path: string;
  @ApiProperty() id: string;
  @ApiProperty() type: string;
  @ApiProperty({
    enum: ['succeeded', 'failed', 'skipped', 'waiting', 'running', 'cancelled'],
    description: '`running`: an action or request in flight; `cancelled`: in flight when the run was cancelled.',
  })
  status: string;
  @ApiPropertyOptional(ANY_JSON) input?: unknown;
  @ApiPropertyOptional(ANY_JSON) output?: unknown;
  @ApiPropertyOptional({ type: StepErrorView }) error?: StepErrorView;
  @ApiProperty() attempts: number;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiProperty() durationMs: number;
  @ApiPropertyOptional({ description: '`<runId>:<path>`, sent to providers that de-duplicate by an idempotency key.' }) idempotencyKey?: string;
  @ApiPropertyOptional({ enum: ['unknown'], description: '`unknown`: the step ended with a request unanswered (a timeout): the provider may have acted on it.' })
  outcome?: 'unknown';
  @ApiPropertyOptional({ type: Boolean, enum: [true], description: 'The call was repeated after an earlier execution may already have sent it: the provider may have it twice.' })
  possibleDuplicate?: true;
  @ApiPropertyOptional({
    type: TokenUsageView,
    description: "A model call (`type: 'model'`, a sub-step of an agent step at `<agent>/turn[i]`) or a whole agent step: tokens used.",
  })
  usage?: TokenUsageView;
  @ApiPropertyOptional({ type: StepApprovalView, description: "An agent's tool call (`type: 'tool'`, at `<agent>/turn[i]/call[j]`) that needed approval: the decision." })
  approval?: StepApprovalView;
}

export class RunErrorView {
  @ApiProperty() code: string;
  @ApiProperty() message: string;
  @ApiPropertyOptional({ description: 'The path of the step that failed' }) step?: string;
}

export class RunView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: RUN_STATUSES }) status: string;
  @ApiProperty({ nullable: true, type: String, description: "The flow template's key; null for a run without a flow (an MCP tool call, trigger type `mcp`)." })
  flow: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The MCP tool a run without a flow was started for (e.g. `slack_send_message`); null for flow runs.' })
  tool: string | null;
  @ApiProperty({ description: 'Your id for the end user.' }) endUserId: string;
  @ApiProperty({ nullable: true, type: String, format: 'uuid', description: 'Null for a run without a flow.' }) instanceId: string | null;
  @ApiProperty({ description: 'event, request, schedule, poll, webhook, or mcp (an MCP tool call).' }) triggerType: string;
  @ApiProperty({ ...ANY_JSON, description: 'What started the run; available to the flow as `$trigger`.' }) trigger: unknown;
  @ApiProperty({ ...ANY_JSON, description: 'The result (a respond step, else the last output); null until it succeeds.' }) result: unknown;
  @ApiProperty({ type: RunErrorView, nullable: true }) error: RunErrorView | null;
  @ApiProperty({ type: [StepView] }) steps: StepView[];
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) startedAt: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) finishedAt: string | null;
  @ApiProperty({ nullable: true, type: Number }) durationMs: number | null;
  @ApiProperty({ description: '1, then +1 per retry from the failed step.' }) attempt: number;
  @ApiProperty({ type: TokenUsageView, description: "Tokens the run's agent steps used (all zero without any)." }) usage: TokenUsageView;
}

export class RunPage {
  @ApiProperty({ type: [RunView] }) data: RunView[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page; null on the last' }) nextCursor: string | null;
}

export class EventRunView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) instanceId: string;
  @ApiProperty({ enum: RUN_STATUSES }) status: string;
}

export class PausedInstanceView {
  @ApiProperty({ format: 'uuid' }) instanceId: string;
  @ApiProperty({ description: 'Flow template key' }) flow: string;
  @ApiProperty({ enum: PAUSED_REASONS }) reason: string;
  @ApiProperty() connector: string;
  @ApiProperty({ description: 'The connection binding that is unusable' }) binding: string;
}

export class EventAccepted {
  @ApiProperty({ type: [EventRunView], description: 'The runs the event started' }) runs: EventRunView[];
  @ApiProperty({ type: [PausedInstanceView], description: 'Listening flows that are paused (a connection they use is gone or unusable), so started nothing' })
  skipped: PausedInstanceView[];
}
