import type { ChainableCommander } from 'ioredis';
import type Redis from 'ioredis';

/**
 * Slots: a sorted set per tenant, member = run id, score = when its lease lapses (Redis clock).
 * Lapsed leases are dropped first, so a crashed worker's slot frees itself. A run already holding a
 * lease (another job of the same run, e.g. a recovery re-enqueue) is refused too: one execution of
 * a run at a time. A job refused because the tenant is at its cap joins the tenant's waiting set
 * (member = job id, score = when it first waited), which releases hand slots out from. Answers 1
 * (acquired), 0 (tenant at its cap), -1 (run executing elsewhere).
 * KEYS: slots, waiting. ARGV: run id, lease ms, cap, job id.
 */
const ACQUIRE_SLOT = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return -1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[2], 'NX', now, ARGV[4])
  redis.call('PEXPIRE', KEYS[2], 86400000)
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[4])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 1`;

const RENEW_SLOT = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 1`;

/** Frees the run's slot and answers the job ids that waited longest for one (to wake them). KEYS: slots, waiting. ARGV: run id, how many. */
const RELEASE_SLOT = `
redis.call('ZREM', KEYS[1], ARGV[1])
local next = redis.call('ZPOPMIN', KEYS[2], tonumber(ARGV[2]))
local ids = {}
for i = 1, #next, 2 do ids[#ids + 1] = next[i] end
return ids`;

/**
 * Generic cell rate algorithm with no burst: each call reserves the next free instant (the
 * "theoretical arrival time") and answers how long to wait for it, so calls through one
 * connection are spaced by `interval` across every worker process, without polling.
 */
const RESERVE_CALL = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
redis.call('SET', KEYS[1], tat + tonumber(ARGV[1]), 'PX', tat - now + tonumber(ARGV[1]) + 1000)
return tat - now`;

interface LimitCommands {
  sbAcquireRunSlot(slots: string, waiting: string, runId: string, leaseMs: number, cap: number, jobId: string): Promise<number>;
  sbRenewRunSlot(key: string, runId: string, leaseMs: number): Promise<number>;
  sbReserveCall(key: string, intervalMs: number): Promise<number>;
}
interface LimitPipeline {
  sbReleaseRunSlot(slots: string, waiting: string, runId: string, count: number): ChainableCommander;
}

/** Wakes waiting jobs; answers those that could not be woken yet (still being postponed), to keep in line. */
export type Wake = (jobIds: string[]) => Promise<string[]>;

export type SlotAnswer = 'acquired' | 'tenant_busy' | 'run_busy';

/** Per-tenant concurrency cap and per-connection request rate, held in Redis so they span every worker. */
export class RunLimiter {
  private readonly redis: Redis & LimitCommands;

  constructor(
    redis: Redis,
    private readonly options: { tenantMaxConcurrentRuns: number; leaseMs: number; rateLimits: boolean },
  ) {
    redis.defineCommand('sbAcquireRunSlot', { numberOfKeys: 2, lua: ACQUIRE_SLOT });
    redis.defineCommand('sbReleaseRunSlot', { numberOfKeys: 2, lua: RELEASE_SLOT });
    redis.defineCommand('sbRenewRunSlot', { numberOfKeys: 1, lua: RENEW_SLOT });
    redis.defineCommand('sbReserveCall', { numberOfKeys: 1, lua: RESERVE_CALL });
    this.redis = redis as Redis & LimitCommands;
  }

  /**
   * Takes one of the tenant's run slots for `runId`, renewed until `release()` is called. A crash
   * stops the renewals, and the lease lapses after `leaseMs`. Over the cap, `jobId` waits in line:
   * the release of a slot answers the longest-waiting job ids to `wake`.
   */
  async acquire(
    tenantId: string,
    runId: string,
    jobId: string,
    wake: Wake,
  ): Promise<{ answer: SlotAnswer; release: (also?: (batch: ChainableCommander) => void) => Promise<void> }> {
    const slots = `engine:slots:${tenantId}`;
    const waiting = `engine:waiting:${tenantId}`;
    const got = await this.redis.sbAcquireRunSlot(slots, waiting, runId, this.options.leaseMs, this.options.tenantMaxConcurrentRuns, jobId);
    if (got !== 1) return { answer: got === 0 ? 'tenant_busy' : 'run_busy', release: async () => undefined };
    const renew = setInterval(() => void this.redis.sbRenewRunSlot(slots, runId, this.options.leaseMs).catch(() => undefined), Math.floor(this.options.leaseMs / 3));
    renew.unref();
    return {
      answer: 'acquired',
      // `also` adds commands to the same round trip (a socket write costs more than the command).
      release: async (also) => {
        clearInterval(renew);
        // One in line per freed slot (a woken job that finds the slot taken simply waits again).
        const batch = (this.redis.pipeline() as ChainableCommander & LimitPipeline).sbReleaseRunSlot(slots, waiting, runId, 1);
        also?.(batch);
        const results = await batch.exec().catch(() => null);
        const next = (results?.[0]?.[1] as string[] | undefined) ?? [];
        if (next.length === 0) return;
        // Not awaited: the releasing job completes at once; waking is best effort (each waiting
        // job also comes back by itself after a lease period).
        void wake(next)
          .then((notYet) => (notYet.length > 0 ? this.redis.zadd(waiting, ...notYet.flatMap((id) => [0, id])) : undefined))
          .catch(() => undefined);
      },
    };
  }

  /** Resolves when one more call through this connection fits its rate (immediately without a rate). */
  async throttle(connectionId: string, requestsPerSecond: number | undefined, signal: AbortSignal): Promise<void> {
    if (!this.options.rateLimits || !requestsPerSecond) return;
    const wait = await this.redis.sbReserveCall(`engine:rate:${connectionId}`, Math.ceil(1000 / requestsPerSecond));
    if (wait <= 0) return;
    // Cancelled while the reservation was being made: no listener would ever fire.
    if (signal.aborted) throw signal.reason;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, wait);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
