import { CONNECTOR_CATEGORIES } from './categories';
import { ConnectorDefinition, JsonSchema, ProviderWebhooks, TriggerDefinition } from './types';

export { CONNECTOR_CATEGORIES } from './categories';

/** The JSON (function-free) part of a connector: what the API and the portal show, what connectorSchema checks. */
export interface ConnectorManifest extends Omit<ConnectorDefinition, 'actions' | 'options' | 'account' | 'triggers' | 'webhooks'> {
  actions: Record<string, { name: string; description: string; readOnly: boolean; retrySafe: boolean; input: JsonSchema; output: JsonSchema }>;
  options: Record<string, { name: string; description?: string }>;
  triggers: Record<string, TriggerManifest>;
  /** How pushed events reach Switchboard, when the provider pushes any. */
  webhooks?: { routing: ProviderWebhooks['routing']; secret: ProviderWebhooks['secret']; subscribes: boolean };
}

export interface TriggerManifest {
  kind: TriggerDefinition['kind'];
  name: string;
  description: string;
  input?: JsonSchema;
  output: JsonSchema;
  /** Poll: default and minimum seconds between polls. */
  intervalSeconds?: number;
  minIntervalSeconds?: number;
  /** Webhook: the provider's event types. */
  events?: string[];
}

/** The seconds a poll trigger may not go below, unless the connector says otherwise. */
export const DEFAULT_MIN_POLL_SECONDS = 60;

function triggerManifest(t: TriggerDefinition): TriggerManifest {
  const common = { kind: t.kind, name: t.name, description: t.description, input: t.input, output: t.output };
  return t.kind === 'poll'
    ? { ...common, intervalSeconds: t.intervalSeconds, minIntervalSeconds: t.minIntervalSeconds ?? DEFAULT_MIN_POLL_SECONDS }
    : { ...common, events: t.events };
}

export function connectorManifest(connector: ConnectorDefinition): ConnectorManifest {
  const { actions, options, account: _account, triggers, webhooks, ...rest } = connector;
  return JSON.parse(
    JSON.stringify({
      ...rest,
      actions: Object.fromEntries(
        Object.entries(actions).map(([k, a]) => [k, { name: a.name, description: a.description, readOnly: a.readOnly, retrySafe: a.retrySafe, input: a.input, output: a.output }]),
      ),
      options: Object.fromEntries(Object.entries(options ?? {}).map(([k, o]) => [k, { name: o.name, description: o.description }])),
      triggers: Object.fromEntries(Object.entries(triggers ?? {}).map(([k, t]) => [k, triggerManifest(t)])),
      webhooks: webhooks && { routing: webhooks.routing, secret: webhooks.secret, subscribes: typeof webhooks.subscribe === 'function' },
    }),
  ) as ConnectorManifest;
}

