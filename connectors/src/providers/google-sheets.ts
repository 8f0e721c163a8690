import type { Static } from '@sinclair/typebox';
import { send } from '../runtime';
import { ActionContext, defineAction, defineConnector, definePollTrigger } from '../types';
import { arr, bool, dict, int, logo, obj, oneOf, res, str, types } from './shared';

const SPREADSHEET = str('Spreadsheet', { description: 'Spreadsheet id (from its URL)', pattern: '^[A-Za-z0-9_-]+$', 'x-options': 'spreadsheets' });
const CELL = types(['string', 'number', 'boolean', 'null']);

function valuesPath(spreadsheetId: string, range: string, suffix = ''): string {
  return `spreadsheets/${encodeURIComponent(spreadsheetId)}/values/${encodeURIComponent(range)}${suffix}`;
}

const appendRow = defineAction({
  name: 'Append row',
  description: 'Appends a row after the last row of the table found in the range (values.append, INSERT_ROWS).',
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      spreadsheet_id: SPREADSHEET,
      range: str('Sheet or range', { description: "A1 notation of the table, e.g. Sheet1 or 'Q3 Leads'!A:F", default: 'Sheet1' }),
      values: arr(CELL, { title: 'Cells', minItems: 1, maxItems: 1000 }),
      value_input_option: oneOf({
        enum: ['USER_ENTERED', 'RAW'],
        default: 'USER_ENTERED',
        title: 'Interpret values',
        description: 'USER_ENTERED parses numbers, dates and formulas like the UI',
      }),
    },
    ['spreadsheet_id', 'values'],
  ),
  output: res({ updated_range: str('Written range'), updated_rows: int('Rows written'), table_range: str('Table range') }, ['updated_range', 'updated_rows']),
  async run(ctx, input) {
    const data = await send<{ tableRange?: string; updates: { updatedRange: string; updatedRows: number } }>(ctx, {
      method: 'POST',
      path: valuesPath(input.spreadsheet_id, input.range ?? 'Sheet1', ':append'),
      query: { valueInputOption: input.value_input_option ?? 'USER_ENTERED', insertDataOption: 'INSERT_ROWS', includeValuesInResponse: false },
      body: { majorDimension: 'ROWS', values: [input.values] },
    });
    const out = { updated_range: data.updates.updatedRange, updated_rows: data.updates.updatedRows };
    return data.tableRange ? { ...out, table_range: data.tableRange } : out;
  },
});

const readRange = defineAction({
  name: 'Read range',
  description: 'Reads the cells of a range, row by row (values.get).',
  readOnly: true,
  retrySafe: true,
  input: obj(
    {
      spreadsheet_id: SPREADSHEET,
      range: str('Range', { description: 'A1 notation, e.g. Sheet1!A1:D50', minLength: 1 }),
      value_render_option: oneOf({ enum: ['FORMATTED_VALUE', 'UNFORMATTED_VALUE', 'FORMULA'], default: 'FORMATTED_VALUE', title: 'Render values as' }),
    },
    ['spreadsheet_id', 'range'],
  ),
  output: res({ range: str('Range'), values: arr(arr(CELL)) }, ['range', 'values']),
  async run(ctx, input) {
    const data = await send<{ range: string; values?: Static<typeof CELL>[][] }>(ctx, {
      method: 'GET',
      path: valuesPath(input.spreadsheet_id, input.range),
      query: { majorDimension: 'ROWS', valueRenderOption: input.value_render_option ?? 'FORMATTED_VALUE' },
    });
    // The API leaves `values` out when the range is empty.
    return { range: data.range, values: data.values ?? [] };
  },
});

// ---- Poll trigger: rows appended below the last row seen

/** A sheet name in A1 notation: quoted unless plain letters, digits and underscores. */
function quoteSheet(title: string): string {
  return /^[A-Za-z0-9_]+$/.test(title) ? title : `'${title.replace(/'/g, "''")}'`;
}

async function readRows(ctx: ActionContext, spreadsheetId: string, range: string): Promise<unknown[][]> {
  const data = await send<{ values?: unknown[][] }>(ctx, {
    method: 'GET',
    path: valuesPath(spreadsheetId, range),
    query: { majorDimension: 'ROWS', valueRenderOption: 'FORMATTED_VALUE' },
  });
  return data.values ?? [];
}

type Row = { row: number; values: unknown[]; fields?: Record<string, unknown> };

