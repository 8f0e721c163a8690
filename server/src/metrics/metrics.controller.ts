import { Controller, Get, Headers, Header, Inject, Req } from '@nestjs/common';
import type { Request } from 'express';
import { ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bull';
import { ApiExcludeController } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { acrossTenants } from '../common/tenancy/tenant-sql';
import { DataSource } from 'typeorm';
import type { Queue } from 'bull';
import { timingSafeEqual } from 'node:crypto';
import { Public } from '../auth/auth.decorators';
import { FailedAttemptThrottle } from '../auth/failed-attempt-throttle';
import { AppError } from '../common/errors/app-error';
import { databaseUnavailable, queueUnavailable, within } from '../common/errors/dependency-errors';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ALL_QUEUES } from '../queues/queues.module';
import { METRICS, Metrics } from './metrics';

const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'paused'] as const;

/**
 * Prometheus scrape endpoint; set METRICS_TOKEN to require `Authorization: Bearer <token>`. Without a
 * token it is public outside production and refused in production unless METRICS_PUBLIC=true.
 */
@ApiExcludeController()
@Controller('metrics')
@Public()
export class MetricsController {
  constructor(
    @Inject(METRICS) private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly moduleRef: ModuleRef,
    private readonly throttle: FailedAttemptThrottle,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(@Headers('authorization') authorization: string | undefined, @Req() req: Request): Promise<string> {
    if (this.config.metricsToken) {
      const expected = Buffer.from(`Bearer ${this.config.metricsToken}`);
      // A wrong token is a guess at an operator-chosen secret: throttled per IP like every other credential.
      const ok = await this.throttle.guard('metrics_token', req.ip, async () => {
        const given = Buffer.from(authorization ?? '');
        return given.length === expected.length && timingSafeEqual(given, expected) ? true : authorization ? null : false;
      });
      if (!ok) throw new AppError('unauthenticated', 'Metrics need "Authorization: Bearer <METRICS_TOKEN>"');
    } else if (!this.config.metricsPublic) {
      throw new AppError('forbidden', 'Metrics are off: set METRICS_TOKEN (or METRICS_PUBLIC=true to serve them to anyone)');
    }
    // Redis down: the queue gauges are left out (not zeroed, not waited for); every other metric still answers.
    await Promise.all(
      ALL_QUEUES.map(async (name) => {
        const counts = await within(this.moduleRef.get<Queue>(getQueueToken(name), { strict: false }).getJobCounts(), 1000, queueUnavailable).catch(() => null);
        if (!counts) {
          for (const state of JOB_STATES) this.metrics.queueJobs.remove({ queue: name, state });
          return;
        }
        for (const state of JOB_STATES) this.metrics.queueJobs.set({ queue: name, state }, (counts as unknown as Record<string, number>)[state] ?? 0);
      }),
    );
    // PostgreSQL down: the token totals are left out, like the queue gauges.
    const [tokens] = await within(
      acrossTenants(
        this.db,
        'deployment-wide totals',
        `SELECT coalesce(sum(input_tokens), 0) AS input, coalesce(sum(output_tokens), 0) AS output, coalesce(sum(model_calls), 0) AS calls FROM token_usage`,
      ),
      1000,
      databaseUnavailable,
    ).catch(() => [null]);
    if (tokens) {
      this.metrics.llmTokens.set({ direction: 'input' }, Number(tokens.input));
      this.metrics.llmTokens.set({ direction: 'output' }, Number(tokens.output));
      this.metrics.llmCalls.set(Number(tokens.calls));
    } else {
      this.metrics.llmTokens.reset();
      this.metrics.llmCalls.reset();
    }
    return this.metrics.registry.metrics();
  }
}
