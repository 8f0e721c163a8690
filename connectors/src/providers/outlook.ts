import type { Static } from '@sinclair/typebox';
import { send } from '../runtime';
import { ActionContext, defineAction, defineConnector, definePollTrigger } from '../types';
import { advance, GRAPH_BASE_URL, graphAccount, GraphPage, microsoftAuth, tenantField, TimeCursor } from './microsoft-graph';
import { arr, bool, int, logo, matches, obj, oneOf, res, str } from './shared';

type Recipient = { emailAddress: { name?: string; address: string } };

export interface GraphMessage {
  id: string;
  subject?: string;
  bodyPreview?: string;
  body?: { contentType: 'text' | 'html'; content: string };
  from?: Recipient;
  toRecipients?: Recipient[];
  ccRecipients?: Recipient[];
  receivedDateTime: string;
  isRead?: boolean;
  isDraft?: boolean;
  conversationId?: string;
  internetMessageId?: string;
  webLink?: string;
  parentFolderId?: string;
}

const strings = arr(str());
const emailSchema = res(
  {
    id: str('Message id'),
    subject: str('Subject'),
    from: str('From address'),
    from_name: str('From name'),
    to: strings,
    cc: strings,
    received_at: str('Received', { format: 'date-time' }),
    preview: str('Preview'),
    body: str('Body'),
    body_type: oneOf({ enum: ['text', 'html'] }),
    is_read: bool(),
    is_draft: bool(),
    conversation_id: str('Conversation id'),
    internet_message_id: str('Internet message id'),
    web_link: str('Link'),
    folder_id: str('Folder id'),
  },
  ['id', 'subject', 'from', 'received_at'],
);
/** A message as actions and the trigger hand it on. */
type OutlookEmail = Static<typeof emailSchema>;

const addresses = (list: Recipient[] | undefined) => (list ?? []).map((r) => r.emailAddress.address);

function toEmail(m: GraphMessage): OutlookEmail {
  return {
    id: m.id,
    subject: m.subject ?? '',
    from: m.from?.emailAddress.address ?? '',
    from_name: m.from?.emailAddress.name ?? '',
    to: addresses(m.toRecipients),
    cc: addresses(m.ccRecipients),
    received_at: m.receivedDateTime,
    preview: m.bodyPreview ?? '',
    body: m.body?.content ?? '',
    body_type: m.body?.contentType ?? 'text',
    is_read: m.isRead ?? false,
    is_draft: m.isDraft ?? false,
    conversation_id: m.conversationId ?? '',
    internet_message_id: m.internetMessageId ?? '',
    web_link: m.webLink ?? '',
    folder_id: m.parentFolderId ?? '',
  };
}

const MESSAGE_FIELDS = 'id,subject,bodyPreview,body,from,toRecipients,ccRecipients,receivedDateTime,isRead,isDraft,conversationId,internetMessageId,webLink,parentFolderId';

const FOLDER = str('Folder', { description: 'Folder id, or a well-known name: inbox, archive, sentitems, drafts…', default: 'inbox', 'x-options': 'mail_folders' });
const emails = arr(str('Address', { format: 'email' }), { maxItems: 500 });
const bodyType = oneOf({ title: 'Body format', enum: ['text', 'html'], default: 'text' });

const recipients = (list: string[] | undefined): Recipient[] => (list ?? []).map((address) => ({ emailAddress: { address } }));

export interface Compose {
  to?: string[];
  cc?: string[];
  bcc?: string[];
  subject: string;
  body: string;
  body_type?: 'text' | 'html';
}

function message(input: Compose) {
  return {
    subject: input.subject,
    body: { contentType: input.body_type === 'html' ? 'HTML' : 'Text', content: input.body },
    toRecipients: recipients(input.to),
    ccRecipients: recipients(input.cc),
    bccRecipients: recipients(input.bcc),
  };
}

