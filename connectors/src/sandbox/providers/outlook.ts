import { createHash } from 'node:crypto';
import { ProviderContext, SandboxAccount, SandboxRequest, json } from '../core';
import { GraphState, graphError, graphModule, itemNotFound, odataPage, parseFilter } from './microsoft-graph';
import { throttle } from './throttle';

type Recipient = { emailAddress: { name?: string; address: string } };

export interface OutlookFolder {
  id: string;
  displayName: string;
  /** inbox, drafts, sentitems…: usable in place of the id. */
  wellKnownName?: string;
}

export interface OutlookMessage {
  id: string;
  folderId: string;
  subject: string;
  body: { contentType: 'text' | 'html'; content: string };
  from: Recipient;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  bccRecipients: Recipient[];
  createdDateTime: string;
  lastModifiedDateTime: string;
  receivedDateTime: string;
  sentDateTime: string;
  isRead: boolean;
  isDraft: boolean;
  conversationId: string;
  internetMessageId: string;
  importance: 'low' | 'normal' | 'high';
}

export interface OutlookState extends GraphState {
  folders: OutlookFolder[];
  messages: OutlookMessage[];
  nextId: number;
}

const OWNER = { name: 'Jane Cooper', address: 'jane@acme.test' };

/** Exchange ids: long, base64-ish, opaque. */
function exchangeId(kind: string, n: number | string): string {
  return `AAMkAGI2${createHash('sha256').update(`${kind}:${n}`).digest('base64').replace(/\//g, '-').replace(/=+$/, '')}AAA=`;
}

/** Graph writes times to the second, with Z. */
function graphTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

function seed(): OutlookState {
  const wellKnown: [string, string][] = [
    ['inbox', 'Inbox'],
    ['drafts', 'Drafts'],
    ['sentitems', 'Sent Items'],
    ['deleteditems', 'Deleted Items'],
    ['archive', 'Archive'],
    ['junkemail', 'Junk Email'],
    ['outbox', 'Outbox'],
  ];
  const folders: OutlookFolder[] = wellKnown.map(([wellKnownName, displayName]) => ({ id: exchangeId('folder', wellKnownName), displayName, wellKnownName }));
  folders.push({ id: exchangeId('folder', 'customers'), displayName: 'Customers' }, { id: exchangeId('folder', 'invoices'), displayName: 'Invoices' });
  for (let i = 1; i <= 55; i++) folders.push({ id: exchangeId('folder', `project-${i}`), displayName: `Project ${String(i).padStart(2, '0')}` });
  const state: OutlookState = { folders, messages: [], nextId: 1, throttle: throttle() };
  const inbox = folders[0]!.id;
  const base = Date.parse('2026-01-05T09:00:00Z');
  const senders = [
    { name: 'Maria Johnson', address: 'maria@globex.test' },
    { name: 'Li Chen', address: 'li@initech.test' },
  ];
  for (let i = 0; i < 25; i++) {
    addMessage(state, {
      folderId: i % 8 === 7 ? folders[8]!.id : inbox,
      subject: `Order ${2000 + i} status`,
      body: { contentType: 'html', content: `<html><body><p>Hi Jane, order ${2000 + i} has shipped.</p></body></html>` },
      from: { emailAddress: senders[i % 2]! },
      toRecipients: [{ emailAddress: OWNER }],
      at: base + i * 3600_000,
      isRead: i < 22,
    });
  }
  return state;
}

