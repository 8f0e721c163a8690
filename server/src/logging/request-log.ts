import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const UNLOGGED = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One JSON line per request, when its answer is sent, with the request id and, once authenticated,
 * the tenant id. One child logger per request, made here: pino-http made two to four, and a child
 * of a child costs ten times a child of the root (docs/decisions.md, "the HTTP stack").
 */
export function requestLog(root: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    // Honour a caller's request id when it is sane, so traces join up across services.
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    req.id = id;
    res.setHeader('x-request-id', id);
    // The request's own logger: nestjs-pino's PinoLogger logs through it while the request is handled.
    const log = root.child({ req: { id, method: req.method, url: req.url } });
    req.log = log;
    if (UNLOGGED.has(req.url)) return next();
    const started = performance.now();
    let logged = false;
    const done = () => {
      if (logged) return;
      logged = true;
      const responseTime = Math.round(performance.now() - started);
      if (res.statusCode >= 500) log.error({ res: { statusCode: res.statusCode }, responseTime }, 'request errored');
      else log.info({ res: { statusCode: res.statusCode }, responseTime }, res.writableFinished ? 'request completed' : 'request aborted');
    };
    res.once('finish', done);
    res.once('close', done);
    next();
  };
}

/** Names the tenant on every later line of this request, the request's own line included. */
export function logTenant(req: { log?: Logger }, tenantId: string): void {
  req.log?.setBindings({ tenantId });
}
