import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { OptionalNotNull } from '../common/http/validators';

export const STATS_WINDOWS = ['1h', '24h', '7d'] as const;
export type StatsWindow = (typeof STATS_WINDOWS)[number];

export class StatsQuery {
  @ApiPropertyOptional({ enum: STATS_WINDOWS, default: '24h', description: 'How far back to look' })
  @OptionalNotNull()
  @IsIn(STATS_WINDOWS, { message: 'window must be one of 1h, 24h, 7d' })
  window: StatsWindow = '24h';
}

export class StatsTotals {
  @ApiProperty({ description: 'Runs created in the window' }) runs: number;
  @ApiProperty() succeeded: number;
  @ApiProperty() failed: number;
  @ApiProperty() cancelled: number;
  @ApiProperty({ description: 'Queued, running or waiting now (of those created in the window)' }) active: number;
  @ApiProperty({ nullable: true, type: Number, description: 'succeeded / (succeeded + failed); null when none finished' }) successRate: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Median duration of finished runs, ms' }) p50DurationMs: number | null;
  @ApiProperty({ nullable: true, type: Number, description: '95th percentile duration of finished runs, ms' }) p95DurationMs: number | null;
}

export class StatsBucket {
  @ApiProperty({ format: 'date-time', description: 'Start of the bucket' }) at: string;
  @ApiProperty() total: number;
  @ApiProperty() succeeded: number;
  @ApiProperty() failed: number;
  @ApiProperty({ nullable: true, type: Number, description: '95th percentile duration of the runs finished in this bucket, ms' }) p95DurationMs: number | null;
}

export class FailingFlow {
  @ApiProperty({ description: 'Flow template key' }) flow: string;
  @ApiProperty() name: string;
  @ApiProperty() failed: number;
  @ApiProperty() total: number;
}

export class ErrorGroup {
  @ApiProperty() code: string;
  @ApiProperty({ description: 'The most recent message with this code and flow' }) message: string;
  @ApiProperty({ description: 'Flow template key' }) flow: string;
  @ApiProperty() count: number;
  @ApiProperty({ format: 'date-time' }) lastAt: string;
}

export class TokenTotals {
  @ApiProperty() inputTokens: number;
  @ApiProperty() outputTokens: number;
  @ApiProperty() totalTokens: number;
  @ApiProperty({ description: 'Model calls made by agent steps' }) modelCalls: number;
}

export class TokenStats {
  @ApiProperty({ type: TokenTotals, description: "The tenant's agents this calendar month (UTC)" }) thisMonth: TokenTotals;
  @ApiProperty({ type: Number, nullable: true, description: 'The monthly cap (tenant setting monthlyTokenCap); null: none' }) monthlyCap: number | null;
}

export class StatsView {
  @ApiProperty({ enum: STATS_WINDOWS }) window: StatsWindow;
  @ApiProperty({ format: 'date-time' }) from: string;
  @ApiProperty({ format: 'date-time' }) to: string;
  @ApiProperty({ description: 'Width of each series bucket' }) bucketSeconds: number;
  @ApiProperty({ type: StatsTotals }) totals: StatsTotals;
  @ApiProperty({ type: [StatsBucket], description: 'Every bucket of the window, oldest first, empty ones included' }) series: StatsBucket[];
  @ApiProperty({ type: [FailingFlow], description: 'Up to 5 flows with the most failed runs' }) topFailingFlows: FailingFlow[];
  @ApiProperty({ type: [ErrorGroup], description: 'Up to 5 most frequent errors (by code and flow)' }) topErrors: ErrorGroup[];
  @ApiProperty({ type: TokenStats, description: 'Tokens used by AI agent steps' }) tokens: TokenStats;
}
