import { batch, computed, signal } from '@preact/signals';
import { Api, SwitchboardError } from './api';
import { connectInPopup, type ConnectAttempt } from './connect';
import { Emitter } from './events';
import { setMessages, t } from './i18n';
import { cleanTheme } from './theme';
import type { Approval, Connection, Flow, InitOptions, Integration, OpenOptions, OptionsPage, Page, Run, Theme, WidgetEvent } from './types';

/** `single`: opened on one connector (`open({ connector })`), without the way back to the catalogue. */
export type Route = { screen: 'catalogue' } | { screen: 'integration'; key: string; single?: boolean };
export type ConnectState = { phase: 'waiting' } | { phase: 'failed'; code: string; message: string };
export type Status = 'idle' | 'loading' | 'ready' | 'expired' | 'error';

/** How the UI is drawn; loaded with the UI so that the headless core stays small for bundlers. */
export interface Renderer {
  modal(widget: Widget): { destroy(): void };
  inline(widget: Widget, container: Element): { destroy(): void };
  preview(container: Element, theme: Theme): { update(theme: Theme): void; destroy(): void };
}

/**
 * One widget per page: the session, the end user's data as signals the UI renders from, the host's
 * event subscriptions, and the headless API (every method returns a promise and keeps the UI in sync).
 */
export class Widget {
  readonly events = new Emitter();
  readonly status = signal<Status>('idle');
  readonly problem = signal<SwitchboardError | null>(null);
  readonly tenantName = signal('');
  readonly tenantTheme = signal<Theme>({});
  readonly hostTheme = signal<Theme>({});
  readonly theme = computed<Theme>(() => ({ ...this.tenantTheme.value, ...this.hostTheme.value }));
  readonly integrations = signal<Integration[]>([]);
  readonly flows = signal<Flow[]>([]);
  readonly approvals = signal<Approval[]>([]);
  readonly connecting = signal<Record<string, ConnectState>>({});
  readonly modalOpen = signal(false);
  readonly modalRoute = signal<Route>({ screen: 'catalogue' });
  /** A short message for a live region (connected, saved…). */
  readonly notice = signal<{ text: string; bad?: boolean } | null>(null);

