import type { Sandbox } from '@switchboard/connectors/dist/sandbox';
import { expect } from 'vitest';
import { connectInSandbox, type TenantFixture } from './harness';

/**
 * The ticket triage agent the agent tests share: it looks the customer up in HubSpot and posts a
 * summary to Slack after the end user approves, answering `{ summary, priority }`.
 */
export const triageFlow = (key: string, model: string, agent: Record<string, unknown> = {}, name = `Ticket triage (${key})`) => ({
  key,
  name,
  trigger: { type: 'request' },
  connectors: ['hubspot', 'slack'],
  inputs: { channel: { type: 'string', title: 'Channel', default: '#general' } },
  steps: [
    { id: 'ticket', type: 'transform', output: { subject: '=$trigger.subject', from: '=$trigger.email' } },
    {
      id: 'triage',
      type: 'agent',
      provider: 'sandbox',
      model,
      instructions: "='Summarise the ticket for the support channel ' & $inputs.channel & '. Look the customer up first.'",
      input: '=$steps.ticket',
      tools: ['hubspot.find_contact', 'slack.send_message'],
      approve: ['slack.send_message'],
      output: { type: 'object', required: ['summary', 'priority'], properties: { summary: { type: 'string' }, priority: { enum: ['low', 'normal', 'high'] } } },
      ...agent,
    },
    { id: 'done', type: 'transform', output: { priority: '=$steps.triage.answer.priority', calls: '=$steps.triage.toolCalls' } },
  ],
});

/** The sandbox model's turns for it: look up, post, answer. */
export const LOOKUP = { toolCalls: [{ name: 'hubspot_find_contact', arguments: { email: '{{input.from}}' } }] };
export const POST = {
  toolCalls: [
    { name: 'slack_send_message', arguments: { channel: '#general', text: 'Ticket from {{tools.hubspot_find_contact.contact.properties.firstname}}: {{input.subject}}' } },
  ],
};
export const ANSWER = { content: '{"summary":"Maria cannot log in","priority":"high"}' };

/** A tenant whose end user `alice` connected HubSpot and Slack in the sandbox, with the sandbox model as its LLM provider `sandbox`. */
export async function setUpAgentTenant(api: { url: string }, tenant: TenantFixture, sandbox: Sandbox, origins: string[]): Promise<void> {
  const [origin] = origins;
  expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: origins })).status).toBe(200);
  for (const connector of ['hubspot', 'slack']) {
    expect((await tenant.owner.put(`/v1/admin/connectors/${connector}`, { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    await connectInSandbox(api, tenant, connector, 'alice', { origin });
  }
  const provider = await tenant.owner.post('/v1/admin/llm-providers', {
    key: 'sandbox',
    name: 'Sandbox model',
    kind: 'openai-compatible',
    baseUrl: `${sandbox.url}/llm/v1`,
    apiKey: 'sk-sandbox',
  });
  expect(provider.status, JSON.stringify(provider.body)).toBe(201);
}

/** Publishes a flow and enables it for alice. */
export async function publishForAlice(tenant: TenantFixture, definition: { key: string }): Promise<void> {
  const created = await tenant.owner.post('/v1/admin/flow-templates', { definition });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect((await tenant.owner.post(`/v1/admin/flow-templates/${definition.key}/publish`)).status).toBe(201);
  expect((await tenant.host.post(`/v1/end-users/alice/flows/${definition.key}/enable`, {})).status).toBe(200);
}
