import { randomBytes } from 'node:crypto';
import { intParam, json, ProviderModule, SandboxResponse } from '../core';

const V = 'v61.0';

export interface SalesforceState {
  /** Records by sObject name. */
  records: Record<string, Record<string, unknown>[]>;
  /** Open query cursors: locator → remaining records. */
  cursors: Map<string, { records: Record<string, unknown>[]; totalSize: number }>;
  nextId: number;
  /** How many times tick() ran: names the next lead. */
  ticks: number;
}

interface SObjectMeta {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  custom: boolean;
  createable: boolean;
  queryable: boolean;
  fields: string[];
  required: string[];
}

const SOBJECTS: SObjectMeta[] = [
  {
    name: 'Account',
    label: 'Account',
    labelPlural: 'Accounts',
    keyPrefix: '001',
    custom: false,
    createable: true,
    queryable: true,
    fields: ['Id', 'Name', 'Industry', 'Website', 'Phone', 'AnnualRevenue', 'NumberOfEmployees', 'CreatedDate'],
    required: ['Name'],
  },
  {
    name: 'Contact',
    label: 'Contact',
    labelPlural: 'Contacts',
    keyPrefix: '003',
    custom: false,
    createable: true,
    queryable: true,
    fields: ['Id', 'FirstName', 'LastName', 'Email', 'Phone', 'AccountId', 'Title', 'CreatedDate'],
    required: ['LastName'],
  },
  {
    name: 'Lead',
    label: 'Lead',
    labelPlural: 'Leads',
    keyPrefix: '00Q',
    custom: false,
    createable: true,
    queryable: true,
    fields: ['Id', 'FirstName', 'LastName', 'Company', 'Email', 'Status', 'LeadSource', 'CreatedDate'],
    required: ['LastName', 'Company'],
  },
  {
    name: 'Opportunity',
    label: 'Opportunity',
    labelPlural: 'Opportunities',
    keyPrefix: '006',
    custom: false,
    createable: true,
    queryable: true,
    fields: ['Id', 'Name', 'StageName', 'CloseDate', 'Amount', 'AccountId', 'CreatedDate'],
    required: ['Name', 'StageName', 'CloseDate'],
  },
  {
    name: 'Case',
    label: 'Case',
    labelPlural: 'Cases',
    keyPrefix: '500',
    custom: false,
    createable: true,
    queryable: true,
    fields: ['Id', 'Subject', 'Status', 'Priority', 'AccountId', 'ContactId', 'CreatedDate'],
    required: [],
  },
  {
    name: 'Task',
    label: 'Task',
    labelPlural: 'Tasks',
    keyPrefix: '00T',
    custom: false,
    createable: true,
    queryable: true,
    fields: ['Id', 'Subject', 'Status', 'ActivityDate', 'WhoId', 'WhatId', 'CreatedDate'],
    required: [],
  },
  {
    name: 'Invoice__c',
    label: 'Invoice',
    labelPlural: 'Invoices',
    keyPrefix: 'a01',
    custom: true,
    createable: true,
    queryable: true,
    fields: ['Id', 'Name', 'Amount__c', 'Account__c', 'Status__c', 'CreatedDate'],
    required: [],
  },
  {
    name: 'AccountHistory',
    label: 'Account History',
    labelPlural: 'Account History',
    keyPrefix: '017',
    custom: false,
    createable: false,
    queryable: true,
    fields: ['Id', 'AccountId', 'Field', 'CreatedDate'],
    required: [],
  },
  {
    name: 'User',
    label: 'User',
    labelPlural: 'Users',
    keyPrefix: '005',
    custom: false,
    createable: false,
    queryable: true,
    fields: ['Id', 'Name', 'Email', 'Username'],
    required: [],
  },
];

function sfError(status: number, errorCode: string, message: string, fields: string[] = []): SandboxResponse {
  return json(status, [{ message, errorCode, fields }]);
}

function newId(state: SalesforceState, prefix: string): string {
  const n = (state.nextId++).toString(36).toUpperCase().padStart(9, '0');
  return `${prefix}5g000${n}AAA`.slice(0, 18);
}

