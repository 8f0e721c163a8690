import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connectors as deepConnectors } from '@switchboard/connectors';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium } from './chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module shared with bench/catalogue.mjs
import { writeSyntheticCatalogue } from '../../bench/synthetic-catalogue.mjs';
import { createTenant, startApi, type TenantFixture, type TestApi } from './harness';

/**
 * The widget and the portal with 160 connectors, all enabled (a generated catalogue through
 * CATALOGUE_DIR, until the real one is that big): search and category filters show exactly the
 * matching cards, keyboard and axe still pass, quick enable in the portal. Screenshots in
 * test-results/screenshots/catalogue-*.png.
 */

const COUNT = 160;
const SCREENSHOTS = join(__dirname, '..', 'test-results', 'screenshots');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface Item {
  key: string;
  name: string;
  description: string;
  categories: string[];
  authType: string;
}

const catalogueDir: string = writeSyntheticCatalogue(COUNT);
let api: TestApi;
let tenant: TenantFixture;
let browser: Browser;
let host: Server;
let hostOrigin: string;
let items: Item[];
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  process.env.CATALOGUE_DIR = catalogueDir;
  api = await startApi();
  tenant = await createTenant(api, 'Scale CRM');
  // The host app: a page with the snippet and an inline widget for the end user the query names.
  host = createServer((req, res) => {
    const token = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? '';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html lang="en"><head><title>Scale CRM</title>
<script>(function(w,d,s,u){w.Switchboard=w.Switchboard||function(){(w.Switchboard.q=w.Switchboard.q||[]).push(arguments)};var j=d.createElement(s);j.async=1;j.src=u;d.head.appendChild(j)})(window,document,'script','${api.url}/embed/v1/loader.js');
Switchboard('init', { token: ${JSON.stringify(token)} }); Switchboard('mount', '#inline');</script></head>
<body style="margin:0;font:15px system-ui"><main style="max-width:960px;margin:24px auto"><h1>Integrations</h1><div id="inline"></div></main></body></html>`);
  });
  await new Promise<void>((resolve) => host.listen(0, 'localhost', resolve));
  hostOrigin = `http://localhost:${(host.address() as AddressInfo).port}`;
  expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [hostOrigin] })).status).toBe(200);

  const listed = await tenant.owner.get('/v1/admin/connectors');
  expect(listed.status, JSON.stringify(listed.body).slice(0, 2000)).toBe(200);
  const available = listed.body.data as Item[];
  const catalogue = available.filter((c) => !Object.hasOwn(deepConnectors, c.key));
  expect(catalogue.length).toBeGreaterThanOrEqual(COUNT);
  for (const c of catalogue) {
    const oauth = c.authType.startsWith('oauth2');
    const res = await tenant.owner.put(`/v1/admin/connectors/${c.key}`, { enabled: true, ...(oauth ? { clientId: `app-${c.key}`, clientSecret: 'app-secret' } : {}) });
    expect(res.status, c.key).toBe(200);
  }
  items = catalogue;
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  if (host) await new Promise((resolve) => host.close(resolve));
  await api?.close();
  delete process.env.CATALOGUE_DIR;
  rmSync(catalogueDir, { recursive: true, force: true });
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 }, locale: 'en-US', deviceScaleFactor: 1 });
  contexts.push(context);
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  page.on('pageerror', (error) => {
    throw error;
  });
  return page;
}

const names = (list: Item[]) => list.map((i) => i.name).sort((a, b) => a.localeCompare(b));
/** What the widget's search box matches on (its name and description; category labels too, which these queries do not hit). */
const widgetFinds = (q: string) => items.filter((i) => `${i.name} ${i.description}`.toLowerCase().includes(q));
/** A category most entries have as a second one or later: filtering must not look at the first only. */
function sharedCategory(): string {
  const later = new Map<string, number>();
  for (const i of items) for (const c of i.categories.slice(1)) later.set(c, (later.get(c) ?? 0) + 1);
  const [best] = [...later].sort((a, b) => b[1] - a[1]);
  expect(best, 'no entry has a second category').toBeDefined();
  return best![0];
}
const LABELS: Record<string, string> = { crm: 'CRM', hr: 'HR', ai: 'AI' };
const label = (slug: string) => LABELS[slug] ?? (slug.charAt(0).toUpperCase() + slug.slice(1)).replace(/-/g, ' ');

