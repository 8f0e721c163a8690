/**
 * The provider catalogue: connect + refresh + proxy for many providers as data, not code. Each
 * entry in `catalogue/*.yaml` (a map of provider key → entry, checked by catalogueEntrySchema)
 * becomes a ConnectorDefinition without actions: flows reach it through `request` steps and the
 * proxy, and the connected account is named by a declarative `verify` call.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { getPath, renderTemplate, send } from './runtime';
import { authSpecSchema, CONNECTOR_CATEGORIES } from './schema';
import { AuthSpec, ConnectionConfigField, ConnectorDefinition, JsonSchema, PaginationSpec, ProviderError, RateLimitHint, AuthFailureSpec } from './types';

/** How the connected account is named, and fresh credentials proven to work. */
export interface VerifySpec {
  method?: 'GET' | 'POST';
  /** Relative to baseUrl (or baseUrls[base]). */
  path: string;
  base?: string;
  body?: unknown;
  /** Dot path of the account's stable id in the response, or a `${config}` template (a subdomain, say). */
  accountId: string;
  /** Dot path of what people see; defaults to the id. */
  accountName?: string;
  /** Connection config read from the answer (dot paths), for fields marked fromAccount: Atlassian's cloud id, Xero's tenant id. */
  connectionConfig?: Record<string, string>;
}

/** One catalogue entry. URLs, headers and verify paths may hold `${name}` placeholders for connection-config values. */
export interface CatalogueEntry {
  name: string;
  description: string;
  categories: string[];
  /** A monogram (colour and up to 3 letters) or an inline SVG document. */
  logo: { color: string; text?: string } | string;
  docsUrl: string;
  auth: AuthSpec;
  connectionConfig?: Record<string, ConnectionConfigField>;
  baseUrl: string;
  baseUrls?: Record<string, string>;
  defaultHeaders?: Record<string, string>;
  pagination?: PaginationSpec;
  rateLimit?: RateLimitHint;
  authFailure?: AuthFailureSpec;
  honoursIdempotencyKey?: boolean;
  verify: VerifySpec;
}

const placeholderUrl = { type: 'string', pattern: '^(https://|\\$\\{[a-z][a-z0-9_]*\\})[^\\s]*$', maxLength: 500 };
const snakeKey = '^[a-z][a-z0-9]*(_[a-z0-9]+)*$';
const dotPath = { type: 'string', pattern: '^[A-Za-z0-9_$-]+(\\.[A-Za-z0-9_$-]+)*$' };

