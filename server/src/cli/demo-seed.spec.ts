import { describe, expect, it } from 'vitest';
import { validateDefinition } from '../flows/definition/validate-definition';
import { fillPlaceholders, placeholderContext, scriptProblem } from '@switchboard/connectors/dist/sandbox/llm';
import { agentToolName } from '../flows/definition/flow-definition.schema';
import { DEMO_FLOW_TEMPLATES, DEMO_LLM_PROVIDER, SUPPORT_TICKET_TRIAGE, SUPPORT_TRIAGE_AGENT, SUPPORT_TRIAGE_MODEL, SUPPORT_TRIAGE_SCRIPT } from './demo-seed';

describe('the demo flow templates', () => {
  it.each(DEMO_FLOW_TEMPLATES.map((t) => [t.key, t] as const))('%s is a valid flow definition', (_key, definition) => {
    const checked = validateDefinition(definition);
    expect(checked.ok ? [] : checked.errors).toEqual([]);
  });
});

describe('the support ticket triage agent', () => {
  const agent = SUPPORT_TRIAGE_AGENT;

  it('uses the seeded provider and the scripted model, and every write waits for the end user', () => {
    expect(DEMO_FLOW_TEMPLATES).toContain(SUPPORT_TICKET_TRIAGE);
    expect(SUPPORT_TICKET_TRIAGE.steps[0]).toBe(agent);
    expect(agent).toMatchObject({ type: 'agent', provider: DEMO_LLM_PROVIDER.key, model: SUPPORT_TRIAGE_MODEL, approvers: 'end_user' });
    expect(agent.tools).toEqual(['hubspot.find_contact', 'slack.send_message']);
    expect(agent.approve).toEqual(['slack.send_message']);
    expect(scriptProblem(SUPPORT_TRIAGE_SCRIPT)).toBeNull();
  });

  it("calls only the step's tools, in order: the lookup, then the post", () => {
    const offered = agent.tools.map(agentToolName);
    const called = SUPPORT_TRIAGE_SCRIPT.flatMap((turn) => (turn.toolCalls ?? []).map((c) => c.name));
    expect(called).toEqual(['hubspot_find_contact', 'slack_send_message']);
    for (const name of called) expect(offered).toContain(name);
    expect(SUPPORT_TRIAGE_SCRIPT.at(-1)).toEqual({ content: expect.any(String) });
  });

  it("fills the post from the ticket and HubSpot's answer, and answers JSON the output schema accepts", () => {
    const input = {
      ticket: { id: 't1', subject: 'Cannot export "Q3" report', message: 'The export button spins forever.', email: 'maria@globex.test', filedBy: 'Maria Johnson' },
      channel: 'C0SUPPORT',
    };
    const found = { found: true, contact: { id: '51', properties: { firstname: 'Maria', lastname: 'Johnson', company: 'Globex Corporation', email: 'maria@globex.test' } } };
    const context = placeholderContext([
      { role: 'user', content: JSON.stringify(input) },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_0_0', type: 'function', function: { name: 'hubspot_find_contact', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_0_0', content: JSON.stringify(found) },
    ]);
    const lookup = SUPPORT_TRIAGE_SCRIPT[0]!.toolCalls![0]!.arguments as { email: string };
    expect(fillPlaceholders(lookup.email, context)).toBe('maria@globex.test');
    const post = SUPPORT_TRIAGE_SCRIPT[1]!.toolCalls![0]!.arguments as { channel: string; text: string };
    expect(fillPlaceholders(post.channel, context)).toBe('C0SUPPORT');
    expect(fillPlaceholders(post.text, context)).toBe(
      ':ticket: New support ticket from Maria Johnson (Globex Corporation): *Cannot export "Q3" report*\nThe export button spins forever.',
    );
    const answer = JSON.parse(fillPlaceholders(SUPPORT_TRIAGE_SCRIPT[2]!.content!, context));
    expect(answer).toEqual({ summary: 'Maria Johnson of Globex Corporation filed a support ticket; a summary was drafted for Slack.', priority: 'high' });
    expect(agent.output.properties.priority.enum).toContain(answer.priority);
  });
});
