import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { AppError } from '../common/errors/app-error';
import { sendError, toErrorResponse } from '../common/errors/error-envelope.filter';

/** Where the script-tag files are served; `v1` is the loader's API version, not the build's. */
export const EMBED_PATH = '/embed/v1';

/** Any site may load these scripts: they hold no secret, and the session token is what authorises. */
const CROSS_ORIGIN_HEADERS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'X-Content-Type-Options': 'nosniff',
};

/** The loader is re-checked every five minutes (that is how a new widget build reaches host pages); builds are content-hashed. */
export const LOADER_CACHE = 'public, max-age=300';
export const WIDGET_CACHE = 'public, max-age=31536000, immutable';

/** embed/dist/cdn of the installed @switchboard/embed, or the workspace folder beside server/. */
export function resolveEmbedDist(): string {
  try {
    return join(dirname(createRequire(__filename).resolve('@switchboard/embed/package.json')), 'dist', 'cdn');
  } catch {
    // server/{src,dist}/embed → <repo>/embed/dist/cdn
    return resolve(__dirname, '..', '..', '..', 'embed', 'dist', 'cdn');
  }
}

/** Serves loader.js and the content-hashed widget bundle named in the build's manifest. */
export class EmbedFiles {
  private widgetFile: Promise<string | null> | null = null;

  constructor(readonly dir: string) {}

  async serve(req: Request, res: Response, file: string): Promise<void> {
    let widget = await this.widget();
    if (widget && file !== 'loader.js' && file !== widget) {
      // A rebuild since the manifest was read (npm run dev) names another bundle: look again.
      this.widgetFile = null;
      widget = await this.widget();
    }
    if (!widget) {
      throw new AppError('service_unavailable', 'The widget has not been built: run `npm run build` at the repository root, then reload', {
        missing: join(this.dir, 'manifest.json'),
      });
    }
    if (file !== 'loader.js' && file !== widget) throw new AppError('not_found', `${req.path} was not found`);
    const cache = file === 'loader.js' ? LOADER_CACHE : WIDGET_CACHE;
    await new Promise<void>((done) => {
      res.sendFile(
        file,
        {
          root: this.dir,
          dotfiles: 'deny',
          cacheControl: false,
          headers: { ...CROSS_ORIGIN_HEADERS, 'Cache-Control': cache, 'Content-Type': 'text/javascript; charset=utf-8' },
        },
        (error?: Error) => {
          if (error && !res.headersSent) sendError(res, toErrorResponse(new AppError('not_found', `${req.path} was not found`), req));
          done();
        },
      );
    });
  }

  /** The widget bundle's file name, from manifest.json (kept; re-read while it is missing). */
  private async widget(): Promise<string | null> {
    this.widgetFile ??= readFile(join(this.dir, 'manifest.json'), 'utf8')
      .then(async (text) => {
        const name = (JSON.parse(text) as { widget?: unknown }).widget;
        if (typeof name !== 'string' || !/^widget\.[A-Za-z0-9]+\.js$/.test(name)) return null;
        return (await stat(join(this.dir, name))).isFile() ? name : null;
      })
      .catch(() => null);
    const name = await this.widgetFile;
    if (!name) this.widgetFile = null;
    return name;
  }
}

const logoVersions = new Map<string, string>();

/** A short hash of a logo: its URL carries it (`?v=`), so a changed logo is a new URL and each is cached for good. */
export function logoVersion(svg: string): string {
  let version = logoVersions.get(svg);
  if (!version) {
    version = createHash('sha256').update(svg).digest('base64url').slice(0, 10);
    if (logoVersions.size > 5000) logoVersions.clear();
    logoVersions.set(svg, version);
  }
  return version;
}

/** Where the widget finds a connector's logo; a tenant's own provider's names the tenant. */
export const logoUrl = (publicUrl: string, key: string, svg: string, tenantId?: string) =>
  `${publicUrl}${EMBED_PATH}/logos/${key}.svg?${tenantId ? `tenant=${tenantId}&` : ''}v=${logoVersion(svg)}`;

/**
 * Connector logos (inline SVG in the definitions) as images any page may show. Asked for with the
 * current version, one is cached for good (WIDGET_CACHE); otherwise (an old page, no version) a day.
 */
export function sendLogo(res: Response, svg: string, version?: unknown): void {
  res
    .set({
      ...CROSS_ORIGIN_HEADERS,
      'Content-Type': 'image/svg+xml; charset=utf-8',
      'Cache-Control': version === logoVersion(svg) ? WIDGET_CACHE : 'public, max-age=86400',
      // Opened directly, an SVG is a document: it may not run script.
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    })
    .send(svg);
}
