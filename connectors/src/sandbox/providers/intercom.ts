/**
 * Intercom's REST API: app.intercom.com for consent, api.intercom.io for tokens (`/auth/eagle/token`,
 * non-expiring, no refresh) and the API, versioned by the Intercom-Version header. Lists page with
 * `per_page` and `starting_after` (`pages.next.starting_after`); searches take Intercom's query
 * language (`{ field, operator, value }`, AND/OR nesting) with `sort` and `pagination`. Errors are
 * `error.list` bodies; a 429 carries X-RateLimit-* headers (Intercom sends no Retry-After).
 */
import { randomBytes } from 'node:crypto';
import { bearerToken, decodeCursor, encodeCursor, intParam, json, ProviderContext, ProviderModule, SandboxAccount, SandboxRequest, SandboxResponse } from '../core';
import { overBudget, throttle, Throttle } from './throttle';

export interface IntercomStoredContact {
  id: string;
  role: 'user' | 'lead';
  external_id: string | null;
  email: string | null;
  name: string | null;
  phone: string | null;
  created_at: number;
  updated_at: number;
  custom_attributes: Record<string, unknown>;
}

export interface IntercomStoredConversation {
  id: string;
  title: string | null;
  state: 'open' | 'closed' | 'snoozed';
  created_at: number;
  updated_at: number;
  contact_id: string;
  admin_assignee_id: number | null;
  team_assignee_id: string | null;
  body: string;
  parts: { id: string; part_type: string; body: string; author: { type: string; id: string }; created_at: number }[];
}

export interface IntercomState {
  admins: { id: string; name: string; email: string; job_title: string | null }[];
  teams: { id: string; name: string; admin_ids: number[] }[];
  contacts: IntercomStoredContact[];
  conversations: IntercomStoredConversation[];
  nextId: number;
  rateLimit: Throttle;
}

const VERSIONS = ['1.0', '1.1', '1.2', '1.3', '1.4', '2.0', '2.1', '2.2', '2.3', '2.4', '2.5', '2.6', '2.7', '2.8', '2.9', '2.10', '2.11', '2.12', '2.13', '2.14', 'Unstable'];
const seconds = (ms: number) => Math.floor(ms / 1000);

function errorList(status: number, code: string, message: string, headers: Record<string, string> = {}): SandboxResponse {
  return json(status, { type: 'error.list', request_id: randomBytes(10).toString('hex'), errors: [{ code, message }] }, headers);
}

function seed(): IntercomState {
  const now = seconds(Date.now());
  const contacts: IntercomStoredContact[] = [];
  const names = ['Maria Johnson', 'Li Chen', 'Sam Okafor', 'Ana Souza', 'Ben Carter'];
  for (let i = 0; i < 120; i++) {
    const name = i < names.length ? names[i]! : `Customer ${String(i + 1).padStart(3, '0')}`;
    contacts.push({
      id: (0x6650a0000000 + i).toString(16),
      role: i % 10 === 9 ? 'lead' : 'user',
      external_id: i % 10 === 9 ? null : `cust_${1000 + i}`,
      email: `${name.toLowerCase().replace(/\s+/g, '.')}@customer.test`,
      name,
      phone: null,
      created_at: now - 86_400 * (120 - i),
      updated_at: now - 86_400 * (120 - i),
      custom_attributes: {},
    });
  }
  const subjects = ['How do I export my data?', 'Billing question', 'Password reset does not arrive'];
  const conversations = subjects.map((body, i) => {
    const at = now - (subjects.length - i) * 3600;
    return {
      id: String(1911149800 + i),
      title: null,
      state: 'open' as const,
      created_at: at,
      updated_at: at,
      contact_id: contacts[i]!.id,
      admin_assignee_id: null,
      team_assignee_id: null,
      body: `<p>${body}</p>`,
      parts: [],
    };
  });
  return {
    admins: [
      { id: '814860', name: 'Mark Strong', email: 'mark@acme.test', job_title: 'Support lead' },
      { id: '814861', name: 'Priya Patel', email: 'priya@acme.test', job_title: 'Support engineer' },
      { id: '814862', name: 'Operator', email: 'operator+acme@intercom.io', job_title: null },
    ],
    teams: [
      { id: '5017691', name: 'Support', admin_ids: [814860, 814861] },
      { id: '5017692', name: 'Billing', admin_ids: [814861] },
    ],
    contacts,
    conversations,
    nextId: 1911150000,
    rateLimit: throttle(),
  };
}

