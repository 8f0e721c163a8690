import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { connectors, ConnectorDefinition } from '../index';
import { anyObject, arr, bool, dict, int, literal, nullable, num, obj, oneOf, res, str, types } from './shared';

/** What the manifest, ajv, the widget and the MCP tools read: the JSON text. */
const json = (schema: unknown) => JSON.stringify(schema);

describe('schema builders', () => {
  it('write plain JSON Schema, `type` first and then the keywords in the order given', () => {
    expect(json(str('Channel', { description: 'Id or name', 'x-options': 'channels', minLength: 1 }))).toBe(
      '{"type":"string","title":"Channel","description":"Id or name","x-options":"channels","minLength":1}',
    );
    expect(json(str({ pattern: '^\\S+$' }))).toBe('{"type":"string","pattern":"^\\\\S+$"}');
    expect(json(str())).toBe('{"type":"string"}');
    expect(json(int('Page size', { minimum: 1, default: 20 }))).toBe('{"type":"integer","title":"Page size","minimum":1,"default":20}');
    expect(json(num('Amount'))).toBe('{"type":"number","title":"Amount"}');
    expect(json(bool({ description: 'Done?' }))).toBe('{"type":"boolean","description":"Done?"}');
    expect(json(oneOf({ title: 'Format', enum: ['text', 'html'], default: 'text' }))).toBe('{"type":"string","title":"Format","enum":["text","html"],"default":"text"}');
    expect(json(types(['string', 'number', 'null']))).toBe('{"type":["string","number","null"]}');
    expect(json(literal(true))).toBe('{"const":true}');
    expect(json(anyObject({ title: 'Fields', minProperties: 1 }))).toBe('{"type":"object","title":"Fields","minProperties":1}');
  });

  it('put an array’s items and a map’s values after its title and description, other keywords after them', () => {
    expect(json(arr(str(), { maxItems: 5, title: 'Tags', description: 'Labels' }))).toBe(
      '{"type":"array","title":"Tags","description":"Labels","items":{"type":"string"},"maxItems":5}',
    );
    expect(json(dict(str({ maxLength: 9 }), { maxProperties: 2, title: 'Metadata' }))).toBe(
      '{"type":"object","title":"Metadata","additionalProperties":{"type":"string","maxLength":9},"maxProperties":2}',
    );
  });

  it('make `null` one more type of a schema, keeping its other keywords', () => {
    expect(json(nullable(str('Due on', { format: 'date' })))).toBe('{"type":["string","null"],"title":"Due on","format":"date"}');
    expect(json(nullable(res({ id: str() }, ['id'])))).toBe('{"type":["object","null"],"properties":{"id":{"type":"string"}},"required":["id"]}');
  });

  it('obj lists required keys as written, closes the object and takes extra keywords; res leaves it open', () => {
    const input = obj({ a: str(), b: int(), c: bool() }, ['c', 'a'], { minProperties: 1 });
    expect(json(input)).toBe(
      '{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"},"c":{"type":"boolean"}},"required":["c","a"],"additionalProperties":false,"minProperties":1}',
    );
    expect(json(obj({ a: str() }))).toBe('{"type":"object","properties":{"a":{"type":"string"}},"required":[],"additionalProperties":false}');
    expect(json(res({ a: str() }))).toBe('{"type":"object","properties":{"a":{"type":"string"}},"required":[]}');
  });

  it('validate with ajv as their JSON does (TypeBox’s marks are symbol keys, which ajv and JSON ignore)', () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    ajv.addKeyword({ keyword: 'x-options', schemaType: 'string' });
    const schema = obj({ channel: str('Channel', { 'x-options': 'channels' }), thread: nullable(str()), tags: arr(str()) }, ['channel']);
    const validate = ajv.compile(schema);
    expect(validate({ channel: 'C1', thread: null, tags: ['x'] })).toBe(true);
    expect(validate({ thread: 'x' })).toBe(false);
    expect(validate({ channel: 'C1', other: 1 })).toBe(false);
    expect(structuredClone(schema)).toStrictEqual(JSON.parse(json(schema)));
    expect(Object.getOwnPropertySymbols(schema).length).toBeGreaterThan(0);
  });
});

describe('deep connectors', () => {
  // A TypeBox schema carries its kind as a symbol key: such a schema's Static type is what run() and map() see.
  it('build every action and trigger schema with the builders', () => {
    const plain = Object.values(connectors as Record<string, ConnectorDefinition>).flatMap((c) =>
      [
        ...Object.entries(c.actions).flatMap(([key, a]) => [[`${key}.input`, a.input] as const, [`${key}.output`, a.output] as const]),
        ...Object.entries(c.triggers ?? {}).flatMap(([key, t]) => [[`${key}.input`, t.input] as const, [`${key}.output`, t.output] as const]),
      ]
        .filter(([, schema]) => schema !== undefined && Object.getOwnPropertySymbols(schema).length === 0)
        .map(([where]) => `${c.key}.${where}`),
    );
    expect(plain).toEqual([]);
  });
});
