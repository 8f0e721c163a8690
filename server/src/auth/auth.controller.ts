import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ApiNoContentResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { DataSource, In } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AppError } from '../common/errors/app-error';
import { trustedTenantId } from '../common/tenancy/tenant-id';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AcceptInviteDto } from '../members/members.dto';
import { MembersService } from '../members/members.service';
import { User } from '../members/user.entity';
import { Tenant } from '../tenants/tenant.entity';
import { CurrentPrincipal, Public, SessionAuth } from './auth.decorators';
import { LoginDto, MeView, SwitchTenantDto } from './auth.dto';
import { PasswordLoginGuard } from './password-login.guard';
import { MemberSessionsService } from './member-sessions.service';
import { actorOf, AuthenticatedRequest, MemberPrincipal, SessionPrincipal } from './principal';
import { clearSessionCookie, setSessionCookie } from './session-cookie';

@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(
    private readonly sessions: MemberSessionsService,
    private readonly members: MembersService,
    private readonly audit: AuditService,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('login')
  @HttpCode(200)
  @Public()
  @UseGuards(PasswordLoginGuard)
  @ApiOperation({ summary: 'Sign in to the portal; sets the httpOnly session cookie' })
  @ApiTooManyRequestsResponse({ description: 'Too many failed attempts for this email or IP' })
  async login(
    @Body() body: LoginDto,
    @Req() req: Request & { user: { userId: string } },
    @Res({ passthrough: true }) res: Response,
  ): Promise<MeView> {
    const { token, session } = await this.sessions.create(req.user.userId, {
      ip: req.ip,
      userAgent: req.headers['user-agent'],
      tenantId: body.tenantId,
    });
    setSessionCookie(res, this.config, token);
    if (session.activeTenantId) {
      await this.audit.record(
        { tenantId: trustedTenantId(session.activeTenantId), type: 'member', id: session.userId, requestId: String((req as { id?: string }).id ?? ''), ip: req.ip },
        'member.signed_in',
        { type: 'user', id: session.userId },
      );
    }
    return this.describe(session.userId, session.activeTenantId);
  }

  @Post('logout')
  @HttpCode(204)
  @SessionAuth()
  @ApiOperation({ summary: 'Sign out this browser' })
  @ApiNoContentResponse()
  async logout(
    @CurrentPrincipal() principal: MemberPrincipal | SessionPrincipal,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    await this.sessions.revoke(principal.sessionId);
    clearSessionCookie(res, this.config);
    if (principal.kind === 'member') await this.audit.record(actorOf(req), 'member.signed_out', { type: 'user', id: principal.userId });
  }

  @Get('me')
  @SessionAuth()
  @ApiOperation({ summary: 'Who is signed in, their tenants and the active one' })
  me(@CurrentPrincipal() principal: MemberPrincipal | SessionPrincipal): Promise<MeView> {
    return this.describe(principal.userId, principal.kind === 'member' ? principal.tenantId : null);
  }

  @Post('switch-tenant')
  @HttpCode(200)
  @SessionAuth()
  @ApiOperation({ summary: 'Make another of your tenants the active one' })
  async switchTenant(@CurrentPrincipal() principal: MemberPrincipal | SessionPrincipal, @Body() body: SwitchTenantDto): Promise<MeView> {
    if (!(await this.sessions.switchTenant(principal.sessionId, principal.userId, body.tenantId))) {
      // Same answer whether the tenant exists or not: membership is the only thing that matters.
      throw new AppError('not_found', `Tenant ${body.tenantId} was not found among your tenants`);
    }
    return this.describe(principal.userId, body.tenantId);
  }

  @Post('accept-invite')
  @HttpCode(200)
  @Public()
  @ApiOperation({ summary: 'Accept an invitation (setting a password if you are new); signs you in to that tenant' })
  async acceptInvite(@Body() body: AcceptInviteDto, @Req() req: AuthenticatedRequest, @Res({ passthrough: true }) res: Response): Promise<MeView> {
    const { userId, tenantId } = await this.members.acceptInvite(body.token, body.password, body.name, { requestId: String(req.id ?? ''), ip: req.ip });
    const { token } = await this.sessions.create(userId, { ip: req.ip, userAgent: req.headers['user-agent'], tenantId });
    setSessionCookie(res, this.config, token);
    return this.describe(userId, tenantId);
  }

  async describe(userId: string, activeTenantId: string | null): Promise<MeView> {
    const user = await this.db.getRepository(User).findOneOrFail({ where: { id: userId } });
    const memberships = await this.sessions.activeMemberships(userId);
    const tenants = await this.db.getRepository(Tenant).find({ where: { id: In(memberships.map((m) => m.tenantId)) } });
    const names = new Map(tenants.map((t) => [t.id, t.name]));
    return {
      userId,
      email: user.email,
      name: user.name,
      activeTenantId,
      memberships: memberships.map((m) => ({ tenantId: m.tenantId, tenantName: names.get(m.tenantId) ?? '', role: m.role })),
    };
  }
}
