import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, MemberAuth } from '../auth/auth.decorators';
import type { Actor } from '../auth/principal';
import { StatsQuery, StatsView } from './dashboard.dto';
import { DashboardService } from './dashboard.service';

@ApiTags('admin: dashboard')
@Controller('v1/admin/stats')
export class DashboardController {
  constructor(private readonly dashboard: DashboardService) {}

  @Get()
  @MemberAuth('viewer')
  @ApiOperation({ summary: 'Run statistics over a window: runs per bucket, success rate, p50/p95 duration, top failing flows and errors' })
  @ApiOkResponse({ type: StatsView })
  stats(@CurrentActor() actor: Actor, @Query() query: StatsQuery): Promise<StatsView> {
    return this.dashboard.stats(actor.tenantId, query.window);
  }
}
