/** The admin API, same origin, JSON in and out, the session in an httpOnly cookie. */
import type { components } from '@switchboard/sdk/api';

// What the API answers and takes: aliases of the types generated from its OpenAPI document
// (the SDK's api.gen.ts, written by `npm run contracts`), so they cannot drift from the server.
type Schemas = components['schemas'];

export type Role = Member['role'];
export const ROLES: Role[] = ['owner', 'admin', 'developer', 'viewer'];
export const ROLE_RANK: Record<Role, number> = { viewer: 0, developer: 1, admin: 2, owner: 3 };

export type Membership = Schemas['MembershipSummary'];
/** One of a tenant's environments (development, production, …): each is its own scope, the session acts in one. */
export type Environment = Schemas['EnvironmentView'];
/** What promoting a template's published version to another environment would change there. */
export type PromotionPreview = Schemas['PromotionPreviewView'];
export type Me = Schemas['PortalMeView'];
/** What an invitation is for, as its holder may see it. */
export type Invitation = Schemas['InvitationView'];
export type ApiKey = Schemas['ApiKeyView'];
export type Member = Schemas['MemberView'];
export type AuditEvent = Schemas['AuditEventView'];

export type ConnectorConfig = Schemas['ConnectorConfigView'];
export type Connector = Schemas['ConnectorView'];
export type ConnectorPatch = Schemas['UpdateConnectorConfigDto'];
/** A connector's imported OpenAPI document: the actions its operations became. */
export type OpenApiImport = Schemas['OpenApiImportView'];
export type OpenApiOperation = Schemas['OpenApiOperationView'];
/** How a listing operation becomes dropdown options (dot paths). */
export type OpenApiListSpec = Schemas['ListSpecView'];

/** The connector categories custom providers may use (the catalogue's own list; bundled, nothing else of the package). */
export { CONNECTOR_CATEGORIES } from '@switchboard/connectors/dist/categories';

/** A tenant's own provider: a catalogue entry under its own key (/v1/admin/custom-providers). */
export type CustomProvider = Schemas['CustomProviderView'];
/** A tenant's LLM provider (/v1/admin/llm-providers): what flows' agent steps call. The API key is write-only. */
export type LlmProvider = Schemas['LlmProviderView'];

export type TemplateVersion = Schemas['FlowTemplateVersionView'];
export type FlowTemplate = Schemas['FlowTemplateView'];
export type PathError = Schemas['DefinitionErrorView'];
/** Poll triggers and provider webhooks: whether the trigger works. */
export type TriggerHealth = Schemas['TriggerHealthView'];
export type TemplateInstance = Schemas['TemplateInstanceView'];
/** A rollout of a published version to many instances, with its progress (items by status). */
export type Rollout = Schemas['RolloutView'];
export type RolloutItem = Schemas['RolloutItemView'];
export type RolloutTarget = Schemas['RolloutTargetBody'];

export type RunStatus = Run['status'];
export const RUN_STATUSES: RunStatus[] = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'];
export type StepRecord = Schemas['StepView'];
/** Tokens used by AI agent model calls. */
export type TokenUsage = Schemas['TokenUsageView'];
export type Run = Schemas['RunView'];

/** The MCP server's exposure: nothing is a tool until switched on per action. */
export type McpSettings = Schemas['McpOverviewView'];
export type McpConnector = Schemas['McpConnectorView'];

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

export type EndUser = Schemas['EndUserView'];
export type EndUserSummary = Schemas['EndUserSummary'];
export type Connection = Schemas['ConnectionView'];
export type EndUserDetail = Schemas['EndUserDetail'];
/** A flow as one end user sees it, with their instance (null until enabled once). */
export type EndUserFlow = Schemas['FlowView'];

export type StatsWindow = Stats['window'];
export type Stats = Schemas['StatsView'];

export type WidgetTheme = Schemas['WidgetThemeDto'];
export type Tenant = Schemas['TenantView'];

