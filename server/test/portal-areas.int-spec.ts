import { consentInSandbox, type Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { existsSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium } from './chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePortalDist } from '../src/portal/portal-files';
import { addMember, createTenant, Http, startApi, startWorker, type TenantFixture, type TestApi, until } from './harness';
import { axe, SCREENSHOTS } from './portal-browser';

/**
 * The portal's working screens (connectors, flow editor, runs, end users, dashboard, settings,
 * webhooks) in real Chromium against a real API, worker and the sandbox providers. Every screen is
 * checked with axe and photographed to test-results/screenshots/portal-*.png.
 */

const HOST_ORIGIN = 'https://app.northwind.example';

let sandbox: Sandbox;
let api: TestApi;
let worker: { close(): Promise<void> };
let browser: Browser;
let tenant: TenantFixture;
let receiver: { server: Server; url: string; requests: { headers: IncomingHttpHeaders; body: string }[]; status: number };
const contexts: BrowserContext[] = [];
const problems = new Map<Page, string[]>();

async function newPage(options: { colorScheme?: 'light' | 'dark'; width?: number } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1360, height: 900 }, colorScheme: options.colorScheme ?? 'light', locale: 'en-US' });
  contexts.push(context);
  const page = await context.newPage();
  const seen: string[] = [];
  problems.set(page, seen);
  page.on('console', (message) => {
    // CSP violations are console errors too, so an inline style or script would fail the test here.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) seen.push(message.text());
  });
  page.on('pageerror', (error) => seen.push(`pageerror: ${error.message}`));
  return page;
}

/** Checks the screen with axe and saves its screenshot. */
async function screen(page: Page, name: string): Promise<void> {
  // Let transitions, fade-ins and toasts settle so the picture and the contrast checks see the final state.
  await page.locator('.toast').waitFor({ state: 'detached', timeout: 6000 });
  await page.waitForTimeout(250);
  const violations = await axe(page);
  if (violations.length) console.error(`axe on ${name}:\n${violations.join('\n')}`);
  expect(violations, `axe on ${name}`).toEqual([]);
  await page.screenshot({ path: join(SCREENSHOTS, `portal-${name}.png`), fullPage: true });
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto(`${api.url}/portal`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
}

async function go(page: Page, section: string, heading = section): Promise<void> {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: section, exact: true }).click();
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
}

