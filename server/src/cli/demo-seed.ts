import type { LlmTurn } from '@switchboard/connectors/dist/sandbox/llm';
import { isDeepStrictEqual } from 'node:util';

/**
 * What `npm run demo` sets up in the demo tenant, through the same HTTP API a tenant admin uses
 * (signed in as the owner): the tenant's name and allowed origins, every connector on the
 * sandbox, the demo's flow templates (published), and a webhook endpoint for Acme CRM's receiver.
 * Idempotent: running it again changes only what differs.
 */

export const WON_DEALS_TO_SLACK = {
  key: 'won-deals-to-slack',
  name: 'Post won deals to Slack',
  description: 'When a deal is marked won in Acme CRM, post it to the Slack channel you pick, if it is big enough.',
  trigger: { type: 'event', event: 'deal.won' },
  connectors: ['slack'],
  inputs: {
    channel: { type: 'string', title: 'Channel', required: true, options: { connector: 'slack', source: 'channels' } },
    minAmount: { type: 'number', title: 'Only deals of at least (USD)', minimum: 0, default: 0 },
  },
  steps: [
    {
      id: 'big_enough',
      type: 'branch',
      if: '=$trigger.amount >= $inputs.minAmount',
      then: [
        {
          id: 'post',
          type: 'action',
          connector: 'slack',
          action: 'send_message',
          input: {
            channel: '=$inputs.channel',
            text: "=':tada: Deal won: ' & $trigger.name & ' (' & $trigger.account & ') for $' & $formatNumber($trigger.amount, '#,##0') & ', closed by ' & $trigger.owner",
          },
        },
      ],
    },
  ],
};

export const NEW_CUSTOMER_TO_HUBSPOT = {
  key: 'new-customer-to-hubspot',
  name: 'New customers to HubSpot',
  description: 'Every customer added in Acme CRM becomes a HubSpot contact.',
  trigger: { type: 'request' },
  connectors: ['hubspot'],
  inputs: {
    lifecycleStage: { type: 'string', title: 'Lifecycle stage', enum: ['lead', 'customer'], default: 'customer' },
  },
  steps: [
    {
      id: 'contact',
      type: 'action',
      connector: 'hubspot',
      action: 'create_contact',
      input: {
        email: '=$trigger.email',
        firstname: '=$trigger.firstname',
        lastname: '=$trigger.lastname',
        company: '=$trigger.company',
        properties: { lifecyclestage: '=$inputs.lifecycleStage' },
      },
    },
    { id: 'done', type: 'respond', output: { contactId: '=$steps.contact.id' } },
  ],
};

export const BIG_DEAL_APPROVAL = {
  key: 'big-deal-approval',
  name: 'Announce big deals, after approval',
  description: 'When a deal above your threshold is won, ask you first, then announce it in Slack.',
  trigger: { type: 'event', event: 'deal.won' },
  connectors: ['slack'],
  inputs: {
    channel: { type: 'string', title: 'Announcement channel', required: true, options: { connector: 'slack', source: 'channels' } },
    threshold: { type: 'number', title: 'Ask me for deals of at least (USD)', minimum: 0, default: 50000 },
  },
  steps: [
    {
      id: 'big',
      type: 'branch',
      if: '=$trigger.amount >= $inputs.threshold',
      then: [
        {
          id: 'approve',
          type: 'approval',
          title: "='Announce ' & $trigger.name & ' ($' & $formatNumber($trigger.amount, '#,##0') & ') in Slack?'",
          description: "='Won by ' & $trigger.owner & ' with ' & $trigger.account & '.'",
          approvers: 'end_user',
          timeoutMs: 3 * 24 * 3600 * 1000,
          onTimeout: 'reject',
        },
        {
          id: 'announce',
          type: 'action',
          connector: 'slack',
          action: 'send_message',
          input: {
            channel: '=$inputs.channel',
            text: "=':trophy: Big win: ' & $trigger.name & ' with ' & $trigger.account & ', $' & $formatNumber($trigger.amount, '#,##0') & '. Congratulations ' & $trigger.owner & '!'",
          },
        },
      ],
    },
  ],
};

