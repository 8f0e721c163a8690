import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ActionContext,
  buildAuthorizationUrl,
  buildTokenRequest,
  ConnectorDefinition,
  connectors,
  Credentials,
  isAuthFailure,
  OAuth2Auth,
  parseTokenResponse,
  PollTrigger,
  TriggerItem,
  withConfigDefaults,
  withSandbox,
} from '../index';
import { consentInSandbox, Sandbox, SANDBOX_CREDENTIALS, startSandbox } from '../sandbox';
import { connect, Connected, makeCtx, pkcePair, postToken, REDIRECT_URI } from '../test-support/helpers';
import { allOptions, failure, run, schemaValidator } from '../test-support/checked';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => sandbox.reset());

const ajv = schemaValidator;

/** Polls like the engine: the cursor goes through JSON between polls; items are checked against the output schema. */
async function poll(
  c: Connected,
  trigger: string,
  input: Record<string, unknown>,
  cursor: unknown,
  limit = 10,
): Promise<{ items: TriggerItem[]; cursor: unknown; more?: boolean }> {
  const def = c.connector.triggers![trigger] as PollTrigger;
  const out = await def.poll(c.ctx, { input, cursor: cursor === null ? null : JSON.parse(JSON.stringify(cursor)), limit });
  const valid = ajv.compile(def.output);
  for (const item of out.items) expect(valid(item.data), JSON.stringify(valid.errors)).toBe(true);
  return { ...out, cursor: JSON.parse(JSON.stringify(out.cursor)) };
}

const ids = (items: TriggerItem[]) => items.map((i) => i.id);

function badTokenCtx(c: Connected): ActionContext {
  return makeCtx(c.connector, c.config, { type: 'oauth2', accessToken: 'expired-or-made-up' });
}

/** The Microsoft sign-in against the sandbox, with the tenant in the authorize and token URLs. */
async function connectMicrosoft(base: ConnectorDefinition, tenant?: string): Promise<Connected & { refreshToken: string; auth: OAuth2Auth }> {
  const connector = withSandbox(base, sandbox.url);
  const auth = connector.auth as OAuth2Auth;
  const config = withConfigDefaults(connector, tenant ? { tenant } : {});
  const { verifier, challenge } = pkcePair();
  const client = SANDBOX_CREDENTIALS.client;
  const url = buildAuthorizationUrl(auth, { clientId: client.clientId, redirectUri: REDIRECT_URI, state: 'st', codeChallenge: challenge, config });
  const callback = await consentInSandbox(url);
  const res = await postToken(
    buildTokenRequest(auth, client, { grantType: 'authorization_code', code: callback.searchParams.get('code') ?? '', redirectUri: REDIRECT_URI, codeVerifier: verifier }, config),
  );
  const result = parseTokenResponse(auth, res.status, res.body);
  if (!result.ok) throw new Error(`token exchange failed: ${JSON.stringify(res.body)}`);
  const credentials: Credentials = { type: 'oauth2', accessToken: result.tokens.accessToken };
  return { connector, config, credentials, tokens: result.tokens, ctx: makeCtx(connector, config, credentials), refreshToken: result.tokens.refreshToken!, auth };
}

// ---- Gmail ----------------------------------------------------------------------------------------