/** JSON Schema (draft 2020-12) of one catalogue entry. */
export const catalogueEntrySchema: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://switchboard.dev/schemas/catalogue-entry.json',
  title: 'Switchboard catalogue provider',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'description', 'categories', 'logo', 'docsUrl', 'auth', 'baseUrl', 'verify'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 60 },
    description: { type: 'string', minLength: 1, maxLength: 200 },
    categories: { type: 'array', items: { enum: [...CONNECTOR_CATEGORIES] }, minItems: 1, uniqueItems: true },
    logo: {
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['color'],
          properties: { color: { type: 'string', pattern: '^#[0-9a-fA-F]{6}$' }, text: { type: 'string', pattern: '^[A-Za-z0-9]{1,3}$' } },
        },
        { type: 'string', pattern: '^<svg[\\s>][\\s\\S]*</svg>$', maxLength: 4096 },
      ],
    },
    docsUrl: { type: 'string', pattern: '^https://[^\\s]+$' },
    auth: authSpecSchema(placeholderUrl),
    connectionConfig: {
      type: 'object',
      propertyNames: { pattern: snakeKey },
      additionalProperties: {
        type: 'object',
        required: ['title'],
        additionalProperties: false,
        properties: {
          title: { type: 'string', minLength: 1 },
          description: { type: 'string' },
          pattern: { type: 'string', format: 'regex' },
          example: { type: 'string' },
          fromToken: { type: 'boolean' },
          fromAccount: { type: 'boolean' },
          fromCallback: { anyOf: [{ type: 'boolean' }, { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]*$' }] },
          optional: { type: 'boolean' },
          default: { type: 'string' },
        },
      },
    },
    baseUrl: placeholderUrl,
    baseUrls: { type: 'object', propertyNames: { pattern: snakeKey }, additionalProperties: placeholderUrl },
    defaultHeaders: { type: 'object', propertyNames: { pattern: '^[a-z0-9-]+$' }, additionalProperties: { type: 'string' } },
    pagination: { type: 'object', required: ['style'], properties: { style: { enum: ['none', 'cursor', 'page', 'offset', 'link_header'] } } },
    rateLimit: {
      type: 'object',
      additionalProperties: false,
      properties: { requestsPerSecond: { type: 'number', exclusiveMinimum: 0 }, retryAfterHeader: { type: 'string' } },
    },
    authFailure: {
      type: 'object',
      additionalProperties: false,
      properties: {
        status: { type: 'array', items: { type: 'integer', minimum: 400, maximum: 599 } },
        bodyPath: { type: 'string' },
        bodyValues: { type: 'array', items: { type: 'string' } },
      },
    },
    honoursIdempotencyKey: { type: 'boolean' },
    verify: {
      type: 'object',
      additionalProperties: false,
      required: ['path', 'accountId'],
      properties: {
        method: { enum: ['GET', 'POST'] },
        path: { type: 'string', minLength: 1, maxLength: 300 },
        base: { type: 'string', pattern: snakeKey },
        body: {},
        accountId: { anyOf: [dotPath, { type: 'string', pattern: '\\$\\{[a-z][a-z0-9_]*\\}' }] },
        accountName: dotPath,
        connectionConfig: { type: 'object', propertyNames: { pattern: snakeKey }, additionalProperties: dotPath },
      },
    },
  },
};

type AjvError = { instancePath: string; schemaPath: string; keyword: string; params: Record<string, unknown>; message?: string };
let validator: (((value: unknown) => boolean) & { errors?: AjvError[] | null }) | undefined;

/** A problem with an entry: where (a JSON Pointer into the entry, `''` for the whole) and what. */
export interface CatalogueEntryProblem {
  path: string;
  message: string;
}

export interface CatalogueEntryOptions {
  /**
   * An entry given over the API may use `http://` for a URL this returns true for (a host the
   * deployment's outbound allow-list permits); every other URL must be https.
   */
  allowHttp?: (url: string) => boolean;
}

/** Where URLs sit in an entry (besides baseUrls' values). */
const URL_FIELDS = [['baseUrl'], ['auth', 'authorizationUrl'], ['auth', 'tokenUrl']] as const;

/** The entry with allowed `http://` URLs read as https for the schema (the caller decided they may be plain). */
function withAllowedHttp(entry: unknown, allowHttp: (url: string) => boolean): unknown {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return entry;
  const copy = JSON.parse(JSON.stringify(entry)) as Record<string, any>;
  const upgrade = (value: unknown) => (typeof value === 'string' && value.startsWith('http://') && allowHttp(value) ? `https://${value.slice(7)}` : value);
  for (const [field, sub] of URL_FIELDS) {
    const holder = sub === undefined ? copy : copy[field];
    const name = sub ?? field;
    if (holder && typeof holder === 'object' && typeof holder[name] === 'string') holder[name] = upgrade(holder[name]);
  }
  if (copy.baseUrls && typeof copy.baseUrls === 'object') for (const k of Object.keys(copy.baseUrls)) copy.baseUrls[k] = upgrade(copy.baseUrls[k]);
  return copy;
}

