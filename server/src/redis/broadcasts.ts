import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type Redis from 'ioredis';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { InjectRedis } from './redis.token';

/**
 * Messages every process hears at once (Redis pub/sub under the key prefix): a run cancelled, a
 * cache entry to drop. One subscriber connection per process, opened on the first `on()`. Without
 * Redis nothing is heard; each user says what then bounds the delay (a checkpoint, a TTL).
 */
@Injectable()
export class Broadcasts implements OnApplicationBootstrap, OnModuleDestroy {
  private subscriber: Redis | null = null;
  private readonly handlers = new Map<string, Array<(message: string) => void>>();
  private readonly subscribing: Array<Promise<unknown>> = [];

  constructor(
    @InjectRedis() private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Calls `handler` with every message published on `channel` from now on (by any process). */
  on(channel: string, handler: (message: string) => void): void {
    const name = this.name(channel);
    const first = !this.handlers.has(name);
    this.handlers.set(name, [...(this.handlers.get(name) ?? []), handler]);
    if (!this.subscriber) {
      this.subscriber = this.redis.duplicate();
      this.subscriber.on('error', () => undefined); // reconnects by itself; readyz reports the outage
      this.subscriber.on('message', (heard: string, message: string) => {
        for (const h of this.handlers.get(heard) ?? []) h(message);
      });
      // (Re)subscribes to every channel each time the connection is ready; subscribing again is harmless.
      this.subscriber.on('ready', () => void this.subscriber?.subscribe(...this.handlers.keys()).catch(() => undefined));
    }
    if (first) this.subscribing.push(this.subscriber.subscribe(name).catch(() => undefined));
  }

  /**
   * The process is ready once its subscriptions are (so an announcement made after it answers is
   * heard), or after a second when Redis is away: that never holds the boot up.
   */
  async onApplicationBootstrap(): Promise<void> {
    await Promise.race([Promise.all(this.subscribing), new Promise((r) => setTimeout(r, 1000).unref())]);
  }

  /** Publishes to every process's handlers of `channel`; false when Redis did not take it. */
  publish(channel: string, message: string): Promise<boolean> {
    return this.redis.publish(this.name(channel), message).then(
      () => true,
      () => false,
    );
  }

  private name(channel: string): string {
    return `${this.config.redis.prefix}:${channel}`;
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }
}
