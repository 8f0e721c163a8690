import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, MemberAuth } from '../auth/auth.decorators';
import type { Actor } from '../auth/principal';
import { UuidParam } from '../common/http/params';
import { CustomProviderDto, CustomProviderListView, CustomProviderView } from './custom-providers.dto';
import { CustomProvidersService } from './custom-providers.service';

/**
 * A tenant's own providers, defined as data in the catalogue's format. Once created, one is
 * enabled and configured under /v1/admin/connectors/{key} like any shared connector.
 */
@ApiTags('admin: custom providers')
@Controller('v1/admin/custom-providers')
export class CustomProvidersController {
  constructor(private readonly providers: CustomProvidersService) {}

  @Get()
  @MemberAuth('viewer')
  @ApiOperation({ summary: "The tenant's own providers" })
  @ApiOkResponse({ type: CustomProviderListView })
  async list(@CurrentActor() actor: Actor): Promise<CustomProviderListView> {
    return { data: (await this.providers.list(actor.tenantId)).map(CustomProviderView.of) };
  }

  @Post()
  @MemberAuth('admin')
  @ApiOperation({ summary: 'Define a provider (a catalogue entry under a new key); only this tenant sees it' })
  @ApiCreatedResponse({ type: CustomProviderView })
  @ApiConflictResponse({ description: 'provider_key_taken: a shared connector or another of your providers has the key' })
  async create(@CurrentActor() actor: Actor, @Body() body: CustomProviderDto): Promise<CustomProviderView> {
    return CustomProviderView.of(await this.providers.create(actor, body));
  }

  @Get(':id')
  @MemberAuth('viewer')
  @ApiOperation({ summary: "One of the tenant's providers" })
  @ApiOkResponse({ type: CustomProviderView })
  @ApiNotFoundResponse()
  async get(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<CustomProviderView> {
    return CustomProviderView.of(await this.providers.get(actor.tenantId, id));
  }

  @Put(':id')
  @MemberAuth('admin')
  @ApiOperation({ summary: 'Replace the definition (the key cannot change)' })
  @ApiOkResponse({ type: CustomProviderView })
  @ApiNotFoundResponse()
  async replace(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string, @Body() body: CustomProviderDto): Promise<CustomProviderView> {
    return CustomProviderView.of(await this.providers.replace(actor, id, body));
  }

  @Delete(':id')
  @HttpCode(204)
  @MemberAuth('admin')
  @ApiOperation({ summary: 'Delete a provider no connection or switched-on flow uses (its connector settings and OpenAPI document go with it)' })
  @ApiNoContentResponse()
  @ApiConflictResponse({ description: 'provider_in_use: connections of this provider exist' })
  async remove(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<void> {
    await this.providers.remove(actor, id);
  }
}