/** Ajv's message, said so that it names what to change. */
function problemOf(e: AjvError): CatalogueEntryProblem {
  const at = e.instancePath;
  switch (e.keyword) {
    case 'additionalProperties':
      return { path: `${at}/${String(e.params.additionalProperty)}`, message: 'is not a known field' };
    case 'required':
      return { path: `${at}/${String(e.params.missingProperty)}`, message: 'is required' };
    case 'enum':
      return { path: at, message: `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'pattern':
      if (at === '/docsUrl') return { path: at, message: 'must be an https:// URL' };
      if (/Url$|\/baseUrls\//.test(at)) return { path: at, message: 'must be an https:// URL (or start with a ${placeholder})' };
      return { path: at, message: `must match ${String(e.params.pattern)}` };
    default:
      return { path: at, message: e.message ?? 'is invalid' };
  }
}

/** The index in the auth schema's oneOf of each auth type, to report only the branch the entry chose. */
const AUTH_BRANCHES = new Map(
  ((catalogueEntrySchema.properties as Record<string, { oneOf: Array<{ properties: { type: { const: string } } }> }>).auth.oneOf ?? []).map((b, i) => [b.properties.type.const, i]),
);

/**
 * Problems with an entry, each with the JSON Pointer of the field: the schema, then placeholders
 * (every one must be declared in connectionConfig). For entries given over the API, the same
 * rules as the catalogue's files.
 */
export function catalogueEntryProblems(entry: unknown, options: CatalogueEntryOptions = {}): CatalogueEntryProblem[] {
  if (!validator) {
    const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
    addFormats(ajv);
    validator = ajv.compile(catalogueEntrySchema);
  }
  const checked = options.allowHttp ? withAllowedHttp(entry, options.allowHttp) : entry;
  if (!validator(checked)) {
    const authType = (checked as { auth?: { type?: unknown } } | null)?.auth?.type;
    const branch = typeof authType === 'string' ? AUTH_BRANCHES.get(authType) : undefined;
    const errors = (validator.errors ?? []).filter((e) => {
      const inAuthOneOf = e.schemaPath.startsWith('#/properties/auth/oneOf');
      if (!inAuthOneOf || branch === undefined) return true;
      // The entry named its auth type: only that branch's complaints are about it (not "must match exactly one schema").
      return e.schemaPath.startsWith(`#/properties/auth/oneOf/${branch}/`);
    });
    const seen = new Set<string>();
    return errors.map(problemOf).filter((p) => !seen.has(`${p.path} ${p.message}`) && seen.add(`${p.path} ${p.message}`));
  }
  const e = entry as CatalogueEntry;
  const declared = new Set(Object.keys(e.connectionConfig ?? {}));
  const problems: CatalogueEntryProblem[] = [];
  const check = (where: string, value: unknown) => {
    if (typeof value === 'string') {
      for (const m of value.matchAll(PLACEHOLDER)) if (!declared.has(m[1]!)) problems.push({ path: where, message: `uses \${${m[1]}}, which connectionConfig does not declare` });
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) check(`${where}/${k}`, v);
    }
  };
  for (const field of ['auth', 'baseUrl', 'baseUrls', 'defaultHeaders', 'verify'] as const) check(`/${field}`, e[field]);
  if (e.verify.base && !e.baseUrls?.[e.verify.base]) problems.push({ path: '/verify/base', message: `baseUrls has no "${e.verify.base}"` });
  const learned = new Set(Object.keys(e.verify.connectionConfig ?? {}));
  for (const [name, field] of Object.entries(e.connectionConfig ?? {})) {
    if (field.fromAccount && !learned.has(name)) problems.push({ path: `/connectionConfig/${name}`, message: 'fromAccount, but verify.connectionConfig does not read it' });
  }
  for (const name of learned) {
    if (!e.connectionConfig?.[name]?.fromAccount)
      problems.push({ path: `/verify/connectionConfig/${name}`, message: `connectionConfig must declare ${name} with fromAccount: true` });
  }
  // The verify call is what learns these values, so it cannot need them.
  const verifyUrl = [e.verify.base ? e.baseUrls?.[e.verify.base] : e.baseUrl, e.verify.path, JSON.stringify(e.verify.body ?? null)].join(' ');
  for (const m of verifyUrl.matchAll(PLACEHOLDER)) {
    if (learned.has(m[1]!)) problems.push({ path: '/verify', message: `uses \${${m[1]}}, which only the verify call itself learns (call a base without it)` });
  }
  return problems;
}

