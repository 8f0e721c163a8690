import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, Matches } from 'class-validator';
import { OptionalNotNull } from '../common/http/validators';
import type { Tenant } from './tenant.entity';

export const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,30}$/;

export class EnvironmentView {
  @ApiProperty({ format: 'uuid', description: 'The environment’s id: admin calls in it act on this id, and POST /v1/auth/switch-tenant takes it' }) id: string;
  @ApiProperty({ example: 'production' }) name: string;
  @ApiProperty({ description: 'Flow templates arrive only by promotion; direct edits are refused' }) protected: boolean;
  @ApiProperty({ description: 'The tenant’s first environment (its members belong to the tenant, not to one environment)' }) primary: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt: string;

  static of(t: Tenant): EnvironmentView {
    return { id: t.id, name: t.environment, protected: t.protected, primary: t.id === t.accountId, createdAt: t.createdAt.toISOString() };
  }
}

export class EnvironmentListView {
  @ApiProperty({ type: [EnvironmentView] }) data: EnvironmentView[];
}

export class CreateEnvironmentDto {
  @ApiProperty({ example: 'staging', description: 'Lowercase letters, digits and dashes, starting with a letter (at most 31)' })
  @Matches(ENVIRONMENT_NAME, { message: 'must be lowercase letters, digits and dashes, starting with a letter (at most 31)' })
  name: string;

  @ApiPropertyOptional({ description: 'Refuse direct edits of flow templates (default false)' })
  @OptionalNotNull()
  @IsBoolean()
  protected?: boolean;
}

export class UpdateEnvironmentDto {
  @ApiProperty({ description: 'Refuse direct edits of flow templates: they arrive by promotion only' }) @IsBoolean() protected: boolean;
}