/** A poll trigger: Switchboard asks HubSpot for new deals every minute. */
export const NEW_HUBSPOT_DEALS_TO_SLACK = {
  key: 'new-hubspot-deals-to-slack',
  name: 'Announce new HubSpot deals in Slack',
  description: 'Checks your HubSpot every minute for new deals and posts each one to the Slack channel you pick.',
  trigger: { type: 'poll', connector: 'hubspot', event: 'new_deal', interval: 'PT1M' },
  connectors: ['hubspot', 'slack'],
  inputs: {
    channel: { type: 'string', title: 'Channel', required: true, options: { connector: 'slack', source: 'channels' } },
  },
  steps: [
    {
      id: 'post',
      type: 'action',
      connector: 'slack',
      action: 'send_message',
      input: {
        channel: '=$inputs.channel',
        text: "=':sparkles: New deal in HubSpot: ' & $trigger.properties.dealname & ($trigger.properties.amount ? ' ($' & $trigger.properties.amount & ')' : '')",
      },
    },
  ],
};

/** A provider webhook: GitHub pushes each opened issue the moment it happens (Switchboard adds the repository hook). */
export const GITHUB_ISSUES_TO_SLACK = {
  key: 'github-issues-to-slack',
  name: 'Share new GitHub issues in Slack',
  description: 'When someone opens an issue in the repository you pick, post it to a Slack channel right away.',
  trigger: { type: 'webhook', connector: 'github', event: 'issue_opened', input: { repository: '=$inputs.repository' } },
  connectors: ['github', 'slack'],
  inputs: {
    repository: { type: 'string', title: 'Repository', required: true, options: { connector: 'github', source: 'repos' } },
    channel: { type: 'string', title: 'Channel', required: true, options: { connector: 'slack', source: 'channels' } },
  },
  steps: [
    {
      id: 'post',
      type: 'action',
      connector: 'slack',
      action: 'send_message',
      input: {
        channel: '=$inputs.channel',
        text: "=':ladybug: New issue in ' & $trigger.repository & ': #' & $trigger.number & ' ' & $trigger.title & ' (by ' & $trigger.author & ') ' & $trigger.url",
      },
    },
  ],
};

/** The tenant LLM provider the demo's agents use: the sandbox's scripted model (no network, no key). */
export const DEMO_LLM_PROVIDER = { key: 'sandbox', name: 'Sandbox model (scripted, no network)', kind: 'openai-compatible', defaultModel: 'support-triage' } as const;

/** The sandbox model the ticket triage agent talks to. */
export const SUPPORT_TRIAGE_MODEL = 'support-triage';

/** HubSpot's answer to the agent's lookup, as the script's placeholders name it. */
const CUSTOMER = 'tools.hubspot_find_contact.contact.properties';

/**
 * What the scripted model answers, turn by turn (see connectors/src/sandbox/llm.ts): look the
 * customer up by the ticket's email, post a summary naming them to the end user's channel, then
 * the final JSON answer. A real model given the same instructions and tools does the same.
 */
export const SUPPORT_TRIAGE_SCRIPT: LlmTurn[] = [
  { toolCalls: [{ name: 'hubspot_find_contact', arguments: { email: '{{input.ticket.email}}' } }] },
  {
    toolCalls: [
      {
        name: 'slack_send_message',
        arguments: {
          channel: '{{input.channel}}',
          text: `:ticket: New support ticket from {{${CUSTOMER}.firstname}} {{${CUSTOMER}.lastname}} ({{${CUSTOMER}.company}}): *{{input.ticket.subject}}*\n{{input.ticket.message}}`,
        },
      },
    ],
  },
  {
    content: `{"summary":"{{${CUSTOMER}.firstname}} {{${CUSTOMER}.lastname}} of {{${CUSTOMER}.company}} filed a support ticket; a summary was drafted for Slack.","priority":"high"}`,
  },
];

