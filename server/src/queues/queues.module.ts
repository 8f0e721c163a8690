import { BullModule } from '@nestjs/bull';
import { Global, Module } from '@nestjs/common';
import type { RedisOptions } from 'ioredis';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { RepeatingJobs } from './repeating-jobs';

/** Every queue by name. Jobs carry ids only; state lives in PostgreSQL. */
export const QUEUES = {
  maintenance: 'maintenance',
  runs: 'runs',
  webhooks: 'webhooks',
  alerts: 'alerts',
} as const;

export const ALL_QUEUES = Object.values(QUEUES);

/**
 * Bull's default reconnect backoff grows to 20 s, so after a Redis restart the queues could stay
 * deaf for that long; reconnect every second at most instead.
 */
const reconnectDelay = (attempt: number) => Math.min(100 * attempt, 1000);

/** Bull takes either a URL or options, not both: the URL's parts as ioredis options. */
function bullRedisOptions(url: string): RedisOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    db: Number(parsed.pathname.slice(1) || 0),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        redis: { ...bullRedisOptions(config.redis.url), retryStrategy: reconnectDelay },
        prefix: `${config.redis.prefix}:bull`,
        defaultJobOptions: { removeOnComplete: 1000, removeOnFail: 5000 },
        // A killed worker's jobs come back after the lock lapses; delivery is at-least-once, so a
        // job may stall more than once without being given up (runs resume from checkpoints).
        settings: { lockDuration: config.queue.lockDurationMs, stalledInterval: config.queue.stalledIntervalMs, maxStalledCount: 100 },
      }),
    }),
    BullModule.registerQueue(...ALL_QUEUES.map((name) => ({ name }))),
  ],
  providers: [RepeatingJobs],
  exports: [BullModule, RepeatingJobs],
})
export class QueuesModule {}
