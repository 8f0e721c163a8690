/**
 * Zendesk Support: every endpoint under the account's own host (`acme.zendesk.com`), which the
 * sandbox sees as `/zendesk/~acme.zendesk.com/…`. OAuth grants are bound to the subdomain they
 * were made at. Lists page with cursors (`page[size]`, `page[after]`, `meta.has_more`,
 * `links.next`); search pages by number; the incremental ticket export pages with its own cursor
 * and leaves out the last minute, as Zendesk's does. Ticket creation honours Idempotency-Key.
 */
import { createHash } from 'node:crypto';
import {
  bearerToken,
  decodeCursor,
  encodeCursor,
  intParam,
  json,
  matchPath,
  ProviderContext,
  ProviderModule,
  Route,
  SandboxAccount,
  SandboxRequest,
  SandboxResponse,
} from '../core';
import type { OAuthServer } from '../oauth';
import { overBudget, throttle, Throttle } from './throttle';

export interface ZendeskStoredTicket {
  id: number;
  subject: string;
  description: string;
  status: string;
  priority: string | null;
  type: string | null;
  requester_id: number;
  submitter_id: number;
  assignee_id: number | null;
  group_id: number | null;
  tags: string[];
  created_at: number;
  updated_at: number;
  comments: { id: number; body: string; public: boolean; author_id: number; created_at: number }[];
}

export interface ZendeskState {
  users: { id: number; name: string; email: string; role: 'admin' | 'agent' | 'end-user' }[];
  groups: { id: number; name: string; deleted: boolean; created_at: string }[];
  tickets: ZendeskStoredTicket[];
  /** Idempotency-Key → the ticket it created and a hash of the request. */
  idempotency: Record<string, { ticketId: number; requestHash: string }>;
  nextId: number;
  rateLimit: Throttle;
}

const HOST = /^([a-z0-9][a-z0-9-]*)\.zendesk\.com$/;
const STATUSES = ['new', 'open', 'pending', 'hold', 'solved', 'closed'];
const PRIORITIES = ['urgent', 'high', 'normal', 'low'];
const TYPES = ['problem', 'incident', 'question', 'task'];

/** Zendesk's timestamps: seconds, no fraction. */
const zdTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

const notFound = () => json(404, { error: 'RecordNotFound', description: 'Not found' });
const invalid = (details: Record<string, { description: string; error: string }[]>) => json(422, { error: 'RecordInvalid', description: 'Record validation errors', details });

function seed(): ZendeskState {
  const now = Date.now();
  const groups = ['Support', 'Billing', 'Escalations'].map((name, i) => ({ id: 360001000 + i, name, deleted: false, created_at: '2024-02-01T09:00:00Z' }));
  for (let i = 1; i <= 117; i++) groups.push({ id: 360002000 + i, name: `Regional team ${String(i).padStart(3, '0')}`, deleted: false, created_at: '2024-02-01T09:00:00Z' });
  const users: ZendeskState['users'] = [
    { id: 368230001, name: 'Jane Agent', email: 'jane@acme.test', role: 'admin' },
    { id: 368230002, name: 'Hank Agent', email: 'hank@globex.test', role: 'agent' },
    { id: 368239001, name: 'Maria Customer', email: 'maria@customer.test', role: 'end-user' },
  ];
  const subjects = ['Cannot log in', 'Invoice is wrong', 'Feature request: dark mode', 'App crashes on start'];
  const tickets = subjects.map((subject, i) => {
    const at = now - (subjects.length - i) * 3_600_000;
    return {
      id: 101 + i,
      subject,
      description: `${subject}. Please help.`,
      status: 'open',
      priority: i === 3 ? 'urgent' : 'normal',
      type: 'question',
      requester_id: 368239001,
      submitter_id: 368239001,
      assignee_id: null,
      group_id: 360001000,
      tags: [],
      created_at: at,
      updated_at: at,
      comments: [{ id: 9000 + i, body: `${subject}. Please help.`, public: true, author_id: 368239001, created_at: at }],
    };
  });
  return { users, groups, tickets, idempotency: {}, nextId: 200, rateLimit: throttle() };
}

