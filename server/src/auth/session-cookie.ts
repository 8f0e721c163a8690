import type { Response } from 'express';
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
