import { type Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { type AcmeCrm, startAcmeCrm } from '@switchboard/demo-host-app';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { launchChromium } from './chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoSeedResult, seedDemoTenant } from '../src/cli/demo-seed';
import { signWebhook } from '../src/webhooks/webhook-signature';
import { createTenant, environmentOf, freePort, startApi, startWorker, type TenantFixture, type TestApi } from './harness';

/**
 * The journey a prospect walks in the demo, in real Chromium: sign in to Acme CRM (the demo host
 * app, a tenant of this Switchboard), open Integrations (the widget, embedded with the script-tag
 * snippet and a session Acme's backend minted with the SDK), connect Slack through the sandbox's
 * consent page, turn on "Post won deals to Slack" with a channel and a minimum amount, mark a deal
 * won on the deals board, and find the message in the sandbox Slack, the run in the widget's
 * history and the signed webhook in Acme's event log. A user of another company sees none of it.
 *
 * The tenant is seeded by the same code as `npm run demo` (src/cli/demo-seed.ts). Acme CRM is
 * http://localhost:<port>, Switchboard http://127.0.0.1:<port>: two origins, as in production.
 * Screenshots land in test-results/screenshots/demo-*.png.
 */

const SCREENSHOTS = join(__dirname, '..', 'test-results', 'screenshots');
const GLOBEX = { email: 'maria@globex.test', password: 'globex-demo', endUserId: 'company_globex' };
const INITECH = { email: 'peter@initech.test', password: 'initech-demo', endUserId: 'company_initech' };

describe('the demo journey in a browser', { timeout: 240_000 }, () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let seeded: DemoSeedResult;
  let acme: AcmeCrm;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Console errors and page errors per page, except failed resource loads (the 404 of a favicon, say). */
  const problems = new Map<Page, string[]>();
  /** Globex's browser, shared by the steps of the journey. */
  let maria: { context: BrowserContext; page: Page };

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `demo-${name}.png`), fullPage: true });

  async function signedIn(who: { email: string; password: string }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-US', colorScheme: 'light' });
    contexts.push(context);
    const page = await context.newPage();
    const seen: string[] = [];
    problems.set(page, seen);
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) seen.push(m.text());
    });
    page.on('pageerror', (e) => seen.push(`pageerror: ${e.message}`));
    await page.goto(acme.url);
    await page.waitForURL(`${acme.url}/login`);
    await page.getByLabel('Work email').fill(who.email);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${acme.url}/deals`);
    return { context, page };
  }

  /** The widget's root inside Acme's Integrations page (Playwright's locators pierce its open shadow root). */
  const widget = (page: Page): Locator => page.locator('#switchboard-widget');

  async function openIntegrations(page: Page): Promise<Locator> {
    await page.getByRole('link', { name: 'Integrations' }).click();
    await page.waitForURL(`${acme.url}/integrations`);
    const root = widget(page);
    await root
      .getByRole('button', { name: /^Slack\b/ })
      .waitFor()
      .catch(async (error: Error) => {
        await shot(page, 'failure-integrations');
        throw new Error(`${error.message}\nThe page said: ${await page.locator('body').innerText()}\nConsole: ${JSON.stringify(problems.get(page))}`);
      });
    return root;
  }

  /** Opens one integration in the widget. */
  async function openIntegration(root: Locator, name: string): Promise<void> {
    await root.getByRole('button', { name: new RegExp(`^${name}\\b`) }).click();
    await root.getByRole('heading', { name, exact: true }).waitFor();
  }

  /** Clicks "Connect <name>" in the widget and allows access on the sandbox's consent page in the popup. */
  async function connect(context: BrowserContext, root: Locator, name: string): Promise<Page> {
    const [popup] = await Promise.all([context.waitForEvent('page'), root.getByRole('button', { name: `Connect ${name}` }).click()]);
    await popup.locator('#sandbox-allow').waitFor();
    expect(new URL(popup.url()).origin).toBe(sandbox.url);
    const closed = popup.waitForEvent('close', { timeout: 30_000 });
    await popup.locator('#sandbox-allow').click();
    await closed;
    await root.getByText(/^Connected as /).waitFor();
    return popup;
  }

  /** Picks `label` in a settings field, whether the widget draws it as a native select or a searchable combobox. */
  async function choose(field: Locator, search: string, label: string): Promise<void> {
    if ((await field.evaluate((el) => el.tagName)) === 'SELECT') {
      await field.locator('option', { hasText: label }).first().waitFor({ state: 'attached' });
      await field.selectOption({ label });
      return;
    }
    await field.click();
    await field.fill(search);
    await field.page().getByRole('option', { name: label }).first().click();
  }

  /** The widget's card of one automation. */
  const flowCard = (root: Locator, flowName: string): Locator => root.getByRole('article', { name: flowName });

  /** Turns a flow on in the widget: its switch, then its settings form (field label → value; `options` are picked from the list), then "Turn on". */
  async function turnOn(root: Locator, flowName: string, settings: { options?: Record<string, [string, string]>; values?: Record<string, string> } = {}) {
    const flow = flowCard(root, flowName);
    await flow.getByRole('switch', { name: `Turn on ${flowName}` }).click();
    for (const [field, [search, label]] of Object.entries(settings.options ?? {})) await choose(flow.getByLabel(field, { exact: false }), search, label);
    for (const [field, value] of Object.entries(settings.values ?? {})) await flow.getByLabel(field, { exact: false }).fill(value);
    await shot(root.page(), `flow-settings-${flowName.toLowerCase().replace(/[^a-z]+/g, '-')}`);
    await flow.getByRole('button', { name: 'Turn on', exact: true }).click();
    await flow.getByRole('switch', { name: `Turn on ${flowName}`, checked: true }).waitFor();
  }

  /** Waits until `probe` answers something (a worker run, a webhook delivery), re-reading instead of sleeping a fixed time. */
  async function eventually<T>(probe: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function markWon(page: Page, dealName: string): Promise<string> {
    await page.getByRole('link', { name: 'Deals' }).click();
    const card = page.getByRole('article', { name: dealName });
    await card.getByRole('button', { name: 'Mark won' }).click();
    await page.waitForURL(`${acme.url}/deals`);
    const flash = await page.locator('.flash').first().textContent();
    expect(await page.getByRole('region', { name: 'Won' }).getByRole('article', { name: dealName }).count()).toBe(1);
    return flash ?? '';
  }

  /** Reloads Acme's event log until an event of `type` about `subject` shows; returns the page's entries. */
  async function eventLog(page: Page, type: string): Promise<string[]> {
    await eventually(async () => {
      await page.goto(`${acme.url}/events`);
      return (await page.locator(`li.event[data-event-type="${type}"]`).count()) > 0;
    }, `a ${type} webhook in Acme's event log`).catch(async (error: Error) => {
      const deliveries = (await tenant.owner.get(`/v1/admin/webhook-endpoints/${seeded.webhook.id}/deliveries`)).body;
      throw new Error(`${error.message}; the endpoint's deliveries: ${JSON.stringify(deliveries)}`);
    });
    return page.locator('li.event .badge').allTextContents();
  }

  const slackChannel = (name: string) => sandbox.state.slack.channels.find((c) => c.name === name)!;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    sandbox = await startSandbox();
    const acmePort = await freePort();
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port},127.0.0.1:${acmePort}` });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Acme CRM');
    seeded = await seedDemoTenant({
      apiUrl: api.url,
      owner: { email: tenant.email, password: tenant.password },
      tenantName: 'Acme CRM',
      acmeOrigin: `http://localhost:${acmePort}`,
      webhookUrl: `http://127.0.0.1:${acmePort}/webhooks/switchboard`,
      sandboxUrl: sandbox.url,
    });
    expect(seeded.webhook?.secret).toMatch(/^whsec_/);
    acme = await startAcmeCrm({ switchboardUrl: api.url, secretKey: tenant.host.options.bearer!, webhookSecret: seeded.webhook.secret, port: acmePort, log: () => undefined });
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await acme?.close();
    await worker?.close();
    await api?.close();
    await sandbox?.close();
  });

  it('seeds the demo tenant idempotently: a second run changes nothing and keeps the webhook secret', async () => {
    expect(seeded.templates.map((t) => [t.key, t.status])).toEqual(
      expect.arrayContaining([
        ['won-deals-to-slack', 'published'],
        ['new-customer-to-hubspot', 'published'],
      ]),
    );
    const again = await seedDemoTenant({
      apiUrl: api.url,
      owner: { email: tenant.email, password: tenant.password },
      tenantName: 'Acme CRM',
      acmeOrigin: acme.url,
      webhookUrl: `http://127.0.0.1:${acme.port}/webhooks/switchboard`,
      webhookSecret: seeded.webhook.secret,
      sandboxUrl: sandbox.url,
    });
    expect(again.templates.filter((t) => t.status === 'published')).toEqual([]);
    // Production is seeded too: its own origins and connectors, the templates promoted (once).
    expect(seeded.promoted?.environment).toBe('production');
    expect(seeded.promoted!.templates.map((t) => [t.key, t.version, t.status])).toEqual(seeded.templates.map((t) => [t.key, 1, 'published']));
    expect(again.promoted!.templates.every((t) => t.status === 'unchanged')).toBe(true);
    const production = await environmentOf(api, tenant, 'production');
    expect((await production.owner.get('/v1/admin/flow-templates')).body.data.map((t: { key: string }) => t.key).sort()).toEqual(seeded.templates.map((t) => t.key).sort());
    expect((await production.owner.get('/v1/admin/tenant')).body.allowedOrigins).toEqual([`http://localhost:${acme.port}`]);
    expect(seeded.llm).toEqual({ provider: 'sandbox', baseUrl: `${sandbox.url}/llm/v1`, status: 'created', models: ['support-triage'] });
    expect(again.llm.status).toBe('unchanged');
    expect((await tenant.owner.get('/v1/admin/llm-providers')).body.data).toEqual([
      expect.objectContaining({ key: 'sandbox', kind: 'openai-compatible', baseUrl: `${sandbox.url}/llm/v1`, hasApiKey: false }),
    ]);
    expect(again.webhook).toEqual(seeded.webhook);
    expect((await tenant.owner.get('/v1/admin/tenant')).body.allowedOrigins).toEqual([acme.url]);
    expect((await tenant.owner.get('/v1/admin/webhook-endpoints')).body.data).toHaveLength(1);
  });

  it('Globex: signs in, connects Slack in the widget, turns on "won deals to Slack", wins a deal, and the message, the run and the webhook all show', async () => {
    maria = await signedIn(GLOBEX);
    const { context, page } = maria;
    expect(await page.getByTestId('company-name').textContent()).toBe('Globex Corporation');
    await shot(page, 'deals');

    // Integrations: the widget, inline, on a session Acme's backend minted for company_globex.
    const root = await openIntegrations(page);
    await shot(page, 'integrations');
    await openIntegration(root, 'Slack');
    const popup = await connect(context, root, 'Slack');
    expect(popup.isClosed()).toBe(true);
    const connections = await tenant.host.get(`/v1/end-users/${GLOBEX.endUserId}/connections`);
    expect(connections.body.data).toEqual([expect.objectContaining({ connector: 'slack', status: 'active' })]);
    await shot(page, 'slack-connected');

    // Turn on "Post won deals to Slack": #sales, deals of at least $10,000.
    await turnOn(root, 'Post won deals to Slack', { options: { Channel: ['sales', '#sales'] }, values: { 'Only deals of at least': '10000' } });
    const flows = (await tenant.host.get(`/v1/end-users/${GLOBEX.endUserId}/flows`)).body.data;
    expect(flows.find((f: { key: string }) => f.key === 'won-deals-to-slack').instance).toMatchObject({
      enabled: true,
      settings: { channel: slackChannel('sales').id, minAmount: 10000 },
    });

    // Win a big deal on the board: Slack gets the message, with the deal's name, account, amount and owner.
    expect(await markWon(page, 'Umbrella renewal')).toContain('Umbrella renewal is won. Switchboard started 1 automation.');
    await shot(page, 'deal-won');
    const text = ':tada: Deal won: Umbrella renewal (Umbrella Corp) for $48,000, closed by Maria Johnson';
    const message = await eventually(async () => sandbox.state.slack.messages.find((m) => m.text === text), 'the Slack message');
    expect(message.channel).toBe(slackChannel('sales').id);

    // A small one runs too, but the branch keeps it out of Slack.
    expect(await markWon(page, 'Cyberdyne seats')).toContain('Cyberdyne seats is won. Switchboard started 1 automation.');
    const runs = await eventually(async () => {
      const list = (await tenant.host.get(`/v1/runs?endUserId=${GLOBEX.endUserId}`)).body.data as Array<{ status: string; flow: string }>;
      return list.length === 2 && list.every((r) => r.status === 'succeeded') && list;
    }, 'both runs to finish');
    expect(runs.map((r) => r.flow)).toEqual(['won-deals-to-slack', 'won-deals-to-slack']);
    expect(sandbox.state.slack.messages.filter((m) => m.text.includes('Deal won'))).toEqual([message]);

    // The widget's history shows the runs.
    const history = await openIntegrations(page);
    await openIntegration(history, 'Slack');
    const card = flowCard(history, 'Post won deals to Slack');
    await card.getByRole('tab', { name: 'Recent activity' }).click();
    await card.getByText('Post won deals to Slack ran and finished').nth(1).waitFor();
    expect(await card.getByText('Post won deals to Slack ran and finished').count()).toBe(2);
    await shot(page, 'history');

    // Acme's event log: the signed webhooks Switchboard sent about Globex.
    const log = await eventLog(page, 'run.succeeded');
    expect(log).toEqual(expect.arrayContaining(['connection.created', 'flow.enabled', 'run.succeeded']));
    await shot(page, 'events');
    expect(problems.get(page)).toEqual([]);
  });

  it('Globex: connects HubSpot, turns on "New customers to HubSpot", and a new customer becomes a HubSpot contact', async () => {
    const { context, page } = maria;
    const root = await openIntegrations(page);
    await openIntegration(root, 'HubSpot');
    await connect(context, root, 'HubSpot');
    await turnOn(root, 'New customers to HubSpot');

    await page.getByRole('link', { name: 'Customers' }).click();
    await page.getByLabel('First name').fill('Ada');
    await page.getByLabel('Last name').fill('Lovelace');
    await page.getByLabel('Email').fill('ada@analytical.test');
    await page.getByLabel('Company').fill('Analytical Engines');
    await page.getByRole('button', { name: 'Add customer' }).click();
    await page.waitForURL(`${acme.url}/customers`);
    expect(await page.getByRole('status').first().textContent()).toBe('Ada Lovelace was added and sent to HubSpot.');
    const contact = sandbox.state.hubspot.contacts.find((c) => c.properties.email === 'ada@analytical.test');
    expect(contact?.properties).toMatchObject({ firstname: 'Ada', lastname: 'Lovelace', company: 'Analytical Engines', lifecyclestage: 'customer' });
    expect(await page.getByRole('row', { name: /Ada Lovelace/ }).textContent()).toContain(`In HubSpot contact ${contact!.id}`);
    await shot(page, 'customers');
  });

  it('Globex: a big deal waits for approval in the widget, then is announced in Slack', async () => {
    expect(seeded.templates.find((t) => t.key === 'big-deal-approval')).toMatchObject({ status: 'published' });
    const { page } = maria;
    let root = await openIntegrations(page);
    await openIntegration(root, 'Slack');
    await turnOn(root, 'Announce big deals, after approval', { options: { 'Announcement channel': ['general', '#general'] } });

    expect(await markWon(page, 'Stark platform deal')).toContain('Switchboard started 2 automations.');
    const log = await eventLog(page, 'approval.requested');
    expect(log).toContain('approval.requested');
    expect(sandbox.state.slack.messages.some((m) => m.text.startsWith(':trophy:'))).toBe(false);

    root = await openIntegrations(page);
    await openIntegration(root, 'Slack');
    const card = flowCard(root, 'Announce big deals, after approval');
    await card.getByRole('tab', { name: /Waiting for your approval/ }).waitFor();
    const request = card.getByRole('region', { name: 'Announce Stark platform deal ($120,000) in Slack?' });
    await request.waitFor();
    await shot(page, 'approval');
    await request.getByRole('button', { name: 'Approve' }).click();
    const text = ':trophy: Big win: Stark platform deal with Stark Industries, $120,000. Congratulations Hank Scorpio!';
    const message = await eventually(async () => sandbox.state.slack.messages.find((m) => m.text === text), 'the announcement');
    expect(message.channel).toBe(slackChannel('general').id);
  });

  it('Globex: files a support ticket; the AI agent reads the customer in HubSpot, its Slack summary waits for approval in the widget, then posts', async () => {
    expect(seeded.templates.find((t) => t.key === 'support-ticket-triage')).toMatchObject({ status: 'published' });
    const { page } = maria;
    let root = await openIntegrations(page);
    await openIntegration(root, 'Slack');
    await turnOn(root, 'Triage new support tickets with AI', { options: { 'Support channel': ['support', '#support'] } });

    // The Support page: the customer's email is prefilled with a contact the sandbox HubSpot knows.
    await page.getByRole('link', { name: 'Support' }).click();
    await page.waitForURL(`${acme.url}/support`);
    expect(await page.getByLabel('Customer email').inputValue()).toBe('maria@globex.test');
    await page.getByLabel('Subject').fill('Cannot export the Q3 report');
    await page.getByLabel('Message').fill('The export button spins forever since this morning. The board meeting is tomorrow.');
    await shot(page, 'support');
    await page.getByRole('button', { name: 'File ticket' }).click();
    await page.waitForURL(`${acme.url}/support`);
    expect(await page.getByRole('status').first().textContent()).toBe(
      'Ticket “Cannot export the Q3 report” was filed. The AI agent is triaging it: approve its Slack post in Integrations.',
    );
    expect(await page.getByRole('row', { name: /Cannot export the Q3 report/ }).textContent()).toContain('Triaging');
    await shot(page, 'support-filed');
    const [ticket] = acme.store.tickets('globex');
    expect(ticket).toMatchObject({
      email: 'maria@globex.test',
      subject: 'Cannot export the Q3 report',
      filedBy: 'Maria Johnson',
      sent: { status: 'started', runIds: [expect.any(String)] },
    });
    const runId = ticket!.sent!.runIds[0]!;

    // The run parks on the agent's Slack post: HubSpot was read, nothing is in Slack yet.
    const waiting = await eventually(async () => {
      const run = (await tenant.host.get(`/v1/runs/${runId}`)).body;
      return run.status === 'waiting' && run;
    }, 'the run to wait for the approval');
    const lookup = waiting.steps.find((s: { path: string }) => s.path === 'triage/turn[0]/call[0]');
    expect(lookup).toMatchObject({
      id: 'hubspot_find_contact',
      status: 'succeeded',
      input: { email: 'maria@globex.test' },
      output: { found: true, contact: { properties: { company: 'Globex Corporation' } } },
    });
    const summary =
      ':ticket: New support ticket from Maria Johnson (Globex Corporation): *Cannot export the Q3 report*\nThe export button spins forever since this morning. The board meeting is tomorrow.';
    expect(sandbox.state.slack.messages.some((m) => m.text.startsWith(':ticket:'))).toBe(false);

    // Integrations: the agent's post waits for Globex's OK, showing what it would send.
    root = await openIntegrations(page);
    await openIntegration(root, 'Slack');
    const card = flowCard(root, 'Triage new support tickets with AI');
    await card.getByRole('tab', { name: /Waiting for your approval/ }).waitFor();
    const request = card.getByRole('region', { name: 'The AI agent wants to: Send message in Slack' });
    await request.waitFor();
    expect(await request.textContent()).toContain('Maria Johnson (Globex Corporation): *Cannot export the Q3 report*');
    await page.evaluate(() => window.scrollTo(0, 0)); // a full-page shot of a scrolled page draws the sticky top bar mid-page
    await shot(page, 'agent-approval');
    await request.screenshot({ path: join(SCREENSHOTS, 'demo-agent-approval-request.png') });
    await request.getByRole('button', { name: 'Approve' }).click();

    // It posts the summary to #support, and the run succeeds with the agent's answer.
    const message = await eventually(async () => sandbox.state.slack.messages.find((m) => m.text === summary), "the agent's Slack summary");
    expect(message.channel).toBe(slackChannel('support').id);
    const done = await eventually(async () => {
      const run = (await tenant.host.get(`/v1/runs/${runId}`)).body;
      return ['succeeded', 'failed'].includes(run.status) && run;
    }, 'the run to finish');
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.result).toEqual({
      ticket: ticket!.id,
      priority: 'high',
      summary: 'Maria Johnson of Globex Corporation filed a support ticket; a summary was drafted for Slack.',
      toolCalls: 2,
    });
    expect(done.steps.find((s: { path: string }) => s.path === 'triage/turn[1]/call[0]')).toMatchObject({
      status: 'succeeded',
      approval: { approved: true, decidedBy: GLOBEX.endUserId },
    });
    expect(done.usage.totalTokens).toBeGreaterThan(0);
    expect(sandbox.state.slack.messages.filter((m) => m.text === summary)).toHaveLength(1);
    expect(problems.get(page)).toEqual([]);
  });

  it('Support: a form that does not validate comes back 422 naming the field, with what was typed escaped', async () => {
    const { page } = maria;
    const before = acme.store.tickets('globex').length;
    const post = (form: Record<string, string>) => page.request.post(`${acme.url}/support`, { headers: { origin: acme.url, accept: 'text/html' }, form, maxRedirects: 0 });
    const badEmail = await post({ email: 'not-an-email', subject: '<script>alert(1)</script>', message: 'Help' });
    expect(badEmail.status()).toBe(422);
    const html = await badEmail.text();
    expect(html).toContain('email: is not an email address');
    expect(html).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(html).not.toContain('<script>alert(1)');
    const noSubject = await post({ email: 'maria@globex.test', subject: '  ', message: 'Help' });
    expect(noSubject.status()).toBe(422);
    expect(await noSubject.text()).toContain('subject: is required');
    const long = await post({ email: 'maria@globex.test', subject: 'Long', message: 'x'.repeat(4001) });
    expect(long.status()).toBe(422);
    expect(await long.text()).toContain('message: must be at most 4000 characters');
    expect(
      (
        await page.request.post(`${acme.url}/support`, {
          headers: { origin: 'http://evil.test' },
          form: { email: 'maria@globex.test', subject: 'Forged', message: 'x' },
          maxRedirects: 0,
        })
      ).status(),
    ).toBe(403);
    expect(acme.store.tickets('globex')).toHaveLength(before);
  });

  it("Initech's user sees none of it: not Globex's deals, connections, flows, runs or events, and cannot act on Globex's deals", async () => {
    const { page } = await signedIn(INITECH);
    expect(await page.getByTestId('company-name').textContent()).toBe('Initech');
    const board = await page.locator('.board').textContent();
    for (const name of ['Umbrella renewal', 'Soylent expansion', 'Stark platform deal']) expect(board).not.toContain(name);
    expect(board).toContain('Pied Piper compression');

    const root = await openIntegrations(page);
    for (const name of ['Slack', 'HubSpot']) await root.getByRole('button', { name: new RegExp(`^${name},? Not connected$`) }).waitFor();
    expect(await root.getByRole('button', { name: /,? Connected$/ }).count()).toBe(0);
    await openIntegration(root, 'Slack');
    await root.getByRole('button', { name: 'Connect Slack' }).waitFor();
    for (const flow of ['Post won deals to Slack', 'Announce big deals, after approval']) {
      if ((await flowCard(root, flow).count()) > 0) expect(await flowCard(root, flow).getByRole('switch', { checked: true }).count()).toBe(0);
    }
    await shot(page, 'other-company-integrations');

    await page.goto(`${acme.url}/events`);
    expect(await page.locator('li.event').count()).toBe(0);
    expect(await page.getByText('No events yet.').count()).toBe(1);
    await shot(page, 'other-company-events');

    // The widget's session renewal (onSessionExpired) mints a session for Initech, and only Initech.
    const renewed = await page.request.post(`${acme.url}/api/switchboard/session`, { headers: { origin: acme.url }, data: {} });
    expect(renewed.status()).toBe(200);
    const token = ((await renewed.json()) as { token: string }).token;
    const me = await fetch(`${api.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await me.json()) as { endUser: { externalId: string } }).endUser.externalId).toBe(INITECH.endUserId);

    // Switchboard agrees: nothing of Globex's is Initech's.
    expect((await tenant.host.get(`/v1/end-users/${INITECH.endUserId}/connections`)).body.data).toEqual([]);
    expect((await tenant.host.get(`/v1/runs?endUserId=${INITECH.endUserId}`)).body.data).toEqual([]);

    // A Globex deal id, posted with Initech's session, is not found; the deal stays open.
    const soylent = acme.store.deals('globex').find((d) => d.name === 'Soylent expansion')!;
    const res = await page.request.post(`${acme.url}/deals/${soylent.id}/won`, { headers: { origin: acme.url }, form: {}, maxRedirects: 0 });
    expect(res.status()).toBe(404);
    expect(acme.store.deal('globex', soylent.id)!.stage).toBe('qualified');
    expect(problems.get(page)).toEqual([]);
  });

  it('refuses cross-site posts, and webhooks without a valid signature', async () => {
    const { page } = maria;
    const soylent = acme.store.deals('globex').find((d) => d.name === 'Soylent expansion')!;
    const forged = await page.request.post(`${acme.url}/deals/${soylent.id}/won`, { headers: { origin: 'http://evil.test' }, form: {}, maxRedirects: 0 });
    expect(forged.status()).toBe(403);
    expect(acme.store.deal('globex', soylent.id)!.stage).toBe('qualified');

    const hook = `${acme.url}/webhooks/switchboard`;
    const body = JSON.stringify({ type: 'run.failed', timestamp: new Date().toISOString(), data: { endUserId: GLOBEX.endUserId, run: { flow: 'forged-flow' } } });
    const now = Math.floor(Date.now() / 1000);
    const post = (headers: Record<string, string>, payload = body) => fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload });
    expect((await post(signWebhook('whsec_' + Buffer.alloc(32, 7).toString('base64'), 'msg_forged1', now, body))).status).toBe(400); // another secret
    expect((await post(signWebhook(seeded.webhook.secret, 'msg_forged2', now, body), body.replace('forged-flow', 'other-flow'))).status).toBe(400); // body changed after signing
    expect((await post({})).status).toBe(400); // unsigned
    expect(acme.store.events('globex').filter((e) => e.type === 'run.failed')).toEqual([]);

    // The same payload, signed with Acme's secret, is accepted once (a redelivery keeps its id).
    const signed = signWebhook(seeded.webhook.secret, 'msg_genuine', now, body);
    expect((await post(signed)).status).toBe(204);
    expect((await post(signed)).status).toBe(204);
    expect(acme.store.events('globex').filter((e) => e.type === 'run.failed')).toHaveLength(1);
  });

  it('Globex: while HubSpot is disconnected, a new customer is kept and the page says to reconnect HubSpot, not that Switchboard is down', async () => {
    const { page } = maria;
    const [hubspot] = (await tenant.host.get(`/v1/end-users/${GLOBEX.endUserId}/connections`)).body.data.filter((c: { connector: string }) => c.connector === 'hubspot');
    expect((await tenant.host.delete(`/v1/connections/${hubspot.id}`)).status).toBe(204);
    await page.goto(`${acme.url}/customers`);
    await page.getByLabel('First name').fill('Grace');
    await page.getByLabel('Last name').fill('Hopper');
    await page.getByLabel('Email').fill('grace@navy.test');
    await page.getByRole('button', { name: 'Add customer' }).click();
    await page.waitForURL(`${acme.url}/customers`);
    expect(await page.getByRole('status').first().textContent()).toBe(
      'Grace Hopper was added, but not sent: HubSpot is disconnected. Reconnect HubSpot in Integrations and new customers are sent again.',
    );
    expect(await page.getByRole('row', { name: /Grace Hopper/ }).textContent()).toContain('HubSpot is disconnected');
    expect(sandbox.state.hubspot.contacts.some((c) => c.properties.email === 'grace@navy.test')).toBe(false);
  });
});
