import { statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The files a build writes and the local stack runs: the API and worker, the portal, the widget and
 * the demo app. Paths are relative to the repository root.
 */
export const BUILT_FILES = ['server/dist/main.js', 'server/dist/worker.js', 'portal/dist/index.html', 'embed/dist/cdn/loader.js', 'demo-host-app/dist/main.js'];

/**
 * When the code the stack runs was built: the newest modification time of the built files (a
 * rebuild of any of them, `tsc --watch` included, moves it). Null when none of them exists.
 */
export function buildTime(root: string, files: string[] = BUILT_FILES): Date | null {
  let newest: number | null = null;
  for (const file of files) {
    try {
      const mtime = statSync(join(root, file)).mtimeMs;
      if (newest === null || mtime > newest) newest = mtime;
    } catch {
      // not built (yet): the others say
    }
  }
  return newest === null ? null : new Date(newest);
}

/** "2026-12-07 14:05:09 UTC": a time in the banner, the same for every reader of a shared log. */
export const bannerTime = (date: Date): string => `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/** The banner's line: when the stack started and when what it runs was built ("5 min before"). */
export function startedLine(startedAt: Date, builtAt: Date | null): string {
  if (!builtAt) return `Started ${bannerTime(startedAt)} · build time unknown (no built files found)`;
  const minutes = Math.round((startedAt.getTime() - builtAt.getTime()) / 60_000);
  const ago =
    minutes < 1
      ? 'just before'
      : minutes < 120
        ? `${minutes} min before`
        : minutes < 48 * 60
          ? `${Math.round(minutes / 60)} h before`
          : `${Math.round(minutes / 1440)} days before`;
  return `Started ${bannerTime(startedAt)} · built ${bannerTime(builtAt)} (${ago})`;
}
