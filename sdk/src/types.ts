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

/** A flow template as one end user sees it, with their instance (null until enabled once). */
export type Flow = Schemas['FlowView'];
export type Instance = Schemas['FlowInstanceView'];
export type TriggerHealth = Schemas['FlowTriggerHealthView'];
export type InstanceInput = Schemas['InstanceBody'];
export type WebhookSecretInput = Schemas['WebhookSecretBody'];

export type ApprovalStatus = Approval['status'];
export type Approval = Schemas['ApprovalViewDto'];
export type ApprovalListParams = Query<'ApprovalsController_list'>;
export type DecisionInput = Schemas['HostDecisionBody'];
