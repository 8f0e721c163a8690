import { ProviderContext, ProviderModule, SandboxRequest, intParam, json } from '../core';
import { googleError, googleIdentity, guard, invalid, notFound, pageToken, readPageToken, userinfoRoute } from './google-common';
import { throttle, Throttle } from './throttle';

export interface GmailMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  /** Header name → value, as sent (From, To, Cc, Subject, Date, Message-ID…). */
  headers: { name: string; value: string }[];
  /** The text/plain body. */
  text: string;
  html?: string;
  internalDate: number;
  historyId: number;
}

export interface GmailLabel {
  id: string;
  name: string;
  type: 'system' | 'user';
}

export interface GmailState {
  messages: GmailMessage[];
  labels: GmailLabel[];
  /** One record per change: messageAdded, or labels added / removed. */
  history: { id: number; messageId: string; kind: 'messageAdded' | 'labelsAdded' | 'labelsRemoved'; labelIds: string[] }[];
  historyId: number;
  /** history.list answers 404 for a startHistoryId below this (Gmail keeps history about a week). */
  oldestHistoryId: number;
  nextId: number;
  ticks: number;
  throttle: Throttle;
}

const SYSTEM_LABELS = [
  'INBOX',
  'SENT',
  'DRAFT',
  'SPAM',
  'TRASH',
  'UNREAD',
  'STARRED',
  'IMPORTANT',
  'CATEGORY_PERSONAL',
  'CATEGORY_SOCIAL',
  'CATEGORY_PROMOTIONS',
  'CATEGORY_UPDATES',
  'CATEGORY_FORUMS',
];
const OWNER = 'jane@acme.test';

function messageId(n: number): string {
  return `18d4${n.toString(16).padStart(12, '0')}`;
}

function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

function addMessage(state: GmailState, m: Omit<GmailMessage, 'id' | 'threadId' | 'historyId'> & { threadId?: string }): GmailMessage {
  const id = messageId(state.nextId++);
  state.historyId += 1;
  const message: GmailMessage = { ...m, id, threadId: m.threadId ?? id, historyId: state.historyId };
  if (!message.headers.some((h) => h.name.toLowerCase() === 'message-id')) message.headers.push({ name: 'Message-ID', value: `<sbx.${id}@mail.gmail.com>` });
  state.messages.push(message);
  state.history.push({ id: state.historyId, messageId: id, kind: 'messageAdded', labelIds: message.labelIds.slice() });
  return message;
}

function seed(): GmailState {
  const state: GmailState = {
    messages: [],
    labels: [
      ...SYSTEM_LABELS.map((id) => ({ id, name: id, type: 'system' as const })),
      { id: 'Label_1', name: 'Customers', type: 'user' },
      { id: 'Label_2', name: 'Invoices', type: 'user' },
      ...Array.from({ length: 58 }, (_, i) => ({ id: `Label_${i + 3}`, name: `Projects/Project ${String(i + 1).padStart(2, '0')}`, type: 'user' as const })),
    ],
    history: [],
    historyId: 9000,
    oldestHistoryId: 9000,
    nextId: 1,
    ticks: 0,
    throttle: throttle(),
  };
  const base = Date.parse('2026-01-05T09:00:00Z');
  const senders = ['Maria Johnson <maria@globex.test>', 'Li Chen <li@initech.test>', 'Billing <billing@vendor.test>'];
  for (let i = 0; i < 30; i++) {
    const at = base + i * 3600_000;
    const invoice = i % 5 === 0;
    addMessage(state, {
      labelIds: ['INBOX', 'CATEGORY_PERSONAL', ...(i >= 27 ? ['UNREAD'] : []), ...(invoice ? ['Label_2'] : [])],
      headers: [
        { name: 'From', value: invoice ? senders[2]! : senders[i % 2]! },
        { name: 'To', value: `Jane Cooper <${OWNER}>` },
        { name: 'Subject', value: invoice ? `Invoice #${1000 + i}` : `Re: Project update ${i + 1}` },
        { name: 'Date', value: rfc2822(at) },
      ],
      text: invoice ? `Your invoice #${1000 + i} for $${(i + 1) * 10}.00 is attached.` : `Hi Jane, here is update number ${i + 1} on the project.`,
      internalDate: at,
    });
  }
  state.messages[3]!.labelIds = ['SPAM'];
  state.oldestHistoryId = state.historyId - 10;
  return state;
}

