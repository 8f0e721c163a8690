import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS } from './process-memory';

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
});
