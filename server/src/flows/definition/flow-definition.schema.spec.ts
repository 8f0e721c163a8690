import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { durationMs, parseIsoDuration } from './durations';
import { everyFeature, wonDealsToSlack } from './fixtures';
import { bindingConnector, flowDefinitionSchema, forEachStep, INPUT_TYPES, STEP_TYPES, StepVisit, TRIGGER_TYPES } from './flow-definition.schema';

type Schema = Record<string, unknown>;

/** Every subschema, with its JSON Pointer inside the schema document. */
function subschemas(schema: unknown, pointer = ''): Array<[string, Schema]> {
  if (schema === null || typeof schema !== 'object') return [];
  if (Array.isArray(schema)) return schema.flatMap((s, i) => subschemas(s, `${pointer}/${i}`));
  const out: Array<[string, Schema]> = [[pointer, schema as Schema]];
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'properties' || k === '$defs' || k === 'dependentSchemas') {
      for (const [name, sub] of Object.entries(v as Schema)) out.push(...subschemas(sub, `${pointer}/${k}/${name}`));
    } else if (typeof v === 'object') out.push(...subschemas(v, `${pointer}/${k}`));
  }
  return out;
}

describe('flowDefinitionSchema', () => {
  it('is a draft 2020-12 schema that strict ajv compiles', () => {
    expect(flowDefinitionSchema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true, discriminator: true });
    addFormats(ajv);
    ajv.addKeyword({ keyword: 'x-error-message', schemaType: 'string' });
    const validate = ajv.compile(flowDefinitionSchema);
    expect(validate(wonDealsToSlack())).toBe(true);
    expect(validate(everyFeature())).toBe(true);
  });

  it('is plain JSON (servable as is)', () => {
    expect(JSON.parse(JSON.stringify(flowDefinitionSchema))).toEqual(flowDefinitionSchema);
  });

  it('closes every object it describes (additionalProperties: false), so typos are caught', () => {
    const open = subschemas(flowDefinitionSchema)
      .filter(([pointer, s]) => s.properties && !pointer.includes('/dependentSchemas/') && s.additionalProperties !== false)
      .map(([pointer]) => pointer);
    expect(open).toEqual([]);
  });

  it('lists the step, trigger and input types the constants name', () => {
    const defs = flowDefinitionSchema.$defs as unknown as Record<string, Schema>;
    const tags = (union: Schema) =>
      (union.oneOf as Schema[]).map((branch) => {
        const target = typeof branch.$ref === 'string' ? defs[branch.$ref.replace('#/$defs/', '')] : branch;
        return ((target.properties as Schema).type as Schema).const;
      });
    expect(tags(defs.step)).toEqual([...STEP_TYPES]);
    expect(tags(defs.trigger)).toEqual([...TRIGGER_TYPES]);
    expect(tags(defs.input)).toEqual([...INPUT_TYPES]);
  });
});

describe('forEachStep', () => {
  it('visits steps in document order with their pointer and enclosing branches and loops', () => {
    const seen: Array<Pick<StepVisit, 'pointer' | 'order'> & { id: string; ancestors: string[] }> = [];
    forEachStep(everyFeature().steps, (v) => seen.push({ id: v.step.id, pointer: v.pointer, order: v.order, ancestors: v.ancestors.map((a) => `${a.step.id}:${a.arm}`) }));
    expect(seen).toEqual([
      { id: 'list', pointer: '/steps/0', order: 0, ancestors: [] },
      { id: 'each', pointer: '/steps/1', order: 1, ancestors: [] },
      { id: 'line', pointer: '/steps/1/steps/0', order: 2, ancestors: ['each:steps'] },
      { id: 'say', pointer: '/steps/1/steps/1', order: 3, ancestors: ['each:steps'] },
      { id: 'kind', pointer: '/steps/2', order: 4, ancestors: [] },
      { id: 'wait', pointer: '/steps/2/cases/0/steps/0', order: 5, ancestors: ['kind:cases/0'] },
      { id: 'waitUntil', pointer: '/steps/2/cases/1/steps/0', order: 6, ancestors: ['kind:cases/1'] },
      { id: 'waitMs', pointer: '/steps/2/default/0', order: 7, ancestors: ['kind:default'] },
      { id: 'ok', pointer: '/steps/3', order: 8, ancestors: [] },
      { id: 'check', pointer: '/steps/4', order: 9, ancestors: [] },
      { id: 'done', pointer: '/steps/4/then/0', order: 10, ancestors: ['check:then'] },
      { id: 'no', pointer: '/steps/4/else/0', order: 11, ancestors: ['check:else'] },
    ]);
  });

  it('names the connector of a binding', () => {
    expect(bindingConnector('slack')).toBe('slack');
    expect(bindingConnector('google-sheets:backup')).toBe('google-sheets');
  });
});

describe('durations', () => {
  it('reads ISO-8601 durations of weeks, days, hours, minutes and seconds', () => {
    expect(parseIsoDuration('PT15M')).toBe(900_000);
    expect(parseIsoDuration('P1DT2H3M4.5S')).toBe(93_784_500);
    expect(parseIsoDuration('P2W')).toBe(1_209_600_000);
    expect(parseIsoDuration('PT0.25S')).toBe(250);
    for (const bad of ['P', 'PT', 'P1M', 'P1Y', 'PT1H30', '15m', 'P-1D']) expect(parseIsoDuration(bad)).toBeUndefined();
  });

  it('takes milliseconds or a duration', () => {
    expect(durationMs(1500)).toBe(1500);
    expect(durationMs('PT1S')).toBe(1000);
    expect(durationMs(-1)).toBeUndefined();
    expect(durationMs(true)).toBeUndefined();
  });
});
