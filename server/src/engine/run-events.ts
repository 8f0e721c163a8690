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
