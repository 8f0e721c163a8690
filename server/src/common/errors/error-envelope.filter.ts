import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { PinoLogger } from 'nestjs-pino';
import { AppError, ErrorCode } from './app-error';
import { outageError } from './dependency-errors';
import { isUniqueViolation } from './postgres-errors';

export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

/** The envelope, status and headers for any thrown value. One mapping for the filter and the body parser. */
export function toErrorResponse(exception: unknown, req: Request): { error: AppError; body: ErrorEnvelope; errorId?: string } {
  const error = toAppError(exception, req);
  const body: ErrorEnvelope = { error: { code: error.code, message: error.message } };
  if (error.details) body.error.details = error.details;
  if (error.status < 500) return { error, body };
  const errorId = randomUUID();
  body.error.details = { ...body.error.details, errorId };
  return { error, body, errorId };
}

export function sendError(res: Response, response: ReturnType<typeof toErrorResponse>): void {
  if (res.headersSent) return;
  for (const [name, value] of Object.entries(response.error.headers ?? {})) res.setHeader(name, value);
  res.status(response.error.status).json(response.body);
}

function toAppError(exception: unknown, req: Request): AppError {
  if (exception instanceof AppError) return exception;
  // body-parser errors carry a `type`.
  const parserType = (exception as { type?: string } | null)?.type;
  if (parserType === 'entity.parse.failed') {
    return new AppError('malformed_json', `The request body is not valid JSON: ${(exception as Error).message}`);
  }
  if (parserType === 'entity.too.large') {
    const limit = (exception as { limit?: number }).limit;
    return new AppError('payload_too_large', `The request body is larger than the ${limit}-byte limit`, { limit });
  }
  if (parserType === 'encoding.unsupported' || parserType === 'charset.unsupported') {
    return new AppError('unsupported_media_type', (exception as Error).message);
  }
  // PostgreSQL or Redis down: 503 with Retry-After, whichever code path met it.
  const outage = outageError(exception);
  if (outage) return outage;
  // A race the code did not foresee still answers 409, not 500.
  if (isUniqueViolation(exception)) return new AppError('conflict', 'This conflicts with a record that already exists');
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status === 404) return new AppError('route_not_found', `No route ${req.method} ${req.path}`);
    if (status === 405) return new AppError('method_not_allowed', exception.message);
    if (status === 413) return new AppError('payload_too_large', exception.message);
    if (status === 415) return new AppError('unsupported_media_type', exception.message);
    if (status === 401) return new AppError('unauthenticated', exception.message);
    if (status === 403) return new AppError('forbidden', exception.message);
    if (status === 429) return new AppError('rate_limited', exception.message);
    if (status < 500) return new AppError('validation_failed', exception.message);
  }
  return new AppError('internal_error', 'Something went wrong on our side; quote the error id when reporting it');
}

/** Maps every error to `{ error: { code, message, details } }`. 5xx answers carry an error id that is logged. */
@Catch()
export class ErrorEnvelopeFilter implements ExceptionFilter {
  constructor(private readonly logger: PinoLogger) {
    logger.setContext('ErrorEnvelopeFilter');
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const response = toErrorResponse(exception, ctx.getRequest<Request>());
    if (response.errorId) {
      // An outage is one line per request, not a stack trace each: readyz and the dependency's own logs tell the story.
      if (response.error.status === 503)
        this.logger.warn({ err: (exception as Error)?.message, code: response.error.code, errorId: response.errorId }, 'request refused: a dependency is unavailable');
      else this.logger.error({ err: exception, errorId: response.errorId }, 'request failed');
    }
    sendError(ctx.getResponse<Response>(), response);
  }
}
