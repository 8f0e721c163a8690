import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium';
import { createTenant, startApi, startWorker, type TenantFixture, type TestApi } from './harness';
import { SYNC_FLOW } from './fixtures';
import { axe, newPage, SCREENSHOTS, settle, signIn } from './portal-browser';

/**
 * The rollout section of a flow's page in real Chromium: a developer rolls the latest version out
 * to every end user, watches it complete with the end users that need a setting listed, then rolls
 * it back after confirming. Screenshots land in test-results/screenshots/rollouts-*.png.
 */

const END_USERS = 40;

const v1 = SYNC_FLOW;
/** Needs a token: the end users who have none stay on v1. */
const v2 = { ...v1, inputs: { ...v1.inputs, token: { type: 'string', title: 'API token', required: true } } };

describe('flow rollouts in the portal', { timeout: 180_000 }, () => {
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let browser: Browser;
  let db: Client;
  const errors: string[] = [];

  beforeAll(async () => {
    api = await startApi();
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Rollout Portal Co');
    db = new Client({ connectionString: api.config.database.url });
    await db.connect();
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition: v1 })).status).toBe(201);
    expect((await tenant.owner.post('/v1/admin/flow-templates/sync/publish')).status).toBe(201);
    expect((await tenant.host.put('/v1/end-users/acme-00', { displayName: 'Acme 00' })).status).toBe(201);
    expect((await tenant.host.post('/v1/end-users/acme-00/flows/sync/enable', {})).status).toBe(200);
    // More end users on v1, copied from the first; all but three (and the first) already hold the token v2 needs.
    await db.query(
      `WITH users AS (
         INSERT INTO end_users (tenant_id, external_id, display_name) SELECT $1, 'acme-' || lpad(n::text, 2, '0'), 'Acme ' || lpad(n::text, 2, '0') FROM generate_series(1, $2 - 1) n RETURNING id, external_id)
       INSERT INTO flow_instances (tenant_id, end_user_id, template_id, version_id, enabled, settings, connections, trigger_event)
       SELECT i.tenant_id, u.id, i.template_id, i.version_id, true,
              CASE WHEN u.external_id IN ('acme-03', 'acme-17', 'acme-29') THEN i.settings ELSE i.settings || '{"token": "t"}' END, i.connections, i.trigger_event
         FROM users u, flow_instances i WHERE i.tenant_id = $1`,
      [tenant.tenantId, END_USERS],
    );
    expect((await tenant.owner.put('/v1/admin/flow-templates/sync/draft', { definition: v2 })).status).toBe(200);
    expect((await tenant.owner.post('/v1/admin/flow-templates/sync/publish')).status).toBe(201);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await db?.end();
    await worker?.close();
    await api?.close();
  });

  async function screen(page: Page, name: string): Promise<void> {
    await settle(page);
    expect(await axe(page), `axe on ${name}`).toEqual([]);
    const dialog = page.getByRole('dialog');
    await ((await dialog.count()) ? page : page.getByRole('region', { name: 'Rollouts' })).screenshot({ path: join(SCREENSHOTS, `rollouts-${name}.png`) });
  }

  it('starts a rollout to everyone, shows progress and who needs settings, and rolls it back', async () => {
    const page = await newPage(browser, errors);
    await signIn(page, `${api.url}/portal/flows/sync`, tenant);
    const section = page.getByRole('region', { name: 'Rollouts' });
    await section.getByText('No rollouts yet').waitFor();
    await section.getByLabel('Version', { exact: true }).selectOption('2');
    await section.getByRole('radio', { name: 'Every end user on an older version' }).check();
    await section.getByRole('button', { name: 'Start rollout' }).click();
    const rollout = section.getByLabel('Rollout of v2');
    await rollout.getByText('Completed').waitFor();
    await expect.poll(() => rollout.getByRole('progressbar').getAttribute('aria-valuenow')).toBe(String(END_USERS));
    expect(await rollout.locator('.rollout-counts').innerText()).toMatch(/Upgraded\s*36[\s\S]*Need settings\s*4/);
    const attention = rollout.getByRole('table', { name: 'Need attention' });
    await attention.getByRole('row', { name: /Acme 17/ }).waitFor();
    expect(await attention.getByRole('row').count()).toBe(5);
    expect(await attention.innerText()).toContain('API token');
    // The versions list below follows: Acme 05 now runs v2, Acme 03 (no token) still v1.
    const versions = page.getByRole('region', { name: 'Versions and who runs them' });
    await versions
      .getByRole('row', { name: /Acme 05/ })
      .getByText('v2')
      .waitFor();
    await versions
      .getByRole('row', { name: /Acme 03/ })
      .getByText('v1')
      .waitFor();
    await screen(page, 'completed');

    await rollout.getByRole('button', { name: 'Roll back' }).click();
    const dialog = page.getByRole('dialog', { name: 'Roll this rollout back?' });
    await dialog.getByText('The 36 end users it moved go back').waitFor();
    await screen(page, 'confirm-rollback');
    await dialog.getByRole('button', { name: 'Roll back' }).click();
    await expect.poll(() => rollout.locator('.rollout-counts').innerText(), { timeout: 20_000 }).toMatch(/Rolled back\s*36/);
    await rollout.locator('.rollout-head').getByText('Rolled back', { exact: true }).waitFor();
    const onV1 = await db.query(`SELECT count(*)::int AS n FROM flow_instances i JOIN flow_template_versions v ON v.id = i.version_id WHERE i.tenant_id = $1 AND v.version = 1`, [
      tenant.tenantId,
    ]);
    expect(onV1.rows[0].n).toBe(END_USERS);
    await screen(page, 'rolled-back');
    expect(errors).toEqual([]);
  });
});
