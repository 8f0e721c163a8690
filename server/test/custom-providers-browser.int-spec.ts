import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium } from './chromium';
import { stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startApi, startWorker, type TenantFixture, type TestApi, until } from './harness';
import { newPage, screen, SCREENSHOTS, signIn } from './portal-browser';

/**
 * A custom provider and its OpenAPI document, from the portal to a flow run, in real Chromium: an
 * admin describes the tenant's own API in the portal and enables it, uploads the API's OpenAPI
 * document on the provider's connector page (its operations become actions, its customer listing
 * an option source), and authors a flow whose `action` step is an imported operation; an end user
 * connects in the widget on the host app's page (the API-key form in the popup), picks a customer
 * from the imported listing in the flow's settings and turns it on; the run's output is what the
 * API answered. Then the panel's other paths on the same connector: a cyclic document refused
 * naming the $ref, option fields changed, a document by URL, removal. Screenshots land in
 * test-results/screenshots/custom-providers-*.png.
 */

const API_KEY = 'inv-key-7f3a';

const CUSTOMERS = [
  { id: 'cus-1', name: 'Initech' },
  { id: 'cus-2', name: 'Umbrella Corp' },
];
const INVOICES = [
  { id: 'inv-1', customer: 'cus-1', total: 120, status: 'open' },
  { id: 'inv-2', customer: 'cus-2', total: 80, status: 'open' },
  { id: 'inv-3', customer: 'cus-2', total: 45.5, status: 'paid' },
  { id: 'inv-4', customer: 'cus-2', total: 300, status: 'open' },
];

const invoice = {
  type: 'object',
  properties: { id: { type: 'string' }, customer: { type: 'string' }, total: { type: 'number' }, status: { type: 'string', enum: ['open', 'paid'] } },
};
/** The invoicing API's own description, as its team would publish it (paths relative to the provider's base URL). */
const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: { title: 'Globex Invoicing API', version: '2.4' },
  servers: [{ url: 'https://billing.globex.example/v2' }],
  paths: {
    '/customers': {
      get: {
        operationId: 'listCustomers',
        summary: 'List customers',
        parameters: [{ name: 'q', in: 'query', schema: { type: 'string' } }],
        responses: {
          '200': {
            description: 'ok',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { customers: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } } } },
                },
              },
            },
          },
        },
      },
    },
    '/invoices': {
      get: {
        operationId: 'listInvoices',
        summary: 'List invoices of a customer',
        parameters: [
          { name: 'customer', in: 'query', required: true, schema: { type: 'string' } },
          { name: 'status', in: 'query', schema: { type: 'string', enum: ['open', 'paid'] } },
        ],
        responses: { '200': { description: 'ok', content: { 'application/json': { schema: { type: 'object', properties: { invoices: { type: 'array', items: invoice } } } } } } },
      },
    },
    '/invoices/{id}/scan': {
      put: {
        summary: 'Attach a scan',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { required: true, content: { 'image/png': {} } },
        responses: { '204': { description: 'ok' } },
      },
    },
  },
};
const CYCLIC_DOCUMENT = {
  openapi: '3.0.3',
  info: { title: 'Tree', version: '1' },
  paths: { '/nodes': { get: { responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } } } } } } },
  components: { schemas: { Node: { type: 'object', properties: { next: { $ref: '#/components/schemas/Node' } } } } },
};

/**
 * The tenant's own API: an invoicing service keyed by X-Api-Key. `/me` names the account,
 * `/customers` and `/invoices` list; its OpenAPI document is served without a key.
 */
