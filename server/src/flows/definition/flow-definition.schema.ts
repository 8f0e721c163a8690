/**
 * The flow template version document: its JSON Schema (draft 2020-12, served at
 * `/v1/schemas/flow-definition.json`) and the TypeScript types that mirror it.
 *
 * The schema is the structural half of validation; validate-definition.ts adds the semantic checks
 * (unique ids, known connectors and actions, expressions that compile and only reference what
 * exists, cron and time zones). docs/flows.md documents every field.
 *
 * Conventions inside the schema:
 * - `additionalProperties: false` on every object we own, so typos are caught;
 * - `discriminator` (an OpenAPI keyword ajv understands; other validators ignore it and fall back
 *   to plain `oneOf`) on every tagged union, so errors come from the variant the `type` names;
 * - `x-error-message` (an annotation) replaces the generic message of the keywords of the schema
 *   object it sits in (a failed `pattern`, `anyOf`, `oneOf`…).
 */

// ─── Limits ──────────────────────────────────────────────────────────────────────────────────────

export const FLOW_LIMITS = {
  /** Steps in one definition, counting nested ones. */
  maxSteps: 250,
  /** A poll trigger's backfill ceiling (also the items one poll may start). */
  maxPollBackfill: 100,
  /** Nesting of branch/loop bodies (top-level steps are depth 1). */
  maxDepth: 10,
  maxInputs: 50,
  maxConnectors: 20,
  /** loop.concurrency range. */
  maxLoopConcurrency: 20,
  /** loop.maxIterations ceiling (also its default). */
  maxLoopIterations: 1000,
  /** retry.attempts counts the first attempt. */
  maxRetryAttempts: 10,
  /** action/request timeoutMs range. */
  minStepTimeoutMs: 100,
  maxStepTimeoutMs: 15 * 60_000,
  /** approval timeoutMs range. */
  minApprovalTimeoutMs: 1000,
  maxApprovalTimeoutMs: 90 * 86_400_000,
  /** Definition-level timeoutMs range: a run's execution time. */
  minRunTimeoutMs: 1000,
  maxRunTimeoutMs: 7 * 86_400_000,
  /** Largest JSON output a step may store; larger fails the step with step_output_too_large. */
  maxStepOutputBytes: 256 * 1024,
  /** delay (for) ceiling: 365 days. */
  maxDelayMs: 365 * 86_400_000,
  maxSwitchCases: 50,
  /** agent.maxIterations ceiling (model calls per agent step). */
  maxAgentIterations: 50,
  /** agent.maxTokens ceiling. */
  maxAgentTokens: 2_000_000,
  /** Tools one agent step may be given. */
  maxAgentTools: 50,
} as const;

export const LOOP_DEFAULTS = { concurrency: 1, maxIterations: FLOW_LIMITS.maxLoopIterations } as const;
/** What the engine uses for an action/request step without `retry` / `timeoutMs`. */
export const RETRY_DEFAULTS = { attempts: 3, backoff: { initialMs: 200, maxMs: 5000, multiplier: 2 } } as const;
export const STEP_TIMEOUT_DEFAULT_MS = 30_000;
export const APPROVAL_DEFAULTS = { approvers: 'any', onTimeout: 'reject', onReject: 'stop' } as const;
/** What an agent step uses without its own budget. Its time counts model and tool calls, not approval waits. */
export const AGENT_DEFAULTS = { maxIterations: 10, maxTokens: 100_000, timeoutMs: 5 * 60_000, approvers: 'end_user' } as const;

// ─── Patterns ────────────────────────────────────────────────────────────────────────────────────

