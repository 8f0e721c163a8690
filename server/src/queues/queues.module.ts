import { BullModule } from '@nestjs/bull';
import { Global, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

/** Every queue by name. Jobs carry ids only; state lives in PostgreSQL. */
export const QUEUES = {
  maintenance: 'maintenance',
  runs: 'runs',
  webhooks: 'webhooks',
} as const;

export const ALL_QUEUES = Object.values(QUEUES);

@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        redis: config.redis.url,
        prefix: `${config.redis.prefix}:bull`,
        defaultJobOptions: { removeOnComplete: 1000, removeOnFail: 5000 },
        // A killed worker's jobs come back after the lock lapses; delivery is at-least-once, so a
        // job may stall more than once without being given up (runs resume from checkpoints).
        settings: { lockDuration: config.queue.lockDurationMs, stalledInterval: config.queue.stalledIntervalMs, maxStalledCount: 100 },
      }),
    }),
    BullModule.registerQueue(...ALL_QUEUES.map((name) => ({ name }))),
  ],
  exports: [BullModule],
})
export class QueuesModule {}
