import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { DataSource, In } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AppError } from '../common/errors/app-error';
import { trustedTenantId } from '../common/tenancy/tenant-id';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { PASSWORD_MIN_LENGTH } from '../common/crypto/passwords';
import { AcceptInviteDto, InvitationTokenDto, InvitationView } from '../members/members.dto';
import { Invitation, InvitationAcceptor, MembersService } from '../members/members.service';
import { User } from '../members/user.entity';
import { UsersService } from '../members/users.service';
import { Tenant } from '../tenants/tenant.entity';
import { EnvironmentView } from '../tenants/environments.dto';
import { EnvironmentsService } from '../tenants/environments.service';
import { AuthRateLimiter } from './auth-rate-limiter';
import { CurrentPrincipal, Public, SESSION_COOKIE, SessionAuth } from './auth.decorators';
import { FailedAttemptThrottle } from './failed-attempt-throttle';
import { LoginDto, PortalMeView, SwitchTenantDto } from './auth.dto';
import { PasswordLoginGuard } from './password-login.guard';
import { MemberSessionsService } from './member-sessions.service';
import { actorOf, AuthenticatedRequest, MemberPrincipal, SessionPrincipal } from './principal';
import { assertSameOrigin, clearSessionCookie, setSessionCookie } from './session-cookie';

function fieldError(path: string, message: string): AppError {
  return new AppError('validation_failed', `${path}: ${message}`, { errors: [{ path, message }] });
}

