import { t } from './i18n';
import type { Approval, Connection, Flow, Integration, OptionsPage, Page, Run, WidgetConfig } from './types';

/** An error from the API (its envelope's code and message) or from the widget itself (popup_blocked, session_expired…). */
export class SwitchboardError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'SwitchboardError';
  }

  /** Validation problems by path (`details.errors[{ path, message }]`). */
  get fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    const errors = Array.isArray(this.details.errors) ? (this.details.errors as Array<{ path?: unknown; message?: unknown }>) : [];
    for (const { path, message } of errors) if (typeof path === 'string' && typeof message === 'string') out[path] ??= message;
    return out;
  }
}

const TIMEOUT_MS = 20_000;

let originWarned = false;

/**
 * The tenant does not allow this page's origin: a set-up mistake of the host's developer, so the
 * widget says exactly that (on screen and, once, in the console) rather than "could not reach".
 */
function originNotAllowed(details: Record<string, unknown>): SwitchboardError {
  const origin = typeof details.origin === 'string' ? details.origin : location.origin;
  if (!originWarned) {
    originWarned = true;
    console.error(
      `Switchboard: this page's origin (${origin}) is not in the tenant's allowed origins, so the Switchboard API refused it (403 origin_not_allowed). ` +
        `Add ${origin} in the Switchboard portal under Settings → Allowed origins.`,
    );
  }
  return new SwitchboardError('origin_not_allowed', t('originNotAllowed', { origin }), 403, { origin });
}

export interface SessionHooks {
  /** Asks the host for a fresh token; null when it has none to give. */
  refresh(): Promise<string | null>;
  /** The session is gone for good. */
  expired(error: SwitchboardError): void;
}

/** The /v1/me API with the end user's session token as a bearer; a 401 asks the host for a fresh token once. */
export class Api {
  constructor(
    readonly baseUrl: string,
    public token: string,
    private readonly session: SessionHooks,
  ) {}

  async request<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
    let res: Response;
    const sentWith = this.token;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers: { authorization: `Bearer ${sentWith}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      const timedOut = (error as Error)?.name === 'TimeoutError';
      throw new SwitchboardError(timedOut ? 'timeout' : 'network_error', t(timedOut ? 'timeout' : 'networkError'));
    }
    if (res.status === 401) {
      if (!retried) {
        // A request that went out with the old token while another one refreshed it uses the new one, not a second refresh.
        const fresh = this.token !== sentWith ? this.token : await this.session.refresh();
        if (fresh) {
          this.token = fresh;
          return this.request<T>(method, path, body, true);
        }
      }
      const error = new SwitchboardError('session_expired', t('sessionExpired'), 401);
      this.session.expired(error);
      throw error;
    }
    if (res.status === 204) return undefined as T;
    const payload = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null;
    if (!res.ok) {
      const e = payload?.error;
      if (res.status === 403 && e?.code === 'origin_not_allowed') throw originNotAllowed(e.details ?? {});
      // 5xx messages are for operators; end users get a plain sentence (the error id stays in details).
      const message = res.status >= 500 && e?.code !== 'provider_error' && e?.code !== 'provider_timeout' ? t('serverError') : (e?.message ?? t('serverError'));
      throw new SwitchboardError(e?.code ?? 'http_error', message, res.status, e?.details ?? {});
    }
    return payload as T;
  }

  config = () => this.request<WidgetConfig>('GET', '/v1/me/widget-config');
  integrations = async () => (await this.request<Page<Integration>>('GET', '/v1/me/integrations')).data;
  connection = (id: string) => this.request<Connection>('GET', `/v1/me/connections/${encodeURIComponent(id)}`);
  disconnect = (id: string) => this.request<void>('DELETE', `/v1/me/connections/${encodeURIComponent(id)}`);
  flows = async () => (await this.request<Page<Flow>>('GET', '/v1/me/flows')).data;
  enableFlow = (key: string, body: { settings?: Record<string, unknown>; connections?: Record<string, string> }) =>
    this.request<Flow>('POST', `/v1/me/flows/${encodeURIComponent(key)}/enable`, body);
  updateFlow = (key: string, body: { settings?: Record<string, unknown>; connections?: Record<string, string> }) =>
    this.request<Flow>('PATCH', `/v1/me/flows/${encodeURIComponent(key)}`, body);
  disableFlow = (key: string) => this.request<Flow>('POST', `/v1/me/flows/${encodeURIComponent(key)}/disable`);

  options(connector: string, source: string, params: { search?: string; cursor?: string; connectionId?: string } = {}): Promise<OptionsPage> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v) query.set(k, v);
    const qs = query.toString();
    return this.request<OptionsPage>('GET', `/v1/me/connectors/${encodeURIComponent(connector)}/options/${encodeURIComponent(source)}${qs ? `?${qs}` : ''}`);
  }

  runs(params: { flow?: string; status?: string; limit?: number; cursor?: string } = {}): Promise<Page<Run>> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') query.set(k, String(v));
    return this.request<Page<Run>>('GET', `/v1/me/runs?${query}`);
  }

  approvals(status = 'pending'): Promise<Page<Approval>> {
    return this.request<Page<Approval>>('GET', `/v1/me/approvals?status=${encodeURIComponent(status)}`);
  }

  decide(id: string, decision: 'approve' | 'reject', comment?: string): Promise<Approval> {
    return this.request<Approval>('POST', `/v1/me/approvals/${encodeURIComponent(id)}/${decision}`, comment ? { comment } : {});
  }
}
