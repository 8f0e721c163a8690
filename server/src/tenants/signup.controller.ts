import { Body, Controller, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuthRateLimiter } from '../auth/auth-rate-limiter';
import { Public } from '../auth/auth.decorators';
import { MemberSessionsService } from '../auth/member-sessions.service';
import { setSessionCookie } from '../auth/session-cookie';
import { AppError } from '../common/errors/app-error';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { SignupDto, TenantView } from './tenants.dto';
import { TenantsService } from './tenants.service';
import { UsersService } from '../members/users.service';

/** Self-service tenant creation, off unless ALLOW_SIGNUP=true; `switchboard create-tenant` is the operator's way. */
@ApiTags('auth')
@Controller('v1/signup')
export class SignupController {
  constructor(
    private readonly tenants: TenantsService,
    private readonly sessions: MemberSessionsService,
    private readonly limiter: AuthRateLimiter,
    private readonly users: UsersService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @Public()
  @ApiOperation({ summary: 'Create a tenant and its owner, and sign in (only when ALLOW_SIGNUP=true)' })
  @ApiCreatedResponse({ type: TenantView, description: 'The new tenant; the session cookie is set' })
  async signup(@Body() body: SignupDto, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<TenantView> {
    if (!this.config.allowSignup) {
      throw new AppError('signup_disabled', 'Signup is disabled on this deployment; ask its operator for an account');
    }
    await this.limiter.consumeSignup(req.ip ?? 'unknown');
    // Signing up with someone else's email must not attach a tenant to their account.
    if (await this.users.findByEmail(body.email)) {
      throw new AppError('conflict', 'An account with this email exists: sign in instead', { email: body.email });
    }
    const { tenant, userId } = await this.tenants.createWithOwner({
      name: body.tenantName,
      owner: { email: body.email, password: body.password, name: body.name ?? null },
      ownerMustBeNew: true,
      request: { requestId: String((req as { id?: string }).id ?? ''), ip: req.ip },
    });
    const { token } = await this.sessions.create(userId, { ip: req.ip, userAgent: req.headers['user-agent'], tenantId: tenant.id });
    setSessionCookie(res, this.config, token);
    return TenantView.of(tenant);
  }
}
