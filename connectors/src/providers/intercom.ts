import { send } from '../runtime';
import { ActionContext, defineAction, defineConnector, definePollTrigger } from '../types';
import { arr, dict, int, logo, matches, nullable, obj, oneOf, pageLocally, res, str, types } from './shared';
import { HighWater } from './high-water';
import { isHighWater, pollWindow } from './poll';

export const INTERCOM_VERSION = '2.11';

export interface IntercomContact {
  type: 'contact';
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

export interface IntercomConversation {
  type: 'conversation';
  id: string;
  title: string | null;
  state: 'open' | 'closed' | 'snoozed';
  created_at: number;
  updated_at: number;
  admin_assignee_id: number | null;
  team_assignee_id: string | null;
  source: { type: string; body: string; subject: string; author: { type: string; id: string; name?: string | null; email?: string | null } };
  contacts: { contacts: { id: string }[] };
}

interface SearchPage<T> {
  pages: { next?: { starting_after: string } | null };
  total_count: number;
  data?: T[];
  conversations?: T[];
}

function contactOut(c: IntercomContact) {
  return { id: c.id, role: c.role, email: c.email, name: c.name, phone: c.phone, external_id: c.external_id, created_at: c.created_at, updated_at: c.updated_at };
}

function conversationOut(c: IntercomConversation) {
  return {
    id: c.id,
    title: c.title,
    state: c.state,
    created_at: c.created_at,
    updated_at: c.updated_at,
    body: c.source.body,
    author_type: c.source.author.type,
    author_id: c.source.author.id,
    author_email: c.source.author.email ?? null,
    contact_ids: c.contacts.contacts.map((x) => x.id),
    admin_assignee_id: c.admin_assignee_id === null ? null : String(c.admin_assignee_id),
    team_assignee_id: c.team_assignee_id,
  };
}

const unixTime = (title: string) => int(title, { description: 'Unix seconds' });
const contactSchema = res(
  {
    id: str('Id'),
    role: str('Role'),
    email: nullable(str('Email')),
    name: nullable(str('Name')),
    phone: nullable(str('Phone')),
    external_id: nullable(str('External id')),
    created_at: unixTime('Created'),
    updated_at: unixTime('Updated'),
  },
  ['id', 'role'],
);
const conversationSchema = res(
  {
    id: str('Id'),
    title: nullable(str('Title')),
    state: str('State'),
    created_at: unixTime('Created'),
    updated_at: unixTime('Updated'),
    body: str('First message', { description: 'HTML' }),
    author_type: str('Author type', { description: 'user, lead, admin or bot' }),
    author_id: str('Author id'),
    author_email: nullable(str('Author email')),
    contact_ids: arr(str()),
    admin_assignee_id: nullable(str('Assigned admin')),
    team_assignee_id: nullable(str('Assigned team')),
  },
  ['id', 'state', 'created_at', 'updated_at'],
);

/** The connected admin (replies are sent as them unless another admin is named). */
async function me(ctx: ActionContext) {
  return send<{ id: string; name: string; email: string; app: { id_code: string; name: string } }>(ctx, { method: 'GET', path: 'me' });
}

const CONTACT_ID = str('Contact', { 'x-options': 'contacts' });

const createContact = defineAction({
  name: 'Create contact',
  description: 'Creates a user or lead (POST /contacts). A user needs an email or external id; Intercom answers 409 if one exists.',
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      role: oneOf({ title: 'Role', enum: ['user', 'lead'], default: 'user' }),
      email: str('Email', { format: 'email' }),
      external_id: str('External id', { description: 'Your id of the user' }),
      name: str('Name'),
      phone: str('Phone'),
      custom_attributes: dict(types(['string', 'number', 'boolean', 'null']), { title: 'Custom attributes' }),
    },
    [],
  ),
  output: contactSchema,
  async run(ctx, input) {
    return contactOut(await send<IntercomContact>(ctx, { method: 'POST', path: 'contacts', body: { role: 'user', ...input } }));
  },
});