describe('gmail', () => {
  let c: Connected;
  beforeAll(async () => {
    c = await connect(sandbox, connectors.gmail as ConnectorDefinition);
  });

  it('names the Google account', async () => {
    await expect(c.connector.account(c.ctx)).resolves.toMatchObject({ id: '109876543210987654321', name: 'jane@acme.test' });
  });

  it('send_email sends an RFC 2822 message (base64url raw) the sandbox reads back: headers, UTF-8 subject, text and html', async () => {
    const out = await run(c, 'send_email', {
      to: ['maria@globex.test'],
      cc: ['li@initech.test'],
      subject: 'Grüße aus Köln',
      text: 'Hallo Maria — bis bald',
      html: '<p>Hallo <b>Maria</b></p>',
    });
    expect(out.label_ids).toEqual(['SENT']);
    const raw = sandbox.calls({ connector: 'gmail', path: '/gmail/v1/users/me/messages/send' })[0]!.body as { raw: string };
    expect(raw.raw).toMatch(/^[A-Za-z0-9_-]+$/);
    const stored = sandbox.state.gmail.messages.find((m) => m.id === out.id)!;
    expect(stored.headers).toEqual(
      expect.arrayContaining([
        { name: 'Subject', value: 'Grüße aus Köln' },
        { name: 'To', value: 'maria@globex.test' },
        { name: 'Cc', value: 'li@initech.test' },
        { name: 'From', value: 'jane@acme.test' },
      ]),
    );
    expect(stored.text).toBe('Hallo Maria — bis bald');
    expect(stored.html).toBe('<p>Hallo <b>Maria</b></p>');
    const read = await run(c, 'get_email', { message_id: out.id });
    expect(read).toMatchObject({ id: out.id, subject: 'Grüße aus Köln', text: 'Hallo Maria — bis bald', to: 'maria@globex.test' });
  });

  it('search_emails uses Gmail search and pages with the page token', async () => {
    const invoices = await run(c, 'search_emails', { q: 'subject:invoice from:billing@vendor.test', max_results: 3 });
    expect(invoices.messages).toHaveLength(3);
    expect(invoices.messages.every((m: any) => m.subject.startsWith('Invoice #') && m.label_ids.includes('Label_2'))).toBe(true);
    expect(invoices.result_size_estimate).toBe(6);
    const rest = await run(c, 'search_emails', { q: 'subject:invoice from:billing@vendor.test', max_results: 3, page_token: invoices.next_page_token });
    expect(rest.messages).toHaveLength(3);
    expect(rest.next_page_token).toBeUndefined();
    const times = [...invoices.messages, ...rest.messages].map((m: any) => m.received_at);
    expect(times).toEqual([...times].sort().reverse());
    const unread = await run(c, 'search_emails', { label_ids: ['INBOX', 'UNREAD'] });
    expect(unread.messages).toHaveLength(3);
    expect(await run(c, 'search_emails', { q: 'nothing-matches-this' })).toEqual({ messages: [], result_size_estimate: 0 });
  });

  it('add_label adds and removes labels (mark read)', async () => {
    const [m] = (await run(c, 'search_emails', { q: 'is:unread', max_results: 1 })).messages;
    const out = await run(c, 'add_label', { message_id: m.id, add_label_ids: ['Label_1', 'STARRED'], remove_label_ids: ['UNREAD'] });
    expect(out.label_ids).toEqual(expect.arrayContaining(['INBOX', 'Label_1', 'STARRED']));
    expect(out.label_ids).not.toContain('UNREAD');
    const bad = await failure(run(c, 'add_label', { message_id: m.id, add_label_ids: ['Label_999'] }));
    expect(bad.status).toBe(400);
    expect(bad.message).toContain('Invalid label: Label_999');
  });

  it('the labels option lists system then user labels, pages, and searches', async () => {
    const all = await allOptions(c, 'labels');
    expect(all.pages).toBe(2);
    expect(all.values).toHaveLength(73);
    expect(all.values.slice(0, 2)).toEqual(['CATEGORY_FORUMS', 'CATEGORY_PERSONAL']);
    expect(all.labels).toContain('Inbox');
    expect((await allOptions(c, 'labels', 'invoi')).values).toEqual(['Label_2']);
  });

  it('new_email: the newest messages first, then each new one exactly once, oldest first, by mailbox history', async () => {
    const first = await poll(c, 'new_email', {}, null, 5);
    expect(first.items).toHaveLength(5);
    const times = first.items.map((i) => i.data.received_at as string);
    expect(times).toEqual([...times].sort());
    expect(first.items.every((i) => (i.data.label_ids as string[]).includes('INBOX'))).toBe(true);
    expect((await poll(c, 'new_email', {}, first.cursor)).items).toEqual([]);

    sandbox.tick('gmail');
    // Sent to oneself: it lands in the inbox; mail to others (SENT only) does not fire.
    const self = await run(c, 'send_email', { to: ['jane@acme.test'], subject: 'Note to self', text: 'call Maria' });
    await run(c, 'send_email', { to: ['li@initech.test'], subject: 'Outbound', text: 'hello' });
    sandbox.tick('gmail');
    const next = await poll(c, 'new_email', {}, first.cursor);
    expect(next.items).toHaveLength(3);
    expect(next.items[1]!.id).toBe(self.id);
    expect(next.items.map((i) => i.data.subject)).toEqual(['Quote request #1', 'Note to self', 'Meeting notes #2']);
    expect(next.more).toBeUndefined();
    expect((await poll(c, 'new_email', {}, next.cursor)).items).toEqual([]);
  });

  it('new_email: limit and more, and a label filter', async () => {
    const first = await poll(c, 'new_email', {}, null, 1);
    for (let i = 0; i < 3; i++) sandbox.tick('gmail');
    const a = await poll(c, 'new_email', {}, first.cursor, 2);
    expect(a.items).toHaveLength(2);
    expect(a.more).toBe(true);
    const b = await poll(c, 'new_email', {}, a.cursor, 2);
    expect(b.items).toHaveLength(1);
    expect(b.more).toBeUndefined();
    expect(new Set([...ids(a.items), ...ids(b.items)]).size).toBe(3);

    const starredFirst = await poll(c, 'new_email', { label_id: 'Label_1' }, null, 5);
    expect(starredFirst.items).toEqual([]);
    const msg = sandbox.state.gmail.messages[10]!;
    sandbox.tick('gmail');
    // A message gaining the label is not new mail; only messages added with it are.
    await run(c, 'add_label', { message_id: msg.id, add_label_ids: ['Label_1'] });
    expect((await poll(c, 'new_email', { label_id: 'Label_1' }, starredFirst.cursor)).items).toEqual([]);
  });

  it('new_email: an expired history id starts again from the newest messages', async () => {
    const stale = { historyId: '5' };
    const out = await poll(c, 'new_email', {}, stale, 2);
    expect(out.items).toHaveLength(2);
    expect(Number((out.cursor as { historyId: string }).historyId)).toBe(sandbox.state.gmail.historyId);
  });

  it('errors: 401 is an auth failure, 404 for a missing message, 429 with Retry-After past the per-user quota', async () => {
    const unauthorized = await failure(run(c, 'get_email', { message_id: 'x' }, badTokenCtx(c)));
    expect(unauthorized.status).toBe(401);
    expect(isAuthFailure(c.connector.authFailure, { status: unauthorized.status, data: unauthorized.data })).toBe(true);
    expect(unauthorized.message).toContain('invalid authentication credentials');
    const missing = await failure(run(c, 'get_email', { message_id: '18d4000000000fff' }));
    expect(missing.status).toBe(404);
    expect(missing.retryable).toBe(false);
    sandbox.state.gmail.throttle = { ...sandbox.state.gmail.throttle, limit: 1, windows: {} };
    await run(c, 'search_emails', { q: 'nothing-matches-this' });
    const limited = await failure(run(c, 'search_emails', { q: 'nothing-matches-this' }));
    expect(limited.status).toBe(429);
    expect(limited.retryable).toBe(true);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((limited.data as any).error.status).toBe('RESOURCE_EXHAUSTED');
  });
});