// ---- MIME (what messages.send accepts) -----------------------------------------------------------

function decodeWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, _charset: string, enc: string, text: string) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
  );
}

interface MimePart {
  headers: { name: string; value: string }[];
  body: string;
}

function parseMime(raw: string): MimePart {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers: MimePart['headers'] = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length) headers[headers.length - 1]!.value += ` ${line.trim()}`;
    else {
      const i = line.indexOf(':');
      if (i > 0) headers.push({ name: line.slice(0, i).trim(), value: line.slice(i + 1).trim() });
    }
  }
  return { headers, body };
}

const header = (part: MimePart, name: string) => part.headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;

function decodeBody(part: MimePart): string {
  const encoding = (header(part, 'Content-Transfer-Encoding') ?? '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(part.body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable')
    return Buffer.from(
      part.body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8');
  return part.body;
}

/** The text and html bodies of a (possibly multipart) message. */
function bodies(part: MimePart): { text?: string; html?: string } {
  const type = header(part, 'Content-Type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const out: { text?: string; html?: string } = {};
    for (const chunk of part.body.split(`--${boundary}`).slice(1)) {
      if (chunk.startsWith('--')) break;
      const inner = bodies(parseMime(chunk.replace(/^\r?\n/, '')));
      out.text ??= inner.text;
      out.html ??= inner.html;
    }
    return out;
  }
  return /^text\/html/i.test(type) ? { html: decodeBody(part) } : { text: decodeBody(part) };
}

function addresses(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((a) => (/<([^>]+)>/.exec(a)?.[1] ?? a).trim().toLowerCase())
    .filter(Boolean);
}

// ---- The message resource ------------------------------------------------------------------------

function snippet(m: GmailMessage): string {
  return m.text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

function b64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function resource(m: GmailMessage, format: string, metadataHeaders: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: m.id,
    threadId: m.threadId,
    labelIds: m.labelIds,
    snippet: snippet(m),
    sizeEstimate: m.text.length + (m.html?.length ?? 0) + 600,
    historyId: String(m.historyId),
    internalDate: String(m.internalDate),
  };
  if (format === 'minimal') return out;
  if (format === 'raw') {
    const head = m.headers.map((h) => `${h.name}: ${h.value}`).join('\r\n');
    return { ...out, raw: b64url(`${head}\r\nContent-Type: text/plain; charset="UTF-8"\r\n\r\n${m.text}`) };
  }
  const wanted = metadataHeaders.map((h) => h.toLowerCase());
  const headers = format === 'metadata' && wanted.length ? m.headers.filter((h) => wanted.includes(h.name.toLowerCase())) : m.headers;
  const textPart = {
    partId: m.html ? '0' : '',
    mimeType: 'text/plain',
    filename: '',
    headers: [{ name: 'Content-Type', value: 'text/plain; charset="UTF-8"' }],
    body: { size: m.text.length, data: b64url(m.text) },
  };
  if (format === 'metadata') return { ...out, payload: { partId: '', mimeType: m.html ? 'multipart/alternative' : 'text/plain', filename: '', headers } };
  if (!m.html) return { ...out, payload: { ...textPart, headers } };
  const htmlPart = {
    partId: '1',
    mimeType: 'text/html',
    filename: '',
    headers: [{ name: 'Content-Type', value: 'text/html; charset="UTF-8"' }],
    body: { size: m.html.length, data: b64url(m.html) },
  };
  return { ...out, payload: { partId: '', mimeType: 'multipart/alternative', filename: '', headers, body: { size: 0 }, parts: [textPart, htmlPart] } };
}

// ---- Search (the `q` operators the connectors use) -----------------------------------------------

function dateOperand(value: string): number | null {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const m = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(value);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
}

function searchFilter(q: string, labels: GmailLabel[]): ((m: GmailMessage) => boolean) | string {
  const tests: ((m: GmailMessage) => boolean)[] = [];
  const text = (m: GmailMessage) => `${m.headers.map((h) => h.value).join(' ')} ${m.text}`.toLowerCase();
  const head = (m: GmailMessage, name: string) =>
    m.headers
      .filter((h) => h.name.toLowerCase() === name)
      .map((h) => h.value.toLowerCase())
      .join(' ');
  for (const token of q.match(/-?\w+:(?:"[^"]*"|\S+)|"[^"]*"|\S+/g) ?? []) {
    const negate = token.startsWith('-');
    const t = negate ? token.slice(1) : token;
    const m = /^(\w+):(.*)$/.exec(t);
    let test: (msg: GmailMessage) => boolean;
    if (m) {
      const [op, rawValue] = [m[1]!.toLowerCase(), m[2]!.replace(/^"|"$/g, '').toLowerCase()];
      if (op === 'from' || op === 'to' || op === 'cc' || op === 'subject') test = (msg) => head(msg, op).includes(rawValue);
      else if (op === 'after' || op === 'before' || op === 'newer' || op === 'older') {
        const at = dateOperand(rawValue);
        if (at === null) return `Invalid ${op}: value`;
        test = op === 'after' || op === 'newer' ? (msg) => msg.internalDate > at : (msg) => msg.internalDate < at;
      } else if (op === 'is') {
        const flag = { unread: 'UNREAD', starred: 'STARRED', important: 'IMPORTANT' }[rawValue];
        test = rawValue === 'read' ? (msg) => !msg.labelIds.includes('UNREAD') : (msg) => !!flag && msg.labelIds.includes(flag);
      } else if (op === 'label' || op === 'in') {
        const label = labels.find((l) => l.id.toLowerCase() === rawValue || l.name.toLowerCase() === rawValue || l.name.toLowerCase().replace(/[\s/]+/g, '-') === rawValue);
        test = (msg) => !!label && msg.labelIds.includes(label.id);
      } else test = (msg) => text(msg).includes(t.toLowerCase()); // unknown operators are words to Gmail
    } else {
      const word = t.replace(/^"|"$/g, '').toLowerCase();
      test = (msg) => text(msg).includes(word);
    }
    tests.push(negate ? (msg) => !test(msg) : test);
  }
  return (msg) => tests.every((t) => t(msg));
}

// ---- Routes -----------------------------------------------------------------------------------

type Ctx = ProviderContext<GmailState>;

/** `userId` is `me` or the signed-in address; anyone else's mailbox needs domain-wide delegation. */
function mailbox(req: SandboxRequest, ctx: Ctx): { error: ReturnType<typeof json> } | { email: string } {
  const g = guard(req, ctx);
  if ('error' in g) return g;
  const user = req.params.userId!;
  if (user !== 'me' && user.toLowerCase() !== g.account.email.toLowerCase())
    return { error: googleError(403, 'PERMISSION_DENIED', 'Delegation denied for ' + g.account.email, 'forbidden') };
  return { email: g.account.email };
}

function find(ctx: Ctx, id: string): GmailMessage | undefined {
  return ctx.state.messages.find((m) => m.id === id);
}

function send(req: SandboxRequest, ctx: Ctx, email: string) {
  const body = (req.body ?? {}) as { raw?: unknown; threadId?: unknown };
  if (typeof body.raw !== 'string' || !body.raw) return invalid("'raw' RFC822 payload message string or uploading message via /upload/* URL required");
  if (/[+/]/.test(body.raw)) return invalid("Invalid value at 'message.raw' (TYPE_BYTES), Base64 decoding failed for \"" + body.raw.slice(0, 20) + '..."');
  const mime = parseMime(Buffer.from(body.raw, 'base64url').toString('utf8'));
  const recipients = ['To', 'Cc', 'Bcc'].flatMap((h) => addresses(header(mime, h)));
  if (recipients.length === 0) return invalid('Recipient address required');
  const bad = recipients.find((a) => !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(a));
  if (bad) return invalid(`Invalid To header: ${bad}`);
  if (body.threadId !== undefined && !ctx.state.messages.some((m) => m.threadId === body.threadId)) return notFound();
  const { text, html } = bodies(mime);
  const headers = mime.headers
    .filter((h) => !/^(content-type|content-transfer-encoding|mime-version|bcc)$/i.test(h.name))
    .map((h) => ({ name: h.name, value: decodeWords(h.value) }));
  if (!headers.some((h) => h.name.toLowerCase() === 'from')) headers.unshift({ name: 'From', value: email });
  headers.push({ name: 'Date', value: rfc2822(ctx.now()) });
  const toSelf = recipients.includes(email.toLowerCase());
  const sent = addMessage(ctx.state, {
    threadId: typeof body.threadId === 'string' ? body.threadId : undefined,
    // Mail to oneself lands in the inbox too.
    labelIds: toSelf ? ['SENT', 'INBOX', 'UNREAD'] : ['SENT'],
    headers,
    text: text ?? (html ?? '').replace(/<[^>]+>/g, ''),
    html,
    internalDate: ctx.now(),
  });
  return json(200, { id: sent.id, threadId: sent.threadId, labelIds: sent.labelIds });
}

function modify(req: SandboxRequest, ctx: Ctx) {
  const m = find(ctx, req.params.id!);
  if (!m) return notFound();
  const body = (req.body ?? {}) as { addLabelIds?: unknown; removeLabelIds?: unknown };
  const add = Array.isArray(body.addLabelIds) ? body.addLabelIds.map(String) : [];
  const remove = Array.isArray(body.removeLabelIds) ? body.removeLabelIds.map(String) : [];
  const unknown = [...add, ...remove].find((id) => !ctx.state.labels.some((l) => l.id === id));
  if (unknown) return invalid(`Invalid label: ${unknown}`);
  if (add.includes('DRAFT') || add.includes('SENT')) return invalid('Invalid label: ' + (add.includes('DRAFT') ? 'DRAFT' : 'SENT'));
  const added = add.filter((id) => !m.labelIds.includes(id));
  const removed = remove.filter((id) => m.labelIds.includes(id));
  m.labelIds = [...m.labelIds.filter((id) => !removed.includes(id)), ...added];
  for (const [kind, ids] of [
    ['labelsAdded', added],
    ['labelsRemoved', removed],
  ] as const) {
    if (!ids.length) continue;
    ctx.state.historyId += 1;
    m.historyId = ctx.state.historyId;
    ctx.state.history.push({ id: ctx.state.historyId, messageId: m.id, kind, labelIds: ids });
  }
  return json(200, { id: m.id, threadId: m.threadId, labelIds: m.labelIds });
}

function list(req: SandboxRequest, ctx: Ctx) {
  const q = req.query.get('q') ?? '';
  const filter = searchFilter(q, ctx.state.labels);
  if (typeof filter === 'string') return invalid(filter);
  const labelIds = req.query.getAll('labelIds');
  const withSpam = req.query.get('includeSpamTrash') === 'true';
  const max = intParam(req.query.get('maxResults'), 100, 1, 500);
  const start = readPageToken(req.query.get('pageToken'));
  if (start === null) return invalid('Invalid pageToken');
  const found = ctx.state.messages
    .filter((m) => (withSpam || !m.labelIds.some((l) => l === 'SPAM' || l === 'TRASH')) && labelIds.every((l) => m.labelIds.includes(l)) && filter(m))
    .sort((a, b) => b.internalDate - a.internalDate || b.id.localeCompare(a.id));
  const page = found.slice(start, start + max);
  const body: Record<string, unknown> = { resultSizeEstimate: found.length };
  // Gmail leaves `messages` out when nothing matches.
  if (page.length) body.messages = page.map((m) => ({ id: m.id, threadId: m.threadId }));
  if (start + max < found.length) body.nextPageToken = pageToken(start + max);
  return json(200, body);
}

function history(req: SandboxRequest, ctx: Ctx) {
  const startRaw = req.query.get('startHistoryId');
  if (!startRaw || !/^\d+$/.test(startRaw)) return invalid('Invalid startHistoryId');
  const start = Number(startRaw);
  if (start < ctx.state.oldestHistoryId) return notFound();
  const types = req.query.getAll('historyTypes');
  const labelId = req.query.get('labelId');
  const max = intParam(req.query.get('maxResults'), 100, 1, 500);
  const offset = readPageToken(req.query.get('pageToken'));
  if (offset === null) return invalid('Invalid pageToken');
  const records = ctx.state.history.filter((h) => {
    if (h.id <= start || (types.length && !types.includes(h.kind))) return false;
    const m = find(ctx, h.messageId);
    return !labelId || (m?.labelIds.includes(labelId) ?? false);
  });
  const page = records.slice(offset, offset + max).map((h) => {
    const m = find(ctx, h.messageId);
    const ref = { id: h.messageId, threadId: m?.threadId ?? h.messageId };
    const record: Record<string, unknown> = { id: String(h.id), messages: [ref] };
    if (h.kind === 'messageAdded') record.messagesAdded = [{ message: { ...ref, labelIds: m?.labelIds ?? h.labelIds } }];
    else record[h.kind] = [{ message: { ...ref, labelIds: m?.labelIds ?? [] }, labelIds: h.labelIds }];
    return record;
  });
  const body: Record<string, unknown> = { historyId: String(ctx.state.historyId) };
  if (page.length) body.history = page;
  if (offset + max < records.length) body.nextPageToken = pageToken(offset + max);
  return json(200, body);
}

const INBOUND = [
  { from: 'Maria Johnson <maria@globex.test>', subject: 'Quote request', text: 'Could you send a quote for 20 seats?' },
  { from: 'Li Chen <li@initech.test>', subject: 'Meeting notes', text: 'Notes from today are in the shared folder.' },
  { from: 'Billing <billing@vendor.test>', subject: 'Payment received', text: 'Thanks, we received your payment.' },
];

export const gmailSandbox: ProviderModule<GmailState> = {
  key: 'gmail',
  displayName: 'Google',
  ...googleIdentity,
  seed,
  routes: [
    userinfoRoute,
    {
      method: 'GET',
      path: '/gmail/v1/users/:userId/profile',
      handler(req, ctx) {
        const box = mailbox(req, ctx);
        if ('error' in box) return box.error;
        return json(200, {
          emailAddress: box.email,
          messagesTotal: ctx.state.messages.length,
          threadsTotal: new Set(ctx.state.messages.map((m) => m.threadId)).size,
          historyId: String(ctx.state.historyId),
        });
      },
    },
    {
      method: 'GET',
      path: '/gmail/v1/users/:userId/labels',
      handler(req, ctx) {
        const box = mailbox(req, ctx);
        if ('error' in box) return box.error;
        return json(200, {
          labels: ctx.state.labels.map((l) => (l.type === 'user' ? { ...l, messageListVisibility: 'show', labelListVisibility: 'labelShow' } : { ...l })),
        });
      },
    },
    {
      method: 'GET',
      path: '/gmail/v1/users/:userId/messages',
      handler(req, ctx) {
        const box = mailbox(req, ctx);
        return 'error' in box ? box.error : list(req, ctx);
      },
    },
    {
      method: 'POST',
      path: '/gmail/v1/users/:userId/messages/send',
      handler(req, ctx) {
        const box = mailbox(req, ctx);
        return 'error' in box ? box.error : send(req, ctx, box.email);
      },
    },
    {
      method: 'GET',
      path: '/gmail/v1/users/:userId/messages/:id',
      handler(req, ctx) {
        const box = mailbox(req, ctx);
        if ('error' in box) return box.error;
        const m = find(ctx, req.params.id!);
        if (!m) return notFound();
        const format = req.query.get('format') ?? 'full';
        if (!['full', 'metadata', 'minimal', 'raw'].includes(format))
          return invalid(`Invalid value at 'format' (type.googleapis.com/google.apps.gmail.v1.GetMessageRequest.Format), "${format}"`);
        return json(200, resource(m, format, req.query.getAll('metadataHeaders')));
      },
    },
    {
      method: 'POST',
      path: '/gmail/v1/users/:userId/messages/:id/modify',
      handler(req, ctx) {
        const box = mailbox(req, ctx);
        return 'error' in box ? box.error : modify(req, ctx);
      },
    },
    {
      method: 'GET',
      path: '/gmail/v1/users/:userId/history',
      handler(req, ctx) {
        const box = mailbox(req, ctx);
        return 'error' in box ? box.error : history(req, ctx);
      },
    },
  ],
  tick(ctx) {
    const n = ctx.state.ticks++;
    const mail = INBOUND[n % INBOUND.length]!;
    addMessage(ctx.state, {
      labelIds: ['INBOX', 'UNREAD', 'CATEGORY_PERSONAL'],
      headers: [
        { name: 'From', value: mail.from },
        { name: 'To', value: `Jane Cooper <${OWNER}>` },
        { name: 'Subject', value: `${mail.subject} #${n + 1}` },
        { name: 'Date', value: rfc2822(ctx.now()) },
      ],
      text: mail.text,
      internalDate: ctx.now(),
    });
  },
};
