import { randomUUID } from 'node:crypto';
import { intParam, isoNow, json, ProviderModule, SandboxResponse } from '../core';

export interface NotionDatabase {
  id: string;
  title: string;
  properties: Record<string, { id: string; type: string; [k: string]: unknown }>;
  created_time: string;
  last_edited_time: string;
}

export interface NotionPage {
  id: string;
  parent: { type: 'database_id'; database_id: string } | { type: 'page_id'; page_id: string } | { type: 'workspace'; workspace: true };
  properties: Record<string, any>;
  children: unknown[];
  created_time: string;
  last_edited_time: string;
  archived: boolean;
}

export interface NotionState {
  databases: NotionDatabase[];
  pages: NotionPage[];
  /** How many times tick() ran: names the next task. */
  ticks: number;
}

const VERSIONS = ['2021-05-13', '2021-08-16', '2022-02-22', '2022-06-28', '2025-09-03'];

function nError(status: number, code: string, message: string): SandboxResponse {
  return json(status, { object: 'error', status, code, message, request_id: randomUUID() });
}

function rich(content: string) {
  return [
    {
      type: 'text',
      text: { content, link: null },
      annotations: { bold: false, italic: false, strikethrough: false, underline: false, code: false, color: 'default' },
      plain_text: content,
      href: null,
    },
  ];
}

function plain(value: unknown): string {
  return Array.isArray(value) ? value.map((r: { plain_text?: string; text?: { content?: string } }) => r.plain_text ?? r.text?.content ?? '').join('') : '';
}

