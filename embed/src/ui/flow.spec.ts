import { describe, expect, it } from 'vitest';
import { fieldLines } from './flow';

describe('approval descriptions', () => {
  it('reads "Field: value" lines (an AI agent\'s tool call) as fields', () => {
    expect(fieldLines('Channel: #general\nText: Ticket from Maria: Cannot log in')).toEqual([
      ['Channel', '#general'],
      ['Text', 'Ticket from Maria: Cannot log in'],
    ]);
  });

  it('keeps lines that name no field with the value above them', () => {
    expect(fieldLines('Text: first line\nsecond line\n\nafter a blank line\nChannel: #ops')).toEqual([
      ['Text', 'first line\nsecond line\n\nafter a blank line'],
      ['Channel', '#ops'],
    ]);
    expect(fieldLines('Amount: ')).toEqual([['Amount', '']]);
  });

  it('keeps an indented line with its value even when it looks like a field', () => {
    expect(fieldLines('Text: Summary\n  Customer: Maria\n  Plan: Pro\nChannel: #ops')).toEqual([
      ['Text', 'Summary\nCustomer: Maria\nPlan: Pro'],
      ['Channel', '#ops'],
    ]);
  });

  it('leaves other text as it is', () => {
    expect(fieldLines('Requested by the support team')).toBeNull();
    expect(fieldLines('Please check first.\nChannel: #general')).toBeNull();
    expect(fieldLines('See https://example.com/x')).toBeNull();
    expect(fieldLines('')).toBeNull();
    expect(fieldLines(`${'a'.repeat(61)}: too long to be a field name`)).toBeNull();
  });
});
