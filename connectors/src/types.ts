import type { Static, TObject, TSchema } from '@sinclair/typebox';

/**
 * The connector format. A connector is a plain, typed object made with defineConnector(); the
 * server reads it to run OAuth, inject credentials, call the provider and offer dynamic options.
 * URLs are the provider's real ones; the sandbox is reached by overriding origins (see sandbox/).
 */

/**
 * A JSON Schema (draft 2020-12) describing an action's input or output. Built-in connectors write
 * TypeBox schemas (providers/shared.ts); imported ones (openapi.ts, catalogue.ts) plain JSON.
 */
export type JsonSchema = { [key: string]: unknown };

/** `{{name}}` in a URL is replaced by the connection-config value `name` (e.g. a Shopify shop). */
export type TemplatedUrl = string;

export interface OAuth2Auth {
  type: 'oauth2';
  authorizationUrl: TemplatedUrl;
  tokenUrl: TemplatedUrl;
  /** Where refresh requests go when not to tokenUrl (Figma: /v1/oauth/refresh). */
  refreshUrl?: TemplatedUrl;
  /** Scopes asked for unless the tenant's connector config says otherwise. */
  scopes: string[];
  /** How scopes are joined in the authorize URL; OAuth says ' ', some providers use ','. */
  scopeSeparator?: ' ' | ',';
  /** PKCE (S256). Default true; a few providers reject it. */
  pkce?: boolean;
  /** Extra query parameters on the authorize URL, e.g. { access_type: 'offline', prompt: 'consent' }. */
  authorizationParams?: Record<string, string>;
  /** Extra form parameters on token requests. */
  tokenParams?: Record<string, string>;
  /** Extra form parameters on refresh requests only (after tokenParams), e.g. Microsoft's `scope`. */
  refreshParams?: Record<string, string>;
  /** How the client authenticates at the token endpoint. Default client_secret_post. */
  clientAuthentication?: 'client_secret_basic' | 'client_secret_post';
  /**
   * Where the token response keeps things when it is not standard OAuth (dot paths), e.g. Slack's
   * user tokens at `authed_user.access_token`. Unset fields use the standard names.
   */
  tokenResponse?: {
    accessToken?: string;
    refreshToken?: string;
    expiresIn?: string;
    scope?: string;
    /**
     * Where the provider puts its error code when it is not `error` (HubSpot: `status`). Some
     * providers answer token errors with HTTP 200 (Slack `{ ok: false, error }`, GitHub
     * `{ error }`): a body with an error code and no access token is an error whatever the status.
     */
    error?: string;
  };
  /**
   * Error codes from the token endpoint that mean the grant is dead (reconnect needed), besides the
   * standard `invalid_grant`: Slack `invalid_refresh_token`, GitHub `bad_refresh_token`, HubSpot
   * `BAD_REFRESH_TOKEN`… See parseTokenResponse().
   */
  invalidGrantErrors?: string[];
  /** How token requests are encoded. Default 'form' (RFC 6749); Notion documents JSON. */
  tokenRequestFormat?: 'form' | 'json';
  /**
   * Values to keep from the token response as connection config (dot paths), e.g. Salesforce's
   * `{ instance_url: 'instance_url' }`, usable as `{{instance_url}}` in baseUrl.
   */
  connectionConfigFromToken?: Record<string, string>;
  /** Whether the provider issues refresh tokens. */
  refreshable: boolean;
  /** Where the access token goes when not `Authorization: Bearer` (Shopify: `X-Shopify-Access-Token`, no prefix). */
  tokenHeader?: TokenHeader;
}

export interface TokenHeader {
  name: string;
  /** Put before the token; default none. */
  prefix?: string;
}

export interface OAuth2ClientCredentialsAuth {
  type: 'oauth2_client_credentials';
  tokenUrl: TemplatedUrl;
  scopes?: string[];
  scopeSeparator?: ' ' | ',';
  clientAuthentication?: 'client_secret_basic' | 'client_secret_post';
  /** Extra form parameters on token requests (Auth0: the API's `audience`). */
  tokenParams?: Record<string, string>;
  tokenHeader?: TokenHeader;
}