function ticketJson(t: ZendeskStoredTicket, base: string) {
  return {
    url: `${base}/api/v2/tickets/${t.id}.json`,
    id: t.id,
    external_id: null,
    via: { channel: 'api', source: { from: {}, to: {}, rel: null } },
    created_at: zdTime(t.created_at),
    updated_at: zdTime(t.updated_at),
    generated_timestamp: Math.floor(t.updated_at / 1000),
    type: t.type,
    subject: t.subject,
    raw_subject: t.subject,
    description: t.description,
    priority: t.priority,
    status: t.status,
    recipient: null,
    requester_id: t.requester_id,
    submitter_id: t.submitter_id,
    assignee_id: t.assignee_id,
    organization_id: null,
    group_id: t.group_id,
    collaborator_ids: [],
    follower_ids: [],
    has_incidents: false,
    is_public: t.comments.some((c) => c.public),
    due_at: null,
    tags: t.tags,
    custom_fields: [],
    satisfaction_rating: null,
    sharing_agreement_ids: [],
    allow_channelback: false,
    allow_attachments: true,
  };
}

/** Validates ticket fields shared by create and update; answers the 422 or null. */
function checkFields(t: Record<string, any>, state: ZendeskState): SandboxResponse | null {
  const details: Record<string, { description: string; error: string }[]> = {};
  if (t.status !== undefined && !STATUSES.includes(t.status)) details.status = [{ description: `Status: ${t.status} is not valid`, error: 'InvalidValue' }];
  if (t.priority !== undefined && t.priority !== null && !PRIORITIES.includes(t.priority))
    details.priority = [{ description: `Priority: ${t.priority} is not valid`, error: 'InvalidValue' }];
  if (t.type !== undefined && t.type !== null && !TYPES.includes(t.type)) details.type = [{ description: `Type: ${t.type} is not valid`, error: 'InvalidValue' }];
  if (t.group_id !== undefined && t.group_id !== null && !state.groups.some((g) => g.id === Number(t.group_id)))
    details.group_id = [{ description: 'Group: is invalid', error: 'InvalidValue' }];
  if (t.assignee_id !== undefined && t.assignee_id !== null && !state.users.some((u) => u.id === Number(t.assignee_id) && u.role !== 'end-user')) {
    details.assignee_id = [{ description: 'Assignee: is not an agent', error: 'InvalidValue' }];
  }
  if (t.tags !== undefined && !Array.isArray(t.tags)) details.tags = [{ description: 'Tags: must be an array', error: 'InvalidValue' }];
  return Object.keys(details).length ? invalid(details) : null;
}

function createTicket(state: ZendeskState, t: Record<string, any>, submitter: number, now: number): ZendeskStoredTicket | SandboxResponse {
  const body = t.comment?.body ?? t.comment?.html_body ?? t.description;
  if (typeof body !== 'string' || !body.trim()) return invalid({ base: [{ description: 'Description: cannot be blank', error: 'BlankValue' }] });
  const bad = checkFields(t, state);
  if (bad) return bad;
  let requester = submitter;
  if (t.requester?.email) {
    let user = state.users.find((u) => u.email.toLowerCase() === String(t.requester.email).toLowerCase());
    if (!user)
      state.users.push((user = { id: state.nextId++ + 368300000, name: String(t.requester.name ?? t.requester.email), email: String(t.requester.email), role: 'end-user' }));
    requester = user.id;
  } else if (t.requester_id) requester = Number(t.requester_id);
  const id = state.nextId++;
  const ticket: ZendeskStoredTicket = {
    id,
    subject: typeof t.subject === 'string' && t.subject ? t.subject : body.slice(0, 60),
    description: body,
    status: t.status ?? (t.assignee_id ? 'open' : 'new'),
    priority: t.priority ?? null,
    type: t.type ?? null,
    requester_id: requester,
    submitter_id: submitter,
    assignee_id: t.assignee_id ?? null,
    group_id: t.group_id ?? null,
    tags: Array.isArray(t.tags) ? t.tags.map(String) : [],
    created_at: now,
    updated_at: now,
    comments: [{ id: state.nextId++ * 10, body, public: t.comment?.public ?? true, author_id: submitter, created_at: now }],
  };
  state.tickets.push(ticket);
  return ticket;
}