export const PATTERNS = {
  /** Template key: kebab-case. */
  key: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$',
  /** Step id: usable as `$steps.<id>` in JSONata without quoting. */
  stepId: '^[a-z][a-zA-Z0-9_]{0,62}$',
  /** Input key: usable as `$inputs.<key>` without quoting. */
  inputKey: '^[a-zA-Z][a-zA-Z0-9_]{0,62}$',
  /** Connector key, as in the connectors registry. */
  connectorKey: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$',
  /** A connection binding: a connector key, or `<connector>:<alias>` for a second connection of it. */
  binding: '^[a-z][a-z0-9]*(-[a-z0-9]+)*(:[a-z][a-z0-9_-]{0,31})?$',
  /** An app event name, e.g. `deal.won`. */
  event: '^[a-zA-Z0-9][a-zA-Z0-9_.:\\-]{0,127}$',
  /** A string that is an expression (`=…`, but not the `==` escape). */
  expression: '^=(?!=)',
  /** An ISO-8601 duration in weeks, days, hours, minutes, seconds (no years or months: not fixed lengths). */
  isoDuration: '^P(?!$)(\\d+W)?(\\d+D)?(T(?=\\d)(\\d+H)?(\\d+M)?(\\d+(\\.\\d+)?S)?)?$',
  /** A tenant's LLM provider key. */
  llmProvider: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$',
  /** An agent tool: a connection binding and one of its connector's actions, `slack.send_message`. */
  agentTool: '^[a-z][a-z0-9]*(-[a-z0-9]+)*(:[a-z][a-z0-9_-]{0,31})?\\.[a-z][a-z0-9_]{0,99}$',
  /** An HTTP header name. */
  headerName: "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$",
} as const;

// ─── The schema ──────────────────────────────────────────────────────────────────────────────────

const expression = (what: string) => ({
  type: 'string',
  pattern: PATTERNS.expression,
  description: `A JSONata expression (a string starting with "=") ${what}.`,
  'x-error-message': "must be an expression (a string starting with '=')",
});

const template = {
  description: 'Any JSON value. Every string starting with "=" in it is a JSONata expression, evaluated when the step runs; "==" at the start escapes a literal "=".',
};

const stringTemplate = {
  type: 'string',
  description: 'A string; an expression when it starts with "=" ("==" escapes a literal "=").',
};

const stepBase = {
  id: {
    type: 'string',
    pattern: PATTERNS.stepId,
    description: 'Unique across the whole definition; the key of this step in `$steps`.',
    'x-error-message': "must be a step id: a lowercase letter, then letters, digits or '_' (at most 63 characters)",
  },
};

const bindingKey = {
  type: 'string',
  pattern: PATTERNS.binding,
  'x-error-message': "must be a connector key, or '<connector>:<alias>' (lowercase)",
};

const triggerKey = {
  type: 'string',
  pattern: '^[a-z][a-z0-9]*(_[a-z0-9]+)*$',
  'x-error-message': "must be a trigger key of the connector (snake_case, e.g. 'new_deal')",
};

const triggerInput = {
  type: 'object',
  propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9_]*$' },
  additionalProperties: template,
  description:
    'The trigger\'s parameters (which repository, which calendar…); strings starting with "=" are expressions over $inputs and $endUser, evaluated when the flow is enabled.',
};

const connectorKey = {
  type: 'string',
  pattern: PATTERNS.connectorKey,
  'x-error-message': 'must be a connector key (kebab-case)',
};

const stepTimeoutMs = {
  type: 'integer',
  minimum: FLOW_LIMITS.minStepTimeoutMs,
  maximum: FLOW_LIMITS.maxStepTimeoutMs,
  description: 'Per-attempt timeout in milliseconds.',
};

const retry = {
  type: 'object',
  additionalProperties: false,
  required: ['attempts'],
  description: 'Retries of retryable failures (network, 408, 429, 5xx), with jittered exponential backoff. Default: 3 attempts, 200 ms doubling up to 5 s.',
  properties: {
    attempts: {
      type: 'integer',
      minimum: 1,
      maximum: FLOW_LIMITS.maxRetryAttempts,
      description: 'Attempts in all, the first included (1 = no retry).',
    },
    backoff: {
      type: 'object',
      additionalProperties: false,
      required: ['initialMs', 'maxMs'],
      properties: {
        initialMs: { type: 'integer', minimum: 1, maximum: 3_600_000, description: 'Delay before the first retry.' },
        maxMs: { type: 'integer', minimum: 1, maximum: 3_600_000, description: 'Cap on any delay.' },
        multiplier: { type: 'number', minimum: 1, maximum: 10, description: 'Growth per retry (default 2).' },
      },
    },
  },
};

const steps = { type: 'array', items: { $ref: '#/$defs/step' } };

const actionStep = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'connector', 'action'],
  description: "Runs one of a connector's actions through the end user's connection.",
  properties: {
    ...stepBase,
    type: { const: 'action' },
    connector: connectorKey,
    action: { type: 'string', minLength: 1, maxLength: 100 },
    input: {
      type: 'object',
      description: "The action's input: its properties as literals or expressions.",
      additionalProperties: template,
    },
    connection: { ...bindingKey, description: 'The connection binding to use (default: the connector key).' },
    retry: { $ref: '#/$defs/retry' },
    timeoutMs: stepTimeoutMs,
  },
};

