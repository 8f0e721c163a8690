import { intParam, json, ProviderModule, Route, SandboxRequest, SandboxResponse } from '../core';

type Cell = string | number | boolean;

export interface Spreadsheet {
  id: string;
  name: string;
  modifiedTime: string;
  trashed: boolean;
  /** Sheet title → rows of cells. */
  sheets: { title: string; sheetId: number; rows: Cell[][] }[];
}

export interface GoogleState {
  spreadsheets: Spreadsheet[];
  /** Other Drive files (not spreadsheets), to check the mimeType filter. */
  otherFiles: { id: string; name: string; mimeType: string; modifiedTime: string }[];
  /** How many times tick() ran: names the next lead. */
  ticks: number;
}

const SHEET_MIME = 'application/vnd.google-apps.spreadsheet';

function gError(code: number, status: string, message: string): SandboxResponse {
  return json(code, { error: { code, message, status, errors: [{ message, domain: 'global', reason: status === 'NOT_FOUND' ? 'notFound' : 'badRequest' }] } });
}

function seed(): GoogleState {
  const spreadsheets: Spreadsheet[] = [];
  spreadsheets.push({
    id: '1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms',
    name: 'Leads 2026',
    modifiedTime: '2026-01-20T10:00:00.000Z',
    trashed: false,
    sheets: [
      {
        title: 'Sheet1',
        sheetId: 0,
        rows: [
          ['Name', 'Email', 'Amount'],
          ['Maria Johnson', 'maria@globex.test', 1200],
          ['Li Chen', 'li@initech.test', 800],
        ],
      },
      { title: 'Q3 Leads', sheetId: 1650000000, rows: [] },
    ],
  });
  spreadsheets.push({
    id: '1Sbx0BudgetPlan000000000000000000000000000',
    name: 'Budget plan',
    modifiedTime: '2026-01-19T10:00:00.000Z',
    trashed: false,
    sheets: [{ title: 'Sheet1', sheetId: 0, rows: [] }],
  });
  for (let i = 1; i <= 70; i++) {
    spreadsheets.push({
      id: `1Sbx${String(i).padStart(3, '0')}Report${'x'.repeat(30)}`,
      name: `Weekly report ${String(i).padStart(2, '0')}`,
      modifiedTime: new Date(Date.parse('2026-01-18T00:00:00Z') - i * 86400_000).toISOString(),
      trashed: i === 70,
      sheets: [{ title: 'Sheet1', sheetId: 0, rows: [] }],
    });
  }
  return {
    spreadsheets,
    otherFiles: [{ id: '1SbxDocLeadsNotes', name: 'Leads notes', mimeType: 'application/vnd.google-apps.document', modifiedTime: '2026-01-21T00:00:00.000Z' }],
    ticks: 0,
  };
}

/**
 * A churning demo sandbox stops adding rows here: deleting old rows would renumber the rest (and
 * make new_row's cursor skip some), as it would in Google Sheets.
 */
const MAX_TICK_ROWS = 20_000;

const TICK_LEADS: [string, string][] = [
  ['Ava Patel', 'initech.test'],
  ['Noah Kim', 'umbrella.test'],
  ['Mia Rossi', 'hooli.test'],
  ['Leo Schmidt', 'soylent.test'],
];

// ---- A1 notation ------------------------------------------------------------------------------

