/** The work-tracking deep connectors (Jira, Zendesk, Intercom, Linear) against their sandbox fakes. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  buildAuthorizationUrl,
  buildTokenRequest,
  ConnectorDefinition,
  Credentials,
  ProviderError,
  OAuth2Auth,
  parseTokenResponse,
  PollTrigger,
  TriggerItem,
  withSandbox,
} from '../index';
import { consentInSandbox, Sandbox, SANDBOX_CREDENTIALS, startSandbox } from '../sandbox';
import { Connected, makeCtx, pkcePair, postToken, REDIRECT_URI } from '../test-support/helpers';
import { allOptions, failure, run, schemaValidator } from '../test-support/checked';
import { jiraConnector } from './jira';
import { zendeskConnector } from './zendesk';
import { intercomConnector } from './intercom';
import { linearConnector, linearQuery } from './linear';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => sandbox.reset());

const ajv = schemaValidator;

/** Polls a trigger as the engine does: the cursor goes through JSON between polls; each item's data is checked against the output schema. */
async function poll(
  c: Connected,
  trigger: string,
  cursor: unknown,
  limit = 10,
  input: Record<string, unknown> = {},
): Promise<{ items: TriggerItem[]; cursor: unknown; more?: boolean }> {
  const def = c.connector.triggers![trigger] as PollTrigger;
  const out = await def.poll(c.ctx, { input, cursor: cursor === null ? null : JSON.parse(JSON.stringify(cursor)), limit });
  const valid = ajv.compile(def.output);
  for (const item of out.items) expect(valid(item.data), JSON.stringify(valid.errors)).toBe(true);
  return { ...out, cursor: JSON.parse(JSON.stringify(out.cursor)) };
}

/** Polls until nothing more is pending, collecting every item (at most `rounds` polls). */
async function drain(c: Connected, trigger: string, cursor: unknown, limit = 10, input: Record<string, unknown> = {}, rounds = 10) {
  const items: TriggerItem[] = [];
  for (let i = 0; i < rounds; i++) {
    const page = await poll(c, trigger, cursor, limit, input);
    items.push(...page.items);
    cursor = page.cursor;
    if (!page.more) break;
  }
  return { items, cursor };
}

/**
 * Connects as the end user would, config first (Zendesk's subdomain), then fills the config
 * account() learns (Jira's cloud id), as the server does.
 */
async function connectWithAccount(base: ConnectorDefinition, asked: Record<string, string> = {}, account = 0) {
  const connector = withSandbox(base, sandbox.url);
  const auth = connector.auth as OAuth2Auth;
  const { verifier, challenge } = pkcePair();
  const pkce = auth.pkce ?? true;
  const url = buildAuthorizationUrl(auth, {
    clientId: SANDBOX_CREDENTIALS.client.clientId,
    redirectUri: REDIRECT_URI,
    state: 'st',
    codeChallenge: pkce ? challenge : undefined,
    config: asked,
  });
  const callback = await consentInSandbox(url, { account });
  expect(callback.searchParams.get('error_description')).toBeNull();
  const grant = { grantType: 'authorization_code' as const, code: callback.searchParams.get('code') ?? '', redirectUri: REDIRECT_URI, codeVerifier: pkce ? verifier : undefined };
  const res = await postToken(buildTokenRequest(auth, SANDBOX_CREDENTIALS.client, grant, asked));
  const token = parseTokenResponse(auth, res.status, res.body);
  if (!token.ok) throw new Error(`code exchange failed: ${JSON.stringify(res.body)}`);
  const credentials: Credentials = { type: 'oauth2', accessToken: token.tokens.accessToken };
  const learned = { ...asked, ...token.tokens.connectionConfig };
  const info = await connector.account(makeCtx(connector, learned, credentials));
  const config = { ...learned, ...info.config };
  const c: Connected = { connector, tokens: token.tokens, config, credentials, ctx: makeCtx(connector, config, credentials) };
  return { ...c, account: info };
}