const updateContact = defineAction({
  name: 'Update contact',
  description: 'Sets fields of a contact (PUT /contacts/{id}).',
  // A PUT setting the same fields again changes nothing.
  readOnly: false,
  retrySafe: true,
  input: obj(
    {
      contact_id: CONTACT_ID,
      email: str('Email', { format: 'email' }),
      name: str('Name'),
      phone: str('Phone'),
      custom_attributes: dict(types(['string', 'number', 'boolean', 'null']), { title: 'Custom attributes' }),
    },
    ['contact_id'],
    { minProperties: 2 },
  ),
  output: contactSchema,
  async run(ctx, input) {
    const { contact_id, ...fields } = input;
    return contactOut(await send<IntercomContact>(ctx, { method: 'PUT', path: `contacts/${encodeURIComponent(contact_id)}`, body: fields }));
  },
});

const findContacts = defineAction({
  name: 'Find contacts',
  description: 'Searches contacts by exact email and/or name (POST /contacts/search); with neither, lists every user and lead.',
  readOnly: true,
  retrySafe: true,
  input: obj(
    {
      email: str('Email', { description: 'Exact match' }),
      name: str('Name', { description: 'Contains' }),
      per_page: int('Page size', { minimum: 1, maximum: 150, default: 50 }),
      starting_after: str('Page cursor', { description: 'starting_after of the previous page' }),
    },
    [],
  ),
  output: res({ contacts: arr(contactSchema), total_count: int('Matches'), starting_after: str('Next page cursor') }, ['contacts', 'total_count']),
  async run(ctx, input) {
    const clauses = [...(input.email ? [{ field: 'email', operator: '=', value: input.email }] : []), ...(input.name ? [{ field: 'name', operator: '~', value: input.name }] : [])];
    const page = await send<SearchPage<IntercomContact>>(ctx, {
      method: 'POST',
      path: 'contacts/search',
      body: {
        query: clauses.length === 0 ? { field: 'role', operator: 'IN', value: ['user', 'lead'] } : clauses.length === 1 ? clauses[0] : { operator: 'AND', value: clauses },
        pagination: { per_page: input.per_page ?? 50, starting_after: input.starting_after },
      },
    });
    const next = page.pages.next?.starting_after;
    const contacts = (page.data ?? []).map(contactOut);
    return next ? { contacts, total_count: page.total_count, starting_after: next } : { contacts, total_count: page.total_count };
  },
});

const replyToConversation = defineAction({
  name: 'Reply to conversation',
  description: 'Replies to a conversation as an admin, or adds an internal note (POST /conversations/{id}/reply).',
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      conversation_id: str('Conversation id', { pattern: '^[0-9]+$' }),
      body: str('Message', { minLength: 1, description: 'HTML or plain text' }),
      message_type: oneOf({ title: 'Kind', enum: ['comment', 'note'], default: 'comment', description: 'note: visible to teammates only' }),
      admin_id: str('As admin', { 'x-options': 'admins', description: 'Default: the connected admin' }),
    },
    ['conversation_id', 'body'],
  ),
  output: conversationSchema,
  async run(ctx, input) {
    const adminId = input.admin_id ?? (await me(ctx)).id;
    const conversation = await send<IntercomConversation>(ctx, {
      method: 'POST',
      path: `conversations/${encodeURIComponent(input.conversation_id)}/reply`,
      body: { message_type: input.message_type ?? 'comment', type: 'admin', admin_id: adminId, body: input.body },
    });
    return conversationOut(conversation);
  },
});

