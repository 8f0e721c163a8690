/**
 * @switchboard/sdk — typed client for host backends. Zero runtime dependencies: it uses the global
 * fetch of Node >= 20. Covers end users, sessions, connections, the proxy, events, flow runs and runs.
 */

export interface ErrorBody {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** Every non-2xx answer, with the API's stable code and message. */
export class SwitchboardError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'SwitchboardError';
  }
}

export interface EndUser {
  id: string;
  externalId: string;
  displayName: string | null;
  email: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface Session {
  token: string;
  expiresAt: string;
  allowedConnectors: string[] | null;
  endUser: EndUser;
}

export interface Connection {
  id: string;
  connector: string;
  endUserId: string;
  status: 'active' | 'needs_reauth' | 'revoked' | 'error';
  accountId: string;
  accountName: string;
  scopes: string[];
  config: Record<string, string>;
  expiresAt: string | null;
  lastRefreshedAt: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface StepRecord {
  path: string;
  id: string;
  type: string;
  status: 'succeeded' | 'failed' | 'skipped' | 'waiting';
  input?: unknown;
  output?: unknown;
  error?: { code: string; message: string };
  attempts: number;
  startedAt: string;
  durationMs: number;
  idempotencyKey?: string;
}

export interface Run {
  id: string;
  status: 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';
  flow?: string;
  instanceId: string;
  triggerType: string;
  trigger: unknown;
  result: unknown;
  error: { code: string; message: string; step?: string } | null;
  steps: StepRecord[];
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

export interface ProxyResponse<T = unknown> {
  status: number;
  headers: Headers;
  data: T;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface SwitchboardOptions {
  /** Secret key, sk_… */
  secretKey: string;
  /** e.g. https://switchboard.example.com; defaults to http://localhost:3000 */
  baseUrl?: string;
  /** Per-request timeout in milliseconds (default 30 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class Switchboard {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: SwitchboardOptions) {
    if (!options.secretKey?.startsWith('sk_')) throw new TypeError('secretKey must be a Switchboard secret key (sk_…)');
    this.baseUrl = (options.baseUrl ?? 'http://localhost:3000').replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  readonly endUsers = {
    list: (params: { limit?: number; cursor?: string } = {}) => this.request<Page<EndUser>>('GET', '/v1/end-users', undefined, params),
    /** Iterates every end user, page by page. */
    all: async function* (this: Switchboard): AsyncGenerator<EndUser> {
      let cursor: string | undefined;
      do {
        const page = await this.endUsers.list({ limit: 200, cursor });
        yield* page.data;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }.bind(this),
    get: (externalId: string) => this.request<EndUser>('GET', `/v1/end-users/${encodeURIComponent(externalId)}`),
    upsert: (externalId: string, fields: { displayName?: string | null; email?: string | null; metadata?: Record<string, unknown> } = {}) =>
      this.request<EndUser>('PUT', `/v1/end-users/${encodeURIComponent(externalId)}`, fields),
    delete: (externalId: string) => this.request<void>('DELETE', `/v1/end-users/${encodeURIComponent(externalId)}`),
  };

  readonly sessions = {
    /** A short-lived session token for the widget, for one of your customers (created on first use). */
    create: (input: { endUserId: string; displayName?: string | null; email?: string | null; metadata?: Record<string, unknown>; allowedConnectors?: string[]; ttlSeconds?: number }) =>
      this.request<Session>('POST', '/v1/sessions', input),
  };

  readonly connections = {
    list: (endUserId: string) => this.request<{ data: Connection[] }>('GET', `/v1/end-users/${encodeURIComponent(endUserId)}/connections`).then((r) => r.data),
    get: (id: string) => this.request<Connection>('GET', `/v1/connections/${encodeURIComponent(id)}`),
    delete: (id: string) => this.request<void>('DELETE', `/v1/connections/${encodeURIComponent(id)}`),
    /** A fresh access token to call the provider yourself (audited). */
    accessToken: (id: string) => this.request<{ accessToken: string; expiresAt: string | null }>('POST', `/v1/connections/${encodeURIComponent(id)}/access-token`),
  };

  /** Calls the provider's API as a connection; `path` is relative to the connector's base URL. Never throws on the provider's status. */
  async proxy<T = unknown>(connectionId: string, request: { method?: string; path: string; query?: Record<string, string | number>; body?: unknown; headers?: Record<string, string> }): Promise<ProxyResponse<T>> {
    const url = new URL(`${this.baseUrl}/v1/proxy/${encodeURIComponent(connectionId)}/${request.path.replace(/^\/+/, '')}`);
    for (const [k, v] of Object.entries(request.query ?? {})) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { ...request.headers, authorization: `Bearer ${this.options.secretKey}` };
    if (request.body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await this.fetchImpl(url, {
      method: request.method ?? 'GET',
      headers,
      body: request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : JSON.stringify(request.body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    let data: unknown = text;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: the text as it came
    }
    // Proxied answers carry x-switchboard-attempts; without it the answer is Switchboard's own (auth,
    // unknown connection, refused destination), and its errors throw like every other call's.
    if (!res.ok && !res.headers.get('x-switchboard-attempts')) {
      const own = (data as { error?: ErrorBody } | undefined)?.error;
      throw new SwitchboardError(res.status, own?.code ?? 'http_error', own?.message ?? `HTTP ${res.status}`, own?.details);
    }
    return { status: res.status, headers: res.headers, data: data as T };
  }

  readonly events = {
    /** An app event; every enabled flow of that end user listening to `name` runs. Send an idempotency key to make retries safe. */
    send: (name: string, input: { endUserId: string; payload?: unknown; idempotencyKey?: string }) =>
      this.request<{ runs: Array<{ id: string; instanceId: string; status: Run['status'] }> }>('POST', '/v1/events', { name, ...input }).then((r) => r.runs),
  };

  readonly flows = {
    /** Runs a request-triggered flow; with `wait`, resolves with the finished run (or the run so far after the timeout). */
    run: (key: string, input: { endUserId: string; input?: unknown; idempotencyKey?: string; wait?: boolean; timeoutMs?: number }) =>
      this.request<Run>('POST', `/v1/flows/${encodeURIComponent(key)}/runs`, input),
  };

  readonly runs = {
    list: (params: { status?: Run['status']; flow?: string; endUserId?: string; limit?: number; cursor?: string } = {}) => this.request<Page<Run>>('GET', '/v1/runs', undefined, params),
    get: (id: string) => this.request<Run>('GET', `/v1/runs/${encodeURIComponent(id)}`),
    /** Polls until the run finishes (succeeded, failed or cancelled) or the timeout passes. */
    waitFor: async (id: string, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<Run> => {
      const deadline = Date.now() + (options.timeoutMs ?? 60_000);
      for (;;) {
        const run = await this.runs.get(id);
        if (['succeeded', 'failed', 'cancelled'].includes(run.status) || Date.now() > deadline) return run;
        await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
      }
    },
  };

  private async request<T>(method: string, path: string, body?: unknown, query?: Record<string, string | number | undefined>): Promise<T> {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.secretKey}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.fetchImpl(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const error = (parsed as { error?: ErrorBody } | undefined)?.error;
      throw new SwitchboardError(res.status, error?.code ?? 'http_error', error?.message ?? `HTTP ${res.status}`, error?.details);
    }
    return parsed as T;
  }
}