function contactJson(c: IntercomStoredContact) {
  return {
    type: 'contact',
    id: c.id,
    workspace_id: 'ecahpwf5',
    external_id: c.external_id,
    role: c.role,
    email: c.email,
    phone: c.phone,
    name: c.name,
    avatar: null,
    owner_id: null,
    social_profiles: { type: 'list', data: [] },
    has_hard_bounced: false,
    marked_email_as_spam: false,
    unsubscribed_from_emails: false,
    created_at: c.created_at,
    updated_at: c.updated_at,
    signed_up_at: c.role === 'user' ? c.created_at : null,
    last_seen_at: null,
    custom_attributes: c.custom_attributes,
    tags: { type: 'list', data: [], url: `/contacts/${c.id}/tags`, total_count: 0, has_more: false },
  };
}

function conversationJson(c: IntercomStoredConversation, state: IntercomState, withParts: boolean) {
  const contact = state.contacts.find((x) => x.id === c.contact_id);
  return {
    type: 'conversation',
    id: c.id,
    title: c.title,
    created_at: c.created_at,
    updated_at: c.updated_at,
    waiting_since: c.state === 'open' ? c.updated_at : null,
    snoozed_until: null,
    open: c.state !== 'closed',
    state: c.state,
    read: false,
    priority: 'not_priority',
    admin_assignee_id: c.admin_assignee_id,
    team_assignee_id: c.team_assignee_id,
    tags: { type: 'tag.list', tags: [] },
    source: {
      type: 'conversation',
      id: String(Number(c.id) * 10),
      delivered_as: 'customer_initiated',
      subject: '',
      body: c.body,
      author: { type: contact?.role ?? 'user', id: c.contact_id, name: contact?.name ?? null, email: contact?.email ?? null },
      attachments: [],
      url: null,
      redacted: false,
    },
    contacts: { type: 'contact.list', contacts: [{ type: 'contact', id: c.contact_id, external_id: contact?.external_id ?? null }] },
    teammates: { type: 'admin.list', admins: [] },
    statistics: { type: 'conversation_statistics', count_conversation_parts: c.parts.length },
    ...(withParts
      ? {
          conversation_parts: {
            type: 'conversation_part.list',
            conversation_parts: c.parts.map((p) => ({ type: 'conversation_part', ...p, updated_at: p.created_at, notified_at: p.created_at, attachments: [], redacted: false })),
            total_count: c.parts.length,
          },
        }
      : {}),
  };
}

/** A value at a dot path of an answer object (`source.author.email`). */
function at(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);
}

const OPERATORS = ['=', '!=', 'IN', 'NIN', '>', '<', '~', '!~', '^', '$'];

/** Intercom's search query: `{ field, operator, value }` or `{ operator: AND|OR, value: [...] }`; a matcher or the problem. */
function queryMatcher(node: any, depth = 0): ((item: unknown) => boolean) | string {
  if (!node || typeof node !== 'object') return 'query must be an object';
  if (depth > 2) return 'Nesting of queries is limited to 2 levels';
  if (node.operator === 'AND' || node.operator === 'OR') {
    if (!Array.isArray(node.value) || node.value.length === 0) return `${node.operator} needs a list of queries`;
    const parts = node.value.map((n: unknown) => queryMatcher(n, depth + 1));
    const bad = parts.find((p: unknown) => typeof p === 'string');
    if (bad) return bad;
    return node.operator === 'AND' ? (item) => parts.every((p: (i: unknown) => boolean) => p(item)) : (item) => parts.some((p: (i: unknown) => boolean) => p(item));
  }
  if (typeof node.field !== 'string') return 'field is required';
  if (!OPERATORS.includes(node.operator)) return `operator ${JSON.stringify(node.operator)} is not supported`;
  const want = node.value;
  return (item) => {
    const have = at(item, node.field);
    const text = String(have ?? '').toLowerCase();
    const w = String(want ?? '').toLowerCase();
    switch (node.operator) {
      case '=':
        return want === null ? have === null || have === undefined : String(have) === String(want);
      case '!=':
        return String(have) !== String(want);
      case 'IN':
        return Array.isArray(want) && want.map(String).includes(String(have));
      case 'NIN':
        return Array.isArray(want) && !want.map(String).includes(String(have));
      case '>':
        return Number(have) > Number(want);
      case '<':
        return Number(have) < Number(want);
      case '~':
        return text.includes(w);
      case '!~':
        return !text.includes(w);
      case '^':
        return text.startsWith(w);
      default:
        return text.endsWith(w);
    }
  };
}

