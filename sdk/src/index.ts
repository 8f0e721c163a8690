/**
 * @switchboard/sdk — typed client for host backends. Zero runtime dependencies: it uses the global
 * fetch of Node >= 20. It grows with the API; today it covers end users.
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
