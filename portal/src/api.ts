/** The admin API, same origin, JSON in and out, the session in an httpOnly cookie. */
import type { components } from './api.gen';

// Types of routes whose answers are documented come from the OpenAPI document (api.gen.ts).
type Schemas = components['schemas'];

export type Role = 'owner' | 'admin' | 'developer' | 'viewer';
export const ROLES: Role[] = ['owner', 'admin', 'developer', 'viewer'];
export const ROLE_RANK: Record<Role, number> = { viewer: 0, developer: 1, admin: 2, owner: 3 };

export interface Membership {
  tenantId: string;
  tenantName: string;
  role: Role;
}

export interface Me {
  userId: string;
  email: string;
  name: string | null;
  activeTenantId: string | null;
  memberships: Membership[];
}

/** What an invitation is for, as its holder may see it. */
export interface Invitation {
  email: string;
  tenantName: string;
  role: Role;
  expiresAt: string;
  /** The email already has an account: accept signed in as it, or with its password. */
  accountExists: boolean;
  /** This browser is signed in as the invited account. */
  signedInAsInvitee: boolean;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  createdByUserId: string | null;
}

export interface Member {
  id: string;
  userId: string;
  email: string;
  name: string | null;
  role: Role;
  status: 'active' | 'invited';
  createdAt: string;
}

export interface AuditEvent {
  id: string;
  actorType: 'member' | 'api_key' | 'end_user' | 'system';
  actorId: string | null;
  /** A member's email, an API key's name, an end user's external id; null for the system or one no longer found. */
  actorName: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  targetName: string | null;
  data: Record<string, unknown>;
  requestId: string | null;
  ip: string | null;
  createdAt: string;
}

export interface ConnectorConfig {
  enabled: boolean;
  clientId: string | null;
  hasClientSecret: boolean;
  scopes: string[] | null;
  settings: { useSandbox?: boolean; authType?: string; endUserProxy?: boolean; endUserApp?: boolean };
  callbackUrl: string;
  /** Whether a webhook signing secret is stored (it is never returned). */
  hasWebhookSigningSecret: boolean;
  /** Connectors whose provider sends events to the app (webhooks.routing 'app'): set it in the provider's app settings. */
  webhookUrl: string | null;
}

export interface Connector {
  key: string;
  name: string;
  description: string;
  /** The SVG document: on one connector (GET /v1/admin/connectors/:key), not in the list. */
  logo?: string;
  /** Where the logo is served, cacheable for good. */
  logoUrl: string;
  categories: string[];
  docsUrl: string;
  authType: 'oauth2' | 'oauth2_client_credentials' | 'api_key' | 'basic';
  defaultScopes: string[];
  actions: { key: string; name: string; description: string }[];
  optionSources: string[];
  /** What can start a flow: polls and provider webhooks. */
  triggers: { key: string; kind: 'poll' | 'webhook'; name: string; description: string }[];
  /** How the provider pushes events, when it does. */
  webhooks: { routing: 'instance' | 'app'; secret: 'subscription' | 'client_secret' | 'signing_secret' } | null;
  config: ConnectorConfig;
}

export interface ConnectorPatch {
  enabled?: boolean;
  clientId?: string | null;
  clientSecret?: string | null;
  scopes?: string[] | null;
  settings?: { useSandbox?: boolean; endUserApp?: boolean };
  /** Write-only. */
  webhookSigningSecret?: string | null;
}

/** The connector categories (connectors/src/schema.ts). */
export const CONNECTOR_CATEGORIES: string[] = [
  'communication',
  'crm',
  'marketing',
  'developer-tools',
  'productivity',
  'spreadsheets',
  'knowledge',
  'payments',
  'finance',
  'support',
  'storage',
  'project-management',
  'hr',
  'ecommerce',
  'analytics',
  'scheduling',
  'documents',
  'ai',
  'other',
];

/** A tenant's own provider: a catalogue entry under its own key (/v1/admin/custom-providers). */
export interface CustomProvider {
  id: string;
  key: string;
  name: string;
  authType: Connector['authType'];
  definition: Record<string, any>;
  createdAt: string;
  updatedAt: string;
}

