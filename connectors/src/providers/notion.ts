import { send } from '../runtime';
import { ActionContext, defineAction, defineConnector, definePollTrigger } from '../types';
import { advance, HighWater, newest, seen } from './high-water';
import { anyObject, arr, bool, dict, int, logo, obj, res, str } from './shared';

/** Pinned: 2025-09-03 moved databases to "data sources"; this version keeps database ids working. */
export const NOTION_VERSION = '2022-06-28';

const DATABASE = str('Database', { description: 'Database id', pattern: '^[0-9a-fA-F-]{32,36}$', 'x-options': 'databases' });

interface RichText {
  plain_text?: string;
}

interface NotionPage {
  object: 'page';
  id: string;
  url: string;
  created_time: string;
  last_edited_time: string;
  properties: Record<string, unknown>;
}

function text(content: string) {
  return [{ type: 'text', text: { content } }];
}

function plain(rich: RichText[] | undefined): string {
  return (rich ?? []).map((r) => r.plain_text ?? '').join('');
}

const createPage = defineAction({
  name: 'Create page in database',
  description: 'Adds a page (a row) to a database, with a title, other properties and paragraphs of text (POST /v1/pages).',
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      database_id: DATABASE,
      title: str('Title', { minLength: 1, maxLength: 2000 }),
      properties: dict(anyObject(), { title: 'Other properties', description: 'Notion property values by property name, e.g. { "Status": { "select": { "name": "Done" } } }' }),
      content: str('Content', { description: 'Plain text; blank lines separate paragraphs' }),
    },
    ['database_id', 'title'],
  ),
  output: res({ id: str('Page id'), url: str('Link') }, ['id', 'url']),
  async run(ctx, input) {
    // The title property has a per-database name ("Name", "Task"…): look it up.
    const db = await send<{ properties: Record<string, { type: string }> }>(ctx, { method: 'GET', path: `databases/${encodeURIComponent(input.database_id)}` });
    const titleName = Object.entries(db.properties).find(([, p]) => p.type === 'title')?.[0] ?? 'Name';
    const children = (input.content ?? '')
      .split(/\n\s*\n/)
      .map((p) => p.trim())
      .filter(Boolean)
      .slice(0, 100)
      .map((p) => ({ object: 'block', type: 'paragraph', paragraph: { rich_text: text(p.slice(0, 2000)) } }));
    const page = await send<NotionPage>(ctx, {
      method: 'POST',
      path: 'pages',
      body: {
        parent: { database_id: input.database_id },
        properties: { ...(input.properties ?? {}), [titleName]: { title: text(input.title) } },
        ...(children.length ? { children } : {}),
      },
    });
    return { id: page.id, url: page.url };
  },
});

const queryDatabase = defineAction({
  name: 'Query database',
  description: 'Lists pages of a database matching a Notion filter, one page of results at a time (POST /v1/databases/{id}/query).',
  // A POST that only reads.
  readOnly: true,
  retrySafe: true,
  input: obj(
    {
      database_id: DATABASE,
      filter: anyObject({ title: 'Filter', description: 'Notion filter object, e.g. { "property": "Done", "checkbox": { "equals": false } }' }),
      sorts: arr(anyObject(), { title: 'Sorts' }),
      page_size: int('Page size', { minimum: 1, maximum: 100, default: 100 }),
      start_cursor: str('Cursor'),
    },
    ['database_id'],
  ),
  output: res(
    {
      results: arr(res({ id: str('Page id'), url: str('Link'), title: str('Title'), properties: anyObject() }, ['id'])),
      next_cursor: str('Next cursor'),
      has_more: bool(),
    },
    ['results', 'has_more'],
  ),
  async run(ctx, input) {
    const data = await send<{ results: NotionPage[]; next_cursor: string | null; has_more: boolean }>(ctx, {
      method: 'POST',
      path: `databases/${encodeURIComponent(input.database_id)}/query`,
      body: { filter: input.filter, sorts: input.sorts, page_size: input.page_size ?? 100, start_cursor: input.start_cursor },
    });
    const results = data.results.map((p) => {
      const titleProp = Object.values(p.properties).find((v) => (v as { type?: string }).type === 'title') as { title?: RichText[] } | undefined;
      return { id: p.id, url: p.url, title: plain(titleProp?.title), properties: p.properties };
    });
    return data.next_cursor ? { results, next_cursor: data.next_cursor, has_more: data.has_more } : { results, has_more: data.has_more };
  },
});

// ---- Poll trigger: pages of a database by created_time

/** The query API's largest page, and how many pages one poll reads at most. */
const QUERY_PAGE = 100;
const QUERY_PAGES_PER_POLL = 5;

interface QueryPage {
  results: NotionPage[];
  next_cursor: string | null;
  has_more: boolean;
}

function queryPages(ctx: ActionContext, databaseId: string, body: Record<string, unknown>): Promise<QueryPage> {
  return send<QueryPage>(ctx, { method: 'POST', path: `databases/${encodeURIComponent(databaseId)}/query`, body });
}