/** A cursor-paginated list answer (`page[size]`, `page[after]`), or the 400 for a bad cursor. */
function cursorPage<T>(req: SandboxRequest, items: T[], name: string, url: string, render: (item: T) => unknown): SandboxResponse {
  const size = intParam(req.query.get('page[size]'), 100, 1, 100);
  const after = req.query.get('page[after]');
  const start = decodeCursor(after);
  if (start === null) return json(400, { error: 'InvalidPaginationParameter', description: 'page[after] is not valid' });
  const page = items.slice(start, start + size);
  const hasMore = start + size < items.length;
  const afterCursor = page.length ? encodeCursor(start + page.length) : null;
  const beforeCursor = start > 0 ? encodeCursor(Math.max(0, start - size)) : null;
  return json(200, {
    [name]: page.map(render),
    meta: { has_more: hasMore, after_cursor: afterCursor, before_cursor: beforeCursor },
    links: { prev: beforeCursor ? `${url}?page[before]=${beforeCursor}&page[size]=${size}` : null, next: hasMore ? `${url}?page[after]=${afterCursor}&page[size]=${size}` : null },
  });
}

/** The incremental export's cursor: the position (generated_timestamp, id) after which the next page starts. */
const exportCursor = (ts: number, id: number) => Buffer.from(`${ts}.0||${id}|`).toString('base64');
function readExportCursor(value: string): { ts: number; id: number } | null {
  const m = /^(\d+)\.0\|\|(\d+)\|$/.exec(Buffer.from(value, 'base64').toString('utf8'));
  return m ? { ts: Number(m[1]), id: Number(m[2]) } : null;
}