function attributes(type: string, id: unknown) {
  return { type, url: `/services/data/${V}/sobjects/${type}/${id}` };
}

function seed(): SalesforceState {
  const state: SalesforceState = { records: {}, cursors: new Map(), nextId: 1, ticks: 0 };
  for (const o of SOBJECTS) state.records[o.name] = [];
  const created = '2026-01-05T10:00:00.000+0000';
  const accounts = [
    ['Edge Communications', 'Electronics'],
    ['Burlington Textiles Corp of America', 'Apparel'],
    ['Pyramid Construction Inc.', 'Construction'],
    ['Grand Hotels & Resorts Ltd', 'Hospitality'],
    ['United Oil & Gas Corp.', 'Energy'],
  ];
  for (const [Name, Industry] of accounts) state.records.Account!.push({ Id: newId(state, '001'), Name, Industry, CreatedDate: created });
  const contacts = [
    ['Rose', 'Gonzalez', 'rose@edge.test'],
    ['Sean', 'Forbes', 'sean@edge.test'],
    ['Jack', 'Rogers', 'jrogers@burlington.test'],
  ];
  contacts.forEach(([FirstName, LastName, Email], i) =>
    state.records.Contact!.push({ Id: newId(state, '003'), FirstName, LastName, Email, AccountId: state.records.Account![i]!.Id, CreatedDate: created }),
  );
  return state;
}

// ---- a small SOQL subset:
// SELECT f, … | FIELDS(ALL|STANDARD|CUSTOM) FROM Obj [WHERE expr] [ORDER BY f [ASC|DESC], …] [LIMIT n] [OFFSET n]
// expr: conditions joined by AND / OR, NOT, parentheses; values: 'text', numbers, true/false/null,
// dateTime literals (2026-01-05T10:00:00Z) compared as instants.

interface Condition {
  field: string;
  op: string;
  value: unknown;
}

export type Where = { cond: Condition } | { and: Where[] } | { or: Where[] } | { not: Where };

/** A dateTime literal, kept apart from text so that comparisons are by instant. */
class SoqlDateTime {
  constructor(readonly ms: number) {}
}

const TOKEN = /\s*('(?:[^'\\]|\\.)*'|\(|\)|,|!=|<>|<=|>=|=|<|>|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})|-?\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_.]*|\S)/gy;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while (TOKEN.lastIndex < text.length && (m = TOKEN.exec(text))) if (m[1]) tokens.push(m[1]);
  return tokens;
}