function colToIndex(col: string): number {
  let n = 0;
  for (const ch of col.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

function indexToCol(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

interface GridRange {
  sheet: Spreadsheet['sheets'][number];
  startRow: number;
  startCol: number;
  endRow: number | null;
  endCol: number | null;
}

function quoteSheet(title: string): string {
  return /^[A-Za-z0-9_]+$/.test(title) ? title : `'${title.replace(/'/g, "''")}'`;
}

export function a1(sheet: string, startRow: number, startCol: number, endRow: number, endCol: number): string {
  return `${quoteSheet(sheet)}!${indexToCol(startCol)}${startRow + 1}:${indexToCol(endCol)}${endRow + 1}`;
}

function parseRange(ss: Spreadsheet, range: string): GridRange | null {
  let sheetPart: string | undefined;
  let cells = range;
  const bang = range.lastIndexOf('!');
  if (bang >= 0) {
    sheetPart = range.slice(0, bang);
    cells = range.slice(bang + 1);
  } else if (ss.sheets.some((s) => s.title === range || `'${s.title}'` === range)) {
    sheetPart = range;
    cells = '';
  }
  if (sheetPart && /^'.*'$/.test(sheetPart)) sheetPart = sheetPart.slice(1, -1).replace(/''/g, "'");
  const sheet = sheetPart === undefined ? ss.sheets[0] : ss.sheets.find((s) => s.title === sheetPart);
  if (!sheet) return null;
  if (!cells) return { sheet, startRow: 0, startCol: 0, endRow: null, endCol: null };
  const m = /^([A-Za-z]*)(\d*)(?::([A-Za-z]*)(\d*))?$/.exec(cells);
  if (!m || (!m[1] && !m[2])) return null;
  const startCol = m[1] ? colToIndex(m[1]) : 0;
  const startRow = m[2] ? Number(m[2]) - 1 : 0;
  if (m[3] === undefined && m[4] === undefined) {
    return { sheet, startRow, startCol, endRow: m[2] ? startRow : null, endCol: m[1] ? startCol : null };
  }
  return { sheet, startRow, startCol, endRow: m[4] ? Number(m[4]) - 1 : null, endCol: m[3] ? colToIndex(m[3]) : null };
}

function coerce(value: unknown, userEntered: boolean): Cell {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  const s = String(value);
  if (userEntered && /^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  if (userEntered && /^(TRUE|FALSE)$/i.test(s)) return s.toUpperCase() === 'TRUE';
  return s;
}

function findSpreadsheet(state: GoogleState, req: SandboxRequest): Spreadsheet | undefined {
  return state.spreadsheets.find((s) => s.id === req.params.id && !s.trashed);
}

function values(req: SandboxRequest, ctx: { state: GoogleState; now(): number }): SandboxResponse {
  const ss = findSpreadsheet(ctx.state, req);
  if (!ss) return gError(404, 'NOT_FOUND', 'Requested entity was not found.');
  let rangeText = req.params.range!;
  const append = req.method === 'POST' && rangeText.endsWith(':append');
  if (append) rangeText = rangeText.slice(0, -':append'.length);
  const range = parseRange(ss, rangeText);
  if (!range) return gError(400, 'INVALID_ARGUMENT', `Unable to parse range: ${rangeText}`);
  const rows = range.sheet.rows;

  if (req.method === 'GET') {
    const endRow = Math.min(range.endRow ?? rows.length - 1, rows.length - 1);
    const out: Cell[][] = [];
    let maxCol = range.startCol;
    for (let r = range.startRow; r <= endRow; r++) {
      const row = rows[r] ?? [];
      const endCol = Math.min(range.endCol ?? row.length - 1, row.length - 1);
      const cells = row.slice(range.startCol, endCol + 1);
      while (cells.length && cells[cells.length - 1] === '') cells.pop();
      out.push(req.query.get('valueRenderOption') === 'UNFORMATTED_VALUE' ? cells : cells.map((c) => (typeof c === 'boolean' ? (c ? 'TRUE' : 'FALSE') : String(c))));
      maxCol = Math.max(maxCol, range.startCol + cells.length - 1);
    }
    while (out.length && out[out.length - 1]!.length === 0) out.pop();
    const reportedEndRow = range.endRow ?? range.startRow + Math.max(out.length, 1) - 1;
    const reportedEndCol = range.endCol ?? maxCol;
    const body: Record<string, unknown> = { range: a1(range.sheet.title, range.startRow, range.startCol, reportedEndRow, reportedEndCol), majorDimension: 'ROWS' };
    if (out.length) body.values = out;
    return json(200, body);
  }

  if (append) {
    const option = req.query.get('valueInputOption');
    if (option !== 'RAW' && option !== 'USER_ENTERED') return gError(400, 'INVALID_ARGUMENT', 'Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED');
    const input = (req.body as { values?: unknown[][] } | undefined)?.values;
    if (!Array.isArray(input) || !input.every(Array.isArray))
      return gError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unknown name "values": expected a list of lists.');
    // The table: the contiguous block of non-empty rows starting at the range's first row.
    let last = range.startRow - 1;
    for (let r = range.startRow; r < rows.length; r++) {
      const row = rows[r] ?? [];
      if (row.slice(range.startCol).some((c) => c !== '')) last = r;
      else if (r > last + 1) break;
    }
    const tableWidth = Math.max(1, ...rows.slice(range.startRow, last + 1).map((r) => r.length - range.startCol));
    const at = last + 1;
    const written = input.map((r) => r.map((v) => coerce(v, option === 'USER_ENTERED')));
    written.forEach((cells, i) => {
      const row: Cell[] = [];
      for (let c = 0; c < range.startCol; c++) row.push('');
      row.push(...cells);
      rows.splice(at + i, 0, row);
    });
    const width = Math.max(...written.map((r) => r.length), 1);
    ss.modifiedTime = new Date(ctx.now()).toISOString();
    const body: Record<string, unknown> = {
      spreadsheetId: ss.id,
      updates: {
        spreadsheetId: ss.id,
        updatedRange: a1(range.sheet.title, at, range.startCol, at + written.length - 1, range.startCol + width - 1),
        updatedRows: written.length,
        updatedColumns: width,
        updatedCells: written.reduce((n, r) => n + r.length, 0),
      },
    };
    if (last >= range.startRow) body.tableRange = a1(range.sheet.title, range.startRow, range.startCol, last, range.startCol + tableWidth - 1);
    return json(200, body);
  }
  return gError(400, 'INVALID_ARGUMENT', 'Unsupported');
}

/** Drive `q`: the subset the connector uses (mimeType =, name contains, trashed =, joined by and). */
function driveFilter(q: string): ((f: { name: string; mimeType: string; trashed: boolean }) => boolean) | null {
  const clauses: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < q.length; i++) {
    const ch = q[i]!;
    if (quoted && ch === '\\') {
      current += ch + (q[i + 1] ?? '');
      i++;
      continue;
    }
    if (ch === "'") quoted = !quoted;
    if (!quoted && /^\s+and\s+/i.test(q.slice(i)) && /^\s/.test(ch)) {
      const m = /^\s+and\s+/i.exec(q.slice(i))!;
      clauses.push(current);
      current = '';
      i += m[0].length - 1;
      continue;
    }
    current += ch;
  }
  if (current.trim()) clauses.push(current);
  const tests: ((f: { name: string; mimeType: string; trashed: boolean }) => boolean)[] = [];
  for (const clause of clauses) {
    let m: RegExpExecArray | null;
    if ((m = /^\s*mimeType\s*(=|!=)\s*'((?:[^'\\]|\\.)*)'\s*$/.exec(clause))) {
      const [op, v] = [m[1], m[2]!.replace(/\\(.)/g, '$1')];
      tests.push((f) => (op === '=' ? f.mimeType === v : f.mimeType !== v));
    } else if ((m = /^\s*name\s+contains\s+'((?:[^'\\]|\\.)*)'\s*$/.exec(clause))) {
      const v = m[1]!.replace(/\\(.)/g, '$1').toLowerCase();
      tests.push((f) => f.name.toLowerCase().includes(v));
    } else if ((m = /^\s*trashed\s*=\s*(true|false)\s*$/.exec(clause))) {
      const v = m[1] === 'true';
      tests.push((f) => f.trashed === v);
    } else return null;
  }
  return (f) => tests.every((t) => t(f));
}

