import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino, { DestinationStream, Logger, LoggerOptions } from 'pino';
import type { AppConfig } from '../config/app-config';

/**
 * The process's pino logger. Query strings may carry tokens (e.g. a connect session): a request is
 * logged by its path only, and without the secret token of a webhook trigger URL (/v1/hooks/<token>).
 */
function rootLogger(config: AppConfig, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: config.logLevel,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.password', '*.secret'], censor: '[redacted]' },
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        path: String(req.url)
          .split('?')[0]
          .replace(/^\/v1\/hooks\/[^/]+/, '/v1/hooks/[redacted]'),
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** The process's root logger, for the request log middleware. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/** pino JSON logs; every request line carries the request id and, once authenticated, the tenant id. */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig, destination?: DestinationStream): DynamicModule {
    const root = rootLogger(config, destination);
    return {
      module: LoggingModule,
      // The request's logger is made by requestLog (create-api.ts); nestjs-pino only carries it.
      imports: [LoggerModule.forRoot({ pinoHttp: { logger: root }, useExisting: true })],
      providers: [{ provide: ROOT_LOGGER, useValue: root }],
      exports: [ROOT_LOGGER],
    };
  }
}
