import { SwitchboardError } from './errors.js';
import type {
  AccessToken,
  Approval,
  ApprovalListParams,
  Connection,
  CreateSessionInput,
  DecisionInput,
  EndUser,
  ErrorBody,
  EventInput,
  EventRun,
  Flow,
  InstanceInput,
  Page,
  PageParams,
  ProxyRequest,
  ProxyResponse,
  Run,
  RunFlowInput,
  RunListParams,
  Session,
  UpsertEndUserInput,
  WebhookSecretInput,
} from './types.js';
import { verifyWebhook, VerifyOptions, WebhookEvent, WebhookHeaders } from './webhooks.js';

/**
 * Every API route the SDK calls, as `METHOD /path/{param}` exactly as the OpenAPI document names
 * it (a test checks each one against the server's /openapi.json).
 */
export const ROUTES = {
  listEndUsers: 'GET /v1/end-users',
  getEndUser: 'GET /v1/end-users/{externalId}',
  upsertEndUser: 'PUT /v1/end-users/{externalId}',
  deleteEndUser: 'DELETE /v1/end-users/{externalId}',
  createSession: 'POST /v1/sessions',
  listConnections: 'GET /v1/end-users/{externalId}/connections',
  getConnection: 'GET /v1/connections/{id}',
  deleteConnection: 'DELETE /v1/connections/{id}',
  connectionAccessToken: 'POST /v1/connections/{id}/access-token',
  sendEvent: 'POST /v1/events',
  runFlow: 'POST /v1/flows/{key}/runs',
  listRuns: 'GET /v1/runs',
  getRun: 'GET /v1/runs/{id}',
  retryRun: 'POST /v1/runs/{id}/retry',
  cancelRun: 'POST /v1/runs/{id}/cancel',
  listInstances: 'GET /v1/end-users/{externalId}/flows',
  enableInstance: 'POST /v1/end-users/{externalId}/flows/{key}/enable',
  updateInstance: 'PATCH /v1/end-users/{externalId}/flows/{key}',
  disableInstance: 'POST /v1/end-users/{externalId}/flows/{key}/disable',
  upgradeInstance: 'POST /v1/end-users/{externalId}/flows/{key}/upgrade',
  rotateInstanceWebhook: 'POST /v1/end-users/{externalId}/flows/{key}/webhook/rotate',
  setInstanceWebhookSecret: 'PUT /v1/end-users/{externalId}/flows/{key}/webhook/secret',
  listApprovals: 'GET /v1/approvals',
  getApproval: 'GET /v1/approvals/{id}',
  approve: 'POST /v1/approvals/{id}/approve',
  reject: 'POST /v1/approvals/{id}/reject',
} as const;

export type RouteName = keyof typeof ROUTES;

const FINISHED: ReadonlyArray<Run['status']> = ['succeeded', 'failed', 'cancelled'];
const IDEMPOTENT_METHODS = ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'];
const MAX_RETRY_WAIT_MS = 30_000;

export interface SwitchboardOptions {
  /** Secret key, sk_… */
  secretKey: string;
  /** e.g. https://switchboard.example.com; defaults to http://localhost:3000 */
  baseUrl?: string;
  /** Per-attempt timeout in milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Retries of idempotent calls (GET, PUT, DELETE, and POSTs with an idempotency key) on 429, 5xx and network errors (default 2). */
  maxRetries?: number;
  fetch?: typeof fetch;
}

interface CallOptions {
  params?: Record<string, string>;
  query?: object;
  body?: unknown;
  /** Safe to repeat: the body carries an idempotency key. */
  idempotent?: boolean;
}

const randomKey = () => globalThis.crypto.randomUUID();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Seconds or an HTTP date; null when absent or unreadable. */
function retryAfterMs(value: string | null): number | null {
  if (!value) return null;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, ms) : null;
}

