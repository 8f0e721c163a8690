import { Inject, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { FailedAttemptsModule } from '../auth/failed-attempt-throttle';
import { MetricsController } from './metrics.controller';
import { createMetrics, METRICS, Metrics } from './metrics';

@Module({
  imports: [FailedAttemptsModule],
  controllers: [MetricsController],
  providers: [{ provide: METRICS, useFactory: createMetrics }],
})
export class MetricsModule implements NestModule {
  constructor(@Inject(METRICS) private readonly metrics: Metrics) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply((req: Request, res: Response, next: NextFunction) => {
        const end = this.metrics.httpDuration.startTimer();
        res.on('finish', () => {
          // The route template (/v1/admin/members/:id, /v1/proxy/:connectionId/*path), never the raw
          // path, keeps label cardinality bounded. Nest answers unknown paths from a route that is
          // nothing but a wildcard; count those as one label.
          const path: unknown = req.route?.path;
          const route = typeof path === 'string' && !/^\/?\{?\*/.test(path) ? `${req.baseUrl}${path}` : 'unmatched';
          end({ method: req.method, route, status: String(res.statusCode) });
        });
        next();
      })
      .forRoutes('*path');
  }
}