const httpsUrl = { type: 'string', pattern: '^https://[^\\s/]+(/[^\\s]*)?$' };
/** https URL, or one starting with a {{config}} template (its value is checked at connect time). */
const templatedUrl = { type: 'string', anyOf: [httpsUrl, { pattern: '^\\{\\{[A-Za-z0-9_]+\\}\\}' }] };
const snakeKey = '^[a-z][a-z0-9]*(_[a-z0-9]+)*$';
const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
const scopeSeparator = { enum: [' ', ','] };
const clientAuthentication = { enum: ['client_secret_basic', 'client_secret_post'] };
const tokenHeader = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: 'string', pattern: '^[A-Za-z0-9-]+$' }, prefix: { type: 'string' } },
};
/** The callback's query parameter a config value comes from: true for the field's own name. */
const fromCallback = { anyOf: [{ type: 'boolean' }, { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]*$' }] };

/** JSON Schema of an auth spec whose URLs match `url` (connectors: `{{x}}` templates; the catalogue: `${x}`). */
export const authSpecSchema = (url: JsonSchema) => ({
  type: 'object',
  required: ['type'],
  oneOf: [
    {
      properties: {
        type: { const: 'oauth2' },
        authorizationUrl: url,
        tokenUrl: url,
        refreshUrl: url,
        scopes: { type: 'array', items: { type: 'string', minLength: 1, pattern: '^\\S+$' }, uniqueItems: true },
        scopeSeparator,
        pkce: { type: 'boolean' },
        authorizationParams: stringMap,
        tokenParams: stringMap,
        refreshParams: stringMap,
        clientAuthentication,
        tokenResponse: {
          type: 'object',
          additionalProperties: false,
          properties: {
            accessToken: { type: 'string' },
            refreshToken: { type: 'string' },
            expiresIn: { type: 'string' },
            scope: { type: 'string' },
            error: { type: 'string' },
          },
        },
        invalidGrantErrors: { type: 'array', items: { type: 'string', minLength: 1 } },
        tokenRequestFormat: { enum: ['form', 'json'] },
        connectionConfigFromToken: stringMap,
        refreshable: { type: 'boolean' },
        tokenHeader,
      },
      required: ['type', 'authorizationUrl', 'tokenUrl', 'scopes', 'refreshable'],
      additionalProperties: false,
    },
    {
      properties: {
        type: { const: 'oauth2_client_credentials' },
        tokenUrl: url,
        scopes: { type: 'array', items: { type: 'string' } },
        scopeSeparator,
        clientAuthentication,
        tokenParams: stringMap,
        tokenHeader,
      },
      required: ['type', 'tokenUrl'],
      additionalProperties: false,
    },
    {
      properties: {
        type: { const: 'api_key' },
        in: { enum: ['header', 'query'] },
        name: { type: 'string', minLength: 1 },
        prefix: { type: 'string' },
        label: { type: 'string' },
        help: { type: 'string' },
      },
      required: ['type', 'in', 'name'],
      additionalProperties: false,
    },
    {
      properties: {
        type: { const: 'basic' },
        usernameLabel: { type: 'string' },
        passwordLabel: { type: 'string' },
        username: { type: 'string', minLength: 1 },
        password: { type: 'string' },
        help: { type: 'string' },
      },
      required: ['type'],
      additionalProperties: false,
    },
  ],
});
const authSpec = authSpecSchema(templatedUrl);

/** JSON Schema (draft 2020-12) of a connector manifest (see connectorManifest()). */
export const connectorSchema: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://switchboard.dev/schemas/connector.json',
  title: 'Switchboard connector',
  type: 'object',
  additionalProperties: false,
  required: ['key', 'name', 'description', 'logo', 'categories', 'docsUrl', 'auth', 'baseUrl', 'actions'],
  properties: {
    key: { type: 'string', pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$', maxLength: 40 },
    name: { type: 'string', minLength: 1, maxLength: 60 },
    description: { type: 'string', minLength: 1, maxLength: 200 },
    logo: { type: 'string', pattern: '^<svg[\\s>][\\s\\S]*</svg>$', maxLength: 4096 },
    monogram: {
      type: 'object',
      additionalProperties: false,
      required: ['color', 'text'],
      properties: { color: { type: 'string', pattern: '^#[0-9a-fA-F]{6}$' }, text: { type: 'string', pattern: '^[A-Za-z0-9]{1,3}$' } },
    },
    categories: { type: 'array', items: { enum: [...CONNECTOR_CATEGORIES] }, minItems: 1, uniqueItems: true },
    docsUrl: httpsUrl,
    auth: authSpec,
    authChoices: { type: 'array', items: { enum: ['oauth2', 'oauth2_client_credentials', 'api_key', 'basic'] }, minItems: 1, uniqueItems: true },
    authSpecs: { type: 'array', items: authSpec },
    connectionConfig: {
      type: 'object',
      propertyNames: { pattern: snakeKey },
      additionalProperties: {
        type: 'object',
        required: ['title'],
        additionalProperties: false,
        properties: {
          title: { type: 'string', minLength: 1 },
          description: { type: 'string' },
          pattern: { type: 'string', format: 'regex' },
          example: { type: 'string' },
          fromToken: { type: 'boolean' },
          fromCallback,
          fromAccount: { type: 'boolean' },
          optional: { type: 'boolean' },
          default: { type: 'string' },
        },
      },
    },
    baseUrl: templatedUrl,
    baseUrls: { type: 'object', propertyNames: { pattern: snakeKey }, additionalProperties: templatedUrl },
    defaultHeaders: { type: 'object', propertyNames: { pattern: '^[a-z0-9-]+$' }, additionalProperties: { type: 'string' } },
    pagination: {
      type: 'object',
      required: ['style'],
      oneOf: [
        { properties: { style: { const: 'none' } }, additionalProperties: false },
        {
          properties: { style: { const: 'cursor' }, cursorParam: { type: 'string' }, nextCursorPath: { type: 'string' }, limitParam: { type: 'string' } },
          required: ['cursorParam', 'nextCursorPath'],
          additionalProperties: false,
        },
        { properties: { style: { const: 'page' }, pageParam: { type: 'string' }, limitParam: { type: 'string' } }, required: ['pageParam'], additionalProperties: false },
        { properties: { style: { const: 'offset' }, offsetParam: { type: 'string' }, limitParam: { type: 'string' } }, required: ['offsetParam'], additionalProperties: false },
        { properties: { style: { const: 'link_header' } }, additionalProperties: false },
      ],
    },
    rateLimit: {
      type: 'object',
      additionalProperties: false,
      properties: { requestsPerSecond: { type: 'number', exclusiveMinimum: 0 }, retryAfterHeader: { type: 'string' } },
    },
    honoursIdempotencyKey: { type: 'boolean' },
    authFailure: {
      type: 'object',
      additionalProperties: false,
      properties: {
        status: { type: 'array', items: { type: 'integer', minimum: 400, maximum: 599 } },
        bodyPath: { type: 'string' },
        bodyValues: { type: 'array', items: { type: 'string' } },
      },
    },
    actions: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: snakeKey },
      additionalProperties: {
        type: 'object',
        required: ['name', 'description', 'readOnly', 'retrySafe', 'input', 'output'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 60 },
          description: { type: 'string', minLength: 1 },
          readOnly: { type: 'boolean' },
          retrySafe: { type: 'boolean' },
          input: { type: 'object', required: ['type'], properties: { type: { const: 'object' } } },
          output: { type: 'object' },
        },
      },
    },
    options: {
      type: 'object',
      propertyNames: { pattern: snakeKey },
      additionalProperties: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: { name: { type: 'string', minLength: 1 }, description: { type: 'string' } },
      },
    },
    triggers: {
      type: 'object',
      propertyNames: { pattern: snakeKey },
      additionalProperties: {
        type: 'object',
        required: ['kind', 'name', 'description', 'output'],
        additionalProperties: false,
        properties: {
          kind: { enum: ['poll', 'webhook'] },
          name: { type: 'string', minLength: 1, maxLength: 60 },
          description: { type: 'string', minLength: 1 },
          input: { type: 'object', required: ['type'], properties: { type: { const: 'object' } } },
          output: { type: 'object' },
          intervalSeconds: { type: 'integer', minimum: 1 },
          minIntervalSeconds: { type: 'integer', minimum: 1 },
          events: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
        },
      },
    },
    webhooks: {
      type: 'object',
      required: ['routing', 'secret', 'subscribes'],
      additionalProperties: false,
      properties: { routing: { enum: ['instance', 'app'] }, secret: { enum: ['subscription', 'client_secret', 'signing_secret'] }, subscribes: { type: 'boolean' } },
    },
  },
};
