import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, MemberAuth } from '../auth/auth.decorators';
import { UuidParam } from '../common/http/params';
import type { Actor } from '../auth/principal';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyListView, ApiKeyView, CreateApiKeyDto, CreatedApiKeyView } from './api-keys.dto';

@ApiTags('admin: api keys')
@Controller('v1/admin/api-keys')
@MemberAuth('developer')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Get()
  @ApiOperation({ summary: 'List secret keys (never their secrets)' })
  @ApiOkResponse({ type: ApiKeyListView })
  async list(@CurrentActor() actor: Actor): Promise<ApiKeyListView> {
    return { data: (await this.apiKeys.list(actor)).map(ApiKeyView.of) };
  }

  @Post()
  @ApiOperation({ summary: 'Create a secret key; the secret is shown once' })
  @ApiCreatedResponse({ type: CreatedApiKeyView })
  async create(@CurrentActor() actor: Actor, @Body() body: CreateApiKeyDto): Promise<CreatedApiKeyView> {
    const { apiKey, secret } = await this.apiKeys.create(actor, body.name);
    return { apiKey: ApiKeyView.of(apiKey), secret };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a secret key; requests with it fail from now on' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  async revoke(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<void> {
    await this.apiKeys.revoke(actor, id);
  }
}
