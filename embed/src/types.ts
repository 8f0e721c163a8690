/**
 * What the widget reads from the Switchboard API (the /v1/me views): aliases of the types generated
 * from the API's OpenAPI document, so they cannot drift from the server. They come from the SDK's
 * generated file, which the package's type build copies into its declarations (build-types.mjs):
 * the published package depends on nothing of ours.
 */
import type { components } from '@switchboard/sdk/api';

type Schemas = components['schemas'];

export type Connection = Schemas['ConnectionView'];
export type Integration = Schemas['IntegrationView'];
export type FlowInstance = Schemas['FlowInstanceView'];
export type PausedReason = NonNullable<FlowInstance['pausedReason']>;
export type TriggerHealth = Schemas['FlowTriggerHealthView'];
export type Run = Schemas['RunView'];
export type Approval = Schemas['ApprovalViewDto'];
export type OptionItem = Schemas['OptionView'];
export type OptionsPage = Schemas['OptionPageView'];

/** A flow setting as the flow's definition declares it (docs/flows.md, inputs): the API passes definitions through as JSON. */
export interface InputSpec {
  type: 'string' | 'number' | 'integer' | 'boolean' | 'array';
  title: string;
  description?: string;
  required?: boolean;
  default?: unknown;
  enum?: Array<string | number>;
  options?: { connector: string; source: string };
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: { type?: string };
}

/** A flow offered to the end user; its trigger and inputs in the definition's format (passed through as JSON). */
export type Flow = Omit<Schemas['FlowView'], 'inputs' | 'trigger'> & {
  /** `connector` and `event` for a connector's poll or webhook trigger. */
  trigger?: { type: string; connector?: string; event?: string };
  inputs: Record<string, InputSpec>;
};

export interface Page<T> {
  data: T[];
  nextCursor?: string | null;
}

/** The look of the widget: set by the tenant in Switchboard, overridable by the host at init. */
export interface Theme {
  mode?: 'light' | 'dark' | 'auto';
  /** A CSS hex colour. */
  accent?: string;
  /** A CSS length up to 32px. */
  radius?: string;
  /** A font-family list. */
  font?: string;
}

export interface WidgetConfig {
  tenantName: string;
  theme: Theme;
}

export type WidgetEvent = 'connected' | 'disconnected' | 'flow-enabled' | 'flow-disabled' | 'approval-decided' | 'open' | 'close' | 'error';

export interface InitOptions {
  /** The end-user session token (`sess_…`, from POST /v1/sessions on your backend) or a JWT you signed. */
  token: string;
  /** Called when the token has expired: resolve with a fresh one (from your backend) to carry on. */
  onSessionExpired?: () => Promise<string>;
  /** Overrides the tenant's theme for this page. */
  theme?: Theme;
  /** Replaces any of the widget's strings (see `messages` in i18n.ts), e.g. to translate it. */
  messages?: Partial<Record<string, string>>;
  /** The Switchboard origin. The script tag knows it; hosts that bundle `@switchboard/embed` must say it. */
  apiUrl?: string;
}

export interface OpenOptions {
  /** Open straight on one connector's page. */
  connector?: string;
}