async function connectSlack(endUserId: string, account = 0): Promise<string> {
  const token = (await tenant.host.post('/v1/sessions', { endUserId })).body.token as string;
  const start = await fetch(`${api.url}/connect/slack?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
  if (!start.headers.get('location')) throw new Error(`connect answered ${start.status}: ${(await start.text()).slice(0, 2000)}`);
  const callback = await consentInSandbox(start.headers.get('location')!, { account });
  const html = await (await fetch(callback)).text();
  return /"connectionId":"([^"]+)"/.exec(html)![1];
}

async function waitForRun(id: string, done: (status: string) => boolean = (s) => ['succeeded', 'failed', 'cancelled'].includes(s)) {
  for (let i = 0; i < 400; i++) {
    const run = (await tenant.host.get(`/v1/runs/${id}`)).body;
    if (done(run.status)) return run;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`run ${id} did not reach the expected status`);
}

const wonDeals = {
  key: 'won-deals-to-slack',
  name: 'Post won deals to Slack',
  description: 'Tells a Slack channel about every deal won above an amount.',
  trigger: { type: 'event', event: 'deal.won' },
  connectors: ['slack'],
  inputs: {
    channel: { type: 'string', title: 'Channel', required: true, options: { connector: 'slack', source: 'channels' } },
    minAmount: { type: 'number', title: 'Only deals of at least', default: 0 },
  },
  steps: [
    { id: 'text', type: 'transform', output: { text: "='Deal ' & $trigger.name & ' won: $' & $string($trigger.amount)" } },
    {
      id: 'big',
      type: 'branch',
      if: '=$trigger.amount >= $inputs.minAmount',
      then: [{ id: 'post', type: 'action', connector: 'slack', action: 'send_mesage', input: { channel: '=$inputs.channel', text: '=$steps.text.text' } }],
    },
    { id: 'summary', type: 'transform', output: { posted: '=$exists($steps.post)', ts: '=$steps.post.ts' } },
  ],
};

beforeAll(async () => {
  if (!existsSync(join(resolvePortalDist(), 'index.html'))) throw new Error('The portal is not built: run `npm run build -w @switchboard/portal` first');

  const requests: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      requests.push({ headers: req.headers, body });
      res.writeHead(receiver.status, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  receiver = { server, url: `http://127.0.0.1:${port}/hooks/switchboard`, requests, status: 200 };

  // Northwind's own Slack app, registered with the sandbox's Slack like one would be with Slack.
  sandbox = await startSandbox({ clients: [{ clientId: 'northwind-slack-app', clientSecret: 's3cr3t-from-slack', connectors: ['slack'], name: 'Northwind' }] });
  api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port},127.0.0.1:${port}` });
  worker = await startWorker(api.config);
  tenant = await createTenant(api, 'Northwind Trading');
  expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] })).status).toBe(200);
  browser = await launchChromium();
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await worker?.close();
  await api?.close();
  await sandbox?.close();
  await new Promise((resolve) => receiver?.server.close(resolve));
});

describe('portal: connectors, flows and runs', () => {
  let page: Page;

  beforeAll(async () => {
    page = await newPage();
    await signIn(page, tenant.email, tenant.password);
  });

  it('configures a connector: an OAuth app needs its credentials, the secret is write-only, the sandbox is a switch', async () => {
    // The empty dashboard explains what to do first.
    await page.getByText('No runs in the last 24 hours').waitFor();
    await screen(page, '01-dashboard-empty');

    await go(page, 'Connectors');
    const slackCard = page.getByRole('link', { name: /^Slack\b/ });
    await slackCard.getByText('Off', { exact: true }).waitFor();
    expect(await page.locator('.connector-card').count()).toBeGreaterThanOrEqual(8);
    await screen(page, '02-connectors');

    await slackCard.click();
    await page.getByRole('heading', { name: 'Slack', level: 1 }).waitFor();
    expect(await page.getByLabel('Callback URL').inputValue()).toBe(`${api.url}/oauth/callback`);
    // Switching it on without an OAuth app (and without the sandbox): the API's error, at the field.
    await page.getByRole('switch', { name: 'Enabled' }).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('alert').filter({ hasText: 'set clientId and clientSecret' }).waitFor();
    await page.locator('.field-invalid').filter({ hasText: 'Client ID' }).getByText('Client ID is required to enable an OAuth connector').waitFor();
    await screen(page, '03-connector-error');

    // With the app's credentials it saves; the secret is never shown back.
    await page.getByLabel('Client ID').fill('northwind-slack-app');
    await page.getByLabel('Client secret').fill('s3cr3t-from-slack');
    await page.getByLabel('Scopes').fill('chat:write channels:read users:read');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved Slack').waitFor();
    expect(await page.getByLabel('Client secret').inputValue()).toBe('');
    expect(await page.getByLabel('Client secret').getAttribute('placeholder')).toContain('stored');
    expect(await page.content()).not.toContain('s3cr3t-from-slack');
    let stored = (await tenant.owner.get('/v1/admin/connectors/slack')).body;
    expect(stored.config).toMatchObject({ enabled: true, clientId: 'northwind-slack-app', hasClientSecret: true, scopes: ['chat:write', 'channels:read', 'users:read'] });

    // For the demo: the sandbox provider instead of the real Slack.
    await page.getByRole('switch', { name: 'Use the sandbox' }).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    // "Saved Slack" is still shown from the first save: the header's Sandbox badge says this one landed.
    await page.locator('.page-header').getByText('Sandbox').waitFor();
    stored = (await tenant.owner.get('/v1/admin/connectors/slack')).body;
    expect(stored.config.settings.useSandbox).toBe(true);
    await screen(page, '04-connector-slack');

    // The catalogue shows the new state.
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Connectors' }).click();
    await slackCard.getByText('Enabled', { exact: true }).waitFor();
    await slackCard.getByText('Sandbox', { exact: true }).waitFor();

    // An API-key connector needs no OAuth app; switching a live one off asks first.
    await page.getByRole('link', { name: /^Stripe\b/ }).click();
    await page.getByRole('heading', { name: 'Stripe', level: 1 }).waitFor();
    expect(await page.getByLabel('Client ID').count()).toBe(0);
    await page.getByRole('switch', { name: 'Enabled' }).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved Stripe').waitFor();
    await page.getByRole('switch', { name: 'Enabled' }).uncheck();
    await page.getByRole('button', { name: 'Save changes' }).click();
    const dialog = page.getByRole('dialog', { name: 'Switch Stripe off?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await tenant.owner.get('/v1/admin/connectors/stripe')).body.config.enabled).toBe(true);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await dialog.getByRole('button', { name: 'Switch off' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(async () => (await tenant.owner.get('/v1/admin/connectors/stripe')).body.config.enabled).toBe(false);
    expect(problems.get(page)).toEqual([]);
  });

  it('authors a flow template, fixes a validation error found at its path, and publishes it', async () => {
    await go(page, 'Flows');
    await page.getByText('No flows yet').waitFor();
    // The key follows the name until edited; a bad key is refused inline.
    await page.getByLabel('Name').fill('Post won deals to Slack');
    expect(await page.getByLabel('Key').inputValue()).toBe('post-won-deals-to-slack');
    await page.getByLabel('Key').fill('Won Deals!');
    await page.getByRole('button', { name: 'Create flow' }).click();
    await page.getByText('Use lowercase letters, digits and dashes').waitFor();
    await page.getByLabel('Key').fill('won-deals-to-slack');
    await page.getByRole('button', { name: 'Create flow' }).click();
    await page.getByRole('heading', { name: 'Post won deals to Slack', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/portal/flows/won-deals-to-slack');
    // The starter definition is valid.
    await page.locator('.editor-status').getByText('Valid').waitFor();

    // Paste a definition with a typo in the action name: the problem is listed with its path.
    const editor = page.getByLabel('Flow definition (JSON)');
    await editor.fill(JSON.stringify(wonDeals, null, 2));
    const problem = page.locator('.problem').filter({ hasText: 'steps.1.then.0' });
    await problem.waitFor();
    expect(await problem.textContent()).toContain('send_mesage');
    await page
      .locator('.editor-status')
      .getByText(/1 problem/)
      .waitFor();
    // The outline reads the document: trigger and the step tree.
    await page.locator('.outline-trigger').getByText('When the app sends “deal.won”').waitFor();
    await page.locator('.outline').getByText('slack → send_mesage').waitFor();
    await screen(page, '05-flow-editor-error');

    // Clicking the problem selects its place in the document.
    await problem.click();
    const selected = await editor.evaluate((el: HTMLTextAreaElement) => el.value.slice(el.selectionStart, el.selectionEnd));
    expect(selected).toContain('"action": "send_mesage"');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('definition');
    // The gutter marks the line.
    expect(await page.locator('.gutter-error').count()).toBeGreaterThan(0);

    // A JSON syntax error is reported with its line, before anything reaches the server.
    await editor.fill('{ "key": "won-deals-to-slack", ');
    await page.locator('.editor-status').getByText('JSON syntax error').waitFor();
    await page
      .locator('.problem')
      .first()
      .getByText(/JSON syntax/)
      .waitFor();

    // Publishing the draft with the typo is refused, and the problems come back at their paths.
    await editor.fill(JSON.stringify(wonDeals, null, 2));
    await page.getByRole('button', { name: 'Publish version 1' }).click();
    await page.getByRole('alert').filter({ hasText: 'Not published' }).waitFor();
    await problem.waitFor();
    expect((await tenant.owner.get('/v1/admin/flow-templates/won-deals-to-slack')).body.latestVersion).toBe(0);

    // Fix it (the edit the problem pointed at) and publish.
    await editor.fill(JSON.stringify(wonDeals, null, 2).replace('send_mesage', 'send_message'));
    await page.locator('.editor-status').getByText('Valid').waitFor();
    await page.getByText('No problems: this definition can be published.').waitFor();
    await page.getByRole('button', { name: 'Publish version 1' }).click();
    await page.getByText('Published version 1').waitFor();
    expect(await page.getByRole('button', { name: 'Publish version 2' }).isDisabled()).toBe(true);
    const template = (await tenant.owner.get('/v1/admin/flow-templates/won-deals-to-slack')).body;
    expect(template.latestVersion).toBe(1);
    expect(template.versions[0].definition.steps[1].then[0].action).toBe('send_message');
    await page.locator('.page-header').getByText('Published', { exact: true }).waitFor();
    await page.locator('.version-item').getByText('v1').waitFor();
    await page.getByText('No end users run this flow yet').waitFor();
    await screen(page, '06-flow-published');
    expect(problems.get(page)).toEqual([]);
  });

  it('finds a failed run, reads its step timeline and retries it from the failed step', async () => {
    // Two customers switch the flow on; Slack starts refusing messages, so their deals fail to post.
    await connectSlack('acme-corp');
    await connectSlack('globex', 1);
    await tenant.host.put('/v1/end-users/acme-corp', { displayName: 'Acme Corp', email: 'ops@acme.example' });
    for (const user of ['acme-corp', 'globex']) {
      expect((await tenant.host.post(`/v1/end-users/${user}/flows/won-deals-to-slack/enable`, { settings: { channel: '#sales', minAmount: 1000 } })).status).toBe(200);
    }
    const ok = await tenant.host.post('/v1/events', { name: 'deal.won', endUserId: 'globex', payload: { name: 'Globex renewal', amount: 12000 } });
    expect((await waitForRun(ok.body.runs[0].id)).status).toBe('succeeded');
    const outage = sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', status: 400, body: { ok: false, error: 'channel_not_found' }, times: Infinity });
    const sent = await tenant.host.post('/v1/events', { name: 'deal.won', endUserId: 'acme-corp', payload: { name: 'Acme expansion', amount: 48000 } });
    const failedId = sent.body.runs[0].id as string;
    const failed = await waitForRun(failedId);
    expect(failed.status).toBe('failed');

    // The runs explorer: filter by status; the failed run is there.
    await go(page, 'Runs');
    await page.locator(`tr[data-run-id="${failedId}"]`).waitFor();
    await page.locator(`tr[data-run-id="${ok.body.runs[0].id}"]`).waitFor();
    await screen(page, '07-runs');
    await page.getByLabel('Status').selectOption('failed');
    await page.locator(`tr[data-run-id="${ok.body.runs[0].id}"]`).waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')))).toEqual(['failed']);
    expect(new URL(page.url()).search).toBe('?status=failed');
    // A filter with no match explains itself.
    await page.getByLabel('End user').fill('nobody');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('No runs match these filters').waitFor();
    await page.getByLabel('End user').fill('acme-corp');
    await page.getByRole('button', { name: 'Apply' }).click();
    const row = page.locator(`tr[data-run-id="${failedId}"]`);
    await row.waitFor();

    // The list is live: a new run shows up without reloading.
    const another = await tenant.host.post('/v1/events', { name: 'deal.won', endUserId: 'acme-corp', payload: { name: 'Acme add-on', amount: 2000 } });
    await waitForRun(another.body.runs[0].id);
    await page.locator(`tr[data-run-id="${another.body.runs[0].id}"]`).waitFor({ timeout: 15_000 });

    // The run: its error, its step timeline with inputs, outputs and attempts.
    await row.getByRole('link').click();
    await page.getByRole('heading', { name: 'Run of Post won deals to Slack', level: 1 }).waitFor();
    await page.getByRole('alert').filter({ hasText: 'Failed at step' }).waitFor();
    const postStep = page.locator('[data-step="big/then/post"]');
    await postStep.getByText('failed', { exact: true }).waitFor();
    // A failed step opens by itself, showing what was sent.
    await postStep.getByText('"channel": "#sales"').waitFor();
    expect(await page.locator('[data-step]').evaluateAll((steps) => steps.map((s) => s.getAttribute('data-step')))).toEqual(['text', 'big', 'big/then/post']);
    await screen(page, '08-run-failed');

    // Retry once Slack is back: the same run resumes from the failed step and succeeds.
    outage.cancel();
    await page.getByRole('button', { name: 'Retry from failed step' }).click();
    await page.locator('.page-header .badge').getByText('Succeeded', { exact: true }).waitFor({ timeout: 20_000 });
    await postStep.getByText('succeeded', { exact: true }).waitFor();
    const retried = (await tenant.host.get(`/v1/runs/${failedId}`)).body;
    expect(retried.status).toBe('succeeded');
    expect(retried.attempt).toBe(2);
    expect(sandbox.state.slack.messages.filter((m: { text: string }) => m.text === 'Deal Acme expansion won: $48000')).toHaveLength(1);
    expect(await page.getByRole('button', { name: 'Retry from failed step' }).count()).toBe(0);
    await screen(page, '09-run-retried');

    // The connection drops after Slack got the message: the step's outcome is unknown, said plainly,
    // and retrying it is flagged as a possible duplicate.
    sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', drop: true, times: 1 });
    const droppedId = (await tenant.host.post('/v1/events', { name: 'deal.won', endUserId: 'acme-corp', payload: { name: 'Acme cut off', amount: 48000 } })).body.runs[0]
      .id as string;
    expect((await waitForRun(droppedId)).status).toBe('failed');
    await page.goto(`${api.url}/portal/runs/${droppedId}`);
    await postStep.getByText('Outcome unknown — the provider may have received this request').waitFor();
    await postStep.getByText('outcome unknown', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Retry from failed step' }).click();
    await page.locator('.page-header .badge').getByText('Succeeded', { exact: true }).waitFor({ timeout: 20_000 });
    await postStep.getByText('possible duplicate', { exact: true }).waitFor();
    await postStep.getByText('Possible duplicate', { exact: true }).waitFor();
    await screen(page, '09c-run-possible-duplicate');

    // A run that waits (a delay step) can be cancelled, after a confirmation.
    const waiting = {
      key: 'follow-up',
      name: 'Follow up tomorrow',
      trigger: { type: 'request' },
      connectors: [],
      inputs: {},
      steps: [
        { id: 'later', type: 'delay', for: 'PT24H' },
        { id: 'done', type: 'transform', output: 'done' },
      ],
    };
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition: waiting })).status).toBe(201);
    expect((await tenant.owner.post('/v1/admin/flow-templates/follow-up/publish')).status).toBe(201);
    expect((await tenant.host.post('/v1/end-users/globex/flows/follow-up/enable', {})).status).toBe(200);
    const started = await tenant.host.post('/v1/flows/follow-up/runs', { endUserId: 'globex', input: {} });
    await waitForRun(started.body.id, (s) => s === 'waiting');
    await page.goto(`${api.url}/portal/runs/${started.body.id}`);
    await page.locator('.page-header .badge').getByText('Waiting', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Cancel run' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this run?' });
    await dialog.waitFor();
    await screen(page, '09b-run-cancel-confirm');
    // Escape keeps it running.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect((await tenant.host.get(`/v1/runs/${started.body.id}`)).body.status).toBe('waiting');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await dialog.getByRole('button', { name: 'Cancel run' }).click();
    await page.locator('.page-header .badge').getByText('Cancelled', { exact: true }).waitFor({ timeout: 20_000 });
    expect((await waitForRun(started.body.id)).status).toBe('cancelled');
    expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
    expect(problems.get(page)).toEqual([]);
  });

  it('shows end users with their connections, flows and settings, and which version they run', async () => {
    // Acme picked #sales in the widget: the setting holds the channel's id, which the portal names.
    const sales = sandbox.state.slack.channels.find((c) => c.name === 'sales')!;
    expect((await tenant.host.post('/v1/end-users/acme-corp/flows/won-deals-to-slack/enable', { settings: { channel: sales.id, minAmount: 1000 } })).status).toBe(200);
    const labels = await tenant.owner.get('/v1/admin/end-users/acme-corp/flows/won-deals-to-slack/setting-labels');
    expect(labels.status).toBe(200);
    expect(labels.body).toEqual({ data: { channel: { labels: { [sales.id]: '#sales' }, error: null } } });
    // Globex saved a channel name, not an id: nothing to name, and nothing invented.
    expect((await tenant.owner.get('/v1/admin/end-users/globex/flows/won-deals-to-slack/setting-labels')).body).toEqual({ data: { channel: { labels: {}, error: null } } });
    expect((await tenant.owner.get('/v1/admin/end-users/nobody-here/flows/won-deals-to-slack/setting-labels')).status).toBe(404);
    expect((await tenant.owner.get('/v1/admin/end-users/acme-corp/flows/no-such-flow/setting-labels')).status).toBe(404);
    // Another tenant's team cannot read them.
    const other = await createTenant(api, 'Other Trading');
    expect((await other.owner.get('/v1/admin/end-users/acme-corp/flows/won-deals-to-slack/setting-labels')).status).toBe(404);

    await go(page, 'End users');
    await page.locator('tr[data-end-user="acme-corp"]').waitFor();
    await page.locator('tr[data-end-user="globex"]').waitFor();
    await screen(page, '10-end-users');
    // Search narrows by id, name or email.
    await page.getByLabel('Search').fill('acme.example');
    await page.locator('tr[data-end-user="globex"]').waitFor({ state: 'detached' });
    await page.getByLabel('Search').fill('zzz-nobody');
    await page.getByText('Nobody matches “zzz-nobody”').waitFor();
    await page.getByLabel('Search').fill('Acme');
    await page.getByRole('link', { name: 'Acme Corp' }).click();
    await page.getByRole('heading', { name: 'Acme Corp', level: 1 }).waitFor();
    const connection = page.locator('[data-connection]');
    await connection.getByText('Active').waitFor();
    await connection.getByText('Slack', { exact: true }).waitFor();
    const flow = page.locator('[data-flow="won-deals-to-slack"]');
    await flow.getByText('On', { exact: true }).waitFor();
    const channel = flow.locator('[data-setting="channel"]');
    await channel.locator('.setting-label').getByText('#sales', { exact: true }).waitFor();
    expect(await channel.innerText()).toBe(`Channel\n#sales\n${sales.id}`);
    expect(await flow.locator('[data-setting="minAmount"]').innerText()).toBe('Only deals of at least\n1000');
    await screen(page, '11-end-user');

    // The flow's page lists who runs which version.
    await flow.getByRole('link', { name: 'Post won deals to Slack' }).click();
    await page.getByRole('heading', { name: 'Post won deals to Slack', level: 1 }).waitFor();
    await page.locator('.version-item').getByText('2 end users on, 0 off').waitFor();
    await page.getByRole('link', { name: 'Acme Corp' }).waitFor();
    await page.getByRole('link', { name: 'globex' }).waitFor();
    expect(problems.get(page)).toEqual([]);
  });

  it('draws the dashboard: runs per bucket, success rate, p95 duration, failing flows and errors', async () => {
    // One more failure, so the failing flows and errors have something to rank.
    const outage = sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', status: 400, body: { ok: false, error: 'not_in_channel' }, times: 1 });
    const sent = await tenant.host.post('/v1/events', { name: 'deal.won', endUserId: 'globex', payload: { name: 'Globex upsell', amount: 9000 } });
    expect((await waitForRun(sent.body.runs[0].id)).status).toBe('failed');
    outage.cancel();

    await go(page, 'Dashboard');
    const stats = (await tenant.owner.get('/v1/admin/stats?window=1h')).body;
    await page.getByRole('radio', { name: '1 hour' }).click();
    await page.getByRole('heading', { name: 'Runs per minute' }).waitFor();
    const kpis = await page.locator('.kpis').textContent();
    expect(kpis).toContain(String(stats.totals.runs));
    expect(stats.totals.failed).toBeGreaterThan(0);
    expect(kpis).toContain(`${((stats.totals.succeeded / (stats.totals.succeeded + stats.totals.failed)) * 100).toFixed(1)}%`);
    // One column per minute, with bars for the minutes that had runs.
    expect(await page.locator('.chart-hit').count()).toBe(60);
    expect(await page.locator('.chart-fill-ok').count()).toBeGreaterThan(1);
    await page.locator('.bar-list').getByText('Post won deals to Slack').waitFor();
    const topError = page.getByRole('rowheader', { name: /http_400/ });
    await topError.waitFor();
    expect(await topError.textContent()).toContain(stats.topErrors[0].message);
    // The window switches with the arrow keys too.
    await page.getByRole('radio', { name: '1 hour' }).focus();
    await page.keyboard.press('ArrowRight');
    await page.getByRole('heading', { name: 'Runs per 30 minutes' }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('24 hours');
    await screen(page, '12-dashboard');
    expect(problems.get(page)).toEqual([]);
  });
});

