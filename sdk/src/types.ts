/**
 * What the API answers and accepts: aliases of the types generated from its OpenAPI document
 * (api.gen.ts, written by `npm run contracts`), so they cannot drift from the server.
 */
import type { components, operations } from './api.gen.js';

type Schemas = components['schemas'];
type Query<Operation extends keyof operations> = NonNullable<operations[Operation]['parameters']['query']>;

export type ErrorBody = Schemas['ErrorBody'];

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export type PageParams = Query<'EndUsersController_list'>;

export type EndUser = Schemas['EndUserView'];
export type UpsertEndUserInput = Schemas['UpsertEndUserDto'];
export type CreateSessionInput = Schemas['CreateSessionDto'];
export type Session = Schemas['SessionView'];

export type ConnectionStatus = Connection['status'];
export type Connection = Schemas['ConnectionView'];
export type AccessToken = Schemas['AccessTokenView'];

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

export type RunStatus = Run['status'];
export type StepRecord = Schemas['StepView'];
export type TokenUsage = Schemas['TokenUsageView'];
export type Run = Schemas['RunView'];
export type RunListParams = Query<'RunsController_list'>;

export type EventInput = Schemas['EventBody'];
export type EventRun = Schemas['EventRunView'];
export type RunFlowInput = Schemas['RunFlowBody'];

// Instance, TriggerHealth and Flow: hand-written until the flow routes document their answers.
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

export type InstanceInput = Schemas['InstanceBody'];
export type WebhookSecretInput = Schemas['WebhookSecretBody'];

export type ApprovalStatus = Approval['status'];
export type Approval = Schemas['ApprovalViewDto'];
export type ApprovalListParams = Query<'ApprovalsController_list'>;
export type DecisionInput = Schemas['HostDecisionBody'];
