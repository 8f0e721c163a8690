import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWithLazyDateFormats, SERVER_NODE_FLAGS } from './process-memory';

/**
 * A fresh Node process (the compiled dist/) that holds ~30 MB and churns through objects that live
 * long enough to reach the old generation, as requests in flight do; answers its peak heap in MB.
 */
function peakHeapMb(lean: boolean, nodeArgs: string[] = []): number {
  const dist = join(__dirname, '..', 'dist', 'process-memory.js');
  const script = `
    if (${lean}) require(${JSON.stringify(dist)}).keepHeapLean();
    const live = [];
    for (let i = 0; i < 300000; i++) live.push({ i, s: 'live' + i });
    const ring = new Array(200000);
    let peak = 0;
    for (let i = 0; i < 2000000; i++) {
      ring[i % ring.length] = { a: i, b: [i] };
      if (i % 50000 === 0) peak = Math.max(peak, process.memoryUsage().heapTotal);
    }
    console.log(Math.round(peak / 1048576), live.length);`;
  const result = spawnSync(process.execPath, [...nodeArgs, '-e', script], { encoding: 'utf8', timeout: 60_000 });
  expect(result.status, result.stderr).toBe(0);
  return Number(result.stdout.split(' ')[0]);
}

/** kB of the node binary's pages (ICU's data is in it) resident after loading @nestjs/common in a fresh process. */
function residentNodeKbAfterNest(lazy: boolean): number {
  const dist = join(__dirname, '..', 'dist', 'process-memory.js');
  const script = `
    const resident = () => require('fs').readFileSync('/proc/self/smaps', 'utf8').split(/\\n(?=[0-9a-f]+-)/)
      .filter((m) => m.split('\\n')[0].endsWith(process.execPath))
      .reduce((kb, m) => kb + Number(/\\nRss:\\s+(\\d+)/.exec(m)[1]), 0);
    const load = async () => require('@nestjs/common');
    (${lazy} ? require(${JSON.stringify(dist)}).loadWithLazyDateFormats(load) : load()).then(() => console.log(resident()));`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000, cwd: __dirname });
  expect(result.status, result.stderr).toBe(0);
  return Number(result.stdout);
}

describe('process memory', () => {
  it('keeps the old generation near what survives instead of letting it grow to several times that', () => {
    const spread = peakHeapMb(false);
    const lean = peakHeapMb(true);
    expect(lean).toBeLessThan(spread * 0.8);
  });

  it("leaves an operator's own --heap-growing-percent alone", () => {
    const theirs = peakHeapMb(true, ['--heap-growing-percent=300']);
    const ours = peakHeapMb(true);
    expect(theirs).toBeGreaterThan(ours * 1.25);
  });

  it('the start scripts pass the same node flags as the demo and the bench', () => {
    const { scripts } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.start).toBe(`node ${SERVER_NODE_FLAGS.api.join(' ')} dist/main.js`);
    expect(scripts['start:worker']).toBe(`node ${SERVER_NODE_FLAGS.worker.join(' ')} dist/worker.js`);
  });

  it("loads Nest without building its logger's date format: ICU's data stays unmapped until a format is used", () => {
    const eager = residentNodeKbAfterNest(false);
    const lazy = residentNodeKbAfterNest(true);
    expect(eager - lazy).toBeGreaterThan(3_000);
  });

  it('a date format built while loading works when used, and the real constructor is back afterwards', async () => {
    const Real = Intl.DateTimeFormat;
    const built = await loadWithLazyDateFormats(async () => new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Tokyo', hour: 'numeric', hourCycle: 'h23' }));
    expect(Intl.DateTimeFormat).toBe(Real);
    expect(built).toBeInstanceOf(Real);
    expect(built.format(new Date('2026-01-01T00:00:00Z'))).toBe('09');
    expect(built.resolvedOptions().timeZone).toBe('Asia/Tokyo');
    await expect(loadWithLazyDateFormats(async () => Promise.reject(new Error('boot failed')))).rejects.toThrow('boot failed');
    expect(Intl.DateTimeFormat).toBe(Real);
  });
});