const requestStep = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'connector', 'method', 'path'],
  description: "An HTTP request to the connector's API with the connection's credentials (the proxy's client).",
  properties: {
    ...stepBase,
    type: { const: 'request' },
    connector: connectorKey,
    method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] },
    path: { ...stringTemplate, minLength: 1, maxLength: 2000, description: "Relative to the connector's base URL; may be an expression." },
    query: {
      type: 'object',
      additionalProperties: { type: ['string', 'number', 'boolean'] },
      description: 'Query parameters (string values may be expressions).',
    },
    headers: {
      type: 'object',
      propertyNames: { pattern: PATTERNS.headerName, 'x-error-message': 'must be an HTTP header name' },
      additionalProperties: { type: 'string' },
      description: 'Request headers (values may be expressions). Authorization, Cookie and Host are ignored.',
    },
    body: template,
    failOnError: { type: 'boolean', description: 'Fail the step on a 4xx/5xx answer (default true).' },
    connection: { ...bindingKey, description: 'The connection binding to use (default: the connector key).' },
    retry: { $ref: '#/$defs/retry' },
    timeoutMs: stepTimeoutMs,
  },
};

const transformStep = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'output'],
  description: 'Computes a value: its output is the evaluated template.',
  properties: { ...stepBase, type: { const: 'transform' }, output: template },
};

const switchCase = {
  type: 'object',
  additionalProperties: false,
  required: ['when', 'steps'],
  properties: {
    when: {
      type: ['string', 'number', 'boolean', 'null'],
      description: 'Compared (strict equality) with the switch value; may be an expression.',
    },
    steps,
  },
};

const branchStep = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type'],
  description:
    'Two forms. If: `if` (expression) + `then` + optional `else`. Switch: `switch` (expression) + `cases` + optional `default`; the first case whose `when` equals the value runs.',
  properties: {
    ...stepBase,
    type: { const: 'branch' },
    if: expression('that decides between then and else (truthy → then)'),
    then: steps,
    else: steps,
    switch: expression('whose value picks the case'),
    cases: { type: 'array', minItems: 1, maxItems: FLOW_LIMITS.maxSwitchCases, items: switchCase },
    default: steps,
  },
  anyOf: [{ required: ['if'] }, { required: ['switch'] }],
  'x-error-message': "a branch needs 'if' (with 'then') or 'switch' (with 'cases')",
  allOf: [{ not: { required: ['if', 'switch'] }, 'x-error-message': "use either 'if' (with 'then'/'else') or 'switch' (with 'cases'/'default'), not both" }],
  dependentSchemas: {
    if: { required: ['then'], properties: { switch: false, cases: false, default: false } },
    switch: { required: ['cases'], properties: { if: false, then: false, else: false } },
  },
};

const loopStep = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'over', 'steps'],
  description: 'Runs its steps once per element of an array; `$item` and `$index` are the current element and its index.',
  properties: {
    ...stepBase,
    type: { const: 'loop' },
    over: expression('that evaluates to an array'),
    concurrency: { type: 'integer', minimum: 1, maximum: FLOW_LIMITS.maxLoopConcurrency, description: 'Iterations in flight at once (default 1).' },
    maxIterations: {
      type: 'integer',
      minimum: 1,
      maximum: FLOW_LIMITS.maxLoopIterations,
      description: `The run fails if the array is longer (default and ceiling ${FLOW_LIMITS.maxLoopIterations}).`,
    },
    steps: { ...steps, minItems: 1 },
  },
};

const delayStep = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type'],
  description: 'Pauses the run for a duration (`for`) or until a moment (`until`); exactly one of them.',
  properties: {
    ...stepBase,
    type: { const: 'delay' },
    for: {
      anyOf: [
        { type: 'string', pattern: PATTERNS.isoDuration },
        { type: 'integer', minimum: 1, maximum: FLOW_LIMITS.maxDelayMs },
        { type: 'string', pattern: PATTERNS.expression },
      ],
      description: "An ISO-8601 duration ('PT15M', 'P1D'), milliseconds, or an expression giving either.",
      'x-error-message': "must be an ISO-8601 duration like 'PT15M' or 'P2D' (no years or months), milliseconds (at most 365 days), or an expression",
    },
    until: {
      anyOf: [
        { type: 'string', format: 'date-time' },
        { type: 'string', pattern: PATTERNS.expression },
      ],
      description: 'An ISO-8601 date-time with offset, or an expression giving one (or epoch milliseconds).',
      'x-error-message': "must be an ISO-8601 date-time like '2030-01-01T09:00:00Z', or an expression",
    },
  },
  oneOf: [{ required: ['for'] }, { required: ['until'] }],
  'x-error-message': "a delay needs exactly one of 'for' or 'until'",
};

