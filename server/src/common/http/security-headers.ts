import type { NextFunction, Request, Response } from 'express';
import { SESSION_COOKIE } from '../../auth/auth.decorators';
import type { AppConfig } from '../../config/app-config';

/**
 * Swagger UI's page: its own scripts only; inline styles because swagger-ui renders with them;
 * never framed (no clickjacking of "Try it out" with a signed-in member's cookie).
 */
export const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Headers every answer gets before its handler runs (a handler may still set its own, e.g. the
 * widget files' caching): nosniff everywhere; no-store on anything answered to a credential, so
 * no shared or browser cache keeps a tenant's data; HSTS when production is served over https.
 */
export function securityHeaders(config: Pick<AppConfig, 'env' | 'publicUrl'>) {
  const hsts = config.env === 'production' && config.publicUrl.startsWith('https://');
  return (req: Request, res: Response, next: NextFunction): void => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (hsts) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    if (req.headers.authorization !== undefined || req.cookies?.[SESSION_COOKIE] !== undefined) res.setHeader('Cache-Control', 'no-store');
    if (req.path === '/docs' || req.path.startsWith('/docs/')) res.setHeader('Content-Security-Policy', DOCS_CSP);
    next();
  };
}
