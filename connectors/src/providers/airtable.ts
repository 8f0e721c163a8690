import { send } from '../runtime';
import { ActionContext, defineAction, defineConnector, definePollTrigger, OptionItem } from '../types';
import { anyObject, arr, bool, int, logo, matches, obj, oneOf, res, str } from './shared';

export interface AirtableRecord {
  id: string;
  createdTime: string;
  fields: Record<string, unknown>;
}

interface RecordList {
  records: AirtableRecord[];
  offset?: string;
}

interface Base {
  id: string;
  name: string;
  permissionLevel: string;
}

/** `appXXXXXXXXXXXXXX/tblXXXXXXXXXXXXXX` (or the table's name after the slash). */
const TABLE = str('Table', { pattern: '^app[A-Za-z0-9]{14}/.+$', description: 'Base id / table id or name', 'x-options': 'tables' });
const FIELDS = anyObject({ title: 'Fields', description: 'Field names to values', minProperties: 1, additionalProperties: true });
const RECORD_ID = str('Record id', { pattern: '^rec[A-Za-z0-9]{14}$' });

const recordOutput = res({ id: str('Record id'), createdTime: str('Created'), fields: anyObject({ title: 'Fields' }) }, ['id', 'createdTime', 'fields']);

function tablePath(table: string): string {
  const slash = table.indexOf('/');
  return `${encodeURIComponent(table.slice(0, slash))}/${encodeURIComponent(table.slice(slash + 1))}`;
}

const record = (r: AirtableRecord) => ({ id: r.id, createdTime: r.createdTime, fields: r.fields });

const createRecord = defineAction({
  name: 'Create record',
  description: 'Adds a record to a table (POST /v0/{baseId}/{table}).',
  readOnly: false,
  retrySafe: false,
  input: obj(
    { table: TABLE, fields: FIELDS, typecast: bool('Convert values', { description: 'Let Airtable convert text to the field types (and add select options)', default: false }) },
    ['table', 'fields'],
  ),
  output: recordOutput,
  async run(ctx, input) {
    return record(await send<AirtableRecord>(ctx, { method: 'POST', path: tablePath(input.table), body: { fields: input.fields, typecast: input.typecast ?? false } }));
  },
});

const updateRecord = defineAction({
  name: 'Update record',
  description: 'Sets fields of a record, leaving the others alone (PATCH /v0/{baseId}/{table}/{recordId}).',
  // PATCH setting the same fields again changes nothing.
  readOnly: false,
  retrySafe: true,
  input: obj({ table: TABLE, record_id: RECORD_ID, fields: FIELDS, typecast: bool('Convert values', { default: false }) }, ['table', 'record_id', 'fields']),
  output: recordOutput,
  async run(ctx, input) {
    return record(
      await send<AirtableRecord>(ctx, {
        method: 'PATCH',
        path: `${tablePath(input.table)}/${encodeURIComponent(input.record_id)}`,
        body: { fields: input.fields, typecast: input.typecast ?? false },
      }),
    );
  },
});

const findRecords = defineAction({
  name: 'Find records',
  description: 'Lists a table’s records, optionally filtered by an Airtable formula, 100 at a time (GET /v0/{baseId}/{table}).',
  readOnly: true,
  retrySafe: true,
  input: obj(
    {
      table: TABLE,
      filter_by_formula: str('Filter formula', { description: "e.g. {Status} = 'Open'" }),
      view: str('View', { description: 'A view name or id: its filters and order apply' }),
      sort_field: str('Sort by field'),
      sort_direction: oneOf({ enum: ['asc', 'desc'], title: 'Sort direction', default: 'asc' }),
      max_records: int('Most records', { minimum: 1, description: 'Across all pages' }),
      page_size: int('Page size', { minimum: 1, maximum: 100, default: 100 }),
      offset: str('Page', { description: 'The offset a previous call answered (same other inputs)' }),
    },
    ['table'],
  ),
  output: res({ records: arr(recordOutput), offset: str('Next page') }, ['records']),
  async run(ctx, input) {
    const answer = await send<RecordList>(ctx, {
      method: 'GET',
      path: tablePath(input.table),
      query: {
        filterByFormula: input.filter_by_formula,
        view: input.view,
        pageSize: input.page_size ?? 100,
        maxRecords: input.max_records,
        offset: input.offset,
        'sort[0][field]': input.sort_field,
        'sort[0][direction]': input.sort_field ? (input.sort_direction ?? 'asc') : undefined,
      },
    });
    return answer.offset ? { records: answer.records.map(record), offset: answer.offset } : { records: answer.records.map(record) };
  },
});

/** Every base the token reaches (GET /v0/meta/bases, bounded). */
async function allBases(ctx: ActionContext): Promise<Base[]> {
  const bases: Base[] = [];
  let offset: string | undefined;
  for (let page = 0; page < 5; page++) {
    const answer = await send<{ bases: Base[]; offset?: string }>(ctx, { method: 'GET', path: 'meta/bases', query: { offset } });
    bases.push(...answer.bases);
    if (!answer.offset) break;
    offset = answer.offset;
  }
  return bases;
}

