import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, MemberAuth } from '../auth/auth.decorators';
import type { Actor } from '../auth/principal';
import { CreateLlmProviderDto, LlmProviderListView, LlmProviderView, UpdateLlmProviderDto } from './llm-providers.dto';
import { LlmProvidersService, StoredLlmProvider } from './llm-providers.service';

const view = (p: StoredLlmProvider) => LlmProviderView.of(p);

/** The tenant's LLM providers (the models flows' agent steps call). API keys are write-only. */
@ApiTags('admin: LLM providers')
@Controller('v1/admin/llm-providers')
export class LlmProvidersController {
  constructor(private readonly providers: LlmProvidersService) {}

  @Get()
  @MemberAuth('viewer')
  @ApiOperation({ summary: "The tenant's LLM providers (never their API keys)" })
  @ApiOkResponse({ type: LlmProviderListView })
  async list(@CurrentActor() actor: Actor): Promise<LlmProviderListView> {
    return { data: (await this.providers.list(actor.tenantId)).map(view) };
  }

  @Post()
  @MemberAuth('admin')
  @ApiOperation({ summary: 'Add an LLM provider: OpenAI, Anthropic or any OpenAI-compatible server; the API key is stored encrypted' })
  @ApiCreatedResponse({ type: LlmProviderView })
  @ApiConflictResponse({ description: 'provider_key_taken: another of your LLM providers has the key' })
  async create(@CurrentActor() actor: Actor, @Body() body: CreateLlmProviderDto): Promise<LlmProviderView> {
    return view(await this.providers.create(actor, body));
  }

  @Get(':key')
  @MemberAuth('viewer')
  @ApiOperation({ summary: 'One LLM provider' })
  @ApiOkResponse({ type: LlmProviderView })
  @ApiNotFoundResponse()
  async get(@CurrentActor() actor: Actor, @Param('key') key: string): Promise<LlmProviderView> {
    return view(await this.providers.get(actor.tenantId, key));
  }

  @Patch(':key')
  @MemberAuth('admin')
  @ApiOperation({ summary: 'Change the kind, name, base URL, API key (write-only; null removes it) or default model; the key cannot change' })
  @ApiOkResponse({ type: LlmProviderView })
  @ApiNotFoundResponse()
  async update(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() body: UpdateLlmProviderDto): Promise<LlmProviderView> {
    return view(await this.providers.update(actor, key, body));
  }

  @Delete(':key')
  @HttpCode(204)
  @MemberAuth('admin')
  @ApiOperation({ summary: 'Delete an LLM provider (agent steps naming it fail with llm_provider_not_found)' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  async remove(@CurrentActor() actor: Actor, @Param('key') key: string): Promise<void> {
    await this.providers.remove(actor, key);
  }
}