/** Problems with an entry as `path: message` lines (see catalogueEntryProblems). */
export function catalogueEntryErrors(entry: unknown, options: CatalogueEntryOptions = {}): string[] {
  return catalogueEntryProblems(entry, options).map((p) => `${p.path || '/'}: ${p.message}`);
}

const PLACEHOLDER = /\$\{([a-z][a-z0-9_]*)\}/g;

/** `${name}` → `{{name}}`, the runtime's template syntax, throughout a JSON value. */
function toRuntimeTemplates<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (_k, v: unknown) => (typeof v === 'string' ? v.replace(PLACEHOLDER, '{{$1}}') : v)) as T;
}

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A monogram's letters: as given, else the initials of the name. */
export const monogramText = (name: string, logo: { text?: string }): string => logo.text ?? (name.match(/\b[A-Za-z0-9]/g) ?? ['?']).slice(0, 2).join('').toUpperCase();

/** A square monogram: the entry's colour with its initials in white. */
export function monogramLogo(name: string, logo: { color: string; text?: string }): string {
  const text = monogramText(name, logo);
  const size = text.length > 2 ? 22 : 28;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="${logo.color}"/><text x="32" y="32" dy=".35em" text-anchor="middle" font-family="system-ui,sans-serif" font-weight="700" font-size="${size}" fill="#fff">${escapeXml(text)}</text></svg>`;
}

/** The connector a catalogue entry stands for: no actions; `account` runs the verify call. */
export function catalogueConnector(key: string, entry: CatalogueEntry): ConnectorDefinition {
  const { verify, logo, ...rest } = toRuntimeTemplates(entry);
  return {
    ...rest,
    key,
    logo: typeof logo === 'string' ? logo : monogramLogo(entry.name, logo),
    ...(typeof logo === 'string' ? {} : { monogram: { color: logo.color, text: monogramText(entry.name, logo) } }),
    actions: {},
    async account(ctx) {
      const data = await send<unknown>(ctx, {
        method: verify.method ?? 'GET',
        path: renderTemplate(verify.path, ctx.config),
        base: verify.base,
        body: verify.body,
      });
      const id = verify.accountId.includes('{{') ? renderTemplate(verify.accountId, ctx.config) : getPath(data, verify.accountId);
      if (id === undefined || id === null || id === '') {
        throw new ProviderError(`${entry.name} answered the verify call without ${verify.accountId}`, 'verify_failed');
      }
      const name = verify.accountName ? getPath(data, verify.accountName) : undefined;
      const config: Record<string, string> = {};
      for (const [field, path] of Object.entries(verify.connectionConfig ?? {})) {
        const value = getPath(data, path);
        if (typeof value !== 'string' && typeof value !== 'number') throw new ProviderError(`${entry.name} answered the verify call without ${path}`, 'verify_failed');
        config[field] = String(value);
      }
      return {
        id: String(id),
        name: typeof name === 'string' || typeof name === 'number' ? String(name) : `${entry.name} (${String(id)})`,
        ...(verify.connectionConfig ? { config } : {}),
      };
    },
  };
}

/**
 * Examples and defaults that fail their field's own pattern (the example is what the end user is
 * shown and what the sandbox tests type). Catalogue files only: a tenant's pattern is not run
 * before its backtracking is checked.
 */
export function catalogueExampleErrors(entry: CatalogueEntry): string[] {
  const errors: string[] = [];
  for (const [name, field] of Object.entries(entry.connectionConfig ?? {})) {
    for (const which of ['example', 'default'] as const) {
      const value = field[which];
      if (value !== undefined && field.pattern && !new RegExp(`^(?:${field.pattern})$`).test(value))
        errors.push(`/connectionConfig/${name}/${which}: does not match the field's pattern`);
    }
  }
  return errors;
}

