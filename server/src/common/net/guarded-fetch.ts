import { request as httpRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { AppError } from '../errors/app-error';
import { OutboundGuard } from './outbound-guard';

export interface GuardedRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer | Readable | null;
  signal?: AbortSignal;
  /** Refuse response bodies larger than this many bytes. */
  maxResponseBytes?: number;
}

/**
 * Outbound HTTP on node:http(s) with the private-network guard applied to the address actually
 * connected to. Returns the raw IncomingMessage so callers can stream it.
 */
export function guardedRequest(guard: OutboundGuard, url: URL, init: GuardedRequestInit = {}): Promise<IncomingMessage> {
  guard.assertUrl(url);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: init.method ?? 'GET', headers: init.headers, lookup: guard.lookupFor(port) as never, signal: init.signal }, (res) => {
      const declared = Number(res.headers['content-length'] ?? 0);
      if (init.maxResponseBytes && declared > init.maxResponseBytes) {
        res.destroy();
        return reject(new AppError('payload_too_large', `The provider answered ${declared} bytes; the limit is ${init.maxResponseBytes}`));
      }
      resolve(res);
    });
    req.on('error', reject);
    if (init.body instanceof Readable) init.body.pipe(req);
    else req.end(init.body ?? undefined);
  });
}

/** A fetch-compatible function over guardedRequest (for oauth4webapi's customFetch and the provider client). */
export function createGuardedFetch(guard: OutboundGuard, maxResponseBytes = 10 * 1024 * 1024) {
  return async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => (headers[key] = value));
    const body =
      typeof init.body === 'string'
        ? init.body
        : init.body instanceof URLSearchParams
          ? init.body.toString()
          : init.body == null
            ? null
            : Buffer.from(await new Response(init.body).arrayBuffer());
    const res = await guardedRequest(guard, url, { method: init.method, headers, body, signal: init.signal ?? undefined, maxResponseBytes });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res) {
      size += (chunk as Buffer).length;
      if (size > maxResponseBytes) {
        res.destroy();
        throw new AppError('payload_too_large', `The provider's answer is over the ${maxResponseBytes}-byte limit`);
      }
      chunks.push(chunk as Buffer);
    }
    const responseHeaders = new Headers();
    for (const [key, value] of Object.entries(res.headers)) {
      if (Array.isArray(value)) value.forEach((v) => responseHeaders.append(key, v));
      else if (value !== undefined) responseHeaders.set(key, value);
    }
    const status = res.statusCode ?? 502;
    return new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: responseHeaders });
  };
}