const composeFields = {
  cc: { ...emails, title: 'Cc' },
  bcc: { ...emails, title: 'Bcc' },
  subject: str('Subject', { maxLength: 255 }),
  body: str('Body'),
  body_type: bodyType,
};

const sendEmail = defineAction({
  name: 'Send email',
  description: 'Sends an email from the connected mailbox (POST /me/sendMail); a copy goes to Sent Items.',
  readOnly: false,
  retrySafe: false,
  input: obj({ to: { ...emails, title: 'To', minItems: 1 }, ...composeFields, save_to_sent_items: bool('Save to Sent Items', { default: true }) }, ['to', 'subject', 'body']),
  output: res({ sent: bool() }, ['sent']),
  async run(ctx, input) {
    // 202 Accepted, no body: Exchange delivers asynchronously.
    await send(ctx, { method: 'POST', path: 'me/sendMail', body: { message: message(input), saveToSentItems: input.save_to_sent_items ?? true } });
    return { sent: true };
  },
});

const createDraft = defineAction({
  name: 'Create draft',
  description: 'Saves a message in Drafts for someone to review and send (POST /me/messages).',
  readOnly: false,
  retrySafe: false,
  input: obj({ to: { ...emails, title: 'To' }, ...composeFields }, ['subject', 'body']),
  output: emailSchema,
  async run(ctx, input) {
    return toEmail(await send<GraphMessage>(ctx, { method: 'POST', path: 'me/messages', body: message(input) }));
  },
});

const replyToEmail = defineAction({
  name: 'Reply to email',
  description: 'Replies to the sender of a message, quoting it (POST /me/messages/{id}/reply).',
  readOnly: false,
  retrySafe: false,
  input: obj({ message_id: str('Message id', { minLength: 1 }), comment: str('Reply', { minLength: 1 }) }, ['message_id', 'comment']),
  output: res({ replied: bool() }, ['replied']),
  async run(ctx, input) {
    await send(ctx, { method: 'POST', path: `me/messages/${encodeURIComponent(input.message_id)}/reply`, body: { comment: input.comment } });
    return { replied: true };
  },
});

const listEmails = defineAction({
  name: 'List emails',
  description: 'Lists messages of a folder, newest first; optionally only unread ones, or those matching a search.',
  readOnly: true,
  retrySafe: true,
  input: obj({
    folder_id: FOLDER,
    unread_only: bool('Unread only', { default: false }),
    search: str('Search', { description: 'Words in subject, body or sender (cannot be combined with unread only)' }),
    top: int('Max messages', { minimum: 1, maximum: 100, default: 25 }),
  }),
  output: res({ messages: arr(emailSchema) }, ['messages']),
  async run(ctx, input) {
    const query: Record<string, string | number | undefined> = { $top: input.top ?? 25, $select: MESSAGE_FIELDS };
    // $search sorts by relevance-then-date itself and takes neither $filter nor $orderby.
    if (input.search) query.$search = `"${input.search.replace(/"/g, '')}"`;
    else {
      query.$orderby = 'receivedDateTime desc';
      if (input.unread_only) {
        // Exchange wants the sorted property in the filter, first.
        query.$filter = 'receivedDateTime ge 1900-01-01T00:00:00Z and isRead eq false';
      }
    }
    const page = await send<GraphPage<GraphMessage>>(ctx, { method: 'GET', path: `me/mailFolders/${encodeURIComponent(input.folder_id ?? 'inbox')}/messages`, query });
    return { messages: page.value.map(toEmail) };
  },
});

async function folderMessages(ctx: ActionContext, folder: string, query: Record<string, string | number>): Promise<GraphPage<GraphMessage>> {
  return send<GraphPage<GraphMessage>>(ctx, { method: 'GET', path: `me/mailFolders/${encodeURIComponent(folder)}/messages`, query: { ...query, $select: MESSAGE_FIELDS } });
}

