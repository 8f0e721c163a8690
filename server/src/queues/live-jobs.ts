import type { Queue } from 'bull';
import type Redis from 'ioredis';

/**
 * Whether a job is live: its hash holds data and it sits in the wait, active, paused or delayed
 * list. Anything else (no hash, a hash without data, finished, or a hash no list holds, as a
 * Redis failure can leave behind) is cleared, so the job can be created again under its id.
 * Answers 1 (live) or 0 (cleared).
 * KEYS: wait, active, paused, delayed, priority, completed, failed, job hash, job lock. ARGV: job id.
 */
const LIVE_OR_CLEAR = `
local id = ARGV[1]
if redis.call('HEXISTS', KEYS[8], 'data') == 1 then
  -- Cheapest first; the oldest jobs sit at the tail of the wait list (LPUSH in, pop from the right), so search from there.
  if redis.call('ZSCORE', KEYS[4], id) or redis.call('LPOS', KEYS[2], id) or redis.call('LPOS', KEYS[1], id, 'RANK', -1) or redis.call('LPOS', KEYS[3], id, 'RANK', -1) then
    return 1
  end
end
redis.call('LREM', KEYS[1], 0, id)
redis.call('LREM', KEYS[2], 0, id)
redis.call('LREM', KEYS[3], 0, id)
redis.call('ZREM', KEYS[4], id)
redis.call('ZREM', KEYS[5], id)
redis.call('ZREM', KEYS[6], id)
redis.call('ZREM', KEYS[7], id)
redis.call('DEL', KEYS[8], KEYS[9])
return 0`;

type LiveJobsClient = Redis & { sbLiveOrClear(...keysThenId: string[]): Promise<number> };

/**
 * Whether job `jobId` of `queue` is live; when it is not, whatever Redis kept under its id is
 * cleared, so `queue.add` with the same id creates it again (Bull ignores an add whose id exists).
 * The recovery sweeps decide what should exist from PostgreSQL and use this for the rest.
 */
export async function liveOrClear(queue: Queue, jobId: string): Promise<boolean> {
  const client = queue.client as LiveJobsClient;
  if (!client.sbLiveOrClear) client.defineCommand('sbLiveOrClear', { numberOfKeys: 9, lua: LIVE_OR_CLEAR });
  const keys = ['wait', 'active', 'paused', 'delayed', 'priority', 'completed', 'failed', jobId, `${jobId}:lock`].map((k) => queue.toKey(k));
  return (await client.sbLiveOrClear(...keys, jobId)) === 1;
}