async function startInvoicingApi(): Promise<{ url: string; port: number; seen: IncomingMessage[]; answered: Map<string, unknown>; server: Server }> {
  const seen: IncomingMessage[] = [];
  const answered = new Map<string, unknown>();
  const server = createServer((req, res) => {
    seen.push(req);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/docs/openapi.yaml')
      return void res.writeHead(200, { 'content-type': 'application/yaml' }).end(toYaml({ ...OPENAPI_DOCUMENT, info: { ...OPENAPI_DOCUMENT.info, version: '2.5' } }));
    res.setHeader('content-type', 'application/json');
    if (req.headers['x-api-key'] !== API_KEY) return void res.writeHead(401).end(JSON.stringify({ error: 'unauthorized' }));
    const answer = (body: unknown) => {
      answered.set(req.url!, body);
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/v2/me') return answer({ id: 'org-42', company: 'Globex Ltd' });
    if (url.pathname === '/v2/customers') {
      const q = url.searchParams.get('q')?.toLowerCase();
      return answer({ customers: CUSTOMERS.filter((c) => !q || c.name.toLowerCase().includes(q)) });
    }
    if (url.pathname === '/v2/invoices') {
      const [customer, status] = [url.searchParams.get('customer'), url.searchParams.get('status')];
      if (!customer) return void res.writeHead(400).end(JSON.stringify({ error: 'customer is required' }));
      return answer({ invoices: INVOICES.filter((i) => i.customer === customer && (!status || i.status === status)) });
    }
    res.writeHead(404).end(JSON.stringify({ error: 'not found' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, seen, answered, server };
}

/** The host app's page: the widget snippet, init with a session, an "Integrations" button. */
function hostPage(api: string, token: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Globex portal</title>
<script>(function(w,d,s,u){w.Switchboard=w.Switchboard||function(){(w.Switchboard.q=w.Switchboard.q||[]).push(arguments)};var j=d.createElement(s);j.async=1;j.src=u;d.head.appendChild(j)})(window,document,'script','${api}/embed/v1/loader.js');</script>
</head><body style="font:15px system-ui;margin:24px"><h1>Globex</h1><button id="open" type="button">Manage integrations</button>
<script>Switchboard('init', { token: ${JSON.stringify(token)} }); document.getElementById('open').addEventListener('click', () => Switchboard('open'));</script></body></html>`;
}

async function startHost(page: () => string): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) =>
    req.url?.startsWith('/host') ? res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page()) : res.writeHead(404).end(),
  );
  await new Promise<void>((r) => server.listen(0, 'localhost', r));
  return { origin: `http://localhost:${(server.address() as AddressInfo).port}`, server };
}

/** A flow the host runs on request: the open invoices of the customer the end user picked, through an imported operation. */
const INVOICES_FLOW = {
  key: 'fetch-invoices',
  name: 'Fetch invoices',
  description: 'Reads the open invoices of a customer from the invoicing API.',
  trigger: { type: 'request' },
  connectors: ['globex-invoicing'],
  inputs: { customer: { type: 'string', title: 'Customer', required: true, options: { connector: 'globex-invoicing', source: 'list_customers' } } },
  steps: [{ id: 'list', type: 'action', connector: 'globex-invoicing', action: 'list_invoices', input: { customer: '=$inputs.customer', status: 'open' } }],
};

describe('custom providers in a browser', { timeout: 240_000 }, () => {
  let invoicing: Awaited<ReturnType<typeof startInvoicingApi>>;
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let browser: Browser;
  let host: { origin: string; server: Server };
  let hostToken = '';
  const errors: string[] = [];

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `custom-providers-${name}.png`), fullPage: true });

  /** In the portal: Custom providers → New provider, the form filled in, created; lands on the connector's settings. */
  async function createProviderInPortal(page: Page, p: { key: string; name: string; baseUrl: string }): Promise<void> {
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Custom providers' }).click();
    await page.getByRole('heading', { name: 'Custom providers', level: 1 }).waitFor();
    await page.getByText('No custom providers yet').waitFor();
    await screen(page, 'custom-providers-portal-empty');
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
    await screen(page, 'custom-providers-portal-field-error');
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

  /**
   * On the provider's connector page: upload the API's OpenAPI document (a file, read into the
   * paste box) and import it; its operations are listed as actions, what could not be imported is said.
   */
  async function importOpenApiInPortal(page: Page): Promise<void> {
    const panel = page.getByRole('region', { name: 'OpenAPI actions' });
    await panel.getByRole('heading', { name: 'Import a document' }).waitFor();
    await panel.getByLabel(/^Or choose a file/).setInputFiles({ name: 'invoicing.yaml', mimeType: 'application/yaml', buffer: Buffer.from(toYaml(OPENAPI_DOCUMENT)) });
    await expect.poll(() => panel.getByLabel('Document (JSON or YAML)').inputValue()).toContain('Globex Invoicing API');
    await panel.getByRole('button', { name: 'Import' }).click();
    const table = panel.getByRole('table', { name: 'Imported actions' });
    await table.waitFor();
    expect(await table.getByRole('rowheader').allTextContents()).toEqual(['list_customersList customers', 'list_invoicesList invoices of a customer']);
    await table
      .getByRole('row', { name: /list_customers/ })
      .getByText('value id, label name')
      .waitFor();
    await panel.getByText('PUT /invoices/{id}/scan: its request body is image/png; only JSON bodies are supported, so it was not imported').waitFor();
    // The About card lists them with the connector's own actions.
    await page.getByRole('complementary').getByText('list_invoices').waitFor();
    await screen(page, 'custom-providers-openapi-imported');
  }

  /** In the portal: Flows → a new flow, its definition pasted into the editor (checked there), published. */
  async function authorFlowInPortal(page: Page, definition: typeof INVOICES_FLOW): Promise<void> {
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Flows', exact: true }).click();
    await page.getByRole('heading', { name: 'Flows', level: 1 }).waitFor();
    await page.getByLabel('Name').fill(definition.name);
    expect(await page.getByLabel('Key').inputValue()).toBe(definition.key);
    await page.getByRole('button', { name: 'Create flow' }).click();
    await page.getByRole('heading', { name: definition.name, level: 1 }).waitFor();
    const editor = page.getByLabel('Flow definition (JSON)');
    // An imported action's input schema is known to the editor's check: the required customer is asked for.
    const { customer: _dropped, ...withoutCustomer } = definition.steps[0].input;
    await editor.fill(JSON.stringify({ ...definition, steps: [{ ...definition.steps[0], input: withoutCustomer }] }, null, 2));
    await page.locator('.problem').filter({ hasText: 'steps.0.input' }).filter({ hasText: 'customer' }).waitFor();
    await editor.fill(JSON.stringify(definition, null, 2));
    await page.locator('.editor-status').getByText('Valid').waitFor();
    await page.locator('.outline').getByText('globex-invoicing → list_invoices').waitFor();
    await screen(page, 'custom-providers-portal-flow-editor');
    await page.getByRole('button', { name: 'Publish version 1' }).click();
    await page.getByText('Published version 1').waitFor();
  }

  /** In the widget, still open on the provider: turn the flow on, picking the customer from the imported listing. */
  async function turnFlowOnInWidget(page: Page, flowName: string, customer: string): Promise<void> {
    const modal = page.getByRole('dialog', { name: 'Integrations' });
    const toggle = modal.getByRole('switch', { name: `Turn on ${flowName}` });
    await toggle.click();
    const picker = modal.getByRole('combobox', { name: /Customer/ });
    await picker.click();
    await modal.getByRole('option', { name: 'Initech' }).waitFor();
    // Search goes to the listing's `q` parameter.
    await picker.fill(customer.slice(0, 4));
    const option = modal.getByRole('option', { name: customer });
    await option.waitFor();
    await expect.poll(() => modal.getByRole('option').count()).toBe(1);
    await shot(page, 'widget-settings-options');
    await option.click();
    expect(await picker.inputValue()).toBe(customer);
    await modal.getByRole('button', { name: 'Turn on', exact: true }).click();
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('true');
    await shot(page, 'widget-flow-on');
  }

  async function waitForRun(id: string): Promise<{ status: string; result?: unknown; steps?: unknown }> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const run = (await tenant.host.get(`/v1/runs/${id}`)).body;
      if (!['queued', 'running'].includes(run.status) || Date.now() > deadline) return run;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    invoicing = await startInvoicingApi();
    api = await startApi({ OUTBOUND_ALLOWLIST: `127.0.0.1:${invoicing.port}` });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Globex');
    host = await startHost(() => hostPage(api.url, hostToken));
    expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [host.origin] })).status).toBe(200);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    if (host) await new Promise((r) => host.server.close(r));
    await worker?.close();
    await api?.close();
    if (invoicing) await new Promise((r) => invoicing.server.close(r));
  });

  it('an admin defines a provider and imports its OpenAPI document in the portal, an end user connects and picks from an imported listing in the widget, a flow action step through an imported operation succeeds', async () => {
    const provider = { key: 'globex-invoicing', name: 'Globex Invoicing', baseUrl: `${invoicing.url}/v2` };
    const admin = await newPage(browser, errors);
    await signIn(admin, `${api.url}/portal`, tenant);
    await createProviderInPortal(admin, provider);
    await enableConnectorInPortal(admin, provider.name);
    await shot(admin, 'portal-connector-enabled');
    await importOpenApiInPortal(admin);
    const imported = (await tenant.owner.get(`/v1/admin/connectors/${provider.key}/openapi`)).body;
    expect(imported).toMatchObject({ connectorKey: provider.key, title: 'Globex Invoicing API', version: '2.4', url: null });
    expect((await tenant.owner.get(`/v1/admin/connectors/${provider.key}`)).body.optionSources).toEqual(['list_customers']);

    // The API-key label is part of the definition: set it in the advanced editor, as an admin would for anything the form lacks.
    const [stored] = (await tenant.owner.get('/v1/admin/custom-providers')).body.data;
    await admin.goto(`${api.url}/portal/custom-providers/${stored.id}`);
    await admin.getByRole('button', { name: 'Advanced (JSON)' }).click();
    const editor = admin.getByLabel('Definition (JSON)', { exact: true });
    // The editor is filled once the stored definition has loaded.
    const definition = JSON.parse(await until('the definition in the editor', async () => (await editor.inputValue()) || undefined));
    expect(definition).toMatchObject({
      name: provider.name,
      baseUrl: provider.baseUrl,
      auth: { type: 'api_key', in: 'header', name: 'X-Api-Key' },
      verify: { path: 'me', accountId: 'id', accountName: 'company' },
    });
    await editor.fill(JSON.stringify({ ...definition, auth: { ...definition.auth, label: 'Globex API key' } }, null, 2));
    await screen(admin, 'custom-providers-portal-advanced-editor');
    await admin.getByRole('button', { name: 'Save changes' }).click();
    await admin.getByRole('heading', { name: provider.name, level: 1 }).waitFor();
    // Replacing the definition keeps the imported actions.
    await admin.getByRole('region', { name: 'OpenAPI actions' }).getByRole('table', { name: 'Imported actions' }).waitFor();
    await admin.goto(`${api.url}/portal/custom-providers`);
    await admin.locator(`tr[data-provider="${provider.key}"]`).waitFor();
    await screen(admin, 'custom-providers-portal-list');

    await authorFlowInPortal(admin, INVOICES_FLOW);

    const endUserId = 'globex-user';
    hostToken = (await tenant.host.post('/v1/sessions', { endUserId })).body.token;
    const endUser = await newPage(browser, errors);
    await connectInWidget(endUser.context(), endUser, provider.name, API_KEY);
    const [connection] = (await tenant.host.get(`/v1/end-users/${endUserId}/connections`)).body.data;
    expect(connection).toMatchObject({ connector: provider.key, accountName: 'Globex Ltd', status: 'active' });

    await turnFlowOnInWidget(endUser, INVOICES_FLOW.name, 'Umbrella Corp');
    const instance = (await tenant.host.get(`/v1/end-users/${endUserId}/flows`)).body.data.find((f: { key: string }) => f.key === INVOICES_FLOW.key).instance;
    expect(instance).toMatchObject({ enabled: true, settings: { customer: 'cus-2' } });
    expect(invoicing.seen.some((r) => r.url === '/v2/customers?q=Umbr')).toBe(true);

    const started = await tenant.host.post(`/v1/flows/${INVOICES_FLOW.key}/runs`, { endUserId, input: {} });
    expect(started.status, JSON.stringify(started.body)).toBeLessThan(300);
    const run = await waitForRun(started.body.id);
    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    // The imported operation called the API through the connection, with the picked customer; the run's output is its answer.
    const call = invoicing.seen.find((r) => r.url === '/v2/invoices?customer=cus-2&status=open');
    expect(call?.headers['x-api-key']).toBe(API_KEY);
    const answer = invoicing.answered.get('/v2/invoices?customer=cus-2&status=open');
    expect(answer).toEqual({ invoices: [INVOICES[1], INVOICES[3]] });
    expect(run.result).toEqual(answer);

    await admin.goto(`${api.url}/portal/runs/${started.body.id}`);
    await admin.getByText('Succeeded').first().waitFor();
    const step = admin.locator('.timeline-step[data-step="list"]');
    await step.locator('summary').click();
    expect(JSON.parse(await step.getByLabel('Output of list').innerText())).toEqual(answer);
    await screen(admin, 'custom-providers-portal-run');
    expect(errors).toEqual([]);
  });

  it("on the provider's connector page: refuses a cyclic document naming the $ref, changes option fields, imports by URL, removes the document", async () => {
    const key = 'globex-invoicing';
    const page = await newPage(browser, errors);
    await signIn(page, `${api.url}/portal`, tenant);
    await page.goto(`${api.url}/portal/connectors/${key}`);
    const panel = page.getByRole('region', { name: 'OpenAPI actions' });
    const table = panel.getByRole('table', { name: 'Imported actions' });
    await table.waitFor();

    // A broken replacement is refused and the imported actions stay.
    await panel.getByLabel('Document (JSON or YAML)').fill(toYaml(CYCLIC_DOCUMENT));
    await panel.getByRole('button', { name: 'Import' }).click();
    await panel.getByText('Not imported', { exact: true }).waitFor();
    await panel.getByText('#/components/schemas/Node/properties/next').first().waitFor();
    await screen(page, 'custom-providers-openapi-cyclic-refused');
    expect((await tenant.owner.get(`/v1/admin/connectors/${key}/openapi`)).body.title).toBe('Globex Invoicing API');

    // Other fields of the listing give the options; a bad path is refused next to its field.
    await panel.getByRole('button', { name: 'Change fields of list_customers' }).click();
    const fields = panel.getByRole('form', { name: 'Option fields' });
    await fields.getByLabel('Label').fill('name with spaces');
    await fields.getByRole('button', { name: 'Save fields' }).click();
    await fields.getByText('must be a dot path').waitFor();
    await screen(page, 'custom-providers-openapi-option-fields');
    await fields.getByLabel('Label').fill('id');
    await fields.getByRole('button', { name: 'Save fields' }).click();
    await table.getByText('label id').waitFor();
    expect((await tenant.owner.get(`/v1/admin/connectors/${key}/openapi`)).body.operations[0].optionSource).toEqual({
      itemsPath: 'customers',
      valuePath: 'id',
      labelPath: 'id',
      searchParam: 'q',
    });
    await panel.getByRole('button', { name: 'Do not offer as options' }).click();
    await panel.getByRole('button', { name: 'Offer as options again' }).waitFor();
    expect((await tenant.owner.get(`/v1/admin/connectors/${key}`)).body.optionSources).toEqual([]);

    // By URL: the newer version replaces it; the admin's choice for list_customers stays.
    await panel.getByRole('radio', { name: 'From a URL' }).click();
    await panel.getByLabel('Document URL').fill(`${invoicing.url}/docs/openapi.yaml`);
    await panel.getByRole('button', { name: 'Import' }).click();
    await panel.getByText('v2.5').waitFor();
    await panel.getByText(`${invoicing.url}/docs/openapi.yaml`).waitFor();
    await panel.getByRole('button', { name: 'Offer as options again' }).waitFor();
    await screen(page, 'custom-providers-openapi-by-url');

    await panel.getByRole('button', { name: 'Remove document' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
    await panel.getByRole('heading', { name: 'Import a document' }).waitFor();
    expect((await tenant.owner.get(`/v1/admin/connectors/${key}/openapi`)).status).toBe(404);
    expect((await tenant.owner.get(`/v1/admin/connectors/${key}`)).body.actions).toEqual([]);
    expect(errors).toEqual([]);
  });
});