/** The agent step of the triage flow: it may read HubSpot freely; its Slack post waits for the end user's approval. */
export const SUPPORT_TRIAGE_AGENT = {
  id: 'triage',
  type: 'agent',
  provider: DEMO_LLM_PROVIDER.key,
  model: SUPPORT_TRIAGE_MODEL,
  instructions:
    'You triage support tickets. First look the customer up in HubSpot by the email on the ticket. Then post a short summary to the Slack channel given in the input: ' +
    'who the customer is (name and company, from HubSpot), the subject, and what they need. Finally answer with a one-sentence summary and a priority: ' +
    'high when the customer cannot work, normal otherwise, low for questions.',
  input: {
    ticket: { id: '=$trigger.id', subject: '=$trigger.subject', message: '=$trigger.message', email: '=$trigger.email', filedBy: '=$trigger.filedBy' },
    channel: '=$inputs.channel',
  },
  tools: ['hubspot.find_contact', 'slack.send_message'],
  approve: ['slack.send_message'],
  approvers: 'end_user',
  maxIterations: 6,
  output: {
    type: 'object',
    required: ['summary', 'priority'],
    properties: { summary: { type: 'string', minLength: 1 }, priority: { enum: ['low', 'normal', 'high'] } },
  },
};

/** An AI agent, governed: a support ticket filed in Acme CRM, triaged by the agent above. */
export const SUPPORT_TICKET_TRIAGE = {
  key: 'support-ticket-triage',
  name: 'Triage new support tickets with AI',
  description:
    'When a support ticket is filed in Acme CRM, an AI agent looks the customer up in HubSpot and drafts a summary for your Slack channel. Nothing is posted until you approve it here.',
  trigger: { type: 'event', event: 'ticket.created' },
  connectors: ['hubspot', 'slack'],
  inputs: {
    channel: { type: 'string', title: 'Support channel', required: true, options: { connector: 'slack', source: 'channels' } },
  },
  steps: [
    SUPPORT_TRIAGE_AGENT,
    {
      id: 'result',
      type: 'transform',
      output: { ticket: '=$trigger.id', priority: '=$steps.triage.answer.priority', summary: '=$steps.triage.answer.summary', toolCalls: '=$steps.triage.toolCalls' },
    },
  ],
};

export const DEMO_FLOW_TEMPLATES: Array<Record<string, unknown> & { key: string }> = [
  WON_DEALS_TO_SLACK,
  NEW_CUSTOMER_TO_HUBSPOT,
  BIG_DEAL_APPROVAL,
  NEW_HUBSPOT_DEALS_TO_SLACK,
  GITHUB_ISSUES_TO_SLACK,
  SUPPORT_TICKET_TRIAGE,
];

/** Everything Acme's event log shows. */
export const DEMO_WEBHOOK_EVENT_TYPES = [
  'connection.created',
  'connection.needs_reauth',
  'connection.deleted',
  'flow.enabled',
  'flow.disabled',
  'run.succeeded',
  'run.failed',
  'approval.requested',
];

export interface DemoSeedInput {
  /** Where the API answers, e.g. http://127.0.0.1:3000. */
  apiUrl: string;
  owner: { email: string; password: string };
  tenantName: string;
  /** Acme CRM's origin: the widget runs there, so it must be an allowed origin. */
  acmeOrigin: string;
  /** Acme CRM's webhook receiver. */
  webhookUrl: string;
  /** The endpoint's secret from an earlier run; without it an existing endpoint's secret is rotated. */
  webhookSecret?: string;
  /**
   * The sandbox providers' URL (http://127.0.0.1:<port>, which OUTBOUND_ALLOWLIST must permit):
   * the tenant's `sandbox` LLM provider points at its model, whose script is (re)set here.
   */
  sandboxUrl: string;
}

export interface DemoSeedResult {
  connectors: string[];
  templates: Array<{ key: string; version: number; status: 'published' | 'unchanged' }>;
  /** The LLM provider the agent steps use, and the sandbox models scripted for them. */
  llm: { provider: string; baseUrl: string; status: 'created' | 'updated' | 'unchanged'; models: string[] };
  webhook: { id: string; url: string; secret: string };
  /** The environment seeded first (the owner's, Acme CRM's key's), and the templates promoted from it to the other one (null: none). */
  environment: string;
  promoted: { environment: string; templates: Array<{ key: string; version: number; status: 'published' | 'unchanged' }> } | null;
}

interface Reply {
  status: number;
  body: any;
}

/** A minimal signed-in client of the admin API (the owner's portal session cookie). */
class AdminClient {
  private cookie = '';

  constructor(private readonly base: string) {}

