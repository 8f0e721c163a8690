import type { PinoLogger } from 'nestjs-pino';
import { queueUnavailable, within } from '../common/errors/dependency-errors';

/** How long an API request waits for Redis after its commit before leaving the rest to the recovery sweep. */
export const AFTER_COMMIT_REDIS_TIMEOUT_MS = 1000;

/**
 * Redis work that follows a PostgreSQL commit (enqueue a job, announce a change). The committed row
 * is the promise made to the caller, so this work is bounded in time and its failure is logged,
 * never the request's: the recovery sweep finds what Redis did not take (job ids are stable, so a
 * late success and the sweep never double anything).
 */
export async function redisAfterCommit(logger: PinoLogger, what: string, context: Record<string, unknown>, work: () => Promise<unknown>): Promise<void> {
  try {
    await within(work(), AFTER_COMMIT_REDIS_TIMEOUT_MS, queueUnavailable);
  } catch (error) {
    logger.warn({ ...context, err: (error as Error).message }, `could not ${what} (Redis); the recovery sweep will`);
  }
}
