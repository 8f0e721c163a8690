import { send } from '../runtime';
import { ActionContext, defineAction, defineConnector, definePollTrigger } from '../types';
import { anyObject, arr, bool, int, literal, logo, matches, obj, pageLocally, res, str } from './shared';

export const SALESFORCE_API_VERSION = 'v61.0';

const OBJECT = str('Object', { description: 'sObject API name, e.g. Lead or Invoice__c', pattern: '^[A-Za-z][A-Za-z0-9_]*$', 'x-options': 'objects' });

const createRecord = defineAction({
  name: 'Create record',
  description: 'Creates a record of any sObject (POST /sobjects/{object}).',
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      object: OBJECT,
      fields: anyObject({ title: 'Fields', description: 'Field API names to values', minProperties: 1, additionalProperties: true }),
    },
    ['object', 'fields'],
  ),
  output: res({ id: str('Record id'), success: bool() }, ['id', 'success']),
  async run(ctx, input) {
    const data = await send<{ id: string; success: boolean }>(ctx, {
      method: 'POST',
      path: `sobjects/${encodeURIComponent(input.object)}`,
      body: input.fields,
    });
    return { id: data.id, success: data.success };
  },
});

const updateRecord = defineAction({
  name: 'Update record',
  description: 'Updates fields of a record (PATCH /sobjects/{object}/{id}).',
  // PATCH setting the same fields again changes nothing.
  readOnly: false,
  retrySafe: true,
  input: obj(
    {
      object: OBJECT,
      id: str('Record id', { pattern: '^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$' }),
      fields: anyObject({ title: 'Fields', minProperties: 1, additionalProperties: true }),
    },
    ['object', 'id', 'fields'],
  ),
  output: res({ id: str('Record id'), updated: literal(true) }, ['id', 'updated']),
  async run(ctx, input) {
    await send(ctx, { method: 'PATCH', path: `sobjects/${encodeURIComponent(input.object)}/${encodeURIComponent(input.id)}`, body: input.fields });
    return { id: input.id, updated: true as const };
  },
});

interface QueryResult {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: Record<string, unknown>[];
}

const query = defineAction({
  name: 'Query (SOQL)',
  description: 'Runs a SOQL query and follows nextRecordsUrl up to max_records (GET /query).',
  readOnly: true,
  retrySafe: true,
  input: obj(
    {
      soql: str('SOQL', { minLength: 1, description: "e.g. SELECT Id, Name FROM Account WHERE Industry = 'Energy'" }),
      max_records: int('Max records', { minimum: 1, maximum: 50000, default: 2000 }),
    },
    ['soql'],
  ),
  output: res({ total_size: int('Total matching'), done: bool({ description: 'false when max_records cut the result' }), records: arr(anyObject()) }, [
    'total_size',
    'done',
    'records',
  ]),
  async run(ctx, input) {
    const max = input.max_records ?? 2000;
    let page = await send<QueryResult>(ctx, { method: 'GET', path: 'query', query: { q: input.soql } });
    const records = [...page.records];
    while (!page.done && page.nextRecordsUrl && records.length < max) {
      // nextRecordsUrl is a path from the instance root: /services/data/v61.0/query/01g…-2000
      page = await send<QueryResult>(ctx, { method: 'GET', base: 'instance', path: page.nextRecordsUrl });
      records.push(...page.records);
    }
    const truncated = records.length > max;
    return { total_size: page.totalSize, done: page.done && !truncated, records: records.slice(0, max) };
  },
});

// ---- Poll trigger: records by CreatedDate, Id (a keyset: CreatedDate has second precision)

/** Where the last poll stopped: the newest record's CreatedDate (as Salesforce wrote it) and Id. */
export interface RecordCursor {
  createdDate: string;
  id: string;
}

/** FIELDS(ALL) allows at most 200 rows; one more than the page says whether more remain. */
const MAX_POLL_RECORDS = 199;