  async request(method: string, path: string, body?: unknown): Promise<Reply> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.cookie) headers.cookie = this.cookie;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const session = res.headers.getSetCookie().find((c) => c.startsWith('sb_session='));
    if (session) this.cookie = session.split(';')[0]!;
    const text = await res.text();
    return { status: res.status, body: text ? safeJson(text) : undefined };
  }

  async expect(method: string, path: string, body: unknown, ...ok: number[]): Promise<any> {
    const reply = await this.request(method, path, body);
    if (!ok.includes(reply.status)) throw new Error(`${method} ${path} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    return reply.body;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function seedDemoTenant(input: DemoSeedInput): Promise<DemoSeedResult> {
  const api = new AdminClient(input.apiUrl.replace(/\/+$/, ''));
  await api.expect('POST', '/v1/auth/login', { email: input.owner.email, password: input.owner.password }, 200);

  const tenant = await api.expect('GET', '/v1/admin/tenant', undefined, 200);
  const origins: string[] = tenant.allowedOrigins.includes(input.acmeOrigin) ? tenant.allowedOrigins : [...tenant.allowedOrigins, input.acmeOrigin];
  await api.expect('PATCH', '/v1/admin/tenant', { name: input.tenantName, allowedOrigins: origins }, 200);

  const catalogue: Array<{ key: string }> = (await api.expect('GET', '/v1/admin/connectors', undefined, 200)).data;
  for (const { key } of catalogue) await api.expect('PUT', `/v1/admin/connectors/${key}`, { enabled: true, settings: { useSandbox: true } }, 200);

  // Before the templates: an agent step must name a provider the tenant has.
  const llm = await seedLlm(api, input.sandboxUrl);

  const templates: DemoSeedResult['templates'] = [];
  for (const definition of DEMO_FLOW_TEMPLATES) templates.push(await seedTemplate(api, definition));
  const webhook = await seedWebhookEndpoint(api, input);
  const { environment, promoted } = await seedOtherEnvironment(api, input, catalogue);

  return { connectors: catalogue.map((c) => c.key), templates, llm, webhook, environment, promoted };
}

/**
 * The tenant's other environment (production, for a new demo) set up the way a vendor's team
 * would: its own origins, connectors and model provider, and the templates promoted into it.
 */
async function seedOtherEnvironment(api: AdminClient, input: DemoSeedInput, catalogue: Array<{ key: string }>): Promise<Pick<DemoSeedResult, 'environment' | 'promoted'>> {
  const me = await api.expect('GET', '/v1/auth/me', undefined, 200);
  const environments = me.environments as Array<{ id: string; name: string }>;
  const home = environments.find((e) => e.id === me.activeTenantId)!;
  const other = environments.find((e) => e.id !== home.id && (e.name === 'production' || e.name === 'development'));
  if (!other) return { environment: home.name, promoted: null };
  const promoted: Array<{ key: string; version: number; status: 'published' | 'unchanged' }> = [];
  await api.expect('POST', '/v1/auth/switch-tenant', { tenantId: other.id }, 200);
  try {
    const tenant = await api.expect('GET', '/v1/admin/tenant', undefined, 200);
    if (!tenant.allowedOrigins.includes(input.acmeOrigin)) await api.expect('PATCH', '/v1/admin/tenant', { allowedOrigins: [...tenant.allowedOrigins, input.acmeOrigin] }, 200);
    for (const { key } of catalogue) await api.expect('PUT', `/v1/admin/connectors/${key}`, { enabled: true, settings: { useSandbox: true } }, 200);
    await seedLlm(api, input.sandboxUrl);
  } finally {
    await api.expect('POST', '/v1/auth/switch-tenant', { tenantId: home.id }, 200);
  }
  for (const { key } of DEMO_FLOW_TEMPLATES) {
    const preview = await api.expect('GET', `/v1/admin/flow-templates/${key}/promotion?environmentId=${other.id}`, undefined, 200);
    if (preview.upToDate) {
      promoted.push({ key, version: preview.to.version, status: 'unchanged' });
      continue;
    }
    const done = await api.expect('POST', `/v1/admin/flow-templates/${key}/promote`, { environmentId: other.id, expectedVersion: preview.to.version }, 201);
    promoted.push({ key, version: done.version, status: 'published' });
  }
  return { environment: home.name, promoted: { environment: other.name, templates: promoted } };
}

/**
 * The `sandbox` LLM provider (created, or pointed at this sandbox when its port changed) and the
 * sandbox model's script, set at every start: the sandbox keeps scripts in its state file, but a
 * reset sandbox, or an older script, must not leave the demo's agent without one.
 */
async function seedLlm(api: AdminClient, sandboxUrl: string): Promise<DemoSeedResult['llm']> {
  const root = sandboxUrl.replace(/\/+$/, '');
  const baseUrl = `${root}/llm/v1`;
  const script = await fetch(`${root}/_sandbox/llm/scripts/${SUPPORT_TRIAGE_MODEL}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ turns: SUPPORT_TRIAGE_SCRIPT }),
  });
  if (!script.ok) throw new Error(`The sandbox at ${sandboxUrl} refused the ${SUPPORT_TRIAGE_MODEL} script: ${script.status} ${await script.text()}`);

  const path = `/v1/admin/llm-providers/${DEMO_LLM_PROVIDER.key}`;
  const wanted = { name: DEMO_LLM_PROVIDER.name, kind: DEMO_LLM_PROVIDER.kind, baseUrl, defaultModel: DEMO_LLM_PROVIDER.defaultModel };
  const existing = await api.request('GET', path);
  const result = (status: DemoSeedResult['llm']['status']) => ({ provider: DEMO_LLM_PROVIDER.key, baseUrl, status, models: [SUPPORT_TRIAGE_MODEL] });
  if (existing.status === 404) {
    await api.expect('POST', '/v1/admin/llm-providers', { key: DEMO_LLM_PROVIDER.key, ...wanted }, 201, 200);
    return result('created');
  }
  if (existing.status !== 200) throw new Error(`GET ${path} answered ${existing.status}: ${JSON.stringify(existing.body)}`);
  const changed = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => existing.body[k] !== v));
  if (Object.keys(changed).length === 0) return result('unchanged');
  await api.expect('PATCH', path, changed, 200);
  return result('updated');
}

