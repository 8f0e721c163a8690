import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { EndUserPrincipal } from '../auth/principal';
import { AppError } from '../common/errors/app-error';
import { END_USER_TOKEN_FAILURES, SessionsService } from './sessions.service';
import { FailedAttemptThrottle } from '../auth/failed-attempt-throttle';

/** `Authorization: Bearer sess_…` or `Bearer <host-signed JWT>`. */
@Injectable()
export class EndUserStrategy {
  constructor(
    private readonly sessions: SessionsService,
    private readonly throttle: FailedAttemptThrottle,
  ) {}

  async validate(req: Request): Promise<EndUserPrincipal> {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!match) throw new AppError('unauthenticated', 'Send the end-user session as "Authorization: Bearer sess_…" (or a JWT you signed)');
    const principal = await this.throttle.guard('end_user_token', req.ip, () => this.sessions.authenticate(match[1]), END_USER_TOKEN_FAILURES);
    if (!principal) throw new AppError('unauthenticated', 'The end-user session is unknown or has expired; ask the host app for a new one');
    return principal;
  }
}
