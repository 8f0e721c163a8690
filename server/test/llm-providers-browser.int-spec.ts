import { type Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium';
import { addMember, createTenant, startApi, type TenantFixture, type TestApi } from './harness';
import { fieldError, screen, signedIn } from './portal-browser';

/**
 * The portal's "AI models" page in real Chromium: an admin adds the sandbox model as an
 * OpenAI-compatible provider, is told field by field what is wrong with a bad one, stores a key
 * (write-only: the form only says it is stored), and deletes a provider after confirming; a viewer
 * sees the list but cannot change it. Screenshots land in test-results/screenshots/llm-providers-*.png.
 */

describe('AI models in the portal', { timeout: 180_000 }, () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let tenant: TenantFixture;
  let viewer: { email: string; password: string };
  let browser: Browser;
  const errors: string[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox();
    api = await startApi({ OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    tenant = await createTenant(api, 'Models Portal Co');
    viewer = await addMember(api, tenant, 'viewer');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await sandbox?.close();
  });

  it('an admin adds, fixes, keys and deletes providers; a viewer only reads', async () => {
    const page = await signedIn(browser, errors, api.url, tenant);
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'AI models' }).click();
    await page.getByRole('heading', { name: 'AI models', level: 1 }).waitFor();
    await page.getByText('No model providers yet').waitFor();
    await screen(page, 'llm-providers-empty');

    // A bad one first: every problem is shown at its field.
    await page.getByRole('link', { name: 'Add provider' }).click();
    await page.getByRole('heading', { name: 'New model provider', level: 1 }).waitFor();
    await page.getByLabel('Key', { exact: true }).fill('Not A Key');
    await page.getByLabel('Name', { exact: true }).fill('OpenAI');
    await page.getByRole('button', { name: 'Add provider' }).click();
    expect(await fieldError(page, 'Key')).toContain('kebab-case');
    await page.getByLabel('Key', { exact: true }).fill('openai-main');
    await page.getByRole('button', { name: 'Add provider' }).click();
    expect(await fieldError(page, 'API key')).toContain('required for an openai provider');
    await page.getByLabel('Kind', { exact: true }).selectOption('openai-compatible');
    await page.getByLabel('Base URL (optional)').waitFor({ state: 'detached' });
    await page.getByLabel('Base URL', { exact: true }).fill('https://10.0.0.7/v1');
    await page.getByRole('button', { name: 'Add provider' }).click();
    expect(await fieldError(page, 'Base URL')).toContain('Refusing to connect to 10.0.0.7');
    await page.getByRole('alert').filter({ hasText: 'Not saved' }).waitFor();
    await screen(page, 'llm-providers-errors');

    // Fixed: the sandbox model, no key (an OpenAI-compatible server may need none).
    await page.getByLabel('Key', { exact: true }).fill('sandbox-llm');
    await page.getByLabel('Name', { exact: true }).fill('Sandbox model');
    await page.getByLabel('Base URL', { exact: true }).fill(sandbox.llmUrl);
    await page.getByLabel('Default model (optional)').fill('demo-agent');
    await page.getByRole('button', { name: 'Add provider' }).click();
    await page.getByRole('heading', { name: 'AI models', level: 1 }).waitFor();
    const row = page.locator('tr[data-llm-provider="sandbox-llm"]');
    await row.waitFor();
    await expect.poll(() => row.textContent()).toContain('None');
    expect(await row.textContent()).toContain('demo-agent');

    // Edit: store a key. The form never shows it again, only that one is stored.
    await row.getByRole('link', { name: 'Sandbox model' }).click();
    await page.getByRole('heading', { name: 'Edit model provider', level: 1 }).waitFor();
    expect(await page.getByLabel('Key', { exact: true }).inputValue()).toBe('sandbox-llm');
    expect(await page.getByLabel('Key', { exact: true }).getAttribute('readonly')).not.toBeNull();
    await page.getByLabel('API key (optional)').fill('sk-portal-secret');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'AI models', level: 1 }).waitFor();
    await expect.poll(() => row.textContent()).toContain('Stored');
    await screen(page, 'llm-providers-list');
    await row.getByRole('link', { name: 'Sandbox model' }).click();
    const keyField = page.getByLabel('API key (optional)');
    await keyField.waitFor();
    expect(await keyField.inputValue()).toBe('');
    expect(await keyField.getAttribute('placeholder')).toContain('stored');
    expect(await page.content()).not.toContain('sk-portal-secret');
    await screen(page, 'llm-providers-edit');
    const stored = await tenant.owner.get('/v1/admin/llm-providers/sandbox-llm');
    expect(stored.body).toMatchObject({ hasApiKey: true, baseUrl: sandbox.llmUrl, defaultModel: 'demo-agent' });

    // The key removed with the switch (an OpenAI-compatible server may need none), then stored again.
    await page.getByRole('switch', { name: 'Remove the stored key' }).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => row.textContent()).toContain('None');
    expect((await tenant.owner.get('/v1/admin/llm-providers/sandbox-llm')).body.hasApiKey).toBe(false);
    await row.getByRole('link', { name: 'Sandbox model' }).click();
    expect(await page.getByRole('switch', { name: 'Remove the stored key' }).count()).toBe(0);
    await page.getByLabel('API key (optional)').fill('sk-portal-secret-2');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => row.textContent()).toContain('Stored');
    await row.getByRole('link', { name: 'Sandbox model' }).click();
    await page.getByRole('heading', { name: 'Edit model provider', level: 1 }).waitFor();

    // A second provider for the viewer to see, then delete the first after confirming.
    expect(
      (await tenant.owner.post('/v1/admin/llm-providers', { key: 'claude', kind: 'anthropic', name: 'Claude', apiKey: 'sk-ant-x', defaultModel: 'claude-sonnet-4-5' })).status,
    ).toBe(201);
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete Sandbox model?' });
    await dialog.waitFor();
    await screen(page, 'llm-providers-delete');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await tenant.owner.get('/v1/admin/llm-providers/sandbox-llm')).status).toBe(200);
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete provider' }).click();
    await page.getByRole('heading', { name: 'AI models', level: 1 }).waitFor();
    await page.locator('tr[data-llm-provider="claude"]').waitFor();
    expect(await page.locator('tr[data-llm-provider="sandbox-llm"]').count()).toBe(0);
    expect((await tenant.owner.get('/v1/admin/llm-providers/sandbox-llm')).status).toBe(404);

    // The viewer reads the list, with nothing to change (in the dark scheme, for axe's contrast checks there too).
    const read = await signedIn(browser, errors, api.url, viewer, 'dark');
    await read.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'AI models' }).click();
    const claude = read.locator('tr[data-llm-provider="claude"]');
    await claude.waitFor();
    expect(await claude.textContent()).toContain('Stored');
    expect(await read.getByRole('link', { name: 'Add provider' }).count()).toBe(0);
    expect(await claude.getByRole('link').count()).toBe(0);
    await screen(read, 'llm-providers-viewer');
    await read.goto(`${api.url}/portal/llm-providers/claude`);
    await read.getByText('You need the admin role or higher to change model providers').waitFor();

    expect(errors).toEqual([]);
  });
});
