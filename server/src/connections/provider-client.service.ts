import { Injectable } from '@nestjs/common';
import { AuthedHttpClient, ConnectorDefinition, decodeBody, encodeBody, HttpRequest, HttpResponse } from '@switchboard/connectors';
import { AppError } from '../common/errors/app-error';
import { deadline } from '../common/net/deadline';
import { createGuardedFetch } from '../common/net/guarded-fetch';
import { OutboundGuard } from '../common/net/outbound-guard';
import { TenantId } from '../common/tenancy/tenant-id';
import { ConnectorConfigsService, ResolvedConnector } from '../connector-configs/connector-configs.service';
import type { Connection, Credentials } from './connection.entity';
import { CredentialsService, Loaded } from './credentials.service';
import { authorizedRequest, refusedToken } from './provider-request';

const REQUEST_TIMEOUT_MS = 30_000;
/** Errors of a request that never left this machine: the provider cannot have seen it. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'EPRIVATE']);
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * What the requests of one step attempt did at the provider, for the engine to decide whether the
 * attempt may be repeated and whether its outcome is known. Updated before each request is sent
 * (so an attempt abandoned mid-call is counted as possibly delivered) and corrected once it is
 * known that the request never connected.
 */
export class DeliveryLog {
  /** A POST/PATCH without an idempotency key the provider honours may have reached the provider. */
  unsafeMaybeDelivered = false;
  /** Requests with an effect (not GET/HEAD) sent and not answered (yet): their outcome is unknown. */
  unanswered = 0;
}

/** An AuthedHttpClient whose requests the caller can abort (a step's timeout, a run's cancel). */
export interface AbortableHttpClient extends AuthedHttpClient {
  request<T = unknown>(request: HttpRequest, signal?: AbortSignal, log?: DeliveryLog): Promise<HttpResponse<T>>;
}

/**
 * The authenticated HTTP client for one connection, used by actions and option sources:
 * credentials injected, private destinations refused, one refresh-and-retry when the provider says
 * the token is bad. It sends each request once: retrying 429/5xx is the caller's decision (a flow
 * step's retry policy), so a down provider is not called attempts × attempts times. An aborted
 * `signal` closes the in-flight request.
 */
@Injectable()
export class ProviderClientService {
  private readonly fetch: ReturnType<typeof createGuardedFetch>;

  constructor(
    private readonly credentials: CredentialsService,
    private readonly configs: ConnectorConfigsService,
    guard: OutboundGuard,
  ) {
    this.fetch = createGuardedFetch(guard);
  }

  /**
   * `resolved`: the connector as ConnectorConfigsService.resolve answered it for this tenant, when
   * the caller already has it (the poller resolves each tenant's connector once per batch).
   * `read`: the connection with its credentials, when the caller read them with its own statement
   * (the worker, with the run it claims).
   */
  async forConnection(
    tenantId: TenantId,
    connectionId: string,
    resolved?: Pick<ResolvedConnector, 'definition'>,
    read?: Loaded,
  ): Promise<{ http: AbortableHttpClient; definition: ConnectorDefinition; connection: Connection }> {
    const loaded = read ? await this.credentials.freshFrom(tenantId, read) : await this.credentials.fresh(tenantId, connectionId);
    const { connection } = loaded;
    const { definition } = resolved ?? (await this.configs.resolve(tenantId, connection.connectorKey, loaded.connectorStamp));
    // The first request uses the credentials just read instead of reading them again.
    let first: typeof loaded | undefined = loaded;
    const http: AbortableHttpClient = {
      request: <T>(request: HttpRequest, signal?: AbortSignal, log?: DeliveryLog) => {
        const preloaded = first;
        first = undefined;
        return this.send<T>(tenantId, connectionId, definition, request, signal, log, preloaded);
      },
    };
    return { http, definition, connection };
  }

  private async send<T>(
    tenantId: TenantId,
    connectionId: string,
    definition: ConnectorDefinition,
    request: HttpRequest,
    signal: AbortSignal | undefined,
    log: DeliveryLog | undefined,
    preloaded?: { connection: Connection; credentials: Credentials },
  ): Promise<HttpResponse<T>> {
    let stale: string | undefined;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const { connection, credentials } = attempt === 0 && preloaded ? preloaded : await this.credentials.fresh(tenantId, connectionId, stale);
      const { url, headers } = authorizedRequest(definition, connection.config, credentials, request);
      const { body, contentType } = encodeBody(request);
      if (contentType && !headers['content-type']) headers['content-type'] = contentType;
      headers['accept'] ??= 'application/json';
      const effectful = !READS.has(request.method);
      const unsafe = (request.method === 'POST' || request.method === 'PATCH') && !(definition.honoursIdempotencyKey && headers['idempotency-key']);
      if (log && effectful) log.unanswered++;
      const wasUnsafe = log?.unsafeMaybeDelivered ?? false;
      if (log && unsafe) log.unsafeMaybeDelivered = true;
      let response: Response;
      const bounded = deadline(REQUEST_TIMEOUT_MS, signal);
      try {
        response = await this.fetch(url, { method: request.method, headers, body, signal: bounded.signal });
      } catch (error) {
        bounded.done();
        const code = (error as { code?: string }).code;
        // Refused before sending (the outbound guard) or never connected: the provider saw nothing.
        const neverSent = (code !== undefined && NEVER_CONNECTED.has(code)) || (error instanceof AppError && error.code === 'forbidden');
        if (log && neverSent) {
          if (effectful) log.unanswered--;
          log.unsafeMaybeDelivered = wasUnsafe;
        }
        if (error instanceof AppError) throw error;
        signal?.throwIfAborted(); // the caller gave up
        if (neverSent) throw new AppError('provider_unreachable', `${definition.name} could not be reached: ${(error as Error).message}`);
        throw new AppError('provider_timeout', `${definition.name} did not answer: ${(error as Error).message}`);
      }
      const data = await decodeBody(response).finally(bounded.done);
      if (log && effectful) log.unanswered--;
      const result: HttpResponse<T> = { status: response.status, headers: Object.fromEntries(response.headers), data: data as T };
      // A 429 is a refusal: the provider did nothing, so the request may be repeated.
      if (log && response.status === 429) log.unsafeMaybeDelivered = wasUnsafe;
      // So is a refused token: the one repeat after a refresh is safe.
      const refused = refusedToken(definition, credentials, result, stale !== undefined);
      if (refused) {
        stale = refused;
        if (log) log.unsafeMaybeDelivered = wasUnsafe;
        continue;
      }
      return result;
    }
  }
}