export interface ApiKeyAuth {
  type: 'api_key';
  /** Where the key goes on each request. */
  in: 'header' | 'query';
  /** Header or query parameter name, e.g. 'Authorization' or 'api_key'. */
  name: string;
  /** Put before the key, e.g. 'Bearer '. `name` and `prefix` may use `{{config}}` templates. */
  prefix?: string;
  /** What the end user is asked for in the connect form. */
  label?: string;
  /** Where to find the key, shown under the field. */
  help?: string;
}

export interface BasicAuth {
  type: 'basic';
  usernameLabel?: string;
  passwordLabel?: string;
  /** A fixed username the form does not ask for (Mailgun: `api`). */
  username?: string;
  /** A fixed password the form does not ask for (APIs that take the key as the username: `X`, or empty). */
  password?: string;
  /** Where to find the credentials, shown under the fields. */
  help?: string;
}

export type AuthSpec = OAuth2Auth | OAuth2ClientCredentialsAuth | ApiKeyAuth | BasicAuth;

/** A value the end user (or tenant) supplies besides credentials, e.g. a Shopify shop name. */
export interface ConnectionConfigField {
  title: string;
  description?: string;
  /** A regular expression the value must match (anchored). */
  pattern?: string;
  example?: string;
  /** Filled from the token response instead of asked for (see OAuth2Auth.connectionConfigFromToken). */
  fromToken?: boolean;
  /** Filled from a query parameter of the OAuth callback instead of asked for: `true` for the same name, or the parameter's name (QuickBooks `realmId`). */
  fromCallback?: boolean | string;
  /** Filled from what account() learns after connecting (AccountInfo.config: Atlassian's cloud id) instead of asked for. */
  fromAccount?: boolean;
  /** The value may be left empty (default: required). */
  optional?: boolean;
  /** Used when the value is left empty. */
  default?: string;
}

export type PaginationSpec =
  | { style: 'none' }
  | { style: 'cursor'; cursorParam: string; nextCursorPath: string; limitParam?: string }
  | { style: 'page'; pageParam: string; limitParam?: string }
  | { style: 'offset'; offsetParam: string; limitParam?: string }
  | { style: 'link_header' };

export interface RateLimitHint {
  /** Sustained requests per second per connection the provider tolerates. */
  requestsPerSecond?: number;
  /** Header carrying seconds (or an HTTP date) to wait after a 429, if not Retry-After. */
  retryAfterHeader?: string;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /**
   * Appended to the base URL (`baseUrl + '/' + path`, slashes collapsed, so a leading '/' does not
   * drop the base's path), or absolute — then its origin must be the origin of baseUrl or of one
   * of baseUrls. Actions use relative paths so that base-URL overrides (sandbox) are mechanical.
   */
  path: string;
  /** Resolve `path` against `baseUrls[base]` instead of `baseUrl` (e.g. Google Drive next to Sheets). */
  base?: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** JSON-encoded unless `form` is set. */
  body?: unknown;
  form?: Record<string, string>;
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  data: T;
}

/**
 * An HTTP client with the connection's credentials injected and refresh handled. It sends each
 * request once (a flow step's retry policy repeats the whole action, where `retrySafe` allows).
 * It resolves with whatever status the provider answered (it does not throw on 4xx/5xx;
 * actions turn those into HttpError via `send()`), and rejects only on network failure, timeout,
 * abort, or a URL outside the connector's origins. Bodies: JSON parsed when the response says JSON,
 * else text. Header names lower-case.
 */
export interface AuthedHttpClient {
  request<T = unknown>(request: HttpRequest): Promise<HttpResponse<T>>;
}

export interface ActionContext {
  http: AuthedHttpClient;
  /** Connection-config values (e.g. { shop: 'acme' }). */
  config: Record<string, string>;
  /** Stable per step execution; pass it to providers that accept one. */
  idempotencyKey: string;
  signal: AbortSignal;
}