const newPage = definePollTrigger<HighWater>()({
  name: 'New page in database',
  description: 'A page (a row) is added to a database (query by created_time).',
  intervalSeconds: 300,
  // Notion rounds created_time to the minute; polling more often finds nothing sooner.
  minIntervalSeconds: 60,
  input: obj({ database_id: DATABASE }, ['database_id']),
  output: res({ id: str('Page id'), url: str('Link'), created_time: str('Created'), last_edited_time: str('Last edited'), properties: anyObject(), parent: anyObject() }, [
    'id',
    'created_time',
    'properties',
  ]),
  async poll(ctx, { input, cursor, limit }) {
    const atOf = (p: NotionPage) => p.created_time;
    const idOf = (p: NotionPage) => p.id;
    const item = (p: NotionPage) => ({ id: p.id, data: p as unknown as Record<string, unknown> });
    if (!cursor) {
      const page = await queryPages(ctx, input.database_id, { sorts: [{ timestamp: 'created_time', direction: 'descending' }], page_size: QUERY_PAGE });
      const first = newest(page.results, limit, atOf, idOf);
      return { items: first.taken.map(item), cursor: first.cursor };
    }
    // created_time is rounded down to the minute: ask for "on or after" the cursor's minute and
    // skip the pages already seen in it ("after" would lose pages added later in that minute).
    const candidates: NotionPage[] = [];
    let startCursor: string | undefined;
    for (let i = 0; i < QUERY_PAGES_PER_POLL; i++) {
      const page = await queryPages(ctx, input.database_id, {
        filter: { timestamp: 'created_time', created_time: { on_or_after: cursor.at } },
        sorts: [{ timestamp: 'created_time', direction: 'ascending' }],
        page_size: QUERY_PAGE,
        start_cursor: startCursor,
      });
      candidates.push(...page.results.filter((p) => !seen(cursor, atOf(p), p.id)));
      startCursor = page.has_more && page.next_cursor ? page.next_cursor : undefined;
      if (!startCursor || candidates.length > limit) break;
    }
    const next = advance(candidates, cursor, limit, atOf, idOf, startCursor !== undefined);
    return { items: next.taken.map(item), cursor: next.cursor, more: next.more };
  },
});

export const notionConnector = defineConnector({
  key: 'notion',
  name: 'Notion',
  description: 'Add pages to and query Notion databases shared with the integration.',
  logo: logo(
    '#111111',
    '<rect x="14" y="12" width="36" height="40" rx="4" fill="#fff"/><path d="M24 42V22l16 20V22" fill="none" stroke="#111" stroke-width="4" stroke-linejoin="round"/>',
  ),
  categories: ['productivity', 'knowledge'],
  docsUrl: 'https://developers.notion.com/reference/intro',
  auth: {
    type: 'oauth2',
    authorizationUrl: 'https://api.notion.com/v1/oauth/authorize',
    tokenUrl: 'https://api.notion.com/v1/oauth/token',
    // Notion has no scopes: the user picks the pages to share on the consent screen.
    scopes: [],
    pkce: false,
    authorizationParams: { owner: 'user' },
    clientAuthentication: 'client_secret_basic',
    tokenRequestFormat: 'json',
    connectionConfigFromToken: { workspace_id: 'workspace_id', workspace_name: 'workspace_name', bot_id: 'bot_id' },
    // Newer public integrations get a rotating refresh token; older tokens never expire.
    refreshable: true,
  },
  connectionConfig: {
    workspace_id: { title: 'Workspace id', fromToken: true, optional: true },
    workspace_name: { title: 'Workspace name', fromToken: true, optional: true },
    bot_id: { title: 'Bot id', fromToken: true, optional: true },
  },
  baseUrl: 'https://api.notion.com/v1',
  defaultHeaders: { 'notion-version': NOTION_VERSION },
  pagination: { style: 'cursor', cursorParam: 'start_cursor', nextCursorPath: 'next_cursor', limitParam: 'page_size' },
  // An average of 3 requests per second per integration.
  rateLimit: { requestsPerSecond: 3 },
  actions: { create_page: createPage, query_database: queryDatabase },
  triggers: { new_page: newPage },
  options: {
    databases: {
      name: 'Databases',
      description: 'Databases shared with the integration',
      async run(ctx, { search, cursor }) {
        const data = await send<{ results: { id: string; title?: RichText[]; url?: string }[]; next_cursor: string | null }>(ctx, {
          method: 'POST',
          path: 'search',
          body: {
            query: search || undefined,
            filter: { property: 'object', value: 'database' },
            sort: { direction: 'descending', timestamp: 'last_edited_time' },
            page_size: 50,
            start_cursor: cursor,
          },
        });
        const options = data.results.map((d) => ({ value: d.id, label: plain(d.title) || 'Untitled', description: d.url }));
        return data.next_cursor ? { options, nextCursor: data.next_cursor } : { options };
      },
    },
  },
  async account(ctx) {
    const me = await send<{ id: string; name?: string; bot?: { workspace_name?: string; owner?: { type: string; user?: { name?: string; person?: { email?: string } } } } }>(ctx, {
      method: 'GET',
      path: 'users/me',
    });
    const workspace = me.bot?.workspace_name ?? ctx.config.workspace_name ?? 'Notion workspace';
    const owner = me.bot?.owner?.user?.person?.email ?? me.bot?.owner?.user?.name;
    return { id: ctx.config.workspace_id || me.id, name: owner ? `${workspace} (${owner})` : workspace, details: { bot_id: me.id } };
  },
});
