import express, { NextFunction, Request, Response } from 'express';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendError, toErrorResponse } from '../common/errors/error-envelope.filter';
import { PORTAL_CSP, PortalFiles, resolvePortalDist } from './portal-files';

/** PortalFiles behind a bare express app, errors answered with the API's envelope as the filter does. */
async function serve(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  const files = new PortalFiles(dir);
  app.get(['/portal', '/portal/*path'], (req: Request, res: Response, next: NextFunction) => {
    files.serve(req, res).catch((error: unknown) => (res.headersSent ? next(error) : sendError(res, toErrorResponse(error, req))));
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('PortalFiles', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'portal-dist-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="app"></div>');
    writeFileSync(join(dir, 'assets', 'portal-ABC123.js'), 'console.log(1)');
    writeFileSync(join(dir, 'robots.txt'), 'User-agent: *');
    writeFileSync(join(dir, '.env'), 'SECRET=1');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers 503 with the error envelope, saying to build, when the portal is not built', async () => {
    const server = await serve(join(dir, 'missing'));
    try {
      for (const path of ['/portal', '/portal/members', '/portal/assets/portal-ABC123.js']) {
        const res = await fetch(server.url + path);
        expect(res.status).toBe(503);
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe('service_unavailable');
        expect(body.error.message).toContain('npm run build');
      }
    } finally {
      await server.close();
    }
  });

  it('serves index.html (CSP, no-cache) for client routes, assets immutable, other files briefly, and nothing outside', async () => {
    const server = await serve(dir);
    try {
      const page = await fetch(`${server.url}/portal/audit-log`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toBe(PORTAL_CSP);
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(await page.text()).toContain('<div id="app">');

      const asset = await fetch(`${server.url}/portal/assets/portal-ABC123.js`);
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(asset.headers.get('content-type')).toMatch(/javascript/);

      const robots = await fetch(`${server.url}/portal/robots.txt`);
      expect(robots.headers.get('cache-control')).toBe('public, max-age=3600');

      for (const path of ['/portal/.env', '/portal/assets/nope.js', '/portal/assets/..%2f..%2fetc%2fpasswd']) {
        const res = await fetch(server.url + path);
        expect(res.status, path).toBe(404);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
      }
    } finally {
      await server.close();
    }
  });

  it('finds the workspace portal package', () => {
    expect(resolvePortalDist()).toMatch(/portal[\\/]dist$/);
  });
});
