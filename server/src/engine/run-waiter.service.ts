import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type Redis from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { InjectRedis } from '../redis/redis.module';
import { finishedRunId, RUN_FINISHED_CHANNEL, RunFinished } from './run-events';

/** How long subscribing may take before a waiting caller stops waiting (Redis down). */
const SUBSCRIBE_TIMEOUT_MS = 2000;

/** Lets an API request wait for a run to finish: one Redis subscription per process, many waiters. */
@Injectable()
export class RunWaiter implements OnModuleDestroy {
  private subscriber: Redis | null = null;
  private ready: Promise<unknown> | null = null;
  /** The subscription was confirmed once (ioredis renews it on every reconnect). */
  private subscribed = false;
  private readonly waiting = new Map<string, Set<(event: RunFinished) => void>>();

  constructor(
    @InjectRedis() private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('RunWaiter');
  }

  private subscribe(): Promise<unknown> {
    if (this.ready) return this.ready;
    const channel = `${this.config.redis.prefix}:${RUN_FINISHED_CHANNEL}`;
    if (!this.subscriber) {
      this.subscriber = this.redis.duplicate();
      this.subscriber.on('error', () => undefined); // reconnects (and resubscribes) by itself; readyz reports the outage
      this.subscriber.on('message', (_: string, message: string) => {
        const runId = finishedRunId(message);
        if (runId !== null && !this.waiting.has(runId)) return;
        let event: RunFinished;
        try {
          event = JSON.parse(message) as RunFinished;
        } catch {
          return this.logger.warn({ channel }, 'ignored a malformed run-finished message');
        }
        for (const resolve of [...(this.waiting.get(event.runId) ?? [])]) resolve(event);
      });
    }
    // A failed subscription is tried again by the next caller, not remembered forever.
    this.ready = this.subscriber.subscribe(channel).then(
      () => (this.subscribed = true),
      (error: unknown) => {
        this.ready = null;
        throw error;
      },
    );
    return this.ready;
  }

  /**
   * Resolves when the run finishes or the timeout passes (null). Call `check` after subscribing to
   * close the gap between "not finished yet" and "subscribed". Without Redis the wait falls back to
   * `check` alone at the end of the timeout; a failing `check` (PostgreSQL down) rejects the wait.
   */
  async wait(runId: string, timeoutMs: number, check: () => Promise<boolean>): Promise<RunFinished | null> {
    const subscribed = await Promise.race([
      this.subscribe().then(
        () => true,
        () => false,
      ),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), Math.min(SUBSCRIBE_TIMEOUT_MS, timeoutMs)).unref()),
    ]);
    if (!subscribed) return (await check()) ? { runId, status: 'finished' } : null;
    return new Promise((resolve, reject) => {
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
      check().then(
        (finished) => finished && done({ runId, status: 'finished' }),
        (error: unknown) => {
          clearTimeout(timer);
          forget();
          reject(error);
        },
      );
    });
  }

  /**
   * Listens for the finish of a run that has not been written yet (its id chosen by the caller), so
   * the finish cannot come before the listening and no check is needed. Null when this process is
   * not subscribed (Redis down): then use wait() with a check.
   */
  listen(runId: string): { finished(timeoutMs: number): Promise<RunFinished | null>; stop(): void } | null {
    if (!this.subscribed || this.subscriber?.status !== 'ready') {
      void this.subscribe().catch(() => undefined);
      return null;
    }
    let heard: RunFinished | null = null;
    let settle: ((event: RunFinished | null) => void) | null = null;
    const done = (event: RunFinished) => {
      stop();
      heard = event;
      settle?.(event);
    };
    const stop = () => {
      const set = this.waiting.get(runId);
      set?.delete(done);
      if (set && set.size === 0) this.waiting.delete(runId);
    };
    this.waiting.set(runId, (this.waiting.get(runId) ?? new Set()).add(done));
    return {
      stop,
      finished: (timeoutMs) =>
        heard
          ? Promise.resolve(heard)
          : new Promise((resolve) => {
              const timer = setTimeout(() => {
                stop();
                resolve(null);
              }, timeoutMs);
              settle = (event) => {
                clearTimeout(timer);
                resolve(event);
              };
            }),
    };
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }
}