const EPOCH: TimeCursor = { at: '1970-01-01T00:00:00Z', ids: [] };

const newEmail = definePollTrigger<TimeCursor>()({
  name: 'New email',
  description: 'A message arrives in the folder (default the inbox), oldest first, by receivedDateTime.',
  input: obj({ folder_id: FOLDER }),
  output: emailSchema,
  intervalSeconds: 120,
  minIntervalSeconds: 60,
  async poll(ctx, { input, cursor, limit }) {
    const folder = input.folder_id ?? 'inbox';
    if (!cursor) {
      const page = await folderMessages(ctx, folder, { $orderby: 'receivedDateTime desc', $top: limit });
      const items = page.value.reverse();
      return { items: items.map((m) => ({ id: m.id, data: { ...toEmail(m) } })), cursor: advance(EPOCH, items, (m) => m.receivedDateTime) };
    }
    // `ge` and the ids already seen at that second: messages arriving in the same second are not lost.
    const page = await folderMessages(ctx, folder, {
      $filter: `receivedDateTime ge ${cursor.at}`,
      $orderby: 'receivedDateTime asc',
      $top: Math.min(1000, limit + cursor.ids.length + 1),
    });
    const fresh = page.value.filter((m) => !(m.receivedDateTime === cursor.at && cursor.ids.includes(m.id)));
    const items = fresh.slice(0, limit);
    const more = fresh.length > limit || !!page['@odata.nextLink'];
    return { items: items.map((m) => ({ id: m.id, data: { ...toEmail(m) } })), cursor: advance(cursor, items, (m) => m.receivedDateTime), ...(more ? { more } : {}) };
  },
});

export const outlookConnector = defineConnector({
  key: 'outlook',
  name: 'Outlook Mail',
  description: 'Send, draft, reply to and list email in Outlook / Exchange Online mailboxes, and start flows when email arrives.',
  logo: logo(
    '#0078D4',
    '<rect x="12" y="18" width="26" height="28" rx="3" fill="#fff"/><circle cx="25" cy="32" r="7" fill="none" stroke="#0078D4" stroke-width="4"/><path d="M38 24h14v20H38" fill="none" stroke="#fff" stroke-width="4"/>',
  ),
  categories: ['communication', 'productivity'],
  docsUrl: 'https://learn.microsoft.com/en-us/graph/api/resources/mail-api-overview',
  // Mail.ReadWrite (for drafts) instead of the catalogue's Mail.Read.
  auth: microsoftAuth(['Mail.ReadWrite', 'Mail.Send']),
  connectionConfig: tenantField('common', "common (any account), organizations (work or school only), or your directory's tenant ID or domain."),
  baseUrl: GRAPH_BASE_URL,
  // Outlook: 10,000 requests per 10 minutes per app per mailbox.
  rateLimit: { requestsPerSecond: 16 },
  actions: { send_email: sendEmail, create_draft: createDraft, reply_to_email: replyToEmail, list_emails: listEmails },
  options: {
    mail_folders: {
      name: 'Mail folders',
      description: 'Top-level folders of the mailbox',
      async run(ctx, { search, cursor }) {
        // mailFolders has no text search: each page is filtered here; the cursor is Graph's nextLink.
        const page = await send<GraphPage<{ id: string; displayName: string; unreadItemCount: number; totalItemCount: number }>>(
          ctx,
          cursor ? { method: 'GET', path: cursor } : { method: 'GET', path: 'me/mailFolders', query: { $top: 50 } },
        );
        const options = page.value
          .filter((f) => matches(search, f.displayName))
          .map((f) => ({ value: f.id, label: f.displayName, description: `${f.unreadItemCount} unread of ${f.totalItemCount}` }));
        const next = page['@odata.nextLink'];
        return next ? { options, nextCursor: next } : { options };
      },
    },
  },
  triggers: { new_email: newEmail },
  account: graphAccount,
});