export class Switchboard {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: SwitchboardOptions) {
    if (!options.secretKey?.startsWith('sk_')) throw new TypeError('secretKey must be a Switchboard secret key (sk_…)');
    this.baseUrl = (options.baseUrl ?? 'http://localhost:3000').replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxRetries = options.maxRetries ?? 2;
    this.fetchImpl = options.fetch ?? ((...args) => fetch(...args));
  }

  readonly endUsers = {
    list: (params: PageParams = {}) => this.call<Page<EndUser>>('listEndUsers', { query: params }),
    /** Iterates every end user, page by page. */
    all: (): AsyncGenerator<EndUser> => this.paginate((cursor) => this.endUsers.list({ limit: 200, cursor })),
    get: (externalId: string) => this.call<EndUser>('getEndUser', { params: { externalId } }),
    /** Creates or updates the end user known by your id. */
    upsert: (externalId: string, fields: UpsertEndUserInput = {}) => this.call<EndUser>('upsertEndUser', { params: { externalId }, body: fields }),
    delete: (externalId: string) => this.call<void>('deleteEndUser', { params: { externalId } }),
  };

  readonly sessions = {
    /** A short-lived session token for the widget, for one of your customers (created on first use). */
    create: (input: CreateSessionInput) => this.call<Session>('createSession', { body: input }),
  };

  readonly connections = {
    list: (endUserId: string) => this.call<{ data: Connection[] }>('listConnections', { params: { externalId: endUserId } }).then((r) => r.data),
    get: (id: string) => this.call<Connection>('getConnection', { params: { id } }),
    delete: (id: string) => this.call<void>('deleteConnection', { params: { id } }),
    /** A fresh access token to call the provider yourself (audited). */
    accessToken: (id: string) => this.call<AccessToken>('connectionAccessToken', { params: { id } }),
  };

  readonly events = {
    /**
     * An app event: every enabled flow of that end user listening to `name` runs. Idempotent: the
     * same key returns the first call's runs (one is made up when you give none, for the SDK's retries).
     */
    send: (name: string, input: Omit<EventInput, 'name'>): Promise<EventRun[]> =>
      this.call<{ runs: EventRun[] }>('sendEvent', { body: { name, ...input, idempotencyKey: input.idempotencyKey ?? randomKey() } as EventInput, idempotent: true }).then(
        (r) => r.runs,
      ),
  };

  readonly flows = {
    /** Runs a request-triggered flow; with `wait`, resolves with the finished run (or the run so far after the timeout). */
    run: (key: string, input: RunFlowInput) =>
      this.call<Run>('runFlow', { params: { key }, body: { ...input, idempotencyKey: input.idempotencyKey ?? randomKey() }, idempotent: true }),
  };

  readonly runs = {
    list: (params: RunListParams = {}) => this.call<Page<Run>>('listRuns', { query: params }),
    /** Iterates every run matching the filters, newest first. */
    all: (params: Omit<RunListParams, 'cursor'> = {}): AsyncGenerator<Run> => this.paginate((cursor) => this.runs.list({ limit: 200, ...params, cursor })),
    get: (id: string) => this.call<Run>('getRun', { params: { id } }),
    /** Re-runs a failed run from its failed step (finished steps are kept). */
    retry: (id: string) => this.call<Run>('retryRun', { params: { id } }),
    /** Stops a run; it reads `cancelled` once the engine has stopped it. */
    cancel: (id: string) => this.call<Run>('cancelRun', { params: { id } }),
    /** Polls (with backoff) until the run has finished, or resolves with the run so far once `timeoutMs` has passed. */
    waitFor: async (id: string, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<Run> => {
      const deadline = Date.now() + (options.timeoutMs ?? 60_000);
      let interval = options.intervalMs ?? 250;
      for (;;) {
        const run = await this.runs.get(id);
        if (FINISHED.includes(run.status) || Date.now() >= deadline) return run;
        await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
        interval = Math.min(interval * 1.5, 5_000);
      }
    },
  };

  /** An end user's flows, managed by your backend (headless set-ups: no widget). */
  readonly instances = {
    list: (endUserId: string) => this.call<{ data: Flow[] }>('listInstances', { params: { externalId: endUserId } }).then((r) => r.data),
    enable: (endUserId: string, flow: string, input: InstanceInput = {}) => this.call<Flow>('enableInstance', { params: { externalId: endUserId, key: flow }, body: input }),
    update: (endUserId: string, flow: string, input: InstanceInput) => this.call<Flow>('updateInstance', { params: { externalId: endUserId, key: flow }, body: input }),
    disable: (endUserId: string, flow: string) => this.call<Flow>('disableInstance', { params: { externalId: endUserId, key: flow } }),
    /** Moves the end user to the flow's latest published version. */
    upgrade: (endUserId: string, flow: string, input: InstanceInput = {}) => this.call<Flow>('upgradeInstance', { params: { externalId: endUserId, key: flow }, body: input }),
    /** Webhook-triggered flows: a new secret URL (and signing secret); the old ones stop working. */
    rotateWebhook: (endUserId: string, flow: string) => this.call<Flow>('rotateInstanceWebhook', { params: { externalId: endUserId, key: flow } }),
    /** Webhook-triggered flows that verify signatures: use the signing secret the sender issued (e.g. Stripe's whsec_…). */
    setWebhookSecret: (endUserId: string, flow: string, input: WebhookSecretInput) =>
      this.call<Flow>('setInstanceWebhookSecret', { params: { externalId: endUserId, key: flow }, body: input }),
  };

  readonly approvals = {
    list: (params: ApprovalListParams = {}) => this.call<Page<Approval>>('listApprovals', { query: params }),
    get: (id: string) => this.call<Approval>('getApproval', { params: { id } }),
    /** The run resumes. Deciding twice throws a SwitchboardError with code approval_already_decided (409). */
    approve: (id: string, input: DecisionInput = {}) => this.call<Approval>('approve', { params: { id }, body: input }),
    reject: (id: string, input: DecisionInput = {}) => this.call<Approval>('reject', { params: { id }, body: input }),
  };

  readonly webhooks = {
    /**
     * Verifies a webhook Switchboard sent you (Standard Webhooks signature and timestamp) and returns
     * the event. Pass the raw body exactly as received. Throws WebhookVerificationError otherwise.
     */
    verify: (rawBody: string | Uint8Array, headers: WebhookHeaders, secret: string, options?: VerifyOptions): WebhookEvent => verifyWebhook(rawBody, headers, secret, options),
  };

  /** Calls the provider's API as a connection; `path` is relative to the connector's base URL. Never throws on the provider's status. */
  async proxy<T = unknown>(connectionId: string, request: ProxyRequest): Promise<ProxyResponse<T>> {
    const url = new URL(`${this.baseUrl}/v1/proxy/${encodeURIComponent(connectionId)}/${request.path.replace(/^\/+/, '')}`);
    for (const [k, v] of Object.entries(request.query ?? {})) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { ...request.headers, authorization: `Bearer ${this.options.secretKey}` };
    if (request.body !== undefined) headers['content-type'] ??= 'application/json';
    // Switchboard itself retries the provider's 429/5xx (honouring Retry-After); no second layer here.
    const res = await this.send(url, {
      method: request.method ?? 'GET',
      headers,
      body: request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : JSON.stringify(request.body),
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
    if (!res.ok && !res.headers.get('x-switchboard-attempts')) throw this.errorOf(res, data);
    return { status: res.status, headers: res.headers, data: data as T };
  }

  private async *paginate<T>(page: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
    let cursor: string | undefined;
    do {
      const result = await page(cursor);
      yield* result.data;
      cursor = result.nextCursor ?? undefined;
    } while (cursor);
  }

  private errorOf(res: Response, parsed: unknown): SwitchboardError {
    const error = (parsed as { error?: ErrorBody } | undefined)?.error;
    return new SwitchboardError(res.status, error?.code ?? 'http_error', error?.message ?? `HTTP ${res.status}`, error?.details, res.headers.get('x-request-id') ?? undefined);
  }

  /** One HTTP exchange with the timeout; no answer at all becomes a SwitchboardError with status 0. */
  private async send(url: URL, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchImpl(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw new SwitchboardError(
        0,
        timedOut ? 'timeout' : 'network_error',
        timedOut ? `No answer from ${url.origin} within ${this.timeoutMs} ms` : `Could not reach ${url.origin}: ${(error as Error).message}`,
      );
    }
  }

  private async call<T>(route: RouteName, options: CallOptions = {}): Promise<T> {
    const [method, template] = ROUTES[route].split(' ') as [string, string];
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(options.params?.[name] ?? ''));
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.secretKey}`, accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const retryable = IDEMPOTENT_METHODS.includes(method) || options.idempotent === true;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.send(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
      } catch (error) {
        if (!retryable || attempt >= this.maxRetries) throw error;
        await sleep(this.backoffMs(attempt));
        continue;
      }
      if (retryable && attempt < this.maxRetries && (res.status === 429 || res.status >= 500)) {
        const wait = retryAfterMs(res.headers.get('retry-after')) ?? this.backoffMs(attempt);
        if (wait <= MAX_RETRY_WAIT_MS) {
          await res.body?.cancel();
          await sleep(wait);
          continue;
        }
      }
      if (res.status === 204) return undefined as T;
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      if (!res.ok) throw this.errorOf(res, parsed);
      return parsed as T;
    }
  }

  /** Exponential backoff with full jitter: up to 0.5 s, 1 s, 2 s… capped at 8 s. */
  private backoffMs(attempt: number): number {
    return Math.random() * Math.min(8_000, 500 * 2 ** attempt);
  }
}
