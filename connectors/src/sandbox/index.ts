/**
 * The sandbox: one local HTTP server hosting fake providers under `/${connectorKey}/…` — a real
 * OAuth2 authorization server per oauth2 connector (consent page, codes with PKCE, rotating
 * single-use refresh tokens) and fake APIs at the same paths as the real ones. It records every
 * call and can inject 429s, 5xx, latency and dropped connections.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { AuthFailure, bearerToken, json, matchPath, ProviderContext, ProviderModule, RecordedDelivery, SandboxAccount, SandboxRequest, SandboxResponse } from './core';
import { LlmRecordedRequest, LlmTurn, SandboxLlm } from './llm';
import { OAuthEvent, OAuthServer, SandboxClient, DEFAULT_CLIENT } from './oauth';
import { readStateFile, writeStateFile } from './persist';
import { CATALOGUE_API_KEY, CATALOGUE_BASIC, catalogueSandboxProviders } from './providers/catalogue';
import { githubSandbox, GitHubState } from './providers/github';
import { googleSheetsSandbox, GoogleState } from './providers/google-sheets';
import { gmailSandbox, GmailState } from './providers/gmail';
import { googleCalendarSandbox, CalendarState } from './providers/google-calendar';
import { outlookSandbox, OutlookState } from './providers/outlook';
import { microsoftTeamsSandbox, TeamsState } from './providers/microsoft-teams';
import { HTTP_API_KEY, HTTP_BASIC, httpSandbox, HttpState } from './providers/http';
import { hubspotSandbox, HubSpotState } from './providers/hubspot';
import { jiraSandbox, JiraState } from './providers/jira';
import { zendeskSandbox, ZendeskState } from './providers/zendesk';
import { intercomSandbox, IntercomState } from './providers/intercom';
import { linearSandbox, LinearState } from './providers/linear';
import { notionSandbox, NotionState } from './providers/notion';
import { salesforceSandbox, SalesforceState } from './providers/salesforce';
import { slackSandbox, SlackState } from './providers/slack';
import { STRIPE_KEYS, stripeSandbox, StripeState } from './providers/stripe';
import { shopifySandbox, ShopifyState } from './providers/shopify';
import { airtableSandbox, AirtableState } from './providers/airtable';
import { pipedriveSandbox, PipedriveState } from './providers/pipedrive';
import { asanaSandbox, AsanaState } from './providers/asana';

export type { SandboxRequest, SandboxResponse, SandboxAccount, ProviderModule, RecordedDelivery } from './core';
export type { SandboxClient, OAuthEvent } from './oauth';
export type { LlmTurn, LlmRecordedRequest, LlmPlaceholderContext } from './llm';
export type { SlackState, GitHubState, HubSpotState, SalesforceState, GoogleState, NotionState, StripeState, HttpState };
export type { GmailState, CalendarState, OutlookState, TeamsState };
export type { ShopifyState };
export type { AirtableState };
export type { PipedriveState };
export type { AsanaState };
export type { JiraState, ZendeskState, IntercomState, LinearState };
export { DEFAULT_CLIENT };

/** The fake providers, by connector key. */
export const sandboxProviders = {
  slack: slackSandbox,
  github: githubSandbox,
  hubspot: hubspotSandbox,
  salesforce: salesforceSandbox,
  'google-sheets': googleSheetsSandbox,
  notion: notionSandbox,
  stripe: stripeSandbox,
  http: httpSandbox,
  gmail: gmailSandbox,
  'google-calendar': googleCalendarSandbox,
  outlook: outlookSandbox,
  'microsoft-teams': microsoftTeamsSandbox,
  shopify: shopifySandbox,
  airtable: airtableSandbox,
  pipedrive: pipedriveSandbox,
  asana: asanaSandbox,
  jira: jiraSandbox,
  zendesk: zendeskSandbox,
  intercom: intercomSandbox,
  linear: linearSandbox,
} as const;

export type SandboxProviderKey = keyof typeof sandboxProviders;

