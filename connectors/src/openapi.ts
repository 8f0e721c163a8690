/**
 * OpenAPI import: a tenant's OpenAPI 3.x document attached to a provider becomes actions (one per
 * operation) and, for GET operations that list things, option sources. importOpenApi() validates,
 * dereferences (local refs only) and normalises the document once; the result is plain JSON the
 * server stores, and operationAction()/operationOptionSource() turn it back into runnable
 * definitions without parsing anything per run.
 */
import { hasNestedQuantifier } from './regex-safety';
import { ensureOk, getPath } from './runtime';
import { ActionDefinition, HttpRequest, JsonSchema, OptionItem, OptionSource } from './types';

export const OPENAPI_LIMITS = {
  /** The document's size as sent (JSON or YAML text). */
  maxDocumentBytes: 1024 * 1024,
  /** Operations turned into actions. */
  maxOperations: 300,
  /** Schema nodes across all normalised actions: dereferencing repeats shared schemas, this caps the blow-up. */
  maxSchemaNodes: 100_000,
  /** The normalised actions as stored (JSON bytes): what every process holds in memory for the connector. */
  maxNormalisedBytes: 2 * 1024 * 1024,
};
export type OpenApiLimits = typeof OPENAPI_LIMITS;

export type OpenApiProblem = 'invalid_document' | 'too_large' | 'cyclic' | 'unsupported';

/** Why a document was refused; `pointer` names where (a JSON pointer or $ref) when known. */
export class OpenApiImportError extends Error {
  constructor(
    readonly problem: OpenApiProblem,
    message: string,
    readonly pointer?: string,
  ) {
    super(message);
    this.name = 'OpenApiImportError';
  }
}

export interface ImportedParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  /** The action input property carrying it (the name, unless two locations share it). */
  field: string;
  required: boolean;
  /** Arrays in the query: repeated (`?id=1&id=2`, OpenAPI's default) or comma-joined. */
  explode: boolean;
}

/** How a listing response becomes options: dot paths (items '' for a top-level array). */
export interface ListSpec {
  itemsPath: string;
  valuePath: string;
  labelPath: string;
  /** A query parameter that filters by text, given the widget's search. */
  searchParam?: string;
}

export interface ImportedOperation {
  /** The action key: operationId in snake_case, else method + path; unique in the document. */
  key: string;
  name: string;
  description: string;
  method: HttpRequest['method'];
  /** The path template, e.g. `/pets/{petId}`, relative to the connection's base URL. */
  path: string;
  parameters: ImportedParameter[];
  body?: { field: string; required: boolean; contentType: string };
  input: JsonSchema;
  output: JsonSchema;
  /** Set for GET operations that answer a list and need no input: they can serve as option sources. */
  list?: ListSpec;
}

