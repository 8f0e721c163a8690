import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePortalDist } from '../src/portal/portal-files';
import { createTenant, startApi, type TenantFixture, type TestApi } from './harness';

/**
 * The connector page's OpenAPI panel in Chromium: a pasted cyclic document is refused naming the
 * $ref; a pasted one becomes actions listed with their operations; a listing is turned off as an
 * option source; a document by URL replaces it; removing it takes the actions away.
 */
const SCREENSHOTS = join(__dirname, '..', 'test-results', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const pet = { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } } };
const DOCUMENT = {
  openapi: '3.1.0',
  info: { title: 'Pets API', version: '3.0' },
  paths: {
    '/pets': {
      get: { operationId: 'listPets', summary: 'List pets', responses: { '200': { description: 'ok', content: { 'application/json': { schema: { type: 'array', items: pet } } } } } },
      post: { operationId: 'createPet', summary: 'Create a pet', requestBody: { content: { 'application/json': { schema: pet } } }, responses: { '201': { description: 'ok' } } },
    },
    '/pets/{id}/photo': { put: { summary: 'Upload a photo', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], requestBody: { required: true, content: { 'image/png': {} } }, responses: { '204': { description: 'ok' } } } },
  },
};
const CYCLIC = {
  openapi: '3.0.3',
  info: { title: 'Tree', version: '1' },
  paths: { '/nodes': { get: { responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } } } } } } },
  components: { schemas: { Node: { type: 'object', properties: { next: { $ref: '#/components/schemas/Node' } } } } },
};

let api: TestApi;
let browser: Browser;
let tenant: TenantFixture;
let docs: Server;
let docsPort: number;

async function screen(page: Page, name: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(() =>
    (window as unknown as { axe: { run(context: Document, options: unknown): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    }),
  );
  expect(result.violations.map((v) => `${v.id} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), `axe on ${name}`).toEqual([]);
  await page.screenshot({ path: join(SCREENSHOTS, `openapi-${name}.png`), fullPage: true });
}

beforeAll(async () => {
  if (!existsSync(join(resolvePortalDist(), 'index.html'))) throw new Error('The portal is not built: run `npm run build` first');
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  docs = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/yaml' }).end(toYaml({ ...DOCUMENT, info: { title: 'Pets API by URL', version: '3.1' } })));
  await new Promise<void>((r) => docs.listen(0, '127.0.0.1', r));
  docsPort = (docs.address() as AddressInfo).port;
  api = await startApi({ OUTBOUND_ALLOWLIST: `127.0.0.1:${docsPort}` });
  tenant = await createTenant(api, 'Pets Portal Co');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await new Promise<void>((r) => (docs ? docs.close(() => r()) : r()));
});

describe('connector page: OpenAPI actions', () => {
  it('imports a pasted document and one by URL, shows the actions, refuses a cyclic one naming the $ref', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${api.url}/portal`);
    await page.getByLabel('Email').fill(tenant.email);
    await page.getByLabel('Password').fill(tenant.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Sections' }).waitFor();
    await page.goto(`${api.url}/portal/connectors/http`);
    const panel = page.getByRole('region', { name: 'OpenAPI actions' });
    await panel.waitFor();

    const documentField = panel.getByLabel('Document (JSON or YAML)');
    await documentField.fill(toYaml(CYCLIC));
    await panel.getByRole('button', { name: 'Import' }).click();
    await panel.getByText('Not imported').waitFor();
    await panel.getByText('#/components/schemas/Node/properties/next').first().waitFor();
    await screen(page, 'cyclic-refused');

    await documentField.fill(JSON.stringify(DOCUMENT, null, 2));
    await panel.getByRole('button', { name: 'Import' }).click();
    const table = panel.getByRole('table', { name: 'Imported actions' });
    await table.waitFor();
    await expect(table.getByRole('rowheader').allTextContents()).resolves.toEqual(['list_petsList pets', 'create_petCreate a pet']);
    await panel.getByText('PUT /pets/{id}/photo: its request body is image/png; only JSON bodies are supported, so it was not imported').waitFor();
    await screen(page, 'imported');
    // The About card lists them with the connector's own actions.
    await page.getByRole('complementary').getByText('create_pet').waitFor();

    // The admin picks other fields; a bad path is refused next to its field.
    await panel.getByRole('button', { name: 'Change fields of list_pets' }).click();
    const fields = panel.getByRole('form', { name: 'Option fields' });
    await fields.getByLabel('Label').fill('name with spaces');
    await fields.getByRole('button', { name: 'Save fields' }).click();
    await fields.getByText('must be a dot path').waitFor();
    await screen(page, 'option-fields');
    await fields.getByLabel('Label').fill('id');
    await fields.getByRole('button', { name: 'Save fields' }).click();
    await table.getByText('label id').waitFor();
    expect((await tenant.owner.get('/v1/admin/connectors/http/openapi')).body.operations[0].optionSource).toEqual({ itemsPath: '', valuePath: 'id', labelPath: 'id' });

    await panel.getByRole('button', { name: 'Do not offer as options' }).click();
    await panel.getByRole('button', { name: 'Offer as options again' }).waitFor();
    expect((await tenant.owner.get('/v1/admin/connectors/http')).body.optionSources).toEqual([]);

    await panel.getByRole('radio', { name: 'From a URL' }).click();
    await panel.getByLabel('Document URL').fill(`http://127.0.0.1:${docsPort}/openapi.yaml`);
    await panel.getByRole('button', { name: 'Import' }).click();
    await panel.getByText('Pets API by URL').waitFor();
    await panel.getByText(`http://127.0.0.1:${docsPort}/openapi.yaml`).waitFor();
    await screen(page, 'by-url');

    await panel.getByRole('button', { name: 'Remove document' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
    await panel.getByRole('heading', { name: 'Import a document' }).waitFor();
    expect((await tenant.owner.get('/v1/admin/connectors/http/openapi')).status).toBe(404);
    expect(errors).toEqual([]);
    await context.close();
  });
});
