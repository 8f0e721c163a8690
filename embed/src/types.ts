/** What the widget reads from the Switchboard API (the /v1/me views). */

export interface Connection {
  id: string;
  connector: string;
  status: 'active' | 'needs_reauth' | 'revoked' | 'error';
  accountId: string;
  accountName: string;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Integration {
  key: string;
  name: string;
  description?: string;
  category: string;
  categories?: string[];
  logoUrl?: string;
  /** Drawn instead of an image when the logo is a monogram. */
  monogram?: { color: string; text: string };
  authType: string;
  connection: Connection | null;
}

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

export type PausedReason = 'connection_missing' | 'connection_needs_reauth' | 'connection_revoked' | 'connection_error';

export interface FlowInstance {
  id: string;
  enabled: boolean;
  /** `paused`: on, but a connection it uses is disconnected or needs reauth; nothing runs until it is reconnected. */
  status: 'on' | 'off' | 'paused';
  pausedReason: PausedReason | null;
  connectionProblems: Array<{ binding: string; connector: string; connectionId: string; reason: PausedReason }>;
  /** What Switchboard changed on its own, e.g. rebound to a reconnected account. */
  note: { code: string; message: string; at: string } | null;
  version: number;
  upgradeAvailable: boolean;
  settings: Record<string, unknown>;
  connections: Record<string, string>;
  /** Poll triggers and provider webhooks: whether the trigger works; null for other triggers. */
  triggerHealth: TriggerHealth | null;
  updatedAt: string;
}

export interface TriggerHealth {
  /** waiting: not checked yet (the first poll, or the provider subscription, is to come). */
  status: 'ok' | 'failing' | 'waiting';
  error: { code: string; message: string; at: string; retryAt: string | null } | null;
  /** The last successful poll (null for provider webhooks). */
  lastCheckedAt: string | null;
}

export interface Flow {
  key: string;
  name: string;
  description: string | null;
  version: number;
  /** From the flow's definition; `connector` and `event` for a connector's poll or webhook trigger. */
  trigger?: { type: string; connector?: string; event?: string };
  connectors: string[];
  inputs: Record<string, InputSpec>;
  instance: FlowInstance | null;
}

export interface Run {
  id: string;
  status: 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';
  flow?: string;
  error: { code: string; message: string; step?: string } | null;
  createdAt: string;
  finishedAt: string | null;
  /** The step timeline; the widget reads only whether a call's outcome is unknown or possibly repeated. */
  steps?: Array<{ outcome?: 'unknown'; possibleDuplicate?: true }>;
}

export interface Approval {
  id: string;
  runId: string;
  /** Null for an MCP tool call's approval (see tool). */
  flow: string | null;
  /** The AI assistant's tool call waiting for this approval, e.g. slack_send_message (`<connector>_<action>`). */
  tool?: string | null;
  flowName: string;
  title: string;
  description: string | null;
  approvers: 'end_user' | 'host' | 'any';
  status: 'pending' | 'approved' | 'rejected' | 'expired';
  decidedBy: string | null;
  comment: string | null;
  createdAt: string;
  expiresAt: string | null;
  decidedAt: string | null;
}

export interface OptionItem {
  value: string;
  label: string;
  description?: string;
}

export interface OptionsPage {
  options: OptionItem[];
  nextCursor?: string | null;
}

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
