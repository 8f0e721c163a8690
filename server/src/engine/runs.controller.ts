import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiKeyAuth, CurrentActor, CurrentPrincipal, EndUserAuth, MemberAuth } from '../auth/auth.decorators';
import type { Actor, EndUserPrincipal } from '../auth/principal';
import { UuidParam } from '../common/http/params';
import { EventBody, RunFlowBody, RunQuery, runView } from '../flows/flows.dto';
import { EventAccepted, RunPage, RunView } from './runs.dto';
import { RunsService } from './runs.service';

@ApiTags('runs')
@Controller('v1')
export class TriggersController {
  constructor(private readonly runs: RunsService) {}

  @Post('events')
  @ApiKeyAuth()
  @ApiOperation({ summary: 'Send an app event: every enabled flow of this end user listening to it runs (202 with the run ids)' })
  @ApiAcceptedResponse({ type: EventAccepted })
  async event(@CurrentActor() actor: Actor, @Body() body: EventBody, @Res({ passthrough: true }) res: Response): Promise<EventAccepted> {
    const { runs, skipped } = await this.runs.sendEvent(actor, body);
    res.status(202);
    // `skipped`: listening flows that are paused (a connection they use is gone or unusable), so started nothing.
    // Events start flow runs only, which always have an instance.
    return { runs: runs.map((r) => ({ id: r.id, instanceId: r.instanceId!, status: r.status })), skipped };
  }

  @Post('flows/:key/runs')
  @ApiKeyAuth()
  @ApiOperation({ summary: 'Run a request-triggered flow for one end user; with wait, answer its result (200) or the run so far (202)' })
  @ApiOkResponse({ type: RunView, description: 'With wait: the finished run' })
  @ApiAcceptedResponse({ type: RunView, description: 'The run, queued (or, with wait, not finished within timeoutMs)' })
  async run(@CurrentActor() actor: Actor, @Param('key') key: string, @Body() body: RunFlowBody, @Res({ passthrough: true }) res: Response): Promise<RunView> {
    const { run, finished } = await this.runs.runFlow(actor, key, body);
    res.status(finished ? 200 : 202);
    return run;
  }
}

@ApiTags('runs')
@Controller()
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @Get('v1/runs')
  @ApiKeyAuth()
  @ApiOperation({ summary: 'Runs, newest first (filters: status, flow, endUserId, since, until)' })
  @ApiOkResponse({ type: RunPage })
  async list(@CurrentActor() actor: Actor, @Query() query: RunQuery): Promise<RunPage> {
    const page = await this.runs.list(actor, query);
    return { data: page.data.map((r) => runView(r)), nextCursor: page.nextCursor };
  }

  @Get('v1/runs/:id')
  @ApiKeyAuth()
  @ApiOperation({ summary: 'A run with its step timeline' })
  @ApiOkResponse({ type: RunView })
  async get(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<RunView> {
    return runView(await this.runs.get(actor.tenantId, id));
  }

  @Post('v1/runs/:id/cancel')
  @ApiKeyAuth()
  @HttpCode(202)
  @ApiOperation({ summary: 'Cancel a queued, running or waiting run (202; 409 run_already_finished). A running run stops at its next step boundary.' })
  @ApiAcceptedResponse({ type: RunView })
  async cancel(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<RunView> {
    return runView(await this.runs.cancel(actor, id));
  }

  @Post('v1/runs/:id/retry')
  @ApiKeyAuth()
  @HttpCode(202)
  @ApiOperation({ summary: 'Retry a failed run from its failed step: same run, finished steps kept (202; 409 run_not_retryable)' })
  @ApiAcceptedResponse({ type: RunView })
  async retry(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<RunView> {
    return runView(await this.runs.retry(actor, id));
  }

  @Post('v1/admin/runs/:id/cancel')
  @MemberAuth('developer')
  @ApiTags('admin: runs')
  @HttpCode(202)
  @ApiOperation({ summary: 'Cancel a queued, running or waiting run' })
  @ApiAcceptedResponse({ type: RunView })
  async adminCancel(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<RunView> {
    return runView(await this.runs.cancel(actor, id));
  }

  @Post('v1/admin/runs/:id/retry')
  @MemberAuth('developer')
  @ApiTags('admin: runs')
  @HttpCode(202)
  @ApiOperation({ summary: 'Retry a failed run from its failed step' })
  @ApiAcceptedResponse({ type: RunView })
  async adminRetry(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<RunView> {
    return runView(await this.runs.retry(actor, id));
  }

  @Get('v1/admin/runs')
  @MemberAuth('viewer')
  @ApiTags('admin: runs')
  @ApiOperation({ summary: 'Runs, for the tenant team' })
  @ApiOkResponse({ type: RunPage })
  async adminList(@CurrentActor() actor: Actor, @Query() query: RunQuery): Promise<RunPage> {
    const page = await this.runs.list(actor, query);
    return { data: page.data.map((r) => runView(r)), nextCursor: page.nextCursor };
  }

  @Get('v1/admin/runs/:id')
  @MemberAuth('viewer')
  @ApiTags('admin: runs')
  @ApiOperation({ summary: 'A run with its step timeline' })
  @ApiOkResponse({ type: RunView })
  async adminGet(@CurrentActor() actor: Actor, @Param('id', UuidParam('id')) id: string): Promise<RunView> {
    return runView(await this.runs.get(actor.tenantId, id));
  }

  @Get('v1/me/runs')
  @EndUserAuth()
  @ApiTags('me')
  @ApiOperation({ summary: 'My runs' })
  @ApiOkResponse({ type: RunPage })
  async myList(@CurrentActor() actor: Actor, @CurrentPrincipal() me: EndUserPrincipal, @Query() query: RunQuery): Promise<RunPage> {
    const page = await this.runs.list(actor, { ...query, endUserId: undefined }, me.endUserId);
    return { data: page.data.map((r) => runView(r)), nextCursor: page.nextCursor };
  }

  @Get('v1/me/runs/:id')
  @EndUserAuth()
  @ApiTags('me')
  @ApiOperation({ summary: 'One of my runs' })
  @ApiOkResponse({ type: RunView })
  async myGet(@CurrentActor() actor: Actor, @CurrentPrincipal() me: EndUserPrincipal, @Param('id', UuidParam('id')) id: string): Promise<RunView> {
    return runView(await this.runs.get(actor.tenantId, id, me.endUserId));
  }
}