/** GET /oauth2/v3/userinfo (OpenID): how the Google connectors name the account (every Google fake serves it). */
export const userinfoRoute: Route = {
  method: 'GET',
  path: '/oauth2/v3/userinfo',
  handler(req, ctx) {
    const a = ctx.authorize(req);
    if ('error' in a) return json(401, { error: 'invalid_request', error_description: 'Invalid Credentials' });
    const [given, family] = a.account.name!.split(' ');
    return json(200, {
      sub: a.account.id,
      name: a.account.name,
      given_name: given,
      family_name: family,
      picture: `https://lh3.googleusercontent.com/a/sandbox-${a.account.id}`,
      email: a.account.email,
      email_verified: true,
      hd: a.account.hd,
    });
  },
};

export const googleSheetsSandbox: ProviderModule<GoogleState> = {
  key: 'google-sheets',
  displayName: 'Google',
  accounts: [
    { id: '109876543210987654321', name: 'Jane Cooper', email: 'jane@acme.test', hd: 'acme.test' },
    { id: '101112131415161718192', name: 'Hank Scorpio', email: 'hank@globex.test', hd: 'globex.test' },
  ],
  tokenPrefix: { access: 'ya29.a0Sandbox', refresh: '1//0gSandbox' },
  oauth: {
    authorizePath: '/o/oauth2/v2/auth',
    tokenPath: '/token',
    defaultTtlSeconds: 3599,
    tokenError(kind, description) {
      if (kind === 'invalid_client') return json(401, { error: 'invalid_client', error_description: 'Unauthorized' });
      if (kind === 'invalid_refresh_token') return json(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
      if (kind === 'invalid_code')
        return json(400, {
          error: 'invalid_grant',
          error_description: description.includes('verifier') || description.includes('PKCE') ? 'Missing code verifier.' : 'Bad Request',
        });
      if (kind === 'redirect_uri_mismatch') return json(400, { error: 'redirect_uri_mismatch', error_description: 'Bad Request' });
      if (kind === 'unsupported_grant_type') return json(400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type: ' });
      return json(400, { error: 'invalid_request', error_description: description });
    },
    tokenResponse(issued) {
      return {
        access_token: issued.accessToken,
        expires_in: Number.isFinite(issued.expiresIn) ? issued.expiresIn : undefined,
        // Google sends a refresh token on the code exchange (offline access) and, on refresh, only
        // when rotating; the sandbox always rotates.
        refresh_token: issued.refreshToken,
        scope: issued.scope.join(' '),
        token_type: 'Bearer',
        refresh_token_expires_in: undefined,
      };
    },
  },
  authError(reason) {
    if (reason === 'missing')
      return gError(
        401,
        'UNAUTHENTICATED',
        'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
      );
    return {
      ...gError(
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
      ),
      headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
    };
  },
  seed,
  /** A lead is typed in below the others in "Leads 2026". */
  tick(ctx) {
    const n = ctx.state.ticks ?? 0; // absent in state files written before ticks existed
    ctx.state.ticks = n + 1;
    const leads = ctx.state.spreadsheets[0]!;
    if (leads.sheets[0]!.rows.length >= MAX_TICK_ROWS) return;
    const [name, domain] = TICK_LEADS[n % TICK_LEADS.length]!;
    leads.sheets[0]!.rows.push([`${name} ${n + 1}`, `${name.split(' ')[0]!.toLowerCase()}${n + 1}@${domain}`, 500 + (n % 6) * 250]);
    leads.modifiedTime = new Date(ctx.now()).toISOString();
  },
  routes: [
    userinfoRoute,
    {
      method: 'GET',
      path: /^\/v4\/spreadsheets\/(?<id>[^/]+)\/values\/(?<range>[^/]+)$/,
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        return values(req, ctx);
      },
    },
    {
      method: 'POST',
      path: /^\/v4\/spreadsheets\/(?<id>[^/]+)\/values\/(?<range>[^/]+)$/,
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        return values(req, ctx);
      },
    },
    {
      method: 'GET',
      path: '/v4/spreadsheets/:id',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const ss = findSpreadsheet(ctx.state, req);
        if (!ss) return gError(404, 'NOT_FOUND', 'Requested entity was not found.');
        return json(200, {
          spreadsheetId: ss.id,
          properties: { title: ss.name, locale: 'en_US', timeZone: 'Europe/Berlin' },
          sheets: ss.sheets.map((s, i) => ({
            properties: { sheetId: s.sheetId, title: s.title, index: i, sheetType: 'GRID', gridProperties: { rowCount: 1000, columnCount: 26 } },
          })),
          spreadsheetUrl: `https://docs.google.com/spreadsheets/d/${ss.id}/edit`,
        });
      },
    },
    {
      method: 'GET',
      path: '/drive/v3/files',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const q = req.query.get('q') ?? '';
        const filter = q ? driveFilter(q) : () => true;
        if (!filter) return gError(400, 'INVALID_ARGUMENT', 'Invalid Value');
        const pageSize = intParam(req.query.get('pageSize'), 100, 1, 1000);
        const token = req.query.get('pageToken');
        let start = 0;
        if (token) {
          const m = /^sbx~(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
          if (!m) return gError(400, 'INVALID_ARGUMENT', 'Invalid Value');
          start = Number(m[1]);
        }
        const files = [
          ...ctx.state.spreadsheets.map((s) => ({ id: s.id, name: s.name, mimeType: SHEET_MIME, modifiedTime: s.modifiedTime, trashed: s.trashed })),
          ...ctx.state.otherFiles.map((f) => ({ ...f, trashed: false })),
        ]
          .filter(filter)
          .sort((x, y) => y.modifiedTime.localeCompare(x.modifiedTime));
        const slice = files.slice(start, start + pageSize).map(({ trashed: _t, ...f }) => ({ kind: 'drive#file', ...f }));
        const body: Record<string, unknown> = { kind: 'drive#fileList', incompleteSearch: false, files: slice };
        if (start + pageSize < files.length) body.nextPageToken = Buffer.from(`sbx~${start + pageSize}`).toString('base64url');
        return json(200, body);
      },
    },
  ],
};