/** Every page of a table's records for `formula` (bounded: 10 pages of 100). */
async function allRecords(ctx: ActionContext, table: string, formula: string | undefined): Promise<{ records: AirtableRecord[]; complete: boolean }> {
  const records: AirtableRecord[] = [];
  let offset: string | undefined;
  for (let page = 0; page < 10; page++) {
    const answer = await send<RecordList>(ctx, { method: 'GET', path: tablePath(table), query: { filterByFormula: formula, pageSize: 100, offset } });
    records.push(...answer.records);
    if (!answer.offset) return { records, complete: true };
    offset = answer.offset;
  }
  return { records, complete: false };
}

const byCreated = (a: AirtableRecord, b: AirtableRecord) => (a.createdTime < b.createdTime ? -1 : a.createdTime > b.createdTime ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export const airtableConnector = defineConnector({
  key: 'airtable',
  name: 'Airtable',
  description: 'Create, update and find records in Airtable bases; start flows on new records.',
  logo: logo('#18BFFF', '<path d="M32 14l20 8-20 8-20-8z" fill="#fff"/><path d="M14 28l16 7v16l-16-7z" fill="#fff"/><path d="M50 28l-16 7v16l16-7z" fill="#FCB400"/>'),
  categories: ['productivity', 'spreadsheets'],
  docsUrl: 'https://airtable.com/developers/web/api/introduction',
  auth: {
    type: 'oauth2',
    authorizationUrl: 'https://airtable.com/oauth2/v1/authorize',
    tokenUrl: 'https://airtable.com/oauth2/v1/token',
    scopes: ['data.records:read', 'data.records:write', 'schema.bases:read', 'user.email:read'],
    scopeSeparator: ' ',
    // PKCE is required; a client with a secret authenticates with HTTP Basic at the token endpoint.
    pkce: true,
    clientAuthentication: 'client_secret_basic',
    refreshable: true,
  },
  baseUrl: 'https://api.airtable.com/v0',
  pagination: { style: 'cursor', cursorParam: 'offset', nextCursorPath: 'offset', limitParam: 'pageSize' },
  // 5 requests per second per base; past it Airtable answers 429 and wants 30 seconds of quiet
  // (no Retry-After header: repeat after 30 s).
  rateLimit: { requestsPerSecond: 5 },
  actions: { create_record: createRecord, update_record: updateRecord, find_records: findRecords },
  options: {
    bases: {
      name: 'Bases',
      async run(ctx, { search, cursor }) {
        const answer = await send<{ bases: Base[]; offset?: string }>(ctx, { method: 'GET', path: 'meta/bases', query: { offset: cursor } });
        const options = answer.bases.filter((b) => matches(search, b.name, b.id)).map((b) => ({ value: b.id, label: b.name, description: b.permissionLevel }));
        return answer.offset ? { options, nextCursor: answer.offset } : { options };
      },
    },
    tables: {
      name: 'Tables',
      description: 'Every table of every base, as base id / table id',
      async run(ctx, { search, cursor }) {
        // Cursor: the index of the next base whose tables to list.
        const bases = await allBases(ctx);
        let index = cursor ? Number.parseInt(cursor, 10) || 0 : 0;
        const options: OptionItem[] = [];
        while (index < bases.length && options.length < 50) {
          const base = bases[index++]!;
          const { tables } = await send<{ tables: { id: string; name: string; description?: string }[] }>(ctx, {
            method: 'GET',
            path: `meta/bases/${encodeURIComponent(base.id)}/tables`,
          });
          for (const t of tables) {
            if (matches(search, t.name, base.name)) options.push({ value: `${base.id}/${t.id}`, label: `${base.name} › ${t.name}`, description: t.description });
          }
        }
        return index < bases.length ? { options, nextCursor: String(index) } : { options };
      },
    },
  },
  triggers: {
    new_record: definePollTrigger<{ createdTime: string; id: string }>()({
      name: 'New record',
      description: 'A record is added to a table (filterByFormula on CREATED_TIME(), ordered by createdTime).',
      input: obj({ table: TABLE }, ['table']),
      output: recordOutput,
      intervalSeconds: 60,
      minIntervalSeconds: 30,
      async poll(ctx, { input, cursor, limit }) {
        // A second of slack in the formula (its clock may round); the exact cut is made here.
        const formula = cursor ? `IS_AFTER(CREATED_TIME(), DATEADD('${cursor.createdTime}', -1, 'seconds'))` : undefined;
        const { records, complete } = await allRecords(ctx, input.table, formula);
        const sorted = records.sort(byCreated);
        if (cursor === null) {
          // The cursor sits at the newest record even when none is asked for (limit 0: from now).
          const newest = limit > 0 ? sorted.slice(-limit) : [];
          const last = sorted.at(-1);
          return {
            items: newest.map((r) => ({ id: r.id, data: record(r) })),
            cursor: last ? { createdTime: last.createdTime, id: last.id } : { createdTime: '1970-01-01T00:00:00.000Z', id: '' },
          };
        }
        const fresh = sorted.filter((r) => r.createdTime > cursor.createdTime || (r.createdTime === cursor.createdTime && r.id > cursor.id));
        const items = fresh.slice(0, limit);
        const last = items.at(-1);
        return {
          items: items.map((r) => ({ id: r.id, data: record(r) })),
          cursor: last ? { createdTime: last.createdTime, id: last.id } : cursor,
          more: fresh.length > limit || !complete,
        };
      },
    }),
  },
  async account(ctx) {
    const me = await send<{ id: string; email?: string; scopes?: string[] }>(ctx, { method: 'GET', path: 'meta/whoami' });
    return { id: me.id, name: me.email ?? me.id, details: { scopes: me.scopes } };
  },
});
