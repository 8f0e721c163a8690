import { UuidParam } from '../../common/http/params';
import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, MemberAuth } from '../../auth/auth.decorators';
import type { Actor } from '../../auth/principal';
import { RolloutItemPage, RolloutItemsQuery, rolloutItemView, RolloutListView, rolloutView, RolloutView, StartRolloutBody } from './rollouts.dto';
import { RolloutTarget, RolloutsService } from './rollouts.service';

@ApiTags('admin: flow templates')
@Controller('v1/admin/flow-templates/:key/rollouts')
export class RolloutsController {
  constructor(private readonly rollouts: RolloutsService) {}

  @Post()
  @MemberAuth('developer')
  @ApiOperation({
    summary: 'Roll a published version out to every instance, a list of end users, or a percentage',
    description:
      'Chooses the instances on an older version now; the worker moves them in batches. 409 `rollout_in_progress` while another rollout of the template runs, 409 `version_not_newer` when no chosen instance is on an older version.',
  })
  @ApiCreatedResponse({ type: RolloutView })
  async start(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() body: StartRolloutBody): Promise<RolloutView> {
    return rolloutView(await this.rollouts.start(actor, key, body.version, body.target as RolloutTarget, body.whenSettingsMissing));
  }

  @Get()
  @MemberAuth('viewer')
  @ApiOperation({ summary: "The template's rollouts, newest first, with progress" })
  @ApiOkResponse({ type: RolloutListView })
  async list(@CurrentActor() actor: Actor, @Param('key') key: string): Promise<RolloutListView> {
    return { data: (await this.rollouts.list(actor, key)).map(rolloutView) };
  }

  @Get(':id')
  @MemberAuth('viewer')
  @ApiOperation({ summary: 'A rollout with its progress (items by status)' })
  @ApiOkResponse({ type: RolloutView })
  async get(@CurrentActor() actor: Actor, @Param('key') key: string, @Param('id', UuidParam('id')) id: string): Promise<RolloutView> {
    return rolloutView(await this.rollouts.get(actor, key, id));
  }

  @Get(':id/items')
  @MemberAuth('viewer')
  @ApiOperation({ summary: "A rollout's instances (e.g. ?status=failed,needs_settings), by end user" })
  @ApiOkResponse({ type: RolloutItemPage })
  async items(@CurrentActor() actor: Actor, @Param('key') key: string, @Param('id', UuidParam('id')) id: string, @Query() query: RolloutItemsQuery): Promise<RolloutItemPage> {
    const page = await this.rollouts.items(actor, key, id, query.status ?? [], query.limit, query.cursor);
    return { data: page.data.map(rolloutItemView), nextCursor: page.nextCursor };
  }

  @Post(':id/stop')
  @HttpCode(200)
  @MemberAuth('developer')
  @ApiOperation({ summary: 'Stop after the current batch: upgraded instances stay upgraded, the rest stay on their version' })
  @ApiOkResponse({ type: RolloutView })
  async stop(@CurrentActor() actor: Actor, @Param('key') key: string, @Param('id', UuidParam('id')) id: string): Promise<RolloutView> {
    return rolloutView(await this.rollouts.stop(actor, key, id));
  }

  @Post(':id/rollback')
  @HttpCode(200)
  @MemberAuth('developer')
  @ApiOperation({ summary: 'Put every instance it upgraded back on its previous version and settings (in batches, in the worker)' })
  @ApiOkResponse({ type: RolloutView })
  async rollback(@CurrentActor() actor: Actor, @Param('key') key: string, @Param('id', UuidParam('id')) id: string): Promise<RolloutView> {
    return rolloutView(await this.rollouts.rollback(actor, key, id));
  }
}
