import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiKeyAuth, CurrentActor, CurrentPrincipal, EndUserAuth, MemberAuth } from '../auth/auth.decorators';
import type { Actor, EndUserPrincipal } from '../auth/principal';
import { UuidParam } from '../common/http/params';
import { EventBody, RunFlowBody, RunQuery, runView } from '../flows/flows.dto';
import { RunsService } from './runs.service';

@ApiTags('runs')
@Controller('v1')
export class TriggersController {
  constructor(private readonly runs: RunsService) {}

  @Post('events')
  @ApiKeyAuth()
  @ApiOperation({ summary: 'Send an app event: every enabled flow of this end user listening to it runs (202 with the run ids)' })
  async event(@CurrentActor() actor: Actor, @Body() body: EventBody, @Res({ passthrough: true }) res: Response) {
    const { runs, skipped } = await this.runs.sendEvent(actor, body);
    res.status(202);
    // `skipped`: listening flows that are paused (a connection they use is gone or unusable), so started nothing.
    return { runs: runs.map((r) => ({ id: r.id, instanceId: r.instanceId, status: r.status })), skipped };
  }

  @Post('flows/:key/runs')
  @ApiKeyAuth()
  @ApiOperation({ summary: 'Run a request-triggered flow for one end user; with wait, answer its result (200) or the run so far (202)' })
  async run(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() body: RunFlowBody, @Res({ passthrough: true }) res: Response) {
    const { run, finished } = await this.runs.runFlow(actor, key, body);
    res.status(finished ? 200 : 202);
    return runView(run);
  }
}

@ApiTags('runs')
@Controller()
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @Get('v1/runs')
  @ApiKeyAuth()
  @ApiOperation({ summary: 'Runs, newest first (filters: status, flow, endUserId, since, until)' })
  async list(@CurrentActor() actor: Actor, @Query() query: RunQuery) {
    const page = await this.runs.list(actor, query);
    return { data: page.data.map((r) => runView(r)), nextCursor: page.nextCursor };
  }

  @Get('v1/runs/:id')
  @ApiKeyAuth()
  @ApiOperation({ summary: 'A run with its step timeline' })
  async get(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string) {
    return runView(await this.runs.get(actor.tenantId, id));
  }

  @Post('v1/runs/:id/cancel')
  @ApiKeyAuth()
  @HttpCode(202)
  @ApiOperation({ summary: 'Cancel a queued, running or waiting run (202; 409 run_already_finished). A running run stops at its next step boundary.' })
  async cancel(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string) {
    return runView(await this.runs.cancel(actor, id));
  }

  @Post('v1/runs/:id/retry')
  @ApiKeyAuth()
  @HttpCode(202)
  @ApiOperation({ summary: 'Retry a failed run from its failed step: same run, finished steps kept (202; 409 run_not_retryable)' })
  async retry(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string) {
    return runView(await this.runs.retry(actor, id));
  }

  @Post('v1/admin/runs/:id/cancel')
  @MemberAuth('developer')
  @ApiTags('admin: runs')
  @HttpCode(202)
  @ApiOperation({ summary: 'Cancel a queued, running or waiting run' })
  async adminCancel(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string) {
    return runView(await this.runs.cancel(actor, id));
  }

  @Post('v1/admin/runs/:id/retry')
  @MemberAuth('developer')
  @ApiTags('admin: runs')
  @HttpCode(202)
  @ApiOperation({ summary: 'Retry a failed run from its failed step' })
  async adminRetry(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string) {
    return runView(await this.runs.retry(actor, id));
  }

  @Get('v1/admin/runs')
  @MemberAuth('viewer')
  @ApiTags('admin: runs')
  @ApiOperation({ summary: 'Runs, for the tenant team' })
  async adminList(@CurrentActor() actor: Actor, @Query() query: RunQuery) {
    const page = await this.runs.list(actor, query);
    return { data: page.data.map((r) => runView(r)), nextCursor: page.nextCursor };
  }

  @Get('v1/admin/runs/:id')
  @MemberAuth('viewer')
  @ApiTags('admin: runs')
  @ApiOperation({ summary: 'A run with its step timeline' })
  async adminGet(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string) {
    return runView(await this.runs.get(actor.tenantId, id));
  }

  @Get('v1/me/runs')
  @EndUserAuth()
  @ApiTags('me')
  @ApiOperation({ summary: 'My runs' })
  async myList(@CurrentActor() actor: Actor, @CurrentPrincipal() me: EndUserPrincipal, @Query() query: RunQuery) {
    const page = await this.runs.list(actor, { ...query, endUserId: undefined }, me.endUserId);
    return { data: page.data.map((r) => runView(r)), nextCursor: page.nextCursor };
  }

  @Get('v1/me/runs/:id')
  @EndUserAuth()
  @ApiTags('me')
  @ApiOperation({ summary: 'One of my runs' })
  async myGet(@CurrentActor() actor: Actor, @CurrentPrincipal() me: EndUserPrincipal, @Param('id', UuidParam('id')) id: string) {
    return runView(await this.runs.get(actor.tenantId, id, me.endUserId));
  }
}
