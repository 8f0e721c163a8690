import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy as CustomStrategy } from 'passport-custom';
import { Strategy as LocalStrategy } from 'passport-local';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { AppError } from '../common/errors/app-error';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { UsersService } from '../members/users.service';
import { SESSION_COOKIE } from './auth.decorators';
import { AuthRateLimiter } from './auth-rate-limiter';
import { MemberSessionsService } from './member-sessions.service';
import type { ApiKeyPrincipal, MemberPrincipal, SessionPrincipal } from './principal';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `Authorization: Bearer sk_…` from a host backend. */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(CustomStrategy, 'api-key') {
  constructor(private readonly apiKeys: ApiKeysService) {
    super();
  }

  async validate(req: Request): Promise<ApiKeyPrincipal> {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new AppError('invalid_api_key', 'Send your secret key as "Authorization: Bearer sk_…"');
    if (!match[1].startsWith('sk_')) throw new AppError('invalid_api_key', 'The bearer token is not a secret key (sk_…)');
    const key = await this.apiKeys.authenticate(match[1]);
    if (!key) throw new AppError('invalid_api_key', 'The secret key is unknown or has been revoked');
    return { kind: 'api_key', tenantId: key.tenantId, apiKeyId: key.id };
  }
}

/**
 * The portal's httpOnly session cookie. For state-changing requests it also refuses cross-site
 * callers (Origin / Sec-Fetch-Site), on top of the SameSite=Strict cookie: CSRF needs both to fail.
 */
@Injectable()
export class MemberSessionStrategy extends PassportStrategy(CustomStrategy, 'member-session') {
  private readonly ownOrigin: string;

  constructor(
    private readonly sessions: MemberSessionsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super();
    this.ownOrigin = new URL(config.publicUrl).origin;
  }

  async validate(req: Request): Promise<MemberPrincipal | SessionPrincipal> {
    const token: unknown = req.cookies?.[SESSION_COOKIE];
    if (typeof token !== 'string' || !token) throw new AppError('unauthenticated', 'Sign in first: no session cookie was sent');
    if (!SAFE_METHODS.has(req.method)) this.assertSameOrigin(req);
    const principal = await this.sessions.resolve(token);
    if (!principal) throw new AppError('unauthenticated', 'Your session has expired or was signed out; sign in again');
    return principal;
  }

  private assertSameOrigin(req: Request): void {
    const site = req.headers['sec-fetch-site'];
    const origin = req.headers.origin;
    if ((site && site !== 'same-origin' && site !== 'none') || (origin && origin !== this.ownOrigin)) {
      throw new AppError('csrf_rejected', `Cross-site request refused: this endpoint only accepts requests from ${this.ownOrigin}`);
    }
  }
}

/** Email + password sign-in, rate-limited per email and per IP. */
@Injectable()
export class PasswordStrategy extends PassportStrategy(LocalStrategy, 'local') {
  constructor(
    private readonly users: UsersService,
    private readonly limiter: AuthRateLimiter,
  ) {
    super({ usernameField: 'email', passwordField: 'password', passReqToCallback: true });
  }

  async validate(req: Request, email: string, password: string): Promise<{ userId: string }> {
    const ip = req.ip ?? 'unknown';
    await this.limiter.assertAllowed(email, ip);
    const user = await this.users.verifyCredentials(email, password);
    if (!user) {
      await this.limiter.recordFailure(email, ip);
      throw new AppError('invalid_credentials', 'The email or password is wrong');
    }
    await this.limiter.recordSuccess(email);
    return { userId: user.id };
  }
}
