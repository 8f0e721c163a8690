import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type Redis from 'ioredis';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { InjectRedis } from '../redis/redis.module';
import { RUN_FINISHED_CHANNEL, RunFinished } from './run-events';

/** Lets an API request wait for a run to finish: one Redis subscription per process, many waiters. */
@Injectable()
export class RunWaiter implements OnModuleDestroy {
  private subscriber: Redis | null = null;
  private ready: Promise<unknown> | null = null;
  private readonly waiting = new Map<string, Set<(event: RunFinished) => void>>();

  constructor(
    @InjectRedis() private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private subscribe(): Promise<unknown> {
    if (this.ready) return this.ready;
    this.subscriber = this.redis.duplicate();
    const channel = `${this.config.redis.prefix}:${RUN_FINISHED_CHANNEL}`;
    this.subscriber.on('message', (_: string, message: string) => {
      const event = JSON.parse(message) as RunFinished;
      for (const resolve of [...(this.waiting.get(event.runId) ?? [])]) resolve(event);
    });
    this.ready = this.subscriber.subscribe(channel);
    return this.ready;
  }

  /**
   * Resolves when the run finishes or the timeout passes (null). Call `check` after subscribing to
   * close the gap between "not finished yet" and "subscribed".
   */
  async wait(runId: string, timeoutMs: number, check: () => Promise<boolean>): Promise<RunFinished | null> {
    await this.subscribe();
    return new Promise((resolve) => {
      const forget = () => {
        const set = this.waiting.get(runId);
        set?.delete(done);
        if (set && set.size === 0) this.waiting.delete(runId);
      };
      const timer = setTimeout(() => {
        forget();
        resolve(null);
      }, timeoutMs);
      const done = (event: RunFinished) => {
        clearTimeout(timer);
        forget();
        resolve(event);
      };
      const set = this.waiting.get(runId) ?? new Set();
      set.add(done);
      this.waiting.set(runId, set);
      void check().then((finished) => {
        if (finished) done({ runId, status: 'finished' });
      });
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }
}