function literal(token: string | undefined): unknown {
  if (token === undefined) throw new Error('unexpected token: <EOF>');
  if (/^'.*'$/s.test(token)) return token.slice(1, -1).replace(/\\'/g, "'");
  if (/^(true|false)$/i.test(token)) return token.toLowerCase() === 'true';
  if (/^null$/i.test(token)) return null;
  if (/^\d{4}-\d{2}-\d{2}T/.test(token)) return new SoqlDateTime(Date.parse(token.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')));
  if (/^-?\d+(\.\d+)?$/.test(token)) return Number(token);
  throw new Error(`unexpected token: '${token}'`);
}

function parseWhere(text: string): Where {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i]?.toUpperCase();
  const expect = (t: string) => {
    if (peek() !== t) throw new Error(`unexpected token: '${tokens[i] ?? '<EOF>'}', expecting '${t}'`);
    i++;
  };
  const orExpr = (): Where => {
    const parts = [andExpr()];
    while (peek() === 'OR') {
      i++;
      parts.push(andExpr());
    }
    return parts.length === 1 ? parts[0]! : { or: parts };
  };
  const andExpr = (): Where => {
    const parts = [unary()];
    while (peek() === 'AND') {
      i++;
      parts.push(unary());
    }
    return parts.length === 1 ? parts[0]! : { and: parts };
  };
  const unary = (): Where => {
    if (peek() === 'NOT') {
      i++;
      return { not: unary() };
    }
    if (peek() === '(') {
      i++;
      const inner = orExpr();
      expect(')');
      return inner;
    }
    const field = tokens[i++];
    if (!field || !/^[A-Za-z_][A-Za-z0-9_.]*$/.test(field)) throw new Error(`unexpected token: '${field ?? '<EOF>'}'`);
    let op = peek();
    i++;
    if (op === 'NOT' && peek() === 'IN') {
      i++;
      op = 'NOT IN';
    }
    if (op === 'IN' || op === 'NOT IN') {
      expect('(');
      const values: unknown[] = [literal(tokens[i++])];
      while (peek() === ',') {
        i++;
        values.push(literal(tokens[i++]));
      }
      expect(')');
      return { cond: { field, op, value: values } };
    }
    if (!op || !['=', '!=', '<>', '<', '>', '<=', '>=', 'LIKE'].includes(op)) throw new Error(`unexpected token: '${tokens[i - 1] ?? '<EOF>'}'`);
    return { cond: { field, op, value: literal(tokens[i++]) } };
  };
  const where = orExpr();
  if (i < tokens.length) throw new Error(`unexpected token: '${tokens[i]}'`);
  return where;
}

export function whereFields(where: Where | undefined): string[] {
  if (!where) return [];
  if ('cond' in where) return [where.cond.field];
  if ('not' in where) return whereFields(where.not);
  return ('and' in where ? where.and : where.or).flatMap(whereFields);
}

export function parseSoql(soql: string): { fields: string[]; object: string; where?: Where; orderBy: { field: string; desc: boolean }[]; limit?: number; offset?: number } {
  const m = /^\s*SELECT\s+(.+?)\s+FROM\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s+WHERE\s+(.+?))?(?:\s+ORDER\s+BY\s+(.+?))?(?:\s+LIMIT\s+(\d+))?(?:\s+OFFSET\s+(\d+))?\s*$/is.exec(soql);
  if (!m) throw new Error('unexpected token: expecting SELECT … FROM …');
  const fields = m[1]!
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  const orderBy = (m[4] ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const o = /^([A-Za-z_][A-Za-z0-9_.]*)(?:\s+(ASC|DESC))?(?:\s+NULLS\s+(?:FIRST|LAST))?$/i.exec(part);
      if (!o) throw new Error(`unexpected token: '${part}'`);
      return { field: o[1]!, desc: (o[2] ?? '').toUpperCase() === 'DESC' };
    });
  return { fields, object: m[2]!, where: m[3] ? parseWhere(m[3]) : undefined, orderBy, limit: m[5] ? Number(m[5]) : undefined, offset: m[6] ? Number(m[6]) : undefined };
}

/** A record value as comparable with a literal: dateTimes as instants. */
function comparable(v: unknown, like: unknown): unknown {
  if (like instanceof SoqlDateTime && typeof v === 'string') return Date.parse(v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return v;
}

function test(record: Record<string, unknown>, c: Condition): boolean {
  const value = c.value instanceof SoqlDateTime ? c.value.ms : c.value;
  const v = comparable(record[c.field] ?? null, c.value);
  switch (c.op) {
    case '=':
      return v === value || (typeof v === 'string' && typeof value === 'string' && v.toLowerCase() === value.toLowerCase());
    case '!=':
    case '<>':
      return v !== value;
    case '<':
      return v !== null && (v as number) < (value as number);
    case '>':
      return v !== null && (v as number) > (value as number);
    case '<=':
      return v !== null && (v as number) <= (value as number);
    case '>=':
      return v !== null && (v as number) >= (value as number);
    case 'LIKE': {
      const re = new RegExp(
        `^${String(value)
          .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
          .replace(/%/g, '.*')
          .replace(/_/g, '.')}$`,
        'i',
      );
      return typeof v === 'string' && re.test(v);
    }
    case 'IN':
      return Array.isArray(value) && value.includes(v);
    case 'NOT IN':
      return Array.isArray(value) && !value.includes(v);
    default:
      return false;
  }
}

function evaluate(record: Record<string, unknown>, where: Where, canon: (f: string) => string): boolean {
  if ('cond' in where) return test(record, { ...where.cond, field: canon(where.cond.field) });
  if ('not' in where) return !evaluate(record, where.not, canon);
  if ('and' in where) return where.and.every((w) => evaluate(record, w, canon));
  return where.or.some((w) => evaluate(record, w, canon));
}

/** Salesforce's CreatedDate: second precision, `+0000` offset. */
export function sfDateTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('Z', '+0000');
}

