import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectors, ConnectorDefinition, HttpError, ProviderError } from './index';
import { Sandbox, startSandbox } from './sandbox';
import { connect, Connected, makeCtx } from './test-support/helpers';
import { allOptions, run } from './test-support/checked';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => sandbox.reset());

describe('slack', () => {
  let c: Connected;
  beforeAll(async () => {
    c = await connect(sandbox, connectors.slack as ConnectorDefinition);
  });

  it('names the workspace and bot', async () => {
    await expect(c.connector.account(c.ctx)).resolves.toMatchObject({ id: 'T0SBXACME1:U0SBXBOT01', name: 'Acme Sandbox (switchboard)' });
    expect(c.config.team_id).toBe('T0SBXACME1');
  });

  it('send_message posts, the sandbox stores it, and add_reaction reacts', async () => {
    const out = await run(c, 'send_message', { channel: '#general', text: 'Deal *Acme* won' });
    expect(out.ts).toMatch(/^\d+\.\d{6}$/);
    const stored = sandbox.state.slack.messages;
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ channel: out.channel, text: 'Deal *Acme* won', ts: out.ts });
    const [call] = sandbox.calls({ connector: 'slack', path: '/api/chat.postMessage' });
    expect(call!.headers.authorization).toBe(`Bearer ${c.tokens!.accessToken}`);
    expect(call!.body).toMatchObject({ channel: '#general', text: 'Deal *Acme* won' });
    await run(c, 'add_reaction', { channel: out.channel, timestamp: out.ts, name: 'tada' });
    expect(sandbox.state.slack.messages[0]!.reactions).toEqual([{ name: 'tada', users: ['U0SBXBOT01'], count: 1 }]);
  });

  it('ok:false becomes a ProviderError with Slack’s code', async () => {
    const err = await run(c, 'send_message', { channel: 'C_NOPE', text: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).code).toBe('channel_not_found');
    const again = await c.connector.actions.add_reaction!.run(c.ctx, { channel: '#general', timestamp: '1.000001', name: 'x' }).catch((e: unknown) => e);
    expect((again as ProviderError).code).toBe('message_not_found');
  });

  it('list_users pages with cursors and skips bots and deleted users', async () => {
    const first = await run(c, 'list_users', { limit: 3 });
    expect(first.users.length).toBeLessThanOrEqual(3);
    expect(first.next_cursor).toBeTruthy();
    const second = await run(c, 'list_users', { limit: 3, cursor: first.next_cursor });
    expect(second.users.map((u: { id: string }) => u.id)).not.toContain(first.users[0].id);
    const everyone = await run(c, 'list_users', { limit: 100 });
    expect(everyone.users.map((u: { name: string }) => u.name)).toEqual(['jane', 'bob', 'alice', 'omar', 'lin']);
    expect(everyone.users[0].email).toBe('jane@acme.test');
  });

  it('channels option source pages through conversations.list and searches', async () => {
    const all = await allOptions(c, 'channels');
    expect(all.pages).toBeGreaterThan(1);
    expect(new Set(all.values).size).toBe(all.values.length);
    expect(all.labels).toContain('#general');
    expect(all.labels).toContain('#deals');
    expect(all.labels).not.toContain('#proj-45-omega');
    const found = await c.connector.options!.channels!.run(c.ctx, { search: 'gamma' });
    expect(found.options.length).toBe(sandbox.state.slack.channels.filter((ch) => ch.name.includes('gamma') && !ch.is_archived).length);
    expect(found.options.length).toBeGreaterThan(40);
    expect(found.nextCursor).toBeUndefined();
    expect(found.options.every((o) => o.label.includes('gamma'))).toBe(true);
    const calls = sandbox.calls({ path: '/api/conversations.list' });
    expect(calls.every((x) => x.query.exclude_archived === 'true')).toBe(true);
  });
});