// ---- Google Calendar --------------------------------------------------------------------------------

describe('google-calendar', () => {
  let c: Connected;
  beforeAll(async () => {
    c = await connect(sandbox, connectors['google-calendar'] as ConnectorDefinition);
  });

  it('names the Google account', async () => {
    await expect(c.connector.account(c.ctx)).resolves.toMatchObject({ id: '109876543210987654321', name: 'jane@acme.test' });
  });

  it('create_event, find_events, update_event and delete_event', async () => {
    const created = await run(c, 'create_event', {
      summary: 'Kickoff with Globex',
      start: '2026-02-10T10:00:00+01:00',
      end: '2026-02-10T11:00:00+01:00',
      attendees: ['maria@globex.test'],
      location: 'Room 1',
    });
    expect(created).toMatchObject({
      status: 'confirmed',
      summary: 'Kickoff with Globex',
      start: { dateTime: '2026-02-10T10:00:00+01:00' },
      attendees: [{ email: 'maria@globex.test', responseStatus: 'needsAction' }],
    });
    expect(sandbox.calls({ connector: 'google-calendar', method: 'POST' })[0]!.query.sendUpdates).toBe('none');
    const allDay = await run(c, 'create_event', { calendar_id: 'c_sbx0team@group.calendar.google.com', summary: 'Offsite', start: '2026-02-12', end: '2026-02-13' });
    expect(allDay.start).toEqual({ date: '2026-02-12' });

    const found = await run(c, 'find_events', { q: 'globex', time_min: '2026-02-01T00:00:00Z', time_max: '2026-03-01T00:00:00Z' });
    expect(found.events.map((e: any) => e.id)).toEqual([created.id]);
    const january = await run(c, 'find_events', { time_min: '2026-01-01T00:00:00Z', time_max: '2026-01-31T00:00:00Z', max_results: 100 });
    expect(january.events).toHaveLength(12);
    const starts = january.events.map((e: any) => e.start.dateTime);
    expect(starts).toEqual([...starts].sort());

    const updated = await run(c, 'update_event', { event_id: created.id, summary: 'Kickoff (moved)', start: '2026-02-11T10:00:00+01:00', end: '2026-02-11T11:00:00+01:00' });
    expect(updated).toMatchObject({ id: created.id, summary: 'Kickoff (moved)', location: 'Room 1' });
    expect(updated.updated > created.updated || updated.updated === created.updated).toBe(true);

    expect(await run(c, 'delete_event', { event_id: created.id })).toEqual({ deleted: true, already_deleted: false });
    // A repeat (the step retried): Google answers 410 Gone, which is done.
    expect(await run(c, 'delete_event', { event_id: created.id })).toEqual({ deleted: true, already_deleted: true });
    expect((await run(c, 'find_events', { q: 'kickoff' })).events).toEqual([]);
  });

  it('the calendars option lists writable calendars, pages, and searches', async () => {
    const all = await allOptions(c, 'calendars');
    expect(all.pages).toBe(2);
    expect(all.values).toHaveLength(59);
    expect(all.values[0]).toBe('primary');
    expect(all.values).not.toContain('en.usa#holiday@group.v.calendar.google.com');
    expect((await allOptions(c, 'calendars', 'room 07')).labels).toEqual(['Room 07']);
  });

  it('new_event: the newest events first, then each created event exactly once, oldest first; edits do not fire', async () => {
    const first = await poll(c, 'new_event', {}, null, 5);
    expect(first.items).toHaveLength(5);
    const created = first.items.map((i) => i.data.created as string);
    expect(created).toEqual([...created].sort());
    expect((await poll(c, 'new_event', {}, first.cursor)).items).toEqual([]);

    sandbox.tick('google-calendar');
    const mine = await run(c, 'create_event', { summary: 'Planning', start: '2026-03-01T09:00:00Z', end: '2026-03-01T10:00:00Z' });
    await run(c, 'update_event', { event_id: first.items[0]!.id, summary: 'Edited old event' });
    sandbox.tick('google-calendar');
    const next = await poll(c, 'new_event', {}, first.cursor);
    expect(next.items).toHaveLength(3);
    expect(next.items[1]!.id).toBe(mine.id);
    expect(next.items.map((i) => i.data.summary)).toEqual([expect.stringMatching(/^Demo with prospect/), 'Planning', expect.stringMatching(/^Demo with prospect/)]);
    expect((await poll(c, 'new_event', {}, next.cursor)).items).toEqual([]);
    // Another calendar's events are not this trigger's.
    await run(c, 'create_event', { calendar_id: 'c_sbx0team@group.calendar.google.com', summary: 'Elsewhere', start: '2026-03-02', end: '2026-03-03' });
    expect((await poll(c, 'new_event', {}, next.cursor)).items).toEqual([]);
  });

  it('new_event: limit and more', async () => {
    const first = await poll(c, 'new_event', { calendar_id: 'primary' }, null, 1);
    for (let i = 0; i < 3; i++) sandbox.tick('google-calendar');
    const a = await poll(c, 'new_event', { calendar_id: 'primary' }, first.cursor, 2);
    expect(a.items).toHaveLength(2);
    expect(a.more).toBe(true);
    const b = await poll(c, 'new_event', { calendar_id: 'primary' }, a.cursor, 2);
    expect(b.items).toHaveLength(1);
    expect(b.more).toBeUndefined();
    expect(new Set([...ids(a.items), ...ids(b.items)]).size).toBe(3);
  });

  it('errors: 401, 404 for a missing event, 400 for an empty time range, 403 on a read-only calendar, 429', async () => {
    const unauthorized = await failure(run(c, 'find_events', {}, badTokenCtx(c)));
    expect(unauthorized.status).toBe(401);
    const missing = await failure(run(c, 'update_event', { event_id: 'nosuchevent', summary: 'x' }));
    expect(missing.status).toBe(404);
    const empty = await failure(run(c, 'create_event', { summary: 'Backwards', start: '2026-02-10T11:00:00Z', end: '2026-02-10T10:00:00Z' }));
    expect(empty.status).toBe(400);
    expect(empty.message).toContain('The specified time range is empty.');
    const readOnly = await failure(run(c, 'create_event', { calendar_id: 'en.usa#holiday@group.v.calendar.google.com', summary: 'Nope', start: '2026-02-10', end: '2026-02-11' }));
    expect(readOnly.status).toBe(403);
    sandbox.state['google-calendar'].throttle = { ...sandbox.state['google-calendar'].throttle, limit: 1, windows: {} };
    await run(c, 'find_events', {});
    const limited = await failure(run(c, 'find_events', {}));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});

// ---- Outlook ----------------------------------------------------------------------------------------

describe('outlook', () => {
  let c: Awaited<ReturnType<typeof connectMicrosoft>>;
  beforeAll(async () => {
    c = await connectMicrosoft(connectors.outlook as ConnectorDefinition);
  });

  it('signs in at the tenant (common by default), names the account, and refreshes only with scope', async () => {
    const token = sandbox.oauth.events('outlook').find((e) => e.grantType === 'authorization_code');
    expect(token).toBeDefined();
    await expect(c.connector.account(c.ctx)).resolves.toMatchObject({ id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd', name: 'Jane Cooper (jane@acme.test)' });
    const refreshed = await postToken(buildTokenRequest(c.auth, SANDBOX_CREDENTIALS.client, { grantType: 'refresh_token', refreshToken: c.refreshToken }, c.config));
    expect(refreshed.status).toBe(200);
    expect((refreshed.body as any).scope).toBe('User.Read Mail.ReadWrite Mail.Send');
    const noScope = await postToken({
      ...buildTokenRequest(c.auth, SANDBOX_CREDENTIALS.client, { grantType: 'refresh_token', refreshToken: (refreshed.body as any).refresh_token }, c.config),
      body: `grant_type=refresh_token&refresh_token=x&client_id=${SANDBOX_CREDENTIALS.client.clientId}&client_secret=${SANDBOX_CREDENTIALS.client.clientSecret}`,
    });
    expect(noScope.status).toBe(400);
    expect((noScope.body as any).error_description).toMatch(/^AADSTS900144/);
    // A code issued at one tenant is not redeemable at another.
    const other = await connectMicrosoft(connectors.outlook as ConnectorDefinition, 'organizations');
    await expect(other.connector.account(other.ctx)).resolves.toMatchObject({ id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd' });
  });

  it('send_email, create_draft, reply_to_email and list_emails', async () => {
    expect(await run(c, 'send_email', { to: ['maria@globex.test'], subject: 'Proposal', body: '<p>Attached</p>', body_type: 'html' })).toEqual({ sent: true });
    const sendCall = sandbox.calls({ connector: 'outlook', path: '/v1.0/me/sendMail' })[0]!;
    expect(sendCall.body).toEqual({
      message: {
        subject: 'Proposal',
        body: { contentType: 'HTML', content: '<p>Attached</p>' },
        toRecipients: [{ emailAddress: { address: 'maria@globex.test' } }],
        ccRecipients: [],
        bccRecipients: [],
      },
      saveToSentItems: true,
    });
    const sent = await run(c, 'list_emails', { folder_id: 'sentitems' });
    expect(sent.messages.map((m: any) => m.subject)).toEqual(['Proposal']);

    const draft = await run(c, 'create_draft', { to: ['li@initech.test'], subject: 'Draft for review', body: 'Please check' });
    expect(draft).toMatchObject({ subject: 'Draft for review', is_draft: true, to: ['li@initech.test'] });
    expect((await run(c, 'list_emails', { folder_id: 'drafts' })).messages.map((m: any) => m.id)).toEqual([draft.id]);

    const inbox = await run(c, 'list_emails', { top: 5 });
    expect(inbox.messages).toHaveLength(5);
    const received = inbox.messages.map((m: any) => m.received_at);
    expect(received).toEqual([...received].sort().reverse());
    expect(await run(c, 'reply_to_email', { message_id: inbox.messages[0].id, comment: 'Thanks!' })).toEqual({ replied: true });
    expect((await run(c, 'list_emails', { folder_id: 'sentitems' })).messages.map((m: any) => m.subject)).toContain(`RE: ${inbox.messages[0].subject}`);

    const unread = await run(c, 'list_emails', { unread_only: true });
    expect(unread.messages.length).toBeGreaterThan(0);
    expect(unread.messages.every((m: any) => !m.is_read)).toBe(true);
    const searched = await run(c, 'list_emails', { search: 'order 2003' });
    expect(searched.messages.map((m: any) => m.subject)).toEqual(['Order 2003 status']);
  });

  it('the mail_folders option follows @odata.nextLink and searches', async () => {
    const all = await allOptions(c, 'mail_folders');
    expect(all.pages).toBe(2);
    expect(all.values).toHaveLength(63);
    expect(all.labels.slice(0, 2)).toEqual(['Inbox', 'Drafts']);
    expect((await allOptions(c, 'mail_folders', 'invoices')).labels).toEqual(['Invoices']);
  });

  it('new_email: the newest messages first, then each arrival exactly once, oldest first (same-second arrivals included)', async () => {
    const first = await poll(c, 'new_email', {}, null, 5);
    expect(first.items).toHaveLength(5);
    const times = first.items.map((i) => i.data.received_at as string);
    expect(times).toEqual([...times].sort());
    expect((await poll(c, 'new_email', {}, first.cursor)).items).toEqual([]);

    sandbox.tick('outlook');
    await run(c, 'send_email', { to: ['jane@acme.test'], subject: 'Reminder to self', body: 'Renew the contract' });
    await run(c, 'send_email', { to: ['li@initech.test'], subject: 'Not to me', body: 'x' });
    sandbox.tick('outlook');
    const next = await poll(c, 'new_email', {}, first.cursor);
    expect(next.items).toHaveLength(3);
    const subjects = next.items.map((i) => i.data.subject as string);
    expect(subjects.filter((s) => s.startsWith('New lead'))).toHaveLength(2);
    expect(subjects).toContain('Reminder to self');
    const arrived = next.items.map((i) => i.data.received_at as string);
    expect(arrived).toEqual([...arrived].sort());
    expect((await poll(c, 'new_email', {}, next.cursor)).items).toEqual([]);
    sandbox.tick('outlook');
    expect((await poll(c, 'new_email', {}, next.cursor)).items).toHaveLength(1);
  });

  it('new_email: limit and more', async () => {
    const first = await poll(c, 'new_email', { folder_id: 'inbox' }, null, 1);
    for (let i = 0; i < 3; i++) sandbox.tick('outlook');
    const a = await poll(c, 'new_email', { folder_id: 'inbox' }, first.cursor, 2);
    expect(a.items).toHaveLength(2);
    expect(a.more).toBe(true);
    const b = await poll(c, 'new_email', { folder_id: 'inbox' }, a.cursor, 2);
    expect(b.items).toHaveLength(1);
    expect(b.more).toBeUndefined();
    expect(new Set([...ids(a.items), ...ids(b.items)]).size).toBe(3);
  });

  it('errors: 401 InvalidAuthenticationToken, 404 ErrorItemNotFound, 429 with Retry-After', async () => {
    const unauthorized = await failure(run(c, 'list_emails', {}, badTokenCtx(c)));
    expect(unauthorized.status).toBe(401);
    expect((unauthorized.data as any).error.code).toBe('InvalidAuthenticationToken');
    expect(isAuthFailure(c.connector.authFailure, { status: 401, data: unauthorized.data })).toBe(true);
    const missing = await failure(run(c, 'reply_to_email', { message_id: 'AAMkAGI2nope', comment: 'hi' }));
    expect(missing.status).toBe(404);
    expect((missing.data as any).error.code).toBe('ErrorItemNotFound');
    const missingFolder = await failure(run(c, 'list_emails', { folder_id: 'nope' }));
    expect(missingFolder.status).toBe(404);
    sandbox.state.outlook.throttle = { ...sandbox.state.outlook.throttle, limit: 1, windows: {} };
    await run(c, 'list_emails', {});
    const limited = await failure(run(c, 'list_emails', {}));
    expect(limited.status).toBe(429);
    expect((limited.data as any).error.code).toBe('TooManyRequests');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});

// ---- Microsoft Teams -----------------------------------------------------------------------------------

describe('microsoft-teams', () => {
  let c: Awaited<ReturnType<typeof connectMicrosoft>>;
  let sales: { id: string };
  let general: { id: string };
  beforeAll(async () => {
    c = await connectMicrosoft(connectors['microsoft-teams'] as ConnectorDefinition);
  });
  beforeEach(() => {
    sales = sandbox.state['microsoft-teams'].teams[0]!;
    general = sandbox.state['microsoft-teams'].channels[0]!;
  });

  it('signs in at the organizations tenant and names the account', async () => {
    await expect(c.connector.account(c.ctx)).resolves.toMatchObject({ name: 'Jane Cooper (jane@acme.test)' });
    expect(c.config.tenant).toBe('organizations');
  });

  it('send_channel_message, reply_to_message, create_channel and list_channel_messages', async () => {
    const posted = await run(c, 'send_channel_message', { team_id: sales.id, channel_id: general.id, content: '<b>Deal won</b>', subject: 'Globex' });
    expect(posted).toMatchObject({
      team_id: sales.id,
      channel_id: general.id,
      content: '<b>Deal won</b>',
      content_type: 'html',
      subject: 'Globex',
      from_name: 'Jane Cooper',
      reply_to_id: null,
    });
    expect(posted.id).toMatch(/^\d{13}$/);
    const reply = await run(c, 'reply_to_message', { team_id: sales.id, channel_id: general.id, message_id: posted.id, content: 'Congrats', content_type: 'text' });
    expect(reply).toMatchObject({ reply_to_id: posted.id, content_type: 'text' });

    for (let i = 0; i < 25; i++) sandbox.tick('microsoft-teams');
    const listed = await run(c, 'list_channel_messages', { team_id: sales.id, channel_id: general.id, top: 60 });
    expect(listed.messages).toHaveLength(56); // 30 seeded + 1 posted + 25 ticks; replies are not channel messages
    expect(listed.messages[25].id).toBe(posted.id);
    expect(sandbox.calls({ connector: 'microsoft-teams', path: /\/messages$/, method: 'GET' })).toHaveLength(2); // $top=50, then the nextLink

    const channel = await run(c, 'create_channel', { team_id: sales.id, display_name: 'Renewals', description: 'Q3 renewals' });
    expect(channel).toMatchObject({ displayName: 'Renewals', membershipType: 'standard' });
    expect(channel.id).toMatch(/^19:[0-9a-f]{32}@thread\.tacv2$/);
    const dup = await failure(run(c, 'create_channel', { team_id: sales.id, display_name: 'renewals' }));
    expect(dup.status).toBe(400);
    expect(dup.message).toContain('Channel name already existed');
  });

  it('the teams and channels options page and search', async () => {
    const teams = await allOptions(c, 'teams');
    expect(teams.labels).toEqual(['Engineering', 'Launch 2025', 'Sales']);
    expect((await allOptions(c, 'teams', 'sal')).values).toEqual([sales.id]);
    const channels = await allOptions(c, 'channels');
    expect(channels.pages).toBe(3);
    expect(channels.values).toHaveLength(17);
    expect(channels.labels).toContain('Sales › Deals');
    expect((await allOptions(c, 'channels', 'squad 0')).values).toHaveLength(9);
  });

  it('new_channel_message: the newest messages first, then each new one exactly once, oldest first; replies do not fire', async () => {
    const input = { team_id: sales.id, channel_id: general.id };
    const first = await poll(c, 'new_channel_message', input, null, 5);
    expect(first.items).toHaveLength(5);
    const times = first.items.map((i) => i.data.created_at as string);
    expect(times).toEqual([...times].sort());
    expect(first.items[4]!.data.content).toBe('<p>Update 30: pipeline looks good.</p>');
    expect((await poll(c, 'new_channel_message', input, first.cursor)).items).toEqual([]);

    sandbox.tick('microsoft-teams');
    const mine = await run(c, 'send_channel_message', { ...input, content: 'Lunch?' });
    await run(c, 'reply_to_message', { ...input, message_id: mine.id, content: 'Yes' });
    sandbox.tick('microsoft-teams');
    const next = await poll(c, 'new_channel_message', input, first.cursor);
    expect(next.items.map((i) => i.data.content)).toEqual(['<p>Heads-up #1: a customer asked for a demo.</p>', 'Lunch?', '<p>Heads-up #2: a customer asked for a demo.</p>']);
    expect(sandbox.calls({ connector: 'microsoft-teams', path: /\/messages\/delta$/ }).at(-1)!.query.$filter).toMatch(/^lastModifiedDateTime gt \d{4}-/);
    expect((await poll(c, 'new_channel_message', input, next.cursor)).items).toEqual([]);
  });

  it('new_channel_message: limit and more', async () => {
    const input = { team_id: sales.id, channel_id: general.id };
    const first = await poll(c, 'new_channel_message', input, null, 1);
    for (let i = 0; i < 3; i++) sandbox.tick('microsoft-teams');
    const a = await poll(c, 'new_channel_message', input, first.cursor, 2);
    expect(a.items).toHaveLength(2);
    expect(a.more).toBe(true);
    const b = await poll(c, 'new_channel_message', input, a.cursor, 2);
    expect(b.items).toHaveLength(1);
    expect(b.more).toBeUndefined();
    expect(new Set([...ids(a.items), ...ids(b.items)]).size).toBe(3);
  });

  it('errors: 401, 404 for an unknown team, 429 with Retry-After', async () => {
    const unauthorized = await failure(run(c, 'list_channel_messages', { team_id: sales.id, channel_id: general.id }, badTokenCtx(c)));
    expect(unauthorized.status).toBe(401);
    const missing = await failure(run(c, 'send_channel_message', { team_id: '00000000-0000-0000-0000-000000000000', channel_id: general.id, content: 'x' }));
    expect(missing.status).toBe(404);
    expect((missing.data as any).error.code).toBe('NotFound');
    sandbox.state['microsoft-teams'].throttle = { ...sandbox.state['microsoft-teams'].throttle, limit: 1, windows: {} };
    await run(c, 'list_channel_messages', { team_id: sales.id, channel_id: general.id });
    const limited = await failure(run(c, 'list_channel_messages', { team_id: sales.id, channel_id: general.id }));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});
