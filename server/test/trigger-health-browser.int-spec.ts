import { consentInSandbox, type Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, type Page } from 'playwright-core';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium';
import { createTenant, freshDatabase, pollNow, startApi, startWorker, type TenantFixture, type TestApi, until } from './harness';
import { axe, newPage, signIn } from './portal-browser';

/**
 * Trigger health in real Chromium: an end user's GitHub poll and webhook flows in the widget (working,
 * then failing with the provider's error, then failing for the connection with Reconnect), the
 * team's view in the portal (the template's Trigger column and its Failing triggers filter, the end
 * user's flows), and Slack's app webhook settings (its URL to copy, a write-only signing secret).
 * Screenshots land in SCREENSHOT_DIR (default /tmp) as ui-*.png.
 */

const SCREENSHOTS = process.env.SCREENSHOT_DIR ?? '/tmp';
const REPO = 'acme-inc/api';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const inputs = { repo: { type: 'string', title: 'Repository', default: REPO } };
const seenIssue = { id: 'seen', type: 'transform', output: { number: '=$trigger.number' } };
const POLL_FLOW = {
  key: 'new-issues',
  name: 'Triage new issues',
  description: 'Labels each new GitHub issue and files it in your board.',
  trigger: { type: 'poll', connector: 'github', event: 'new_issue', input: { repository: '=$inputs.repo' }, interval: 'PT1M' },
  connectors: ['github'],
  inputs,
  steps: [seenIssue],
};
const HOOK_FLOW = {
  key: 'issue-hook',
  name: 'Announce opened issues',
  description: 'Posts each opened issue to your team feed.',
  trigger: { type: 'webhook', connector: 'github', event: 'issue_opened', input: { repository: '=$inputs.repo' } },
  connectors: ['github'],
  inputs,
  steps: [seenIssue],
};

