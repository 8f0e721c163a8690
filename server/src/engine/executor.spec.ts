import { describe, expect, it } from 'vitest';
import { idempotencyKeyFor } from './executor';

describe('idempotencyKeyFor', () => {
  const run = '7d0c3f0e-2b1a-4f5e-9c8d-1a2b3c4d5e6f';

  it('names the whole step path, loop indices included', () => {
    expect(idempotencyKeyFor(run, 'outer[1]/inner[0]/create')).toBe(`${run}:outer[1]/inner[0]/create`);
    expect(idempotencyKeyFor(run, 'outer[0]/inner[1]/create')).not.toBe(idempotencyKeyFor(run, 'outer[1]/inner[0]/create'));
  });

  it('hashes paths that would make the key longer than 255 characters, keeping keys distinct and stable', () => {
    const deep = (last: number) => `${Array.from({ length: 30 }, (_, i) => `level${i}[3]`).join('/')}/step[${last}]`;
    const a = idempotencyKeyFor(run, deep(0));
    expect(a.length).toBeLessThanOrEqual(255);
    expect(a.startsWith(`${run}:`)).toBe(true);
    expect(idempotencyKeyFor(run, deep(0))).toBe(a);
    expect(idempotencyKeyFor(run, deep(1))).not.toBe(a);
  });
});
