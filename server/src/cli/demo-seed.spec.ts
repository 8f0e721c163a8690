import { describe, expect, it } from 'vitest';
import { validateDefinition } from '../flows/definition/validate-definition';
import { DEMO_FLOW_TEMPLATES } from './demo-seed';

describe('the demo flow templates', () => {
  it.each(DEMO_FLOW_TEMPLATES.map((t) => [t.key, t] as const))('%s is a valid flow definition', (_key, definition) => {
    const checked = validateDefinition(definition);
    expect(checked.ok ? [] : checked.errors).toEqual([]);
  });
});