describe('portal: settings', () => {
  let page: Page;

  beforeAll(async () => {
    page = await newPage();
    await signIn(page, tenant.email, tenant.password);
  });

  it('edits allowed origins with inline errors, and the widget theme with a preview', async () => {
    await go(page, 'General');
    await page.locator('.origin-list').getByText(HOST_ORIGIN).waitFor();
    await page.getByLabel('Add an origin').fill('https://staging.northwind.example/app/');
    await page.getByRole('button', { name: 'Add origin' }).click();
    await page.getByText('must be just the origin, like https://staging.northwind.example').waitFor();
    await page.getByLabel('Add an origin').fill('https://staging.northwind.example');
    await page.getByRole('button', { name: 'Add origin' }).click();
    await page.getByText('Added https://staging.northwind.example').waitFor();
    expect((await tenant.owner.get('/v1/admin/tenant')).body.allowedOrigins).toEqual([HOST_ORIGIN, 'https://staging.northwind.example']);

    // Theme: a bad colour is caught as you type; a good one is saved.
    await page.getByRole('textbox', { name: 'Accent colour', exact: true }).fill('teal');
    await page.getByText('must be a hex colour like #4f46e5').waitFor();
    expect(await page.getByRole('button', { name: 'Save theme' }).isDisabled()).toBe(true);
    // A colour white text cannot be read on gets a warning, with its contrast.
    await page.getByRole('textbox', { name: 'Accent colour', exact: true }).fill('#2dd4bf');
    await page.getByText(/Hard to read: white text on this colour has a contrast of 1\.\d:1/).waitFor();
    await page.getByRole('textbox', { name: 'Accent colour', exact: true }).fill('#0b7a6e');
    await page.getByLabel('Corner radius').fill('14px');
    await screen(page, '13-settings');
    const tenantView = (await tenant.owner.get('/v1/admin/tenant')).body;
    if (tenantView.widgetTheme !== undefined) {
      await page.getByRole('button', { name: 'Save theme' }).click();
      await page.getByText('Widget theme saved').waitFor();
      expect((await tenant.owner.get('/v1/admin/tenant')).body.widgetTheme).toMatchObject({ accent: '#0b7a6e', radius: '14px' });
    }

    // Removing an origin asks first.
    await page.getByRole('button', { name: 'Remove https://staging.northwind.example' }).click();
    await page.getByRole('dialog', { name: 'Remove https://staging.northwind.example?' }).getByRole('button', { name: 'Remove origin' }).click();
    await page.getByText('Removed https://staging.northwind.example').waitFor();
    expect((await tenant.owner.get('/v1/admin/tenant')).body.allowedOrigins).toEqual([HOST_ORIGIN]);
    expect(problems.get(page)).toEqual([]);
  });

  it('manages webhook endpoints: the secret once, the delivery log, resend, delete with confirmation', async () => {
    await go(page, 'Webhooks');
    await page.getByText('No endpoints yet').waitFor();
    await page.getByLabel('URL').fill('not a url');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByText('That is not a URL').waitFor();
    await page.getByLabel('URL').fill(receiver.url);
    await page.getByLabel('Description', { exact: false }).fill('Northwind backend');
    await page.getByRole('checkbox', { name: /run\.succeeded/ }).check();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByRole('heading', { name: 'Webhook endpoint', level: 1 }).waitFor();
    const secret = await page.getByRole('textbox', { name: 'Signing secret' }).inputValue();
    expect(secret).toMatch(/^whsec_/);

    // A test ping lands in the log, signed.
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByText('Test event sent').waitFor();
    await expect.poll(() => receiver.requests.length, { timeout: 15_000 }).toBeGreaterThan(0);
    expect(receiver.requests[0].headers['webhook-signature']).toMatch(/^v1,/);
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Refresh' }).click();
          return page.locator('tr[data-status="succeeded"]').count();
        },
        { timeout: 15_000 },
      )
      .toBeGreaterThan(0);
    await screen(page, '14-webhook-endpoint');

    // Resend a delivery.
    const before = receiver.requests.length;
    await page
      .locator('tr[data-status="succeeded"]')
      .first()
      .getByRole('button', { name: /^Resend/ })
      .click();
    await expect.poll(() => receiver.requests.length, { timeout: 15_000 }).toBeGreaterThan(before);

    // Delete, through a confirmation.
    await page.getByRole('button', { name: 'Delete endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this endpoint?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Delete endpoint' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByText('No endpoints yet').waitFor();
    await screen(page, '14b-webhooks-empty');
    expect(problems.get(page)).toEqual([]);
  });

  it('passes axe on the remaining screens too', async () => {
    await go(page, 'Flows');
    await page.locator('tr[data-flow="won-deals-to-slack"]').waitFor();
    await screen(page, '15a-flows');
    await page.goto(`${api.url}/portal/no/such/page`);
    await page.getByRole('heading', { name: 'Page not found', level: 1 }).waitFor();
    await screen(page, '15b-not-found');
    await page.goto(`${api.url}/portal/runs/00000000-0000-4000-8000-000000000000`);
    await page.getByText('There is no such run in this tenant.').waitFor();
    for (const [section, name] of [
      ['API keys', '15-api-keys'],
      ['Members', '16-members'],
      ['Audit log', '17-audit-log'],
    ] as const) {
      await go(page, section);
      await page.locator('tbody tr').first().waitFor();
      await screen(page, name);
    }
    // Connector cards: the badges on one line of their own under the name, in every card.
    await go(page, 'Connectors');
    await page.locator('.connector-card').nth(11).waitFor();
    const cards = await page.locator('.connector-card').evaluateAll((all) =>
      all.slice(0, 24).map((card) => {
        const name = card.querySelector('.connector-card-name')!.getBoundingClientRect();
        const row = card.querySelector('.badge-row')!;
        const tops = [...row.querySelectorAll('.badge')].map((b) => Math.round(b.getBoundingClientRect().top));
        return { name: card.querySelector('.connector-card-name')!.textContent, belowName: row.getBoundingClientRect().top >= name.bottom - 1, oneLine: new Set(tops).size === 1 };
      }),
    );
    expect(cards.filter((c) => !c.belowName || !c.oneLine)).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, 'portal-02b-connector-cards.png') });
    const slack = page.locator('.connector-card').filter({ hasText: 'Slack' }).first();
    expect(await slack.locator('.badge').allInnerTexts()).toEqual(['Enabled', 'Sandbox']);
    // The sidebar shows the owner's whole email address, not a cut one.
    const who = await page.locator('.account-email').evaluate((el) => {
      const box = el.getBoundingClientRect();
      const sidebar = el.closest('.sidebar')!.getBoundingClientRect();
      return { text: el.textContent, cut: el.scrollWidth > el.clientWidth || box.right > sidebar.right };
    });
    expect(who).toEqual({ text: tenant.email, cut: false });
    await go(page, 'Audit log');

    // The audit log says what happened and who did it in words, the action's code under it.
    await page.getByLabel('Show').selectOption('end_user_session.');
    const session = page.locator('tr[data-action="end_user_session.created"]').filter({ hasText: 'acme-corp' }).first();
    await session.waitFor();
    // Read once the filtered list has rendered its row (it re-renders while the filter loads).
    const firstCells = (row: typeof session) =>
      until('the audit row', async () => {
        const texts = await row.locator('td').evaluateAll((cells) => cells.slice(0, 2).map((c) => (c as HTMLElement).innerText));
        return texts.length === 2 ? texts : undefined;
      });
    const [action, actor] = await firstCells(session);
    expect(action).toBe('Session started for end user acme-corp\nend_user_session.created');
    expect(actor).toBe('test key\nAPI key');
    // An end user's own action names them by the id the host gave them.
    await page.getByLabel('Show').selectOption('connection.');
    const connected = page.locator('tr[data-action="connection.created"]').filter({ hasText: 'globex' }).first();
    await connected.waitFor();
    const cells = await firstCells(connected);
    expect(cells[0]).toMatch(/^Slack account .+ connected\nconnection\.created$/);
    expect(cells[1]).toBe('globex\nEnd user');
    expect(await page.locator('tbody').innerText()).not.toMatch(/End user [0-9a-f]{8}\b/);
    expect(problems.get(page)).toEqual([]);
  });
});