/** A failure the provider reported in a 2xx body (Slack's `ok: false`, say); never retried. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/**
 * A provider answered an HTTP error status. `retryable` is true for
 * 408, 429 and 5xx; the engine may retry those per the step's policy and treats the rest as final.
 */
export class HttpError extends Error {
  readonly retryable: boolean;
  constructor(
    message: string,
    readonly status: number,
    readonly data?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.retryable = status === 408 || status === 429 || status >= 500;
  }
}

export interface ActionDefinition<I = any, O = any> {
  name: string;
  description: string;
  /**
   * JSON Schema of the input. A property may carry `"x-options": "<source>"` naming one of the
   * connector's option sources that offers its values (a dropdown in the widget / flow builder).
   */
  input: JsonSchema;
  output: JsonSchema;
  /**
   * True when the action only reads: it changes nothing at the provider. Agents and MCP clients see
   * it as a read-only tool; writes are what a tenant may put behind a human approval.
   */
  readOnly: boolean;
  /**
   * Whether the engine may repeat the whole action after a POST/PATCH of it may have reached the
   * provider (a 5xx, a timeout, a dropped connection). True only when a repeat cannot duplicate an
   * effect: the request is naturally idempotent (an upsert, a PATCH setting fields, a PUT) or carries
   * `ctx.idempotencyKey` in a header the provider de-duplicates by. Slack's chat.postMessage is not.
   * Reads (GET) and requests that never reached the provider are repeated whatever this says.
   */
  retrySafe: boolean;
  run(ctx: ActionContext, input: I): Promise<O>;
}

export interface OptionItem {
  value: string;
  label: string;
  description?: string;
}

/** A dynamic dropdown (Slack channels, GitHub repos…): search and cursor paging. */
export interface OptionSource {
  /** Human name, e.g. "Channels". The record key is the stable id used in flows. */
  name: string;
  description?: string;
  run(ctx: ActionContext, params: { search?: string; cursor?: string }): Promise<{ options: OptionItem[]; nextCursor?: string }>;
}

export interface AccountInfo {
  /** The provider's stable id of the connected account (workspace + user, org, …). */
  id: string;
  /** What people see, e.g. "Acme workspace (jane@acme.com)". */
  name: string;
  /** Extra facts worth showing or keeping (team id, instance URL, …); JSON values only. */
  details?: Record<string, unknown>;
  /** Connection config learned while naming the account, for fields marked fromAccount. */
  config?: Record<string, string>;
}

/**
 * How a provider says "this token is expired or invalid" so the client refreshes once and retries.
 * Default: HTTP 401. Slack answers 200 with `{ ok: false, error: 'token_expired' }`.
 */
export interface AuthFailureSpec {
  /** Statuses that mean the token is bad. Default [401]. */
  status?: number[];
  /** Dot path of an error code in a (2xx) JSON body, e.g. 'error'. */
  bodyPath?: string;
  /** Values at bodyPath that mean the token is bad, e.g. ['token_expired', 'invalid_auth']. */
  bodyValues?: string[];
}

/** One thing a trigger saw: it becomes one run, with `data` as `$trigger`. */
export interface TriggerItem {
  /** The provider's stable id of the item. */
  id: string;
  /**
   * What makes the item new, when the same id can come back changed (an "updated" trigger):
   * e.g. `${id}:${updatedAt}`. Default `id`. One run per dedupe key per instance, ever.
   */
  dedupeKey?: string;
  data: Record<string, unknown>;
}

interface TriggerBase {
  name: string;
  description: string;
  /**
   * JSON Schema of the trigger's parameters (which repository, which calendar…), given by the flow
   * as `trigger.input`; a property may carry `"x-options"` like an action's input.
   */
  input?: JsonSchema;
  /** JSON Schema of each item's `data`, i.e. of `$trigger`. */
  output: JsonSchema;
}

/**
 * A trigger that asks the provider for new items on an interval. The engine keeps the cursor,
 * schedules the polls, deduplicates items and turns each new one into a run.
 */
