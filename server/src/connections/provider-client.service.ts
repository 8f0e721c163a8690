import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  applyCredentials,
  AuthedHttpClient,
  ConnectorDefinition,
  decodeBody,
  encodeBody,
  HttpRequest,
  HttpResponse,
  isAuthFailure,
  resolveUrl,
  withConfigDefaults,
} from '@switchboard/connectors';
import { AppError } from '../common/errors/app-error';
import { createGuardedFetch } from '../common/net/guarded-fetch';
import { OutboundGuard } from '../common/net/outbound-guard';
import { TenantId } from '../common/tenancy/tenant-id';
import { ConnectorConfigsService } from '../connector-configs/connector-configs.service';
import type { Connection, Credentials } from './connection.entity';
import { CredentialsService } from './credentials.service';
import { retryDelayMs } from './retry';

const MAX_ATTEMPTS = 3;
const REQUEST_TIMEOUT_MS = 30_000;

/** An AuthedHttpClient whose requests the caller can abort (a step's timeout, a run's cancel). */
export interface AbortableHttpClient extends AuthedHttpClient {
  request<T = unknown>(request: HttpRequest, signal?: AbortSignal): Promise<HttpResponse<T>>;
}

const credentialsForRequest = (credentials: Credentials) =>
  credentials.type === 'oauth2_client_credentials' ? { type: credentials.type, accessToken: credentials.accessToken ?? '' } : credentials;

/**
 * The authenticated HTTP client for one connection, used by actions, option sources and (in its
 * streaming form) the proxy: credentials injected, private destinations refused, 429/5xx retried
 * honouring Retry-After, one refresh-and-retry when the provider says the token is bad. An aborted
 * `signal` closes the in-flight request and stops retrying.
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

  async forConnection(tenantId: TenantId, connectionId: string): Promise<{ http: AbortableHttpClient; definition: ConnectorDefinition; connection: Connection }> {
    const loaded = await this.credentials.fresh(tenantId, connectionId);
    const { connection } = loaded;
    const { definition } = await this.configs.resolve(tenantId, connection.connectorKey);
    // The first request uses the credentials just read instead of reading them again.
    let first: typeof loaded | undefined = loaded;
    const http: AbortableHttpClient = {
      request: <T>(request: HttpRequest, signal?: AbortSignal) => {
        const preloaded = first;
        first = undefined;
        return this.send<T>(tenantId, connectionId, definition, request, signal, preloaded);
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
    preloaded?: { connection: Connection; credentials: Credentials },
  ): Promise<HttpResponse<T>> {
    let stale: string | undefined;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const { connection, credentials } = attempt === 0 && preloaded ? preloaded : await this.credentials.fresh(tenantId, connectionId, stale);
      const config = withConfigDefaults(definition, connection.config);
      const url = resolveUrl(definition, request, config);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(definition.defaultHeaders ?? {})) headers[k.toLowerCase()] = v;
      for (const [k, v] of Object.entries(request.headers ?? {})) headers[k.toLowerCase()] = v;
      applyCredentials(definition.auth, credentialsForRequest(credentials) as never, headers, url, config);
      const { body, contentType } = encodeBody(request);
      if (contentType && !headers['content-type']) headers['content-type'] = contentType;
      headers['accept'] ??= 'application/json';
      let response: Response;
      try {
        response = await this.fetch(url, { method: request.method, headers, body, signal: AbortSignal.any([AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...(signal ? [signal] : [])]) });
      } catch (error) {
        if (error instanceof AppError) throw error;
        signal?.throwIfAborted(); // the caller gave up: no retry
        if (attempt + 1 < MAX_ATTEMPTS) {
          await sleep(retryDelayMs(null, attempt), undefined, { signal });
          continue;
        }
        throw new AppError('provider_timeout', `${definition.name} did not answer: ${(error as Error).message}`);
      }
      const data = await decodeBody(response);
      const result: HttpResponse<T> = { status: response.status, headers: Object.fromEntries(response.headers), data: data as T };
      if (!stale && credentials.type === 'oauth2' && isAuthFailure(definition.authFailure, result)) {
        stale = credentials.accessToken;
        continue;
      }
      if ((response.status === 429 || response.status >= 500) && attempt + 1 < MAX_ATTEMPTS) {
        await sleep(retryDelayMs(response.headers.get(definition.rateLimit?.retryAfterHeader ?? 'retry-after'), attempt), undefined, { signal });
        continue;
      }
      return result;
    }
  }
}
