import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, MemberAuth } from '../auth/auth.decorators';
import type { Actor } from '../auth/principal';
import { AuditEventPage, AuditEventView, AuditQueryDto } from './audit.dto';
import { AuditService } from './audit.service';

@ApiTags('admin: audit log')
@Controller('v1/admin/audit-events')
@MemberAuth('developer')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ summary: 'Audit events, newest first, with filters and cursor pagination' })
  @ApiOkResponse({ type: AuditEventPage })
  async list(@CurrentActor() actor: Actor, @Query() query: AuditQueryDto): Promise<AuditEventPage> {
    const page = await this.audit.list(actor, query);
    const names = await this.audit.names(actor.tenantId, page.data);
    return { data: page.data.map((e) => AuditEventView.of(e, names)), nextCursor: page.nextCursor };
  }
}
