import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy as LocalStrategy } from 'passport-local';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { AppError } from '../common/errors/app-error';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { UsersService } from '../members/users.service';
import { SESSION_COOKIE } from './auth.decorators';
import { FailedAttemptThrottle } from './failed-attempt-throttle';
import { assertSameOrigin } from './session-cookie';
import { AuthRateLimiter } from './auth-rate-limiter';
import { MemberSessionsService } from './member-sessions.service';
import type { ApiKeyPrincipal, MemberPrincipal, SessionPrincipal } from './principal';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * `Authorization: Bearer sk_…` from a host backend. Called by AuthGuard directly, like the session
 * strategies: passport would only wrap a function in per-request closures (bench/proxy.mjs --profile).
 */
@Injectable()
export class ApiKeyStrategy {
  constructor(
    private readonly apiKeys: ApiKeysService,
    private readonly throttle: FailedAttemptThrottle,
  ) {}

  async validate(req: Request): Promise<ApiKeyPrincipal> {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new AppError('invalid_api_key', 'Send your secret key as "Authorization: Bearer sk_…"');
    const secret = match[1];
    const key = await this.throttle.guard('api_key', req.ip, async () => (secret.startsWith('sk_') ? this.apiKeys.authenticate(secret) : null));
    if (!key && !secret.startsWith('sk_')) throw new AppError('invalid_api_key', 'The bearer token is not a secret key (sk_…)');
    if (!key) throw new AppError('invalid_api_key', 'The secret key is unknown or has been revoked');
    return { kind: 'api_key', tenantId: key.tenantId, apiKeyId: key.id };
  }
}

/** The portal's httpOnly session cookie; state-changing requests must also be same-origin (assertSameOrigin). */
@Injectable()
export class MemberSessionStrategy {
  private readonly ownOrigin: string;

  constructor(
    private readonly sessions: MemberSessionsService,
    private readonly throttle: FailedAttemptThrottle,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.ownOrigin = new URL(config.publicUrl).origin;
  }

  async validate(req: Request): Promise<MemberPrincipal | SessionPrincipal> {
    const token: unknown = req.cookies?.[SESSION_COOKIE];
    if (typeof token !== 'string' || !token) throw new AppError('unauthenticated', 'Sign in first: no session cookie was sent');
    if (!SAFE_METHODS.has(req.method)) assertSameOrigin(req, this.ownOrigin);
    const principal = await this.throttle.guard('member_session', req.ip, () => this.sessions.resolve(token));
    if (!principal) throw new AppError('unauthenticated', 'Your session has expired or was signed out; sign in again');
    return principal;
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