  private api: Api | null = null;
  private options: InitOptions | null = null;
  private loading: Promise<void> | null = null;
  private refreshing: Promise<string | null> | null = null;
  private readonly attempts = new Map<string, ConnectAttempt>();
  private modalView: { destroy(): void } | null = null;
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private apiUrl: string,
    private readonly renderer: Renderer | null,
  ) {}

  // ── set-up ──────────────────────────────────────────────────────────────

  init(options: InitOptions): Promise<void> {
    if (!options || typeof options !== 'object') throw new TypeError('Switchboard init: pass an options object, e.g. { token }');
    this.options = options;
    setMessages(options.messages);
    if (options.apiUrl) this.apiUrl = options.apiUrl.replace(/\/+$/, '');
    this.hostTheme.value = cleanTheme(options.theme, 'theme');
    if (typeof options.token !== 'string' || !options.token) {
      return Promise.resolve(this.fail(new SwitchboardError('missing_token', t('sessionExpired'), 401), 'expired'));
    }
    this.api = new Api(this.apiUrl, options.token, {
      refresh: () => this.freshToken(),
      expired: (error) => this.fail(error, 'expired'),
    });
    this.loading = null;
    return this.load();
  }

  /** Loads (once; again after `reload`) the tenant's config, the catalogue, flows and pending approvals. */
  load(): Promise<void> {
    this.loading ??= (async () => {
      const api = this.requireApi();
      this.status.value = 'loading';
      try {
        const [config, integrations, flows, approvals] = await Promise.all([api.config(), api.integrations(), api.flows(), this.pendingApprovals(api)]);
        batch(() => {
          this.tenantName.value = config.tenantName;
          this.tenantTheme.value = cleanTheme(config.theme, 'tenant theme');
          this.integrations.value = integrations;
          this.flows.value = flows;
          this.approvals.value = approvals;
          this.problem.value = null;
          this.status.value = 'ready';
        });
      } catch (error) {
        this.loading = null;
        const e = asError(error);
        if (this.status.peek() !== 'expired') this.fail(e, 'error');
        throw e;
      }
    })();
    return this.loading;
  }

  reload(): Promise<void> {
    this.loading = null;
    return this.load().catch(() => undefined);
  }

  on(event: WidgetEvent, listener: (payload: unknown) => void): () => void {
    return this.events.on(event, listener);
  }

  off(event: WidgetEvent, listener: (payload: unknown) => void): void {
    this.events.off(event, listener);
  }

  // ── UI ──────────────────────────────────────────────────────────────────

  open(options: OpenOptions = {}): void {
    if (!this.renderer) throw new Error('Switchboard: this build has no UI; use the headless methods');
    this.modalRoute.value = options.connector ? { screen: 'integration', key: options.connector, single: true } : { screen: 'catalogue' };
    if (this.modalOpen.peek()) return;
    this.modalOpen.value = true;
    this.modalView ??= this.renderer.modal(this);
    this.events.emit('open', { connector: options.connector ?? null });
  }

  close(): void {
    if (!this.modalOpen.peek()) return;
    this.modalOpen.value = false;
    this.events.emit('close');
  }

  mount(target: string | Element): { destroy(): void } {
    if (!this.renderer) throw new Error('Switchboard: this build has no UI; use the headless methods');
    const container = typeof target === 'string' ? document.querySelector(target) : target;
    if (!container) throw new Error(`Switchboard mount: nothing matches ${String(target)}`);
    return this.renderer.inline(this, container);
  }

  preview(options: { container: string | Element; theme?: Theme }) {
    if (!this.renderer) throw new Error('Switchboard: this build has no UI');
    const container = typeof options.container === 'string' ? document.querySelector(options.container) : options.container;
    if (!container) throw new Error(`Switchboard preview: nothing matches ${String(options.container)}`);
    return this.renderer.preview(container, cleanTheme(options.theme, 'theme'));
  }

  say(text: string, bad = false): void {
    clearTimeout(this.noticeTimer);
    this.notice.value = { text, bad };
    this.noticeTimer = setTimeout(() => (this.notice.value = null), 4000);
  }

  // ── headless API ────────────────────────────────────────────────────────

  async listIntegrations(): Promise<Integration[]> {
    return this.report(async () => (this.integrations.value = await this.requireApi().integrations()));
  }

  /** Opens the connect popup (call it from a click handler, or pop-up blockers step in) and resolves with the new connection. */
  connect(connector: string, options: { connectionId?: string } = {}): Promise<Connection> {
    return this.report(async () => {
      const api = this.requireApi();
      const integration = this.integrations.peek().find((i) => i.key === connector);
      if (this.status.peek() === 'ready' && !integration) throw new SwitchboardError('connector_not_enabled', t('notEnabled', { name: connector }), 404);
      const name = integration?.name ?? connector;
      this.attempts.get(connector)?.cancel();
      const attempt = connectInPopup({
        apiUrl: this.apiUrl,
        connector,
        name,
        url: async () => {
          // Checks the session (refreshing it if needed) before handing it to the popup.
          await api.request('GET', '/v1/me');
          const query = new URLSearchParams({ session: api.token, origin: location.origin });
          if (options.connectionId) query.set('connectionId', options.connectionId);
          return `${this.apiUrl}/connect/${encodeURIComponent(connector)}?${query}`;
        },
      });
      this.attempts.set(connector, attempt);
      this.setConnecting(connector, { phase: 'waiting' });
      try {
        const id = await attempt.result;
        const connection = await api.connection(id);
        this.setConnecting(connector, null);
        this.events.emit('connected', connection);
        await this.listIntegrations();
        this.flows.value = await api.flows();
        this.say(t('connectedToast', { name }));
        return connection;
      } catch (error) {
        const e = asError(error);
        this.setConnecting(connector, { phase: 'failed', code: e.code, message: e.message });
        throw e;
      } finally {
        if (this.attempts.get(connector) === attempt) this.attempts.delete(connector);
      }
    });
  }

  cancelConnect(connector: string): void {
    this.attempts.get(connector)?.cancel();
    this.setConnecting(connector, null);
  }

  /** Disconnects by connection id or connector key. */
  disconnect(idOrConnector: string): Promise<void> {
    return this.report(async () => {
      const api = this.requireApi();
      const integration = this.integrations.peek().find((i) => i.key === idOrConnector || i.connection?.id === idOrConnector);
      const connectionId = integration?.connection?.id ?? idOrConnector;
      await api.disconnect(connectionId);
      this.events.emit('disconnected', { connectionId, connector: integration?.key ?? null });
      await this.listIntegrations();
      this.flows.value = await api.flows();
      if (integration) this.say(t('disconnected', { name: integration.name }));
    });
  }

  /** The flows available to the end user, optionally only those using one connector. */
  listFlows(connector?: string): Promise<Flow[]> {
    return this.report(async () => {
      const flows = (this.flows.value = await this.requireApi().flows());
      return connector ? flows.filter((f) => usesConnector(f, connector)) : flows;
    });
  }

  enableFlow(key: string, body: { settings?: Record<string, unknown>; connections?: Record<string, string> } = {}): Promise<Flow> {
    return this.report(async () => {
      const flow = this.replaceFlow(await this.requireApi().enableFlow(key, body));
      this.events.emit('flow-enabled', flow);
      return flow;
    });
  }

  updateFlowSettings(key: string, settings: Record<string, unknown>, connections?: Record<string, string>): Promise<Flow> {
    return this.report(async () => this.replaceFlow(await this.requireApi().updateFlow(key, connections ? { settings, connections } : { settings })));
  }

  disableFlow(key: string): Promise<Flow> {
    return this.report(async () => {
      const flow = this.replaceFlow(await this.requireApi().disableFlow(key));
      this.events.emit('flow-disabled', flow);
      return flow;
    });
  }

  getOptions(connector: string, source: string, params: { search?: string; cursor?: string; connectionId?: string } = {}): Promise<OptionsPage> {
    return this.requireApi().options(connector, source, params);
  }

  listRuns(params: { flow?: string; status?: string; limit?: number; cursor?: string } = {}): Promise<Page<Run>> {
    return this.report(() => this.requireApi().runs(params));
  }

  listApprovals(params: { status?: 'pending' | 'approved' | 'rejected' | 'expired' } = {}): Promise<Approval[]> {
    return this.report(async () => {
      const approvals = (await this.requireApi().approvals(params.status ?? 'pending')).data;
      if ((params.status ?? 'pending') === 'pending') this.approvals.value = approvals;
      return approvals;
    });
  }

  decideApproval(id: string, decision: 'approve' | 'reject', options: { comment?: string } = {}): Promise<Approval> {
    return this.report(async () => {
      const approval = await this.requireApi()
        .decide(id, decision, options.comment)
        .catch((error: SwitchboardError) => {
          // Decided elsewhere (the host, a timeout) meanwhile: it is no longer pending here either.
          if (error.code === 'approval_already_decided') this.approvals.value = this.approvals.peek().filter((a) => a.id !== id);
          throw error;
        });
      this.approvals.value = this.approvals.peek().filter((a) => a.id !== id);
      this.say(t(decision === 'approve' ? 'approved' : 'rejected'));
      this.events.emit('approval-decided', approval);
      return approval;
    });
  }

  // ── internals ───────────────────────────────────────────────────────────

  private requireApi(): Api {
    if (!this.api) throw new SwitchboardError('missing_token', t('sessionExpired'), 401);
    return this.api;
  }

  /** Runs a headless call; a failure is also reported to `on('error')` listeners. */
  private async report<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      const e = asError(error);
      if (e.code !== 'session_expired') this.events.emit('error', { code: e.code, message: e.message });
      throw e;
    }
  }

  private replaceFlow(flow: Flow): Flow {
    this.flows.value = this.flows.peek().map((f) => (f.key === flow.key ? flow : f));
    return flow;
  }

  private setConnecting(connector: string, state: ConnectState | null): void {
    const next = { ...this.connecting.peek() };
    if (state) next[connector] = state;
    else delete next[connector];
    this.connecting.value = next;
  }

  /** Asks the host for a fresh token once at a time, however many requests hit a 401 together. */
  private freshToken(): Promise<string | null> {
    const ask = this.options?.onSessionExpired;
    if (!ask) return Promise.resolve(null);
    this.refreshing ??= Promise.resolve()
      .then(ask)
      .then(
        (token) => (typeof token === 'string' && token ? token : null),
        () => null,
      )
      .finally(() => setTimeout(() => (this.refreshing = null), 0));
    return this.refreshing;
  }

  private fail(error: SwitchboardError, status: Status): void {
    const first = this.status.peek() !== status || this.problem.peek()?.code !== error.code;
    batch(() => {
      this.problem.value = error;
      this.status.value = status;
    });
    // Later, so that listeners the host adds right after init (as the snippet queues them) hear it.
    if (first) setTimeout(() => this.events.emit('error', { code: error.code, message: error.message }), 0);
  }

  /** Approvals arrived after the widget; a server without them answers route_not_found, which means none. */
  private async pendingApprovals(api: Api): Promise<Approval[]> {
    try {
      return (await api.approvals('pending')).data;
    } catch (error) {
      if (error instanceof SwitchboardError && (error.code === 'route_not_found' || error.status === 404)) return [];
      throw error;
    }
  }
}

export function usesConnector(flow: Flow, connector: string): boolean {
  return flow.connectors.some((binding) => binding.split(':')[0] === connector);
}

function asError(error: unknown): SwitchboardError {
  if (error instanceof SwitchboardError) return error;
  return new SwitchboardError('client_error', error instanceof Error ? error.message : String(error));
}
