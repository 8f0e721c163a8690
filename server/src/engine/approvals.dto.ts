import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Length, Max, MaxLength, Min } from 'class-validator';
import type { Approval } from './approval.entity';
import { OptionalNotNull } from '../common/http/validators';

const STATUSES = ['pending', 'approved', 'rejected', 'expired'] as const;

export class ApprovalQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 }) @OptionalNotNull() @Type(() => Number) @IsInt() @Min(1) @Max(200) limit = 50;
  @ApiPropertyOptional() @OptionalNotNull() @IsString() @MaxLength(200) cursor?: string;
  @ApiPropertyOptional({ enum: STATUSES }) @OptionalNotNull() @IsIn(STATUSES) status?: (typeof STATUSES)[number];
}

export class HostApprovalQuery extends ApprovalQuery {
  @ApiPropertyOptional({ description: 'Your id for the end user' }) @OptionalNotNull() @IsString() @MaxLength(255) endUserId?: string;
}

export class DecisionBody {
  @ApiPropertyOptional({ description: 'Why; available to the flow as $steps.<id>.comment', maxLength: 2000 })
  @OptionalNotNull()
  @IsString()
  @MaxLength(2000)
  comment?: string;
}

export class HostDecisionBody extends DecisionBody {
  @ApiPropertyOptional({ description: 'Who decided, as you name them (default "host")', maxLength: 200 })
  @OptionalNotNull()
  @IsString()
  @Length(1, 200)
  decidedBy?: string;
}

export class ApprovalViewDto {
  @ApiProperty() id: string;
  @ApiProperty() runId: string;
  @ApiProperty({ nullable: true, type: String, description: 'Flow template key; null for an MCP tool call (see tool)' }) flow: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The MCP tool whose call waits for this approval (e.g. slack_send_message); null for flows' }) tool: string | null;
  @ApiProperty() flowName: string;
  @ApiProperty() stepId: string;
  @ApiProperty({ description: "The end user's external id" }) endUserId: string;
  @ApiProperty() title: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ enum: ['end_user', 'host', 'any'] }) approvers: string;
  @ApiProperty({ enum: STATUSES }) status: string;
  @ApiProperty({ nullable: true, type: String, description: "The end user's external id, the host's decidedBy (default 'host'), or null after a timeout" }) decidedBy:
    string | null;
  @ApiProperty({ nullable: true, enum: ['end_user', 'host', 'timeout', 'cancel'] }) decidedVia: string | null;
  @ApiProperty({ nullable: true, type: String }) comment: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ nullable: true, format: 'date-time', type: String }) expiresAt: string | null;
  @ApiProperty({ nullable: true, format: 'date-time', type: String }) decidedAt: string | null;
}

export class ApprovalPage {
  @ApiProperty({ type: [ApprovalViewDto] }) data: ApprovalViewDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page; null on the last' }) nextCursor: string | null;
}

export const approvalView = (a: Approval): ApprovalViewDto => ({
  id: a.id,
  runId: a.runId,
  // An MCP tool call's approval is stored under `mcp:<tool>` (flow keys never hold a colon).
  flow: a.flowKey.startsWith('mcp:') ? null : a.flowKey,
  tool: a.flowKey.startsWith('mcp:') ? a.flowKey.slice(4) : null,
  flowName: a.flowName,
  stepId: a.stepId,
  endUserId: a.endUserExternalId,
  title: a.title,
  description: a.description,
  approvers: a.approvers,
  status: a.status,
  decidedBy: a.decidedBy,
  decidedVia: a.decidedVia,
  comment: a.comment,
  createdAt: a.createdAt.toISOString(),
  expiresAt: a.expiresAt?.toISOString() ?? null,
  decidedAt: a.decidedAt?.toISOString() ?? null,
});