const approvalStep = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'title'],
  description: 'Parks the run until a person approves or rejects (or the timeout passes).',
  properties: {
    ...stepBase,
    type: { const: 'approval' },
    title: { ...stringTemplate, minLength: 1, maxLength: 500 },
    description: { ...stringTemplate, maxLength: 5000 },
    approvers: { enum: ['end_user', 'host', 'any'], description: "Who may decide (default 'any')." },
    timeoutMs: { type: 'integer', minimum: FLOW_LIMITS.minApprovalTimeoutMs, maximum: FLOW_LIMITS.maxApprovalTimeoutMs },
    onTimeout: { enum: ['reject', 'approve'], description: "What a timeout means (default 'reject'); needs timeoutMs." },
    onReject: {
      enum: ['stop', 'continue'],
      description: 'On rejection, stop the run (default) or go on with $steps.<id>.approved = false.',
    },
  },
};

const agentTool = {
  type: 'string',
  pattern: PATTERNS.agentTool,
  'x-error-message': "must be '<connection binding>.<action>', e.g. 'slack.send_message'",
};

const agentStep = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'provider', 'instructions'],
  description:
    "An AI agent: a model, given instructions and input, calls the allowed connector actions as tools (each call a sub-step of the run, writes optionally behind a person's approval) until it gives its answer, which is the step's output.",
  properties: {
    ...stepBase,
    type: { const: 'agent' },
    provider: {
      type: 'string',
      pattern: PATTERNS.llmProvider,
      description: "The key of one of the tenant's LLM providers (admin API /v1/admin/llm-providers).",
      'x-error-message': 'must be an LLM provider key (kebab-case)',
    },
    model: { type: 'string', minLength: 1, maxLength: 200, description: "The model's name (default: the provider's default model)." },
    instructions: { ...stringTemplate, minLength: 1, maxLength: 20_000, description: 'What the agent is to do: its system prompt (may be an expression).' },
    input: { ...template, description: 'What the agent works on (any JSON; strings starting with "=" are expressions), given to the model as the first message.' },
    tools: {
      type: 'array',
      maxItems: FLOW_LIMITS.maxAgentTools,
      uniqueItems: true,
      items: agentTool,
      description: "The actions the agent may call, '<binding>.<action>' of the flow's connections (default: none).",
    },
    approve: {
      type: 'array',
      maxItems: FLOW_LIMITS.maxAgentTools,
      uniqueItems: true,
      items: agentTool,
      description: 'Tools whose every call waits for a person to approve it first; a rejected call is reported back to the model.',
    },
    approvers: { enum: ['end_user', 'host', 'any'], description: "Who may decide the agent's approvals (default 'end_user')." },
    approvalTimeoutMs: {
      type: 'integer',
      minimum: FLOW_LIMITS.minApprovalTimeoutMs,
      maximum: FLOW_LIMITS.maxApprovalTimeoutMs,
      description: 'A call not decided in this time is rejected (default: no timeout).',
    },
    context: {
      type: 'array',
      maxItems: 20,
      uniqueItems: true,
      items: { type: 'string', pattern: PATTERNS.stepId },
      description: 'Earlier steps whose outputs the model is shown along with its input.',
    },
    maxIterations: {
      type: 'integer',
      minimum: 1,
      maximum: FLOW_LIMITS.maxAgentIterations,
      description: `Model calls the agent may make (default ${AGENT_DEFAULTS.maxIterations}).`,
    },
    maxTokens: {
      type: 'integer',
      minimum: 1,
      maximum: FLOW_LIMITS.maxAgentTokens,
      description: `Tokens (input + output, all model calls) the agent may use (default ${AGENT_DEFAULTS.maxTokens}).`,
    },
    timeoutMs: {
      type: 'integer',
      minimum: 1000,
      maximum: FLOW_LIMITS.maxStepTimeoutMs,
      description: `Time the agent's model and tool calls may take in all, approval waits not counted (default ${AGENT_DEFAULTS.timeoutMs} ms).`,
    },
    output: {
      type: 'object',
      description:
        'A JSON Schema the final answer must satisfy: the answer is parsed as JSON and validated; an invalid one is sent back once with the errors, then fails the step.',
    },
  },
};