/** One page of a list or search, with Intercom's `pages` object. */
function paged<T>(items: T[], perPage: number, startingAfter: string | null | undefined, listType: string, key: string, render: (item: T) => unknown): SandboxResponse {
  const start = decodeCursor(startingAfter);
  if (start === null) return errorList(400, 'parameter_invalid', 'starting_after is invalid');
  const page = items.slice(start, start + perPage);
  const more = start + perPage < items.length;
  return json(200, {
    type: listType,
    [key]: page.map(render),
    total_count: items.length,
    pages: {
      type: 'pages',
      page: Math.floor(start / perPage) + 1,
      per_page: perPage,
      total_pages: Math.max(1, Math.ceil(items.length / perPage)),
      ...(more ? { next: { page: Math.floor(start / perPage) + 2, starting_after: encodeCursor(start + perPage) } } : {}),
    },
  });
}

/** Runs a search request body over rendered items. */
function search<T>(req: SandboxRequest, items: T[], render: (item: T) => unknown, listType: string, key: string): SandboxResponse {
  const b = (req.body ?? {}) as Record<string, any>;
  if (!b.query) return errorList(400, 'parameter_not_found', 'query parameter is required');
  const matcher = queryMatcher(b.query);
  if (typeof matcher === 'string') return errorList(400, 'query_invalid', matcher);
  const rendered = items.map(render).filter(matcher);
  const sort = b.sort as { field?: string; order?: string } | undefined;
  if (sort?.field) {
    const dir = sort.order === 'descending' ? -1 : 1;
    rendered.sort((x, y) => {
      const a = at(x, sort.field!) as number | string;
      const c = at(y, sort.field!) as number | string;
      return (a < c ? -1 : a > c ? 1 : String(at(x, 'id')).localeCompare(String(at(y, 'id')), 'en', { numeric: true })) * dir;
    });
  }
  const perPage = intParam(b.pagination?.per_page, 20, 1, 150);
  return paged(rendered, perPage, b.pagination?.starting_after, listType, key, (x) => x);
}

/** Checks the token and the budget: the admin, or Intercom's error. */
function authorizeAdmin(req: SandboxRequest, ctx: ProviderContext<IntercomState>): { account: SandboxAccount } | { error: SandboxResponse } {
  const a = ctx.authorize(req);
  if ('error' in a) return a;
  const limit = ctx.state.rateLimit;
  const wait = overBudget(limit, bearerToken(req) ?? '', ctx.now());
  if (wait !== null) {
    return {
      error: errorList(429, 'rate_limit_exceeded', `Exceeded rate limit of ${limit.limit} in ${limit.windowSeconds} seconds`, {
        'x-ratelimit-limit': String(limit.limit),
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(Math.ceil(ctx.now() / 1000) + wait),
      }),
    };
  }
  return { account: a.account };
}

