import { send } from '../runtime';
import { defineAction, defineConnector, definePollTrigger } from '../types';
import { arr, bool, int, logo, matches, nullable, obj, oneOf, res, str } from './shared';
import { HighWater } from './high-water';
import { isHighWater, pollWindow } from './poll';

export interface ZendeskTicket {
  id: number;
  url: string;
  subject: string | null;
  description: string | null;
  status: string;
  priority: string | null;
  type: string | null;
  requester_id: number | null;
  assignee_id: number | null;
  group_id: number | null;
  tags: string[];
  created_at: string;
  updated_at: string;
}

function ticketOut(t: ZendeskTicket) {
  return {
    id: t.id,
    subject: t.subject,
    description: t.description,
    status: t.status,
    priority: t.priority,
    type: t.type,
    requester_id: t.requester_id,
    assignee_id: t.assignee_id,
    group_id: t.group_id,
    tags: t.tags,
    created_at: t.created_at,
    updated_at: t.updated_at,
  };
}

const ticketSchema = res(
  {
    id: int('Id'),
    subject: nullable(str('Subject')),
    description: nullable(str('Description')),
    status: str('Status'),
    priority: nullable(str('Priority')),
    type: nullable(str('Type')),
    requester_id: nullable(int('Requester id')),
    assignee_id: nullable(int('Assignee id')),
    group_id: nullable(int('Group id')),
    tags: arr(str()),
    created_at: str('Created'),
    updated_at: str('Updated'),
  },
  ['id', 'status', 'created_at', 'updated_at'],
);

const PRIORITY = oneOf({ title: 'Priority', enum: ['urgent', 'high', 'normal', 'low'] });
const TYPE = oneOf({ title: 'Type', enum: ['problem', 'incident', 'question', 'task'] });
const STATUS = oneOf({ title: 'Status', enum: ['new', 'open', 'pending', 'hold', 'solved', 'closed'] });
const GROUP = str('Group', { description: 'Group id', pattern: '^[0-9]+$', 'x-options': 'groups' });
const groupId = (id: string | undefined) => (id === undefined ? undefined : Number(id));
const TAGS = arr(str({ pattern: '^\\S+$' }), { title: 'Tags' });
const TICKET_ID = int('Ticket id', { minimum: 1 });

const ticketPath = (id: number) => `tickets/${id}.json`;

const createTicket = defineAction({
  name: 'Create ticket',
  description: 'Opens a ticket; the description is its first comment (POST /api/v2/tickets.json).',
  // Zendesk de-duplicates ticket creation by the Idempotency-Key header, which carries the step's key.
  readOnly: false,
  retrySafe: true,
  input: obj(
    {
      subject: str('Subject', { minLength: 1 }),
      description: str('Description', { minLength: 1, description: 'The first comment' }),
      requester_email: str('Requester email', { format: 'email', description: 'Default: the connected user' }),
      requester_name: str('Requester name', { description: 'Used when the email is new to Zendesk' }),
      priority: PRIORITY,
      type: TYPE,
      group_id: GROUP,
      tags: TAGS,
    },
    ['subject', 'description'],
  ),
  output: ticketSchema,
  async run(ctx, input) {
    const ticket: Record<string, unknown> = {
      subject: input.subject,
      comment: { body: input.description },
      priority: input.priority,
      type: input.type,
      group_id: groupId(input.group_id),
      tags: input.tags,
    };
    if (input.requester_email) ticket.requester = { email: input.requester_email, name: input.requester_name ?? input.requester_email };
    const out = await send<{ ticket: ZendeskTicket }>(ctx, { method: 'POST', path: 'tickets.json', headers: { 'idempotency-key': ctx.idempotencyKey }, body: { ticket } });
    return ticketOut(out.ticket);
  },
});