/** The host app's page: the widget snippet, init with a session, an "Integrations" button. */
const hostPage = (api: string, token: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme CRM</title>
<script>(function(w,d,s,u){w.Switchboard=w.Switchboard||function(){(w.Switchboard.q=w.Switchboard.q||[]).push(arguments)};var j=d.createElement(s);j.async=1;j.src=u;d.head.appendChild(j)})(window,document,'script','${api}/embed/v1/loader.js');</script>
</head><body style="font:15px system-ui;margin:24px"><h1>Acme CRM</h1><button id="open" type="button">Manage integrations</button>
<script>Switchboard('init', { token: ${JSON.stringify(token)} }); document.getElementById('open').addEventListener('click', () => Switchboard('open'));</script></body></html>`;

describe('trigger health in the widget and the portal', { timeout: 240_000 }, () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let db: DataSource;
  let browser: Browser;
  let host: { origin: string; server: Server };
  let hostToken = '';
  const errors: string[] = [];

  const shot = (page: Page, name: string) => page.screenshot({ path: `${SCREENSHOTS}/ui-${name}.png`, fullPage: true });

  /** A portal screen: settled, no axe violations (WCAG 2.1 A/AA and best practices), then its picture. */
  async function screen(page: Page, name: string): Promise<void> {
    await page.locator('.toast').waitFor({ state: 'detached', timeout: 6000 });
    await page.waitForTimeout(250);
    expect(await axe(page), `axe on ${name}`).toEqual([]);
    await shot(page, name);
  }
  const healthOf = async (key: string) =>
    (await tenant.host.get('/v1/end-users/alice/flows')).body.data.find((f: { key: string }) => f.key === key).instance.triggerHealth as {
      status: string;
      error: { code: string; message: string } | null;
    };

  /** The host page with the widget open on GitHub's page. */
  async function widgetOnGithub(page: Page) {
    await page.goto(`${host.origin}/host`);
    await page.getByRole('button', { name: 'Manage integrations' }).click();
    const modal = page.getByRole('dialog', { name: 'Integrations' });
    await modal.getByRole('button', { name: /^GitHub / }).click();
    await modal.getByRole('heading', { name: 'GitHub', exact: true }).waitFor();
    return modal;
  }

  beforeAll(async () => {
    sandbox = await startSandbox();
    // A database of its own: every worker polls every due row of its database, and other files' workers would poll these with their own sandboxes.
    database = await freshDatabase();
    api = await startApi({ DATABASE_URL: database.url, SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    worker = await startWorker(api.config);
    db = api.app.get(DataSource);
    tenant = await createTenant(api, 'Acme CRM');
    host = await new Promise((resolve) => {
      const server = createServer((req, res) =>
        req.url?.startsWith('/host') ? res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(hostPage(api.url, hostToken)) : res.writeHead(404).end(),
      );
      server.listen(0, 'localhost', () => resolve({ origin: `http://localhost:${(server.address() as AddressInfo).port}`, server }));
    });
    await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [host.origin] });
    for (const key of ['github', 'slack']) expect((await tenant.owner.put(`/v1/admin/connectors/${key}`, { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    for (const definition of [POLL_FLOW, HOOK_FLOW]) {
      expect((await tenant.owner.post('/v1/admin/flow-templates', { definition })).status).toBe(201);
      expect((await tenant.owner.post(`/v1/admin/flow-templates/${definition.key}/publish`)).status).toBe(201);
    }
    // Alice connects GitHub (the sandbox's consent screen) and switches both flows on.
    hostToken = (await tenant.host.post('/v1/sessions', { endUserId: 'alice', displayName: 'Alice Martin' })).body.token;
    const start = await fetch(`${api.url}/connect/github?${new URLSearchParams({ session: hostToken, origin: host.origin })}`, { redirect: 'manual' });
    expect(await (await fetch(await consentInSandbox(start.headers.get('location')!))).text()).toContain('"connected"');
    for (const key of [POLL_FLOW.key, HOOK_FLOW.key]) expect((await tenant.host.post(`/v1/end-users/alice/flows/${key}/enable`, { settings: {} })).status).toBe(200);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => host?.server.close(r));
    await worker?.close();
    await api?.close();
    await sandbox?.close();
    await database?.drop();
  });

  it('the widget says when the trigger last checked, then warns when it fails, with Reconnect when the connection is the cause; the portal lists it under Failing triggers', async () => {
    await until('both triggers working', async () => (await healthOf(POLL_FLOW.key)).status === 'ok' && (await healthOf(HOOK_FLOW.key)).status === 'ok');
    const page = await newPage(browser, errors);
    let modal = await widgetOnGithub(page);
    const pollCard = () => modal.getByRole('article', { name: POLL_FLOW.name });
    const hookCard = () => modal.getByRole('article', { name: HOOK_FLOW.name });
    await pollCard().getByText('When new issue in GitHub · Checked just now').waitFor();
    await hookCard().getByText('When issue opened in GitHub · Listening for GitHub events').waitFor();
    await hookCard().scrollIntoViewIfNeeded();
    await shot(page, 'widget-trigger-ok');

    // GitHub fails the poll (a 502): the flow shows the provider's error and when it is tried again.
    const outage = sandbox.inject({
      connector: 'github',
      method: 'GET',
      path: new RegExp(`^/repos/${REPO}/issues$`),
      status: 502,
      times: Infinity,
      body: { message: 'Server Error' },
    });
    // One failure may be a blip; the second in a row makes the trigger failing.
    await pollNow(db);
    await pollNow(db);
    const failing = await until('a failing poll', async () => {
      const health = await healthOf(POLL_FLOW.key);
      return health.status === 'failing' && health;
    });
    expect(failing.error!.code).toBe('provider_error');
    modal = await widgetOnGithub(page);
    const warning = pollCard().locator('.alert.warn');
    await warning.getByText(failing.error!.message).waitFor();
    await warning.getByText(/^Trying again in \d+ min$/).waitFor();
    expect(await warning.getByRole('button', { name: 'Reconnect' }).count()).toBe(0);
    expect(
      await pollCard()
        .getByText(/Checked/)
        .count(),
    ).toBe(0);
    await shot(page, 'widget-trigger-failing');

    // The team: the template's instances, a Trigger column, then only the failing ones.
    const portal = await newPage(browser, errors);
    await signIn(portal, `${api.url}/portal`, tenant);
    await portal.goto(`${api.url}/portal/flows/${POLL_FLOW.key}`);
    const table = portal.getByRole('table');
    await portal.locator('.outline-trigger').getByText('When new issue in GitHub (checked every 1 min)', { exact: true }).waitFor();
    await table.getByRole('columnheader', { name: 'Trigger' }).waitFor();
    const row = table.getByRole('row', { name: /Alice Martin/ });
    await row.getByText('Failing').waitFor();
    await row.getByText(failing.error!.message).waitFor();
    expect(await row.locator('.trigger-error').getAttribute('title')).toBe('provider_error');
    await portal.getByLabel('Failing triggers').check();
    await expect.poll(() => table.getByRole('row').count()).toBe(2);
    await screen(portal, 'portal-instances-failing');
    // The end user's page: the same health on their flow.
    await portal.goto(`${api.url}/portal/end-users/alice`);
    const flowItem = portal.locator(`[data-flow="${POLL_FLOW.key}"]`);
    await flowItem.getByText(failing.error!.message).waitFor();
    await flowItem.getByText('When new issue in GitHub (checked every 1 min)', { exact: true }).waitFor();
    await portal.locator(`[data-flow="${HOOK_FLOW.key}"]`).getByText('When issue opened in GitHub (GitHub pushes it)', { exact: true }).waitFor();
    await portal.locator(`[data-flow="${HOOK_FLOW.key}"]`).getByText('Listening for events').waitFor();
    await screen(portal, 'portal-end-user-flows');

    // GitHub refuses the token (401 Bad credentials): the end user can reconnect from the warning.
    outage.cancel();
    const refused = sandbox.inject({
      connector: 'github',
      method: 'GET',
      path: new RegExp(`^/repos/${REPO}/issues$`),
      status: 401,
      times: Infinity,
      body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' },
    });
    await pollNow(db);
    const authFailing = await until('a poll refused for its token', async () => {
      const health = await healthOf(POLL_FLOW.key);
      return health.error?.code === 'provider_auth_failed' && health;
    });
    modal = await widgetOnGithub(page);
    await pollCard().locator('.alert.warn').getByText(authFailing.error!.message).waitFor();
    const reconnect = pollCard().locator('.alert.warn').getByRole('button', { name: 'Reconnect' });
    await shot(page, 'widget-trigger-reconnect');
    // It is the connection panel's Reconnect: the connect popup, for this connection.
    const [popup] = await Promise.all([page.context().waitForEvent('page'), reconnect.click()]);
    await modal.getByText('Finish connecting in the window that opened…').waitFor();
    expect(await reconnect.isDisabled()).toBe(true);
    await popup.close();
    await modal.getByText('Finish connecting in the window that opened…').waitFor({ state: 'detached' });

    // GitHub answers again: the next poll clears the warning.
    refused.cancel();
    await pollNow(db);
    await until('recovery', async () => (await healthOf(POLL_FLOW.key)).status === 'ok');
    modal = await widgetOnGithub(page);
    await pollCard().getByText('When new issue in GitHub · Checked just now').waitFor();
    expect(await pollCard().locator('.alert.warn').count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it("Slack's connector page shows the app's webhook URL to copy and takes a write-only signing secret", async () => {
    const page = await newPage(browser, errors);
    await signIn(page, `${api.url}/portal`, tenant);
    await page.goto(`${api.url}/portal/connectors/slack`);
    const webhookUrl = (await tenant.owner.get('/v1/admin/connectors/slack')).body.config.webhookUrl as string;
    expect(webhookUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/hooks\//);
    await expect.poll(() => page.getByLabel('Webhook URL').inputValue()).toBe(webhookUrl);
    await page.getByLabel(/^Webhook signing secret/).fill('8f742231b10e8888abcd99yyyzzz85a5');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved Slack').waitFor();
    await page.getByText('A signing secret is stored (encrypted).').waitFor();
    expect(await page.getByLabel(/^Webhook signing secret/).inputValue()).toBe('');
    expect((await tenant.owner.get('/v1/admin/connectors/slack')).body.config.hasWebhookSigningSecret).toBe(true);
    await screen(page, 'portal-slack-webhooks');
    // GitHub's hooks are per flow: no app URL to set.
    await page.goto(`${api.url}/portal/connectors/github`);
    await page.getByRole('heading', { name: 'Triggers flows can start on' }).waitFor();
    expect(await page.getByLabel('Webhook URL').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
