import { QueryFailedError } from 'typeorm';
import { AppError } from './app-error';

/** How long a caller should wait before trying again while a dependency is down (seconds). */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

// Network failures, from pg or ioredis alike.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// PostgreSQL: connection exceptions (class 08), shutting down or starting up (57P01–57P03), too many connections.
const POSTGRES_OUTAGE = /^(08|57P0[123]|53300)/;
const POSTGRES_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection|the database system is (starting up|shutting down)/i;
const REDIS_MESSAGES =
  /Connection is closed|MaxRetriesPerRequest|Reached the max retries per request|Stream isn't writeable|enableOfflineQueue|Redis (connection|is) (lost|unavailable)/i;

/** A failure of PostgreSQL or Redis itself (unreachable, restarting), not of the query or command: `null` when it is neither. */
export function dependencyOutage(error: unknown): 'database' | 'queue' | null {
  if (error instanceof AppError) return error.code === 'database_unavailable' ? 'database' : error.code === 'queue_unavailable' ? 'queue' : null;
  if (!(error instanceof Error)) return null;
  const driver = error instanceof QueryFailedError ? (error.driverError as { code?: string } | undefined) : undefined;
  if (driver?.code && POSTGRES_OUTAGE.test(driver.code)) return 'database';
  if (error.name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.test(error.message)) return 'queue';
  if (POSTGRES_MESSAGES.test(error.message) || (driver?.code && NETWORK_CODES.has(driver.code))) return 'database';
  // A bare socket error reaching a request comes from PostgreSQL's pool (ioredis reports its own as the errors above).
  const code = (error as { code?: string }).code;
  if (code && NETWORK_CODES.has(code)) return 'database';
  return null;
}

export function databaseUnavailable(): AppError {
  return new AppError(
    'database_unavailable',
    'The database is unavailable; try again shortly',
    { retryAfterSeconds: OUTAGE_RETRY_AFTER_SECONDS },
    { 'Retry-After': String(OUTAGE_RETRY_AFTER_SECONDS) },
  );
}

export function queueUnavailable(): AppError {
  return new AppError(
    'queue_unavailable',
    'The queue (Redis) is unavailable; try again shortly',
    { retryAfterSeconds: OUTAGE_RETRY_AFTER_SECONDS },
    { 'Retry-After': String(OUTAGE_RETRY_AFTER_SECONDS) },
  );
}

/** The outage answer for `error` (a 503 with Retry-After), or null when it is not a dependency outage. */
export function outageError(error: unknown): AppError | null {
  const outage = dependencyOutage(error);
  return outage === 'database' ? databaseUnavailable() : outage === 'queue' ? queueUnavailable() : null;
}

/** Rejects with `onTimeout()` when `promise` has not settled within `ms` (the promise itself goes on). */
export async function within<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(onTimeout()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
