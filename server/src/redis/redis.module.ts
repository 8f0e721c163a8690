import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Broadcasts } from './broadcasts';
import { REDIS } from './redis.token';

export { InjectRedis, REDIS } from './redis.token';

/** One shared connection for everything but Bull (which manages its own); keys live under `<prefix>:`. */
@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        // Commands fail fast while Redis is down (two reconnect attempts), and reconnecting never waits more than a second.
        const redis = new Redis(config.redis.url, {
          keyPrefix: `${config.redis.prefix}:`,
          lazyConnect: false,
          maxRetriesPerRequest: 2,
          retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
        });
        // Connection errors surface where a command fails and in /readyz; unheard, ioredis prints each one to stderr.
        redis.on('error', () => undefined);
        return redis;
      },
    },
    Broadcasts,
  ],
  exports: [REDIS, Broadcasts],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