/** Where the YAML files are, next to src/ and dist/. */
export const CATALOGUE_DIR = join(__dirname, '..', 'catalogue');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

/** Parses and checks every catalogue file; throws naming the file, the key and what is wrong. */
export function loadCatalogue(dir = CATALOGUE_DIR): Record<string, CatalogueEntry> {
  const entries: Record<string, CatalogueEntry> = {};
  const problems: string[] = [];
  // Required here: a process that reads the built catalogue never loads the YAML parser.
  const { parseDocument: parseYaml } = require('yaml') as typeof import('yaml');
  for (const file of yamlFiles(dir)) {
    const doc = parseYaml(readFileSync(join(dir, file), 'utf8'), { uniqueKeys: true });
    if (doc.errors.length > 0) {
      problems.push(...doc.errors.map((e) => `${file}: ${e.message}`));
      continue;
    }
    const map = doc.toJSON() as Record<string, unknown> | null;
    for (const [key, entry] of Object.entries(map ?? {})) {
      if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(key) || key.length > 40) problems.push(`${file}: ${key}: not a kebab-case key of at most 40 characters`);
      if (Object.prototype.hasOwnProperty.call(entries, key)) problems.push(`${file}: ${key}: defined twice`);
      const errors = catalogueEntryErrors(entry);
      if (errors.length === 0) errors.push(...catalogueExampleErrors(entry as CatalogueEntry));
      for (const error of errors) problems.push(`${file}: ${key}${error}`);
      entries[key] = entry as CatalogueEntry;
    }
  }
  if (problems.length > 0) throw new Error(`The provider catalogue is invalid:\n${problems.join('\n')}`);
  return entries;
}

/** The catalogue as the build checked and wrote it (`writeBuiltCatalogue`), next to dist/catalogue.js. */
export const BUILT_CATALOGUE = join(__dirname, 'catalogue.json');

/**
 * The build's step after tsc: the YAML catalogue, checked, as one JSON file. Parsing and checking
 * the YAML at every start took seconds and kept ~4.5 MB of heap (the parser, the compiled schema)
 * in every API and worker process.
 */
export function writeBuiltCatalogue(dir = CATALOGUE_DIR, built = BUILT_CATALOGUE): void {
  const files = yamlFiles(dir);
  writeFileSync(built, JSON.stringify({ files, entries: loadCatalogue(dir) }));
}

/**
 * The catalogue's entries: the built JSON while it is current (the same files, none changed since
 * it was written), else the YAML itself, so an edited catalogue takes effect on restart as before.
 */
export function catalogueEntries(dir = CATALOGUE_DIR, built = BUILT_CATALOGUE): Record<string, CatalogueEntry> {
  let builtAt: number;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    return loadCatalogue(dir);
  }
  const files = yamlFiles(dir);
  const written = JSON.parse(readFileSync(built, 'utf8')) as { files: string[]; entries: Record<string, CatalogueEntry> };
  const current = written.files.join('\n') === files.join('\n') && files.every((f) => statSync(join(dir, f)).mtimeMs <= builtAt);
  return current ? written.entries : loadCatalogue(dir);
}

let loaded: Record<string, ConnectorDefinition> | undefined;

/**
 * Every catalogue provider as a connector, by key (read once), from the catalogue or, when the
 * environment names a directory, from `process.env.CATALOGUE_DIR` (tests and bench/catalogue.mjs
 * point it at a generated catalogue of any size).
 */
export function catalogueConnectors(): Record<string, ConnectorDefinition> {
  loaded ??= Object.fromEntries(
    Object.entries(process.env.CATALOGUE_DIR ? loadCatalogue(process.env.CATALOGUE_DIR) : catalogueEntries()).map(([key, entry]) => [key, catalogueConnector(key, entry)]),
  );
  return loaded;
}