function newContact(state: IntercomState, b: Record<string, any>, now: number): IntercomStoredContact | SandboxResponse {
  const role = b.role ?? 'user';
  if (role !== 'user' && role !== 'lead') return errorList(400, 'parameter_invalid', 'role must be user or lead');
  if (role === 'user' && !b.email && !b.external_id) return errorList(400, 'parameter_not_found', 'requires one of email, external_id, or role=lead');
  const duplicate =
    role === 'user' &&
    state.contacts.find((c) => c.role === 'user' && ((b.email && c.email?.toLowerCase() === String(b.email).toLowerCase()) || (b.external_id && c.external_id === b.external_id)));
  if (duplicate) return errorList(409, 'conflict', `A contact matching those details already exists with id=${duplicate.id}`);
  const contact: IntercomStoredContact = {
    id: (0x6650b0000000 + state.nextId++).toString(16),
    role,
    external_id: b.external_id ?? null,
    email: b.email ?? null,
    name: b.name ?? null,
    phone: b.phone ?? null,
    created_at: seconds(now),
    updated_at: seconds(now),
    custom_attributes: b.custom_attributes ?? {},
  };
  state.contacts.push(contact);
  return contact;
}

export const intercomSandbox: ProviderModule<IntercomState> = {
  key: 'intercom',
  displayName: 'Intercom',
  accounts: [
    { id: '814860', name: 'Mark Strong', email: 'mark@acme.test', appId: 'ecahpwf5', appName: 'Acme Support' },
    { id: '914860', name: 'Rita Globex', email: 'rita@globex.test', appId: 'gl0bx7a2', appName: 'Globex Help' },
  ],
  tokenPrefix: { access: 'dG9rOmIz', refresh: 'unused' },
  oauth: {
    authorizePath: '/oauth',
    tokenPath: '/auth/eagle/token',
    refreshTokens: false,
    sendsExpiresIn: false,
    defaultTtlSeconds: Infinity,
    tokenResponse(issued) {
      // Intercom answers the token twice: `token` (documented) and `access_token`.
      return { token_type: 'Bearer', token: issued.accessToken, access_token: issued.accessToken };
    },
  },
  precheck(req) {
    const version = req.headers['intercom-version'];
    if (version !== undefined && !VERSIONS.includes(version)) return errorList(400, 'intercom_version_invalid', 'The requested version could not be found');
    return undefined;
  },
  authError(reason) {
    return errorList(401, 'unauthorized', reason === 'missing' ? 'Access Token Missing' : 'Access Token Invalid');
  },
  seed,
  tick(ctx) {
    const contact = ctx.state.contacts[ctx.state.conversations.length % ctx.state.contacts.length]!;
    const at = seconds(ctx.now());
    ctx.state.conversations.push({
      id: String(ctx.state.nextId++),
      title: null,
      state: 'open',
      created_at: at,
      updated_at: at,
      contact_id: contact.id,
      admin_assignee_id: null,
      team_assignee_id: null,
      body: '<p>Hi, I need help with my order.</p>',
      parts: [],
    });
    // A churning demo keeps the newest 5,000.
    if (ctx.state.conversations.length > 5000) ctx.state.conversations.splice(0, ctx.state.conversations.length - 5000);
  },
  routes: [
    {
      method: 'GET',
      path: '/me',
      handler(req, ctx) {
        const a = authorizeAdmin(req, ctx);
        if ('error' in a) return a.error;
        const u = a.account;
        return json(200, {
          type: 'admin',
          id: u.id,
          email: u.email,
          name: u.name,
          email_verified: true,
          app: { type: 'app', id_code: u.appId, name: u.appName, created_at: 1465224365, secure: false, identity_verification: false, timezone: 'Europe/Dublin', region: 'US' },
          avatar: { type: 'avatar', image_url: null },
          has_inbox_seat: true,
        });
      },
    },
    {
      method: 'GET',
      path: '/admins',
      handler(req, ctx) {
        const a = authorizeAdmin(req, ctx);
        if ('error' in a) return a.error;
        return json(200, {
          type: 'admin.list',
          admins: ctx.state.admins.map((x) => ({ type: 'admin', ...x, away_mode_enabled: false, away_mode_reassign: false, has_inbox_seat: true, team_ids: [] })),
        });
      },
    },
    {
      method: 'GET',
      path: '/contacts',
      handler(req, ctx) {
        const a = authorizeAdmin(req, ctx);
        if ('error' in a) return a.error;
        return paged(ctx.state.contacts, intParam(req.query.get('per_page'), 50, 1, 150), req.query.get('starting_after'), 'list', 'data', contactJson);
      },
    },
    {
      method: 'POST',
      path: '/contacts/search',
      handler(req, ctx) {
        const a = authorizeAdmin(req, ctx);
        if ('error' in a) return a.error;
        return search(req, ctx.state.contacts, contactJson, 'list', 'data');
      },
    },
    {
      method: 'POST',
      path: '/contacts',
      handler(req, ctx) {
        const a = authorizeAdmin(req, ctx);
        if ('error' in a) return a.error;
        const created = newContact(ctx.state, (req.body ?? {}) as Record<string, any>, ctx.now());
        return 'status' in created && typeof created.status === 'number' ? (created as SandboxResponse) : json(200, contactJson(created as IntercomStoredContact));
      },
    },
    {
      method: 'GET',
      path: '/contacts/:id',
      handler(req, ctx) {
        const a = authorizeAdmin(req, ctx);
        if ('error' in a) return a.error;
        const contact = ctx.state.contacts.find((c) => c.id === req.params.id);
        return contact ? json(200, contactJson(contact)) : errorList(404, 'not_found', 'User Not Found');
      },
    },
    {
      method: 'PUT',
      path: '/contacts/:id',
      handler(req, ctx) {
        const a = authorizeAdmin(req, ctx);
        if ('error' in a) return a.error;
        const contact = ctx.state.contacts.find((c) => c.id === req.params.id);
        if (!contact) return errorList(404, 'not_found', 'User Not Found');
        const b = (req.body ?? {}) as Record<string, any>;
        for (const field of ['email', 'name', 'phone', 'external_id'] as const) if (b[field] !== undefined) contact[field] = b[field];
        if (b.custom_attributes) Object.assign(contact.custom_attributes, b.custom_attributes);
        contact.updated_at = seconds(ctx.now());
        return json(200, contactJson(contact));
      },
    },
    {
      method: 'POST',
      path: '/conversations/search',
      handler(req, ctx) {
        const a = authorizeAdmin(req, ctx);
        if ('error' in a) return a.error;
        return search(req, ctx.state.conversations, (c) => conversationJson(c, ctx.state, false), 'conversation.list', 'conversations');
      },
    },
    {
      method: 'GET',
      path: '/conversations/:id',
      handler(req, ctx) {
        const a = authorizeAdmin(req, ctx);
        if ('error' in a) return a.error;
        const conversation = ctx.state.conversations.find((c) => c.id === req.params.id);
        return conversation ? json(200, conversationJson(conversation, ctx.state, true)) : errorList(404, 'not_found', 'Resource Not Found');
      },
    },
    {
      method: 'POST',
      path: '/conversations/:id/reply',
      handler(req, ctx) {
        const a = authorizeAdmin(req, ctx);
        if ('error' in a) return a.error;
        const conversation = ctx.state.conversations.find((c) => c.id === req.params.id);
        if (!conversation) return errorList(404, 'not_found', 'Resource Not Found');
        const b = (req.body ?? {}) as Record<string, any>;
        if (b.type !== 'admin' && b.type !== 'user') return errorList(400, 'parameter_invalid', 'type must be admin or user');
        if (!['comment', 'note', 'quick_reply'].includes(b.message_type)) return errorList(400, 'parameter_invalid', 'message_type must be comment or note');
        if (b.type === 'admin' && !ctx.state.admins.some((x) => x.id === String(b.admin_id))) return errorList(400, 'parameter_invalid', 'Admin not found');
        if (typeof b.body !== 'string' || !b.body.trim()) return errorList(400, 'parameter_not_found', 'body is required');
        const now = seconds(ctx.now());
        conversation.parts.push({
          id: String(ctx.state.nextId++),
          part_type: b.message_type,
          body: b.body,
          author: { type: b.type, id: String(b.admin_id ?? b.intercom_user_id) },
          created_at: now,
        });
        // A reply (not a note) reopens a closed conversation.
        if (b.message_type === 'comment') conversation.state = 'open';
        conversation.updated_at = Math.max(now, conversation.updated_at);
        return json(200, conversationJson(conversation, ctx.state, true));
      },
    },
  ],
};
