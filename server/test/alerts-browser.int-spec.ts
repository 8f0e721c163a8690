import { type Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { type Browser } from 'playwright-core';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium';
import { addMember, connectInSandbox, createTenant, startApi, startWorker, type TenantFixture, type TestApi } from './harness';
import { fieldError, screen, signedIn } from './portal-browser';

/**
 * The portal's Alerts page in real Chromium: an admin adds a rule (told at the field what is wrong
 * first), the worker fires it, and the incident shows as firing; the admin then picks one of the
 * tenant's Slack connections (sandbox) for its notices; a viewer reads rules and incidents without
 * a way to change them. Screenshots land in test-results/screenshots/alerts-*.png.
 */

const HOST_ORIGIN = 'https://host.example';

describe('Alerts in the portal', { timeout: 180_000 }, () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let viewer: { email: string; password: string };
  let browser: Browser;
  const errors: string[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox();
    api = await startApi({ ALERTS_INTERVAL_SECONDS: '1', SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Alerts Portal Co');
    viewer = await addMember(api, tenant, 'viewer');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.close();
    await api?.close();
    await sandbox?.close();
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
    // No Slack connection yet: the picker says how to get one.
    await page.getByText("connect Slack for one of your team's end users first").waitFor();
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

    // Slack connections of two end users, one of another connector, one that needs reauthorizing: the picker lists the two active Slack ones.
    expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] })).status).toBe(200);
    for (const key of ['slack', 'hubspot']) expect((await tenant.owner.put(`/v1/admin/connectors/${key}`, { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    const ops = await connectInSandbox(api, tenant, 'slack', 'vendor-ops', { origin: HOST_ORIGIN });
    await connectInSandbox(api, tenant, 'slack', 'customer-7', { origin: HOST_ORIGIN, account: 1 });
    await connectInSandbox(api, tenant, 'hubspot', 'vendor-ops', { origin: HOST_ORIGIN });
    const stale = await connectInSandbox(api, tenant, 'slack', 'customer-9', { origin: HOST_ORIGIN, account: 1 });
    await api.app.get(DataSource).query(`UPDATE connections SET status = 'needs_reauth' WHERE id = $1`, [stale]);
    const channel = sandbox.state.slack.channels.find((c) => !c.is_archived && !c.is_private)!;
    await page.reload();
    const picker = page.getByLabel('Slack connection (optional)', { exact: true });
    await picker.locator('option', { hasText: 'vendor-ops' }).waitFor({ state: 'attached' });
    expect(await picker.locator('option').allTextContents()).toEqual(['No Slack notices', 'customer-7 · Globex (switchboard)', 'vendor-ops · Acme Sandbox (switchboard)']);
    await picker.selectOption({ label: 'vendor-ops · Acme Sandbox (switchboard)' });
    await page.getByLabel('Slack channel', { exact: true }).fill(channel.id);
    await screen(page, 'alerts-slack');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
    await expect.poll(async () => row.textContent()).toContain(`Slack ${channel.id}`);
    const saved = (await tenant.owner.get('/v1/admin/alert-rules')).body.data.find((r: { name: string }) => r.name === 'Token budget');
    expect(saved.channels).toEqual({ slack: { connectionId: ops, channel: channel.id }, webhook: true });
    // Reopened, the form shows the connection chosen.
    await row.getByRole('link', { name: 'Token budget' }).click();
    await page.getByRole('heading', { name: 'Edit alert rule', level: 1 }).waitFor();
    await expect.poll(async () => page.getByLabel('Slack connection (optional)', { exact: true }).inputValue()).toBe(ops);

    const read = await signedIn(browser, errors, api.url, viewer);
    await read.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Alerts' }).click();
    await read.locator('tr[data-alert-rule="Token budget"]').waitFor();
    await read.locator('tr[data-alert-incident="firing"]').waitFor();
    expect(await read.getByRole('link', { name: 'Add rule' }).count()).toBe(0);
    expect(await read.locator('tr[data-alert-rule="Token budget"]').getByRole('link').count()).toBe(0);

    expect(errors).toEqual([]);
  });
});