export interface PollTrigger<I = any, C = any> extends TriggerBase {
  kind: 'poll';
  /** Default seconds between polls; a flow may ask for more, never less than minIntervalSeconds. */
  intervalSeconds: number;
  /** The provider's floor (rate limits, data freshness). Default 60. */
  minIntervalSeconds?: number;
  /**
   * The items after `cursor`, oldest first, at most `limit`, and the cursor just after the last one
   * returned (the provider's high-water mark: a timestamp, an id, a page token; JSON only). With
   * `cursor` null (the first poll) it answers the newest items (at most `limit`, oldest first) and
   * the cursor after the newest: the engine runs some of them (a backfill) or none (from now).
   * `more`: items remain after these; the engine polls again soon rather than at the interval.
   * Throws like an action does (HttpError, ProviderError): the cursor then stays where it was.
   */
  poll(ctx: ActionContext, params: { input: I; cursor: C | null; limit: number }): Promise<{ items: TriggerItem[]; cursor: C; more?: boolean }>;
}

/** One event in a provider's webhook delivery. */
export interface WebhookEvent {
  /** The provider's event id (what deliveries are deduplicated by). */
  id: string;
  /** The provider's event type, as WebhookTrigger.events names it (`issues.opened`, `payment_intent.succeeded`). */
  type: string;
  /** Routing 'app': whose account the event is about, as ProviderWebhooks.accountKey() answers for a connection. */
  account?: string;
  data: Record<string, unknown>;
}

/** A trigger the provider pushes to Switchboard (see ProviderWebhooks). */
export interface WebhookTrigger<I = any> extends TriggerBase {
  kind: 'webhook';
  /** The provider event types it listens to; what subscribe() asks the provider for. */
  events: string[];
  /** The item an event gives this instance, or null when the event is not for it (another repository, say). */
  map(event: WebhookEvent, input: I): TriggerItem | null;
}

export type TriggerDefinition = PollTrigger | WebhookTrigger;

/** An inbound webhook call, as a connector's verify/handshake/events see it. */
export interface WebhookRequest {
  method: string;
  /** Path and query as received, e.g. `/v1/hooks/apps/…?x=1` (HubSpot signs it with the public URL). */
  url: string;
  /** The public URL the provider called (scheme, host, path, query). */
  publicUrl: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  rawBody: Buffer;
  /** The parsed JSON or form body. */
  body: unknown;
}

/** How a provider pushes events: how deliveries are signed, what they hold, how they are subscribed. */
export interface ProviderWebhooks {
  /**
   * 'instance': each enabled instance gets its own URL, registered at the provider by subscribe()
   * when the end user enables the flow (GitHub repository hooks, Stripe endpoints, Shopify
   * subscriptions). 'app': one URL per tenant's app, set once in the provider's app settings
   * (Slack Events API, HubSpot app webhooks); events are routed by account to connections.
   */
  routing: 'instance' | 'app';
  /**
   * The key deliveries are signed with: the subscription's (the one Switchboard offers in
   * subscribe(), or the one the provider answers), the OAuth app's client secret (HubSpot,
   * Shopify), or the app's separate signing secret the tenant enters in its connector config (Slack).
   */
  secret: 'subscription' | 'client_secret' | 'signing_secret';
  /** Null when the signature is valid, else a short reason (`timestamp too old`, `signature mismatch`). */
  verify(req: WebhookRequest, secret: string, now: number): string | null;
  /** A handshake the provider sends to check the URL (Slack `url_verification`): the answer, or undefined. */
  handshake?(req: WebhookRequest): { status: number; body: unknown } | undefined;
  /** The events in one delivery (HubSpot sends batches). */
  events(req: WebhookRequest): WebhookEvent[];
  /** Routing 'app': the key events name a connection's account by (Slack: its team id). */
  accountKey?(connection: { accountId: string; config: Record<string, string> }): string;
  /**
   * Routing 'instance': registers `url` at the provider for the events, answering the provider's
   * id of the subscription and, when the provider issues one (Stripe), its signing secret.
   * `secret` is Switchboard's own, for providers that take one (GitHub).
   */
  subscribe?(ctx: ActionContext, params: { url: string; secret: string; events: string[]; input: Record<string, unknown> }): Promise<{ id: string; secret?: string }>;
  /** Removes a subscription; an already-gone one (404) is not an error. */
  unsubscribe?(ctx: ActionContext, params: { id: string; input: Record<string, unknown> }): Promise<void>;
}

