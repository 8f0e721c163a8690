import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium';
import { addMember, createTenant, startApi, startWorker, type TenantFixture, type TestApi } from './harness';

/**
 * The portal's Alerts page in real Chromium: an admin adds a rule (told at the field what is wrong
 * first), the worker fires it, and the incident shows as firing; a viewer reads rules and incidents
 * without a way to change them. Screenshots land in test-results/screenshots/alerts-*.png.
 */
const SCREENSHOTS = join(__dirname, '..', 'test-results', 'screenshots');
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

async function axe(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(() =>
    (window as unknown as { axe: { run(context: Document, options: unknown): Promise<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe.run(
      document,
      {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      },
    ),
  );
  return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

describe('Alerts in the portal', { timeout: 180_000 }, () => {
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let viewer: { email: string; password: string };
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    api = await startApi({ ALERTS_INTERVAL_SECONDS: '1' });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Alerts Portal Co');
    viewer = await addMember(api, tenant, 'viewer');
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await worker?.close();
    await api?.close();
  });

  async function screen(page: Page, name: string): Promise<void> {
    await page.locator('.toast').waitFor({ state: 'detached', timeout: 6000 });
    await page.evaluate(() =>
      Promise.all(
        document
          .getAnimations()
          .filter((a) => a.effect?.getTiming().iterations !== Infinity)
          .map((a) => a.finished),
      ),
    );
    expect(await axe(page), `axe on ${name}`).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, `alerts-${name}.png`), fullPage: true });
  }

  async function signedIn(email: string, password: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, locale: 'en-US', deviceScaleFactor: 1 });
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await page.goto(`${api.url}/portal`);
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Sections' }).waitFor();
    return page;
  }

  async function fieldError(page: Page, label: string): Promise<string> {
    const input = page.getByLabel(label, { exact: true });
    await expect.poll(() => input.getAttribute('aria-invalid')).toBe('true');
    const ids = (await input.getAttribute('aria-describedby'))!.split(' ');
    return (await page.locator(`[id="${ids.find((id) => id.endsWith('-error'))}"]`).textContent()) ?? '';
  }

  it('an admin adds a rule, sees it fire; a viewer only reads', async () => {
    const page = await signedIn(tenant.email, tenant.password);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Alerts' }).click();
    await page.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
    await page.getByText('No alert rules yet').waitFor();

    await page.getByRole('link', { name: 'Add rule' }).click();
    await page.getByRole('heading', { name: 'New alert rule', level: 1 }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Token budget');
    await page.getByLabel('Kind', { exact: true }).selectOption('tenant_near_cap');
    await page.getByLabel('Window (minutes)').waitFor({ state: 'detached' });
    await page.getByLabel('% of the cap used', { exact: true }).fill('150');
    await page.getByRole('switch', { name: 'Webhook' }).check();
    await page.getByRole('button', { name: 'Add rule' }).click();
    expect(await fieldError(page, '% of the cap used')).toContain('percentage');
    await screen(page, 'errors');
    await page.getByLabel('% of the cap used', { exact: true }).fill('80');
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
    const row = page.locator('tr[data-alert-rule="Token budget"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('Webhook');

    // The cap reached: the worker opens an incident; the page shows it after a reload.
    expect((await tenant.owner.patch('/v1/admin/tenant', { monthlyTokenCap: 0 })).status).toBe(200);
    await expect.poll(async () => (await tenant.owner.get('/v1/admin/alert-incidents?status=firing')).body.data.length, { timeout: 20_000 }).toBe(1);
    await page.reload();
    await page.locator('tr[data-alert-incident="firing"]').waitFor();
    expect(await page.locator('tr[data-alert-incident="firing"]').textContent()).toContain('monthly_tokens');
    await screen(page, 'list');

    await row.getByRole('link', { name: 'Token budget' }).click();
    await page.getByRole('heading', { name: 'Edit alert rule', level: 1 }).waitFor();
    expect(await page.getByLabel('% of the cap used', { exact: true }).inputValue()).toBe('80');
    await screen(page, 'edit');

    const read = await signedIn(viewer.email, viewer.password);
    await read.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Alerts' }).click();
    await read.locator('tr[data-alert-rule="Token budget"]').waitFor();
    await read.locator('tr[data-alert-incident="firing"]').waitFor();
    expect(await read.getByRole('link', { name: 'Add rule' }).count()).toBe(0);
    expect(await read.locator('tr[data-alert-rule="Token budget"]').getByRole('link').count()).toBe(0);

    expect(errors).toEqual([]);
  });
});