const newRow = definePollTrigger<number>()({
  name: 'New row',
  description: 'A row is added at the bottom of a sheet (values.get below the last row seen). Rows typed into gaps above it are not seen.',
  intervalSeconds: 300,
  // 60 reads a minute per user.
  minIntervalSeconds: 60,
  input: obj(
    {
      spreadsheet_id: SPREADSHEET,
      sheet: str('Sheet', { description: 'The tab name', default: 'Sheet1', minLength: 1 }),
      header_row: bool('First row is a header', { description: 'Names the columns: each item gets `fields` by header', default: true }),
    },
    ['spreadsheet_id'],
  ),
  output: res({ row: int('Row number'), values: arr(CELL), fields: dict(CELL, { description: 'Cells by header name' }) }, ['row', 'values']),
  async poll(ctx, { input, cursor, limit }) {
    const sheet = quoteSheet(input.sheet ?? 'Sheet1');
    const header = input.header_row ?? true;
    const firstDataRow = header ? 2 : 1;
    let headers: unknown[] = [];
    let rows: Row[];
    let last: number;
    let more = false;
    if (cursor === null) {
      // The whole sheet: how many rows it has is only known by reading them.
      const all = await readRows(ctx, input.spreadsheet_id, sheet);
      headers = header ? (all[0] ?? []) : [];
      last = all.length;
      const from = Math.max(firstDataRow, last - limit + 1);
      rows = all.slice(from - 1).map((values, i) => ({ row: from + i, values }));
    } else {
      // One row more than asked says whether more remain.
      const from = Math.max(cursor + 1, firstDataRow);
      const values = await readRows(ctx, input.spreadsheet_id, `${sheet}!${from}:${from + limit}`);
      more = values.length > limit;
      const taken = values.slice(0, limit);
      rows = taken.map((v, i) => ({ row: from + i, values: v }));
      last = taken.length ? from + taken.length - 1 : cursor;
      if (header && rows.some((r) => r.values.length)) headers = (await readRows(ctx, input.spreadsheet_id, `${sheet}!1:1`))[0] ?? [];
    }
    const items = rows
      .filter((r) => r.values.some((v) => v !== ''))
      .map((r) => {
        const data: Row = { row: r.row, values: r.values };
        if (header) data.fields = Object.fromEntries(headers.map((h, i) => [String(h || `Column ${i + 1}`), r.values[i] ?? '']));
        return { id: String(r.row), data: data as unknown as Record<string, unknown> };
      });
    return { items, cursor: last, more };
  },
});

export const googleSheetsConnector = defineConnector({
  key: 'google-sheets',
  name: 'Google Sheets',
  description: 'Append rows to and read ranges from Google Sheets spreadsheets.',
  logo: logo('#0F9D58', '<rect x="16" y="12" width="32" height="40" rx="3" fill="#fff"/><path d="M21 24h22M21 32h22M21 40h22M32 20v28" stroke="#0F9D58" stroke-width="3"/>'),
  categories: ['spreadsheets', 'productivity'],
  docsUrl: 'https://developers.google.com/workspace/sheets/api/reference/rest',
  auth: {
    type: 'oauth2',
    authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    scopes: [
      'https://www.googleapis.com/auth/spreadsheets',
      'https://www.googleapis.com/auth/drive.metadata.readonly',
      'https://www.googleapis.com/auth/userinfo.email',
      'https://www.googleapis.com/auth/userinfo.profile',
    ],
    scopeSeparator: ' ',
    pkce: true,
    // offline → a refresh token; consent → a refresh token again on reconnect.
    authorizationParams: { access_type: 'offline', prompt: 'consent', include_granted_scopes: 'true' },
    clientAuthentication: 'client_secret_post',
    refreshable: true,
  },
  baseUrl: 'https://sheets.googleapis.com/v4',
  baseUrls: { drive: 'https://www.googleapis.com/drive/v3', oauth2: 'https://www.googleapis.com/oauth2/v3' },
  pagination: { style: 'cursor', cursorParam: 'pageToken', nextCursorPath: 'nextPageToken', limitParam: 'pageSize' },
  // 60 read and 60 write requests per minute per user.
  rateLimit: { requestsPerSecond: 1 },
  actions: { append_row: appendRow, read_range: readRange },
  triggers: { new_row: newRow },
  options: {
    spreadsheets: {
      name: 'Spreadsheets',
      description: 'Spreadsheets in Drive, most recently modified first',
      async run(ctx, { search, cursor }) {
        let q = "mimeType='application/vnd.google-apps.spreadsheet' and trashed=false";
        if (search) q += ` and name contains '${search.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
        const data = await send<{ files: { id: string; name: string; modifiedTime?: string }[]; nextPageToken?: string }>(ctx, {
          method: 'GET',
          base: 'drive',
          path: 'files',
          query: { q, pageSize: 50, pageToken: cursor, orderBy: 'modifiedTime desc', fields: 'nextPageToken,files(id,name,modifiedTime)', spaces: 'drive' },
        });
        const options = data.files.map((f) => ({ value: f.id, label: f.name, description: f.modifiedTime ? `Modified ${f.modifiedTime.slice(0, 10)}` : undefined }));
        return data.nextPageToken ? { options, nextCursor: data.nextPageToken } : { options };
      },
    },
  },
  async account(ctx) {
    const me = await send<{ sub: string; name?: string; email?: string }>(ctx, { method: 'GET', base: 'oauth2', path: 'userinfo' });
    return { id: me.sub, name: me.name && me.email ? `${me.name} (${me.email})` : (me.email ?? me.name ?? me.sub), details: { email: me.email } };
  },
});