/** A SOQL dateTime literal (unquoted, second precision) for a CreatedDate like 2026-01-05T10:00:00.000+0000. */
function soqlDateTime(value: string): string {
  return new Date(Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

async function soql(ctx: ActionContext, q: string): Promise<Record<string, unknown>[]> {
  return (await send<QueryResult>(ctx, { method: 'GET', path: 'query', query: { q } })).records;
}

const newRecord = definePollTrigger<RecordCursor>()({
  name: 'New record',
  description: 'A record of the chosen object is created (SOQL on CreatedDate, e.g. new leads).',
  intervalSeconds: 300,
  // API calls count against the org's daily limit.
  minIntervalSeconds: 60,
  input: obj({ object: { ...OBJECT, default: 'Lead' } }, ['object']),
  output: res({ Id: str('Record id'), CreatedDate: str('Created'), attributes: res({ type: str('Object'), url: str('API path') }) }, ['Id']),
  async poll(ctx, { input, cursor, limit }) {
    const object = input.object || 'Lead';
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(object)) throw new Error(`Not an sObject name: ${object}`);
    const size = Math.min(limit, MAX_POLL_RECORDS);
    const item = (r: Record<string, unknown>) => ({ id: String(r.Id), data: r });
    if (!cursor) {
      // At least the newest one, for the cursor, even when no item is wanted (limit 0).
      const newest = (await soql(ctx, `SELECT FIELDS(ALL) FROM ${object} ORDER BY CreatedDate DESC, Id DESC LIMIT ${Math.max(size, 1)}`)).reverse();
      const last = newest[newest.length - 1];
      return {
        items: newest.slice(newest.length - size).map(item),
        cursor: last ? { createdDate: String(last.CreatedDate), id: String(last.Id) } : { createdDate: '1970-01-01T00:00:00.000+0000', id: '' },
      };
    }
    const at = soqlDateTime(cursor.createdDate);
    const records = await soql(
      ctx,
      `SELECT FIELDS(ALL) FROM ${object} WHERE CreatedDate > ${at} OR (CreatedDate = ${at} AND Id > ${soqlString(cursor.id)}) ORDER BY CreatedDate, Id LIMIT ${size + 1}`,
    );
    const taken = records.slice(0, size);
    const last = taken[taken.length - 1];
    return { items: taken.map(item), cursor: last ? { createdDate: String(last.CreatedDate), id: String(last.Id) } : cursor, more: records.length > size };
  },
});

export const salesforceConnector = defineConnector({
  key: 'salesforce',
  name: 'Salesforce',
  description: 'Create, update and query records in Salesforce.',
  logo: logo('#00A1E0', '<path d="M16 42c-5 0-8-4-8-8s3-8 8-8c1-6 6-10 12-10 4 0 7 2 9 5 2-2 4-3 7-3 6 0 11 5 11 11s-5 13-11 13z" fill="#fff"/>'),
  categories: ['crm'],
  docsUrl: 'https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/intro_rest.htm',
  auth: {
    type: 'oauth2',
    authorizationUrl: 'https://login.salesforce.com/services/oauth2/authorize',
    tokenUrl: 'https://login.salesforce.com/services/oauth2/token',
    scopes: ['api', 'refresh_token', 'id'],
    scopeSeparator: ' ',
    pkce: true,
    clientAuthentication: 'client_secret_post',
    // The token response has no expires_in (session timeout is an org setting): refresh on 401.
    connectionConfigFromToken: { instance_url: 'instance_url', identity_url: 'id' },
    refreshable: true,
  },
  connectionConfig: {
    instance_url: { title: 'Instance URL', fromToken: true, pattern: '^https?://\\S+$', example: 'https://acme.my.salesforce.com' },
    identity_url: { title: 'Identity URL', fromToken: true, optional: true },
  },
  baseUrl: `{{instance_url}}/services/data/${SALESFORCE_API_VERSION}`,
  baseUrls: { instance: '{{instance_url}}' },
  pagination: { style: 'cursor', cursorParam: 'nextRecordsUrl', nextCursorPath: 'nextRecordsUrl' },
  // Limits are per org per 24 h (100k+ calls); concurrency of long requests is capped at 25.
  rateLimit: { requestsPerSecond: 25 },
  actions: { create_record: createRecord, update_record: updateRecord, query },
  triggers: { new_record: newRecord },
  options: {
    objects: {
      name: 'Objects',
      description: 'sObjects that can be created and queried',
      async run(ctx, { search, cursor }) {
        const data = await send<{ sobjects: { name: string; label: string; createable: boolean; queryable: boolean; custom: boolean }[] }>(ctx, {
          method: 'GET',
          path: 'sobjects',
        });
        const items = data.sobjects
          .filter((o) => o.createable && o.queryable && matches(search, o.name, o.label))
          .map((o) => ({ value: o.name, label: o.label, description: o.custom ? `${o.name} (custom)` : o.name }));
        return pageLocally(items, cursor);
      },
    },
  },
  async account(ctx) {
    const info = await send<{ user_id: string; organization_id: string; name: string; preferred_username: string; email?: string }>(ctx, {
      method: 'GET',
      base: 'instance',
      path: 'services/oauth2/userinfo',
    });
    return {
      id: `${info.organization_id}:${info.user_id}`,
      name: `${info.name} (${info.preferred_username})`,
      details: { organization_id: info.organization_id, instance_url: ctx.config.instance_url },
    };
  },
});
