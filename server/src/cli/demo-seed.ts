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

export const DEMO_FLOW_TEMPLATES: Array<Record<string, unknown> & { key: string }> = [
  WON_DEALS_TO_SLACK,
  NEW_CUSTOMER_TO_HUBSPOT,
  BIG_DEAL_APPROVAL,
  NEW_HUBSPOT_DEALS_TO_SLACK,
  GITHUB_ISSUES_TO_SLACK,
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
}

export interface DemoSeedResult {
  connectors: string[];
  templates: Array<{ key: string; version: number; status: 'published' | 'unchanged' }>;
  webhook: { id: string; url: string; secret: string };
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

  const templates: DemoSeedResult['templates'] = [];
  for (const definition of DEMO_FLOW_TEMPLATES) templates.push(await seedTemplate(api, definition));

  return { connectors: catalogue.map((c) => c.key), templates, webhook: await seedWebhookEndpoint(api, input) };
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