const respondStep = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'output'],
  description: "Sets the run's result for a waiting caller; the first respond reached wins, the run goes on.",
  properties: {
    ...stepBase,
    type: { const: 'respond' },
    output: template,
    status: { type: 'integer', minimum: 200, maximum: 599, description: 'HTTP status for a waiting caller (default 200).' },
  },
};

const inputBase = {
  title: { type: 'string', minLength: 1, maxLength: 200 },
  description: { type: 'string', maxLength: 2000 },
  required: { type: 'boolean', description: 'The end user must give a value (default false). Moot with a default.' },
};

const optionsRef = {
  type: 'object',
  additionalProperties: false,
  required: ['connector', 'source'],
  description: "A dynamic dropdown: one of a connector's options sources, listed with the end user's connection.",
  properties: { connector: bindingKey, source: { type: 'string', minLength: 1, maxLength: 100 } },
};

const numberInput = (type: 'number' | 'integer') => ({
  type: 'object',
  additionalProperties: false,
  required: ['type', 'title'],
  properties: {
    type: { const: type },
    ...inputBase,
    default: { type },
    enum: { type: 'array', minItems: 1, uniqueItems: true, items: { type } },
    minimum: { type: 'number' },
    maximum: { type: 'number' },
  },
});

const input = {
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'title'],
      properties: {
        type: { const: 'string' },
        ...inputBase,
        default: { type: 'string' },
        enum: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string' } },
        options: optionsRef,
        minLength: { type: 'integer', minimum: 0 },
        maxLength: { type: 'integer', minimum: 0 },
        pattern: { type: 'string', minLength: 1, description: 'A regular expression (ECMAScript, unicode) the whole value must match.' },
      },
    },
    numberInput('number'),
    numberInput('integer'),
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'title'],
      properties: { type: { const: 'boolean' }, ...inputBase, default: { type: 'boolean' } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'title'],
      description: 'A list of strings (a multi-select with enum or options).',
      properties: {
        type: { const: 'array' },
        ...inputBase,
        default: { type: 'array', items: { type: 'string' } },
        enum: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string' }, description: 'The allowed elements.' },
        options: optionsRef,
        minItems: { type: 'integer', minimum: 0 },
        maxItems: { type: 'integer', minimum: 0 },
      },
    },
  ],
};

const cronOrExpression = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  description: 'A 5-field cron expression (minute hour day-of-month month day-of-week), or an expression over $inputs/$endUser.',
};

