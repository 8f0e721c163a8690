import { send } from '../runtime';
import { ActionContext, defineAction, defineConnector, definePollTrigger, HttpError, TriggerItem } from '../types';
import { googleAccount, googleAuth, GOOGLE_USERINFO } from './google-common';
import { arr, bool, int, logo, matches, obj, pageLocally, res, str } from './shared';

export interface GmailPart {
  mimeType?: string;
  headers?: { name: string; value: string }[];
  body?: { data?: string; size?: number };
  parts?: GmailPart[];
}

export interface GmailMessage {
  id: string;
  threadId: string;
  labelIds?: string[];
  snippet?: string;
  historyId?: string;
  internalDate?: string;
  payload?: GmailPart;
}

/** A message as actions and the trigger hand it on. */
export interface Email {
  id: string;
  thread_id: string;
  label_ids: string[];
  from: string;
  to: string;
  cc?: string;
  subject: string;
  date: string;
  received_at: string;
  snippet: string;
  text: string;
  message_id?: string;
}

const emailSchema = res(
  {
    id: str('Message id'),
    thread_id: str('Thread id'),
    label_ids: arr(str()),
    from: str('From'),
    to: str('To'),
    cc: str('Cc'),
    subject: str('Subject'),
    date: str('Date header'),
    received_at: str('Received', { format: 'date-time' }),
    snippet: str('Snippet'),
    text: str('Plain-text body'),
    message_id: str('Message-ID header'),
  },
  ['id', 'thread_id', 'subject', 'from', 'received_at'],
);

const LABEL = str('Label', { description: 'Label id (INBOX, STARRED, Label_12…)', 'x-options': 'labels' });

function headerOf(part: GmailPart | undefined, name: string): string | undefined {
  return part?.headers?.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
}