export interface ImportedDocument {
  openapi: string;
  title: string;
  version: string;
  servers: string[];
  operations: ImportedOperation[];
  /** Operations or parts left out, each saying why (a HEAD operation, a cookie parameter…). */
  warnings: string[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const IGNORED_METHODS = ['head', 'options', 'trace'];
/** OpenAPI says header parameters with these names are ignored; the connection sets them. */
const RESERVED_HEADERS = new Set(['authorization', 'content-type', 'accept', 'cookie', 'host']);

/** Parses JSON or YAML text (size-checked). YAML aliases are capped by the parser (billion laughs). */
export function parseOpenApiText(text: string, limits: OpenApiLimits = OPENAPI_LIMITS): unknown {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxDocumentBytes) {
    throw new OpenApiImportError('too_large', `The document is ${bytes} bytes; the limit is ${limits.maxDocumentBytes}`);
  }
  const trimmed = text.trimStart();
  try {
    if (trimmed.startsWith('{')) return JSON.parse(trimmed);
    const { parse: parseYaml } = require('yaml') as typeof import('yaml');
    return parseYaml(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (error) {
    throw new OpenApiImportError('invalid_document', `The document is neither JSON nor YAML: ${(error as Error).message.split('\n')[0]}`);
  }
}

/**
 * Validates, dereferences and normalises an OpenAPI 3.0/3.1 document (an object or JSON/YAML text).
 * `reservedKeys` are taken already (the connector's own actions and option sources): an operation
 * whose key would clash gets a numbered one.
 */
export async function importOpenApi(source: unknown, limits: OpenApiLimits = OPENAPI_LIMITS, reservedKeys: string[] = []): Promise<ImportedDocument> {
  const parsed = typeof source === 'string' ? parseOpenApiText(source, limits) : source;
  if (typeof source !== 'string') {
    const bytes = Buffer.byteLength(JSON.stringify(parsed) ?? '', 'utf8');
    if (bytes > limits.maxDocumentBytes) throw new OpenApiImportError('too_large', `The document is ${bytes} bytes as JSON; the limit is ${limits.maxDocumentBytes}`);
  }
  if (!isObject(parsed)) throw new OpenApiImportError('invalid_document', 'The document must be an object with `openapi`, `info` and `paths`');
  const version = parsed.openapi;
  if (typeof version !== 'string' || !/^3\.[01]\.\d+/.test(version)) {
    const found = typeof parsed.swagger === 'string' ? `Swagger ${parsed.swagger}` : version === undefined ? 'no `openapi` field' : `openapi ${JSON.stringify(version)}`;
    throw new OpenApiImportError('unsupported', `Only OpenAPI 3.0 and 3.1 documents can be imported (found ${found})`, '/openapi');
  }
  const operationCount = countOperations(parsed.paths);
  if (operationCount > limits.maxOperations) {
    throw new OpenApiImportError('too_large', `The document has ${operationCount} operations; the limit is ${limits.maxOperations}`, '/paths');
  }
  // Required here: only an import needs the parser, and no API or worker should carry it for nothing.
  // The parser keeps references to what it is given; it gets its own copies.
  const { dereference, validate } = require('@readme/openapi-parser') as typeof import('@readme/openapi-parser');
  const result = await validate(structuredClone(parsed) as never, { resolve: { external: false }, validate: { errors: { colorize: false } } }).catch((error: Error) => {
    throw refusal(error);
  });
  if (!result.valid) {
    const problems = result.errors.map((e) => describeValidationError(e.message));
    const more = result.additionalErrors > 0 ? ` (and ${result.additionalErrors} more)` : '';
    throw new OpenApiImportError('invalid_document', `The document is not valid OpenAPI ${version}: ${problems.slice(0, 5).join('; ')}${more}`);
  }
  const document = (await dereference(structuredClone(parsed) as never, {
    resolve: { external: false },
    dereference: { circular: false },
    timeoutMs: 5000,
  }).catch((error: Error) => {
    throw refusal(error);
  })) as Record<string, any>;
  const external = findRef(document, '');
  if (external) {
    throw new OpenApiImportError('unsupported', `Only references inside the document can be resolved: ${external.ref} at ${external.at}`, external.at);
  }
  const converter = new SchemaConverter(version.startsWith('3.0'), limits.maxSchemaNodes);
  const { operations, warnings } = normaliseOperations(document, converter, new Set(reservedKeys));
  const normalisedBytes = Buffer.byteLength(JSON.stringify(operations), 'utf8');
  if (normalisedBytes > limits.maxNormalisedBytes) {
    throw new OpenApiImportError(
      'too_large',
      `The actions take ${normalisedBytes} bytes once references are resolved; the limit is ${limits.maxNormalisedBytes}: split or simplify the document`,
    );
  }
  for (const pattern of converter.invalidPatterns) warnings.push(`pattern ${JSON.stringify(pattern.slice(0, 100))} is not a valid regular expression and was left out`);
  for (const pattern of converter.riskyPatterns) warnings.push(`pattern ${JSON.stringify(pattern.slice(0, 100))} could backtrack exponentially and was left out`);
  return {
    openapi: version,
    title: String(document.info?.title ?? ''),
    version: String(document.info?.version ?? ''),
    servers: Array.isArray(document.servers) ? document.servers.map((s: { url?: unknown }) => String(s?.url ?? '')).filter(Boolean) : [],
    operations,
    warnings,
  };
}

function refusal(error: Error): OpenApiImportError {
  if (error instanceof OpenApiImportError) return error;
  // json-schema-ref-parser: "Circular $ref pointer found at /cwd/#/components/schemas/Node/properties/child"
  const circular = /Circular \$ref pointer found at .*?(#\/\S*)/.exec(error.message);
  if (circular) {
    return new OpenApiImportError('cyclic', `The document's schemas are cyclic (a schema contains itself through ${circular[1]}); actions need finite schemas`, circular[1]);
  }
  const missing = /Missing \$ref pointer "([^"]+)"/.exec(error.message);
  if (missing) return new OpenApiImportError('invalid_document', `The document refers to ${missing[1]}, which does not exist`, missing[1]);
  return new OpenApiImportError('invalid_document', `The document could not be read: ${error.message.split('\n')[0]}`);
}

/** The parser's message is a headline then a code frame; keep the headline and the line it points at. */
function describeValidationError(message: string): string {
  const lines = message.split('\n');
  const pointed = lines.find((l) => /^>\s*\d+\s*\|/.test(l));
  const near = pointed ? pointed.replace(/^>\s*\d+\s*\|\s*/, '').trim() : '';
  return near ? `${lines[0]} (near ${near.slice(0, 80)})` : lines[0];
}

function countOperations(paths: unknown): number {
  if (!isObject(paths)) return 0;
  let count = 0;
  for (const item of Object.values(paths)) {
    if (isObject(item)) count += [...METHODS, ...IGNORED_METHODS].filter((m) => isObject(item[m])).length;
  }
  return count;
}

/** The first `$ref` left after dereferencing (external ones are not followed), with where it is. */
function findRef(value: unknown, at: string, seen = new Set<object>()): { ref: string; at: string } | undefined {
  if (!value || typeof value !== 'object' || seen.has(value)) return undefined;
  seen.add(value);
  if (!Array.isArray(value) && typeof (value as Record<string, unknown>).$ref === 'string') return { ref: (value as Record<string, string>).$ref, at: at || '/' };
  for (const [k, v] of Object.entries(value)) {
    const found = findRef(v, `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, seen);
    if (found) return found;
  }
  return undefined;
}

function normaliseOperations(document: Record<string, any>, converter: SchemaConverter, keys: Set<string>): { operations: ImportedOperation[]; warnings: string[] } {
  const operations: ImportedOperation[] = [];
  const warnings: string[] = [];
  for (const [path, item] of Object.entries<Record<string, any>>(document.paths ?? {})) {
    if (!isObject(item)) continue;
    for (const method of IGNORED_METHODS) if (isObject(item[method])) warnings.push(`${method.toUpperCase()} ${path}: ${method.toUpperCase()} operations are not imported`);
    for (const method of METHODS) {
      const operation = item[method];
      if (!isObject(operation)) continue;
      const label = `${method.toUpperCase()} ${path}`;
      const converted = normaliseOperation(method, path, item, operation as Record<string, any>, converter, warnings, label);
      if (!converted) continue;
      converted.key = uniqueKey(actionKey(operation.operationId, method, path), keys);
      operations.push(converted);
    }
  }
  return { operations, warnings };
}

function normaliseOperation(
  method: (typeof METHODS)[number],
  path: string,
  item: Record<string, any>,
  operation: Record<string, any>,
  converter: SchemaConverter,
  warnings: string[],
  label: string,
): ImportedOperation | undefined {
  // Operation parameters override path-item ones with the same name and location.
  const byLocation = new Map<string, Record<string, any>>();
  for (const p of [...(item.parameters ?? []), ...(operation.parameters ?? [])]) if (isObject(p)) byLocation.set(`${p.in}:${p.name}`, p);
  const parameters: ImportedParameter[] = [];
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  const fields = new Set<string>();
  for (const p of byLocation.values()) {
    const name = String(p.name);
    if (p.in === 'cookie') {
      warnings.push(`${label}: cookie parameter ${name} is not supported and was left out`);
      continue;
    }
    if (p.in === 'header' && RESERVED_HEADERS.has(name.toLowerCase())) continue;
    const location = p.in as ImportedParameter['in'];
    const field = fields.has(name) ? `${location}_${name}` : name;
    fields.add(field);
    const schema = parameterSchema(p, converter, 'input');
    properties[field] = { ...schema, ...(p.description && !schema.description ? { description: String(p.description) } : {}) };
    const isRequired = location === 'path' || p.required === true;
    if (isRequired) required.push(field);
    parameters.push({ name, in: location, field, required: isRequired, explode: p.explode ?? (p.style ?? 'form') === 'form' });
  }
  let body: ImportedOperation['body'];
  const requestBody = operation.requestBody;
  if (isObject(requestBody)) {
    const contentType = jsonMediaType(requestBody.content);
    if (!contentType) {
      const types = Object.keys(requestBody.content ?? {}).join(', ');
      if (requestBody.required) {
        warnings.push(`${label}: its request body is ${types}; only JSON bodies are supported, so it was not imported`);
        return undefined;
      }
      warnings.push(`${label}: its optional ${types} request body was left out (only JSON bodies are supported)`);
    } else {
      const field = fields.has('body') ? 'request_body' : 'body';
      const schema = converter.convert(requestBody.content[contentType].schema ?? {}, 'input');
      properties[field] = { title: 'Body', ...schema, ...(requestBody.description && !schema.description ? { description: String(requestBody.description) } : {}) };
      if (requestBody.required) required.push(field);
      body = { field, required: requestBody.required === true, contentType };
    }
  }
  const output = responseSchema(operation.responses, converter);
  const summary = typeof operation.summary === 'string' ? operation.summary.trim() : '';
  const description = typeof operation.description === 'string' ? operation.description.trim() : '';
  const imported: ImportedOperation = {
    key: '',
    name: (summary || `${method.toUpperCase()} ${path}`).slice(0, 200),
    description: (description || summary || `${method.toUpperCase()} ${path}`).slice(0, 2000),
    method: method.toUpperCase() as HttpRequest['method'],
    path,
    parameters,
    ...(body ? { body } : {}),
    input: { type: 'object', properties, ...(required.length > 0 ? { required } : {}), additionalProperties: false },
    output,
  };
  const list = method === 'get' && required.length === 0 ? detectList(output, parameters) : undefined;
  if (list) imported.list = list;
  return imported;
}

function parameterSchema(p: Record<string, any>, converter: SchemaConverter, direction: 'input' | 'output'): JsonSchema {
  if (isObject(p.schema)) return converter.convert(p.schema, direction);
  const type = jsonMediaType(p.content);
  return type ? converter.convert(p.content[type].schema ?? {}, direction) : { type: 'string' };
}

/** application/json, or any `+json` type, or `*\/*` with a schema. */
function jsonMediaType(content: unknown): string | undefined {
  if (!isObject(content)) return undefined;
  const types = Object.keys(content);
  return types.find((t) => /^application\/json\b/i.test(t)) ?? types.find((t) => /^application\/[\w.-]+\+json\b/i.test(t)) ?? types.find((t) => t === '*/*');
}

/** The schema of the first 2xx response with a JSON body (200 before 201 before 2XX…); `{}` otherwise. */
function responseSchema(responses: unknown, converter: SchemaConverter): JsonSchema {
  if (!isObject(responses)) return {};
  const codes = Object.keys(responses)
    .filter((c) => /^2(\d\d|XX)$/i.test(c))
    .sort();
  for (const code of codes) {
    const response = responses[code] as Record<string, any>;
    const type = jsonMediaType(response?.content);
    if (type && response.content[type].schema) return converter.convert(response.content[type].schema, 'output');
  }
  return {};
}

const VALUE_NAMES = ['id', 'key', 'uuid', 'slug', 'code', 'name'];
const LABEL_NAMES = ['name', 'title', 'label', 'display_name', 'displayName', 'full_name', 'fullName', 'email', 'login', 'username', 'subject'];
const ITEM_CONTAINERS = ['data', 'items', 'results', 'records', 'values', 'entries', 'list'];
const SEARCH_PARAMS = ['q', 'query', 'search', 'filter', 'name'];

/**
 * A listing: the output is an array of objects, or an object with one array of objects (`data`,
 * `items`…). The value is the items' id-like property, the label their name-like one.
 */
export function detectList(output: JsonSchema, parameters: ImportedParameter[] = []): ListSpec | undefined {
  let itemsPath: string | undefined;
  let items: JsonSchema | undefined;
  if (output.type === 'array' && isObject(output.items)) {
    itemsPath = '';
    items = output.items as JsonSchema;
  } else if (isObject(output.properties)) {
    const arrays = Object.entries(output.properties as Record<string, JsonSchema>).filter(([, s]) => isObject(s) && s.type === 'array' && isObject(s.items));
    const chosen = arrays.length === 1 ? arrays[0] : arrays.find(([name]) => ITEM_CONTAINERS.includes(name));
    if (chosen) [itemsPath, items] = [chosen[0], chosen[1].items as JsonSchema];
  }
  if (itemsPath === undefined || !items) return undefined;
  const props = isObject(items.properties) ? (items.properties as Record<string, JsonSchema>) : {};
  const scalar = (name: string) => isObject(props[name]) && ['string', 'integer', 'number'].some((t) => typeOf(props[name]).includes(t));
  const valuePath = VALUE_NAMES.find(scalar) ?? Object.keys(props).find(scalar);
  if (!valuePath) {
    // A list of strings is its own value and label.
    return typeOf(items).includes('string') ? { itemsPath, valuePath: '', labelPath: '' } : undefined;
  }
  const labelPath = LABEL_NAMES.find((n) => n !== valuePath && scalar(n)) ?? valuePath;
  const search = parameters.find((p) => p.in === 'query' && SEARCH_PARAMS.includes(p.name));
  return { itemsPath, valuePath, labelPath, ...(search ? { searchParam: search.name } : {}) };
}

function typeOf(schema: JsonSchema): string[] {
  return Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : [];
}

/** operationId in snake_case (`listPets` → `list_pets`), else method + path (`get_pets_pet_id`). */
export function actionKey(operationId: unknown, method: string, path: string): string {
  const source = typeof operationId === 'string' && operationId.trim() ? operationId : `${method} ${path.replace(/[{}]/g, '')}`;
  const key = source
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 80)
    .replace(/_+$/, '');
  if (!key) return method;
  return /^[0-9]/.test(key) ? `op_${key}` : key;
}

function uniqueKey(key: string, taken: Set<string>): string {
  let candidate = key;
  for (let n = 2; taken.has(candidate); n++) candidate = `${key}_${n}`;
  taken.add(candidate);
  return candidate;
}

/**
 * OpenAPI schema objects → JSON Schema 2020-12 (what actions declare): 3.0's `nullable` and boolean
 * exclusive bounds rewritten, documentation-only keywords dropped, read-only properties left out of
 * inputs and write-only ones out of outputs. Counts nodes to cap the size dereferencing can reach.
 */
class SchemaConverter {
  private nodes = 0;
  /** Patterns a validator could not compile (JSON Schema regexes are ECMAScript with `u`): left out, reported once. */
  readonly invalidPatterns = new Set<string>();
  readonly riskyPatterns = new Set<string>();
  constructor(
    private readonly openapi30: boolean,
    private readonly maxNodes: number,
  ) {}

  convert(schema: unknown, direction: 'input' | 'output'): JsonSchema {
    if (++this.nodes > this.maxNodes) {
      throw new OpenApiImportError('too_large', `The document's schemas expand to over ${this.maxNodes} nodes once references are resolved; split or simplify it`);
    }
    if (typeof schema === 'boolean') return schema ? {} : { not: {} };
    if (!isObject(schema)) return {};
    const out: JsonSchema = {};
    for (const [k, v] of Object.entries(schema)) {
      if (DROPPED_KEYWORDS.has(k) || k.startsWith('x-')) continue;
      if (k === 'properties' && isObject(v)) {
        const props: Record<string, JsonSchema> = {};
        for (const [name, sub] of Object.entries(v)) {
          if (isObject(sub) && ((direction === 'input' && sub.readOnly === true) || (direction === 'output' && sub.writeOnly === true))) continue;
          props[name] = this.convert(sub, direction);
        }
        out.properties = props;
      } else if (k === 'pattern' && typeof v === 'string') {
        if (this.validPattern(v)) out.pattern = v;
      } else if (SCHEMA_MAPS.has(k) && isObject(v)) {
        const entries = Object.entries(v).filter(([name]) => k !== 'patternProperties' || this.validPattern(name));
        out[k] = Object.fromEntries(entries.map(([name, sub]) => [name, this.convert(sub, direction)]));
      } else if (SCHEMA_LISTS.has(k) && Array.isArray(v)) {
        out[k] = v.map((sub) => this.convert(sub, direction));
      } else if (SCHEMA_VALUES.has(k) && (isObject(v) || typeof v === 'boolean')) {
        out[k] = this.convert(v, direction);
      } else if (k === 'items' && Array.isArray(v)) {
        out.prefixItems = v.map((sub) => this.convert(sub, direction));
      } else {
        out[k] = v;
      }
    }
    if (Array.isArray(out.required) && isObject(out.properties)) {
      const present = out.properties as Record<string, unknown>;
      const kept = (out.required as unknown[]).filter((r) => typeof r === 'string' && Object.hasOwn(present, r));
      if (kept.length > 0) out.required = kept;
      else delete out.required;
    }
    if (this.openapi30) {
      if (out.exclusiveMinimum === true && typeof out.minimum === 'number') [out.exclusiveMinimum, out.minimum] = [out.minimum, undefined];
      if (out.exclusiveMaximum === true && typeof out.maximum === 'number') [out.exclusiveMaximum, out.maximum] = [out.maximum, undefined];
      if (typeof out.exclusiveMinimum === 'boolean') delete out.exclusiveMinimum;
      if (typeof out.exclusiveMaximum === 'boolean') delete out.exclusiveMaximum;
      for (const k of ['minimum', 'maximum']) if (out[k] === undefined) delete out[k];
      if (out.nullable === true) {
        if (typeof out.type === 'string') out.type = [out.type, 'null'];
        if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
      }
      delete out.nullable;
    }
    return out;
  }

  private validPattern(pattern: string): boolean {
    // A pattern that could backtrack exponentially would stall the API and workers for every tenant.
    if (pattern.length > 1000 || hasNestedQuantifier(pattern)) {
      this.riskyPatterns.add(pattern);
      return false;
    }
    try {
      new RegExp(pattern, 'u');
      return true;
    } catch {
      this.invalidPatterns.add(pattern);
      return false;
    }
  }
}

const DROPPED_KEYWORDS = new Set([
  'example',
  'examples',
  'xml',
  'externalDocs',
  'discriminator',
  'deprecated',
  'readOnly',
  'writeOnly',
  '$schema',
  '$id',
  '$anchor',
  '$dynamicAnchor',
  '$comment',
]);
const SCHEMA_MAPS = new Set(['patternProperties', 'dependentSchemas', '$defs', 'definitions']);
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
const SCHEMA_VALUES = new Set(['items', 'additionalProperties', 'not', 'contains', 'propertyNames', 'if', 'then', 'else', 'unevaluatedItems', 'unevaluatedProperties']);

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ─── running ─────────────────────────────────────────────────────────────────────────────────────

/** The request an operation makes for an input: path template filled, query/headers/body placed as the spec says. */
export function operationRequest(operation: ImportedOperation, input: Record<string, unknown>): HttpRequest {
  const query = new URLSearchParams();
  const headers: Record<string, string> = {};
  let path = operation.path;
  for (const p of operation.parameters) {
    const value = input[p.field];
    if (value === undefined || value === null) {
      if (p.in === 'path') throw new Error(`${operation.key}: path parameter ${p.name} is required`);
      continue;
    }
    if (p.in === 'path') path = path.split(`{${p.name}}`).join(encodeURIComponent(scalarText(value)));
    else if (p.in === 'header') headers[p.name] = scalarText(value);
    else if (Array.isArray(value)) {
      if (p.explode) for (const v of value) query.append(p.name, scalarText(v));
      else query.append(p.name, value.map(scalarText).join(','));
    } else query.append(p.name, scalarText(value));
  }
  const qs = query.toString();
  const request: HttpRequest = { method: operation.method, path: qs ? `${path}?${qs}` : path };
  if (Object.keys(headers).length > 0) request.headers = headers;
  if (operation.body && input[operation.body.field] !== undefined) {
    request.body = input[operation.body.field];
    if (operation.body.contentType !== 'application/json' && operation.body.contentType !== '*/*')
      request.headers = { ...request.headers, 'content-type': operation.body.contentType };
  }
  return request;
}

function scalarText(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** The action an imported operation runs as: one call through the connection; 4xx/5xx fail the step. */
export function operationAction(operation: ImportedOperation): ActionDefinition<Record<string, unknown>, unknown> {
  return {
    name: operation.name,
    description: operation.description,
    input: operation.input,
    output: operation.output,
    readOnly: operation.method === 'GET',
    // What an imported POST/PATCH does on repeat is unknown; PUT/DELETE/GET are repeated anyway.
    retrySafe: false,
    async run(ctx, input) {
      const request = operationRequest(operation, input ?? {});
      const response = await ctx.http.request(request);
      return ensureOk(response, request).data;
    },
  };
}

/** An option source over a listing operation: the widget's search goes to its search parameter, or filters locally. */
export function operationOptionSource(operation: ImportedOperation, list: ListSpec): OptionSource {
  return {
    name: operation.name,
    description: operation.description,
    async run(ctx, params) {
      const input: Record<string, unknown> = {};
      const searchField = list.searchParam ? operation.parameters.find((p) => p.in === 'query' && p.name === list.searchParam)?.field : undefined;
      if (params.search && searchField) input[searchField] = params.search;
      const request = operationRequest(operation, input);
      const data = ensureOk(await ctx.http.request(request), request).data;
      const items = list.itemsPath ? getPath(data, list.itemsPath) : data;
      if (!Array.isArray(items)) throw new Error(`${operation.method} ${operation.path} answered no list at ${list.itemsPath || 'the top level'}`);
      const options: OptionItem[] = [];
      for (const item of items) {
        const value = list.valuePath ? getPath(item, list.valuePath) : item;
        if (value === undefined || value === null || typeof value === 'object') continue;
        const label = list.labelPath ? getPath(item, list.labelPath) : item;
        options.push({ value: String(value), label: label === undefined || label === null || typeof label === 'object' ? String(value) : String(label) });
      }
      const search = params.search?.trim().toLowerCase();
      const shown = search && !searchField ? options.filter((o) => o.label.toLowerCase().includes(search) || o.value.toLowerCase().includes(search)) : options;
      return { options: shown.slice(0, 500) };
    },
  };
}

/**
 * The actions and option sources of imported operations. `lists` overrides what detectList chose,
 * by action key (null: not an option source).
 */
export function importedConnectorParts(
  operations: ImportedOperation[],
  lists: Record<string, ListSpec | null> = {},
): { actions: Record<string, ActionDefinition>; options: Record<string, OptionSource> } {
  const actions: Record<string, ActionDefinition> = {};
  const options: Record<string, OptionSource> = {};
  for (const operation of operations) {
    actions[operation.key] = operationAction(operation);
    const list = Object.hasOwn(lists, operation.key) ? lists[operation.key] : operation.list;
    if (list && operation.method === 'GET') options[operation.key] = operationOptionSource(operation, list);
  }
  return { actions, options };
}
