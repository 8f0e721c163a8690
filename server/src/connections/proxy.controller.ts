import { All, Controller, Param, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { IncomingMessage } from 'node:http';
import { ApiKeyOrEndUserAuth, CurrentActor, CurrentPrincipal } from '../auth/auth.decorators';
import type { Actor, Principal } from '../auth/principal';
import { AppError } from '../common/errors/app-error';
import { ANY_CONTENT } from '../common/http/openapi';
import { isRetryableStatus } from '../common/http/retry';
import { deadline } from '../common/net/deadline';
import { guardedRequest } from '../common/net/guarded-fetch';
import { OutboundGuard } from '../common/net/outbound-guard';
import { UuidParam } from '../common/http/params';
import { ConnectorConfigsService } from '../connector-configs/connector-configs.service';
import { CredentialsService } from './credentials.service';
import { authorizedRequest, refusedToken } from './provider-request';
import { retryDelayMs } from './retry';

const MAX_ATTEMPTS = 3;
const TIMEOUT_MS = 30_000;
export const PROXY_MAX_REQUEST_BYTES = 10 * 1024 * 1024;
const MAX_RESPONSE_BYTES = 50 * 1024 * 1024;
// Never forwarded: hop-by-hop headers, our own credentials, and what identifies the caller to us.
const DROP_REQUEST_HEADERS = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'authorization',
  'cookie',
  'content-length',
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'forwarded',
  'origin',
  'referer',
]);
const DROP_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'set-cookie', 'content-length', 'trailer', 'upgrade']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/**
 * `/v1/proxy/:connectionId/<path>`: forwards to the provider's API with the connection's
 * credentials. The request body is buffered (capped) so it can be retried; the answer is streamed.
 */
@ApiTags('proxy')
@Controller('v1/proxy')
export class ProxyController {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly configs: ConnectorConfigsService,
    private readonly guard: OutboundGuard,
  ) {}

  @All(':connectionId/*path')
  @ApiKeyOrEndUserAuth()
  @ApiOperation({ summary: "Call the provider's API as the connection: auth injected, retries and refresh handled, answer streamed" })
  @ApiOkResponse({ description: "The provider's answer, its status, headers and body as it sent them", ...ANY_CONTENT })
  async proxy(
    @CurrentActor() actor: Actor,
    @CurrentPrincipal() principal: Principal,
    @Param('connectionId', UuidParam('connectionId')) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    // One read of the connection (with fresh credentials) serves the ownership check and the call.
    const first = await this.credentials.fresh(actor.tenantId, id, undefined, principal.kind === 'end_user' ? principal.endUserId : undefined);
    const connection = first.connection;
    const resolved = await this.configs.resolve(actor.tenantId, connection.connectorKey, first.connectorStamp);
    if (principal.kind === 'end_user' && !resolved.config.settings.endUserProxy) {
      throw new AppError('forbidden', `End users may not use the proxy for ${connection.connectorKey} in this app`);
    }
    const definition = resolved.definition;
    // The path exactly as the caller encoded it, after /v1/proxy/:id.
    const target = new URL(req.originalUrl, 'http://x');
    const path = target.pathname.slice(`/v1/proxy/${id}`.length) || '/';
    const query = Object.fromEntries(target.searchParams);
    const body = await readBody(req);
    const forwarded: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!DROP_REQUEST_HEADERS.has(name) && typeof value === 'string') forwarded[name] = value;
    }
    // A key helps only where the provider de-duplicates by it: Slack ignores one and would post twice.
    const retryable = IDEMPOTENT.has(req.method) || (definition.honoursIdempotencyKey === true && Boolean(req.headers['idempotency-key']));

    let stale: string | undefined;
    for (let attempt = 0; ; attempt++) {
      const { connection: current, credentials } = attempt === 0 ? first : await this.credentials.fresh(actor.tenantId, id, stale);
      const { url, headers } = authorizedRequest(definition, current.config, credentials, { path, query, headers: forwarded });
      if (body.length > 0) headers['content-length'] = String(body.length);
      let upstream: IncomingMessage;
      // Bounds the whole exchange, the streamed answer included; a discarded answer drains under it.
      const bounded = deadline(TIMEOUT_MS);
      try {
        upstream = await guardedRequest(this.guard, url, {
          method: req.method,
          headers,
          body: body.length ? body : null,
          signal: bounded.signal,
          maxResponseBytes: MAX_RESPONSE_BYTES,
        });
      } catch (error) {
        bounded.done();
        if (error instanceof AppError || (error as { code?: string }).code === 'EPRIVATE') throw error instanceof AppError ? error : error;
        if (retryable && attempt + 1 < MAX_ATTEMPTS) {
          await sleep(retryDelayMs(null, attempt));
          continue;
        }
        throw new AppError('provider_timeout', `${definition.name} did not answer: ${(error as Error).message}`);
      }
      const status = upstream.statusCode ?? 502;
      // The statuses the connector says mean "bad token" (401 by default); the body is streamed, not read.
      const refused = refusedToken(definition, credentials, { status, data: undefined }, stale !== undefined);
      if (refused) {
        upstream.resume();
        stale = refused;
        continue;
      }
      // Only requests a repeat cannot duplicate are retried on 5xx; a 429 was refused, so always.
      if ((status === 429 || (isRetryableStatus(status) && retryable)) && attempt + 1 < MAX_ATTEMPTS) {
        upstream.resume();
        await sleep(retryDelayMs(upstream.headers['retry-after'] as string | undefined, attempt));
        continue;
      }
      res.status(status);
      for (const [name, value] of Object.entries(upstream.headers)) {
        if (!DROP_RESPONSE_HEADERS.has(name) && value !== undefined) res.setHeader(name, value);
      }
      res.setHeader('x-switchboard-attempts', String(attempt + 1));
      await forward(upstream, res).finally(bounded.done);
      return;
    }
  }
}

const EMPTY = Buffer.alloc(0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readBody(req: Request): Promise<Buffer> {
  // A request without a body (most proxied calls are GETs) is not iterated.
  if (req.headers['transfer-encoding'] === undefined && (req.headers['content-length'] ?? '0') === '0') return EMPTY;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > PROXY_MAX_REQUEST_BYTES)
      throw new AppError('payload_too_large', `The request body is over the proxy's ${PROXY_MAX_REQUEST_BYTES}-byte limit`, { limit: PROXY_MAX_REQUEST_BYTES });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Answers up to this size with a declared length are sent whole: one write with the headers, no chunked framing. */
const WHOLE_BYTES = 256 * 1024;

/** The provider's answer: sent whole when small and of known length, else streamed (cut past the cap). */
async function forward(upstream: IncomingMessage, res: Response): Promise<void> {
  const declared = Number(upstream.headers['content-length'] ?? NaN);
  if (!(declared <= WHOLE_BYTES)) return pipeCapped(upstream, res);
  const chunks: Buffer[] = [];
  for await (const chunk of upstream) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  res.setHeader('content-length', String(body.length));
  res.end(body);
}

/** Streams the provider's answer; past the cap the response is cut (headers are already sent). */
async function pipeCapped(upstream: IncomingMessage, res: Response): Promise<void> {
  let size = 0;
  for await (const chunk of upstream) {
    size += (chunk as Buffer).length;
    if (size > MAX_RESPONSE_BYTES) {
      upstream.destroy();
      res.destroy(new Error('proxied response over the size cap'));
      return;
    }
    if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
  }
  res.end();
}
