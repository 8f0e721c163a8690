/**
 * What the API answers and accepts. Checked against the server's OpenAPI document and its live
 * answers by server/test/sdk-contract.int-spec.ts, so these cannot drift silently.
 */

export interface ErrorBody {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface PageParams {
  limit?: number;
  cursor?: string;
}

export interface EndUser {
  id: string;
  /** Your id for this customer. */
  externalId: string;
  displayName: string | null;
  email: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface UpsertEndUserInput {
  displayName?: string | null;
  email?: string | null;
  metadata?: Record<string, unknown>;
}

export interface CreateSessionInput {
  /** Your id for the end user; created on first use. */
  endUserId: string;
  displayName?: string | null;
  email?: string | null;
  metadata?: Record<string, unknown>;
  /** Limit the session to these connectors (default: every connector the tenant enabled). */
  allowedConnectors?: string[];
  /** Lifetime in seconds (60–86400). */
  ttlSeconds?: number;
}

export interface Session {
  /** sess_… — hand it to the widget: `Switchboard('init', { token })`. */
  token: string;
  expiresAt: string;
  allowedConnectors: string[] | null;
  endUser: EndUser;
}

export type ConnectionStatus = 'active' | 'needs_reauth' | 'revoked' | 'error';

export interface Connection {
  id: string;
  connector: string;
  /** Your id for the end user. */
  endUserId: string;
  status: ConnectionStatus;
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

export interface AccessToken {
  accessToken: string;
  expiresAt: string | null;
}

export interface ProxyRequest {
  method?: string;
  /** Relative to the connector's API base, e.g. `/chat.postMessage` for Slack. */
  path: string;
  query?: Record<string, string | number>;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ProxyResponse<T = unknown> {
  status: number;
  headers: Headers;
  data: T;
}

export type RunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';

export interface StepRecord {
  path: string;
  id: string;
  type: string;
  /** `running`: an action or request in flight; `cancelled`: in flight when the run was cancelled. */
  status: 'succeeded' | 'failed' | 'skipped' | 'waiting' | 'running' | 'cancelled';
  input?: unknown;
  output?: unknown;
  error?: { code: string; message: string };
  attempts: number;
  startedAt: string;
  durationMs: number;
  /** `<runId>:<path>`, sent to providers that de-duplicate by an idempotency key. */
  idempotencyKey?: string;
  /** `unknown`: the step ended with a request unanswered (a timeout): the provider may have acted on it. */
  outcome?: 'unknown';
  /** The call was repeated after an earlier execution may already have sent it: the provider may have it twice. */
  possibleDuplicate?: true;
  /** A model call (`type: 'model'`, a sub-step of an agent step at `<agent>/turn[i]`) or a whole agent step: tokens used. */
  usage?: TokenUsage;
  /** An agent's tool call (`type: 'tool'`, at `<agent>/turn[i]/call[j]`) that needed approval: the decision. */
  approval?: { approved: boolean; decidedBy: string | null; decidedVia: string; comment: string | null; decidedAt: string };
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

export interface Run {
  id: string;
  status: RunStatus;
  /** The flow template's key; null for a run without a flow (an MCP tool call, trigger type `mcp`). */
  flow: string | null;
  /** The MCP tool a run without a flow was started for (e.g. `slack_send_message`); null for flow runs. */
  tool: string | null;
  /** Your id for the end user. */
  endUserId: string;
  /** Null for a run without a flow. */
  instanceId: string | null;
  /** event, request, schedule, poll, webhook, or mcp (an MCP tool call). */
  triggerType: string;
  trigger: unknown;
  result: unknown;
  error: { code: string; message: string; step?: string } | null;
  steps: StepRecord[];
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  /** 1, then +1 per retry from the failed step. */
  attempt: number;
  /** Tokens the run's agent steps used (all zero without any). */
  usage: TokenUsage;
}

export interface RunListParams extends PageParams {
  status?: RunStatus;
  flow?: string;
  /** event, request, schedule, poll, webhook or mcp. */
  triggerType?: string;
  /** An MCP tool name: its calls. */
  tool?: string;
  endUserId?: string;
  since?: string;
  until?: string;
}

export interface EventInput {
  /** The event name flows listen to, e.g. `deal.won`. */
  name: string;
  endUserId: string;
  /** Available to flows as `$trigger`. */
  payload?: unknown;
  /** The same key again returns the first call's runs and starts nothing. The SDK makes one up when you give none, so its own retries are safe. */
  idempotencyKey?: string;
}

export interface EventRun {
  id: string;
  instanceId: string;
  status: RunStatus;
}

export interface RunFlowInput {
  endUserId: string;
  /** Available to the flow as `$trigger`. */
  input?: unknown;
  idempotencyKey?: string;
  /** Answer with the finished run (or the run so far after `timeoutMs`). */
  wait?: boolean;
  /** Up to 30000. */
  timeoutMs?: number;
}

export interface Instance {
  id: string;
  enabled: boolean;
  /** `paused`: enabled, but a connection it uses is disconnected or unusable; triggers skip it until it is reconnected. */
  status: 'on' | 'off' | 'paused';
  pausedReason: 'connection_missing' | 'connection_needs_reauth' | 'connection_revoked' | 'connection_error' | null;
  /** Every binding whose connection is gone or unusable. */
  connectionProblems: Array<{
    binding: string;
    connector: string;
    connectionId: string;
    reason: 'connection_missing' | 'connection_needs_reauth' | 'connection_revoked' | 'connection_error';
  }>;
  /** What Switchboard changed on its own (e.g. rebound to a reconnected account), until the next change. */
  note: { code: 'connection_rebound'; message: string; at: string; binding: string; from: string; to: string } | null;
  version: number;
  upgradeAvailable: boolean;
  settings: Record<string, unknown>;
  connections: Record<string, string>;
  /** Schedule triggers: the next run (null while off). */
  nextRunAt: string | null;
  /** Webhook triggers: the instance's secret URL (null while off). */
  webhookUrl: string | null;
  /** Webhook triggers that verify signatures: the key the sender signs with. */
  webhookSecret: string | null;
  /** Poll triggers and connector webhooks: whether the trigger works; null for other triggers. */
  triggerHealth: TriggerHealth | null;
  updatedAt: string;
}

export interface TriggerHealth {
  /** `waiting`: not checked yet (the first poll, or the provider subscription, is to come). */
  status: 'ok' | 'failing' | 'waiting';
  error: { code: string; message: string; at: string; retryAt: string | null } | null;
  /** The last successful poll. */
  lastCheckedAt: string | null;
  /** When an item last started a run. */
  lastItemAt: string | null;
  /** The next poll (null while off). */
  nextCheckAt: string | null;
}

/** A flow template as one end user sees it, with their instance (null until enabled once). */
export interface Flow {
  key: string;
  name: string;
  description: string | null;
  version: number;
  trigger: unknown;
  connectors: string[];
  inputs: Record<string, unknown>;
  instance: Instance | null;
}

export interface InstanceInput {
  /** Values for the flow's inputs. */
  settings?: Record<string, unknown>;
  /** Connector key → connection id (default: the end user's first active connection). */
  connections?: Record<string, string>;
}

export interface WebhookSecretInput {
  /** The signing secret the sender issued (16–256 characters); the HMAC key, as its UTF-8 bytes. */
  secret: string;
}

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface Approval {
  id: string;
  runId: string;
  /** Null for an MCP tool call's approval (see tool). */
  flow: string | null;
  /** The MCP tool whose call waits for this approval (e.g. slack_send_message); null for flows. */
  tool: string | null;
  flowName: string;
  stepId: string;
  endUserId: string;
  title: string;
  description: string | null;
  approvers: 'end_user' | 'host' | 'any';
  status: ApprovalStatus;
  decidedBy: string | null;
  decidedVia: 'end_user' | 'host' | 'timeout' | 'cancel' | null;
  comment: string | null;
  createdAt: string;
  expiresAt: string | null;
  decidedAt: string | null;
}

export interface ApprovalListParams extends PageParams {
  status?: ApprovalStatus;
  endUserId?: string;
}

export interface DecisionInput {
  /** Available to the flow as `$steps.<id>.comment`. */
  comment?: string;
  /** Who decided, as you name them (default "host"). */
  decidedBy?: string;
}
