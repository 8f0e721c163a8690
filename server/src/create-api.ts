import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import compression from 'compression';
import cookieParser from 'cookie-parser';
import express, { NextFunction, Request, Response } from 'express';
import { Logger } from 'nestjs-pino';
import { ApiModule, ApiOptions } from './api.module';
import { AppError } from './common/errors/app-error';
import { sendError, toErrorResponse } from './common/errors/error-envelope.filter';
import { findUnstorable, invalidInput, jsonTooDeep, MAX_API_JSON_DEPTH, tooDeep } from './common/http/hostile-input';
import { setupOpenApi } from './common/http/openapi';
import { securityHeaders } from './common/http/security-headers';
import { createValidationPipe } from './common/http/validation.pipe';
import type { AppConfig } from './config/app-config';
import { ROOT_LOGGER } from './logging/logging.module';
import { requestLog } from './logging/request-log';

const JSON_TYPES = ['application/json', 'application/*+json'];
/** Responses worth compressing: the embed scripts and logos, and the catalogue lists. */
const COMPRESSED = /^\/(embed\/v1\/|v1\/me\/integrations$|v1\/admin\/connectors$)/;
const TOO_DEEP = 'entity.too.deep';

/** Builds the API application (not yet listening). main.ts and the tests boot it the same way. */
export async function createApi(config: AppConfig, options: ApiOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(config, options), {
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  app.enableShutdownHooks();
  app.use(requestLog(app.get(ROOT_LOGGER)));
  app.use(cookieParser());
  app.use(securityHeaders(config));
  // The widget's files and the connector catalogue lists grow with the catalogue and compress ten
  // to one (bench/catalogue.mjs: 160 connectors, 45 KB of JSON → 3.5 KB). Not everything: the
  // proxy and webhook triggers pass bytes through as they are.
  // Applied only there: compression wraps every write of an answer it is given, even one it then
  // leaves as it is.
  const compress = compression();
  app.use((req: Request, res: Response, next: NextFunction) => (COMPRESSED.test(req.path) ? compress(req, res, next) : next()));

  // JSON only: a body of any other type is refused (which also stops form-based CSRF at the door).
  // Exceptions: the connect popup's credentials form (a token-bearing form post), the proxy, which
  // forwards bodies as they are, and webhook triggers, which read the raw body themselves
  // (signatures cover the exact bytes; senders post JSON, forms or text).
  // Nesting is measured on the raw bytes before parsing (a megabyte of `[` would otherwise cost
  // seconds and overflow recursive code later); what PostgreSQL cannot store is refused after it.
  const json = express.json({
    limit: config.bodyLimit,
    type: JSON_TYPES,
    verify: (_req, _res, raw) => {
      if (jsonTooDeep(raw, MAX_API_JSON_DEPTH)) throw Object.assign(new Error('too deep'), { type: TOO_DEEP });
    },
  });
  const form = express.urlencoded({ limit: '32kb', extended: false });
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.path.startsWith('/v1/proxy/') || req.path.startsWith('/v1/hooks/')) return next();
    const hasBody = req.headers['content-length'] !== '0' && Boolean(req.headers['content-length'] || req.headers['transfer-encoding']);
    const parse = req.path.startsWith('/connect/') && req.is('application/x-www-form-urlencoded') ? form : json;
    if (hasBody && parse === json && !req.is(JSON_TYPES)) {
      const given = req.headers['content-type'] ?? 'none';
      return sendError(res, toErrorResponse(new AppError('unsupported_media_type', `Send JSON with Content-Type: application/json (got ${given})`), req));
    }
    parse(req, res, (error?: unknown) => {
      if ((error as { type?: string } | undefined)?.type === TOO_DEEP) error = tooDeep(MAX_API_JSON_DEPTH);
      else if (!error && req.body !== undefined) {
        const problems = findUnstorable(req.body);
        if (problems.length > 0) error = invalidInput(problems);
      }
      return error ? sendError(res, toErrorResponse(error, req)) : next();
    });
  });

  app.useGlobalPipes(createValidationPipe());
  setupOpenApi(app, process.env.npm_package_version ?? '0.1.0');
  return app;
}
