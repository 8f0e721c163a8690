import { join } from 'node:path';
import { type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium';
import { createTenant, startApi, type TenantFixture, type TestApi } from './harness';
import { axe, fieldError, SCREENSHOTS, screen, settle, signedIn } from './portal-browser';

/**
 * Environments in real Chromium: the environment bar on every page (calm in development, red in
 * protected production), a flow made and published in development and promoted to production after
 * reading its diff (a preview gone stale is refused and read again), production's copy read-only,
 * and the Environments page. Screenshots land in test-results/screenshots/environments-*.png.
 */

describe('environments in the portal', { timeout: 180_000 }, () => {
  let api: TestApi;
  let tenant: TenantFixture;
  let browser: Browser;
  const errors: string[] = [];

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api, 'Envs Portal Co');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  it('builds in development, promotes to production with a diff, and switches there', async () => {
    const page = await signedIn(browser, errors, api.url, tenant);
    const bar = page.locator('.env-bar');
    const switcher = page.getByLabel('Environment', { exact: true });
    expect(await bar.getAttribute('data-environment')).toBe('development');
    expect(await bar.locator('.env-badge').textContent()).toBe('development');
    expect(await switcher.inputValue()).toBe(tenant.tenantId);
    await screen(page, 'environments-bar-development');
    await bar.screenshot({ path: join(SCREENSHOTS, 'environments-switcher-development.png') });

    // A flow made and published in development.
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Flows' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Welcome mail');
    await page.getByRole('button', { name: 'Create flow' }).click();
    await page.getByRole('heading', { name: 'Welcome mail', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Publish version 1' }).click();
    await page.getByText('Published version 1').waitFor();

    // Promote: production has no copy yet, so the whole definition is added.
    await page.getByRole('button', { name: 'Promote…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Promote Welcome mail' });
    /** The dialog alone (a full-page picture would show its backdrop over the first screen only). */
    const dialogShot = async (file: string) => {
      await settle(page);
      expect(await axe(page), `axe on ${file}`).toEqual([]);
      await dialog.screenshot({ path: join(SCREENSHOTS, `${file}.png`) });
    };
    expect(await dialog.getByLabel('To environment').inputValue()).not.toBe(tenant.tenantId);
    const diff = dialog.getByRole('region', { name: 'Changes to welcome-mail in production' });
    await diff.waitFor();
    expect(await diff.locator('.diff-add').allTextContents()).toContain('+  "name": "Welcome mail",\n');
    expect(await diff.locator('.diff-del').count()).toBe(0);
    expect(await dialog.locator('.promote-summary').textContent()).toContain('which does not have this flow yet');
    await dialogShot('environments-promote-diff');
    await dialog.getByRole('button', { name: 'Promote to production' }).click();
    await page.getByText('Promoted to production as version 1').waitFor();
    await dialog.waitFor({ state: 'detached' });

    // Version 2, previewed; someone else promotes it first: the portal's promotion is refused as stale and the preview read again.
    const draft = (await tenant.owner.get('/v1/admin/flow-templates/welcome-mail')).body.draft;
    expect((await tenant.owner.put('/v1/admin/flow-templates/welcome-mail/draft', { definition: { ...draft, name: 'Welcome mail v2' } })).status).toBe(200);
    expect((await tenant.owner.post('/v1/admin/flow-templates/welcome-mail/publish')).status).toBe(201);
    await page.getByRole('button', { name: 'Promote…' }).click();
    await diff.waitFor();
    expect(await diff.locator('.diff-del').allTextContents()).toContain('-  "name": "Welcome mail",\n');
    expect(await diff.locator('.diff-add').allTextContents()).toContain('+  "name": "Welcome mail v2",\n');
    await dialogShot('environments-promote-diff-change');
    const productionId = (await dialog.getByLabel('To environment').inputValue()) as string;
    const elsewhere = await tenant.owner.post('/v1/admin/flow-templates/welcome-mail/promote', { environmentId: productionId, expectedVersion: 1 });
    expect(elsewhere.status).toBe(201);
    await dialog.getByRole('button', { name: 'Promote to production' }).click();
    await dialog.getByText('Not promoted: production changed since this preview (it has v2 now)').waitFor();
    await dialog.getByText('Up to date').waitFor();
    expect(await dialog.getByRole('button', { name: 'Promote to production' }).isDisabled()).toBe(true);
    await dialogShot('environments-promote-outdated');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // Production, with the switcher: the page is read again there, red, read-only, and the role still known.
    await switcher.selectOption({ label: 'production (protected)' });
    await page.getByText('Switched to production').waitFor();
    expect(await bar.getAttribute('data-environment')).toBe('production');
    expect(await bar.locator('.env-badge').textContent()).toBe('production · protected');
    expect(await switcher.inputValue()).toBe(productionId);
    expect(await page.locator('.account-role').textContent()).toBe('Owner');
    await page.getByText('version 2 is live').waitFor();
    await page.getByText('production is protected: this definition is read-only here').waitFor();
    expect(await page.getByLabel('Flow definition (JSON)').getAttribute('readonly')).not.toBeNull();
    expect(await page.getByRole('button', { name: 'Save draft' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Publish version 3' }).isDisabled()).toBe(true);
    await screen(page, 'environments-production-flow');
    await bar.screenshot({ path: join(SCREENSHOTS, 'environments-switcher-production.png') });

    // The Environments page: an owner adds one (told at the field what is wrong first).
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Environments' }).click();
    await page.getByRole('heading', { name: 'Environments', level: 1 }).waitFor();
    await page.locator('tr[data-environment="production"]').waitFor();
    expect(await page.locator('tr[data-environment]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-environment')))).toEqual(['development', 'production']);
    expect(await page.locator('tr[data-environment="production"]').textContent()).toContain('Active');
    await page.getByLabel('Environment name').fill('Staging');
    await page.getByRole('button', { name: 'Add environment' }).click();
    expect(await fieldError(page, 'Environment name')).toContain('lowercase');
    await page.getByLabel('Environment name').fill('staging');
    await page.getByRole('checkbox', { name: /Protected/ }).check();
    await page.getByRole('button', { name: 'Add environment' }).click();
    await page.locator('tr[data-environment="staging"]').waitFor();
    // The switcher's list is read again after the row appears.
    await expect.poll(() => switcher.locator('option').allTextContents()).toEqual(['development', 'production (protected)', 'staging (protected)']);
    await page.getByLabel('Environment name').fill('staging');
    await page.getByRole('button', { name: 'Add environment' }).click();
    expect(await fieldError(page, 'Environment name')).toContain('exists');
    await page.getByRole('button', { name: 'Lift protection of staging' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Lift protection' }).click();
    await page.getByText('staging is no longer protected').waitFor();
    expect(await page.locator('tr[data-environment="staging"]').textContent()).toContain('Editable');
    await screen(page, 'environments-settings');
    // On a phone the band wraps and the page does not scroll sideways.
    await page.setViewportSize({ width: 390, height: 800 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await bar.screenshot({ path: join(SCREENSHOTS, 'environments-switcher-phone.png') });

    // Dark: a new session starts in development again; production's band reads as clearly there.
    const dark = await signedIn(browser, errors, api.url, tenant, 'dark');
    expect(await dark.locator('.env-bar').getAttribute('data-environment')).toBe('development');
    await dark.getByLabel('Environment', { exact: true }).selectOption({ label: 'production (protected)' });
    await dark.getByText('Switched to production').waitFor();
    await dark.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Flows' }).click();
    await dark.getByRole('link', { name: 'Welcome mail v2' }).waitFor();
    await dark.getByText('production is protected').waitFor();
    await screen(dark, 'environments-production-flows-dark');

    expect(errors).toEqual([]);
  });
});
