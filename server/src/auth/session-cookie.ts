import type { Request, Response } from 'express';
import { AppError } from '../common/errors/app-error';
import type { AppConfig } from '../config/app-config';
import { SESSION_COOKIE } from './auth.decorators';

/** httpOnly (no script reads it), SameSite=Strict (no cross-site sends), Secure whenever served over https. */
export function setSessionCookie(res: Response, config: AppConfig, token: string): void {
  res.cookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: config.publicUrl.startsWith('https:'),
    path: '/',
    maxAge: config.memberSessionTtlSeconds * 1000,
  });
}

export function clearSessionCookie(res: Response, config: AppConfig): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure: config.publicUrl.startsWith('https:'), path: '/' });
}

/**
 * Cookie-authenticated state changes must come from this deployment's own pages (Origin /
 * Sec-Fetch-Site), on top of the SameSite=Strict cookie: CSRF needs both to fail.
 */
export function assertSameOrigin(req: Request, ownOrigin: string): void {
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  if ((site && site !== 'same-origin' && site !== 'none') || (origin && origin !== ownOrigin)) {
    throw new AppError('csrf_rejected', `Cross-site request refused: this endpoint only accepts requests from ${ownOrigin}`);
  }
}
