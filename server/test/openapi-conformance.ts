import Ajv, { type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';

type Json = Record<string, unknown>;
export interface OpenApiDocument {
  paths: Record<string, Record<string, { tags?: string[]; responses: Record<string, { content?: Record<string, { schema: Json }> }> }>>;
  components: { schemas: Record<string, Json> };
}

/**
 * An OpenAPI 3.0 schema as JSON Schema for ajv, closed: `nullable: true` becomes "or null", and an
 * object that lists its properties gets `additionalProperties: false` unless it says otherwise, so a
 * field the server sends but does not document fails (the generated client types would lack it).
 */
function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const { nullable, ...rest } = schema as Json;
  const converted: Json = {};
  for (const [key, value] of Object.entries(rest)) {
    // Free-form JSON (examples, enums, defaults) is data, not schema.
    converted[key] = ['example', 'examples', 'enum', 'default', 'const'].includes(key) ? value : key === 'properties' ? mapValues(value as Json) : toJsonSchema(value);
  }
  if (converted.properties && converted.additionalProperties === undefined) converted.additionalProperties = false;
  if (nullable !== true) return converted;
  // An enum lists its values: null has to be one of them too.
  const nonNull = Array.isArray(converted.enum) ? { ...converted, enum: [...(converted.enum as unknown[]), null] } : converted;
  return { anyOf: [nonNull, { type: 'null' }] };
}

const mapValues = (properties: Json): Json => Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, toJsonSchema(v)]));

const validators = new WeakMap<OpenApiDocument, { ajv: Ajv; root: string }>();

function ajvFor(document: OpenApiDocument): { ajv: Ajv; root: string } {
  let entry = validators.get(document);
  if (!entry) {
    // OpenAPI keywords (example, discriminator…) are not JSON Schema: ajv must not refuse them.
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const root = 'openapi.json';
    ajv.addSchema({ $id: root, components: { schemas: mapValues(document.components.schemas) } });
    entry = { ajv, root };
    validators.set(document, entry);
  }
  return entry;
}

const describeErrors = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message}${e.keyword === 'additionalProperties' ? `: ${String(e.params.additionalProperty)}` : ''}`).join('; ');

/**
 * Fails unless `body`, the answer of `method pathTemplate` with `status`, is what /openapi.json
 * documents for that status: a 204 without a body, anything else valid against its (closed) schema.
 */
export function expectConformsToOpenApi(document: OpenApiDocument, method: string, pathTemplate: string, status: number, body: unknown): void {
  const what = `${method.toUpperCase()} ${pathTemplate} ${status}`;
  const operation = document.paths[pathTemplate]?.[method.toLowerCase()];
  expect(operation, `${method.toUpperCase()} ${pathTemplate} is not in /openapi.json`).toBeDefined();
  const response = operation!.responses[String(status)];
  expect(response, `${what} is not a documented response (documented: ${Object.keys(operation!.responses).join(', ')})`).toBeDefined();
  const content = response.content?.['application/json'];
  if (status === 204) {
    expect(content, `${what} documents a body`).toBeUndefined();
    expect(body ?? '', `${what} sent a body`).toBe('');
    return;
  }
  expect(content?.schema, `${what} documents no JSON schema`).toBeDefined();
  const { ajv, root } = ajvFor(document);
  const schema = JSON.parse(JSON.stringify(toJsonSchema(content!.schema)).replaceAll('"#/components/', `"${root}#/components/`)) as Json;
  const valid = ajv.validate(schema, body);
  expect(valid, `${what} does not match its documented schema: ${describeErrors(ajv.errors)}\n${JSON.stringify(body).slice(0, 2000)}`).toBe(true);
}
