import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildTime, startedLine } from './build-stamp';

describe('build stamp', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('is the newest of the built files, and null when nothing is built', () => {
    const root = mkdtempSync(join(tmpdir(), 'stamp-'));
    dirs.push(root);
    expect(buildTime(root, ['a/dist/main.js', 'b/dist/index.html'])).toBeNull();
    mkdirSync(join(root, 'a/dist'), { recursive: true });
    mkdirSync(join(root, 'b/dist'), { recursive: true });
    writeFileSync(join(root, 'a/dist/main.js'), '');
    writeFileSync(join(root, 'b/dist/index.html'), '');
    utimesSync(join(root, 'a/dist/main.js'), new Date('2026-12-07T09:00:00Z'), new Date('2026-12-07T09:00:00Z'));
    utimesSync(join(root, 'b/dist/index.html'), new Date('2026-12-07T10:30:00Z'), new Date('2026-12-07T10:30:00Z'));
    expect(buildTime(root, ['a/dist/main.js', 'b/dist/index.html', 'c/missing.js'])?.toISOString()).toBe('2026-12-07T10:30:00.000Z');
  });

  it('says when the stack started and when its code was built', () => {
    const started = new Date('2026-12-07T14:05:09Z');
    expect(startedLine(started, new Date('2026-12-07T14:00:00Z'))).toBe('Started 2026-12-07 14:05:09 UTC · built 2026-12-07 14:00:00 UTC (5 min before)');
    expect(startedLine(started, new Date('2026-12-07T14:04:50Z'))).toBe('Started 2026-12-07 14:05:09 UTC · built 2026-12-07 14:04:50 UTC (just before)');
    expect(startedLine(started, new Date('2026-12-06T20:05:09Z'))).toBe('Started 2026-12-07 14:05:09 UTC · built 2026-12-06 20:05:09 UTC (18 h before)');
    expect(startedLine(started, new Date('2026-11-30T14:05:09Z'))).toBe('Started 2026-12-07 14:05:09 UTC · built 2026-11-30 14:05:09 UTC (7 days before)');
    expect(startedLine(started, null)).toBe('Started 2026-12-07 14:05:09 UTC · build time unknown (no built files found)');
  });
});
