import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayNotEmpty, ArrayUnique, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Max, MaxLength, Min } from 'class-validator';
import { WEBHOOK_EVENT_TYPES } from './event-types';
import type { DeliveryAttempt, WebhookDelivery, WebhookEndpoint } from './webhook.entities';
import { OptionalNotNull } from '../common/http/validators';

export class CreateWebhookEndpointDto {
  @ApiProperty({ example: 'https://api.example.com/switchboard/webhooks', description: 'https (http only outside production)' })
  @IsString()
  @Length(1, 2000)
  url: string;

  @ApiPropertyOptional({ maxLength: 500, nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string | null;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true, description: 'The events this endpoint receives' })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  eventTypes: string[];
}

export class UpdateWebhookEndpointDto {
  @ApiPropertyOptional() @OptionalNotNull() @IsString() @Length(1, 2000) url?: string;
  @ApiPropertyOptional({ maxLength: 500, nullable: true, type: String }) @IsOptional() @IsString() @MaxLength(500) description?: string | null;
  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_TYPES, isArray: true })
  @OptionalNotNull()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  eventTypes?: string[];
  @ApiPropertyOptional({ description: 'Enabling again clears disabledReason and the failure count' }) @OptionalNotNull() @IsBoolean() enabled?: boolean;
}

export class WebhookEndpointView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() url: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true }) eventTypes: string[];
  @ApiProperty() enabled: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'Why the endpoint is disabled (e.g. sustained delivery failure)' }) disabledReason: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;

  static of(e: WebhookEndpoint): WebhookEndpointView {
    return {
      id: e.id,
      url: e.url,
      description: e.description,
      eventTypes: e.eventTypes,
      enabled: e.enabled,
      disabledReason: e.disabledReason,
      createdAt: e.createdAt.toISOString(),
      updatedAt: e.updatedAt.toISOString(),
    };
  }
}

export class WebhookEndpointWithSecretView extends WebhookEndpointView {
  @ApiProperty({ description: 'The signing secret (whsec_…). Returned only by create and rotate-secret: store it now.', example: 'whsec_…' })
  secret: string;
}

export class WebhookEndpointListView {
  @ApiProperty({ type: [WebhookEndpointView] }) data: WebhookEndpointView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class DeliveryQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 }) @OptionalNotNull() @Type(() => Number) @IsInt() @Min(1) @Max(200) limit = 50;
  @ApiPropertyOptional() @OptionalNotNull() @IsString() @MaxLength(200) cursor?: string;
  @ApiPropertyOptional({ enum: ['pending', 'succeeded', 'failed'] }) @OptionalNotNull() @IsIn(['pending', 'succeeded', 'failed']) status?: 'pending' | 'succeeded' | 'failed';
}

export class WebhookDeliveryView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid', description: 'Also the webhook-id header: the same for every attempt and resend' }) eventId: string;
  @ApiProperty({ example: 'connection.created' }) eventType: string;
  @ApiProperty({ enum: ['pending', 'succeeded', 'failed'] }) status: string;
  @ApiProperty() attempts: number;
  @ApiProperty({ nullable: true, type: Number, description: 'HTTP status of the latest attempt' }) responseStatus: number | null;
  @ApiProperty({ nullable: true, type: Number }) latencyMs: number | null;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) nextAttemptAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastAttemptAt: string | null;

  static of(d: WebhookDelivery): WebhookDeliveryView {
    return {
      id: d.id,
      eventId: d.eventId,
      eventType: d.eventType,
      status: d.status,
      attempts: d.attempts,
      responseStatus: d.responseStatus,
      latencyMs: d.latencyMs,
      error: d.error,
      createdAt: d.createdAt.toISOString(),
      nextAttemptAt: d.status === 'pending' ? (d.nextAttemptAt?.toISOString() ?? null) : null,
      lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
    };
  }
}

export class DeliveryAttemptView {
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ nullable: true, type: Number }) responseStatus: number | null;
  @ApiProperty() latencyMs: number;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The first 1 KB of the answer' }) responseBody: string | null;
}

export class WebhookDeliveryDetailView extends WebhookDeliveryView {
  @ApiProperty({ format: 'uuid' }) endpointId: string;
  @ApiProperty({ description: 'The JSON body sent' }) payload: string;
  @ApiProperty({ type: [DeliveryAttemptView], description: 'Every attempt, oldest first (the latest 50)' }) attemptLog: DeliveryAttempt[];
}

export class WebhookDeliveryListView {
  @ApiProperty({ type: [WebhookDeliveryView] }) data: WebhookDeliveryView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
