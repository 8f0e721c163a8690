/**
 * A catalogue provider whose URLs need connection config (a subdomain), connected in real
 * Chromium: the popup asks for the config, continues to the provider's sign-in (the sandbox's),
 * and comes back connected. Screenshots land in test-results/screenshots/catalogue-*.png.
 */
import { catalogueConnectors } from '@switchboard/connectors';
import { type Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser } from 'playwright-core';
import { launchChromium } from './chromium';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTenant, startApi, type TenantFixture, type TestApi } from './harness';

const SCREENSHOTS = join(__dirname, '..', 'test-results', 'screenshots');

// The first OAuth entry that asks the end user for config before signing in (Zendesk's subdomain).
const entry = Object.values(catalogueConnectors()).find(
  (c) => c.auth.type === 'oauth2' && Object.values(c.connectionConfig ?? {}).some((f) => !f.fromToken && !f.fromCallback && !f.fromAccount && f.example),
);

let sandbox: Sandbox;
let api: TestApi;
let tenant: TenantFixture;
let browser: Browser;

beforeAll(async () => {
  if (!entry) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  sandbox = await startSandbox();
  api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
  tenant = await createTenant(api, 'Browser Catalogue Co');
  expect((await tenant.owner.put(`/v1/admin/connectors/${entry.key}`, { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await api?.close();
  await sandbox?.close();
});

it.runIf(entry)('asks for the config, continues to the provider and comes back connected', async () => {
  const connector = entry!;
  const token = (await tenant.host.post('/v1/sessions', { endUserId: 'browser-user' })).body.token as string;
  const page = await browser.newPage({ viewport: { width: 500, height: 640 } });
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  await page.goto(`${api.url}/connect/${connector.key}?${new URLSearchParams({ session: token })}`);
  const fields = Object.entries(connector.connectionConfig!).filter(([, f]) => !f.fromToken && !f.fromCallback && !f.fromAccount);
  for (const [name, field] of fields) await page.fill(`input[name="config.${name}"]`, field.example ?? field.default ?? 'acme');
  await page.screenshot({ path: join(SCREENSHOTS, 'catalogue-config-step.png') });
  await page.click('button[type=submit]');
  await page.waitForSelector('#sandbox-allow');
  // The sign-in page is at the host built from the config, as the provider's would be.
  for (const [, field] of fields) if (field.example) expect(decodeURIComponent(page.url())).toContain(field.example);
  await page.screenshot({ path: join(SCREENSHOTS, 'catalogue-provider-consent.png') });
  await page.click('#sandbox-allow');
  await page.waitForSelector('#switchboard-result', { state: 'attached' });
  const result = JSON.parse((await page.textContent('#switchboard-result'))!);
  expect(result.message).toMatchObject({ status: 'connected', connector: connector.key });
  await page.screenshot({ path: join(SCREENSHOTS, 'catalogue-connected.png') });
  // No CSP violation on the way (a form redirecting off-origin would be one).
  expect(problems.filter((p) => /Content Security Policy/.test(p))).toEqual([]);
  const [connection] = (await tenant.host.get('/v1/end-users/browser-user/connections')).body.data;
  expect(connection).toMatchObject({ connector: connector.key, status: 'active' });
});