const trigger = {
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'event'],
      description: 'An app event the host sends (POST /v1/events); fans out to every enabled instance listening.',
      properties: {
        type: { const: 'event' },
        event: { type: 'string', pattern: PATTERNS.event, 'x-error-message': "must be an event name like 'deal.won' (letters, digits, '_', '.', ':', '-')" },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      description: 'The host runs the flow for one end user (POST /v1/flows/:key/runs), optionally waiting for the result.',
      properties: { type: { const: 'request' } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'cron', 'timezone'],
      description: 'Fires on a cron schedule in a time zone, per instance.',
      properties: {
        type: { const: 'schedule' },
        cron: cronOrExpression,
        timezone: { type: 'string', minLength: 1, maxLength: 100, description: "An IANA time zone ('Europe/Paris', 'UTC'), or an expression over $inputs/$endUser." },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'connector', 'event'],
      description: "Asks the connector's provider for new items on an interval, per instance; each new item is one run, with the item as $trigger.",
      properties: {
        type: { const: 'poll' },
        connector: { ...bindingKey, description: 'The connection binding polled (listed in `connectors`).' },
        event: { ...triggerKey, description: "One of the connector's poll triggers." },
        input: triggerInput,
        interval: {
          anyOf: [
            { type: 'string', pattern: PATTERNS.isoDuration },
            { type: 'string', pattern: PATTERNS.expression },
          ],
          description: "Time between polls: an ISO-8601 duration ('PT5M'), or an expression over $inputs/$endUser. Default: the trigger's own; never below its minimum.",
          'x-error-message': "must be an ISO-8601 duration like 'PT5M', or an expression",
        },
        backfill: {
          type: 'integer',
          minimum: 0,
          maximum: FLOW_LIMITS.maxPollBackfill,
          description: 'How many of the newest existing items the first poll runs the flow for. Default 0: only items that appear after the flow is enabled.',
        },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      description: 'A unique secret URL per instance; the request body is $trigger.body.',
      properties: {
        type: { const: 'webhook' },
        connector: { ...bindingKey, description: "The calls come from this connector's provider (its signature scheme applies)." },
        event: {
          ...triggerKey,
          description:
            "One of the connector's webhook triggers: Switchboard subscribes at the provider when the flow is enabled (where the provider allows) and runs the flow once per matching event.",
        },
        input: triggerInput,
        verify: {
          type: 'object',
          additionalProperties: false,
          required: ['header'],
          description: "An HMAC of the raw body with the instance's webhook secret, checked on every call.",
          properties: {
            header: { type: 'string', pattern: PATTERNS.headerName, 'x-error-message': 'must be an HTTP header name' },
            algorithm: { enum: ['sha256', 'sha1'], description: "Default 'sha256'." },
            encoding: { enum: ['hex', 'base64'], description: "Default 'hex'." },
            prefix: { type: 'string', maxLength: 50, description: "Before the signature in the header, e.g. 'sha256='." },
          },
        },
      },
    },
  ],
};

export const FLOW_DEFINITION_SCHEMA_ID = 'urn:switchboard:schema:flow-definition';

/** The JSON Schema of a flow template version document (served at /v1/schemas/flow-definition.json). */
export const flowDefinitionSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: FLOW_DEFINITION_SCHEMA_ID,
  title: 'Switchboard flow definition',
  description: 'A flow template version. See docs/flows.md.',
  type: 'object',
  additionalProperties: false,
  required: ['key', 'name', 'trigger', 'steps'],
  properties: {
    $schema: { type: 'string', description: 'Ignored; lets editors find this schema.' },
    key: {
      type: 'string',
      maxLength: 64,
      pattern: PATTERNS.key,
      'x-error-message': "must be kebab-case (lowercase letters and digits joined by '-'), e.g. 'won-deals-to-slack'",
    },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    description: { type: 'string', maxLength: 5000 },
    trigger: { $ref: '#/$defs/trigger' },
    connectors: {
      type: 'array',
      maxItems: FLOW_LIMITS.maxConnectors,
      uniqueItems: true,
      items: bindingKey,
      default: [],
      description: "The connection bindings the flow needs: connector keys, or '<connector>:<alias>' for a second connection of one connector (default: none).",
    },
    inputs: {
      type: 'object',
      maxProperties: FLOW_LIMITS.maxInputs,
      propertyNames: {
        pattern: PATTERNS.inputKey,
        'x-error-message': "must be an input key: a letter, then letters, digits or '_' (at most 63 characters)",
      },
      additionalProperties: { $ref: '#/$defs/input' },
      default: {},
      description: 'Settings the end user fills in when enabling the flow; `$inputs.<key>` in expressions (default: none).',
    },
    timeoutMs: {
      type: 'integer',
      minimum: FLOW_LIMITS.minRunTimeoutMs,
      maximum: FLOW_LIMITS.maxRunTimeoutMs,
      description: "Execution time a run may use, waits in delays and approvals not counted (default: the deployment's RUN_TIMEOUT_SECONDS).",
    },
    steps: { ...steps, minItems: 1 },
  },
  $defs: {
    trigger,
    input,
    retry,
    step: {
      type: 'object',
      required: ['type'],
      discriminator: { propertyName: 'type' },
      oneOf: [
        { $ref: '#/$defs/actionStep' },
        { $ref: '#/$defs/requestStep' },
        { $ref: '#/$defs/transformStep' },
        { $ref: '#/$defs/branchStep' },
        { $ref: '#/$defs/loopStep' },
        { $ref: '#/$defs/delayStep' },
        { $ref: '#/$defs/approvalStep' },
        { $ref: '#/$defs/respondStep' },
        { $ref: '#/$defs/agentStep' },
      ],
    },
    actionStep,
    requestStep,
    transformStep,
    branchStep,
    loopStep,
    delayStep,
    approvalStep,
    respondStep,
    agentStep,
  },
} as const;

