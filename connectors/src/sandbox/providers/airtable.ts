/**
 * A fake Airtable Web API (https://api.airtable.com/v0): whoami, bases and table schemas, and
 * records with pageSize/offset paging, maxRecords, sort, views, filterByFormula (a working subset
 * of Airtable's formula language), typecast, Airtable's error bodies, and its rate limit: past N
 * requests a second to one base, 429 RATE_LIMIT_REACHED for the next 30 seconds.
 */
import { randomBytes } from 'node:crypto';
import { intParam, isoNow, json, ProviderContext, ProviderModule, SandboxRequest, SandboxResponse } from '../core';

interface Field {
  id: string;
  name: string;
  type: 'singleLineText' | 'multilineText' | 'email' | 'number' | 'checkbox' | 'singleSelect' | 'date';
  options?: { choices?: { id: string; name: string; color: string }[]; precision?: number };
}
interface StoredRecord {
  id: string;
  createdTime: string;
  modifiedTime: string;
  fields: Record<string, unknown>;
}
interface Table {
  id: string;
  name: string;
  description?: string;
  primaryFieldId: string;
  fields: Field[];
  views: { id: string; name: string; type: 'grid' }[];
  records: StoredRecord[];
}
interface Base {
  id: string;
  name: string;
  permissionLevel: 'create' | 'edit' | 'comment' | 'read';
  tables: Table[];
}