export type WebhookEndpoint = Schemas['WebhookEndpointView'];
export type WebhookEventType = WebhookEndpoint['eventTypes'][number];
export type WebhookDelivery = Schemas['WebhookDeliveryView'];
/** An alert rule (/v1/admin/alert-rules) and an incident it raised (/v1/admin/alert-incidents). */
export type AlertRule = Schemas['AlertRuleView'];
export type AlertKind = AlertRule['kind'];
export type AlertRuleInput = Schemas['CreateAlertRuleDto'];
export type AlertIncident = Schemas['AlertIncidentView'];

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

  environments: () => request<Schemas['EnvironmentListView']>('GET', '/v1/admin/environments'),
  createEnvironment: (body: Schemas['CreateEnvironmentDto']) => request<Environment>('POST', '/v1/admin/environments', body),
  setEnvironmentProtected: (id: string, value: boolean) => request<Environment>('PATCH', `/v1/admin/environments/${enc(id)}`, { protected: value }),

  apiKeys: () => request<Schemas['ApiKeyListView']>('GET', '/v1/admin/api-keys'),
  createApiKey: (name: string) => request<Schemas['CreatedApiKeyView']>('POST', '/v1/admin/api-keys', { name }),
  revokeApiKey: (id: string) => request<void>('DELETE', `/v1/admin/api-keys/${encodeURIComponent(id)}`),

  members: () => request<Schemas['MemberListView']>('GET', '/v1/admin/members'),
  invite: (email: string, role: Role) => request<Schemas['InvitedMemberView']>('POST', '/v1/admin/members', { email, role }),
  changeRole: (id: string, role: Role) => request<Member>('PATCH', `/v1/admin/members/${encodeURIComponent(id)}`, { role }),
  removeMember: (id: string) => request<void>('DELETE', `/v1/admin/members/${encodeURIComponent(id)}`),

  auditEvents: (query: { limit?: number; cursor?: string | null; action?: string }) => request<Schemas['AuditEventPage']>('GET', `/v1/admin/audit-events${qs(query)}`),

  mcp: () => request<McpSettings>('GET', '/v1/admin/mcp'),
  updateMcpConnector: (connector: string, body: Schemas['ConnectorExposureBody']) => request<McpSettings>('PUT', `/v1/admin/mcp/connectors/${encodeURIComponent(connector)}`, body),
  updateMcpApproval: (body: Schemas['McpApprovalBody']) => request<McpSettings>('PUT', '/v1/admin/mcp/approval', body),

  tenant: () => request<Tenant>('GET', '/v1/admin/tenant'),
  updateTenant: (patch: Schemas['UpdateTenantDto']) => request<Tenant>('PATCH', '/v1/admin/tenant', patch),

  connectors: () => request<Schemas['ConnectorListView']>('GET', '/v1/admin/connectors'),
  connector: (key: string) => request<Connector>('GET', `/v1/admin/connectors/${enc(key)}`),
  updateConnector: (key: string, patch: ConnectorPatch) => request<Connector>('PUT', `/v1/admin/connectors/${enc(key)}`, patch),
  customProviders: () => request<Schemas['CustomProviderListView']>('GET', '/v1/admin/custom-providers'),
  customProvider: (id: string) => request<CustomProvider>('GET', `/v1/admin/custom-providers/${enc(id)}`),
  createCustomProvider: (body: Schemas['CustomProviderDto']) => request<CustomProvider>('POST', '/v1/admin/custom-providers', body),
  replaceCustomProvider: (id: string, body: Schemas['CustomProviderDto']) => request<CustomProvider>('PUT', `/v1/admin/custom-providers/${enc(id)}`, body),
  deleteCustomProvider: (id: string) => request<void>('DELETE', `/v1/admin/custom-providers/${enc(id)}`),
  alertRules: () => request<Schemas['AlertRuleListView']>('GET', '/v1/admin/alert-rules'),
  alertRule: (id: string) => request<AlertRule>('GET', `/v1/admin/alert-rules/${enc(id)}`),
  createAlertRule: (body: AlertRuleInput) => request<AlertRule>('POST', '/v1/admin/alert-rules', body),
  updateAlertRule: (id: string, body: Schemas['UpdateAlertRuleDto']) => request<AlertRule>('PATCH', `/v1/admin/alert-rules/${enc(id)}`, body),
  deleteAlertRule: (id: string) => request<void>('DELETE', `/v1/admin/alert-rules/${enc(id)}`),
  alertIncidents: (status: 'firing' | 'resolved' | null) => request<Schemas['AlertIncidentListView']>('GET', `/v1/admin/alert-incidents${status ? `?status=${status}` : ''}`),
  llmProviders: () => request<Schemas['LlmProviderListView']>('GET', '/v1/admin/llm-providers'),
  llmProvider: (key: string) => request<LlmProvider>('GET', `/v1/admin/llm-providers/${enc(key)}`),
  createLlmProvider: (body: Schemas['CreateLlmProviderDto']) => request<LlmProvider>('POST', '/v1/admin/llm-providers', body),
  updateLlmProvider: (key: string, body: Schemas['UpdateLlmProviderDto']) => request<LlmProvider>('PATCH', `/v1/admin/llm-providers/${enc(key)}`, body),
  deleteLlmProvider: (key: string) => request<void>('DELETE', `/v1/admin/llm-providers/${enc(key)}`),

  templates: () => request<Schemas['FlowTemplateListView']>('GET', '/v1/admin/flow-templates'),
  template: (key: string) => request<FlowTemplate>('GET', `/v1/admin/flow-templates/${enc(key)}`),
  createTemplate: (definition: Record<string, unknown>) => request<FlowTemplate>('POST', '/v1/admin/flow-templates', { definition }),
  saveDraft: (key: string, definition: Record<string, unknown>) => request<FlowTemplate>('PUT', `/v1/admin/flow-templates/${enc(key)}/draft`, { definition }),
  validateTemplate: (key: string, definition: Record<string, unknown>) =>
    request<Schemas['FlowValidationView']>('POST', `/v1/admin/flow-templates/${enc(key)}/validate`, { definition }),
  publishTemplate: (key: string) => request<Schemas['PublishedFlowVersionView']>('POST', `/v1/admin/flow-templates/${enc(key)}/publish`),
  templateInstances: (key: string, query: { cursor?: string | null; version?: number; triggerHealth?: 'failing' } = {}) =>
    request<Schemas['TemplateInstancePage']>(
      'GET',
      `/v1/admin/flow-templates/${enc(key)}/instances${qs({ cursor: query.cursor, version: query.version, triggerHealth: query.triggerHealth })}`,
    ),

  promotion: (key: string, environmentId: string) => request<PromotionPreview>('GET', `/v1/admin/flow-templates/${enc(key)}/promotion${qs({ environmentId })}`),
  promote: (key: string, body: Schemas['PromoteBody']) => request<Schemas['PromotionView']>('POST', `/v1/admin/flow-templates/${enc(key)}/promote`, body),
  setTemplateOptions: (key: string, options: Schemas['TemplateOptionsBody']) => request<FlowTemplate>('PATCH', `/v1/admin/flow-templates/${enc(key)}`, options),
  rollouts: (key: string) => request<Schemas['RolloutListView']>('GET', `/v1/admin/flow-templates/${enc(key)}/rollouts`),
  startRollout: (key: string, version: number, target: RolloutTarget, whenSettingsMissing: 'stay' | 'pause' = 'stay') =>
    request<Rollout>('POST', `/v1/admin/flow-templates/${enc(key)}/rollouts`, { version, target, whenSettingsMissing }),
  rolloutItems: (key: string, id: string, query: { status?: string; cursor?: string | null }) =>
    request<Schemas['RolloutItemPage']>('GET', `/v1/admin/flow-templates/${enc(key)}/rollouts/${enc(id)}/items${qs({ ...query })}`),
  stopRollout: (key: string, id: string) => request<Rollout>('POST', `/v1/admin/flow-templates/${enc(key)}/rollouts/${enc(id)}/stop`),
  rollBack: (key: string, id: string) => request<Rollout>('POST', `/v1/admin/flow-templates/${enc(key)}/rollouts/${enc(id)}/rollback`),

  runs: (filters: RunFilters) => request<Schemas['RunPage']>('GET', `/v1/admin/runs${qs({ ...filters })}`),
  run: (id: string) => request<Run>('GET', `/v1/admin/runs/${enc(id)}`),
  approvals: (filters: { status?: ApprovalStatus; endUserId?: string; cursor?: string | null; limit?: number }) =>
    request<Schemas['ApprovalPage']>('GET', `/v1/admin/approvals${qs({ ...filters })}`),
  retryRun: (id: string) => request<Run>('POST', `/v1/admin/runs/${enc(id)}/retry`),
  cancelRun: (id: string) => request<Run>('POST', `/v1/admin/runs/${enc(id)}/cancel`),

  endUsers: (query: { search?: string; cursor?: string | null }) => request<Schemas['EndUserSummaryPage']>('GET', `/v1/admin/end-users${qs(query)}`),
  endUser: (externalId: string) => request<EndUserDetail>('GET', `/v1/admin/end-users/${enc(externalId)}`),
  /** Connections across end users, newest first (e.g. the active Slack ones an alert rule may post through). */
  connections: (query: { connector?: string; status?: Connection['status']; search?: string; limit?: number; cursor?: string | null }) =>
    request<Schemas['ConnectionPage']>('GET', `/v1/admin/connections${qs(query)}`),
  endUserFlows: (externalId: string) => request<Schemas['FlowListView']>('GET', `/v1/admin/end-users/${enc(externalId)}/flows`),
  /** Names of the end user's saved option values (channel ids → #sales), looked up live with the flow's connection. */
  endUserSettingLabels: (externalId: string, key: string) =>
    request<Schemas['SettingLabelsView']>('GET', `/v1/admin/end-users/${enc(externalId)}/flows/${enc(key)}/setting-labels`),

  stats: (window: StatsWindow) => request<Stats>('GET', `/v1/admin/stats?window=${window}`),

  webhookEndpoints: () => request<Schemas['WebhookEndpointListView']>('GET', '/v1/admin/webhook-endpoints'),
  webhookEndpoint: (id: string) => request<WebhookEndpoint>('GET', `/v1/admin/webhook-endpoints/${enc(id)}`),
  createWebhookEndpoint: (body: Schemas['CreateWebhookEndpointDto']) => request<Schemas['WebhookEndpointWithSecretView']>('POST', '/v1/admin/webhook-endpoints', body),
  updateWebhookEndpoint: (id: string, patch: Schemas['UpdateWebhookEndpointDto']) => request<WebhookEndpoint>('PATCH', `/v1/admin/webhook-endpoints/${enc(id)}`, patch),
  deleteWebhookEndpoint: (id: string) => request<void>('DELETE', `/v1/admin/webhook-endpoints/${enc(id)}`),
  rotateWebhookSecret: (id: string) => request<Schemas['WebhookEndpointWithSecretView']>('POST', `/v1/admin/webhook-endpoints/${enc(id)}/rotate-secret`),
  testWebhookEndpoint: (id: string) => request<WebhookDelivery>('POST', `/v1/admin/webhook-endpoints/${enc(id)}/test`),
  webhookDeliveries: (id: string, cursor?: string | null) =>
    request<Schemas['WebhookDeliveryListView']>('GET', `/v1/admin/webhook-endpoints/${enc(id)}/deliveries${qs({ cursor })}`),
  resendDelivery: (id: string) => request<WebhookDelivery>('POST', `/v1/admin/webhook-deliveries/${enc(id)}/resend`),
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