describe('jira', () => {
  let c: Awaited<ReturnType<typeof connectWithAccount>>;
  beforeAll(async () => {
    c = await connectWithAccount(jiraConnector);
  });

  it('names the site and learns its cloud id', () => {
    expect(c.account).toMatchObject({
      id: '1324a887-45db-1bf4-1e99-ef0ff456d421',
      name: 'acme (acme.atlassian.net)',
      config: { cloud_id: '1324a887-45db-1bf4-1e99-ef0ff456d421' },
    });
    expect(c.connector.baseUrl).toContain('/jira/ex/jira/{{cloud_id}}');
  });

  it('creates, updates, comments on and finds issues', async () => {
    const created = await run(c, 'create_issue', {
      project: 'SUP',
      issue_type: '10002',
      summary: 'Printer on fire',
      description: 'Line one\nLine two',
      labels: ['hardware'],
      priority: 'High',
    });
    expect(created.key).toMatch(/^SUP-\d+$/);
    const stored = sandbox.state.jira.issues.find((i) => i.key === created.key)!;
    expect(stored.description).toMatchObject({ type: 'doc', version: 1, content: [{ type: 'paragraph' }, { type: 'paragraph' }] });

    const updated = await run(c, 'update_issue', { issue_key: created.key, summary: 'Printer on fire (again)', assignee_account_id: '5b10ac8d82e05b22cc7d4ef5' });
    expect(updated).toMatchObject({
      key: created.key,
      summary: 'Printer on fire (again)',
      assignee: 'Mia Krystof',
      priority: 'High',
      labels: ['hardware'],
      issue_type: 'Bug',
      status: 'To Do',
    });

    const comment = await run(c, 'add_comment', { issue_key: created.key, body: 'On it.' });
    expect(comment.id).toMatch(/^\d+$/);
    expect(stored.comments).toHaveLength(1);

    const found = await run(c, 'find_issues', { jql: 'project = SUP AND summary ~ "printer"' });
    expect(found.issues.map((i: { key: string }) => i.key)).toEqual([created.key]);
    // Pages with nextPageToken.
    const first = await run(c, 'find_issues', { jql: 'project in (SUP, ENG) ORDER BY created ASC', max_results: 2 });
    expect(first.issues).toHaveLength(2);
    const second = await run(c, 'find_issues', { jql: 'project in (SUP, ENG) ORDER BY created ASC', max_results: 2, page_token: first.next_page_token });
    expect(second.issues[0].key).not.toBe(first.issues[1].key);
  });

  it('answers Jira errors as HttpError: 400 with field errors, unbounded JQL, 404, 401, 429 with Retry-After', async () => {
    const invalid = await failure(run(c, 'create_issue', { project: 'NOPE', issue_type: '10002', summary: 'x' }));
    expect(invalid.status).toBe(400);
    expect(invalid.data).toMatchObject({ errors: { project: 'Specify a valid project ID or key' } });
    const unbounded = await failure(run(c, 'find_issues', { jql: 'ORDER BY created DESC' }));
    expect(unbounded.message).toContain('Unbounded JQL queries are not allowed');
    const missing = await failure(run(c, 'update_issue', { issue_key: 'SUP-999', summary: 'x' }));
    expect(missing.status).toBe(404);
    const bad = makeCtx(c.connector, c.config, { type: 'oauth2', accessToken: 'not-a-token' });
    const unauthorized = await failure(c.connector.actions.find_issues!.run(bad, { jql: 'project = SUP' }));
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.data).toEqual({ code: 401, message: 'Unauthorized' });
    sandbox.state.jira.rateLimit.limit = 0;
    const limited = await failure(run(c, 'find_issues', { jql: 'project = SUP' }));
    expect(limited.status).toBe(429);
    expect(limited.retryable).toBe(true);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('offers projects (paged, searchable) and issue types', async () => {
    const all = await allOptions(c, 'projects');
    expect(all.pages).toBe(2);
    expect(all.values).toHaveLength(63);
    expect(new Set(all.values).size).toBe(63);
    expect((await allOptions(c, 'projects', 'support')).values).toEqual(['SUP']);
    const types = await allOptions(c, 'issue_types', 'story');
    expect(types.values).toEqual(['10003']);
  });

  it('new_issue: the newest first, then each new issue once, oldest first, with limit and more', async () => {
    const first = await poll(c, 'new_issue', null, 3);
    expect(first.items.map((i) => i.data.summary)).toEqual(['Refund not showing in portal', 'Update pricing page copy', 'Export to CSV drops rows']);
    expect(first.more).toBe(false);
    // From now: no items, the same cursor at the newest.
    expect(await poll(c, 'new_issue', null, 0)).toMatchObject({ items: [], cursor: first.cursor });
    expect((await poll(c, 'new_issue', first.cursor)).items).toEqual([]);

    sandbox.tick('jira');
    sandbox.tick('jira');
    const created = await run(c, 'create_issue', { project: 'ENG', issue_type: '10001', summary: 'Made by a flow' });
    const limited = await poll(c, 'new_issue', first.cursor, 2);
    expect(limited.items).toHaveLength(2);
    expect(limited.more).toBe(true);
    const rest = await poll(c, 'new_issue', limited.cursor, 2);
    expect(rest.items.map((i) => i.data.key)).toEqual([created.key]);
    expect(rest.more).toBe(false);
    const seen = [...limited.items, ...rest.items];
    expect(seen.map((i) => i.data.summary)).toEqual([expect.stringMatching(/^Customer reports a problem/), expect.stringMatching(/^Customer reports a problem/), 'Made by a flow']);
    expect(new Set(seen.map((i) => i.id)).size).toBe(3);
    expect((await poll(c, 'new_issue', rest.cursor)).items).toEqual([]);
    // A project filter.
    const eng = await drain(c, 'new_issue', first.cursor, 10, { project: 'ENG' });
    expect(eng.items.map((i) => i.data.key)).toEqual([created.key]);
    // The JQL asked dates in the user's time zone (Europe/Berlin), minutes only.
    const jql = sandbox.calls({ connector: 'jira', path: /search\/jql$/ }).map((call) => (call.body as { jql: string }).jql);
    expect(jql.at(-1)).toMatch(/^project = "ENG" AND created >= "\d{4}-\d\d-\d\d \d\d:\d\d" ORDER BY created ASC, key ASC$/);
  });

  it('updated_issue: a change runs once per update (id:updated)', async () => {
    const start = await poll(c, 'updated_issue', null, 1);
    await run(c, 'update_issue', { issue_key: 'SUP-1', summary: 'Checkout page times out (EU only)' });
    const after = await poll(c, 'updated_issue', start.cursor);
    expect(after.items).toHaveLength(1);
    expect(after.items[0]!.dedupeKey).toBe(`${after.items[0]!.id}:${after.items[0]!.data.updated}`);
    expect((await poll(c, 'updated_issue', after.cursor)).items).toEqual([]);
    await run(c, 'add_comment', { issue_key: 'SUP-1', body: 'Still happening' });
    const again = await poll(c, 'updated_issue', after.cursor);
    expect(again.items.map((i) => i.id)).toEqual([after.items[0]!.id]);
    expect(again.items[0]!.dedupeKey).not.toBe(after.items[0]!.dedupeKey);
  });
});

describe('zendesk', () => {
  let c: Awaited<ReturnType<typeof connectWithAccount>>;
  beforeAll(async () => {
    c = await connectWithAccount(zendeskConnector, { subdomain: 'acme' });
  });

  it('names the agent at the subdomain; the token works only there', async () => {
    expect(c.account).toMatchObject({ id: '368230001', name: 'jane@acme.test (acme.zendesk.com)' });
    await zendeskConnector.account(c.ctx);
    expect(sandbox.calls({ connector: 'zendesk', path: '/~acme.zendesk.com/api/v2/users/me.json' })).toHaveLength(1);
    const elsewhere = makeCtx(c.connector, { subdomain: 'globex' }, c.credentials);
    const refused = await failure(zendeskConnector.account(elsewhere));
    expect(refused.status).toBe(401);
    expect(refused.data).toMatchObject({ error: 'invalid_token' });
  });

  it('creates (idempotently), updates, comments on and finds tickets', async () => {
    const input = {
      subject: 'Printer on fire',
      description: 'Smoke everywhere',
      requester_email: 'pat@customer.test',
      priority: 'urgent',
      group_id: '360001001',
      tags: ['hardware'],
    };
    const created = await run(c, 'create_ticket', input);
    expect(created).toMatchObject({ subject: 'Printer on fire', status: 'new', priority: 'urgent', group_id: 360001001, tags: ['hardware'] });
    // The same step repeated (same Idempotency-Key) creates nothing new.
    const again = await run(c, 'create_ticket', input);
    expect(again.id).toBe(created.id);
    expect(sandbox.state.zendesk.tickets.filter((t) => t.subject === 'Printer on fire')).toHaveLength(1);

    const updated = await run(c, 'update_ticket', { ticket_id: created.id, status: 'pending', assignee_id: 368230001, tags: ['hardware', 'fire'] });
    expect(updated).toMatchObject({ status: 'pending', assignee_id: 368230001, tags: ['hardware', 'fire'] });
    await run(c, 'add_comment', { ticket_id: created.id, body: 'Extinguisher on the way', public: false });
    expect(sandbox.state.zendesk.tickets.find((t) => t.id === created.id)!.comments.map((x) => [x.body, x.public])).toEqual([
      ['Smoke everywhere', true],
      ['Extinguisher on the way', false],
    ]);

    const found = await run(c, 'find_tickets', { query: 'priority:urgent fire' });
    expect(found.tickets.map((t: { id: number }) => t.id)).toEqual([created.id]);
    const paged = await run(c, 'find_tickets', { query: 'status<solved', per_page: 2 });
    expect(paged).toMatchObject({ count: 5, next_page: 2 });
  });

  it('answers Zendesk errors as HttpError: 422 validation, 404, 401, 429 with Retry-After', async () => {
    const invalid = await failure(c.connector.actions.update_ticket!.run(c.ctx, { ticket_id: 101, group_id: '42' }));
    expect(invalid.status).toBe(422);
    expect(invalid.data).toMatchObject({ error: 'RecordInvalid', details: { group_id: [{ error: 'InvalidValue' }] } });
    const missing = await failure(run(c, 'add_comment', { ticket_id: 999999, body: 'hello' }));
    expect(missing.status).toBe(404);
    expect(missing.data).toEqual({ error: 'RecordNotFound', description: 'Not found' });
    const bad = makeCtx(c.connector, c.config, { type: 'oauth2', accessToken: 'not-a-token' });
    const unauthorized = await failure(c.connector.actions.find_tickets!.run(bad, { query: 'printer' }));
    expect(unauthorized.status).toBe(401);
    sandbox.state.zendesk.rateLimit.limit = 0;
    const limited = await failure(run(c, 'find_tickets', { query: 'printer' }));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('offers groups with cursor paging and search', async () => {
    const all = await allOptions(c, 'groups');
    expect(all.pages).toBe(2);
    expect(all.values).toHaveLength(120);
    expect((await allOptions(c, 'groups', 'billing')).labels).toEqual(['Billing']);
    expect(sandbox.calls({ connector: 'zendesk', path: '/~acme.zendesk.com/api/v2/groups.json' })[1]!.query['page[after]']).toBeTruthy();
  });

  it('new_ticket: the newest first, then the incremental export, each ticket once, past the last minute', async () => {
    const first = await poll(c, 'new_ticket', null, 2);
    expect(first.items.map((i) => i.data.subject)).toEqual(['Feature request: dark mode', 'App crashes on start']);
    expect(await poll(c, 'new_ticket', null, 0)).toMatchObject({ items: [], cursor: first.cursor });
    sandbox.advanceTime(120);
    expect((await poll(c, 'new_ticket', first.cursor)).items).toEqual([]);

    sandbox.tick('zendesk');
    const created = await run(c, 'create_ticket', { subject: 'Made by a flow', description: 'Hello' });
    sandbox.tick('zendesk');
    // Zendesk's export leaves out what changed in the last minute.
    expect((await poll(c, 'new_ticket', first.cursor)).items).toEqual([]);
    sandbox.advanceTime(61);
    // Pages of `limit` from the export (which starts at the newest already seen, on or after start_time).
    const limited = await poll(c, 'new_ticket', first.cursor, 2);
    expect(limited.items.length).toBeLessThanOrEqual(2);
    expect(limited.more).toBe(true);
    const rest = await drain(c, 'new_ticket', limited.cursor, 2);
    const seen = [...limited.items, ...rest.items];
    expect(seen.map((i) => i.data.subject)).toEqual([
      expect.stringMatching(/^Order #\d+ has not arrived$/),
      'Made by a flow',
      expect.stringMatching(/^Order #\d+ has not arrived$/),
    ]);
    expect(seen[1]!.id).toBe(String(created.id));
    // An update is not a new ticket.
    await run(c, 'update_ticket', { ticket_id: created.id, status: 'open' });
    sandbox.advanceTime(61);
    expect((await drain(c, 'new_ticket', rest.cursor)).items).toEqual([]);
    expect(sandbox.calls({ connector: 'zendesk', path: '/~acme.zendesk.com/api/v2/incremental/tickets/cursor.json' }).at(-1)!.query.cursor).toBeTruthy();
  });

  it('updated_ticket: each change once (id:updated_at)', async () => {
    const start = await poll(c, 'updated_ticket', null, 1);
    sandbox.advanceTime(120);
    await run(c, 'update_ticket', { ticket_id: 101, priority: 'high' });
    sandbox.advanceTime(61);
    const after = await drain(c, 'updated_ticket', start.cursor);
    expect(after.items.map((i) => i.id)).toEqual(['101']);
    expect(after.items[0]!.dedupeKey).toBe(`101:${after.items[0]!.data.updated_at}`);
    await run(c, 'add_comment', { ticket_id: 101, body: 'Any news?' });
    sandbox.advanceTime(61);
    const again = await drain(c, 'updated_ticket', after.cursor);
    expect(again.items.map((i) => i.id)).toEqual(['101']);
    expect(again.items[0]!.dedupeKey).not.toBe(after.items[0]!.dedupeKey);
  });
});

describe('intercom', () => {
  let c: Awaited<ReturnType<typeof connectWithAccount>>;
  beforeAll(async () => {
    c = await connectWithAccount(intercomConnector);
  });

  it('names the workspace and sends the Intercom-Version header', async () => {
    expect(c.account).toMatchObject({ id: 'ecahpwf5', name: 'Acme Support (mark@acme.test)' });
    await c.connector.account(c.ctx);
    expect(sandbox.calls({ connector: 'intercom', path: '/me' })[0]!.headers['intercom-version']).toBe('2.11');
  });

  it('creates, updates and finds contacts, and replies to a conversation', async () => {
    const created = await run(c, 'create_contact', { email: 'new.person@customer.test', name: 'New Person', custom_attributes: { plan: 'pro' } });
    expect(created).toMatchObject({ role: 'user', email: 'new.person@customer.test', name: 'New Person' });
    const dup = await failure(run(c, 'create_contact', { email: 'new.person@customer.test' }));
    expect(dup.status).toBe(409);
    expect(dup.message).toContain('A contact matching those details already exists');
    const updated = await run(c, 'update_contact', { contact_id: created.id, name: 'Newer Person', phone: '+15550100' });
    expect(updated).toMatchObject({ name: 'Newer Person', phone: '+15550100' });
    const byEmail = await run(c, 'find_contacts', { email: 'new.person@customer.test' });
    expect(byEmail.contacts.map((x: { id: string }) => x.id)).toEqual([created.id]);
    const byName = await run(c, 'find_contacts', { name: 'Customer 0', per_page: 50 });
    expect(byName.total_count).toBe(94);
    const next = await run(c, 'find_contacts', { name: 'Customer 0', per_page: 50, starting_after: byName.starting_after });
    expect(next.contacts).toHaveLength(44);
    expect(next.starting_after).toBeUndefined();

    const reply = await run(c, 'reply_to_conversation', { conversation_id: '1911149800', body: 'Settings → Export.' });
    expect(reply).toMatchObject({ id: '1911149800', state: 'open' });
    const conversation = sandbox.state.intercom.conversations.find((x) => x.id === '1911149800')!;
    expect(conversation.parts).toMatchObject([{ part_type: 'comment', body: 'Settings → Export.', author: { type: 'admin', id: '814860' } }]);
    await run(c, 'reply_to_conversation', { conversation_id: '1911149800', body: 'Internal: check logs', message_type: 'note', admin_id: '814861' });
    expect(conversation.parts[1]).toMatchObject({ part_type: 'note', author: { id: '814861' } });
  });

  it('answers Intercom errors as HttpError: 404, 400, 401, 429 with X-RateLimit-Reset', async () => {
    const missing = await failure(run(c, 'reply_to_conversation', { conversation_id: '1', body: 'hi' }));
    expect(missing.status).toBe(404);
    expect(missing.data).toMatchObject({ type: 'error.list', errors: [{ code: 'not_found' }] });
    const badAdmin = await failure(run(c, 'reply_to_conversation', { conversation_id: '1911149800', body: 'hi', admin_id: '1' }));
    expect(badAdmin.status).toBe(400);
    const bad = makeCtx(c.connector, c.config, { type: 'oauth2', accessToken: 'not-a-token' });
    const unauthorized = await failure(c.connector.account(bad));
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.data).toMatchObject({ errors: [{ code: 'unauthorized', message: 'Access Token Invalid' }] });
    sandbox.state.intercom.rateLimit.limit = 0;
    const limited = await failure(run(c, 'find_contacts', { email: 'x@y.test' }));
    expect(limited.status).toBe(429);
    expect(limited.retryable).toBe(true);
    expect(Number(limited.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);
  });

  it('offers admins and contacts (cursor paging, search)', async () => {
    expect((await allOptions(c, 'admins', 'priya')).values).toEqual(['814861']);
    const contacts = await allOptions(c, 'contacts');
    expect(contacts.pages).toBe(3);
    expect(new Set(contacts.values).size).toBe(120);
    expect((await allOptions(c, 'contacts', 'li chen')).labels).toEqual(['Li Chen']);
  });

  it('new_conversation: the newest first, then each new conversation once, oldest first, with limit and more', async () => {
    const first = await poll(c, 'new_conversation', null, 2);
    expect(first.items.map((i) => i.data.body)).toEqual(['<p>Billing question</p>', '<p>Password reset does not arrive</p>']);
    expect(await poll(c, 'new_conversation', null, 0)).toMatchObject({ items: [], cursor: first.cursor });
    expect((await poll(c, 'new_conversation', first.cursor)).items).toEqual([]);
    sandbox.tick('intercom');
    sandbox.tick('intercom');
    sandbox.tick('intercom');
    const limited = await poll(c, 'new_conversation', first.cursor, 2);
    expect(limited.items).toHaveLength(2);
    expect(limited.more).toBe(true);
    const rest = await poll(c, 'new_conversation', limited.cursor, 2);
    expect(rest.items).toHaveLength(1);
    expect(rest.more).toBe(false);
    const ids = [...limited.items, ...rest.items].map((i) => Number(i.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(3);
    expect((await poll(c, 'new_conversation', rest.cursor)).items).toEqual([]);
    const body = sandbox.calls({ connector: 'intercom', path: '/conversations/search' }).at(-1)!.body as Record<string, any>;
    expect(body).toMatchObject({ query: { field: 'created_at', operator: '>' }, sort: { field: 'created_at', order: 'ascending' } });
  });

  it('updated_conversation: a reply makes the conversation run again (id:updated_at)', async () => {
    const start = await poll(c, 'updated_conversation', null, 5);
    sandbox.advanceTime(2);
    await run(c, 'reply_to_conversation', { conversation_id: '1911149801', body: 'Looking into it' });
    const after = await poll(c, 'updated_conversation', start.cursor);
    expect(after.items.map((i) => i.id)).toEqual(['1911149801']);
    expect(after.items[0]!.dedupeKey).toBe(`1911149801:${after.items[0]!.data.updated_at}`);
    expect((await poll(c, 'updated_conversation', after.cursor)).items).toEqual([]);
  });
});

describe('linear', () => {
  let c: Awaited<ReturnType<typeof connectWithAccount>>;
  const ENG = '00000001-0000-4000-8000-000000000001';
  beforeAll(async () => {
    c = await connectWithAccount(linearConnector);
  });

  it('names the user and workspace over GraphQL', () => {
    expect(c.account).toMatchObject({ id: '00000003-0000-4000-8000-000000000001', name: 'Karri Saarinen <karri@acme.test> (Acme)' });
  });

  it('creates, updates, comments on and finds issues', async () => {
    const created = await run(c, 'create_issue', { team_id: ENG, title: 'Printer on fire', description: 'Smoke **everywhere**', priority: 1 });
    expect(created).toMatchObject({ identifier: 'ENG-5', title: 'Printer on fire', priority: 1, priority_label: 'Urgent', state: 'Todo', team_key: 'ENG' });
    expect(created.url).toBe('https://linear.app/acme/issue/ENG-5/printer-on-fire');
    const sent = sandbox.calls({ connector: 'linear', path: '/graphql' }).at(-1)!.body as { query: string; variables: Record<string, any> };
    expect(sent.query).toMatch(/^mutation IssueCreate\(\$input: IssueCreateInput!\)/);
    expect(sent.variables.input).toMatchObject({ teamId: ENG, title: 'Printer on fire' });

    const done = sandbox.state.linear.states.find((s) => s.teamId === ENG && s.type === 'completed')!;
    const updated = await run(c, 'update_issue', { issue_id: 'ENG-5', state_id: done.id, assignee_id: '00000003-0000-4000-8000-000000000002' });
    expect(updated).toMatchObject({ identifier: 'ENG-5', state: 'Done', state_type: 'completed', assignee: 'Nan Yu' });
    const comment = await run(c, 'add_comment', { issue_id: created.id, body: 'Extinguished.' });
    expect(comment.url).toMatch(/^https:\/\/linear\.app\/acme\/issue\/ENG-5#comment-/);

    const found = await run(c, 'find_issues', { team_id: ENG, title_contains: 'printer' });
    expect(found.issues.map((i: { identifier: string }) => i.identifier)).toEqual(['ENG-5']);
    const first = await run(c, 'find_issues', { team_id: ENG, first: 3 });
    expect(first.issues[0].identifier).toBe('ENG-5');
    const second = await run(c, 'find_issues', { team_id: ENG, first: 3, after: first.next_cursor });
    expect(second.issues).toHaveLength(2);
    expect(second.next_cursor).toBeUndefined();
  });

  it('answers Linear errors: a field error (HTTP 200) and a bad document (400) as ProviderError, auth as 401, RATELIMITED as a retryable 429', async () => {
    const missing = await run(c, 'update_issue', { issue_id: 'ENG-999', title: 'x' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ProviderError);
    expect(missing).toMatchObject({ code: 'INPUT_ERROR', message: 'Linear: Could not find referenced Issue.' });
    const invalid = await linearQuery(c.ctx, '{ viewer { id shoeSize } }').catch((e: unknown) => e);
    expect(invalid).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', message: 'Linear: Cannot query field "shoeSize" on type "User".' });
    expect(sandbox.calls({ connector: 'linear', path: '/graphql' }).at(-1)!.status).toBe(400);
    const bad = makeCtx(c.connector, c.config, { type: 'oauth2', accessToken: 'not-a-token' });
    const unauthorized = await failure(c.connector.account(bad));
    expect(unauthorized.status).toBe(401);
    sandbox.state.linear.rateLimit.limit = 0;
    const limited = await failure(run(c, 'find_issues', {}));
    expect(limited.status).toBe(429);
    expect(limited.retryable).toBe(true);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('offers teams and workflow states with relay paging and search', async () => {
    const teams = await allOptions(c, 'teams');
    expect(teams.pages).toBe(2);
    expect(teams.values).toHaveLength(53);
    expect((await allOptions(c, 'teams', 'design')).labels).toEqual(['Design']);
    const states = await allOptions(c, 'workflow_states', 'eng');
    expect(states.labels).toEqual(['ENG · Backlog', 'ENG · Todo', 'ENG · In Progress', 'ENG · Done', 'ENG · Canceled']);
  });

  it('new_issue: the newest first, then each new issue once, oldest first, with limit and more', async () => {
    const first = await poll(c, 'new_issue', null, 2);
    expect(first.items.map((i) => i.data.title)).toEqual(['Dark mode for settings', 'Flaky checkout test']);
    expect(await poll(c, 'new_issue', null, 0)).toMatchObject({ items: [], cursor: first.cursor });
    expect((await poll(c, 'new_issue', first.cursor)).items).toEqual([]);
    sandbox.tick('linear');
    const created = await run(c, 'create_issue', { team_id: '00000001-0000-4000-8000-000000000002', title: 'Made by a flow' });
    sandbox.tick('linear');
    const limited = await poll(c, 'new_issue', first.cursor, 2);
    expect(limited.items).toHaveLength(2);
    expect(limited.more).toBe(true);
    const rest = await poll(c, 'new_issue', limited.cursor, 2);
    expect(rest.more).toBe(false);
    const seen = [...limited.items, ...rest.items];
    expect(seen.map((i) => i.data.title)).toEqual([expect.stringMatching(/^Bug report from a customer/), 'Made by a flow', expect.stringMatching(/^Bug report from a customer/)]);
    expect(seen[1]!.id).toBe(created.id);
    expect((await poll(c, 'new_issue', rest.cursor)).items).toEqual([]);
    const design = await drain(c, 'new_issue', first.cursor, 10, { team_id: '00000001-0000-4000-8000-000000000002' });
    expect(design.items.map((i) => i.data.identifier)).toEqual(['DES-1']);
  });

  it('updated_issue: each change once (id:updatedAt)', async () => {
    const start = await poll(c, 'updated_issue', null, 1);
    await run(c, 'update_issue', { issue_id: 'ENG-1', priority: 1 });
    const after = await poll(c, 'updated_issue', start.cursor);
    expect(after.items.map((i) => i.data.identifier)).toEqual(['ENG-1']);
    expect(after.items[0]!.dedupeKey).toBe(`${after.items[0]!.id}:${after.items[0]!.data.updated_at}`);
    expect((await poll(c, 'updated_issue', after.cursor)).items).toEqual([]);
    await run(c, 'add_comment', { issue_id: 'ENG-1', body: 'Bumped' });
    const again = await poll(c, 'updated_issue', after.cursor);
    expect(again.items.map((i) => i.data.identifier)).toEqual(['ENG-1']);
    expect(again.items[0]!.dedupeKey).not.toBe(after.items[0]!.dedupeKey);
  });
});