function searchMatcher(query: string, state: ZendeskState): (t: ZendeskStoredTicket) => boolean {
  const tests: ((t: ZendeskStoredTicket) => boolean)[] = [];
  for (const term of query.match(/"[^"]*"|\S+/g) ?? []) {
    const m = /^(\w+)(:|<|>)(.+)$/.exec(term);
    if (!m) {
      const text = term.replace(/"/g, '').toLowerCase();
      tests.push((t) => `${t.subject} ${t.description}`.toLowerCase().includes(text));
      continue;
    }
    const [, key, op, raw] = m;
    const value = raw!.replace(/"/g, '').toLowerCase();
    if (key === 'type') continue;
    if (key === 'status') {
      const rank = STATUSES.indexOf(value);
      tests.push((t) => (op === ':' ? t.status === value : op === '<' ? STATUSES.indexOf(t.status) < rank : STATUSES.indexOf(t.status) > rank));
    } else if (key === 'priority') tests.push((t) => t.priority === value);
    else if (key === 'tags' || key === 'tag') tests.push((t) => t.tags.includes(value));
    else if (key === 'requester') tests.push((t) => state.users.find((u) => u.id === t.requester_id)?.email.toLowerCase() === value);
    else if (key === 'group') tests.push((t) => String(t.group_id) === value || state.groups.find((g) => g.id === t.group_id)?.name.toLowerCase() === value);
    else tests.push(() => false);
  }
  return (t) => tests.every((test) => test(t));
}

type ZendeskRoute = Route<ZendeskState>;

/** Checks the token and the request budget: the user, or Zendesk's error. */
function authorizeUser(req: SandboxRequest, ctx: ProviderContext<ZendeskState>): { account: SandboxAccount; userId: number } | { error: SandboxResponse } {
  const a = ctx.authorize(req);
  if ('error' in a) return a;
  const wait = overBudget(ctx.state.rateLimit, bearerToken(req) ?? '', ctx.now());
  if (wait !== null)
    return { error: json(429, { error: 'APIRateLimitExceeded', description: 'Number of allowed API requests per minute exceeded' }, { 'retry-after': String(wait) }) };
  return { account: a.account, userId: Number(a.account.id) };
}

const routes: ZendeskRoute[] = [
  {
    method: 'GET',
    path: '/api/v2/users/me.json',
    handler(req, ctx) {
      const a = authorizeUser(req, ctx);
      if ('error' in a) return a.error;
      const user = ctx.state.users.find((u) => u.id === a.userId)!;
      return json(200, {
        user: {
          id: user.id,
          url: `${req.params.base}/api/v2/users/${user.id}.json`,
          name: user.name,
          email: user.email,
          role: user.role,
          active: true,
          verified: true,
          time_zone: 'Amsterdam',
          locale: 'en-US',
        },
      });
    },
  },
  {
    method: 'GET',
    path: '/api/v2/groups.json',
    handler(req, ctx) {
      const a = authorizeUser(req, ctx);
      if ('error' in a) return a.error;
      const base = req.params.base!;
      return cursorPage(req, ctx.state.groups, 'groups', `${base}/api/v2/groups.json`, (g) => ({
        url: `${base}/api/v2/groups/${g.id}.json`,
        ...g,
        default: g.id === 360001000,
        is_public: true,
        updated_at: g.created_at,
      }));
    },
  },
  {
    method: 'GET',
    path: '/api/v2/tickets.json',
    handler(req, ctx) {
      const a = authorizeUser(req, ctx);
      if ('error' in a) return a.error;
      const tickets = [...ctx.state.tickets].sort((x, y) => x.id - y.id);
      return cursorPage(req, tickets, 'tickets', `${req.params.base}/api/v2/tickets.json`, (t) => ticketJson(t, req.params.base!));
    },
  },
  {
    method: 'POST',
    path: '/api/v2/tickets.json',
    handler(req, ctx) {
      const a = authorizeUser(req, ctx);
      if ('error' in a) return a.error;
      const t = (req.body as { ticket?: Record<string, unknown> } | undefined)?.ticket;
      if (!t || typeof t !== 'object') return json(400, { error: 'InvalidEndpoint', description: 'Ticket parameter is missing' });
      const key = req.headers['idempotency-key'];
      const requestHash = createHash('sha256').update(req.rawBody).digest('hex');
      if (key) {
        const seen = ctx.state.idempotency[key];
        if (seen && seen.requestHash !== requestHash)
          return json(400, { error: 'IdempotentRequestError', description: 'Request parameters do not match the original request with this Idempotency-Key' });
        const ticket = seen && ctx.state.tickets.find((x) => x.id === seen.ticketId);
        if (ticket) return json(201, { ticket: ticketJson(ticket, req.params.base!) }, { 'x-idempotency-lookup': 'hit' });
      }
      const created = createTicket(ctx.state, t, a.userId, ctx.now());
      if ('status' in created && typeof created.status === 'number') return created as SandboxResponse;
      const ticket = created as ZendeskStoredTicket;
      if (key) ctx.state.idempotency[key] = { ticketId: ticket.id, requestHash };
      return json(
        201,
        { ticket: ticketJson(ticket, req.params.base!) },
        { location: `${req.params.base}/api/v2/tickets/${ticket.id}.json`, ...(key ? { 'x-idempotency-lookup': 'miss' } : {}) },
      );
    },
  },
  {
    method: 'GET',
    path: /^\/api\/v2\/tickets\/(?<id>\d+)\.json$/,
    handler(req, ctx) {
      const a = authorizeUser(req, ctx);
      if ('error' in a) return a.error;
      const ticket = ctx.state.tickets.find((t) => t.id === Number(req.params.id));
      return ticket ? json(200, { ticket: ticketJson(ticket, req.params.base!) }) : notFound();
    },
  },
  {
    method: 'PUT',
    path: /^\/api\/v2\/tickets\/(?<id>\d+)\.json$/,
    handler(req, ctx) {
      const a = authorizeUser(req, ctx);
      if ('error' in a) return a.error;
      const ticket = ctx.state.tickets.find((t) => t.id === Number(req.params.id));
      if (!ticket) return notFound();
      const t = ((req.body as { ticket?: Record<string, any> } | undefined)?.ticket ?? {}) as Record<string, any>;
      const bad = checkFields(t, ctx.state);
      if (bad) return bad;
      if (ticket.status === 'closed') return invalid({ status: [{ description: 'Status: closed prevents ticket update', error: 'ClosedTicket' }] });
      if (t.comment !== undefined) {
        const body = t.comment?.body ?? t.comment?.html_body;
        if (typeof body !== 'string' || !body.trim()) return invalid({ base: [{ description: 'Comment: cannot be blank', error: 'BlankValue' }] });
        ticket.comments.push({ id: ctx.state.nextId++ * 10, body, public: t.comment.public ?? true, author_id: a.userId, created_at: ctx.now() });
      }
      for (const field of ['subject', 'status', 'priority', 'type', 'group_id', 'assignee_id'] as const) if (t[field] !== undefined) (ticket as any)[field] = t[field];
      if (t.tags !== undefined) ticket.tags = t.tags.map(String);
      if (ticket.status === 'new' && ticket.assignee_id) ticket.status = 'open';
      // Zendesk's updated_at has seconds: keep each change distinct even within one second.
      ticket.updated_at = Math.max(ctx.now(), ticket.updated_at + 1000);
      return json(200, {
        ticket: ticketJson(ticket, req.params.base!),
        audit: { id: ctx.state.nextId++, ticket_id: ticket.id, created_at: zdTime(ticket.updated_at), author_id: a.userId, events: [] },
      });
    },
  },
  {
    method: 'GET',
    path: '/api/v2/search.json',
    handler(req, ctx) {
      const a = authorizeUser(req, ctx);
      if ('error' in a) return a.error;
      const query = req.query.get('query') ?? '';
      if (!query.trim()) return json(400, { error: 'InvalidSearch', description: 'Missing query' });
      const page = intParam(req.query.get('page'), 1, 1, 10_000);
      const perPage = intParam(req.query.get('per_page'), 100, 1, 100);
      if (page * perPage > 1000)
        return json(422, { error: 'InvalidPaginationParameter', description: 'Invalid search: Requested response size was greater than Search Response Limits' });
      const sortBy = req.query.get('sort_by') ?? 'updated_at';
      if (!['updated_at', 'created_at', 'priority', 'status', 'ticket_type'].includes(sortBy))
        return json(400, { error: 'InvalidSearch', description: `sort_by ${sortBy} is not supported` });
      const dir = req.query.get('sort_order') === 'asc' ? 1 : -1;
      const key = (t: ZendeskStoredTicket) => (sortBy === 'ticket_type' ? (t.type ?? '') : ((t as any)[sortBy] ?? ''));
      const found =
        query.includes('type:ticket') || !/type:/.test(query)
          ? ctx.state.tickets.filter(searchMatcher(query, ctx.state)).sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : x.id - y.id) * dir)
          : [];
      const base = `${req.params.base}/api/v2/search.json?query=${encodeURIComponent(query)}&per_page=${perPage}`;
      const more = page * perPage < found.length;
      return json(200, {
        results: found.slice((page - 1) * perPage, page * perPage).map((t) => ({ ...ticketJson(t, req.params.base!), result_type: 'ticket' })),
        facets: null,
        next_page: more ? `${base}&page=${page + 1}` : null,
        previous_page: page > 1 ? `${base}&page=${page - 1}` : null,
        count: found.length,
      });
    },
  },
  {
    method: 'GET',
    path: '/api/v2/incremental/tickets/cursor.json',
    handler(req, ctx) {
      const a = authorizeUser(req, ctx);
      if ('error' in a) return a.error;
      const nowSeconds = Math.floor(ctx.now() / 1000);
      const perPage = intParam(req.query.get('per_page'), 1000, 1, 1000);
      let after: { ts: number; id: number };
      const cursor = req.query.get('cursor');
      if (cursor) {
        const read = readExportCursor(cursor);
        if (!read) return json(400, { error: 'InvalidValue', description: 'Invalid cursor' });
        after = read;
      } else {
        const start = req.query.get('start_time');
        if (start === null || !/^\d+$/.test(start)) return json(400, { error: 'InvalidValue', description: 'start_time is required: a Unix epoch time in seconds' });
        if (Number(start) > nowSeconds - 60) return json(400, { error: 'InvalidValue', description: 'Too recent start_time. Use a start_time older than 1 minute' });
        after = { ts: Number(start), id: 0 };
      }
      // What changed before the last minute, in export order: generated_timestamp, then id.
      const stamp = (t: ZendeskStoredTicket) => Math.floor(t.updated_at / 1000);
      const eligible = ctx.state.tickets
        .filter((t) => stamp(t) < nowSeconds - 60 && (stamp(t) > after.ts || (stamp(t) === after.ts && t.id > after.id)))
        .sort((x, y) => stamp(x) - stamp(y) || x.id - y.id);
      const page = eligible.slice(0, perPage);
      const last = page[page.length - 1];
      const afterCursor = last ? exportCursor(stamp(last), last.id) : exportCursor(after.ts, after.id);
      const base = `${req.params.base}/api/v2/incremental/tickets/cursor.json`;
      return json(200, {
        tickets: page.map((t) => ticketJson(t, req.params.base!)),
        after_url: `${base}?cursor=${afterCursor}`,
        after_cursor: afterCursor,
        before_url: null,
        before_cursor: null,
        end_of_stream: eligible.length <= perPage,
      });
    },
  },
];