export interface SandboxState {
  slack: SlackState;
  github: GitHubState;
  hubspot: HubSpotState;
  salesforce: SalesforceState;
  'google-sheets': GoogleState;
  notion: NotionState;
  stripe: StripeState;
  http: HttpState;
  gmail: GmailState;
  'google-calendar': CalendarState;
  outlook: OutlookState;
  'microsoft-teams': TeamsState;
  shopify: ShopifyState;
  airtable: AirtableState;
  pipedrive: PipedriveState;
  asana: AsanaState;
  jira: JiraState;
  zendesk: ZendeskState;
  intercom: IntercomState;
  linear: LinearState;
}

/** Credentials the sandbox accepts out of the box. */
export const SANDBOX_CREDENTIALS = {
  client: { clientId: DEFAULT_CLIENT.clientId, clientSecret: DEFAULT_CLIENT.clientSecret },
  stripe: { apiKey: 'sk_test_sandbox', otherAccountApiKey: 'sk_test_sandbox_globex', keys: Object.keys(STRIPE_KEYS) },
  http: { apiKey: HTTP_API_KEY, basic: HTTP_BASIC },
  /** What every catalogue entry's generic sandbox provider accepts (api_key and basic entries). */
  catalogue: { apiKey: CATALOGUE_API_KEY, basic: CATALOGUE_BASIC },
} as const;

export interface RecordedCall {
  id: number;
  /** ms since epoch (sandbox clock). */
  at: number;
  /** Connector key, or '' for paths outside any provider. */
  connector: string;
  method: string;
  /** Provider path without the connector prefix: /api/chat.postMessage. */
  path: string;
  /** Full path and query as received: /slack/api/chat.postMessage?x=1. */
  url: string;
  query: Record<string, string>;
  /** Lower-case names, values as received (Authorization included: tests assert on it). */
  headers: Record<string, string>;
  /** Parsed JSON/form body, raw text, or undefined. */
  body: unknown;
  /** Status answered (0 while in flight or when the connection was dropped). */
  status: number;
  durationMs: number;
  /** Set when a fault rule answered or delayed the call. */
  fault?: { ruleId: number; kind: 'status' | 'latency' | 'drop' };
}

export interface CallFilter {
  connector?: string;
  method?: string;
  /** Exact provider path, or a RegExp tested against it. */
  path?: string | RegExp;
  status?: number;
}

export interface FaultRule {
  connector?: string;
  method?: string;
  /** Exact provider path (/api/chat.postMessage) or RegExp tested against it. Absent: any path. */
  path?: string | RegExp;
  /** How many matching requests this rule affects (default 1; Infinity for all). */
  times?: number;
  /** Answer with this status instead of the real handler (e.g. 429, 500, 503). */
  status?: number;
  /** Seconds for the Retry-After header (or an HTTP date string). */
  retryAfter?: number | string;
  /** Body of the injected answer; default a JSON error in a generic shape. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Delay before answering (the real answer, or the injected one). */
  latencyMs?: number;
  /** Destroy the connection without answering (a network error for the client). */
  drop?: boolean;
}

export interface FaultHandle {
  id: number;
  /** Matching requests still to be affected. */
  remaining(): number;
  cancel(): void;
}

export interface ResetOptions {
  /** Forget recorded calls and the sandbox model's recorded requests (default true). */
  calls?: boolean;
  /** Remove fault rules (default true). */
  faults?: boolean;
  /** Re-seed every provider's data and forget the sandbox model's scripts (default true). */
  data?: boolean;
  /** Forget codes and tokens, and the token-endpoint event log (default false: connections keep working). */
  tokens?: boolean;
}

export interface IssueTokensOptions {
  clientId?: string;
  /** Which of the provider's sandbox accounts (default 0). */
  account?: number;
  scope?: string[];
  ttlSeconds?: number;
}

export interface SandboxOAuth {
  readonly defaultClient: { clientId: string; clientSecret: string };
  registerClient(client: SandboxClient): void;
  /** Access-token lifetime for new tokens, for one connector or all. 0 = expired on arrival. */
  setTokenTtl(seconds: number, connector?: string): void;
  /** Authorization-code lifetime (default 60 s). */
  setCodeTtl(seconds: number): void;
  /** Expire every current access token (of one connector) now. */
  expireAccessTokens(connector?: string): number;
  /** Revoke every grant (of one connector): as if the user removed the app. */
  revokeAll(connector?: string): void;
  /** Mint tokens without the browser dance; returns the provider-shaped token response too. */
  issueTokens(connector: string, options?: IssueTokensOptions): { accessToken: string; refreshToken?: string; expiresIn: number; response: Record<string, unknown> };
  /** Successful refresh grants so far (of one connector). */
  refreshCount(connector?: string): number;
  /** Token-endpoint outcomes, oldest first. */
  events(connector?: string): OAuthEvent[];
}

