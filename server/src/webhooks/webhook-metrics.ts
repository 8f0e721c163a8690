import { Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type Redis from 'ioredis';
import { Counter } from 'prom-client';
import { METRICS, Metrics } from '../metrics/metrics';
import { InjectRedis } from '../redis/redis.module';

const KEY = 'metrics:webhook-delivery-attempts';
export type AttemptOutcome = 'succeeded' | 'retrying' | 'failed';

/**
 * Delivery attempts by outcome. Workers count in Redis (they serve no /metrics); the API exposes
 * the totals of every worker as a Prometheus counter, read at scrape time.
 */
@Injectable()
export class WebhookMetrics implements OnModuleInit {
  constructor(
    @InjectRedis() private readonly redis: Redis,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    let metrics: Metrics;
    try {
      metrics = this.moduleRef.get<Metrics>(METRICS, { strict: false });
    } catch {
      return; // the worker: nothing to expose
    }
    const redis = this.redis;
    new Counter({
      name: 'webhook_delivery_attempts_total',
      help: 'Outbound webhook delivery attempts by outcome (succeeded, retrying: failed with a retry due, failed: no retries left)',
      labelNames: ['outcome'] as const,
      registers: [metrics.registry],
      async collect() {
        const counts = await redis.hgetall(KEY);
        this.reset();
        for (const outcome of ['succeeded', 'retrying', 'failed'] as const) this.inc({ outcome }, Number(counts[outcome] ?? 0));
      },
    });
  }

  async count(outcome: AttemptOutcome): Promise<void> {
    await this.redis.hincrby(KEY, outcome, 1).catch(() => undefined);
  }
}