export interface AirtableState {
  users: { id: string; email: string }[];
  bases: Base[];
  /** Requests a second per base (Airtable: 5; high here so tests trip it only on purpose). */
  requestsPerSecond: number;
  limits: Record<string, { second: number; count: number; lockedUntil: number }>;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function airtableId(prefix: string): string {
  const bytes = randomBytes(14);
  let id = prefix;
  for (const b of bytes) id += ALNUM[b % ALNUM.length];
  return id;
}

function atError(status: number, type: string, message?: string): SandboxResponse {
  return json(status, { error: message === undefined ? type : { type, message } });
}

const NOT_FOUND_OR_FORBIDDEN = () =>
  atError(
    403,
    'INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND',
    'Invalid permissions, or the requested model was not found. Check that both your user and your token have the required permissions, and that the model names and/or ids are correct.',
  );

function table(name: string, fields: Omit<Field, 'id'>[], description?: string): Table {
  const withIds = fields.map((f) => ({ ...f, id: airtableId('fld') }));
  return {
    id: airtableId('tbl'),
    name,
    description,
    primaryFieldId: withIds[0]!.id,
    fields: withIds,
    views: [{ id: airtableId('viw'), name: 'Grid view', type: 'grid' }],
    records: [],
  };
}

function seed(): AirtableState {
  const choices = (...names: string[]) => ({ choices: names.map((name) => ({ id: airtableId('sel'), name, color: 'blueLight2' })) });
  const leads = table(
    'Leads',
    [
      { name: 'Name', type: 'singleLineText' },
      { name: 'Email', type: 'email' },
      { name: 'Status', type: 'singleSelect', options: choices('New', 'Contacted', 'Won') },
      { name: 'Amount', type: 'number', options: { precision: 2 } },
      { name: 'Notes', type: 'multilineText' },
      { name: 'Hot', type: 'checkbox' },
    ],
    'Inbound leads',
  );
  const base = (name: string, tables: Table[], id = airtableId('app')): Base => ({ id, name, permissionLevel: 'create', tables });
  const crm = base('Sales CRM', [leads, table('Companies', [{ name: 'Name', type: 'singleLineText' }])], 'appSandboxCrm0001');
  const regions = Array.from({ length: 55 }, (_, i) => table(`Region ${String(i + 1).padStart(2, '0')}`, [{ name: 'Name', type: 'singleLineText' }]));
  const state: AirtableState = {
    users: [
      { id: 'usrSandboxJane001', email: 'jane@acme.test' },
      { id: 'usrSandboxHank001', email: 'hank@globex.test' },
    ],
    bases: [
      crm,
      base('Content calendar', [
        table('Posts', [
          { name: 'Title', type: 'singleLineText' },
          { name: 'Publish on', type: 'date' },
        ]),
      ]),
      base('Field ops', regions),
      base('Archive', [table('Old leads', [{ name: 'Name', type: 'singleLineText' }])]),
    ],
    requestsPerSecond: 100_000,
    limits: {},
  };
  const people: [string, string, string, number][] = [
    ['Maria Johnson', 'maria@globex.test', 'Contacted', 5000],
    ['Li Chen', 'li@initech.test', 'New', 1200],
    ['Sam Patel', 'sam@hooli.test', 'Won', 9900],
  ];
  people.forEach(([Name, Email, Status, Amount], i) => {
    const at = new Date(Date.parse('2026-01-06T09:00:00.000Z') + i * 3600_000).toISOString();
    leads.records.push({ id: airtableId('rec'), createdTime: at, modifiedTime: at, fields: { Name, Email, Status, Amount } });
  });
  return state;
}

// ---- filterByFormula: a small working subset of Airtable's formula language ----------------

type Value = string | number | boolean | Date | null;

class FormulaError extends Error {}

function tokenize(formula: string): string[] {
  const tokens: string[] = [];
  const re = /\s*(?:(\{[^}]*\})|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(!=|<=|>=|[=<>&+\-*/(),]))/y;
  let at = 0;
  while (at < formula.length) {
    if (/^\s*$/.test(formula.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(formula);
    if (!m) throw new FormulaError(`Invalid formula near "${formula.slice(at, at + 10)}"`);
    tokens.push(m[0].trim());
    at = re.lastIndex;
  }
  return tokens;
}

const UNITS: Record<string, number> = { milliseconds: 1, seconds: 1000, minutes: 60_000, hours: 3_600_000, days: 86_400_000, weeks: 604_800_000 };

function asDate(v: Value): Date | null {
  if (v instanceof Date) return v;
  if (typeof v === 'string' && v) {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? null : new Date(ms);
  }
  return null;
}

function compare(a: Value, b: Value): number {
  if (a instanceof Date || b instanceof Date) return (asDate(a)?.getTime() ?? NaN) - (asDate(b)?.getTime() ?? NaN);
  if (typeof a === 'number' || typeof b === 'number') return Number(a ?? 0) - Number(b ?? 0);
  const x = String(a ?? '');
  const y = String(b ?? '');
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Parses a formula into an evaluator over a record; throws FormulaError naming what is wrong. */
function compileFormula(formula: string, fields: Field[]): (r: StoredRecord) => Value {
  const tokens = tokenize(formula);
  let i = 0;
  const unknownFunctions: string[] = [];
  const unknownFields: string[] = [];
  type Node = (r: StoredRecord) => Value;

  const functions: Record<string, (args: Node[], r: StoredRecord) => Value> = {
    AND: (a, r) => a.every((f) => Boolean(f(r))),
    OR: (a, r) => a.some((f) => Boolean(f(r))),
    NOT: (a, r) => !a[0]?.(r),
    IF: (a, r) => (a[0]?.(r) ? (a[1]?.(r) ?? null) : (a[2]?.(r) ?? null)),
    TRUE: () => true,
    FALSE: () => false,
    BLANK: () => null,
    RECORD_ID: (_a, r) => r.id,
    CREATED_TIME: (_a, r) => new Date(r.createdTime),
    LAST_MODIFIED_TIME: (_a, r) => new Date(r.modifiedTime),
    NOW: () => new Date(),
    DATETIME_PARSE: (a, r) => asDate(a[0]?.(r) ?? null),
    DATEADD: (a, r) => {
      const d = asDate(a[0]?.(r) ?? null);
      const unit = UNITS[String(a[2]?.(r) ?? 'days')];
      return d && unit ? new Date(d.getTime() + Number(a[1]?.(r) ?? 0) * unit) : null;
    },
    IS_AFTER: (a, r) => compare(a[0]!(r), a[1]!(r)) > 0,
    IS_BEFORE: (a, r) => compare(a[0]!(r), a[1]!(r)) < 0,
    IS_SAME: (a, r) => compare(a[0]!(r), a[1]!(r)) === 0,
    FIND: (a, r) => String(a[1]?.(r) ?? '').indexOf(String(a[0]?.(r) ?? '')) + 1,
    SEARCH: (a, r) =>
      String(a[1]?.(r) ?? '')
        .toLowerCase()
        .indexOf(String(a[0]?.(r) ?? '').toLowerCase()) + 1,
    LOWER: (a, r) => String(a[0]?.(r) ?? '').toLowerCase(),
    UPPER: (a, r) => String(a[0]?.(r) ?? '').toUpperCase(),
    LEN: (a, r) => String(a[0]?.(r) ?? '').length,
  };

  const peek = () => tokens[i];
  const take = (expected?: string) => {
    const t = tokens[i++];
    if (t === undefined || (expected !== undefined && t !== expected)) throw new FormulaError(`expected ${expected ?? 'more'} at token ${i}`);
    return t;
  };

  function primary(): Node {
    const t = take();
    if (t === '(') {
      const inner = expression();
      take(')');
      return inner;
    }
    if (t === '-') {
      const operand = primary();
      return (r) => -Number(operand(r));
    }
    if (t.startsWith('{')) {
      const name = t.slice(1, -1);
      if (!fields.some((f) => f.name === name)) unknownFields.push(name);
      return (r) => (r.fields[name] as Value) ?? null;
    }
    if (t.startsWith("'") || t.startsWith('"')) {
      const text = t.slice(1, -1).replace(/\\(.)/g, '$1');
      return () => text;
    }
    if (/^\d/.test(t)) {
      const n = Number(t);
      return () => n;
    }
    const name = t.toUpperCase();
    const fn = functions[name];
    if (!fn) unknownFunctions.push(t);
    const args: Node[] = [];
    if (peek() === '(') {
      take('(');
      if (peek() !== ')') {
        args.push(expression());
        while (peek() === ',') {
          take(',');
          args.push(expression());
        }
      }
      take(')');
    }
    return (r) => (fn ? fn(args, r) : null);
  }

  function binary(next: () => Node, ops: string[], apply: (op: string, a: Value, b: Value) => Value): () => Node {
    return () => {
      let left = next();
      while (ops.includes(peek() ?? '')) {
        const op = take();
        const l = left;
        const right = next();
        left = (r) => apply(op, l(r), right(r));
      }
      return left;
    };
  }
  const term = binary(primary, ['*', '/'], (op, a, b) => (op === '*' ? Number(a) * Number(b) : Number(a) / Number(b)));
  const sum = binary(term, ['+', '-'], (op, a, b) => (op === '+' ? Number(a) + Number(b) : Number(a) - Number(b)));
  const concat = binary(sum, ['&'], (_op, a, b) => `${a ?? ''}${b ?? ''}`);
  const expression = binary(concat, ['=', '!=', '<', '>', '<=', '>='], (op, a, b) => {
    const c = compare(a, b);
    return { '=': c === 0, '!=': c !== 0, '<': c < 0, '>': c > 0, '<=': c <= 0, '>=': c >= 0 }[op]!;
  });

  const root = expression();
  if (i < tokens.length) throw new FormulaError(`unexpected "${tokens[i]}"`);
  if (unknownFunctions.length) throw new FormulaError(`Unknown function names: ${unknownFunctions.join(', ')}`);
  if (unknownFields.length) throw new FormulaError(`Unknown field names: ${unknownFields.join(', ')}`);
  return root;
}

// ---- records -------------------------------------------------------------------------------

/** A record as the API shows it: empty values left out. */
function publicRecord(r: StoredRecord) {
  const fields = Object.fromEntries(Object.entries(r.fields).filter(([, v]) => v !== null && v !== undefined && v !== '' && v !== false));
  return { id: r.id, createdTime: r.createdTime, fields };
}

/** Checks and converts field values as Airtable does; answers its 422 when one cannot be taken. */
function writeFields(t: Table, target: Record<string, unknown>, given: unknown, typecast: boolean): SandboxResponse | undefined {
  if (!given || typeof given !== 'object' || Array.isArray(given))
    return atError(422, 'INVALID_REQUEST_UNKNOWN', 'Invalid request: parameter validation failed. Check your request data.');
  for (const [name, raw] of Object.entries(given as Record<string, unknown>)) {
    const field = t.fields.find((f) => f.name === name || f.id === name);
    if (!field) return atError(422, 'UNKNOWN_FIELD_NAME', `Unknown field name: "${name}"`);
    const invalid = () => atError(422, 'INVALID_VALUE_FOR_COLUMN', `Field "${field.name}" cannot accept the provided value`);
    let value: unknown = raw;
    if (raw !== null && raw !== undefined) {
      switch (field.type) {
        case 'number':
          if (typeof raw === 'string' && typecast && raw.trim() !== '' && !Number.isNaN(Number(raw))) value = Number(raw);
          else if (typeof raw !== 'number') return invalid();
          break;
        case 'checkbox':
          if (typeof raw !== 'boolean') {
            if (!typecast) return invalid();
            value = raw === 'true' || raw === 1 || raw === '1';
          }
          break;
        case 'singleSelect': {
          if (typeof raw !== 'string') return invalid();
          const choices = field.options!.choices!;
          if (!choices.some((c) => c.name === raw)) {
            if (!typecast) return atError(422, 'INVALID_MULTIPLE_CHOICE_OPTIONS', `Insufficient permissions to create new select option ""${raw}""`);
            choices.push({ id: airtableId('sel'), name: raw, color: 'grayLight2' });
          }
          break;
        }
        case 'date':
          if (typeof raw !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(raw)) return invalid();
          break;
        default:
          if (typeof raw !== 'string') {
            if (!typecast) return invalid();
            value = String(raw);
          }
      }
    }
    target[field.name] = value;
  }
  return undefined;
}

function findTable(base: Base, idOrName: string): Table | undefined {
  return base.tables.find((t) => t.id === idOrName || t.name === idOrName);
}

type Handler = (req: SandboxRequest, ctx: ProviderContext<AirtableState>, user: AirtableState['users'][number]) => SandboxResponse;

/** Auth, then the per-base limit: past it, every call to the base answers 429 for 30 seconds. */
function route(method: string, path: string, handler: Handler) {
  return {
    method,
    path: `/v0${path}`,
    handler(req: SandboxRequest, ctx: ProviderContext<AirtableState>): SandboxResponse {
      const a = ctx.authorize(req);
      if ('error' in a) return a.error;
      const user = ctx.state.users[a.accountIndex] ?? ctx.state.users[0]!;
      const baseId = req.params.baseId;
      if (baseId) {
        const now = ctx.now();
        const second = Math.floor(now / 1000);
        const limit = (ctx.state.limits[baseId] ??= { second, count: 0, lockedUntil: 0 });
        if (limit.second !== second) Object.assign(limit, { second, count: 0 });
        limit.count++;
        if (now < limit.lockedUntil || limit.count > ctx.state.requestsPerSecond) {
          if (now >= limit.lockedUntil) limit.lockedUntil = now + 30_000;
          return json(429, { errors: [{ error: 'RATE_LIMIT_REACHED', message: 'Rate limit exceeded. Please try again later' }] });
        }
      }
      return handler(req, ctx, user);
    },
  };
}

function baseAndTable(req: SandboxRequest, state: AirtableState): { base: Base; table: Table } | { error: SandboxResponse } {
  const base = state.bases.find((b) => b.id === req.params.baseId);
  if (!base) return { error: NOT_FOUND_OR_FORBIDDEN() };
  const t = findTable(base, req.params.table!);
  if (!t) return { error: atError(404, 'TABLE_NOT_FOUND', `Could not find table ${req.params.table} in application ${base.id}`) };
  return { base, table: t };
}

function listRecords(req: SandboxRequest, t: Table): SandboxResponse {
  const q = req.query;
  const pageSize = q.get('pageSize') === null ? 100 : Number(q.get('pageSize'));
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100)
    return atError(422, 'INVALID_REQUEST_UNKNOWN', 'Invalid request: parameter validation failed. Check your request data.');
  let records = t.records.slice();
  const view = q.get('view');
  if (view && !t.views.some((v) => v.id === view || v.name === view)) return atError(422, 'VIEW_NAME_NOT_FOUND', `Could not find view ${view} in table ${t.name}`);
  const formula = q.get('filterByFormula');
  if (formula) {
    let test: (r: StoredRecord) => Value;
    try {
      test = compileFormula(formula, t.fields);
    } catch (e) {
      return atError(422, 'INVALID_FILTER_BY_FORMULA', `The formula for filtering records is invalid: ${(e as Error).message}`);
    }
    records = records.filter((r) => Boolean(test(r)));
  }
  const sortField = q.get('sort[0][field]');
  if (sortField) {
    if (!t.fields.some((f) => f.name === sortField)) return atError(422, 'UNKNOWN_FIELD_NAME', `Unknown field name: "${sortField}"`);
    const sign = q.get('sort[0][direction]') === 'desc' ? -1 : 1;
    records.sort((a, b) => sign * compare((a.fields[sortField] as Value) ?? null, (b.fields[sortField] as Value) ?? null));
  }
  const maxRecords = q.get('maxRecords');
  if (maxRecords !== null) records = records.slice(0, intParam(maxRecords, records.length, 0, records.length));
  // Offsets look like Airtable's: itr<page state>/<record id>.
  const offset = q.get('offset');
  let start = 0;
  if (offset) {
    const m = /^itr([0-9a-z]+)\/(rec[A-Za-z0-9]{14})$/.exec(offset);
    if (!m) return atError(422, 'LIST_RECORDS_ITERATOR_NOT_AVAILABLE');
    start = Number.parseInt(m[1]!, 36);
  }
  const page = records.slice(start, start + pageSize);
  const end = start + pageSize;
  return json(200, end < records.length ? { records: page.map(publicRecord), offset: `itr${end.toString(36)}/${records[end]!.id}` } : { records: page.map(publicRecord) });
}

export const airtableSandbox: ProviderModule<AirtableState> = {
  key: 'airtable',
  displayName: 'Airtable',
  accounts: [
    { id: 'usrSandboxJane001', name: 'Jane Cooper', email: 'jane@acme.test' },
    { id: 'usrSandboxHank001', name: 'Hank Scorpio', email: 'hank@globex.test' },
  ],
  tokenPrefix: { access: 'oaa', refresh: 'oar' },
  oauth: {
    authorizePath: '/oauth2/v1/authorize',
    tokenPath: '/oauth2/v1/token',
    requireBasicClientAuth: true,
    defaultTtlSeconds: 3600,
    tokenResponse(issued) {
      return {
        access_token: issued.accessToken,
        refresh_token: issued.refreshToken,
        token_type: 'Bearer',
        scope: issued.scope.join(' '),
        expires_in: Number.isFinite(issued.expiresIn) ? issued.expiresIn : undefined,
        refresh_expires_in: issued.refreshToken ? 5_184_000 : undefined,
      };
    },
  },
  authError: () => atError(401, 'AUTHENTICATION_REQUIRED', 'Authentication required'),
  seed,
  routes: [
    route('GET', '/meta/whoami', (_req, _ctx, user) =>
      json(200, { id: user.id, email: user.email, scopes: ['data.records:read', 'data.records:write', 'schema.bases:read', 'user.email:read'] }),
    ),
    route('GET', '/meta/bases', (req, ctx) => {
      const start = req.query.get('offset') ? Number.parseInt(req.query.get('offset')!.replace(/^itr/, ''), 36) || 0 : 0;
      // Up to 1,000 bases a page.
      const page = ctx.state.bases.slice(start, start + 1000).map((b) => ({ id: b.id, name: b.name, permissionLevel: b.permissionLevel }));
      return json(200, start + 1000 < ctx.state.bases.length ? { bases: page, offset: `itr${(start + 1000).toString(36)}` } : { bases: page });
    }),
    route('GET', '/meta/bases/:baseId/tables', (req, ctx) => {
      const base = ctx.state.bases.find((b) => b.id === req.params.baseId);
      if (!base) return NOT_FOUND_OR_FORBIDDEN();
      return json(200, { tables: base.tables.map(({ records: _r, ...t }) => t) });
    }),
    route('GET', '/:baseId/:table', (req, ctx) => {
      const found = baseAndTable(req, ctx.state);
      return 'error' in found ? found.error : listRecords(req, found.table);
    }),
    route('POST', '/:baseId/:table', (req, ctx) => {
      const found = baseAndTable(req, ctx.state);
      if ('error' in found) return found.error;
      const body = (req.body ?? {}) as { fields?: unknown; records?: { fields?: unknown }[]; typecast?: boolean };
      const many = Array.isArray(body.records);
      const inputs = many ? body.records! : [{ fields: body.fields }];
      if (many && (inputs.length === 0 || inputs.length > 10)) return atError(422, 'INVALID_RECORDS', 'You must provide an array of up to 10 record objects');
      const at = isoNow(ctx.now());
      const made: StoredRecord[] = [];
      for (const input of inputs) {
        const r: StoredRecord = { id: airtableId('rec'), createdTime: at, modifiedTime: at, fields: {} };
        const problem = writeFields(found.table, r.fields, input.fields ?? {}, body.typecast === true);
        if (problem) return problem;
        made.push(r);
      }
      found.table.records.push(...made);
      return json(200, many ? { records: made.map(publicRecord) } : publicRecord(made[0]!));
    }),
    route('GET', '/:baseId/:table/:recordId', (req, ctx) => {
      const found = baseAndTable(req, ctx.state);
      if ('error' in found) return found.error;
      const r = found.table.records.find((x) => x.id === req.params.recordId);
      return r ? json(200, publicRecord(r)) : atError(404, 'NOT_FOUND');
    }),
    route('PATCH', '/:baseId/:table/:recordId', (req, ctx) => {
      const found = baseAndTable(req, ctx.state);
      if ('error' in found) return found.error;
      const r = found.table.records.find((x) => x.id === req.params.recordId);
      if (!r) return atError(404, 'NOT_FOUND');
      const body = (req.body ?? {}) as { fields?: unknown; typecast?: boolean };
      const fields = { ...r.fields };
      const problem = writeFields(found.table, fields, body.fields, body.typecast === true);
      if (problem) return problem;
      Object.assign(r, { fields, modifiedTime: isoNow(ctx.now()) });
      return json(200, publicRecord(r));
    }),
  ],
  tick(ctx) {
    const leads = ctx.state.bases[0]?.tables[0];
    if (!leads) return;
    const at = isoNow(ctx.now());
    const n = leads.records.length + 1;
    leads.records.push({ id: airtableId('rec'), createdTime: at, modifiedTime: at, fields: { Name: `Web form lead ${n}`, Email: `lead${n}@example.test`, Status: 'New' } });
    // A churning demo sandbox stays bounded: the newest records are kept.
    if (leads.records.length > 5000) leads.records.splice(0, leads.records.length - 5000);
  },
};