export interface Sandbox {
  /** http://host:port — pass it to withSandbox()/sandboxConnectors(). */
  url: string;
  host: string;
  port: number;
  /** `${url}/${key}`: the provider's root (Salesforce instance_url, http connector base_url). */
  connectorUrl(key: string): string;
  close(): Promise<void>;
  /** Recorded calls, oldest first. */
  calls(filter?: CallFilter | ((call: RecordedCall) => boolean)): RecordedCall[];
  reset(options?: ResetOptions): void;
  inject(rule: FaultRule): FaultHandle;
  oauth: SandboxOAuth;
  /** Live provider data (Slack messages posted, GitHub issues created…). Replaced on reset({ data }). */
  readonly state: SandboxState;
  /** Moves the sandbox clock forward (expires codes and tokens without waiting). */
  advanceTime(seconds: number): void;
  /** Webhooks sent (or being sent), oldest first. */
  deliveries(connector?: string): RecordedDelivery[];
  /** Resolves once every webhook in flight is delivered or given up. */
  settleDeliveries(): Promise<void>;
  /** Lets each provider (or one) change its data once, as its users would; answers which did. */
  tick(connector?: string): string[];
  /** The sandbox model's OpenAI-compatible base URL (`${url}/llm/v1`): an openai-compatible LLM provider's baseUrl. */
  llmUrl: string;
  /**
   * Scripts the sandbox model `model` (replacing its script): the answer to a conversation with k
   * assistant messages is turns[k] (past the end, the last turn). Throws naming a bad turn.
   */
  scriptModel(model: string, turns: LlmTurn[]): void;
  /** Chat-completions requests received (of one model), oldest first. */
  llmRequests(model?: string): LlmRecordedRequest[];
  clearLlmRequests(): void;
}

export interface SandboxOptions {
  /** Default 0 (a free port). The CLI uses SANDBOX_PORT or 4010. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The URL clients reach the sandbox at, if not http://host:port (e.g. behind a proxy). */
  publicUrl?: string;
  tokenTtlSeconds?: number;
  codeTtlSeconds?: number;
  /** Extra OAuth clients (the default demo client is always registered). */
  clients?: SandboxClient[];
  /** Added to every answer (benchmarks of "slow providers"). */
  latencyMs?: number;
  /** Largest request body accepted (default 5 MiB). */
  maxBodyBytes?: number;
  /**
   * Keep issued tokens and provider data in this JSON file: loaded at start, rewritten atomically
   * shortly after each change and on close, so a restarted sandbox still accepts the tokens it
   * issued (the local stack sets it; unset, everything lives in memory).
   */
  stateFile?: string;
  /** Where problems with the state file are reported (default stderr). */
  warn?: (message: string) => void;
  /** Every this many seconds, each provider changes its data once (see ProviderModule.tick). */
  churnSeconds?: number;
}

const WEBHOOK_ATTEMPTS = 3;
const WEBHOOK_RETRY_MS = 500;

interface ActiveRule extends FaultRule {
  id: number;
  left: number;
}

