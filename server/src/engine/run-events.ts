import type { ChainableCommander } from 'ioredis';
import type Redis from 'ioredis';

/** Redis channel (under the deployment prefix) on which workers announce finished runs; waiting callers listen. */
export const RUN_FINISHED_CHANNEL = 'runs:finished';

export interface RunFinished {
  runId: string;
  status: string;
  /** The finished run as the API shows it, when a caller waits for it (its job asked: `reply`). */
  run?: unknown;
}

/** On a client (answers the receivers' count) or a pipeline (queues the command). */
export function publishRunFinished<R extends Redis | ChainableCommander>(redis: R, prefix: string, event: RunFinished): ReturnType<R['publish']> {
  return redis.publish(`${prefix}:${RUN_FINISHED_CHANNEL}`, JSON.stringify(event)) as ReturnType<R['publish']>;
}

/** Redis channel on which a cancelled run is announced, so the worker executing it stops at once. */
export const RUN_CANCELLED_CHANNEL = 'runs:cancelled';