/** The text/plain body, else the text/html one with tags dropped, from a `format=full` payload. */
function textOf(part: GmailPart | undefined): string {
  const find = (p: GmailPart | undefined, type: string): string | undefined => {
    if (!p) return undefined;
    if (p.mimeType === type && p.body?.data) return Buffer.from(p.body.data, 'base64url').toString('utf8');
    for (const child of p.parts ?? []) {
      const found = find(child, type);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return (
    find(part, 'text/plain') ??
    (find(part, 'text/html') ?? '')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
  );
}

function toEmail(m: GmailMessage): Email {
  const cc = headerOf(m.payload, 'Cc');
  const messageId = headerOf(m.payload, 'Message-ID');
  return {
    id: m.id,
    thread_id: m.threadId,
    label_ids: m.labelIds ?? [],
    from: headerOf(m.payload, 'From') ?? '',
    to: headerOf(m.payload, 'To') ?? '',
    ...(cc ? { cc } : {}),
    subject: headerOf(m.payload, 'Subject') ?? '',
    date: headerOf(m.payload, 'Date') ?? '',
    received_at: new Date(Number(m.internalDate ?? 0)).toISOString(),
    snippet: m.snippet ?? '',
    text: textOf(m.payload),
    ...(messageId ? { message_id: messageId } : {}),
  };
}

/** Fetches full messages; one deleted since it was listed (404) is skipped. */
async function getEmails(ctx: ActionContext, ids: string[]): Promise<Email[]> {
  const out: Email[] = [];
  for (const id of ids) {
    try {
      out.push(toEmail(await send<GmailMessage>(ctx, { method: 'GET', path: `users/me/messages/${encodeURIComponent(id)}`, query: { format: 'full' } })));
    } catch (error) {
      if (!(error instanceof HttpError && error.status === 404)) throw error;
    }
  }
  return out;
}

// ---- MIME for messages.send ------------------------------------------------------------------------

/** An RFC 2047 encoded-word when the header is not plain ASCII. */
function headerText(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

function base64Lines(text: string): string {
  return (
    Buffer.from(text, 'utf8')
      .toString('base64')
      .match(/.{1,76}/g) ?? []
  ).join('\r\n');
}

/** The RFC 2822 message Gmail wants as `raw` (base64url): text, or text + html as multipart/alternative. */
export function buildMime(input: { to: string[]; cc?: string[]; bcc?: string[]; subject: string; text: string; html?: string; in_reply_to?: string }): string {
  const lines = [`To: ${input.to.join(', ')}`];
  if (input.cc?.length) lines.push(`Cc: ${input.cc.join(', ')}`);
  if (input.bcc?.length) lines.push(`Bcc: ${input.bcc.join(', ')}`);
  lines.push(`Subject: ${headerText(input.subject)}`);
  if (input.in_reply_to) lines.push(`In-Reply-To: ${input.in_reply_to}`, `References: ${input.in_reply_to}`);
  lines.push('MIME-Version: 1.0');
  const textPart = ['Content-Type: text/plain; charset="UTF-8"', 'Content-Transfer-Encoding: base64', '', base64Lines(input.text)];
  if (!input.html) return [...lines, ...textPart].join('\r\n');
  const boundary = `sbd_${Buffer.from(input.subject + input.text)
    .toString('hex')
    .slice(0, 24)}`;
  const htmlPart = ['Content-Type: text/html; charset="UTF-8"', 'Content-Transfer-Encoding: base64', '', base64Lines(input.html)];
  return [...lines, `Content-Type: multipart/alternative; boundary="${boundary}"`, '', `--${boundary}`, ...textPart, `--${boundary}`, ...htmlPart, `--${boundary}--`, ''].join(
    '\r\n',
  );
}

const emails = arr(str('Address', { format: 'email' }), { maxItems: 100 });

const sendEmail = defineAction({
  name: 'Send email',
  description: 'Sends an email from the connected Gmail account (users.messages.send with an RFC 2822 message).',
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      to: { ...emails, title: 'To', minItems: 1 },
      cc: { ...emails, title: 'Cc' },
      bcc: { ...emails, title: 'Bcc' },
      subject: str('Subject', { maxLength: 998 }),
      text: str('Body (plain text)'),
      html: str('Body (HTML)', { description: 'Sent as an alternative to the plain-text body' }),
      thread_id: str('Thread id', { description: 'Reply within this thread (the subject must match the thread)' }),
      in_reply_to: str('In-Reply-To', { description: 'The Message-ID header of the message replied to, e.g. <abc@mail.gmail.com>' }),
    },
    ['to', 'subject', 'text'],
  ),
  output: res({ id: str('Message id'), thread_id: str('Thread id'), label_ids: arr(str()) }, ['id', 'thread_id']),
  async run(ctx, input) {
    const raw = Buffer.from(buildMime(input), 'utf8').toString('base64url');
    const sent = await send<{ id: string; threadId: string; labelIds?: string[] }>(ctx, {
      method: 'POST',
      path: 'users/me/messages/send',
      body: input.thread_id ? { raw, threadId: input.thread_id } : { raw },
    });
    return { id: sent.id, thread_id: sent.threadId, label_ids: sent.labelIds ?? [] };
  },
});

const searchEmails = defineAction({
  name: 'Search emails',
  description: 'Finds messages with Gmail search syntax (from:, subject:, after:2026/01/31, is:unread, label:…), newest first.',
  readOnly: true,
  retrySafe: true,
  input: obj({
    q: str('Search', { description: 'Gmail search, as in the Gmail search box' }),
    label_ids: arr(LABEL, { title: 'Only with labels' }),
    max_results: int('Max messages', { minimum: 1, maximum: 100, default: 20 }),
    page_token: str('Page token', { description: 'next_page_token of a previous search' }),
    include_spam_trash: bool('Include spam and trash', { default: false }),
  }),
  output: res({ messages: arr(emailSchema), next_page_token: str('Next page token'), result_size_estimate: int('Estimated matches') }, ['messages']),
  async run(ctx, input) {
    const query: Record<string, string | number | boolean | undefined> = {
      q: input.q,
      maxResults: input.max_results ?? 20,
      pageToken: input.page_token,
      includeSpamTrash: input.include_spam_trash,
    };
    const path = `users/me/messages${input.label_ids?.length ? `?${input.label_ids.map((l) => `labelIds=${encodeURIComponent(l)}`).join('&')}` : ''}`;
    const list = await send<{ messages?: { id: string }[]; nextPageToken?: string; resultSizeEstimate?: number }>(ctx, { method: 'GET', path, query });
    const messages = await getEmails(
      ctx,
      (list.messages ?? []).map((m) => m.id),
    );
    return { messages, result_size_estimate: list.resultSizeEstimate ?? messages.length, ...(list.nextPageToken ? { next_page_token: list.nextPageToken } : {}) };
  },
});

const getEmail = defineAction({
  name: 'Get email',
  description: 'Reads one message: headers, labels and its plain-text body.',
  readOnly: true,
  retrySafe: true,
  input: obj({ message_id: str('Message id', { minLength: 1 }) }, ['message_id']),
  output: emailSchema,
  async run(ctx, input) {
    return toEmail(await send<GmailMessage>(ctx, { method: 'GET', path: `users/me/messages/${encodeURIComponent(input.message_id)}`, query: { format: 'full' } }));
  },
});

const addLabel = defineAction({
  name: 'Add label to email',
  description: 'Adds labels to a message and optionally removes others (users.messages.modify); remove UNREAD to mark it read.',
  // Adding a label a message already has changes nothing.
  readOnly: false,
  retrySafe: true,
  input: obj(
    {
      message_id: str('Message id', { minLength: 1 }),
      add_label_ids: arr(LABEL, { title: 'Labels to add', minItems: 1, maxItems: 100 }),
      remove_label_ids: arr(LABEL, { title: 'Labels to remove', maxItems: 100 }),
    },
    ['message_id', 'add_label_ids'],
  ),
  output: res({ id: str('Message id'), label_ids: arr(str()) }, ['id', 'label_ids']),
  async run(ctx, input) {
    const m = await send<{ id: string; labelIds?: string[] }>(ctx, {
      method: 'POST',
      path: `users/me/messages/${encodeURIComponent(input.message_id)}/modify`,
      body: { addLabelIds: input.add_label_ids, removeLabelIds: input.remove_label_ids ?? [] },
    });
    return { id: m.id, label_ids: m.labelIds ?? [] };
  },
});

/** The trigger's cursor: Gmail's mailbox history id (history.list returns changes after it). */
export interface GmailCursor {
  historyId: string;
}

/** The newest messages with the label, oldest first, and the history id to continue from. */
async function newest(ctx: ActionContext, labelId: string, limit: number): Promise<{ items: TriggerItem[]; cursor: GmailCursor }> {
  // The profile's history id first: anything arriving while we list is then seen by the next poll.
  const profile = await send<{ historyId: string }>(ctx, { method: 'GET', path: 'users/me/profile' });
  const list = await send<{ messages?: { id: string }[] }>(ctx, { method: 'GET', path: 'users/me/messages', query: { labelIds: labelId, maxResults: limit } });
  const found = await getEmails(
    ctx,
    (list.messages ?? []).map((m) => m.id),
  );
  return { items: found.reverse().map((e) => ({ id: e.id, data: { ...e } })), cursor: { historyId: profile.historyId } };
}

const newEmail = definePollTrigger<GmailCursor>()({
  name: 'New email',
  description: 'A message arrives with the label (default INBOX), oldest first; follows the mailbox history (users.history.list).',
  input: obj({ label_id: { ...LABEL, default: 'INBOX' } }),
  output: emailSchema,
  intervalSeconds: 120,
  minIntervalSeconds: 60,
  async poll(ctx, { input, cursor, limit }) {
    const labelId = input.label_id ?? 'INBOX';
    if (!cursor) return newest(ctx, labelId, limit);
    const ids: string[] = [];
    let next = cursor.historyId;
    let pageToken: string | undefined;
    let more = false;
    scan: do {
      let page: { history?: { id: string; messagesAdded?: { message: { id: string } }[] }[]; historyId: string; nextPageToken?: string };
      try {
        page = await send(ctx, {
          method: 'GET',
          path: 'users/me/history',
          query: { startHistoryId: cursor.historyId, historyTypes: 'messageAdded', labelId, maxResults: 100, pageToken },
        });
      } catch (error) {
        // The history id is too old (Gmail keeps about a week): start again from the newest messages;
        // the engine drops ids it has already run.
        if (error instanceof HttpError && error.status === 404) return newest(ctx, labelId, limit);
        throw error;
      }
      for (const record of page.history ?? []) {
        const added = (record.messagesAdded ?? []).map((a) => a.message.id).filter((id) => !ids.includes(id));
        // Stop at a whole record so the next poll starts right after the last one taken (a
        // messageAdded record holds one message, so this stays within the limit).
        if (ids.length > 0 && ids.length + added.length > limit) {
          more = true;
          break scan;
        }
        ids.push(...added);
        next = record.id;
      }
      pageToken = page.nextPageToken;
      if (!pageToken) next = page.historyId;
    } while (pageToken);
    const found = await getEmails(ctx, ids);
    return { items: found.map((e) => ({ id: e.id, data: { ...e } })), cursor: { historyId: next }, ...(more ? { more } : {}) };
  },
});

export const gmailConnector = defineConnector({
  key: 'gmail',
  name: 'Gmail',
  description: 'Send, search and label Gmail messages, and start flows when email arrives.',
  logo: logo('#EA4335', '<path d="M12 20v26h8V30l12 9 12-9v16h8V20l-20 15z" fill="#fff"/>'),
  categories: ['communication', 'productivity'],
  docsUrl: 'https://developers.google.com/workspace/gmail/api/reference/rest',
  // gmail.modify (read, label, send) instead of the catalogue's gmail.readonly: labels need it.
  auth: googleAuth(['https://www.googleapis.com/auth/gmail.modify', 'https://www.googleapis.com/auth/gmail.send']),
  baseUrl: 'https://gmail.googleapis.com/gmail/v1',
  baseUrls: { oauth2: GOOGLE_USERINFO },
  pagination: { style: 'cursor', cursorParam: 'pageToken', nextCursorPath: 'nextPageToken', limitParam: 'maxResults' },
  // 250 quota units per user per second; messages.get costs 5 units, messages.send 100.
  rateLimit: { requestsPerSecond: 25 },
  actions: { send_email: sendEmail, search_emails: searchEmails, get_email: getEmail, add_label: addLabel },
  options: {
    labels: {
      name: 'Labels',
      description: 'System and user labels',
      async run(ctx, { search, cursor }) {
        const data = await send<{ labels?: { id: string; name: string; type: string }[] }>(ctx, { method: 'GET', path: 'users/me/labels' });
        const items = (data.labels ?? [])
          .filter((l) => matches(search, l.name, l.id))
          .sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type === 'system' ? -1 : 1))
          .map((l) => ({
            value: l.id,
            label: l.type === 'system' ? l.name.charAt(0) + l.name.slice(1).toLowerCase().replace(/_/g, ' ') : l.name,
            description: l.type === 'system' ? 'System label' : undefined,
          }));
        return pageLocally(items, cursor);
      },
    },
  },
  triggers: { new_email: newEmail },
  account: googleAccount,
});