/** A churning demo sandbox keeps this many leads, dropping the oldest. */
const MAX_LEADS = 5000;

const TICK_LEADS: [string, string, string][] = [
  ['Ava', 'Patel', 'Initech'],
  ['Noah', 'Kim', 'Umbrella Corp'],
  ['Mia', 'Rossi', 'Hooli'],
  ['Leo', 'Schmidt', 'Soylent'],
  ['Zoe', 'Dubois', 'Stark Industries'],
];

function page(state: SalesforceState, records: Record<string, unknown>[], totalSize: number, batch: number) {
  const first = records.slice(0, batch);
  const rest = records.slice(batch);
  if (rest.length === 0) return { totalSize, done: true, records: first };
  const locator = `01g${randomBytes(6).toString('hex').toUpperCase()}`;
  const consumed = totalSize - rest.length;
  state.cursors.set(`${locator}-${consumed}`, { records: rest, totalSize });
  return { totalSize, done: false, nextRecordsUrl: `/services/data/${V}/query/${locator}-${consumed}`, records: first };
}

function batchSize(header: string | undefined): number {
  const m = /batchSize=(\d+)/.exec(header ?? '');
  return m ? intParam(m[1], 2000, 200, 2000) : 2000;
}

export const salesforceSandbox: ProviderModule<SalesforceState> = {
  key: 'salesforce',
  displayName: 'Salesforce',
  accounts: [
    { id: '005Dn000001SbxJAAS', name: 'Jane Cooper', email: 'jane@acme.test', username: 'jane@acme.test.sandbox', org: '00DDn00000SbxAcEAA' },
    { id: '005Dn000002SbxHAAS', name: 'Hank Scorpio', email: 'hank@globex.test', username: 'hank@globex.test', org: '00DDn00000SbxGlEAA' },
  ],
  tokenPrefix: { access: '00DDn00000SbxAc!AQ', refresh: '5Aep861Sbx' },
  oauth: {
    authorizePath: '/services/oauth2/authorize',
    tokenPath: '/services/oauth2/token',
    sendsExpiresIn: false,
    defaultTtlSeconds: 7200,
    tokenError(kind, description) {
      if (kind === 'invalid_client') return json(400, { error: 'invalid_client', error_description: 'invalid client credentials' });
      if (kind === 'unsupported_grant_type') return json(400, { error: 'unsupported_grant_type', error_description: 'grant type not supported' });
      if (kind === 'redirect_uri_mismatch') return json(400, { error: 'redirect_uri_mismatch', error_description: 'redirect_uri must match configuration' });
      if (kind === 'invalid_refresh_token') return json(400, { error: 'invalid_grant', error_description: 'expired access/refresh token' });
      if (kind === 'invalid_code')
        return json(400, {
          error: 'invalid_grant',
          error_description: description.includes('PKCE') || description.includes('verifier') ? 'invalid code verifier' : 'authentication failure',
        });
      return json(400, { error: 'invalid_request', error_description: description });
    },
    tokenResponse(issued, account, ctx) {
      return {
        access_token: issued.accessToken,
        refresh_token: issued.refreshToken,
        signature: randomBytes(32).toString('base64'),
        scope: issued.scope.join(' '),
        instance_url: ctx.providerUrl,
        id: `https://login.salesforce.com/id/${account.org}/${account.id}`,
        token_type: 'Bearer',
        issued_at: String(ctx.now()),
      };
    },
  },
  authError() {
    return sfError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
  },
  seed,
  /** A lead arrives (web-to-lead), as the demo's Salesforce changes over time. */
  tick(ctx) {
    const n = ctx.state.ticks ?? 0; // absent in state files written before ticks existed
    ctx.state.ticks = n + 1;
    const [first, last, company] = TICK_LEADS[n % TICK_LEADS.length]!;
    ctx.state.records.Lead!.push({
      Id: newId(ctx.state, '00Q'),
      FirstName: first,
      LastName: last,
      Company: company,
      Email: `${first.toLowerCase()}.${last.toLowerCase()}${n + 1}@${company.toLowerCase().replace(/[^a-z]+/g, '')}.test`,
      Status: 'Open - Not Contacted',
      LeadSource: 'Web',
      CreatedDate: sfDateTime(ctx.now()),
    });
    const leads = ctx.state.records.Lead!;
    if (leads.length > MAX_LEADS) leads.splice(0, leads.length - MAX_LEADS);
  },
  routes: [
    {
      method: 'GET',
      path: '/services/oauth2/userinfo',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const [given, family] = a.account.name!.split(' ');
        return json(200, {
          sub: `https://login.salesforce.com/id/${a.account.org}/${a.account.id}`,
          user_id: a.account.id,
          organization_id: a.account.org,
          preferred_username: a.account.username,
          nickname: a.account.username!.split('@')[0],
          name: a.account.name,
          email: a.account.email,
          email_verified: true,
          given_name: given,
          family_name: family,
          zoneinfo: 'America/Los_Angeles',
          locale: 'en_US',
          user_type: 'STANDARD',
          active: true,
          urls: { rest: `${ctx.providerUrl}/services/data/v{version}/`, sobjects: `${ctx.providerUrl}/services/data/v{version}/sobjects/` },
        });
      },
    },
    {
      method: 'GET',
      path: `/services/data/${V}/sobjects`,
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        return json(200, {
          encoding: 'UTF-8',
          maxBatchSize: 200,
          sobjects: SOBJECTS.map((o) => ({
            activateable: false,
            createable: o.createable,
            custom: o.custom,
            customSetting: false,
            deletable: o.createable,
            keyPrefix: o.keyPrefix,
            label: o.label,
            labelPlural: o.labelPlural,
            name: o.name,
            queryable: o.queryable,
            retrieveable: true,
            searchable: o.queryable,
            updateable: o.createable,
            urls: {
              sobject: `/services/data/${V}/sobjects/${o.name}`,
              describe: `/services/data/${V}/sobjects/${o.name}/describe`,
              rowTemplate: `/services/data/${V}/sobjects/${o.name}/{ID}`,
            },
          })),
        });
      },
    },
    {
      method: 'POST',
      path: `/services/data/${V}/sobjects/:object`,
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const meta = SOBJECTS.find((o) => o.name.toLowerCase() === req.params.object!.toLowerCase());
        if (!meta) return sfError(404, 'NOT_FOUND', 'The requested resource does not exist');
        if (!meta.createable) return sfError(400, 'INVALID_TYPE', `entity type ${meta.name} does not support insert`);
        const body = req.body;
        if (!body || typeof body !== 'object' || Array.isArray(body)) return sfError(400, 'JSON_PARSER_ERROR', 'The request body is not a JSON object');
        for (const k of Object.keys(body)) {
          if (!meta.fields.includes(k) || k === 'Id' || k === 'CreatedDate') return sfError(400, 'INVALID_FIELD', `No such column '${k}' on sobject of type ${meta.name}`, [k]);
        }
        const missing = meta.required.filter((f) => body[f] === undefined || body[f] === null || body[f] === '');
        if (missing.length) return sfError(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing);
        const id = newId(ctx.state, meta.keyPrefix);
        ctx.state.records[meta.name]!.push({ Id: id, ...body, CreatedDate: sfDateTime(ctx.now()) });
        return json(201, { id, success: true, errors: [] }, { location: `/services/data/${V}/sobjects/${meta.name}/${id}` });
      },
    },
    {
      method: 'PATCH',
      path: `/services/data/${V}/sobjects/:object/:id`,
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const meta = SOBJECTS.find((o) => o.name.toLowerCase() === req.params.object!.toLowerCase());
        if (!meta) return sfError(404, 'NOT_FOUND', 'The requested resource does not exist');
        const record = ctx.state.records[meta.name]!.find((r) => r.Id === req.params.id || String(r.Id).slice(0, 15) === req.params.id);
        if (!record) return sfError(404, 'NOT_FOUND', 'Provided external ID field does not exist or is not accessible: ' + req.params.id);
        for (const k of Object.keys(req.body ?? {})) {
          if (!meta.fields.includes(k) || k === 'Id') return sfError(400, 'INVALID_FIELD', `No such column '${k}' on sobject of type ${meta.name}`, [k]);
        }
        Object.assign(record, req.body);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: `/services/data/${V}/sobjects/:object/:id`,
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const meta = SOBJECTS.find((o) => o.name.toLowerCase() === req.params.object!.toLowerCase());
        const record = meta && ctx.state.records[meta.name]!.find((r) => r.Id === req.params.id);
        if (!meta || !record) return sfError(404, 'NOT_FOUND', 'The requested resource does not exist');
        return json(200, { attributes: attributes(meta.name, record.Id), ...record });
      },
    },
    {
      method: 'GET',
      path: `/services/data/${V}/query`,
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const soql = req.query.get('q');
        if (!soql) return sfError(400, 'MALFORMED_QUERY', "The query string parameter 'q' is required");
        let q: ReturnType<typeof parseSoql>;
        try {
          q = parseSoql(soql);
        } catch (e) {
          return sfError(400, 'MALFORMED_QUERY', (e as Error).message);
        }
        const meta = SOBJECTS.find((o) => o.name.toLowerCase() === q.object.toLowerCase());
        if (!meta) return sfError(400, 'INVALID_TYPE', `sObject type '${q.object}' is not supported.`);
        const countOnly = q.fields.length === 1 && /^COUNT\(\)$/i.test(q.fields[0]!);
        const fieldSet = /^FIELDS\((ALL|STANDARD|CUSTOM)\)$/i.exec(q.fields.length === 1 ? q.fields[0]! : '')?.[1]?.toUpperCase();
        if (fieldSet && fieldSet !== 'STANDARD' && (q.limit === undefined || q.limit > 200)) {
          return sfError(400, 'MALFORMED_QUERY', 'The SOQL FIELDS function must have a LIMIT of at most 200');
        }
        const selected = fieldSet ? meta.fields.filter((f) => (fieldSet === 'ALL' ? true : fieldSet === 'CUSTOM' ? f.endsWith('__c') : !f.endsWith('__c'))) : q.fields;
        for (const f of [...(countOnly ? [] : selected), ...whereFields(q.where), ...q.orderBy.map((o) => o.field)]) {
          if (!meta.fields.some((x) => x.toLowerCase() === f.toLowerCase())) return sfError(400, 'INVALID_FIELD', `No such column '${f}' on entity '${meta.name}'.`);
        }
        const canon = (f: string) => meta.fields.find((x) => x.toLowerCase() === f.toLowerCase())!;
        let rows = ctx.state.records[meta.name]!.filter((r) => !q.where || evaluate(r, q.where, canon));
        if (q.orderBy.length) {
          rows = [...rows].sort((x, y) => {
            for (const o of q.orderBy) {
              const f = canon(o.field);
              const [a, b] = [x[f] ?? '', y[f] ?? ''];
              // Ids compare as Salesforce compares them in WHERE Id > '…' (binary); text like people read it.
              const order =
                (typeof a === 'number' && typeof b === 'number'
                  ? a - b
                  : /Id$/.test(f)
                    ? a < b
                      ? -1
                      : a > b
                        ? 1
                        : 0
                    : String(a).localeCompare(String(b), undefined, { numeric: true })) * (o.desc ? -1 : 1);
              if (order) return order;
            }
            return 0;
          });
        }
        if (q.offset) rows = rows.slice(q.offset);
        if (q.limit !== undefined) rows = rows.slice(0, q.limit);
        if (countOnly) return json(200, { totalSize: rows.length, done: true, records: [] });
        const shaped = rows.map((r) => {
          const out: Record<string, unknown> = { attributes: attributes(meta.name, r.Id) };
          for (const f of selected) out[canon(f)] = r[canon(f)] ?? null;
          return out;
        });
        return json(200, page(ctx.state, shaped, shaped.length, batchSize(req.headers['sforce-query-options'])));
      },
    },
    {
      method: 'GET',
      path: `/services/data/${V}/query/:locator`,
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const cursor = ctx.state.cursors.get(req.params.locator!);
        if (!cursor) return sfError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
        ctx.state.cursors.delete(req.params.locator!);
        return json(200, page(ctx.state, cursor.records, cursor.totalSize, batchSize(req.headers['sforce-query-options'])));
      },
    },
  ],
};