/** A tenant's LLM provider (/v1/admin/llm-providers): what flows' agent steps call. The API key is write-only. */
export interface LlmProvider {
  id: string;
  key: string;
  kind: 'openai' | 'anthropic' | 'openai-compatible';
  name: string;
  baseUrl: string | null;
  hasApiKey: boolean;
  defaultModel: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface LlmProviderInput {
  key?: string;
  kind?: LlmProvider['kind'];
  name?: string;
  baseUrl?: string | null;
  apiKey?: string | null;
  defaultModel?: string | null;
}

export interface TemplateVersion {
  version: number;
  publishedAt: string;
  publishedBy: string | null;
  definition: Record<string, unknown>;
}

export interface FlowTemplate {
  id: string;
  key: string;
  name: string;
  latestVersion: number;
  draft: Record<string, unknown>;
  versions: TemplateVersion[];
  createdAt: string;
  updatedAt: string;
}

export interface PathError {
  path: string;
  message: string;
}

/** Poll triggers and provider webhooks: whether the trigger works. */
export interface TriggerHealth {
  /** waiting: not checked yet (the first poll, or the provider subscription, is to come). */
  status: 'ok' | 'failing' | 'waiting';
  error: { code: string; message: string; at: string; retryAt: string | null } | null;
  /** The last successful poll. */
  lastCheckedAt: string | null;
  /** When an item last started a run. */
  lastItemAt: string | null;
}

export interface TemplateInstance {
  id: string;
  endUserId: string;
  endUserName: string | null;
  version: number;
  enabled: boolean;
  /** paused: on, but a connection it uses is disconnected or needs reauth. */
  status: 'on' | 'off' | 'paused';
  /** Null for triggers that are not polls or provider webhooks. */
  triggerHealth: TriggerHealth | null;
  updatedAt: string;
}

export type RunStatus = Run['status'];
export const RUN_STATUSES: RunStatus[] = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'];
export type StepRecord = Schemas['StepView'];
/** Tokens used by AI agent model calls. */
export type TokenUsage = Schemas['TokenUsageView'];
export type Run = Schemas['RunView'];

/** The MCP server's exposure: nothing is a tool until switched on per action. */
export interface McpSettings {
  url: string;
  approvalMode: 'pending' | 'wait';
  approvalWaitSeconds: number;
  connectors: McpConnector[];
}

export interface McpConnector {
  key: string;
  name: string;
  enabled: boolean;
  actions: Array<{ key: string; name: string; description: string; readOnly: boolean; tool: string; exposed: boolean; requireApproval: boolean }>;
}

/** The runs screen's filters, as its form holds them ('' for none). */
export interface RunFilters {
  status?: string;
  flow?: string;
  triggerType?: string;
  tool?: string;
  endUserId?: string;
  since?: string;
  until?: string;
  cursor?: string | null;
  limit?: number;
}

export type ApprovalStatus = Approval['status'];
export const APPROVAL_STATUSES: ApprovalStatus[] = ['pending', 'approved', 'rejected', 'expired'];
/** A question an approval step asked; the run waits until it is decided or expires. */
export type Approval = Schemas['ApprovalViewDto'];

export interface EndUser {
  id: string;
  externalId: string;
  displayName: string | null;
  email: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface EndUserSummary extends EndUser {
  connectionCount: number;
  needsReauthCount: number;
  enabledFlowCount: number;
}

export interface Connection {
  id: string;
  connector: string;
  endUserId: string;
  status: 'active' | 'needs_reauth' | 'revoked' | 'error';
  accountId: string;
  accountName: string;
  scopes: string[];
  expiresAt: string | null;
  lastRefreshedAt: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface EndUserDetail extends EndUser {
  connections: Connection[];
}

export interface EndUserFlow {
  key: string;
  name: string;
  description: string | null;
  version: number;
  trigger: { type?: string; event?: string; connector?: string } | undefined;
  connectors: string[];
  inputs: Record<string, { title?: string; type?: string; options?: { connector: string; source: string } }>;
  instance: {
    id: string;
    enabled: boolean;
    status: 'on' | 'off' | 'paused';
    version: number;
    upgradeAvailable: boolean;
    settings: Record<string, unknown>;
    connections: Record<string, string>;
    updatedAt: string;
    webhookUrl?: string | null;
    nextRunAt?: string | null;
    triggerHealth: TriggerHealth | null;
  } | null;
}

export type StatsWindow = '1h' | '24h' | '7d';

export interface Stats {
  window: StatsWindow;
  from: string;
  to: string;
  bucketSeconds: number;
  totals: {
    runs: number;
    succeeded: number;
    failed: number;
    cancelled: number;
    active: number;
    successRate: number | null;
    p50DurationMs: number | null;
    p95DurationMs: number | null;
  };
  series: { at: string; total: number; succeeded: number; failed: number; p95DurationMs: number | null }[];
  topFailingFlows: { flow: string; name: string; failed: number; total: number }[];
  topErrors: { code: string; message: string; flow: string; count: number; lastAt: string }[];
  /** Tokens used by AI agent steps this calendar month (UTC), and the tenant's cap (null: none). */
  tokens?: { thisMonth: TokenUsage & { modelCalls: number }; monthlyCap: number | null };
}

export interface WidgetTheme {
  mode?: 'light' | 'dark' | 'auto';
  accent?: string;
  radius?: string;
  font?: string;
}

export interface Tenant {
  id: string;
  name: string;
  slug: string;
  allowedOrigins: string[];
  widgetTheme?: WidgetTheme | null;
  /** Tokens the tenant's AI agents may use per calendar month (UTC); null: no cap. */
  monthlyTokenCap?: number | null;
  createdAt: string;
  updatedAt: string;
}

export const WEBHOOK_EVENT_TYPES = [
  'connection.created',
  'connection.needs_reauth',
  'connection.deleted',
  'flow.enabled',
  'flow.disabled',
  'run.succeeded',
  'run.failed',
  'approval.requested',
] as const;

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  eventTypes: string[];
  enabled: boolean;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookDelivery {
  id: string;
  eventId: string;
  eventType: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  responseStatus: number | null;
  latencyMs: number | null;
  error: string | null;
  createdAt: string;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
}

export interface Page<T> {
  data: T[];
  nextCursor?: string | null;
}

/** The API's error envelope, `{ error: { code, message, details } }`, as an exception. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Validation problems by field path (`details.errors[{ path, message }]`). */
  get fieldErrors(): Record<string, string> {
    const errors = Array.isArray(this.details.errors) ? (this.details.errors as { path?: unknown; message?: unknown }[]) : [];
    const byPath: Record<string, string> = {};
    for (const { path, message } of errors) {
      if (typeof path === 'string' && typeof message === 'string' && !byPath[path]) byPath[path] = message;
    }
    return byPath;
  }
}

/** Called when an authenticated request answers 401: the session ended elsewhere or expired. */
let onUnauthenticated: (error: ApiError) => void = () => undefined;
export function setUnauthenticatedHandler(handler: (error: ApiError) => void): void {
  onUnauthenticated = handler;
}

export async function request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const init: RequestInit = { method, credentials: 'same-origin', headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network_error', 'Could not reach the Switchboard server. Check your connection and try again.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (a proxy's error page, say): reported below
  }
  if (res.ok) return parsed as T;

  const envelope = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  const retryAfter = Number(res.headers.get('retry-after'));
  const error = new ApiError(
    res.status,
    typeof envelope?.code === 'string' ? envelope.code : `http_${res.status}`,
    typeof envelope?.message === 'string' ? envelope.message : `The server answered ${res.status} ${res.statusText}`.trim(),
    envelope?.details && typeof envelope.details === 'object' ? (envelope.details as Record<string, unknown>) : {},
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
  );
  if (res.status === 401 && !path.startsWith('/v1/auth/login') && !path.startsWith('/v1/auth/accept-invite') && !path.startsWith('/v1/auth/invitations')) onUnauthenticated(error);
  throw error;
}

export const api = {
  me: () => request<Me>('GET', '/v1/auth/me'),
  login: (email: string, password: string) => request<Me>('POST', '/v1/auth/login', { email, password }),
  logout: () => request<void>('POST', '/v1/auth/logout'),
  switchTenant: (tenantId: string) => request<Me>('POST', '/v1/auth/switch-tenant', { tenantId }),
  lookupInvitation: (token: string) => request<Invitation>('POST', '/v1/auth/invitations/lookup', { token }),
  acceptInvite: (token: string, password?: string, name?: string) =>
    request<Me>('POST', '/v1/auth/accept-invite', { token, ...(password ? { password } : {}), ...(name ? { name } : {}) }),

  apiKeys: () => request<Page<ApiKey>>('GET', '/v1/admin/api-keys'),
  createApiKey: (name: string) => request<{ apiKey: ApiKey; secret: string }>('POST', '/v1/admin/api-keys', { name }),
  revokeApiKey: (id: string) => request<void>('DELETE', `/v1/admin/api-keys/${encodeURIComponent(id)}`),

  members: () => request<Page<Member>>('GET', '/v1/admin/members'),
  invite: (email: string, role: Role) => request<{ member: Member; inviteToken: string; inviteUrl: string }>('POST', '/v1/admin/members', { email, role }),
  changeRole: (id: string, role: Role) => request<Member>('PATCH', `/v1/admin/members/${encodeURIComponent(id)}`, { role }),
  removeMember: (id: string) => request<void>('DELETE', `/v1/admin/members/${encodeURIComponent(id)}`),

  auditEvents: (query: { limit?: number; cursor?: string | null; action?: string }) => request<Page<AuditEvent>>('GET', `/v1/admin/audit-events${qs(query)}`),

  mcp: () => request<McpSettings>('GET', '/v1/admin/mcp'),
  updateMcpConnector: (connector: string, body: { exposed: string[]; requireApproval: string[] }) =>
    request<McpSettings>('PUT', `/v1/admin/mcp/connectors/${encodeURIComponent(connector)}`, body),
  updateMcpApproval: (body: { approvalMode: 'pending' | 'wait'; approvalWaitSeconds: number }) => request<McpSettings>('PUT', '/v1/admin/mcp/approval', body),

  tenant: () => request<Tenant>('GET', '/v1/admin/tenant'),
  updateTenant: (patch: { name?: string; allowedOrigins?: string[]; widgetTheme?: WidgetTheme; monthlyTokenCap?: number | null }) =>
    request<Tenant>('PATCH', '/v1/admin/tenant', patch),

  connectors: () => request<Page<Connector>>('GET', '/v1/admin/connectors'),
  connector: (key: string) => request<Connector>('GET', `/v1/admin/connectors/${enc(key)}`),
  updateConnector: (key: string, patch: ConnectorPatch) => request<Connector>('PUT', `/v1/admin/connectors/${enc(key)}`, patch),
  customProviders: () => request<{ data: CustomProvider[] }>('GET', '/v1/admin/custom-providers'),
  customProvider: (id: string) => request<CustomProvider>('GET', `/v1/admin/custom-providers/${enc(id)}`),
  createCustomProvider: (body: { key: string; definition: Record<string, unknown> }) => request<CustomProvider>('POST', '/v1/admin/custom-providers', body),
  replaceCustomProvider: (id: string, body: { key: string; definition: Record<string, unknown> }) => request<CustomProvider>('PUT', `/v1/admin/custom-providers/${enc(id)}`, body),
  deleteCustomProvider: (id: string) => request<void>('DELETE', `/v1/admin/custom-providers/${enc(id)}`),
  llmProviders: () => request<{ data: LlmProvider[] }>('GET', '/v1/admin/llm-providers'),
  llmProvider: (key: string) => request<LlmProvider>('GET', `/v1/admin/llm-providers/${enc(key)}`),
  createLlmProvider: (body: LlmProviderInput) => request<LlmProvider>('POST', '/v1/admin/llm-providers', body),
  updateLlmProvider: (key: string, body: LlmProviderInput) => request<LlmProvider>('PATCH', `/v1/admin/llm-providers/${enc(key)}`, body),
  deleteLlmProvider: (key: string) => request<void>('DELETE', `/v1/admin/llm-providers/${enc(key)}`),

  templates: () => request<Page<FlowTemplate>>('GET', '/v1/admin/flow-templates'),
  template: (key: string) => request<FlowTemplate>('GET', `/v1/admin/flow-templates/${enc(key)}`),
  createTemplate: (definition: Record<string, unknown>) => request<FlowTemplate>('POST', '/v1/admin/flow-templates', { definition }),
  saveDraft: (key: string, definition: Record<string, unknown>) => request<FlowTemplate>('PUT', `/v1/admin/flow-templates/${enc(key)}/draft`, { definition }),
  validateTemplate: (key: string, definition: Record<string, unknown>) =>
    request<{ valid: boolean; errors: PathError[] }>('POST', `/v1/admin/flow-templates/${enc(key)}/validate`, { definition }),
  publishTemplate: (key: string) => request<{ key: string; version: number; changed: boolean; publishedAt: string }>('POST', `/v1/admin/flow-templates/${enc(key)}/publish`),
  templateInstances: (key: string, query: { cursor?: string | null; version?: number; triggerHealth?: 'failing' } = {}) =>
    request<Page<TemplateInstance> & { byVersion: { version: number; enabled: number; disabled: number }[] }>(
      'GET',
      `/v1/admin/flow-templates/${enc(key)}/instances${qs({ cursor: query.cursor, version: query.version, triggerHealth: query.triggerHealth })}`,
    ),

  runs: (filters: RunFilters) => request<Page<Run>>('GET', `/v1/admin/runs${qs({ ...filters })}`),
  run: (id: string) => request<Run>('GET', `/v1/admin/runs/${enc(id)}`),
  approvals: (filters: { status?: ApprovalStatus; endUserId?: string; cursor?: string | null; limit?: number }) =>
    request<Page<Approval>>('GET', `/v1/admin/approvals${qs({ ...filters })}`),
  retryRun: (id: string) => request<Run>('POST', `/v1/admin/runs/${enc(id)}/retry`),
  cancelRun: (id: string) => request<Run>('POST', `/v1/admin/runs/${enc(id)}/cancel`),

  endUsers: (query: { search?: string; cursor?: string | null }) => request<Page<EndUserSummary>>('GET', `/v1/admin/end-users${qs(query)}`),
  endUser: (externalId: string) => request<EndUserDetail>('GET', `/v1/admin/end-users/${enc(externalId)}`),
  endUserFlows: (externalId: string) => request<Page<EndUserFlow>>('GET', `/v1/admin/end-users/${enc(externalId)}/flows`),
  /** Names of the end user's saved option values (channel ids → #sales), looked up live with the flow's connection. */
  endUserSettingLabels: (externalId: string, key: string) =>
    request<{ data: Record<string, { labels: Record<string, string>; error: string | null }> }>('GET', `/v1/admin/end-users/${enc(externalId)}/flows/${enc(key)}/setting-labels`),

  stats: (window: StatsWindow) => request<Stats>('GET', `/v1/admin/stats?window=${window}`),

  webhookEndpoints: () => request<Page<WebhookEndpoint>>('GET', '/v1/admin/webhook-endpoints'),
  webhookEndpoint: (id: string) => request<WebhookEndpoint>('GET', `/v1/admin/webhook-endpoints/${enc(id)}`),
  createWebhookEndpoint: (body: { url: string; description?: string; eventTypes: string[] }) =>
    request<WebhookEndpoint & { secret: string }>('POST', '/v1/admin/webhook-endpoints', body),
  updateWebhookEndpoint: (id: string, patch: { url?: string; description?: string; eventTypes?: string[]; enabled?: boolean }) =>
    request<WebhookEndpoint>('PATCH', `/v1/admin/webhook-endpoints/${enc(id)}`, patch),
  deleteWebhookEndpoint: (id: string) => request<void>('DELETE', `/v1/admin/webhook-endpoints/${enc(id)}`),
  rotateWebhookSecret: (id: string) => request<WebhookEndpoint & { secret: string }>('POST', `/v1/admin/webhook-endpoints/${enc(id)}/rotate-secret`),
  testWebhookEndpoint: (id: string) => request<unknown>('POST', `/v1/admin/webhook-endpoints/${enc(id)}/test`),
  webhookDeliveries: (id: string, cursor?: string | null) => request<Page<WebhookDelivery>>('GET', `/v1/admin/webhook-endpoints/${enc(id)}/deliveries${qs({ cursor })}`),
  resendDelivery: (id: string) => request<unknown>('POST', `/v1/admin/webhook-deliveries/${enc(id)}/resend`),
};

const enc = encodeURIComponent;

/** `?a=1&b=2` from the values that are set; '' when none are. */
function qs(values: Record<string, string | number | null | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** A message fit to show a person for anything thrown. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