@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(
    private readonly sessions: MemberSessionsService,
    private readonly members: MembersService,
    private readonly users: UsersService,
    private readonly limiter: AuthRateLimiter,
    private readonly throttle: FailedAttemptThrottle,
    private readonly audit: AuditService,
    private readonly environments: EnvironmentsService,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('login')
  @HttpCode(200)
  @Public()
  @UseGuards(PasswordLoginGuard)
  @ApiOperation({ summary: 'Sign in to the portal; sets the httpOnly session cookie' })
  @ApiOkResponse({ type: PortalMeView })
  @ApiTooManyRequestsResponse({ description: 'Too many failed attempts for this email or IP' })
  async login(@Body() body: LoginDto, @Req() req: Request & { user: { userId: string } }, @Res({ passthrough: true }) res: Response): Promise<PortalMeView> {
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
  async logout(@CurrentPrincipal() principal: MemberPrincipal | SessionPrincipal, @Req() req: AuthenticatedRequest, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.sessions.revoke(principal.sessionId);
    clearSessionCookie(res, this.config);
    if (principal.kind === 'member') await this.audit.record(actorOf(req), 'member.signed_out', { type: 'user', id: principal.userId });
  }

  @Get('me')
  @SessionAuth()
  @ApiOperation({ summary: 'Who is signed in, their tenants and the active one' })
  @ApiOkResponse({ type: PortalMeView })
  me(@CurrentPrincipal() principal: MemberPrincipal | SessionPrincipal): Promise<PortalMeView> {
    return this.describe(principal.userId, principal.kind === 'member' ? principal.tenantId : null);
  }

  @Post('switch-tenant')
  @HttpCode(200)
  @SessionAuth()
  @ApiOperation({ summary: 'Make another of your tenants the active one' })
  @ApiOkResponse({ type: PortalMeView })
  async switchTenant(@CurrentPrincipal() principal: MemberPrincipal | SessionPrincipal, @Body() body: SwitchTenantDto): Promise<PortalMeView> {
    if (!(await this.sessions.switchTenant(principal.sessionId, principal.userId, body.tenantId))) {
      // Same answer whether the tenant exists or not: membership is the only thing that matters.
      throw new AppError('not_found', `Tenant ${body.tenantId} was not found among your tenants`);
    }
    return this.describe(principal.userId, body.tenantId);
  }

  @Post('invitations/lookup')
  @HttpCode(200)
  @Public()
  @ApiOperation({ summary: 'What an invitation token is for (tenant, email, role) and whether accepting needs that account’s sign-in' })
  @ApiOkResponse({ type: InvitationView })
  async lookupInvitation(@Body() body: InvitationTokenDto, @Req() req: Request): Promise<InvitationView> {
    const invitation = await this.findInvitation(body.token, req);
    const session = await this.currentSession(req);
    return {
      email: invitation.email,
      tenantName: invitation.tenantName,
      role: invitation.membership.role,
      expiresAt: invitation.membership.inviteExpiresAt!.toISOString(),
      accountExists: invitation.accountExists,
      signedInAsInvitee: session?.userId === invitation.membership.userId,
    };
  }

  @Post('accept-invite')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'Accept an invitation. New to Switchboard: set a password (and name). Existing account: be signed in as it, or give its password. Signs you in to that tenant',
  })
  @ApiTooManyRequestsResponse({ description: 'Too many unknown invitation tokens from this IP, or too many wrong passwords' })
  @ApiOkResponse({ type: PortalMeView, description: 'Signed in to the invitation’s tenant' })
  async acceptInvite(@Body() body: AcceptInviteDto, @Req() req: AuthenticatedRequest, @Res({ passthrough: true }) res: Response): Promise<PortalMeView> {
    const ip = req.ip ?? 'unknown';
    const invitation = await this.findInvitation(body.token, req);
    const { email, membership } = invitation;
    const session = await this.currentSession(req);
    const mismatch = () => new AppError('invitation_email_mismatch', `This invitation is for ${email}, not the account you are signed in as`, { email });
    let acceptor: InvitationAcceptor;
    if (!invitation.accountExists) {
      if (body.password === undefined) {
        if (session && session.userId !== membership.userId) throw mismatch();
        throw fieldError('password', 'is required to create your account');
      }
      if (body.password.length < PASSWORD_MIN_LENGTH) throw fieldError('password', `must be at least ${PASSWORD_MIN_LENGTH} characters`);
      acceptor = { userId: membership.userId, via: 'new_account', newPassword: body.password, name: body.name };
    } else if (body.password !== undefined) {
      // The same lockout as sign-in: accepting must not become a way around it.
      await this.limiter.assertAllowed(email, ip);
      if (!(await this.users.verifyCredentials(email, body.password))) {
        await this.limiter.recordFailure(email, ip);
        throw new AppError('invalid_credentials', `The password is wrong for ${email}`, { email });
      }
      acceptor = { userId: membership.userId, via: 'password' };
    } else if (session) {
      if (session.userId !== membership.userId) throw mismatch();
      acceptor = { userId: membership.userId, via: 'session' };
    } else {
      throw new AppError('invitation_requires_sign_in', `${email} already has an account: sign in as it, or give its password, to accept`, { email });
    }

    const { userId, tenantId } = await this.members.acceptInvite(body.token, acceptor, { requestId: String(req.id ?? ''), ip: req.ip });
    if (acceptor.via === 'session') {
      await this.sessions.switchTenant(session!.sessionId, userId, tenantId);
    } else {
      const { token } = await this.sessions.create(userId, { ip: req.ip, userAgent: req.headers['user-agent'], tenantId });
      setSessionCookie(res, this.config, token);
    }
    return this.describe(userId, tenantId);
  }

  /** The invitation a token stands for; unknown tokens count towards this IP's guessing limit. */
  private async findInvitation(token: string, req: Request): Promise<Invitation> {
    return (await this.throttle.guard('invitation', req.ip, () => this.members.findInvitation(token), ['not_found']))!;
  }

  /** This browser's portal session, if it sent a live one (accepting with it is a state change: same origin only). */
  private async currentSession(req: Request): Promise<MemberPrincipal | SessionPrincipal | null> {
    const token: unknown = req.cookies?.[SESSION_COOKIE];
    if (typeof token !== 'string' || !token) return null;
    assertSameOrigin(req, new URL(this.config.publicUrl).origin);
    return this.sessions.resolve(token);
  }

  async describe(userId: string, activeTenantId: string | null): Promise<PortalMeView> {
    const user = await this.db.getRepository(User).findOneOrFail({ where: { id: userId } });
    const memberships = await this.sessions.activeMemberships(userId);
    const tenants = await this.db.getRepository(Tenant).find({ where: { id: In(memberships.map((m) => m.tenantId)) } });
    const names = new Map(tenants.map((t) => [t.id, t.name]));
    const environments = activeTenantId ? await this.environments.list(trustedTenantId(activeTenantId)) : [];
    return {
      userId,
      email: user.email,
      name: user.name,
      activeTenantId,
      memberships: memberships.map((m) => ({ tenantId: m.tenantId, tenantName: names.get(m.tenantId) ?? '', role: m.role })),
      environments: environments.map(EnvironmentView.of),
    };
  }
}