function addMessage(
  state: OutlookState,
  m: Pick<OutlookMessage, 'folderId' | 'subject' | 'body' | 'from' | 'toRecipients'> &
    Partial<Pick<OutlookMessage, 'ccRecipients' | 'bccRecipients' | 'isRead' | 'isDraft' | 'conversationId'>> & { at: number },
): OutlookMessage {
  const n = state.nextId++;
  const at = graphTime(m.at);
  const message: OutlookMessage = {
    id: exchangeId('message', n),
    folderId: m.folderId,
    subject: m.subject,
    body: m.body,
    from: m.from,
    toRecipients: m.toRecipients,
    ccRecipients: m.ccRecipients ?? [],
    bccRecipients: m.bccRecipients ?? [],
    createdDateTime: at,
    lastModifiedDateTime: at,
    receivedDateTime: at,
    sentDateTime: at,
    isRead: m.isRead ?? false,
    isDraft: m.isDraft ?? false,
    conversationId: m.conversationId ?? exchangeId('conversation', n),
    internetMessageId: `<SBX${n}@${m.from.emailAddress.address.split('@')[1]}>`,
    importance: 'normal',
  };
  state.messages.push(message);
  return message;
}

function resource(m: OutlookMessage, folders: OutlookFolder[]) {
  const text = m.body.contentType === 'html' ? m.body.content.replace(/<[^>]+>/g, ' ') : m.body.content;
  const { folderId, ...rest } = m;
  return {
    '@odata.etag': `W/"CQAAABYAAAAiIsqMbYjsT5e/T7KzowPTAAA${m.lastModifiedDateTime.replace(/\D/g, '')}"`,
    ...rest,
    changeKey: 'CQAAABYAAAAiIsqMbYjsT5e/T7KzowPTAAA',
    categories: [],
    hasAttachments: false,
    bodyPreview: text.replace(/\s+/g, ' ').trim().slice(0, 255),
    parentFolderId: folders.find((f) => f.id === folderId)?.id ?? folderId,
    sender: m.from,
    replyTo: [],
    isReadReceiptRequested: false,
    isDeliveryReceiptRequested: false,
    inferenceClassification: 'focused',
    webLink: `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(m.id)}&exvsurl=1&viewmodel=ReadMessageItem`,
    flag: { flagStatus: 'notFlagged' },
  };
}

/** `$select`: the listed fields, and id and @odata.etag always. */
function select(item: Record<string, unknown>, fields: string | null): Record<string, unknown> {
  if (!fields) return item;
  const wanted = new Set(['id', '@odata.etag', ...fields.split(',').map((f) => f.trim())]);
  return Object.fromEntries(Object.entries(item).filter(([k]) => wanted.has(k)));
}

type Ctx = ProviderContext<OutlookState>;

function folderOf(ctx: Ctx, idOrName: string): OutlookFolder | undefined {
  const key = idOrName.toLowerCase();
  return ctx.state.folders.find((f) => f.id === idOrName || f.wellKnownName === key);
}

const MESSAGE_FIELDS = {
  receivedDateTime: 'date',
  sentDateTime: 'date',
  createdDateTime: 'date',
  lastModifiedDateTime: 'date',
  isRead: 'bool',
  isDraft: 'bool',
  subject: 'string',
  conversationId: 'string',
  importance: 'string',
} as const;

