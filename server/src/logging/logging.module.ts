import { DynamicModule, Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { AppConfig } from '../config/app-config';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** pino JSON logs; every request line carries the request id and, once authenticated, the tenant id. */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig, destination?: DestinationStream): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: [
            {
              level: config.logLevel,
              // Honour a caller's request id when it is sane, so traces join up across services.
              genReqId: (req: IncomingMessage, res: ServerResponse) => {
                const given = req.headers['x-request-id'];
                const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
                res.setHeader('x-request-id', id);
                return id;
              },
              autoLogging: { ignore: (req: IncomingMessage) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? '') },
              // Nothing (not {}) before authentication: pino-http makes a child logger for any object.
              customProps: (req: IncomingMessage) => {
                const tenantId = (req as IncomingMessage & { tenantId?: string }).tenantId;
                return (tenantId ? { tenantId } : undefined) as { tenantId: string };
              },
              redact: {
                paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.password', '*.secret'],
                censor: '[redacted]',
              },
              serializers: {
                // Query strings may carry tokens (e.g. a connect session); log the path only, and
                // not the secret token of a webhook trigger URL (/v1/hooks/<token>).
                req: (req: { id: string; method: string; url: string }) => ({
                  id: req.id,
                  method: req.method,
                  path: req.url.split('?')[0].replace(/^\/v1\/hooks\/[^/]+/, '/v1/hooks/[redacted]'),
                }),
                res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
              },
            },
            destination as DestinationStream,
          ].filter(Boolean) as never,
        }),
      ],
    };
  }
}
