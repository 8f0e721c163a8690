import type { Request, Response } from 'express';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, posix, resolve } from 'node:path';
import { AppError } from '../common/errors/app-error';
import { sendError, toErrorResponse } from '../common/errors/error-envelope.filter';

/** Where the portal is mounted. */
export const PORTAL_PATH = '/portal';

/**
 * The page may load only its own scripts, styles and images (plus data: images for CSS icons), talk
 * only to this origin, and cannot be framed. The build emits no inline script or style.
 */
export const PORTAL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/** portal/dist of the installed @switchboard/portal, or the workspace folder beside server/. */
export function resolvePortalDist(): string {
  try {
    return join(dirname(createRequire(__filename).resolve('@switchboard/portal/package.json')), 'dist');
  } catch {
    // server/{src,dist}/portal → <repo>/portal/dist
    return resolve(__dirname, '..', '..', '..', 'portal', 'dist');
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Serves the built portal: content-hashed files under assets/ cached for a year, index.html
 * revalidated every time and sent for every other path (the app routes on the client).
 */
export class PortalFiles {
  constructor(readonly dir: string) {}

  async serve(req: Request, res: Response): Promise<void> {
    if (!(await isFile(join(this.dir, 'index.html')))) {
      throw new AppError('service_unavailable', 'The portal has not been built: run `npm run build` at the repository root, then reload', {
        missing: join(this.dir, 'index.html'),
      });
    }

    let rest: string;
    try {
      rest = decodeURIComponent(req.path.slice(PORTAL_PATH.length)).replace(/^\/+/, '');
    } catch {
      throw new AppError('not_found', `${req.path} was not found`);
    }
    const file = posix.normalize(rest);
    if (file.startsWith('..') || file.includes('\0')) throw new AppError('not_found', `${req.path} was not found`);
    const isAsset = file.startsWith('assets/');
    const looksLikeFile = isAsset || /\.[a-z0-9]+$/i.test(file);

    if (!looksLikeFile) return this.send(req, res, 'index.html', { 'Cache-Control': 'no-cache', 'Content-Security-Policy': PORTAL_CSP });
    if (file === 'index.html') return this.send(req, res, file, { 'Cache-Control': 'no-cache', 'Content-Security-Policy': PORTAL_CSP });
    const cache = isAsset ? 'public, max-age=31536000, immutable' : 'public, max-age=3600';
    return this.send(req, res, file, { 'Cache-Control': cache });
  }

  private send(req: Request, res: Response, file: string, headers: Record<string, string>): Promise<void> {
    return new Promise((done) => {
      res.sendFile(
        file,
        {
          root: this.dir,
          dotfiles: 'deny',
          // Cache-Control comes from `headers`; express would otherwise write its own.
          cacheControl: false,
          headers: { ...SECURITY_HEADERS, ...headers },
        },
        (error?: Error & { status?: number; statusCode?: number }) => {
          if (error && !res.headersSent) {
            const status = error.status ?? error.statusCode ?? 500;
            const appError = status < 500 ? new AppError('not_found', `${req.path} was not found`) : new AppError('internal_error', 'The portal file could not be read');
            sendError(res, toErrorResponse(appError, req));
          }
          done();
        },
      );
    });
  }
}
