import { Body, Controller, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, MemberAuth } from '../auth/auth.decorators';
import type { Actor } from '../auth/principal';
import { UuidParam } from '../common/http/params';
import { CreateEnvironmentDto, EnvironmentListView, EnvironmentView, UpdateEnvironmentDto } from './environments.dto';
import { EnvironmentsService } from './environments.service';

@ApiTags('admin: environments')
@Controller('v1/admin/environments')
export class EnvironmentsController {
  constructor(private readonly environments: EnvironmentsService) {}

  @Get()
  @MemberAuth('viewer')
  @ApiOperation({ summary: "The tenant's environments (switch with POST /v1/auth/switch-tenant)" })
  @ApiOkResponse({ type: EnvironmentListView })
  async list(@CurrentActor() actor: Actor): Promise<EnvironmentListView> {
    return { data: (await this.environments.list(actor.tenantId)).map(EnvironmentView.of) };
  }

  @Post()
  @MemberAuth('admin')
  @ApiOperation({ summary: 'Add an environment (empty: its own keys, origins, connector settings, end users, flows and webhooks)' })
  @ApiCreatedResponse({ type: EnvironmentView })
  async create(@CurrentActor() actor: Actor, @Body() body: CreateEnvironmentDto): Promise<EnvironmentView> {
    return EnvironmentView.of(await this.environments.create(actor, body));
  }

  @Patch(':id')
  @MemberAuth('owner')
  @ApiOperation({ summary: 'Protect an environment (flow templates by promotion only) or lift its protection' })
  @ApiOkResponse({ type: EnvironmentView })
  async update(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string, @Body() body: UpdateEnvironmentDto): Promise<EnvironmentView> {
    return EnvironmentView.of(await this.environments.setProtected(actor, id, body.protected));
  }
}