export const STEP_TYPES = ['action', 'request', 'transform', 'branch', 'loop', 'delay', 'approval', 'respond', 'agent'] as const;
export const TRIGGER_TYPES = ['event', 'request', 'schedule', 'poll', 'webhook'] as const;
export const INPUT_TYPES = ['string', 'number', 'integer', 'boolean', 'array'] as const;

// ─── Types ───────────────────────────────────────────────────────────────────────────────────────

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };

/** A string starting with "=" (not "=="): a JSONata expression. */
export type ExpressionString = `=${string}`;

/** Any JSON; strings starting with "=" are expressions ("==" escapes a literal "="). */
export type Template = JsonValue;

export interface EventTrigger {
  type: 'event';
  event: string;
}
export interface RequestTrigger {
  type: 'request';
}
export interface ScheduleTrigger {
  type: 'schedule';
  /** 5-field cron, or an expression over $inputs/$endUser evaluated when the instance is enabled. */
  cron: string;
  /** IANA time zone, or an expression over $inputs/$endUser. */
  timezone: string;
}
export interface WebhookVerify {
  header: string;
  algorithm?: 'sha256' | 'sha1';
  encoding?: 'hex' | 'base64';
  prefix?: string;
}
export interface WebhookTrigger {
  type: 'webhook';
  connector?: string;
  /** A webhook trigger of the connector: the provider pushes its events (with `connector`). */
  event?: string;
  input?: Record<string, Template>;
  verify?: WebhookVerify;
}
export interface PollTrigger {
  type: 'poll';
  /** The binding polled. */
  connector: string;
  /** A poll trigger of the connector. */
  event: string;
  input?: Record<string, Template>;
  /** ISO-8601 duration or an expression giving one. */
  interval?: string;
  backfill?: number;
}
export type Trigger = EventTrigger | RequestTrigger | ScheduleTrigger | WebhookTrigger | PollTrigger;
export type TriggerType = Trigger['type'];

export interface OptionsRef {
  /** A connection binding listed in `connectors`. */
  connector: string;
  /** A key of the connector's `options`. */
  source: string;
}
interface InputBase {
  title: string;
  description?: string;
  required?: boolean;
}
export interface StringInput extends InputBase {
  type: 'string';
  default?: string;
  enum?: string[];
  options?: OptionsRef;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}
export interface NumberInput extends InputBase {
  type: 'number' | 'integer';
  default?: number;
  enum?: number[];
  minimum?: number;
  maximum?: number;
}
export interface BooleanInput extends InputBase {
  type: 'boolean';
  default?: boolean;
}
export interface ArrayInput extends InputBase {
  type: 'array';
  default?: string[];
  enum?: string[];
  options?: OptionsRef;
  minItems?: number;
  maxItems?: number;
}
export type InputSpec = StringInput | NumberInput | BooleanInput | ArrayInput;
export type InputType = InputSpec['type'];

export interface RetryPolicy {
  attempts: number;
  backoff?: { initialMs: number; maxMs: number; multiplier?: number };
}

