import { type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium';
import { addMember, createTenant, startApi, startWorker, type TenantFixture, type TestApi } from './harness';
import { fieldError, screen, signedIn } from './portal-browser';

/**
 * The portal's Alerts page in real Chromium: an admin adds a rule (told at the field what is wrong
 * first), the worker fires it, and the incident shows as firing; a viewer reads rules and incidents
 * without a way to change them. Screenshots land in test-results/screenshots/alerts-*.png.
 */

describe('Alerts in the portal', { timeout: 180_000 }, () => {
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let viewer: { email: string; password: string };
  let browser: Browser;
  const errors: string[] = [];

  beforeAll(async () => {
    api = await startApi({ ALERTS_INTERVAL_SECONDS: '1' });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Alerts Portal Co');
    viewer = await addMember(api, tenant, 'viewer');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.close();
    await api?.close();
  });

  it('an admin adds a rule, sees it fire; a viewer only reads', async () => {
    const page = await signedIn(browser, errors, api.url, tenant);
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
    await screen(page, 'alerts-errors');
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
    await screen(page, 'alerts-list');

    await row.getByRole('link', { name: 'Token budget' }).click();
    await page.getByRole('heading', { name: 'Edit alert rule', level: 1 }).waitFor();
    expect(await page.getByLabel('% of the cap used', { exact: true }).inputValue()).toBe('80');
    await screen(page, 'alerts-edit');

    const read = await signedIn(browser, errors, api.url, viewer);
    await read.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Alerts' }).click();
    await read.locator('tr[data-alert-rule="Token budget"]').waitFor();
    await read.locator('tr[data-alert-incident="firing"]').waitFor();
    expect(await read.getByRole('link', { name: 'Add rule' }).count()).toBe(0);
    expect(await read.locator('tr[data-alert-rule="Token budget"]').getByRole('link').count()).toBe(0);

    expect(errors).toEqual([]);
  });
});
