import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsEmail, IsIn, IsInt, IsObject, IsString, IsUUID, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { OptionalNotNull } from '../common/http/validators';
import { ALERT_KINDS, AlertIncident, AlertRule } from './alert.entities';

export class AlertParamsDto {
  @ApiPropertyOptional({ maxLength: 100, description: 'flow_*: the flow template key watched; absent: every flow, each its own incident' })
  @OptionalNotNull()
  @IsString()
  @Length(1, 100)
  flowKey?: string;

  @ApiPropertyOptional({
    minimum: 1,
    description: 'flow_failure_rate: percent of finished runs failed; flow_failures: failed runs; tenant_near_cap: percent of a cap used. Fires at or above it',
  })
  @OptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  threshold?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 10080, description: 'flow_*: the window runs are counted over, in minutes' })
  @OptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(10080)
  windowMinutes?: number;

  @ApiPropertyOptional({ minimum: 1, default: 1, description: 'flow_failure_rate: finished runs in the window before the rate counts' })
  @OptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  minRuns?: number;
}

export class SlackChannelDto {
  @ApiProperty({ format: 'uuid', description: 'One of your Slack connections (connector `slack`)' })
  @IsUUID()
  connectionId: string;

  @ApiProperty({ example: '#integrations-alerts', description: 'A channel name or id' })
  @IsString()
  @Length(1, 100)
  channel: string;
}

export class AlertChannelsDto {
  @ApiPropertyOptional({ type: [String], maxItems: 20, example: ['oncall@example.com'] })
  @OptionalNotNull()
  @IsArray()
  @ArrayMaxSize(20)
  @IsEmail({}, { each: true })
  email?: string[];

  @ApiPropertyOptional({ type: SlackChannelDto })
  @OptionalNotNull()
  @IsObject()
  @ValidateNested()
  @Type(() => SlackChannelDto)
  slack?: SlackChannelDto;

  @ApiPropertyOptional({ description: 'Send alert.fired / alert.resolved to your webhook endpoints subscribed to them' })
  @OptionalNotNull()
  @IsBoolean()
  webhook?: boolean;
}

export class CreateAlertRuleDto {
  @ApiProperty({ maxLength: 100, example: 'Salesforce sync failing' })
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiProperty({ enum: ALERT_KINDS })
  @IsIn(ALERT_KINDS, { message: `kind must be one of ${ALERT_KINDS.join(', ')}` })
  kind: string;

  @ApiPropertyOptional({ type: AlertParamsDto })
  @OptionalNotNull()
  @IsObject()
  @ValidateNested()
  @Type(() => AlertParamsDto)
  params?: AlertParamsDto;

  @ApiProperty({ type: AlertChannelsDto, description: 'At least one channel' })
  @IsObject()
  @ValidateNested()
  @Type(() => AlertChannelsDto)
  channels: AlertChannelsDto;

  @ApiPropertyOptional({ default: true })
  @OptionalNotNull()
  @IsBoolean()
  enabled?: boolean;
}

export class UpdateAlertRuleDto {
  @ApiPropertyOptional({ maxLength: 100 }) @OptionalNotNull() @IsString() @Length(1, 100) name?: string;

  @ApiPropertyOptional({ type: AlertParamsDto, description: 'Replaces the parameters' })
  @OptionalNotNull()
  @IsObject()
  @ValidateNested()
  @Type(() => AlertParamsDto)
  params?: AlertParamsDto;

  @ApiPropertyOptional({ type: AlertChannelsDto, description: 'Replaces the channels' })
  @OptionalNotNull()
  @IsObject()
  @ValidateNested()
  @Type(() => AlertChannelsDto)
  channels?: AlertChannelsDto;

  @ApiPropertyOptional({ description: 'Disabling resolves its firing incidents without a notice' }) @OptionalNotNull() @IsBoolean() enabled?: boolean;
}

export class AlertParamsView {
  @ApiPropertyOptional() flowKey?: string;
  @ApiPropertyOptional() threshold?: number;
  @ApiPropertyOptional() windowMinutes?: number;
  @ApiPropertyOptional() minRuns?: number;
}

export class SlackChannelView {
  @ApiProperty({ format: 'uuid' }) connectionId: string;
  @ApiProperty() channel: string;
}

export class AlertChannelsView {
  @ApiPropertyOptional({ type: [String] }) email?: string[];
  @ApiPropertyOptional({ type: SlackChannelView }) slack?: SlackChannelView;
  @ApiPropertyOptional() webhook?: boolean;
}

export class AlertRuleView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ALERT_KINDS }) kind: string;
  @ApiProperty({ type: AlertParamsView }) params: AlertParamsView;
  @ApiProperty({ type: AlertChannelsView }) channels: AlertChannelsView;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;

  static of(r: AlertRule): AlertRuleView {
    return {
      id: r.id,
      name: r.name,
      kind: r.kind,
      params: r.params,
      channels: r.channels,
      enabled: r.enabled,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
    };
  }
}

export class AlertRuleListView {
  @ApiProperty({ type: [AlertRuleView] }) data: AlertRuleView[];
}

export class AlertIncidentQuery {
  @ApiPropertyOptional({ enum: ['firing', 'resolved'] }) @OptionalNotNull() @IsIn(['firing', 'resolved']) status?: 'firing' | 'resolved';
  @ApiPropertyOptional({ format: 'uuid' }) @OptionalNotNull() @IsUUID() ruleId?: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 }) @OptionalNotNull() @Type(() => Number) @IsInt() @Min(1) @Max(200) limit = 50;
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' }) @OptionalNotNull() @IsString() @Matches(/^[A-Za-z0-9_-]{1,200}$/) cursor?: string;
}

export class AlertIncidentView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) ruleId: string;
  @ApiProperty({ description: 'The flow key, connection id, webhook endpoint id or cap (monthly_tokens, concurrent_runs) it is about' }) subject: string;
  @ApiProperty({ enum: ['firing', 'resolved'] }) status: string;
  @ApiProperty({ description: 'What was measured when it fired: percent failed, failed runs, percent of a cap; 1 for a state' }) value: number;
  @ApiProperty({ format: 'date-time' }) firedAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) resolvedAt: string | null;
  @ApiProperty({ type: [String], description: 'Notices sent, as <status>:<channel> (firing:email, resolved:slack…)' }) notified: string[];
  @ApiProperty({ nullable: true, type: String, description: 'Why the latest notice attempt failed (retried on the next evaluations)' }) notifyError: string | null;

  static of(i: AlertIncident): AlertIncidentView {
    return {
      id: i.id,
      ruleId: i.ruleId,
      subject: i.subject,
      status: i.status,
      value: i.value,
      firedAt: i.firedAt.toISOString(),
      resolvedAt: i.resolvedAt?.toISOString() ?? null,
      notified: i.notified,
      notifyError: i.notifyError,
    };
  }
}

export class AlertIncidentListView {
  @ApiProperty({ type: [AlertIncidentView] }) data: AlertIncidentView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
