import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunLimiter } from './run-limits';

/** Against the real Redis, under a key prefix of its own. */
describe('RunLimiter', () => {
  let redis: Redis;
  let limiter: RunLimiter;
  const prefix = `sbunit:${randomBytes(4).toString('hex')}:`;

  beforeAll(async () => {
    redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', { keyPrefix: prefix, lazyConnect: true });
    await redis.connect();
    limiter = new RunLimiter(redis, { tenantMaxConcurrentRuns: 2, leaseMs: 10_000, rateLimits: true });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys.map((k) => k.slice(prefix.length)));
    await redis.quit();
  });

  it("caps a tenant's runs at once, refuses a run already executing, and wakes the longest-waiting job on release", async () => {
    const woken: string[][] = [];
    const wake = async (ids: string[]) => {
      woken.push(ids);
      return [];
    };
    const a = await limiter.acquire('t1', 'run-a', 'job-a', wake);
    const b = await limiter.acquire('t1', 'run-b', 'job-b', wake);
    expect([a.answer, b.answer]).toEqual(['acquired', 'acquired']);
    expect((await limiter.acquire('t1', 'run-c', 'job-c', wake)).answer).toBe('tenant_busy');
    expect((await limiter.acquire('t1', 'run-d', 'job-d', wake)).answer).toBe('tenant_busy');
    expect((await limiter.acquire('t1', 'run-a', 'job-a2', wake)).answer).toBe('run_busy');
    // Another tenant has slots of its own.
    expect((await limiter.acquire('t2', 'run-x', 'job-x', wake)).answer).toBe('acquired');

    await a.release();
    await new Promise((r) => setTimeout(r, 50));
    expect(woken).toEqual([['job-c']]);
    expect((await limiter.acquire('t1', 'run-c', 'job-c', wake)).answer).toBe('acquired');
  });

  it('paces calls through one connection at its rate, and a cancelled wait rejects', async () => {
    const signal = new AbortController().signal;
    await limiter.throttle('conn-1', 2, signal); // the first call goes at once
    let second = false;
    const pending = limiter.throttle('conn-1', 2, signal).then(() => (second = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(second).toBe(false); // 2/s: the next slot is ~500 ms after the first
    await pending;
    expect(second).toBe(true);

    const cancel = new AbortController();
    const waiting = limiter.throttle('conn-1', 2, cancel.signal);
    cancel.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    // Without a declared rate, nothing waits.
    await expect(limiter.throttle('conn-2', undefined, signal)).resolves.toBeUndefined();
  });
});