function dashed(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function normId(id: string): string {
  const hex = id.replace(/-/g, '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(hex) ? dashed(hex) : id;
}

function seed(): NotionState {
  const t = '2026-01-12T09:00:00.000Z';
  const db = (hex: string, title: string, props: NotionDatabase['properties']): NotionDatabase => ({
    id: dashed(hex),
    title,
    properties: props,
    created_time: t,
    last_edited_time: t,
  });
  const databases = [
    db('8e2c4a6b1d3f4e5a9b7c0d1e2f3a4b5c', 'Tasks', {
      Task: { id: 'title', type: 'title', name: 'Task', title: {} },
      Done: { id: 'a%3Ab', type: 'checkbox', name: 'Done', checkbox: {} },
      Priority: { id: 'c%3Ad', type: 'select', name: 'Priority', select: { options: [{ name: 'High' }, { name: 'Low' }] } },
      Estimate: { id: 'e%3Af', type: 'number', name: 'Estimate', number: { format: 'number' } },
      Notes: { id: 'g%3Ah', type: 'rich_text', name: 'Notes', rich_text: {} },
    }),
    db('1a2b3c4d5e6f40718293a4b5c6d7e8f9', 'Customer feedback', {
      Name: { id: 'title', type: 'title', name: 'Name', title: {} },
      Score: { id: 'x1', type: 'number', name: 'Score', number: { format: 'number' } },
    }),
  ];
  for (let i = 0; i < 60; i++) {
    databases.push(
      db(`${(0xd0000000 + i).toString(16)}0000400080000000000000${String(i).padStart(2, '0')}`.slice(0, 32), `Project log ${String(i + 1).padStart(2, '0')}`, {
        Name: { id: 'title', type: 'title', name: 'Name', title: {} },
      }),
    );
  }
  const pages: NotionPage[] = [];
  const tasks = databases[0]!.id;
  const task = (title: string, done: boolean, priority: string, estimate: number) =>
    pages.push({
      id: randomUUID(),
      parent: { type: 'database_id', database_id: tasks },
      properties: {
        Task: { id: 'title', type: 'title', title: rich(title) },
        Done: { id: 'a%3Ab', type: 'checkbox', checkbox: done },
        Priority: { id: 'c%3Ad', type: 'select', select: { id: priority, name: priority, color: 'default' } },
        Estimate: { id: 'e%3Af', type: 'number', number: estimate },
        Notes: { id: 'g%3Ah', type: 'rich_text', rich_text: [] },
      },
      children: [],
      created_time: t,
      last_edited_time: t,
      archived: false,
    });
  task('Write onboarding guide', false, 'High', 3);
  task('Fix invoice rounding', true, 'High', 1);
  task('Plan offsite', false, 'Low', 5);
  return { databases, pages, ticks: 0 };
}

/** Notion rounds created_time and last_edited_time down to the minute. */
function notionTime(ms: number): string {
  return isoNow(Math.floor(ms / 60_000) * 60_000);
}

const TIMESTAMP_CONDITIONS = ['equals', 'before', 'after', 'on_or_before', 'on_or_after', 'is_empty', 'is_not_empty'];

/** A timestamp filter: { timestamp: 'created_time', created_time: { on_or_after: '…' } }. */
function matchTimestamp(page: NotionPage, f: Filter): boolean | string {
  const kind = f.timestamp as string;
  if (kind !== 'created_time' && kind !== 'last_edited_time')
    return `body failed validation: body.filter.timestamp should be "created_time" or "last_edited_time", instead was ${JSON.stringify(kind)}.`;
  const condition = (f[kind] ?? {}) as Record<string, unknown>;
  const [op, raw] = Object.entries(condition)[0] ?? [];
  if (!op || !TIMESTAMP_CONDITIONS.includes(op)) return `body failed validation: body.filter.${kind} should be an object with one of ${TIMESTAMP_CONDITIONS.join(', ')}.`;
  const actual = Date.parse(page[kind]);
  if (op === 'is_empty') return false;
  if (op === 'is_not_empty') return true;
  const wanted = Date.parse(String(raw));
  if (Number.isNaN(wanted)) return `body failed validation: body.filter.${kind}.${op} should be a valid ISO 8601 date string, instead was ${JSON.stringify(raw)}.`;
  // A date without a time means that whole day (UTC).
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(String(raw));
  const dayEnd = wanted + (dateOnly ? 86_400_000 : 0);
  switch (op) {
    case 'equals':
      return dateOnly ? actual >= wanted && actual < dayEnd : actual === wanted;
    case 'before':
      return actual < wanted;
    case 'after':
      return dateOnly ? actual >= dayEnd : actual > wanted;
    case 'on_or_before':
      return dateOnly ? actual < dayEnd : actual <= wanted;
    default:
      return actual >= wanted;
  }
}

/** Sorts by timestamps and properties, in order; ties keep the database's order. */
function sortPages(pages: NotionPage[], sorts: unknown[]): NotionPage[] | string {
  const keys: { get: (p: NotionPage) => string | number; dir: number }[] = [];
  for (const sort of sorts as Record<string, any>[]) {
    const dir = sort?.direction === 'descending' ? -1 : 1;
    if (sort?.timestamp === 'created_time' || sort?.timestamp === 'last_edited_time') {
      const kind = sort.timestamp as 'created_time' | 'last_edited_time';
      keys.push({ get: (p) => p[kind], dir });
    } else if (typeof sort?.property === 'string') {
      const name = sort.property;
      keys.push({
        get: (p) => {
          const v = p.properties[name];
          if (v?.type === 'number') return v.number ?? '';
          if (v?.type === 'select') return v.select?.name ?? '';
          if (v?.type === 'checkbox') return v.checkbox ? 1 : 0;
          return plain(v?.[v?.type]);
        },
        dir,
      });
    } else return 'body failed validation: body.sorts[0] should be an object with property or timestamp.';
  }
  return [...pages].sort((x, y) => {
    for (const k of keys) {
      const [a, b] = [k.get(x), k.get(y)];
      if (a !== b) return (a < b ? -1 : 1) * k.dir;
    }
    return 0;
  });
}

/** A churning demo sandbox keeps this many pages, dropping the oldest. */
const MAX_PAGES = 5000;

const TICK_TASKS = ['Call back Initech', 'Review Q3 budget', 'Update the pricing page', 'Prepare the board deck', 'Renew the SSL certificate'];

function databaseJson(d: NotionDatabase) {
  return {
    object: 'database',
    id: d.id,
    cover: null,
    icon: null,
    created_time: d.created_time,
    created_by: { object: 'user', id: 'c2f20311-9e54-4d11-8c79-7398424ae41e' },
    last_edited_by: { object: 'user', id: 'c2f20311-9e54-4d11-8c79-7398424ae41e' },
    last_edited_time: d.last_edited_time,
    title: rich(d.title),
    description: [],
    is_inline: false,
    properties: d.properties,
    parent: { type: 'workspace', workspace: true },
    url: `https://www.notion.so/${d.id.replace(/-/g, '')}`,
    public_url: null,
    archived: false,
    in_trash: false,
  };
}

function pageJson(p: NotionPage, db?: NotionDatabase) {
  const properties: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(p.properties)) properties[name] = v;
  const title = plain(Object.values(p.properties).find((v) => v?.type === 'title')?.title);
  return {
    object: 'page',
    id: p.id,
    created_time: p.created_time,
    last_edited_time: p.last_edited_time,
    created_by: { object: 'user', id: 'c2f20311-9e54-4d11-8c79-7398424ae41e' },
    last_edited_by: { object: 'user', id: 'c2f20311-9e54-4d11-8c79-7398424ae41e' },
    cover: null,
    icon: null,
    parent: p.parent,
    archived: p.archived,
    in_trash: p.archived,
    properties,
    url: `https://www.notion.so/${title.replace(/[^A-Za-z0-9]+/g, '-')}-${p.id.replace(/-/g, '')}`,
    public_url: null,
    ...(db ? {} : {}),
  };
}

type Filter = Record<string, any>;

function matchFilter(page: NotionPage, f: Filter, db: NotionDatabase): boolean | string {
  if (Array.isArray(f.and)) {
    const r = f.and.map((x: Filter) => matchFilter(page, x, db));
    const bad = r.find((x: unknown) => typeof x === 'string');
    return bad ?? r.every(Boolean);
  }
  if (Array.isArray(f.or)) {
    const r = f.or.map((x: Filter) => matchFilter(page, x, db));
    const bad = r.find((x: unknown) => typeof x === 'string');
    return bad ?? r.some(Boolean);
  }
  if (f.timestamp !== undefined) return matchTimestamp(page, f);
  const name = f.property as string;
  const schema = db.properties[name];
  if (!schema) return `Could not find property with name or id: ${name}`;
  const value = page.properties[name];
  for (const kind of ['title', 'rich_text']) {
    if (f[kind]) {
      const text = plain(value?.[kind]).toLowerCase();
      const c = f[kind];
      if (c.equals !== undefined) return text === String(c.equals).toLowerCase();
      if (c.contains !== undefined) return text.includes(String(c.contains).toLowerCase());
      if (c.is_empty) return text === '';
      if (c.is_not_empty) return text !== '';
      return 'Unsupported text filter condition';
    }
  }
  if (f.checkbox) return Boolean(value?.checkbox) === Boolean(f.checkbox.equals);
  if (f.number) {
    const n = value?.number as number | null;
    const c = f.number;
    if (c.equals !== undefined) return n === c.equals;
    if (c.greater_than !== undefined) return n !== null && n > c.greater_than;
    if (c.less_than !== undefined) return n !== null && n < c.less_than;
    return 'Unsupported number filter condition';
  }
  if (f.select) return (value?.select?.name ?? null) === (f.select.equals ?? null);
  return `body failed validation: unsupported filter for property ${name}`;
}

function paginate<T>(items: T[], body: Record<string, unknown>): { results: T[]; next_cursor: string | null; has_more: boolean } {
  const size = intParam(body.page_size, 100, 1, 100);
  const start = typeof body.start_cursor === 'string' ? Number(Buffer.from(body.start_cursor, 'base64url').toString('utf8').replace(/^sbx:/, '')) || 0 : 0;
  const results = items.slice(start, start + size);
  const more = start + size < items.length;
  return { results, next_cursor: more ? Buffer.from(`sbx:${start + size}`).toString('base64url') : null, has_more: more };
}

export const notionSandbox: ProviderModule<NotionState> = {
  key: 'notion',
  displayName: 'Notion',
  accounts: [
    {
      id: '0d9a7f2c-3b1e-4f5a-8c6d-2e4f6a8b0c1d',
      name: 'Jane Cooper',
      email: 'jane@acme.test',
      workspace: 'Acme HQ',
      workspace_id: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
      user_id: 'c2f20311-9e54-4d11-8c79-7398424ae41e',
    },
    {
      id: '7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918',
      name: 'Hank Scorpio',
      email: 'hank@globex.test',
      workspace: 'Globex',
      workspace_id: 'f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9',
      user_id: '5b4a3928-1706-4f5e-8d7c-6b5a49382716',
    },
  ],
  tokenPrefix: { access: 'ntn_sandbox', refresh: 'nrt_sandbox' },
  oauth: {
    authorizePath: '/v1/oauth/authorize',
    tokenPath: '/v1/oauth/token',
    requireBasicClientAuth: true,
    sendsExpiresIn: false,
    defaultTtlSeconds: 3600,
    tokenError(kind, description) {
      const error = {
        invalid_code: 'invalid_grant',
        invalid_refresh_token: 'invalid_grant',
        invalid_client: 'invalid_client',
        redirect_uri_mismatch: 'invalid_grant',
        invalid_request: 'invalid_request',
        unsupported_grant_type: 'unsupported_grant_type',
      }[kind];
      return json(kind === 'invalid_client' ? 401 : 400, { error, error_description: description, request_id: randomUUID() });
    },
    tokenResponse(issued, account) {
      return {
        access_token: issued.accessToken,
        token_type: 'bearer',
        refresh_token: issued.refreshToken,
        bot_id: account.id,
        workspace_name: account.workspace,
        workspace_icon: null,
        workspace_id: account.workspace_id,
        owner: { type: 'user', user: { object: 'user', id: account.user_id, name: account.name, avatar_url: null, type: 'person', person: { email: account.email } } },
        duplicated_template_id: null,
        request_id: randomUUID(),
      };
    },
  },
  authError(reason) {
    return nError(401, 'unauthorized', reason === 'missing' ? 'API token is invalid.' : 'API token is invalid.');
  },
  precheck(req) {
    const version = req.headers['notion-version'];
    if (!version) return nError(400, 'missing_version', 'Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.');
    if (!VERSIONS.includes(version)) return nError(400, 'validation_error', `Notion-Version header failed validation: ${version} is not a valid version.`);
    return undefined;
  },
  seed,
  /** Someone adds a task to the Tasks database. */
  tick(ctx) {
    const n = ctx.state.ticks ?? 0; // absent in state files written before ticks existed
    ctx.state.ticks = n + 1;
    const tasks = ctx.state.databases[0]!;
    const now = notionTime(ctx.now());
    ctx.state.pages.push({
      id: randomUUID(),
      parent: { type: 'database_id', database_id: tasks.id },
      properties: {
        Task: { id: 'title', type: 'title', title: rich(`${TICK_TASKS[n % TICK_TASKS.length]} #${n + 1}`) },
        Done: { id: 'a%3Ab', type: 'checkbox', checkbox: false },
        Priority: { id: 'c%3Ad', type: 'select', select: { id: 'Low', name: 'Low', color: 'default' } },
        Estimate: { id: 'e%3Af', type: 'number', number: 1 + (n % 5) },
        Notes: { id: 'g%3Ah', type: 'rich_text', rich_text: [] },
      },
      children: [],
      created_time: now,
      last_edited_time: now,
      archived: false,
    });
    if (ctx.state.pages.length > MAX_PAGES) ctx.state.pages.splice(0, ctx.state.pages.length - MAX_PAGES);
  },
  routes: [
    {
      method: 'GET',
      path: '/v1/users/me',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        return json(200, {
          object: 'user',
          id: a.account.id,
          name: 'Switchboard',
          avatar_url: null,
          type: 'bot',
          bot: {
            owner: { type: 'user', user: { object: 'user', id: a.account.user_id, name: a.account.name, avatar_url: null, type: 'person', person: { email: a.account.email } } },
            workspace_name: a.account.workspace,
          },
          request_id: randomUUID(),
        });
      },
    },
    {
      method: 'POST',
      path: '/v1/search',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const body = (req.body ?? {}) as Record<string, any>;
        const query = typeof body.query === 'string' ? body.query.toLowerCase() : '';
        const only = body.filter?.property === 'object' ? body.filter.value : undefined;
        if (only !== undefined && only !== 'page' && only !== 'database')
          return nError(400, 'validation_error', 'body failed validation: body.filter.value should be `"page"` or `"database"`, instead was `' + JSON.stringify(only) + '`.');
        const items: { edited: string; title: string; json: unknown }[] = [];
        if (only !== 'page') for (const d of ctx.state.databases) items.push({ edited: d.last_edited_time, title: d.title, json: databaseJson(d) });
        if (only !== 'database')
          for (const p of ctx.state.pages)
            items.push({ edited: p.last_edited_time, title: plain(Object.values(p.properties).find((v) => v?.type === 'title')?.title), json: pageJson(p) });
        const matched = items.filter((i) => !query || i.title.toLowerCase().includes(query));
        const dir = body.sort?.direction === 'ascending' ? 1 : -1;
        matched.sort((x, y) => x.edited.localeCompare(y.edited) * dir || x.title.localeCompare(y.title));
        const pageResult = paginate(
          matched.map((m) => m.json),
          body,
        );
        return json(200, { object: 'list', ...pageResult, type: 'page_or_database', page_or_database: {}, request_id: randomUUID() });
      },
    },
    {
      method: 'GET',
      path: '/v1/databases/:id',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const d = ctx.state.databases.find((x) => x.id === normId(req.params.id!));
        if (!d)
          return nError(404, 'object_not_found', `Could not find database with ID: ${req.params.id}. Make sure the relevant pages and databases are shared with your integration.`);
        return json(200, databaseJson(d));
      },
    },
    {
      method: 'POST',
      path: '/v1/databases/:id/query',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const d = ctx.state.databases.find((x) => x.id === normId(req.params.id!));
        if (!d)
          return nError(404, 'object_not_found', `Could not find database with ID: ${req.params.id}. Make sure the relevant pages and databases are shared with your integration.`);
        const body = (req.body ?? {}) as Record<string, any>;
        let pages = ctx.state.pages.filter((p) => p.parent.type === 'database_id' && p.parent.database_id === d.id && !p.archived);
        if (body.filter) {
          const results = pages.map((p) => matchFilter(p, body.filter, d));
          const bad = results.find((r) => typeof r === 'string');
          if (bad) return nError(400, 'validation_error', bad as string);
          pages = pages.filter((_, i) => results[i] === true);
        }
        if (Array.isArray(body.sorts)) {
          const sorted = sortPages(pages, body.sorts);
          if (typeof sorted === 'string') return nError(400, 'validation_error', sorted);
          pages = sorted;
        }
        const result = paginate(
          pages.map((p) => pageJson(p)),
          body,
        );
        return json(200, { object: 'list', ...result, type: 'page_or_database', page_or_database: {}, request_id: randomUUID() });
      },
    },
    {
      method: 'POST',
      path: '/v1/pages',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const body = (req.body ?? {}) as Record<string, any>;
        const dbId = body.parent?.database_id;
        if (!dbId) return nError(400, 'validation_error', 'body failed validation: body.parent.database_id should be defined, instead was `undefined`.');
        const d = ctx.state.databases.find((x) => x.id === normId(dbId));
        if (!d) return nError(404, 'object_not_found', `Could not find database with ID: ${dbId}. Make sure the relevant pages and databases are shared with your integration.`);
        const props = (body.properties ?? {}) as Record<string, any>;
        const stored: Record<string, any> = {};
        for (const [name, value] of Object.entries(props)) {
          const schema = d.properties[name];
          if (!schema) return nError(400, 'validation_error', `${name} is not a property that exists.`);
          if (!value || typeof value !== 'object' || !(schema.type in value)) return nError(400, 'validation_error', `${name} is expected to be ${schema.type}.`);
          const v = value[schema.type];
          stored[name] = {
            id: schema.id,
            type: schema.type,
            [schema.type]: schema.type === 'title' || schema.type === 'rich_text' ? (v as { text: { content: string } }[]).map((r) => rich(r.text?.content ?? '')[0]) : v,
          };
        }
        if (!Object.values(stored).some((v) => v.type === 'title')) return nError(400, 'validation_error', 'Title is not provided');
        const now = notionTime(ctx.now());
        const page: NotionPage = {
          id: randomUUID(),
          parent: { type: 'database_id', database_id: d.id },
          properties: stored,
          children: Array.isArray(body.children) ? body.children : [],
          created_time: now,
          last_edited_time: now,
          archived: false,
        };
        ctx.state.pages.push(page);
        return json(200, pageJson(page));
      },
    },
  ],
};

export const NOTION_VERSIONS = VERSIONS;