describe('github', () => {
  let c: Connected;
  beforeAll(async () => {
    c = await connect(sandbox, connectors.github as ConnectorDefinition);
  });

  it('names the user', async () => {
    await expect(c.connector.account(c.ctx)).resolves.toMatchObject({ id: '583231', name: 'Jane Cooper (@octo-jane)' });
    const [call] = sandbox.calls({ connector: 'github', path: '/user' });
    expect(call!.headers['x-github-api-version']).toBe('2022-11-28');
    expect(call!.headers.accept).toBe('application/vnd.github+json');
  });

  it('create_issue then add_comment', async () => {
    const issue = await run(c, 'create_issue', { repository: 'acme-inc/api', title: 'Sync failed', body: 'Details', labels: ['bug'] });
    expect(issue).toMatchObject({ number: 1, state: 'open', url: 'https://github.com/acme-inc/api/issues/1' });
    const comment = await run(c, 'add_comment', { repository: 'acme-inc/api', issue_number: issue.number, body: 'Retried' });
    expect(comment.url).toContain('#issuecomment-');
    expect(sandbox.state.github.issues[0]!.comments[0]!.body).toBe('Retried');
  });

  it('maps 404 and 422 to HttpError', async () => {
    const missing = await run(c, 'create_issue', { repository: 'acme-inc/nope', title: 'x' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(HttpError);
    expect((missing as HttpError).status).toBe(404);
    expect((missing as HttpError).retryable).toBe(false);
    const invalid = await c.connector.actions.create_issue!.run(c.ctx, { repository: 'acme-inc/api', title: '' }).catch((e: unknown) => e);
    expect((invalid as HttpError).status).toBe(422);
  });

  it('list_repos pages', async () => {
    const p1 = await run(c, 'list_repos', { per_page: 50 });
    expect(p1.repos).toHaveLength(50);
    expect(p1.next_page).toBe(2);
    const p3 = await run(c, 'list_repos', { per_page: 50, page: 3 });
    expect(p3.repos).toHaveLength(36);
    expect(p3.next_page).toBeUndefined();
  });

  it('repos option source pages by page number and searches across pages', async () => {
    const all = await allOptions(c, 'repos');
    expect(all.pages).toBe(2);
    expect(all.values).toHaveLength(136);
    const found = await c.connector.options!.repos!.run(c.ctx, { search: 'service-12' });
    expect(found.options.map((o) => o.value.split('/')[1]).sort()).toEqual(['120', '121', '122', '123', '124', '125', '126', '127', '128', '129'].map((n) => `service-${n}`));
    expect(found.nextCursor).toBeUndefined();
  });
});

describe('hubspot', () => {
  let c: Connected;
  beforeAll(async () => {
    c = await connect(sandbox, connectors.hubspot as ConnectorDefinition);
  });

  it('names the portal', async () => {
    await expect(c.connector.account(c.ctx)).resolves.toMatchObject({ id: '44556677', name: 'HubSpot account 44556677 (app.hubspot.com)' });
  });

  it('create_contact, update_contact, create_deal with an association', async () => {
    const contact = await run(c, 'create_contact', { email: 'new@acme.test', firstname: 'New', properties: { jobtitle: 'CTO' } });
    expect(contact.properties).toMatchObject({ email: 'new@acme.test', firstname: 'New', jobtitle: 'CTO' });
    const dup = await c.connector.actions.create_contact!.run(c.ctx, { email: 'new@acme.test' }).catch((e: unknown) => e);
    expect((dup as HttpError).status).toBe(409);
    expect((dup as HttpError).message).toContain('Contact already exists');
    const updated = await run(c, 'update_contact', { contact_id: contact.id, properties: { lastname: 'Person' } });
    expect(updated.properties.lastname).toBe('Person');
    const deal = await run(c, 'create_deal', { dealname: 'Acme renewal', amount: 5000, dealstage: 'closedwon', contact_id: contact.id });
    expect(deal.properties).toMatchObject({ dealname: 'Acme renewal', amount: '5000', pipeline: 'default', dealstage: 'closedwon' });
    expect(sandbox.state.hubspot.deals[0]!.associations).toEqual([{ toId: contact.id, typeId: 3 }]);
  });

  it('find_contact: by email (case-insensitive, as HubSpot compares), or found: false', async () => {
    const maria = await run(c, 'find_contact', { email: 'Maria@Globex.test' });
    expect(maria).toMatchObject({ found: true, contact: { id: '51', properties: { email: 'maria@globex.test', firstname: 'Maria', lastname: 'Johnson' } } });
    await expect(run(c, 'find_contact', { email: 'nobody@nowhere.test' })).resolves.toEqual({ found: false, contact: null });
  });

  it('pipelines option source lists active pipelines and searches', async () => {
    const all = await allOptions(c, 'pipelines');
    expect(all.labels).toEqual(['Sales Pipeline', 'Partner Deals']);
    const found = await c.connector.options!.pipelines!.run(c.ctx, { search: 'partner' });
    expect(found.options).toHaveLength(1);
    expect(found.options[0]!.description).toContain('3 stages');
  });
});

describe('salesforce', () => {
  let c: Connected;
  beforeAll(async () => {
    c = await connect(sandbox, connectors.salesforce as ConnectorDefinition);
  });

  it('keeps instance_url from the token response and names the user', async () => {
    expect(c.config.instance_url).toBe(`${sandbox.url}/salesforce`);
    await expect(c.connector.account(c.ctx)).resolves.toMatchObject({ id: '00DDn00000SbxAcEAA:005Dn000001SbxJAAS', name: 'Jane Cooper (jane@acme.test.sandbox)' });
  });

  it('create_record, update_record and query', async () => {
    const created = await run(c, 'create_record', { object: 'Lead', fields: { LastName: 'Doe', Company: 'Initech', Email: 'doe@initech.test' } });
    expect(created).toMatchObject({ success: true });
    expect(created.id).toMatch(/^00Q/);
    await run(c, 'update_record', { object: 'Lead', id: created.id, fields: { Status: 'Working' } });
    const result = await run(c, 'query', { soql: "SELECT Id, LastName, Status FROM Lead WHERE Company = 'Initech'" });
    expect(result).toMatchObject({ total_size: 1, done: true, records: [{ Id: created.id, LastName: 'Doe', Status: 'Working' }] });
    const bad = await c.connector.actions.create_record!.run(c.ctx, { object: 'Lead', fields: { Nope__c: 1 } }).catch((e: unknown) => e);
    expect((bad as HttpError).status).toBe(400);
    expect((bad as HttpError).message).toContain("No such column 'Nope__c'");
  });

  it('query follows nextRecordsUrl', async () => {
    const records = sandbox.state.salesforce.records.Account!;
    for (let i = 0; i < 2500; i++) records.push({ Id: `001Sbx${String(i).padStart(12, '0')}`, Name: `Bulk ${i}`, Industry: 'Retail' });
    const all = await run(c, 'query', { soql: "SELECT Id, Name FROM Account WHERE Industry = 'Retail'", max_records: 5000 });
    expect(all.records).toHaveLength(2500);
    expect(all.done).toBe(true);
    expect(sandbox.calls({ connector: 'salesforce', path: /\/query\/01g/ })).toHaveLength(1);
    const capped = await run(c, 'query', { soql: "SELECT Id FROM Account WHERE Industry = 'Retail'", max_records: 100 });
    expect(capped.records).toHaveLength(100);
    expect(capped.done).toBe(false);
  });

  it('objects option source lists createable sObjects with search and offset paging', async () => {
    const all = await allOptions(c, 'objects');
    expect(all.values).toEqual(['Account', 'Contact', 'Lead', 'Opportunity', 'Case', 'Task', 'Invoice__c']);
    const found = await c.connector.options!.objects!.run(c.ctx, { search: 'invoice' });
    expect(found.options).toEqual([{ value: 'Invoice__c', label: 'Invoice', description: 'Invoice__c (custom)' }]);
  });
});

describe('google-sheets', () => {
  let c: Connected;
  const id = '1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms';
  beforeAll(async () => {
    c = await connect(sandbox, connectors['google-sheets'] as ConnectorDefinition);
  });

  it('names the Google user', async () => {
    await expect(c.connector.account(c.ctx)).resolves.toMatchObject({ id: '109876543210987654321', name: 'Jane Cooper (jane@acme.test)' });
  });

  it('append_row appends after the table and read_range reads it back', async () => {
    const appended = await run(c, 'append_row', { spreadsheet_id: id, values: ['Omar Haddad', 'omar@acme.test', '950'] });
    expect(appended).toEqual({ updated_range: 'Sheet1!A4:C4', updated_rows: 1, table_range: 'Sheet1!A1:C3' });
    const [call] = sandbox.calls({ connector: 'google-sheets', method: 'POST' });
    expect(call!.path).toBe('/v4/spreadsheets/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms/values/Sheet1:append');
    expect(call!.query).toMatchObject({ valueInputOption: 'USER_ENTERED', insertDataOption: 'INSERT_ROWS' });
    const read = await run(c, 'read_range', { spreadsheet_id: id, range: 'Sheet1!A1:C10' });
    expect(read.range).toBe('Sheet1!A1:C10');
    expect(read.values).toEqual([
      ['Name', 'Email', 'Amount'],
      ['Maria Johnson', 'maria@globex.test', '1200'],
      ['Li Chen', 'li@initech.test', '800'],
      ['Omar Haddad', 'omar@acme.test', '950'],
    ]);
    const quoted = await run(c, 'append_row', { spreadsheet_id: id, range: "'Q3 Leads'!A:C", values: ['x', 1, true] });
    expect(quoted.updated_range).toBe("'Q3 Leads'!A1:C1");
    const empty = await run(c, 'read_range', { spreadsheet_id: id, range: "'Q3 Leads'!D1:D5" });
    expect(empty.values).toEqual([]);
  });

  it('bad ranges and unknown spreadsheets are HttpErrors', async () => {
    const bad = await c.connector.actions.read_range!.run(c.ctx, { spreadsheet_id: id, range: 'Nope!A1' }).catch((e: unknown) => e);
    expect((bad as HttpError).status).toBe(400);
    expect((bad as HttpError).message).toContain('Unable to parse range');
    const missing = await c.connector.actions.read_range!.run(c.ctx, { spreadsheet_id: 'nope', range: 'A1' }).catch((e: unknown) => e);
    expect((missing as HttpError).status).toBe(404);
  });

  it('spreadsheets option source pages with pageToken and searches by name', async () => {
    const all = await allOptions(c, 'spreadsheets');
    expect(all.pages).toBe(2);
    expect(all.values).toHaveLength(71);
    expect(all.labels[0]).toBe('Leads 2026');
    expect(all.labels).not.toContain('Leads notes');
    expect(all.labels).not.toContain('Weekly report 70');
    const found = await c.connector.options!.spreadsheets!.run(c.ctx, { search: 'budget' });
    expect(found.options.map((o) => o.label)).toEqual(['Budget plan']);
    const quote = await c.connector.options!.spreadsheets!.run(c.ctx, { search: "it's" });
    expect(quote.options).toEqual([]);
  });
});

describe('notion', () => {
  let c: Connected;
  const tasks = '8e2c4a6b-1d3f-4e5a-9b7c-0d1e2f3a4b5c';
  beforeAll(async () => {
    c = await connect(sandbox, connectors.notion as ConnectorDefinition);
  });

  it('names the workspace and sends Notion-Version', async () => {
    await expect(c.connector.account(c.ctx)).resolves.toMatchObject({ id: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d', name: 'Acme HQ (jane@acme.test)' });
    expect(sandbox.calls({ connector: 'notion', path: '/v1/users/me' })[0]!.headers['notion-version']).toBe('2022-06-28');
  });

  it('create_page finds the title property and query_database filters', async () => {
    const page = await run(c, 'create_page', { database_id: tasks, title: 'Call Acme', properties: { Done: { checkbox: false } }, content: 'First line\n\nSecond paragraph' });
    expect(page.url).toContain('notion.so/Call-Acme-');
    const stored = sandbox.state.notion.pages.find((p) => p.id === page.id)!;
    expect(stored.children).toHaveLength(2);
    const open = await run(c, 'query_database', { database_id: tasks, filter: { property: 'Done', checkbox: { equals: false } } });
    expect(open.results.map((r: { title: string }) => r.title).sort()).toEqual(['Call Acme', 'Plan offsite', 'Write onboarding guide']);
    const high = await run(c, 'query_database', {
      database_id: tasks,
      filter: {
        and: [
          { property: 'Priority', select: { equals: 'High' } },
          { property: 'Task', title: { contains: 'invoice' } },
        ],
      },
    });
    expect(high.results.map((r: { title: string }) => r.title)).toEqual(['Fix invoice rounding']);
    const paged = await run(c, 'query_database', { database_id: tasks, page_size: 2 });
    expect(paged.has_more).toBe(true);
    const rest = await run(c, 'query_database', { database_id: tasks, page_size: 2, start_cursor: paged.next_cursor });
    expect(rest.results).toHaveLength(2);
    const bad = await c.connector.actions.query_database!.run(c.ctx, { database_id: tasks, filter: { property: 'Nope', checkbox: { equals: true } } }).catch((e: unknown) => e);
    expect((bad as HttpError).status).toBe(400);
  });

  it('databases option source uses /v1/search with cursor and query', async () => {
    const all = await allOptions(c, 'databases');
    expect(all.pages).toBe(2);
    expect(all.values).toHaveLength(62);
    const found = await c.connector.options!.databases!.run(c.ctx, { search: 'feedback' });
    expect(found.options.map((o) => o.label)).toEqual(['Customer feedback']);
    const body = sandbox.calls({ connector: 'notion', path: '/v1/search' }).at(-1)!.body as Record<string, unknown>;
    expect(body).toMatchObject({ query: 'feedback', filter: { property: 'object', value: 'database' } });
  });

  it('refuses calls without Notion-Version', async () => {
    const res = await fetch(`${sandbox.url}/notion/v1/users/me`, { headers: { authorization: `Bearer ${c.tokens!.accessToken}` } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'missing_version' });
  });
});

describe('stripe', () => {
  let c: Connected;
  beforeAll(async () => {
    c = await connect(sandbox, connectors.stripe as ConnectorDefinition);
  });

  it('names the account; an unknown key is a 401 like Stripe', async () => {
    await expect(c.connector.account(c.ctx)).resolves.toMatchObject({ id: 'acct_1SbxAcme000001', name: 'Acme Inc.' });
    const bad = makeCtx(c.connector, {}, { type: 'api_key', apiKey: 'sk_test_wrong_key_123456' });
    const err = (await c.connector.account(bad).catch((e: unknown) => e)) as HttpError;
    expect(err.status).toBe(401);
    expect(err.message).toContain('Invalid API Key provided: sk_test_');
    expect(err.message).not.toContain('wrong_key_123456');
  });

  it('create_customer is idempotent per step and sends form bodies', async () => {
    const input = { email: 'new@acme.test', name: 'New Co', metadata: { plan: 'pro' } };
    const first = await run(c, 'create_customer', input);
    const second = await run(c, 'create_customer', input);
    expect(second.id).toBe(first.id);
    const calls = sandbox.calls({ connector: 'stripe', path: '/v1/customers', method: 'POST' });
    expect(calls[0]!.body).toEqual({ email: 'new@acme.test', name: 'New Co', 'metadata[plan]': 'pro' });
    expect(calls[0]!.headers['idempotency-key']).toBe(c.ctx.idempotencyKey);
    expect(calls[0]!.headers['stripe-version']).toBe('2024-06-20');
    expect(sandbox.state.stripe.customers[0]!.metadata).toEqual({ plan: 'pro' });
  });

  it('list_charges pages with starting_after; create_invoice_item validates the customer', async () => {
    const p1 = await run(c, 'list_charges', { customer: 'cus_Sbx0000000001', limit: 5 });
    expect(p1.charges).toHaveLength(5);
    expect(p1.next_cursor).toBe(p1.charges[4].id);
    const p2 = await run(c, 'list_charges', { customer: 'cus_Sbx0000000001', limit: 10, starting_after: p1.next_cursor });
    expect(p2.charges).toHaveLength(8);
    expect(p2.has_more).toBe(false);
    const item = await run(c, 'create_invoice_item', { customer: 'cus_Sbx0000000002', amount: 1500, currency: 'eur', description: 'Setup' });
    expect(item).toMatchObject({ amount: 1500, currency: 'eur', customer: 'cus_Sbx0000000002', invoice: null });
    const missing = (await makeCtxRun(c, 'create_invoice_item', { customer: 'cus_Nope', amount: 1, currency: 'usd' })) as HttpError;
    expect(missing.status).toBe(404);
    expect(missing.message).toContain("No such customer: 'cus_Nope'");
  });

  it('customers option source lists with cursors and searches', async () => {
    const all = await allOptions(c, 'customers');
    expect(all.values).toHaveLength(75);
    expect(all.pages).toBe(2);
    const found = await c.connector.options!.customers!.run(c.ctx, { search: 'globex' });
    expect(found.options).toEqual([{ value: 'cus_Sbx0000000001', label: 'Maria Johnson', description: 'maria@globex.test' }]);
    expect(sandbox.calls({ connector: 'stripe', path: '/v1/customers/search' })[0]!.query.query).toBe('email~"globex" OR name~"globex"');
  });
});

async function makeCtxRun(c: Connected, action: string, input: Record<string, unknown>): Promise<unknown> {
  // A fresh idempotency key so a failed attempt is not replayed.
  return c.connector.actions[action]!.run(makeCtx(c.connector, c.config, c.credentials), input).catch((e: unknown) => e);
}

describe('http (generic)', () => {
  let c: Connected;
  beforeAll(async () => {
    c = await connect(sandbox, connectors.http as ConnectorDefinition);
  });

  it('account is the host and checks health_path with the credentials', async () => {
    const host = new URL(sandbox.url).host;
    await expect(c.connector.account(c.ctx)).resolves.toMatchObject({ id: host, name: host });
    const bad = makeCtx(c.connector, c.config, { type: 'api_key', apiKey: 'wrong' });
    await expect(c.connector.account(bad)).rejects.toMatchObject({ status: 401 });
  });

  it('request sends method, path, query, headers and body relative to base_url', async () => {
    const out = await run(c, 'request', { method: 'POST', path: '/echo/orders', query: { expand: 'lines' }, headers: { 'X-Trace': 't1', Authorization: 'evil' }, body: { a: 1 } });
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({ method: 'POST', path: '/echo/orders', query: { expand: 'lines' }, body: { a: 1 } });
    expect(out.body.headers['x-trace']).toBe('t1');
    const [call] = sandbox.calls({ connector: 'http', path: '/echo/orders' });
    expect(call!.headers.authorization).toBe('Bearer sandbox-api-key');
    const created = await run(c, 'request', { method: 'POST', path: 'items', body: { name: 'Thing', price: 3 } });
    expect(created.status).toBe(201);
    const missing = await c.connector.actions.request!.run(c.ctx, { method: 'GET', path: '/items/none' }).catch((e: unknown) => e);
    expect((missing as HttpError).status).toBe(404);
    const tolerated = await run(c, 'request', { method: 'GET', path: '/items/none', fail_on_error: false });
    expect(tolerated.status).toBe(404);
  });

  it('graphql returns data and turns errors into ProviderError', async () => {
    const out = await run(c, 'graphql', { query: '{ items { id name } }' });
    expect(out.data.items).toHaveLength(2);
    const err = await c.connector.actions.graphql!.run(c.ctx, { query: '{ nope }' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
  });

  it('works with basic auth, a custom API-key header, and client-credentials tokens', async () => {
    const basic = makeCtx(c.connector, c.config, { type: 'basic', username: 'sandbox-user', password: 'sandbox-password' });
    await expect(c.connector.account(basic)).resolves.toBeTruthy();
    const header = makeCtx(c.connector, { ...c.config, api_key_header: 'X-API-Key', api_key_prefix: '' }, { type: 'api_key', apiKey: 'sandbox-api-key' });
    await expect(c.connector.account(header)).resolves.toBeTruthy();
    expect(sandbox.calls({ connector: 'http', path: '/me' }).at(-1)!.headers['x-api-key']).toBe('sandbox-api-key');
    const tokenRes = await fetch(`${sandbox.url}/http/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('sandbox-client-id:sandbox-client-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=read',
    });
    const token = (await tokenRes.json()) as { access_token: string; refresh_token?: string };
    expect(token.refresh_token).toBeUndefined();
    const cc = makeCtx(c.connector, c.config, { type: 'oauth2_client_credentials', accessToken: token.access_token });
    await expect(c.connector.account(cc)).resolves.toBeTruthy();
  });
});