function listMessages(req: SandboxRequest, ctx: Ctx, folder: OutlookFolder | undefined) {
  const filterExpr = req.query.get('$filter');
  const orderExpr = req.query.get('$orderby');
  const search = req.query.get('$search');
  if (search !== null && (filterExpr !== null || orderExpr !== null))
    return graphError(400, 'ErrorInvalidUrlQuery', "The query parameter '$orderby' or '$filter' is not supported with '$search'.");
  let items = ctx.state.messages.filter((m) => (folder ? m.folderId === folder.id : true));
  let filterFields: string[] = [];
  if (filterExpr !== null) {
    const filter = parseFilter<OutlookMessage>(filterExpr, MESSAGE_FIELDS, (m, f) => m[f as keyof OutlookMessage]);
    if ('error' in filter) return graphError(400, 'BadRequest', filter.error);
    items = items.filter(filter.test);
    filterFields = filter.fields;
  }
  if (search !== null) {
    const needle = search.replace(/^"|"$/g, '').toLowerCase();
    items = items.filter((m) => [m.subject, m.body.content, m.from.emailAddress.address, m.from.emailAddress.name].some((t) => t?.toLowerCase().includes(needle)));
  }
  let field = 'receivedDateTime';
  let descending = true;
  if (orderExpr !== null) {
    const m = /^\s*(\w+)(?:\s+(asc|desc))?\s*$/i.exec(orderExpr);
    if (!m || !(m[1]! in MESSAGE_FIELDS)) return graphError(400, 'BadRequest', `Could not find a property named '${orderExpr}' on type 'microsoft.graph.message'.`);
    field = m[1]!;
    descending = (m[2] ?? 'asc').toLowerCase() === 'desc';
    // Exchange: a sorted property must come first in the filter too.
    if (filterFields.length && filterFields[0] !== field) return graphError(400, 'InefficientFilter', 'The restriction or sort order is too complex for this operation.');
  }
  const key = field as keyof OutlookMessage;
  items = items.slice().sort((a, b) => String(a[key]).localeCompare(String(b[key])) * (descending ? -1 : 1) || a.id.localeCompare(b.id));
  const selectFields = req.query.get('$select');
  const shaped = items.map((m) => select(resource(m, ctx.state.folders), selectFields));
  return odataPage(req, ctx, shaped, { context: "users('me')/messages", defaultTop: 10, maxTop: 1000 });
}

function recipients(value: unknown): Recipient[] | null {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return null;
  const out: Recipient[] = [];
  for (const r of value) {
    const address = (r as Recipient)?.emailAddress?.address;
    if (typeof address !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) return null;
    out.push({ emailAddress: { name: (r as Recipient).emailAddress.name ?? address, address } });
  }
  return out;
}

/** A message body from a request (`message` of sendMail, or a draft), or the Graph error. */
function messageInput(raw: unknown, requireRecipients: boolean) {
  const m = (raw ?? {}) as Record<string, unknown>;
  const to = recipients(m.toRecipients);
  const cc = recipients(m.ccRecipients);
  const bcc = recipients(m.bccRecipients);
  if (!to || !cc || !bcc) return graphError(400, 'ErrorInvalidRecipients', "At least one recipient isn't valid., A message can't be sent because it contains no recipients.");
  if (requireRecipients && to.length + cc.length + bcc.length === 0)
    return graphError(400, 'ErrorInvalidRecipients', "At least one recipient isn't valid., A message can't be sent because it contains no recipients.");
  const body = (m.body ?? { contentType: 'text', content: '' }) as { contentType?: string; content?: unknown };
  const type = String(body.contentType ?? 'text').toLowerCase();
  if (type !== 'text' && type !== 'html') return graphError(400, 'RequestBodyRead', `Requested value '${body.contentType}' was not found.`);
  return {
    subject: typeof m.subject === 'string' ? m.subject : '',
    body: { contentType: type as 'text' | 'html', content: String(body.content ?? '') },
    toRecipients: to,
    ccRecipients: cc,
    bccRecipients: bcc,
  };
}

function sender(me: SandboxAccount): Recipient {
  return { emailAddress: { name: me.name, address: me.email } };
}

/** Sends as `me`: a copy in Sent Items, and one in the inbox when `me` is a recipient. */
function deliver(ctx: Ctx, me: SandboxAccount, input: Exclude<ReturnType<typeof messageInput>, { status: number }>, conversationId?: string) {
  const folder = (name: string) => folderOf(ctx, name)!.id;
  const sent = addMessage(ctx.state, { ...input, folderId: folder('sentitems'), from: sender(me), at: ctx.now(), isRead: true, conversationId });
  const all = [...input.toRecipients, ...input.ccRecipients, ...input.bccRecipients];
  if (all.some((r) => r.emailAddress.address.toLowerCase() === me.email.toLowerCase())) {
    addMessage(ctx.state, { ...input, folderId: folder('inbox'), from: sender(me), at: ctx.now(), conversationId: sent.conversationId });
  }
  return sent;
}