function conversationTrigger(field: 'created_at' | 'updated_at') {
  const updated = field === 'updated_at';
  return definePollTrigger<HighWater>()({
    name: updated ? 'Conversation created or updated' : 'New conversation',
    description: updated
      ? 'A conversation was started or changed (a reply, a note, a state change): POST /conversations/search on updated_at; each change runs once.'
      : 'A conversation was started (POST /conversations/search on created_at).',
    input: obj({}),
    output: conversationSchema,
    intervalSeconds: 300,
    minIntervalSeconds: 60,
    async poll(ctx, { cursor, limit }) {
      const mark = isHighWater(cursor) ? cursor : null;
      if (mark && limit === 0) return { items: [], cursor: mark };
      const found: IntercomConversation[] = [];
      let startingAfter: string | undefined;
      // Times are whole seconds: ask from the mark's second and drop what the mark already covers.
      const since = mark ? Math.floor(Date.parse(mark.at) / 1000) - 1 : Math.floor(Date.now() / 1000) - 30 * 86_400;
      for (let i = 0; i < 5; i++) {
        const page = await send<SearchPage<IntercomConversation>>(ctx, {
          method: 'POST',
          path: 'conversations/search',
          body: {
            query: { field, operator: '>', value: since },
            sort: { field, order: mark ? 'ascending' : 'descending' },
            pagination: { per_page: 150, starting_after: startingAfter },
          },
        });
        found.push(...(page.conversations ?? []));
        startingAfter = page.pages.next?.starting_after;
        if (!mark || !startingAfter || found.length > limit + 150) break;
      }
      return pollWindow(
        found,
        mark,
        limit,
        (c) => new Date(c[field] * 1000).toISOString(),
        (c) => c.id,
        (c) => ({ id: c.id, ...(updated ? { dedupeKey: `${c.id}:${c.updated_at}` } : {}), data: conversationOut(c) }),
        { moreAtProvider: Boolean(startingAfter) },
      );
    },
  });
}

export const intercomConnector = defineConnector({
  key: 'intercom',
  name: 'Intercom',
  description: 'Create, update and find contacts and reply to conversations in Intercom; start flows when conversations start or change.',
  logo: logo(
    '#1F8DED',
    '<rect x="14" y="14" width="36" height="32" rx="8" fill="#fff"/><path d="M22 24v12M29 22v16M36 22v16M43 24v12" stroke="#1F8DED" stroke-width="3" stroke-linecap="round"/><path d="M40 46l8 6v-8" fill="#fff"/>',
  ),
  categories: ['support', 'communication', 'marketing'],
  docsUrl: 'https://developers.intercom.com/docs/build-an-integration/learn-more/authentication/setting-up-oauth',
  // Permissions are chosen on the app in the Developer Hub, not asked as scopes; tokens never
  // expire and there are no refresh tokens. US-hosted workspaces only (EU and AU have their own hosts and apps).
  auth: {
    type: 'oauth2',
    authorizationUrl: 'https://app.intercom.com/oauth',
    tokenUrl: 'https://api.intercom.io/auth/eagle/token',
    scopes: [],
    pkce: false,
    refreshable: false,
  },
  baseUrl: 'https://api.intercom.io',
  defaultHeaders: { 'intercom-version': INTERCOM_VERSION },
  pagination: { style: 'cursor', cursorParam: 'starting_after', nextCursorPath: 'pages.next.starting_after', limitParam: 'per_page' },
  actions: { create_contact: createContact, update_contact: updateContact, find_contacts: findContacts, reply_to_conversation: replyToConversation },
  options: {
    admins: {
      name: 'Admins',
      description: 'Teammates who can reply',
      async run(ctx, { search, cursor }) {
        const list = await send<{ admins: { id: string; name: string; email: string; away_mode_enabled?: boolean }[] }>(ctx, { method: 'GET', path: 'admins' });
        const items = list.admins.filter((a) => matches(search, a.name, a.email)).map((a) => ({ value: a.id, label: a.name, description: a.email }));
        return pageLocally(items, cursor);
      },
    },
    contacts: {
      name: 'Contacts',
      description: 'Users and leads; a search matches names',
      async run(ctx, { search, cursor }) {
        const page = search
          ? await send<SearchPage<IntercomContact>>(ctx, {
              method: 'POST',
              path: 'contacts/search',
              body: { query: { field: 'name', operator: '~', value: search }, pagination: { per_page: 50, starting_after: cursor } },
            })
          : await send<SearchPage<IntercomContact>>(ctx, { method: 'GET', path: 'contacts', query: { per_page: 50, starting_after: cursor } });
        const options = (page.data ?? []).map((c) => ({ value: c.id, label: c.name ?? c.email ?? c.id, description: c.email ?? undefined }));
        const next = page.pages.next?.starting_after;
        return next ? { options, nextCursor: next } : { options };
      },
    },
  },
  triggers: { new_conversation: conversationTrigger('created_at'), updated_conversation: conversationTrigger('updated_at') },
  async account(ctx) {
    const admin = await me(ctx);
    return { id: admin.app.id_code, name: `${admin.app.name} (${admin.email})`, details: { admin_id: admin.id, admin_name: admin.name } };
  },
});
