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

/** On a client (answers the receivers' count) or a pipeline (queues the command). The run id comes first (finishedRunId). */
export function publishRunFinished<R extends Redis | ChainableCommander>(redis: R, prefix: string, { runId, ...rest }: RunFinished): ReturnType<R['publish']> {
  return redis.publish(`${prefix}:${RUN_FINISHED_CHANNEL}`, JSON.stringify({ runId, ...rest })) as ReturnType<R['publish']>;
}

/**
 * The run a finish message names, read without parsing it: every API process receives every
 * finish (with the whole run when a caller waits) and parses only those it waits for. Null when the
 * message does not start the way publishRunFinished writes it.
 */
export function finishedRunId(message: string): string | null {
  return /^\{"runId":"([^"\\]+)"/.exec(message)?.[1] ?? null;
}

/** Redis channel on which a cancelled run is announced, so the worker executing it stops at once. */
export const RUN_CANCELLED_CHANNEL = 'runs:cancelled';