/** Creates or updates the draft when it differs from `definition`, then publishes it. */
async function seedTemplate(api: AdminClient, definition: Record<string, unknown> & { key: string }): Promise<DemoSeedResult['templates'][number]> {
  const path = `/v1/admin/flow-templates/${definition.key}`;
  const existing = await api.request('GET', path);
  if (existing.status === 404) await api.expect('POST', '/v1/admin/flow-templates', { definition }, 200, 201);
  else if (existing.status !== 200) throw new Error(`GET ${path} answered ${existing.status}: ${JSON.stringify(existing.body)}`);
  else if (isDeepStrictEqual(existing.body.draft, definition) && existing.body.latestVersion > 0) {
    return { key: definition.key, version: existing.body.latestVersion, status: 'unchanged' };
  } else await api.expect('PUT', `${path}/draft`, { definition }, 200);

  const published = await api.expect('POST', `${path}/publish`, undefined, 200, 201);
  return { key: definition.key, version: published.version, status: published.changed ? 'published' : 'unchanged' };
}

/** Acme's receiver subscribed to every event type; a new secret when the one we know is missing. */
async function seedWebhookEndpoint(api: AdminClient, input: DemoSeedInput): Promise<DemoSeedResult['webhook']> {
  const listed = await api.expect('GET', '/v1/admin/webhook-endpoints', undefined, 200);
  const wanted = { url: input.webhookUrl, description: 'Acme CRM event log', eventTypes: DEMO_WEBHOOK_EVENT_TYPES, enabled: true };
  const existing = (listed.data as Array<{ id: string; url: string }>).find((e) => e.url === input.webhookUrl);
  if (!existing) {
    const { enabled: _enabled, ...create } = wanted;
    const created = await api.expect('POST', '/v1/admin/webhook-endpoints', create, 201, 200);
    return { id: created.id, url: created.url, secret: created.secret };
  }
  await api.expect('PATCH', `/v1/admin/webhook-endpoints/${existing.id}`, wanted, 200);
  if (input.webhookSecret) return { id: existing.id, url: existing.url, secret: input.webhookSecret };
  const rotated = await api.expect('POST', `/v1/admin/webhook-endpoints/${existing.id}/rotate-secret`, {}, 200, 201);
  return { id: existing.id, url: existing.url, secret: rotated.secret };
}