const updateTicket = defineAction({
  name: 'Update ticket',
  description: 'Sets fields of a ticket: status, priority, group, assignee, tags (PUT /api/v2/tickets/{id}.json).',
  // A PUT setting the same fields again changes nothing.
  readOnly: false,
  retrySafe: true,
  input: obj(
    {
      ticket_id: TICKET_ID,
      subject: str('Subject', { minLength: 1 }),
      status: STATUS,
      priority: PRIORITY,
      type: TYPE,
      group_id: GROUP,
      assignee_id: int('Assignee id'),
      tags: { ...TAGS, description: 'Replaces the tags' },
    },
    ['ticket_id'],
    { minProperties: 2 },
  ),
  output: ticketSchema,
  async run(ctx, input) {
    const { ticket_id, group_id, ...fields } = input;
    const ticket = group_id === undefined ? fields : { ...fields, group_id: groupId(group_id) };
    const out = await send<{ ticket: ZendeskTicket }>(ctx, { method: 'PUT', path: ticketPath(ticket_id), body: { ticket } });
    return ticketOut(out.ticket);
  },
});

const addComment = defineAction({
  name: 'Comment on ticket',
  description: 'Adds a public reply or an internal note to a ticket (PUT /api/v2/tickets/{id}.json with a comment).',
  readOnly: false,
  retrySafe: false,
  input: obj({ ticket_id: TICKET_ID, body: str('Comment', { minLength: 1 }), public: bool('Public reply', { default: true, description: 'false: an internal note' }) }, [
    'ticket_id',
    'body',
  ]),
  output: ticketSchema,
  async run(ctx, input) {
    const out = await send<{ ticket: ZendeskTicket }>(ctx, {
      method: 'PUT',
      path: ticketPath(input.ticket_id),
      body: { ticket: { comment: { body: input.body, public: input.public ?? true } } },
    });
    return ticketOut(out.ticket);
  },
});

const findTickets = defineAction({
  name: 'Find tickets',
  description: 'Searches tickets with Zendesk search syntax, e.g. `status:open priority:urgent printer` (GET /api/v2/search.json).',
  readOnly: true,
  retrySafe: true,
  input: obj(
    {
      query: str('Query', { minLength: 1, examples: ['status<solved requester:jane@example.com'] }),
      page: int('Page', { minimum: 1, default: 1 }),
      per_page: int('Page size', { minimum: 1, maximum: 100, default: 25 }),
    },
    ['query'],
  ),
  output: res({ tickets: arr(ticketSchema), count: int('Matches'), next_page: int('Next page') }, ['tickets', 'count']),
  async run(ctx, input) {
    const page = input.page ?? 1;
    const out = await send<{ results: (ZendeskTicket & { result_type: string })[]; count: number; next_page: string | null }>(ctx, {
      method: 'GET',
      path: 'search.json',
      query: { query: `type:ticket ${input.query}`, page, per_page: input.per_page ?? 25 },
    });
    const tickets = out.results.filter((r) => r.result_type === 'ticket').map(ticketOut);
    return out.next_page ? { tickets, count: out.count, next_page: page + 1 } : { tickets, count: out.count };
  },
});

/** The cursor of Zendesk's poll triggers: the incremental export's own cursor (or where it starts), and the mark already seen. */
export interface ZendeskCursor {
  export?: string;
  start_time?: number;
  mark: HighWater;
}

interface ExportPage {
  tickets: ZendeskTicket[];
  after_cursor: string | null;
  end_of_stream: boolean;
}