/** The account's host out of the request path (`/~acme.zendesk.com/api/v2/…`). */
function splitHost(path: string): { subdomain: string; rest: string } | null {
  const m = /^\/~([^/]+)(\/.*)?$/.exec(path);
  const host = m && HOST.exec(decodeURIComponent(m[1]!));
  return host ? { subdomain: host[1]!, rest: m![2] ?? '/' } : null;
}

export const zendeskSandbox: ProviderModule<ZendeskState> = {
  key: 'zendesk',
  displayName: 'Zendesk',
  accounts: [
    { id: '368230001', name: 'Jane Agent', email: 'jane@acme.test' },
    { id: '368230002', name: 'Hank Agent', email: 'hank@globex.test' },
  ],
  tokenPrefix: { access: 'zd_sandbox_at_', refresh: 'zd_sandbox_rt_' },
  oauth: {
    authorizePath: '/oauth/authorizations/new',
    tokenPath: '/oauth/tokens',
    defaultTtlSeconds: 3600,
    tokenResponse(issued) {
      return {
        access_token: issued.accessToken,
        token_type: 'bearer',
        scope: issued.scope.join(' '),
        refresh_token: issued.refreshToken,
        expires_in: issued.expiresIn,
        refresh_token_expires_in: 2_592_000,
      };
    },
  },
  authError(reason) {
    if (reason === 'missing') return json(401, { error: "Couldn't authenticate you" }, { 'www-authenticate': 'Bearer realm="Zendesk"' });
    return json(
      401,
      { error: 'invalid_token', error_description: 'The access token provided is expired, revoked, malformed or invalid for other reasons.' },
      { 'www-authenticate': 'Bearer realm="Zendesk"' },
    );
  },
  seed,
  routes,
  tick(ctx) {
    const n = ctx.state.tickets.length + 1;
    createTicket(ctx.state, { subject: `Order #${4000 + n} has not arrived`, comment: { body: 'Where is my order?' }, requester_id: 368239001 }, 368239001, ctx.now());
    // A churning demo keeps the newest 5,000.
    if (ctx.state.tickets.length > 5000) ctx.state.tickets.splice(0, ctx.state.tickets.length - 5000);
  },
  handle(req, ctx, oauth: OAuthServer) {
    const at = splitHost(req.path);
    if (!at) return json(404, { error: 'InvalidEndpoint', description: 'Use https://{subdomain}.zendesk.com' });
    const binding = JSON.stringify({ subdomain: at.subdomain });
    const spec = zendeskSandbox.oauth!;
    if (at.rest === spec.authorizePath) {
      // The consent form posts back to the host the browser came to.
      if (req.method === 'GET') return oauth.authorizePage({ ...zendeskSandbox, oauth: { ...spec, authorizePath: req.path } }, req, ctx, binding);
      return oauth.authorizeDecision(zendeskSandbox, req, ctx);
    }
    if (at.rest === spec.tokenPath) return req.method === 'POST' ? oauth.tokenEndpoint(zendeskSandbox, req, ctx, binding) : json(405, { error: 'method_not_allowed' });
    // A token works only at the subdomain it was granted for (tokens minted by Sandbox.oauth.issueTokens have none).
    const checked = oauth.checkAccessToken('zendesk', bearerToken(req));
    if ('record' in checked && checked.record.binding !== undefined && checked.record.binding !== binding) return zendeskSandbox.authError('invalid', req);
    const base = `https://${at.subdomain}.zendesk.com`;
    let pathMatched = false;
    for (const route of routes) {
      const params = matchPath(route.path, at.rest);
      if (!params) continue;
      pathMatched = true;
      if (route.method !== req.method) continue;
      return route.handler({ ...req, path: at.rest, params: { ...params, base } }, ctx);
    }
    return pathMatched ? json(405, { error: 'MethodNotAllowed' }) : json(404, { error: 'InvalidEndpoint', description: 'Not found' });
  },
};
