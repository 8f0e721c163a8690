import { describe, expect, it } from 'vitest';
import { describeInput, MAX_TOOL_NAME, TOOL_NAME_PATTERN, toolName } from './tool-names';

describe('MCP tool names', () => {
  it('joins connector and action with an underscore', () => {
    expect(toolName('slack', 'send_message')).toBe('slack_send_message');
    expect(toolName('google-sheets', 'append_row')).toBe('google-sheets_append_row');
  });

  it('replaces characters MCP does not allow, and keeps names within 64 characters, unique and stable', () => {
    expect(toolName('acme-crm', 'get /users/{id}')).toBe('acme-crm_get__users__id_');
    const long = toolName('acme-crm', 'x'.repeat(100));
    expect(long).toHaveLength(MAX_TOOL_NAME);
    expect(long).toMatch(TOOL_NAME_PATTERN);
    expect(toolName('acme-crm', 'x'.repeat(100))).toBe(long);
    expect(toolName('acme-crm', `${'x'.repeat(99)}y`)).not.toBe(long);
    for (const name of [toolName('a', 'ü✓ 日本'), toolName('b', '')]) expect(name).toMatch(/^[A-Za-z0-9_.-]+$/);
  });

  it('never collides with the result tool', () => {
    expect(toolName('switchboard', 'call_result')).not.toBe('switchboard_call_result');
  });
});

describe('approval descriptions', () => {
  const schema = { type: 'object', properties: { channel: { title: 'Channel' }, text: { title: 'Text' } } };

  it('puts the input in plain words, one line per field, after fixed words', () => {
    const text = describeInput('Send message in Slack', schema, { channel: '#general', text: 'Hello', thread_ts: '1.2', blocks: [{ type: 'x' }] });
    expect(text).toBe('Your AI assistant asks to send message in Slack with:\n- Channel: #general\n- Text: Hello\n- Thread ts: 1.2\n- Blocks: [{"type":"x"}]');
  });

  it('never starts with what the caller sent, and shortens long values', () => {
    const text = describeInput('Send message in Slack', schema, { text: `=$steps ${'a'.repeat(400)}` });
    expect(text.startsWith('Your AI assistant')).toBe(true);
    expect(text).toContain('- Text: =$steps');
    expect(text.split('\n')[1].length).toBeLessThan(320);
    expect(describeInput('List users in Slack', schema, {})).toBe('Your AI assistant asks to list users in Slack with:\n(no input)');
  });
});