export const outlookSandbox = graphModule<OutlookState>({
  key: 'outlook',
  displayName: 'Microsoft',
  seed,
  routes: [
    {
      method: 'GET',
      path: '/v1.0/me/mailFolders',
      handler(req, ctx) {
        const hidden = req.query.get('includeHiddenFolders') === 'true';
        const folders = ctx.state.folders
          .filter((f) => hidden || f.wellKnownName !== 'outbox')
          .map((f) => {
            const inFolder = ctx.state.messages.filter((m) => m.folderId === f.id);
            return {
              id: f.id,
              displayName: f.displayName,
              parentFolderId: exchangeId('folder', 'root'),
              childFolderCount: 0,
              unreadItemCount: inFolder.filter((m) => !m.isRead).length,
              totalItemCount: inFolder.length,
              sizeInBytes: inFolder.length * 4096,
              isHidden: false,
            };
          });
        return odataPage(req, ctx, folders, { context: "users('me')/mailFolders", defaultTop: 10, maxTop: 1000 });
      },
    },
    {
      method: 'GET',
      path: '/v1.0/me/mailFolders/:folderId/messages',
      handler(req, ctx) {
        const folder = folderOf(ctx, req.params.folderId!);
        return folder ? listMessages(req, ctx, folder) : itemNotFound();
      },
    },
    { method: 'GET', path: '/v1.0/me/messages', handler: (req, ctx) => listMessages(req, ctx, undefined) },
    {
      method: 'GET',
      path: '/v1.0/me/messages/:id',
      handler(req, ctx) {
        const m = ctx.state.messages.find((x) => x.id === req.params.id);
        return m ? json(200, select(resource(m, ctx.state.folders), req.query.get('$select'))) : itemNotFound();
      },
    },
    {
      method: 'POST',
      path: '/v1.0/me/messages',
      handler(req, ctx, me) {
        const input = messageInput(req.body, false);
        if ('status' in input) return input;
        const draft = addMessage(ctx.state, { ...input, folderId: folderOf(ctx, 'drafts')!.id, from: sender(me), at: ctx.now(), isRead: true, isDraft: true });
        return json(201, { '@odata.context': "https://graph.microsoft.com/v1.0/$metadata#users('me')/messages/$entity", ...resource(draft, ctx.state.folders) });
      },
    },
    {
      method: 'POST',
      path: '/v1.0/me/sendMail',
      handler(req, ctx, me) {
        const body = (req.body ?? {}) as { message?: unknown };
        if (!body.message || typeof body.message !== 'object') return graphError(400, 'ErrorInvalidParameter', "The value of the parameter 'Message' is empty.");
        const input = messageInput(body.message, true);
        if ('status' in input) return input;
        deliver(ctx, me, input);
        return { status: 202 };
      },
    },
    {
      method: 'POST',
      path: '/v1.0/me/messages/:id/reply',
      handler(req, ctx, me) {
        const original = ctx.state.messages.find((x) => x.id === req.params.id);
        if (!original) return itemNotFound();
        const comment = String(((req.body ?? {}) as { comment?: unknown }).comment ?? '');
        const input = {
          subject: `RE: ${original.subject}`,
          body: { contentType: 'html' as const, content: `<html><body><p>${comment}</p><hr>${original.body.content}</body></html>` },
          toRecipients: [original.from],
          ccRecipients: [],
          bccRecipients: [],
        };
        deliver(ctx, me, input, original.conversationId);
        return { status: 202 };
      },
    },
  ],
  tick(ctx) {
    const n = ctx.state.nextId;
    addMessage(ctx.state, {
      folderId: folderOf(ctx, 'inbox')!.id,
      subject: `New lead #${n}`,
      body: { contentType: 'html', content: `<html><body><p>A new lead (#${n}) filled in the contact form.</p></body></html>` },
      from: { emailAddress: { name: 'Website', address: 'forms@acme.test' } },
      toRecipients: [{ emailAddress: OWNER }],
      at: ctx.now(),
    });
  },
});