function parseBody(raw: string, contentType: string): unknown {
  if (!raw) return undefined;
  if (contentType.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  if (contentType.includes('json') || /^\s*[[{]/.test(raw)) {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooBig ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, answer: SandboxResponse): void {
  const headers: Record<string, string> = { ...(answer.headers ?? {}) };
  let payload: string | undefined;
  if (answer.body !== undefined && answer.status !== 204 && answer.status !== 304) {
    if (typeof answer.body === 'string') {
      payload = answer.body;
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
        headers['content-type'] = answer.body.trimStart().startsWith('<') ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8';
      }
    } else {
      payload = JSON.stringify(answer.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json; charset=utf-8';
    }
  }
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(answer.status, headers);
  res.end(payload);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function basicCredentials(header: string | undefined): { user: string; pass: string } | undefined {
  if (!header || !/^Basic\s+/i.test(header)) return undefined;
  const decoded = Buffer.from(header.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? { user: decoded, pass: '' } : { user: decoded.slice(0, i), pass: decoded.slice(i + 1) };
}

function pathMatches(pattern: string | RegExp | undefined, path: string, fullPath: string): boolean {
  if (pattern === undefined) return true;
  if (pattern instanceof RegExp) return pattern.test(path);
  return pattern === path || pattern === fullPath;
}

/** Starts the sandbox. Resolves once it listens. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1';
  const maxBody = options.maxBodyBytes ?? 5 * 1024 * 1024;
  let clockOffset = 0;
  const now = () => Date.now() + clockOffset;
  const oauth = new OAuthServer(now);
  if (options.tokenTtlSeconds !== undefined) oauth.setTokenTtl(options.tokenTtlSeconds);
  if (options.codeTtlSeconds !== undefined) oauth.codeTtlSeconds = options.codeTtlSeconds;
  for (const c of options.clients ?? []) oauth.registerClient(c);

  // The deep fakes, and a generic provider for every other catalogue entry.
  const providers: Record<string, ProviderModule> = { ...catalogueSandboxProviders(Object.keys(sandboxProviders)), ...sandboxProviders };
  let calls: RecordedCall[] = [];
  let nextCallId = 1;
  let rules: ActiveRule[] = [];
  let nextRuleId = 1;
  let baseUrl = '';
  let state = {} as Record<string, unknown>;
  let deliveries: RecordedDelivery[] = [];
  let nextDeliveryId = 1;
  const pendingDeliveries = new Set<Promise<void>>();
  const llm = new SandboxLlm(now, () => changed());

  const seedAll = () => {
    state = Object.fromEntries(Object.entries(providers).map(([k, p]) => [k, p.seed({ sandboxUrl: baseUrl, providerUrl: `${baseUrl}/${k}` })]));
  };

  // The state file: every change marks it dirty; one write follows shortly after (and on close).
  let saveTimer: NodeJS.Timeout | null = null;
  const save = () => {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = null;
    if (!options.stateFile) return;
    try {
      writeStateFile(options.stateFile, { version: 1, oauth: oauth.snapshot(), data: state, llm: llm.snapshot() });
    } catch (error) {
      (options.warn ?? ((m: string) => process.stderr.write(`${m}\n`)))(`Sandbox state could not be saved to ${options.stateFile}: ${(error as Error).message}`);
    }
  };
  const changed = () => {
    if (options.stateFile && !saveTimer) saveTimer = setTimeout(save, 50);
  };

  function authorizeFor(provider: ProviderModule, req: SandboxRequest): ReturnType<ProviderContext['authorize']> {
    const fail = (reason: AuthFailure) => ({ error: provider.authError(reason, req) });
    const bearer = bearerToken(req);
    const basic = basicCredentials(req.headers['authorization']);
    const accountAt = (i: number): SandboxAccount => provider.accounts[i] ?? provider.accounts[0]!;
    let presented = false;
    if (provider.apiKeys) {
      // Bearer (Stripe, http), Basic with the key as user name (Stripe), X-API-Key (http).
      for (const candidate of [bearer, basic?.user, req.headers['x-api-key'], req.query.get('api_key') ?? undefined]) {
        if (!candidate) continue;
        presented = true;
        const i = provider.apiKeys[candidate];
        if (i !== undefined) return { account: accountAt(i), accountIndex: i, scope: [] };
      }
    }
    if (provider.basicCredentials && basic) {
      presented = true;
      const i = provider.basicCredentials[`${basic.user}:${basic.pass}`];
      if (i !== undefined) return { account: accountAt(i), accountIndex: i, scope: [] };
    }
    if (provider.oauth && bearer) {
      const checked = oauth.checkAccessToken(provider.key, bearer);
      if ('record' in checked) return { account: accountAt(checked.record.accountIndex), accountIndex: checked.record.accountIndex, scope: checked.record.scope };
      if (checked.failure !== 'invalid' || !provider.apiKeys) return fail(checked.failure);
    }
    return fail(presented || bearer ? 'invalid' : 'missing');
  }

  function contextFor(provider: ProviderModule): ProviderContext {
    return {
      sandboxUrl: baseUrl,
      providerUrl: `${baseUrl}/${provider.key}`,
      state: state[provider.key],
      authorize: (req) => authorizeFor(provider, req),
      now,
      deliver: (d) => deliver(provider.key, d),
      appClients: () =>
        [...oauth.clients.values()]
          .filter((c) => c.webhookUrl && (!c.connectors || c.connectors.includes(provider.key)))
          .map((c) => ({ clientId: c.clientId, clientSecret: c.clientSecret, webhookUrl: c.webhookUrl!, signingSecret: c.signingSecret })),
      oauthClient: (clientId) => {
        const c = oauth.clients.get(clientId);
        return c && { clientId: c.clientId, clientSecret: c.clientSecret };
      },
    };
  }

  function deliver(connector: string, d: { url: string; headers: Record<string, string>; body: string }): void {
    const record: RecordedDelivery = { id: nextDeliveryId++, at: now(), connector, url: d.url, headers: d.headers, body: d.body, attempts: 0, status: 0, delivered: false };
    deliveries.push(record);
    if (deliveries.length > 1000) deliveries = deliveries.slice(-1000);
    const attempt = async (): Promise<void> => {
      for (let i = 0; i < WEBHOOK_ATTEMPTS; i++) {
        if (i > 0) await sleep(WEBHOOK_RETRY_MS * i);
        record.attempts++;
        try {
          const res = await fetch(d.url, { method: 'POST', headers: d.headers, body: d.body, signal: AbortSignal.timeout(10_000) });
          await res.arrayBuffer();
          record.status = res.status;
          if (res.ok) {
            record.delivered = true;
            return;
          }
          if (res.status < 500) return; // refused: providers do not retry a 4xx
        } catch {
          record.status = 0;
        }
      }
    };
    const pending = attempt().finally(() => pendingDeliveries.delete(pending));
    pendingDeliveries.add(pending);
  }

  /** Lets every provider with a tick() change its data once (or only `connector`). */
  function tick(connector?: string): string[] {
    const ticked: string[] = [];
    for (const provider of Object.values(providers)) {
      if (!provider.tick || (connector && provider.key !== connector)) continue;
      provider.tick(contextFor(provider));
      ticked.push(provider.key);
    }
    changed();
    return ticked;
  }

  async function dispatch(provider: ProviderModule, req: SandboxRequest): Promise<SandboxResponse> {
    const ctx = contextFor(provider);
    if (provider.handle) return provider.handle(req, ctx, oauth);
    const spec = provider.oauth;
    if (spec) {
      if (req.path === spec.authorizePath) {
        if (req.method === 'GET') return oauth.authorizePage(provider, req, ctx);
        if (req.method === 'POST') return oauth.authorizeDecision(provider, req);
        return json(405, { error: 'method_not_allowed' });
      }
      if (req.path === spec.tokenPath) {
        if (req.method !== 'POST') return json(405, { error: 'method_not_allowed' });
        return oauth.tokenEndpoint(provider, req, ctx);
      }
    }
    const pre = provider.precheck?.(req);
    if (pre) return pre;
    let pathMatched = false;
    for (const route of provider.routes) {
      const params = matchPath(route.path, req.path);
      if (!params) continue;
      pathMatched = true;
      if (route.method !== '*' && route.method !== req.method) continue;
      return route.handler({ ...req, params }, ctx);
    }
    if (pathMatched) return json(405, { error: 'method_not_allowed', message: `${req.method} is not supported on ${req.path}` });
    return json(404, { error: 'not_found', message: `The ${provider.displayName} sandbox has no ${req.method} ${req.path}` });
  }

  function injectRule(rule: FaultRule): FaultHandle {
    const active: ActiveRule = { ...rule, id: nextRuleId++, left: rule.times ?? 1 };
    rules.push(active);
    return {
      id: active.id,
      remaining: () => active.left,
      cancel: () => {
        rules = rules.filter((r) => r !== active);
      },
    };
  }

  function filterCalls(filter?: CallFilter | ((call: RecordedCall) => boolean)): RecordedCall[] {
    if (!filter) return calls.slice();
    if (typeof filter === 'function') return calls.filter(filter);
    return calls.filter(
      (c) =>
        (filter.connector === undefined || c.connector === filter.connector) &&
        (filter.method === undefined || c.method === filter.method.toUpperCase()) &&
        (filter.status === undefined || c.status === filter.status) &&
        pathMatches(filter.path, c.path, c.url.split('?')[0]!),
    );
  }

  function reset(opts: ResetOptions = {}): void {
    if (opts.calls ?? true) {
      calls = [];
      deliveries = [];
      llm.clearRequests();
    }
    if (opts.faults ?? true) rules = [];
    if (opts.data ?? true) {
      seedAll();
      llm.clearScripts();
    }
    if (opts.tokens ?? false) oauth.clearTokens();
    changed();
  }

  const oauthApi: SandboxOAuth = {
    defaultClient: { clientId: DEFAULT_CLIENT.clientId, clientSecret: DEFAULT_CLIENT.clientSecret },
    registerClient: (c) => {
      oauth.registerClient(c);
      changed();
    },
    setTokenTtl: (s, c) => oauth.setTokenTtl(s, c),
    setCodeTtl: (s) => {
      oauth.codeTtlSeconds = s;
    },
    expireAccessTokens: (c) => {
      const n = oauth.expireAccessTokens(c);
      changed();
      return n;
    },
    revokeAll: (c) => {
      oauth.revokeAll(c);
      changed();
    },
    issueTokens(connector, o = {}) {
      const provider = providers[connector];
      if (!provider?.oauth) throw new Error(`Sandbox provider "${connector}" has no OAuth server`);
      const issued = oauth.issue(provider, { clientId: o.clientId, accountIndex: o.account, scope: o.scope, ttlSeconds: o.ttlSeconds });
      changed();
      const account = provider.accounts[o.account ?? 0] ?? provider.accounts[0]!;
      const fakeReq: SandboxRequest = { connector, method: 'POST', path: provider.oauth.tokenPath, query: new URLSearchParams(), headers: {}, body: {}, rawBody: '', params: {} };
      return {
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        expiresIn: issued.expiresIn,
        response: provider.oauth.tokenResponse(issued, account, contextFor(provider), fakeReq),
      };
    },
    refreshCount: (c) => oauth.refreshCount(c),
    events: (c) => oauth.events.filter((e) => !c || e.connector === c),
  };

  async function control(path: string, method: string, query: URLSearchParams, body: any): Promise<SandboxResponse> {
    const b = (body && typeof body === 'object' ? body : {}) as Record<string, any>;
    if (path === '/_sandbox/health') return json(200, { ok: true, url: baseUrl });
    if (path === '/_sandbox/deliveries' && method === 'GET') {
      const connector = query.get('connector');
      return json(200, { deliveries: deliveries.filter((d) => !connector || d.connector === connector) });
    }
    if (path.startsWith('/_sandbox/llm/')) return llmControl(path.slice('/_sandbox/llm'.length), method, query, body);
    if (path === '/_sandbox/calls' && method === 'GET') {
      const path = query.get('path') ?? undefined;
      return json(200, {
        calls: filterCalls({
          connector: query.get('connector') ?? undefined,
          method: query.get('method') ?? undefined,
          path: path && path.startsWith('~') ? new RegExp(path.slice(1)) : path,
        }),
      });
    }
    if (method !== 'POST') return json(405, { error: 'method_not_allowed' });
    switch (path) {
      case '/_sandbox/reset':
        reset(b);
        return json(200, { ok: true });
      case '/_sandbox/inject': {
        const rule: FaultRule = {
          ...b,
          path: typeof b.pathRegex === 'string' ? new RegExp(b.pathRegex) : b.path,
          times: b.times === null || b.times === 'Infinity' ? Infinity : b.times,
        };
        return json(200, { id: injectRule(rule).id });
      }
      case '/_sandbox/oauth/token-ttl':
        oauth.setTokenTtl(Number(b.seconds), b.connector);
        return json(200, { ok: true });
      case '/_sandbox/oauth/expire':
        return json(200, { expired: oauth.expireAccessTokens(b.connector) });
      case '/_sandbox/oauth/revoke':
        oauth.revokeAll(b.connector);
        return json(200, { ok: true });
      case '/_sandbox/oauth/clients':
        if (typeof b.clientId !== 'string' || typeof b.clientSecret !== 'string') return json(400, { error: 'clientId and clientSecret are required' });
        oauth.registerClient(b as SandboxClient);
        return json(200, { ok: true });
      case '/_sandbox/oauth/issue':
        try {
          return json(200, oauthApi.issueTokens(String(b.connector), b));
        } catch (e) {
          return json(400, { error: (e as Error).message });
        }
      case '/_sandbox/tick':
        return json(200, { ticked: tick(typeof b.connector === 'string' ? b.connector : undefined) });
      case '/_sandbox/time':
        clockOffset += Number(b.advanceSeconds ?? 0) * 1000;
        return json(200, { now: now() });
      default:
        return json(404, { error: 'not_found' });
    }
  }

  /** `/_sandbox/llm/…`: scripts (PUT/GET/DELETE scripts/:model) and the requests received (GET/DELETE requests). */
  function llmControl(path: string, method: string, query: URLSearchParams, body: unknown): SandboxResponse {
    if (path === '/requests') {
      if (method === 'GET') return json(200, { requests: llm.requests(query.get('model') ?? undefined) });
      if (method === 'DELETE') {
        llm.clearRequests();
        return json(200, { ok: true });
      }
      return json(405, { error: 'method_not_allowed', message: 'GET or DELETE /_sandbox/llm/requests' });
    }
    if (path === '/scripts' && method === 'GET') return json(200, { models: llm.models() });
    if (path.startsWith('/scripts/') && path.length > '/scripts/'.length) {
      let model: string;
      try {
        model = decodeURIComponent(path.slice('/scripts/'.length));
      } catch {
        return json(400, { error: 'invalid_request', message: 'The model name in the path is not valid percent-encoding' });
      }
      if (method === 'PUT') {
        const turns = body && typeof body === 'object' && !Array.isArray(body) ? (body as { turns?: unknown }).turns : undefined;
        try {
          llm.script(model, turns as LlmTurn[]);
        } catch (e) {
          return json(400, { error: 'invalid_script', message: `Script for ${model}: ${(e as Error).message}` });
        }
        return json(200, { model, turns: (turns as unknown[]).length });
      }
      if (method === 'GET') {
        const turns = llm.turns(model);
        return turns ? json(200, { model, turns }) : json(404, { error: 'not_found', message: `No script for model ${model}` });
      }
      if (method === 'DELETE') return llm.unscript(model) ? json(200, { ok: true }) : json(404, { error: 'not_found', message: `No script for model ${model}` });
      return json(405, { error: 'method_not_allowed', message: 'PUT, GET or DELETE /_sandbox/llm/scripts/:model' });
    }
    return json(404, { error: 'not_found', message: `No sandbox control ${method} /_sandbox/llm${path}` });
  }

  function index(): SandboxResponse {
    return json(200, {
      name: 'Switchboard sandbox providers',
      url: baseUrl,
      client: SANDBOX_CREDENTIALS.client,
      apiKeys: { stripe: SANDBOX_CREDENTIALS.stripe.apiKey, http: SANDBOX_CREDENTIALS.http.apiKey },
      llm: { baseUrl: `${baseUrl}/llm/v1`, models: llm.models() },
      providers: Object.fromEntries(
        Object.values(providers).map((p) => [
          p.key,
          {
            url: `${baseUrl}/${p.key}`,
            authorize: p.oauth && p.key !== 'http' ? `${baseUrl}/${p.key}${p.oauth.authorizePath}` : undefined,
            token: p.oauth ? `${baseUrl}/${p.key}${p.oauth.tokenPath}` : undefined,
          },
        ]),
      ),
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const raw = await readBody(req, maxBody);
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    if (raw === null) return send(res, json(413, { error: 'payload_too_large' }));
    const body = parseBody(raw, headers['content-type'] ?? '');

    if (url.pathname === '/' || url.pathname === '') return send(res, index());
    if (url.pathname.startsWith('/_sandbox/')) return send(res, await control(url.pathname, method, url.searchParams, body));

    const segments = url.pathname.split('/');
    const key = decodeURIComponent(segments[1] ?? '');
    const provider = Object.prototype.hasOwnProperty.call(providers, key) ? providers[key] : undefined;
    // The sandbox model sits beside the providers, under /llm (recorded and fault-injectable as connector "llm").
    const isLlm = !provider && key === 'llm';
    const providerPath = provider || isLlm ? `/${segments.slice(2).join('/')}` : url.pathname;
    const call: RecordedCall = {
      id: nextCallId++,
      at: now(),
      connector: provider || isLlm ? key : '',
      method,
      path: providerPath,
      url: `${url.pathname}${url.search}`,
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
      status: 0,
      durationMs: 0,
    };
    calls.push(call);
    const finish = async (answer: SandboxResponse): Promise<void> => {
      if (options.latencyMs) await sleep(options.latencyMs);
      call.status = answer.status;
      call.durationMs = Date.now() - started;
      send(res, answer);
    };
    if (!provider && !isLlm) return finish(json(404, { error: 'not_found', message: `No sandbox provider "${key}". Known: ${Object.keys(providers).join(', ')}` }));

    const rule = rules.find(
      (r) => r.left > 0 && (!r.connector || r.connector === key) && (!r.method || r.method.toUpperCase() === method) && pathMatches(r.path, providerPath, url.pathname),
    );
    if (rule) {
      rule.left -= 1;
      if (rule.left <= 0) rules = rules.filter((r) => r !== rule);
      if (rule.latencyMs) await sleep(rule.latencyMs);
      if (rule.drop) {
        call.fault = { ruleId: rule.id, kind: 'drop' };
        call.durationMs = Date.now() - started;
        req.socket.destroy();
        return;
      }
      if (rule.status) {
        call.fault = { ruleId: rule.id, kind: 'status' };
        const h: Record<string, string> = { ...(rule.headers ?? {}) };
        if (rule.retryAfter !== undefined) h['retry-after'] = String(rule.retryAfter);
        const defaultBody =
          key === 'slack' && rule.status === 429
            ? { ok: false, error: 'ratelimited' }
            : { error: rule.status === 429 ? 'rate_limited' : 'sandbox_injected_error', message: rule.status === 429 ? 'Too many requests' : `Injected ${rule.status}` };
        return finish({ status: rule.status, headers: h, body: rule.body ?? defaultBody });
      }
      call.fault = { ruleId: rule.id, kind: 'latency' };
    }
    let answer: SandboxResponse;
    try {
      const request: SandboxRequest = { connector: key, method, path: providerPath, query: url.searchParams, headers, body, rawBody: raw, params: {} };
      answer = provider ? await dispatch(provider, request) : await llm.handle(request);
    } catch (e) {
      answer = json(500, { error: 'sandbox_error', message: (e as Error).message });
    }
    await finish(answer);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res)
      .catch((e: unknown) => {
        if (!res.headersSent) send(res, json(500, { error: 'sandbox_error', message: (e as Error).message }));
      })
      // Anything but a read may have issued, rotated or revoked a token, or changed provider data.
      .finally(() => req.method !== 'GET' && req.method !== 'HEAD' && changed());
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  baseUrl = (options.publicUrl ?? `http://${hostForUrl}:${port}`).replace(/\/+$/, '');
  seedAll();
  const churn = options.churnSeconds ? setInterval(() => tick(), options.churnSeconds * 1000) : null;
  churn?.unref();
  const saved = options.stateFile ? readStateFile(options.stateFile, options.warn ?? ((m) => process.stderr.write(`${m}\n`))) : null;
  if (saved) {
    oauth.restore(saved.oauth);
    llm.restore(saved.llm);
    // Providers added since the file was written keep their fresh seed.
    for (const key of Object.keys(state)) if (key in saved.data) state[key] = saved.data[key];
  }

  return {
    url: baseUrl,
    host,
    port,
    connectorUrl: (k) => `${baseUrl}/${k}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (churn) clearInterval(churn);
        server.close((err) => {
          if (saveTimer) save(); // the last change, not yet written
          if (err) reject(err);
          else resolve();
        });
        server.closeAllConnections();
      }),
    calls: filterCalls,
    reset,
    inject: injectRule,
    oauth: oauthApi,
    get state() {
      return state as unknown as SandboxState;
    },
    advanceTime(seconds: number) {
      clockOffset += seconds * 1000;
    },
    deliveries: (connector) => deliveries.filter((d) => !connector || d.connector === connector),
    async settleDeliveries() {
      while (pendingDeliveries.size) await Promise.all([...pendingDeliveries]);
    },
    tick,
    llmUrl: `${baseUrl}/llm/v1`,
    scriptModel: (model, turns) => llm.script(model, turns),
    llmRequests: (model) => llm.requests(model),
    clearLlmRequests: () => llm.clearRequests(),
  };
}

export { consentInSandbox } from './consent';
export type { PersistedSandbox } from './persist';