interface StepBase {
  id: string;
}
export interface ActionStep extends StepBase {
  type: 'action';
  connector: string;
  action: string;
  input?: { [key: string]: Template };
  connection?: string;
  retry?: RetryPolicy;
  timeoutMs?: number;
}
export interface RequestStep extends StepBase {
  type: 'request';
  connector: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: { [key: string]: string | number | boolean };
  headers?: { [key: string]: string };
  body?: Template;
  failOnError?: boolean;
  connection?: string;
  retry?: RetryPolicy;
  timeoutMs?: number;
}
export interface TransformStep extends StepBase {
  type: 'transform';
  output: Template;
}
export interface IfBranchStep extends StepBase {
  type: 'branch';
  if: string;
  then: Step[];
  else?: Step[];
}
export interface SwitchCase {
  when: JsonPrimitive;
  steps: Step[];
}
export interface SwitchBranchStep extends StepBase {
  type: 'branch';
  switch: string;
  cases: SwitchCase[];
  default?: Step[];
}
export type BranchStep = IfBranchStep | SwitchBranchStep;
export interface LoopStep extends StepBase {
  type: 'loop';
  over: string;
  concurrency?: number;
  maxIterations?: number;
  steps: Step[];
}
export interface DelayStep extends StepBase {
  type: 'delay';
  /** ISO-8601 duration, milliseconds, or an expression. Exactly one of for/until. */
  for?: string | number;
  /** ISO-8601 date-time, or an expression. */
  until?: string;
}
export interface ApprovalStep extends StepBase {
  type: 'approval';
  title: string;
  description?: string;
  approvers?: 'end_user' | 'host' | 'any';
  timeoutMs?: number;
  onTimeout?: 'reject' | 'approve';
  /** Default 'stop': nothing after a rejected approval runs. */
  onReject?: 'stop' | 'continue';
}
export interface RespondStep extends StepBase {
  type: 'respond';
  output: Template;
  status?: number;
}
export interface AgentStep extends StepBase {
  type: 'agent';
  provider: string;
  model?: string;
  instructions: string;
  input?: Template;
  /** `<binding>.<action>` */
  tools?: string[];
  approve?: string[];
  approvers?: 'end_user' | 'host' | 'any';
  approvalTimeoutMs?: number;
  context?: string[];
  maxIterations?: number;
  maxTokens?: number;
  timeoutMs?: number;
  output?: Record<string, unknown>;
}
export type Step = ActionStep | RequestStep | TransformStep | BranchStep | LoopStep | DelayStep | ApprovalStep | RespondStep | AgentStep;
export type StepType = Step['type'];

export interface FlowDefinition {
  $schema?: string;
  key: string;
  name: string;
  description?: string;
  trigger: Trigger;
  connectors: string[];
  inputs: { [key: string]: InputSpec };
  /** Execution time a run may use (ms); default RUN_TIMEOUT_SECONDS. */
  timeoutMs?: number;
  steps: Step[];
}

export function isSwitchBranch(step: BranchStep): step is SwitchBranchStep {
  return 'switch' in step;
}

/** The connector key of a binding (`slack:alerts` → `slack`). */
export function bindingConnector(binding: string): string {
  const colon = binding.indexOf(':');
  return colon < 0 ? binding : binding.slice(0, colon);
}

/** `slack:alerts.send_message` → its binding and action. */
export function splitAgentTool(tool: string): { binding: string; action: string } {
  const dot = tool.lastIndexOf('.');
  return { binding: tool.slice(0, dot), action: tool.slice(dot + 1) };
}

/** The name a model sees for an agent tool (`[a-zA-Z0-9_-]` only): `slack.send_message` → `slack_send_message`. */
export function agentToolName(tool: string): string {
  return tool.replace(/[.:]/g, '_');
}

/** A step's nested step lists, each with its JSON Pointer segment(s) relative to the step. */
export function childStepLists(step: Step): Array<{ segments: (string | number)[]; arm: string; steps: Step[] }> {
  switch (step.type) {
    case 'branch':
      if (isSwitchBranch(step)) {
        return [
          ...step.cases.map((c, i) => ({ segments: ['cases', i, 'steps'], arm: `cases/${i}`, steps: c.steps })),
          ...(step.default ? [{ segments: ['default'], arm: 'default', steps: step.default }] : []),
        ];
      }
      return [{ segments: ['then'], arm: 'then', steps: step.then }, ...(step.else ? [{ segments: ['else'], arm: 'else', steps: step.else }] : [])];
    case 'loop':
      return [{ segments: ['steps'], arm: 'steps', steps: step.steps }];
    default:
      return [];
  }
}

export interface StepVisit {
  step: Step;
  /** JSON Pointer of the step in the document, e.g. `/steps/0/then/1`. */
  pointer: string;
  /** The enclosing branch/loop steps, outermost first, with the arm this step is in. */
  ancestors: Array<{ step: BranchStep | LoopStep; arm: string }>;
  /** Position in document (pre-)order, from 0. */
  order: number;
}

/** Visits every step in document order (a container before its children). */
export function forEachStep(steps: Step[], visit: (v: StepVisit) => void): void {
  let order = 0;
  const walk = (list: Step[], base: string, ancestors: StepVisit['ancestors']) => {
    list.forEach((step, i) => {
      const pointer = `${base}/${i}`;
      visit({ step, pointer, ancestors, order: order++ });
      for (const child of childStepLists(step)) {
        walk(child.steps, `${pointer}/${child.segments.join('/')}`, [...ancestors, { step: step as BranchStep | LoopStep, arm: child.arm }]);
      }
    });
  };
  walk(steps, '/steps', []);
}
