import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { OptionalNotNull } from '../common/http/validators';
import { LLM_PROVIDER_KINDS, LlmProvider } from './llm-provider.entity';

export const LLM_PROVIDER_KEY_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

const KEY_MESSAGE = 'key must be kebab-case (a-z, 0-9 and single dashes, starting with a letter)';
const KIND_MESSAGE = `kind must be one of ${LLM_PROVIDER_KINDS.join(', ')}`;
const BASE_URL_DOC =
  'The API base URL, e.g. https://llm.example.com/v1 (the path before /chat/completions or /messages). Required for openai-compatible; for openai and anthropic an optional override. https; http only for an IP address OUTBOUND_ALLOWLIST permits.';

export class CreateLlmProviderDto {
  @ApiProperty({ example: 'openai-main', maxLength: 40, description: "What flows reference (an agent step's provider); kebab-case, unique in the tenant, cannot change" })
  @IsString()
  @MaxLength(40)
  @Matches(LLM_PROVIDER_KEY_PATTERN, { message: KEY_MESSAGE })
  key: string;

  @ApiProperty({
    enum: LLM_PROVIDER_KINDS,
    description:
      'openai: the OpenAI API (chat completions); anthropic: the Anthropic Messages API; openai-compatible: any server speaking the OpenAI chat-completions API (vLLM, Ollama, LiteLLM, a gateway)',
  })
  @IsIn(LLM_PROVIDER_KINDS, { message: KIND_MESSAGE })
  kind: string;

  @ApiProperty({ example: 'OpenAI (production)', maxLength: 100 })
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiPropertyOptional({ nullable: true, type: String, maxLength: 2000, description: BASE_URL_DOC })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  baseUrl?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'Write-only; stored encrypted; never returned (views say hasApiKey). Required for openai and anthropic, optional for openai-compatible.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 4000)
  apiKey?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, example: 'gpt-4o-mini', maxLength: 200, description: 'The model an agent step uses when it names none' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  defaultModel?: string | null;
}

export class UpdateLlmProviderDto {
  @ApiPropertyOptional({ enum: LLM_PROVIDER_KINDS })
  @OptionalNotNull()
  @IsIn(LLM_PROVIDER_KINDS, { message: KIND_MESSAGE })
  kind?: string;

  @ApiPropertyOptional({ maxLength: 100 })
  @OptionalNotNull()
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({ nullable: true, type: String, maxLength: 2000, description: `${BASE_URL_DOC} null: the provider's default.` })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  baseUrl?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, description: 'Write-only: a new key replaces the stored one; null removes it; leave it out to keep it' })
  @IsOptional()
  @IsString()
  @Length(1, 4000)
  apiKey?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  defaultModel?: string | null;
}

export class LlmProviderView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'openai-main' }) key: string;
  @ApiProperty({ enum: LLM_PROVIDER_KINDS }) kind: string;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) baseUrl: string | null;
  @ApiProperty({ description: 'Whether an API key is stored (it is never returned)' }) hasApiKey: boolean;
  @ApiProperty({ nullable: true, type: String }) defaultModel: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;

  static of(p: Omit<LlmProvider, 'apiKey'> & { hasApiKey: boolean }): LlmProviderView {
    return {
      id: p.id,
      key: p.key,
      kind: p.kind,
      name: p.name,
      baseUrl: p.baseUrl,
      hasApiKey: p.hasApiKey,
      defaultModel: p.defaultModel,
      createdAt: p.createdAt.toISOString(),
      updatedAt: p.updatedAt.toISOString(),
    };
  }
}

export class LlmProviderListView {
  @ApiProperty({ type: [LlmProviderView] }) data: LlmProviderView[];
}
