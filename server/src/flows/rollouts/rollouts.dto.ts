import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, Equals, IsArray, IsIn, IsInt, IsObject, IsString, Length, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { OptionalNotNull } from '../../common/http/validators';
import { ROLLOUT_ITEM_STATUSES, RolloutItemRow, RolloutItemStatus, RolloutRow, RolloutStatus, WhenSettingsMissing } from './rollouts.service';

const WHEN_SETTINGS_MISSING: WhenSettingsMissing[] = ['stay', 'pause'];

const ROLLOUT_STATUSES: RolloutStatus[] = ['running', 'stopped', 'completed', 'rolling_back', 'rolled_back'];

export class RolloutTargetBody {
  @ApiPropertyOptional({ enum: [true], description: 'Every instance on an older version' }) @OptionalNotNull() @Equals(true) all?: true;
  @ApiPropertyOptional({ type: [String], maxItems: 10000, description: "These end users' instances (your ids for them)" })
  @OptionalNotNull()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10000)
  @IsString({ each: true })
  @Length(1, 255, { each: true })
  endUserIds?: string[];
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, description: 'A stable pseudo-random share of the instances (by a hash of the instance id)' })
  @OptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(100)
  percent?: number;
}

export class StartRolloutBody {
  @ApiProperty({ description: 'The published version to move instances to', minimum: 1, maximum: 1000000 }) @IsInt() @Min(1) @Max(1_000_000) version: number;
  @ApiProperty({ type: RolloutTargetBody, description: 'Exactly one of all, endUserIds, percent' })
  @IsObject()
  @ValidateNested()
  @Type(() => RolloutTargetBody)
  target: RolloutTargetBody;
  @ApiPropertyOptional({
    enum: WHEN_SETTINGS_MISSING,
    default: 'stay',
    description:
      'An instance the version needs more from (a new required setting, a connection): `stay` on its version (counted as needs_settings), or `pause`: move it switched off, telling its end user in the widget what to complete (counted as paused)',
  })
  @OptionalNotNull()
  @IsIn(WHEN_SETTINGS_MISSING)
  whenSettingsMissing?: WhenSettingsMissing;
}

export class RolloutItemsQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 }) @OptionalNotNull() @Type(() => Number) @IsInt() @Min(1) @Max(200) limit = 50;
  @ApiPropertyOptional({ description: 'nextCursor from the previous page' }) @OptionalNotNull() @IsString() @MaxLength(255) cursor?: string;
  @ApiPropertyOptional({ description: `Comma-separated statuses (${ROLLOUT_ITEM_STATUSES.join(', ')}), e.g. failed,needs_settings` })
  @OptionalNotNull()
  @Transform(({ value }) => (typeof value === 'string' ? value.split(',').filter(Boolean) : value))
  @IsIn(ROLLOUT_ITEM_STATUSES, { each: true })
  status?: RolloutItemStatus[];
}

export class RolloutTargetView {
  @ApiPropertyOptional({ enum: [true] }) all?: true;
  @ApiPropertyOptional({ type: [String] }) endUserIds?: string[];
  @ApiPropertyOptional() percent?: number;
}

export class RolloutCountsView {
  @ApiProperty({ description: 'Not reached yet' }) pending: number;
  @ApiProperty({ description: 'On the new version' }) upgraded: number;
  @ApiProperty({ description: 'Moved, and switched off until its end user completes a setting or a connection the version needs (whenSettingsMissing: pause)' }) paused: number;
  @ApiProperty({ description: 'Left on its version: the new one needs a setting or a connection it lacks (whenSettingsMissing: stay)' }) needs_settings: number;
  @ApiProperty({ description: 'Moved by someone else meanwhile; left alone' }) skipped: number;
  @ApiProperty() failed: number;
  @ApiProperty({ description: 'Put back on its previous version by a rollback' }) rolled_back: number;
}

export class RolloutView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'The flow template key' }) flow: string;
  @ApiProperty({ description: 'The version instances move to' }) version: number;
  @ApiProperty({ type: RolloutTargetView }) target: RolloutTargetView;
  @ApiProperty({ enum: WHEN_SETTINGS_MISSING }) whenSettingsMissing: WhenSettingsMissing;
  @ApiProperty({ enum: ROLLOUT_STATUSES }) status: RolloutStatus;
  @ApiProperty({ nullable: true, type: String, description: 'The user id of the member who started it' }) startedBy: string | null;
  @ApiProperty({ description: 'Instances chosen (those on an older version when it started)' }) total: number;
  @ApiProperty({ type: RolloutCountsView, description: 'Items by status' }) counts: RolloutCountsView;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) finishedAt: string | null;
}

export class RolloutListView {
  @ApiProperty({ type: [RolloutView], description: 'Newest first (the last 100)' }) data: RolloutView[];
}

export class RolloutItemView {
  @ApiProperty({ format: 'uuid' }) instanceId: string;
  @ApiProperty({ description: "The end user's external id" }) endUserId: string;
  @ApiProperty({ nullable: true, type: String }) endUserName: string | null;
  @ApiProperty({ description: 'The version the instance was on when the rollout started' }) previousVersion: number;
  @ApiProperty({ enum: ROLLOUT_ITEM_STATUSES }) status: RolloutItemStatus;
  @ApiProperty({ nullable: true, type: String, description: 'Why it needs settings, was paused, skipped or failed' }) error: string | null;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class RolloutItemPage {
  @ApiProperty({ type: [RolloutItemView] }) data: RolloutItemView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export const rolloutView = (r: RolloutRow): RolloutView => ({
  ...r,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
  finishedAt: r.finishedAt?.toISOString() ?? null,
});

export const rolloutItemView = (i: RolloutItemRow): RolloutItemView => ({ ...i, updatedAt: i.updatedAt.toISOString() });