describe('the widget with 160 connectors', { timeout: 120_000 }, () => {
  it('lists them all, and search and categories show exactly the matching ones; keyboard and axe still pass', async () => {
    const token = (await tenant.host.post('/v1/sessions', { endUserId: 'scale-alice' })).body.token as string;
    const listed = await fetch(`${api.url}/v1/me/integrations`, { headers: { authorization: `Bearer ${token}` } });
    const integrations = (await listed.json()).data as Array<{ key: string; logoUrl?: string; monogram?: { color: string; text: string } }>;
    expect(integrations).toHaveLength(items.length);
    // Catalogue logos are monograms the widget draws (no image per card); the URL is there for headless hosts.
    for (const i of integrations) {
      expect(i.monogram, i.key).toMatchObject({ color: expect.stringMatching(/^#[0-9a-fA-F]{6}$/), text: expect.stringMatching(/^[A-Za-z0-9]{1,3}$/) });
      expect(i.logoUrl, i.key).toMatch(/\/embed\/v1\/logos\/[a-z0-9-]+\.svg\?v=/);
    }

    const page = await newPage();
    await page.goto(`${hostOrigin}/?token=${encodeURIComponent(token)}`);
    const widget = page.locator('#inline');
    const visibleNames = async () => (await widget.locator('li:not([hidden]) .card .name').allTextContents()).sort((a, b) => a.localeCompare(b));
    // The first render loads the bundle and makes the widget's four API calls: on a loaded CI box, more than a second.
    await expect.poll(() => widget.locator('.card').count(), { timeout: 15_000 }).toBe(items.length);
    expect(await visibleNames()).toEqual(names(items));
    expect(await widget.locator('.logo.mono').count()).toBe(items.length);
    expect(await widget.locator('img').count()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'catalogue-widget-160.png') });

    // Search: by name, as you type.
    const search = widget.getByRole('searchbox', { name: 'Search integrations' });
    await search.fill('jira');
    const jira = widgetFinds('jira');
    expect(jira.length).toBeGreaterThan(0);
    expect(jira.length).toBeLessThan(items.length / 4);
    await expect.poll(visibleNames).toEqual(names(jira));
    await page.screenshot({ path: join(SCREENSHOTS, 'catalogue-widget-search.png') });

    // A category: every entry that has it (not only as its first), with and without a search.
    await search.fill('');
    const shared = sharedCategory();
    await widget
      .getByRole('group', { name: 'Categories' })
      .getByRole('button', { name: label(shared), exact: true })
      .click();
    const inCategory = items.filter((i) => i.categories.includes(shared));
    await expect.poll(visibleNames).toEqual(names(inCategory));
    const word = inCategory[0]!.name.toLowerCase();
    await search.fill(word);
    await expect.poll(visibleNames).toEqual(names(widgetFinds(word).filter((i) => i.categories.includes(shared))));
    await page.screenshot({ path: join(SCREENSHOTS, 'catalogue-widget-category.png') });

    // Nothing matches: a message, no cards.
    await search.fill('no-such-app');
    await widget.getByText('No integrations match “no-such-app”.').waitFor();
    expect(await visibleNames()).toEqual([]);
    await widget.getByRole('button', { name: 'All', exact: true }).click();
    await search.fill('');
    await expect.poll(() => widget.locator('li:not([hidden]) .card').count()).toBe(items.length);

    // Keyboard: into the search box, type, Tab to the first match, Enter opens it.
    await search.focus();
    await page.keyboard.type('gusto');
    const gusto = widgetFinds('gusto');
    await expect.poll(visibleNames).toEqual(names(gusto));
    let focusedName = '';
    for (let i = 0; i < 40 && !focusedName.startsWith(gusto[0]!.name); i++) {
      await page.keyboard.press('Tab');
      focusedName = await page.evaluate(() => {
        let el = document.activeElement;
        while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
        return (el?.querySelector('.name') ?? el)?.textContent?.trim() ?? '';
      });
    }
    expect(focusedName.startsWith(gusto.map((i) => i.name).sort((a, b) => a.localeCompare(b))[0]!)).toBe(true);
    await page.keyboard.press('Enter');
    await widget
      .getByRole('heading', { level: 2 })
      .filter({ hasText: /^Gusto/ })
      .first()
      .waitFor();

    // axe on the full catalogue of 160.
    await widget.getByRole('button', { name: 'All integrations' }).click();
    await widget.getByRole('searchbox', { name: 'Search integrations' }).fill('');
    await expect.poll(() => widget.locator('li:not([hidden]) .card').count()).toBe(items.length);
    await page.addScriptTag({ content: AXE });
    const violations = await page.evaluate(async () => {
      const result = await (globalThis as any).axe.run({ include: [['switchboard-widget']] }, { resultTypes: ['violations'] });
      return result.violations.map(
        (v: any) =>
          `${v.id}: ${v.help} (${v.nodes
            .map((n: any) => n.target.join(' '))
            .slice(0, 3)
            .join(', ')})`,
      );
    });
    expect(violations).toEqual([]);
  });
});

const screenshot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });

describe('the portal with 160+ connectors', { timeout: 120_000 }, () => {
  it('searches, filters by category and state, lists enabled ones first, and switches one on and off from the list', async () => {
    const page = await newPage();
    await page.goto(`${api.url}/portal`);
    await page.getByLabel('Email').fill(tenant.email);
    await page.getByLabel('Password').fill(tenant.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Connectors', exact: true }).click();
    await page.getByRole('heading', { name: 'Connectors', level: 1 }).waitFor();

    const total = (await tenant.owner.get('/v1/admin/connectors')).body.data.length as number;
    await page.getByText(`${items.length} of ${total} enabled`).waitFor();
    const cardNames = () => page.locator('.connector-card-name').allTextContents();
    // Enabled first: every enabled connector comes before the first one that is off (the deep ones here).
    const all = await cardNames();
    expect(all).toHaveLength(total);
    expect(all.slice(0, items.length).sort((a, b) => a.localeCompare(b))).toEqual(names(items));
    await screenshot(page, 'catalogue-portal-160');

    // Search, then a category, then only those off; kept in the URL.
    await page.getByRole('searchbox', { name: 'Search' }).fill('jira');
    const everything = (await tenant.owner.get('/v1/admin/connectors')).body.data as Item[];
    const jira = everything.filter((i) => `${i.name} ${i.key} ${i.description}`.toLowerCase().includes('jira'));
    await expect.poll(async () => (await cardNames()).sort((a, b) => a.localeCompare(b))).toEqual(names(jira));
    expect(new URL(page.url()).searchParams.get('q')).toBe('jira');
    await page.getByRole('searchbox', { name: 'Search' }).fill('');
    const shared = sharedCategory();
    await page.getByLabel('Category').selectOption(shared);
    await expect.poll(async () => (await cardNames()).sort((a, b) => a.localeCompare(b))).toEqual(names(everything.filter((c) => c.categories.includes(shared))));
    // Every catalogue entry is on: only the deep connectors of that category are off.
    await page.getByLabel('Show').selectOption('off');
    const offThere = everything.filter((c) => c.categories.includes(shared) && !items.some((i) => i.key === c.key));
    if (offThere.length === 0) await page.getByRole('heading', { name: 'No connector matches these filters' }).waitFor();
    else await expect.poll(async () => (await cardNames()).sort((a, b) => a.localeCompare(b))).toEqual(names(offThere));
    await screenshot(page, 'catalogue-portal-filtered');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(async () => (await cardNames()).length).toBe(total);

    // Quick switch: Stripe (an API key) on from the list; then off, after the confirmation.
    const stripe = page.getByRole('switch', { name: 'Stripe enabled' });
    expect(await stripe.isChecked()).toBe(false);
    await stripe.check();
    await expect.poll(async () => (await tenant.owner.get('/v1/admin/connectors/stripe')).body.config.enabled).toBe(true);
    await expect.poll(() => stripe.isChecked()).toBe(true);
    // Now among the enabled ones, which come first.
    expect((await cardNames()).slice(0, items.length + 1)).toContain('Stripe');
    await stripe.click(); // stays on until confirmed
    expect(await stripe.isChecked()).toBe(true);
    const dialog = page.getByRole('dialog', { name: 'Switch Stripe off?' });
    await dialog.getByRole('button', { name: 'Switch off' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(async () => (await tenant.owner.get('/v1/admin/connectors/stripe')).body.config.enabled).toBe(false);

    // An OAuth connector without its app's credentials: its page, which says what is missing.
    await page.getByRole('switch', { name: 'Slack enabled' }).click();
    await page.getByRole('heading', { name: 'Slack', level: 1 }).waitFor();
    expect((await tenant.owner.get('/v1/admin/connectors/slack')).body.config.enabled).toBe(false);

    // A client-credentials connector asks the tenant for no app: its end users bring their own API client.
    const clientCredentials = everything.find((c) => c.authType === 'oauth2_client_credentials');
    expect(clientCredentials, 'the catalogue has a client-credentials provider').toBeDefined();
    await page.goto(`${api.url}/portal/connectors/${clientCredentials!.key}`);
    await page.getByRole('heading', { name: clientCredentials!.name, level: 1 }).waitFor();
    await page.getByText('Each end user enters the client ID and secret of an API client').waitFor();
    expect(await page.getByLabel('Client secret').count()).toBe(0);
  });
});
