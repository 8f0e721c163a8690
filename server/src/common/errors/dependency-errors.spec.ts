import Redis from 'ioredis';
import { createServer } from 'node:net';
import { Client } from 'pg';
import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { AppError } from './app-error';
import { dependencyOutage, outageError } from './dependency-errors';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('dependencyOutage', () => {
  it('names PostgreSQL for the errors pg gives when the server is unreachable or going away', async () => {
    const client = new Client({ host: '127.0.0.1', port: await closedPort(), user: 'x', connectionTimeoutMillis: 1000 });
    const refused = await client.connect().then(
      () => null,
      (e: unknown) => e,
    );
    expect(dependencyOutage(refused)).toBe('database');
    const shutdown = new QueryFailedError('SELECT 1', [], Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }));
    expect(dependencyOutage(shutdown)).toBe('database');
    expect(dependencyOutage(new Error('Connection terminated unexpectedly'))).toBe('database');
    expect(dependencyOutage(new Error('timeout exceeded when trying to connect'))).toBe('database');
  });

  it('names the queue for the errors ioredis gives while Redis is unreachable', async () => {
    const redis = new Redis({ host: '127.0.0.1', port: await closedPort(), maxRetriesPerRequest: 1, retryStrategy: () => 20 });
    redis.on('error', () => undefined);
    const failed = await redis.ping().then(
      () => null,
      (e: unknown) => e,
    );
    redis.disconnect();
    expect(dependencyOutage(failed)).toBe('queue');
    expect(dependencyOutage(new Error('Connection is closed.'))).toBe('queue');
  });

  it('leaves every other error alone: bad queries, our own errors, bugs', () => {
    expect(dependencyOutage(new QueryFailedError('INSERT', [], Object.assign(new Error('duplicate key'), { code: '23505' })))).toBeNull();
    expect(dependencyOutage(new QueryFailedError('SELECT', [], Object.assign(new Error('syntax error'), { code: '42601' })))).toBeNull();
    expect(dependencyOutage(new AppError('not_found', 'x'))).toBeNull();
    expect(dependencyOutage(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBeNull();
    expect(dependencyOutage('a string')).toBeNull();
  });

  it('answers 503 with Retry-After and the code', () => {
    const error = outageError(new Error('Connection terminated unexpectedly'))!;
    expect({ status: error.status, code: error.code, headers: error.headers }).toEqual({ status: 503, code: 'database_unavailable', headers: { 'Retry-After': '5' } });
    expect(outageError(new Error('Connection is closed.'))!.code).toBe('queue_unavailable');
  });
});