function ticketTrigger(kind: 'new' | 'updated') {
  const updated = kind === 'updated';
  const atOf = (t: ZendeskTicket) => new Date(updated ? t.updated_at : t.created_at).toISOString();
  const idOf = (t: ZendeskTicket) => String(t.id);
  const toItem = (t: ZendeskTicket) => ({ id: String(t.id), ...(updated ? { dedupeKey: `${t.id}:${t.updated_at}` } : {}), data: ticketOut(t) });
  return definePollTrigger<ZendeskCursor>()({
    name: updated ? 'Ticket created or updated' : 'New ticket',
    description: updated
      ? 'A ticket was created or changed (the incremental ticket export); each change runs once. Zendesk leaves out the last minute.'
      : 'A ticket was created (the incremental ticket export). Zendesk leaves out the last minute.',
    input: obj({}),
    output: ticketSchema,
    intervalSeconds: 300,
    // The incremental exports allow 10 requests a minute.
    minIntervalSeconds: 60,
    async poll(ctx, { cursor, limit }) {
      const mark = isHighWater(cursor?.mark) ? cursor!.mark : null;
      if (!cursor || !mark) {
        // The export runs oldest first; the newest few come from search, newest first.
        const list = await send<{ results: ZendeskTicket[] }>(ctx, {
          method: 'GET',
          path: 'search.json',
          query: { query: 'type:ticket', sort_by: updated ? 'updated_at' : 'created_at', sort_order: 'desc', per_page: 100 },
        });
        const page = pollWindow(list.results, null, limit, atOf, idOf, toItem);
        const newest = list.results.reduce((max, t) => Math.max(max, Date.parse(t.updated_at)), 0);
        return { items: page.items, cursor: { start_time: Math.floor((newest || Date.now() - 60_000) / 1000), mark: page.cursor } };
      }
      if (limit === 0) return { items: [], cursor };
      const query = cursor.export ? { cursor: cursor.export, per_page: limit } : { start_time: cursor.start_time ?? Math.floor(Date.parse(mark.at) / 1000), per_page: limit };
      const out = await send<ExportPage>(ctx, { method: 'GET', path: 'incremental/tickets/cursor.json', query });
      const live = out.tickets.filter((t) => t.status !== 'deleted');
      const page = pollWindow(live, mark, limit, atOf, idOf, toItem, { moreAtProvider: !out.end_of_stream });
      return { items: page.items, cursor: { export: out.after_cursor ?? cursor.export, mark: page.cursor }, more: page.more };
    },
  });
}

export const zendeskConnector = defineConnector({
  key: 'zendesk',
  name: 'Zendesk',
  description: 'Create, update, comment on and find tickets in Zendesk Support; start flows when tickets are created or updated.',
  logo: logo(
    '#03363D',
    '<path d="M14 22h22L14 44h22" fill="none" stroke="#fff" stroke-width="5" stroke-linejoin="round"/><circle cx="46" cy="22" r="6" fill="#fff"/><path d="M40 44a6 6 0 0 1 12 0z" fill="#fff"/>',
  ),
  categories: ['support'],
  docsUrl: 'https://developer.zendesk.com/api-reference/',
  auth: {
    type: 'oauth2',
    authorizationUrl: 'https://{{subdomain}}.zendesk.com/oauth/authorizations/new',
    tokenUrl: 'https://{{subdomain}}.zendesk.com/oauth/tokens',
    scopes: ['read', 'write'],
    pkce: true,
    refreshable: true,
  },
  connectionConfig: {
    subdomain: { title: 'Zendesk subdomain', pattern: '[a-z0-9][a-z0-9-]*', example: 'acme', description: 'The part before .zendesk.com' },
  },
  baseUrl: 'https://{{subdomain}}.zendesk.com/api/v2',
  pagination: { style: 'cursor', cursorParam: 'page[after]', nextCursorPath: 'meta.after_cursor', limitParam: 'page[size]' },
  actions: { create_ticket: createTicket, update_ticket: updateTicket, add_comment: addComment, find_tickets: findTickets },
  options: {
    groups: {
      name: 'Groups',
      description: 'Agent groups, by name',
      async run(ctx, { search, cursor }) {
        // groups.json has no name filter: walk pages (bounded) for a search. Cursor = Zendesk's after_cursor.
        const options: { value: string; label: string }[] = [];
        let after = cursor;
        for (let i = 0; i < (search ? 5 : 1); i++) {
          const page = await send<{ groups: { id: number; name: string; deleted: boolean }[]; meta: { has_more: boolean; after_cursor: string | null } }>(ctx, {
            method: 'GET',
            path: 'groups.json',
            query: { 'page[size]': 100, 'page[after]': after },
          });
          for (const g of page.groups) if (!g.deleted && matches(search, g.name)) options.push({ value: String(g.id), label: g.name });
          after = page.meta.has_more ? (page.meta.after_cursor ?? undefined) : undefined;
          if (!after || options.length >= 50) break;
        }
        return after ? { options, nextCursor: after } : { options };
      },
    },
  },
  triggers: { new_ticket: ticketTrigger('new'), updated_ticket: ticketTrigger('updated') },
  async account(ctx) {
    const { user } = await send<{ user: { id: number; name: string; email: string; role: string } }>(ctx, { method: 'GET', path: 'users/me.json' });
    return { id: String(user.id), name: `${user.email} (${ctx.config.subdomain}.zendesk.com)`, details: { name: user.name, role: user.role } };
  },
});