export interface ConnectorDefinition {
  key: string;
  name: string;
  description: string;
  /** An inline SVG document. */
  logo: string;
  /** What `logo` draws when it is a monogram (catalogue entries): a list can draw it without an image. */
  monogram?: { color: string; text: string };
  categories: string[];
  docsUrl: string;
  auth: AuthSpec;
  /** For the generic HTTP connector: the auth kinds a tenant may choose from in its config. */
  authChoices?: AuthSpec['type'][];
  /**
   * The full spec for each of authChoices (templated from connection config, e.g. a token URL);
   * `auth` is the default choice.
   */
  authSpecs?: AuthSpec[];
  connectionConfig?: Record<string, ConnectionConfigField>;
  baseUrl: TemplatedUrl;
  /**
   * Further API bases the actions call, by name (see HttpRequest.base), e.g. Google Sheets'
   * `{ drive: 'https://www.googleapis.com/drive/v3' }`. The proxy and sandbox overrides cover them.
   */
  baseUrls?: Record<string, TemplatedUrl>;
  defaultHeaders?: Record<string, string>;
  pagination?: PaginationSpec;
  rateLimit?: RateLimitHint;
  /**
   * The provider de-duplicates POST/PATCH requests by an `Idempotency-Key` header (Stripe): such a
   * request carrying one may be repeated after a failure, like a GET. The engine sends the step's
   * key on every raw request step.
   */
  honoursIdempotencyKey?: boolean;
  /** How the API reports a bad or expired token; default HTTP 401. */
  authFailure?: AuthFailureSpec;
  actions: Record<string, ActionDefinition>;
  options?: Record<string, OptionSource>;
  /** What can start a flow from inside the provider, by key (the flow's `trigger.event`). */
  triggers?: Record<string, TriggerDefinition>;
  /** How the provider pushes events; required when any trigger is a webhook trigger. */
  webhooks?: ProviderWebhooks;
  /** Names the connected account; also proves fresh credentials work (used to verify API keys). */
  account(ctx: ActionContext): Promise<AccountInfo>;
}

export function defineConnector<const T extends ConnectorDefinition>(definition: T): T {
  return definition;
}

/**
 * An action whose input and output types are those of its TypeBox schemas (see providers/shared.ts):
 * `run` gets `Static<typeof input>` and must answer `Static<typeof output>` (NoInfer: the output
 * type comes from the schema, not from what `run` happens to return).
 */
export function defineAction<In extends TSchema, Out extends TSchema>(
  action: Omit<ActionDefinition<Static<In>, NoInfer<Static<Out>>>, 'input' | 'output'> & { input: In; output: Out },
): ActionDefinition<Static<In>, Static<Out>> {
  return action;
}

/**
 * A poll trigger with cursors of type C, whose `input` is typed by its TypeBox schema (an empty
 * object without one): `definePollTrigger<HighWater>()({ … })`. Two calls because TypeScript
 * infers all of a call's type arguments or none, and C cannot be inferred.
 */
export function definePollTrigger<C>() {
  return <In extends TSchema = TObject<{}>>(
    trigger: Omit<PollTrigger<Static<In>, C>, 'kind' | 'input' | 'output'> & { input?: In; output: TSchema },
  ): PollTrigger<Static<In>, C> => ({
    kind: 'poll',
    ...trigger,
  });
}

/** A webhook trigger whose `input` is typed by its TypeBox schema (an empty object without one). */
export function defineWebhookTrigger<In extends TSchema = TObject<{}>>(
  trigger: Omit<WebhookTrigger<Static<In>>, 'kind' | 'input' | 'output'> & { input?: In; output: TSchema },
): WebhookTrigger<Static<In>> {
  return { kind: 'webhook', ...trigger };
}
