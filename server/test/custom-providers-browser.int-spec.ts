import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startApi, startWorker, type TenantFixture, type TestApi } from './harness';

/**
 * A custom provider from definition to a flow run, in real Chromium: an admin describes the
 * tenant's own API in the portal and enables it, an end user connects it in the widget on the host
 * app's page (the API-key form in the popup), and a flow whose `request` step goes through that
 * connection runs and succeeds against the API. Screenshots land in
 * test-results/screenshots/custom-providers-*.png. Each step is a function, for later scenarios
 * (an OpenAPI import) to reuse.
 */

const SCREENSHOTS = join(__dirname, '..', 'test-results', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const API_KEY = 'inv-key-7f3a';
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core (WCAG 2.1 A/AA and best practices) on a portal page as it is now (as portal-areas does). */
async function axe(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(() =>
    (window as unknown as { axe: { run(context: Document, options: unknown): Promise<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    }),
  );
  return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

/** The tenant's own API: an invoicing service keyed by X-Api-Key. `/me` names the account; `/invoices` lists invoices. */
async function startInvoicingApi(): Promise<{ url: string; port: number; seen: IncomingMessage[]; server: Server }> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    res.setHeader('content-type', 'application/json');
    if (req.headers['x-api-key'] !== API_KEY) return void res.writeHead(401).end(JSON.stringify({ error: 'unauthorized' }));
    if (req.url === '/v2/me') return void res.end(JSON.stringify({ id: 'org-42', company: 'Globex Ltd' }));
    if (req.url?.startsWith('/v2/invoices')) return void res.end(JSON.stringify({ invoices: [{ id: 'inv-1', total: 120 }, { id: 'inv-2', total: 80 }] }));
    res.writeHead(404).end(JSON.stringify({ error: 'not found' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, seen, server };
}

/** The host app's page: the widget snippet, init with a session, an "Integrations" button. */
function hostPage(api: string, token: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Globex portal</title>
<script>(function(w,d,s,u){w.Switchboard=w.Switchboard||function(){(w.Switchboard.q=w.Switchboard.q||[]).push(arguments)};var j=d.createElement(s);j.async=1;j.src=u;d.head.appendChild(j)})(window,document,'script','${api}/embed/v1/loader.js');</script>
</head><body style="font:15px system-ui;margin:24px"><h1>Globex</h1><button id="open" type="button">Manage integrations</button>
<script>Switchboard('init', { token: ${JSON.stringify(token)} }); document.getElementById('open').addEventListener('click', () => Switchboard('open'));</script></body></html>`;
}

async function startHost(page: () => string): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => (req.url?.startsWith('/host') ? res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page()) : res.writeHead(404).end()));
  await new Promise<void>((r) => server.listen(0, 'localhost', r));
  return { origin: `http://localhost:${(server.address() as AddressInfo).port}`, server };
}

/** A flow the host runs on request: list the end user's invoices through the custom provider. */
const INVOICES_FLOW = {
  key: 'fetch-invoices',
  name: 'Fetch invoices',
  description: 'Reads the open invoices from the invoicing API.',
  trigger: { type: 'request' },
  connectors: ['globex-invoicing'],
  inputs: {},
  steps: [{ id: 'list', type: 'request', connector: 'globex-invoicing', method: 'GET', path: 'invoices', query: { status: 'open' } }],
};

describe('custom providers in a browser', { timeout: 120_000 }, () => {
  let invoicing: Awaited<ReturnType<typeof startInvoicingApi>>;
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let browser: Browser;
  let host: { origin: string; server: Server };
  let hostToken = '';
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `custom-providers-${name}.png`), fullPage: true });

  /** A portal screen: no axe violations, then its picture. */
  async function screen(page: Page, name: string): Promise<void> {
    await page.locator('.toast').waitFor({ state: 'detached', timeout: 6000 });
    expect(await axe(page), `axe on ${name}`).toEqual([]);
    await shot(page, name);
  }

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, locale: 'en-US', deviceScaleFactor: 1 });
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    return { context, page };
  }

  /** Signs the tenant's owner in to the portal. */
  async function signInToPortal(page: Page): Promise<void> {
    await page.goto(`${api.url}/portal`);
    await page.getByLabel('Email', { exact: true }).fill(tenant.email);
    await page.getByLabel('Password', { exact: true }).fill(tenant.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Sections' }).waitFor();
  }

  /** In the portal: Custom providers → New provider, the form filled in, created; lands on the connector's settings. */
  async function createProviderInPortal(page: Page, p: { key: string; name: string; baseUrl: string }): Promise<void> {
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Custom providers' }).click();
    await page.getByRole('heading', { name: 'Custom providers', level: 1 }).waitFor();
    await page.getByText('No custom providers yet').waitFor();
    await screen(page, 'portal-empty');
    await page.getByRole('link', { name: 'New provider' }).click();
    await page.getByLabel('Key', { exact: true }).fill(p.key);
    await page.getByLabel('Name', { exact: true }).fill(p.name);
    await page.getByLabel('Description', { exact: true }).fill('Invoices and payments of our own billing system');
    await page.getByLabel('Category', { exact: true }).selectOption('finance');
    await page.getByLabel(/^Logo initials/).fill('GI');
    await page.getByLabel('Documentation URL', { exact: true }).fill('https://docs.globex.example/api');
    await page.getByLabel('How end users authenticate', { exact: true }).selectOption('api_key');
    await page.getByLabel('Header name', { exact: true }).fill('X-Api-Key');
    await page.getByLabel(/^Prefix/).fill('');
    // First with a plain-http URL to a host the allow-list does not permit: the error sits next to the field.
    await page.getByLabel('Base URL', { exact: true }).fill('http://billing.globex.example/v2');
    await page.getByLabel('Account check path', { exact: true }).fill('me');
    await page.getByLabel('Account id field', { exact: true }).fill('id');
    await page.getByLabel(/^Account name field/).fill('company');
    await page.getByRole('button', { name: 'Create provider' }).click();
    await page.getByText('must be an https:// URL').waitFor();
    await screen(page, 'portal-field-error');
    await page.getByLabel('Base URL', { exact: true }).fill(p.baseUrl);
    await page.getByRole('button', { name: 'Create provider' }).click();
    await page.getByRole('heading', { name: p.name, level: 1 }).waitFor();
  }

  /** On the connector's page in the portal: switch it on and save. */
  async function enableConnectorInPortal(page: Page, name: string): Promise<void> {
    await page.getByRole('switch', { name: 'Enabled' }).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText(`Saved ${name}`).waitFor();
  }

  /** In the widget on the host page: open, pick the provider, connect with the popup's API-key form. */
  async function connectInWidget(context: BrowserContext, page: Page, name: string, apiKey: string): Promise<void> {
    await page.goto(`${host.origin}/host`);
    await page.getByRole('button', { name: 'Manage integrations' }).click();
    const modal = page.getByRole('dialog', { name: 'Integrations' });
    await modal.getByRole('button', { name: new RegExp(`^${name} `) }).click();
    await modal.getByRole('heading', { name, exact: true }).waitFor();
    await shot(page, 'widget-integration');
    const [popup] = await Promise.all([context.waitForEvent('page'), modal.getByRole('button', { name: `Connect ${name}` }).click()]);
    await popup.getByLabel('Globex API key', { exact: true }).waitFor();
    await popup.screenshot({ path: join(SCREENSHOTS, 'custom-providers-popup-form.png') });
    const closed = popup.waitForEvent('close', { timeout: 30_000 });
    await popup.getByLabel('Globex API key', { exact: true }).fill(apiKey);
    await popup.getByRole('button', { name: 'Connect' }).click();
    await closed;
    await modal.getByText(/^Connected as /).waitFor();
    await shot(page, 'widget-connected');
  }

  /** In the widget, still open on the provider: turn a flow on. */
  async function turnFlowOnInWidget(page: Page, flowName: string): Promise<void> {
    const toggle = page.getByRole('dialog', { name: 'Integrations' }).getByRole('switch', { name: `Turn on ${flowName}` });
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('true');
    await shot(page, 'widget-flow-on');
  }

  async function waitForRun(id: string): Promise<{ status: string; output?: unknown; steps?: unknown }> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const run = (await tenant.host.get(`/v1/runs/${id}`)).body;
      if (!['queued', 'running'].includes(run.status) || Date.now() > deadline) return run;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    invoicing = await startInvoicingApi();
    api = await startApi({ OUTBOUND_ALLOWLIST: `127.0.0.1:${invoicing.port}` });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Globex');
    host = await startHost(() => hostPage(api.url, hostToken));
    expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [host.origin] })).status).toBe(200);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    if (host) await new Promise((r) => host.server.close(r));
    await worker?.close();
    await api?.close();
    if (invoicing) await new Promise((r) => invoicing.server.close(r));
  });

  it('an admin defines and enables a provider in the portal, an end user connects it in the widget, a flow request step through it succeeds', async () => {
    const provider = { key: 'globex-invoicing', name: 'Globex Invoicing', baseUrl: `${invoicing.url}/v2` };
    const admin = await newPage();
    await signInToPortal(admin.page);
    await createProviderInPortal(admin.page, provider);
    await enableConnectorInPortal(admin.page, provider.name);
    await shot(admin.page, 'portal-connector-enabled');
    // The API-key label is part of the definition: set it in the advanced editor, as an admin would for anything the form lacks.
    const [stored] = (await tenant.owner.get('/v1/admin/custom-providers')).body.data;
    await admin.page.goto(`${api.url}/portal/custom-providers/${stored.id}`);
    await admin.page.getByRole('button', { name: 'Advanced (JSON)' }).click();
    const editor = admin.page.getByLabel('Definition (JSON)', { exact: true });
    const definition = JSON.parse(await editor.inputValue());
    expect(definition).toMatchObject({ name: provider.name, baseUrl: provider.baseUrl, auth: { type: 'api_key', in: 'header', name: 'X-Api-Key' }, verify: { path: 'me', accountId: 'id', accountName: 'company' } });
    await editor.fill(JSON.stringify({ ...definition, auth: { ...definition.auth, label: 'Globex API key' } }, null, 2));
    await screen(admin.page, 'portal-advanced-editor');
    await admin.page.getByRole('button', { name: 'Save changes' }).click();
    await admin.page.getByRole('heading', { name: provider.name, level: 1 }).waitFor();
    await admin.page.goto(`${api.url}/portal/custom-providers`);
    await admin.page.locator(`tr[data-provider="${provider.key}"]`).waitFor();
    await screen(admin.page, 'portal-list');

    // The flow that uses it, published the usual way.
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition: INVOICES_FLOW })).status).toBe(201);
    expect((await tenant.owner.post(`/v1/admin/flow-templates/${INVOICES_FLOW.key}/publish`)).status).toBe(201);

    const endUserId = 'globex-user';
    hostToken = (await tenant.host.post('/v1/sessions', { endUserId })).body.token;
    const endUser = await newPage();
    await connectInWidget(endUser.context, endUser.page, provider.name, API_KEY);
    const [connection] = (await tenant.host.get(`/v1/end-users/${endUserId}/connections`)).body.data;
    expect(connection).toMatchObject({ connector: provider.key, accountName: 'Globex Ltd', status: 'active' });

    await turnFlowOnInWidget(endUser.page, INVOICES_FLOW.name);
    const started = await tenant.host.post(`/v1/flows/${INVOICES_FLOW.key}/runs`, { endUserId, input: {} });
    expect(started.status, JSON.stringify(started.body)).toBeLessThan(300);
    const run = await waitForRun(started.body.id);
    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    const call = invoicing.seen.find((r) => r.url === '/v2/invoices?status=open');
    expect(call?.headers['x-api-key']).toBe(API_KEY);

    await admin.page.goto(`${api.url}/portal/runs/${started.body.id}`);
    await admin.page.getByText('Succeeded').first().waitFor();
    await shot(admin.page, 'portal-run');
    expect(errors).toEqual([]);
  });
});