describe('portal: roles and keyboard', () => {
  it('has an accessible sign-in screen', async () => {
    const page = await newPage();
    await page.goto(`${api.url}/portal`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await screen(page, '00-sign-in');
  });

  it('shows a viewer the screens read-only', async () => {
    const viewer = await addMember(api, tenant, 'viewer');
    const page = await newPage({ colorScheme: 'dark' });
    await signIn(page, viewer.email, viewer.password);
    await go(page, 'Connectors');
    await page.getByRole('link', { name: /^Slack/ }).click();
    await page.getByText('connector settings need the admin role').waitFor();
    expect(await page.getByRole('button', { name: 'Save changes' }).count()).toBe(0);
    expect(await page.getByRole('switch', { name: 'Enabled' }).isDisabled()).toBe(true);
    await go(page, 'Flows');
    expect(await page.getByRole('button', { name: 'Create flow' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Post won deals to Slack' }).click();
    await page.getByRole('heading', { name: 'Post won deals to Slack', level: 1 }).waitFor();
    expect(await page.getByLabel('Flow definition (JSON)').getAttribute('readonly')).not.toBeNull();
    expect(await page.getByRole('button', { name: /Publish/ }).count()).toBe(0);
    await go(page, 'Runs');
    await page.locator('tr[data-status="failed"]').first().getByRole('link').click();
    await page.getByRole('heading', { name: /Run of/, level: 1 }).waitFor();
    await page.locator('[data-step]').first().waitFor();
    expect(await page.getByRole('button', { name: 'Retry from failed step' }).count()).toBe(0);
    await go(page, 'Dashboard');
    await page.getByRole('heading', { name: /Runs per/ }).waitFor();
    await screen(page, '18-dashboard-dark');
    await go(page, 'Webhooks');
    await page.getByText('You need the admin role or higher to manage webhook endpoints').waitFor();
    expect(problems.get(page)).toEqual([]);
  });

  it('fits a phone screen', async () => {
    const page = await newPage({ width: 390 });
    await signIn(page, tenant.email, tenant.password);
    await go(page, 'Connectors');
    await page.locator('.connector-card').first().waitFor();
    // The page does not scroll sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screen(page, '20-connectors-phone');
  });

  it('can be driven with the keyboard: sections, a run and its steps', async () => {
    const page = await newPage();
    await signIn(page, tenant.email, tenant.password);
    const focused = () => page.evaluate(() => (document.activeElement as HTMLElement | null)?.textContent?.trim() ?? '');
    // Tab from the top: skip link, tenant, then the sections in order.
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Skip to content');
    const seen: string[] = [];
    for (let i = 0; i < 12 && !seen.includes('Runs'); i++) {
      await page.keyboard.press('Tab');
      seen.push(await focused());
    }
    expect(seen).toContain('Dashboard');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
    // Focus moves to the page heading; Tab onward reaches the filters, then the first run's link.
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    const link = page.locator('tbody tr').first().getByRole('link');
    await link.waitFor();
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      if (await link.evaluate((el) => el === document.activeElement)) break;
    }
    expect(await link.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /Run of/, level: 1 }).waitFor();
    // A step opens and closes with Enter on its summary.
    const summary = page.locator('[data-step="text"] summary');
    await summary.focus();
    await page.keyboard.press('Enter');
    await page.locator('[data-step="text"] details[open]').waitFor();
    const ring = await summary.evaluate((el) => getComputedStyle(el).boxShadow);
    expect(ring).not.toBe('none');
    await screen(page, '19-run-keyboard');
    expect(problems.get(page)).toEqual([]);
  });
});
