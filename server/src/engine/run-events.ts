import type Redis from 'ioredis';

/** Redis channel (under the deployment prefix) on which workers announce finished runs; waiting callers listen. */
export const RUN_FINISHED_CHANNEL = 'runs:finished';

export interface RunFinished {
  runId: string;
  status: string;
}

export function publishRunFinished(redis: Redis, prefix: string, event: RunFinished): Promise<number> {
  return redis.publish(`${prefix}:${RUN_FINISHED_CHANNEL}`, JSON.stringify(event));
}

/** Redis channel on which a cancelled run is announced, so the worker executing it stops at once. */
export const RUN_CANCELLED_CHANNEL = 'runs:cancelled';

export function publishRunCancelled(redis: Redis, prefix: string, runId: string): Promise<number> {
  return redis.publish(`${prefix}:${RUN_CANCELLED_CHANNEL}`, runId);
}
