import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium } from './chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePortalDist } from '../src/portal/portal-files';
import { addMember, createTenant, Http, startApi, type TenantFixture, type TestApi, uniqueEmail } from './harness';

/**
 * The admin portal in real Chromium (Debian's, driven by playwright-core), against a real API.
 * Needs the portal built (`npm run build`); screenshots land in test-results/screenshots/.
 */

const SCREENSHOTS = join(__dirname, '..', 'test-results', 'screenshots');

let api: TestApi;
let browser: Browser;
const contexts: BrowserContext[] = [];

/** Console errors and page errors a page raised, except the network failures the app itself handles (the 401 of /v1/auth/me…). */
const problems = new Map<Page, string[]>();

async function newPage(options: { colorScheme?: 'light' | 'dark' } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: options.colorScheme ?? 'light', locale: 'en-US' });
  contexts.push(context);
  const page = await context.newPage();
  const seen: string[] = [];
  problems.set(page, seen);
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) seen.push(message.text());
  });
  page.on('pageerror', (error) => seen.push(`pageerror: ${error.message}`));
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto(`${api.url}/portal`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Sections' }).waitFor();
}

beforeAll(async () => {
  if (!existsSync(join(resolvePortalDist(), 'index.html'))) {
    throw new Error(`The portal is not built (${resolvePortalDist()} has no index.html): run \`npm run build\` first`);
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  api = await startApi();
  browser = await launchChromium();
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await api?.close();
});

describe('portal serving', () => {
  it('serves index.html with a strict CSP at /portal and every client route, and hashed assets cached for a year', async () => {
    const http = new Http(api.url);
    for (const path of ['/portal', '/portal/', '/portal/members', '/portal/audit-log', '/portal/some/deep/link']) {
      const page = await http.get(path);
      expect(page.status, path).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8/i);
      expect(page.headers.get('cache-control')).toBe('no-cache');
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect(page.body).toContain('<div id="app"></div>');
      expect(page.body).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=/);
    }

    const html = (await http.get('/portal')).body as string;
    const assets = [...html.matchAll(/(?:src|href)="(\/portal\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.some((a) => /portal-[A-Z0-9]+\.js$/.test(a))).toBe(true);
    expect(assets.some((a) => /portal-[A-Z0-9]+\.css$/.test(a))).toBe(true);
    for (const asset of assets) {
      const res = await fetch(api.url + asset);
      expect(res.status, asset).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const type = res.headers.get('content-type') ?? '';
      if (asset.endsWith('.js')) expect(type).toMatch(/^(text|application)\/javascript/);
      if (asset.endsWith('.css')) expect(type).toMatch(/^text\/css/);
      if (asset.endsWith('.svg')) expect(type).toMatch(/^image\/svg\+xml/);
      expect(res.headers.get('content-security-policy')).toBeNull();
    }

    const missing = await http.get('/portal/assets/portal-NOPE.js');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const escape = await http.get('/portal/assets/..%2f..%2fpackage.json');
    expect(escape.status).toBe(404);
    expect(escape.body.error.code).toBe('not_found');
    const dotfile = await http.get('/portal/assets/.secret');
    expect(dotfile.status).toBe(404);
    // The portal is not part of the public API description.
    const openapi = await http.get('/openapi.json');
    expect(Object.keys(openapi.body.paths).some((p) => p.startsWith('/portal'))).toBe(false);
  });
});

describe('portal in Chromium', () => {
  let tenant: TenantFixture;

  beforeAll(async () => {
    tenant = await createTenant(api, 'Acme Robotics');
  });

  it('lets an owner sign in, manage API keys and members, and read the audit log', async () => {
    const page = await newPage();
    await page.goto(`${api.url}/portal`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();

    // A wrong password: the API's message, inline.
    await page.getByLabel('Email').fill(tenant.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('The email or password is wrong');
    await expect(page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).resolves.toBe('password');
    await shot(page, '01-sign-in-error');

    // The right one: the shell with the tenant's name; everyone lands on the dashboard.
    await page.getByLabel('Password').fill(tenant.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/portal/dashboard');
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    expect(await page.locator('.sidebar').textContent()).toContain('Acme Robotics');
    expect(await page.locator('.sidebar').textContent()).toContain(tenant.email);
    expect(await page.title()).toBe('API keys · Acme Robotics · Switchboard');
    // The fixture's key is listed, never its secret.
    await page.getByRole('rowheader', { name: 'test key' }).waitFor();

    // Create a key: the secret is shown once, and it works.
    await page.getByLabel('Key name').fill('Production backend');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secretBox = page.getByLabel('Secret key', { exact: true });
    await secretBox.waitFor();
    const secret = await secretBox.inputValue();
    expect(secret).toMatch(/^sk_[A-Za-z0-9_-]{20,}$/);
    expect(await page.locator('.callout').textContent()).toContain('you will not see it again');
    await page.getByRole('rowheader', { name: 'Production backend' }).waitFor();
    const host = new Http(api.url).withBearer(secret);
    expect((await host.get('/v1/end-users')).status).toBe(200);
    await shot(page, '02-api-key-created');

    // The table shows the prefix and, after that call, a last-used time.
    await page.reload();
    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Production backend' }) });
    await row.waitFor();
    expect(await row.textContent()).toContain(secret.slice(0, 8));
    expect(await row.textContent()).not.toContain('Never');
    expect(await page.getByLabel('Secret key', { exact: true }).count()).toBe(0);

    // Revoke it, through a confirmation dialog.
    await row.getByRole('button', { name: 'Revoke Production backend' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke “Production backend”?' });
    await dialog.waitFor();
    await shot(page, '03-revoke-confirm');
    await dialog.getByRole('button', { name: 'Revoke key' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row.getByText('Revoked').waitFor();
    expect(await row.getByRole('button').count()).toBe(0);
    const refused = await host.get('/v1/end-users');
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('invalid_api_key');
    // The other key still works.
    expect((await tenant.host.get('/v1/end-users')).status).toBe(200);

    // Members: invite someone and see them listed as invited, with a one-time link.
    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('heading', { name: 'Members', level: 1 }).waitFor();
    await expect(page.evaluate(() => document.activeElement?.tagName)).resolves.toBe('H1');
    const invitee = uniqueEmail('invitee');
    await page.getByLabel('Email').fill(invitee);
    await page.getByLabel('Role', { exact: true }).selectOption('developer');
    await page.getByRole('button', { name: 'Send invite' }).click();
    const link = await page.getByLabel('Invitation link').inputValue();
    expect(link).toMatch(new RegExp(`^${api.url}/portal/accept-invite#token=inv_`));
    const inviteeRow = page.getByRole('row').filter({ hasText: invitee });
    await inviteeRow.getByText('Invited').waitFor();
    await shot(page, '04-member-invited');

    // Change the invitee's role; a change the server refuses (demoting the last owner) shows its error.
    await inviteeRow.getByLabel(`Role of ${invitee}`).selectOption('viewer');
    await page.getByText(`${invitee} is now a viewer`).waitFor();
    await page.getByLabel(`Role of ${tenant.email}`).selectOption('admin');
    const lastOwner = page.getByRole('alert').filter({ hasText: 'at least one owner' });
    await lastOwner.waitFor();
    expect(await page.getByLabel(`Role of ${tenant.email}`).inputValue()).toBe('owner');
    await shot(page, '05-last-owner-error');

    // Cancel another invitation, with confirmation.
    const second = uniqueEmail('second');
    await page.getByLabel('Email').fill(second);
    await page.getByRole('button', { name: 'Send invite' }).click();
    await page.getByRole('row').filter({ hasText: second }).waitFor();
    await page.getByRole('button', { name: `Cancel the invitation for ${second}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel invite' }).click();
    await page.getByRole('row').filter({ hasText: second }).waitFor({ state: 'detached' });

    // The invitee follows the link in their own browser, chooses a password and is in.
    const inviteePage = await newPage();
    await inviteePage.goto(link);
    await inviteePage.getByRole('heading', { name: 'Join your team' }).waitFor();
    await shot(inviteePage, '06-accept-invite');
    await inviteePage.getByLabel('Password').fill('short');
    await inviteePage.getByRole('button', { name: 'Accept invitation' }).click();
    await inviteePage.getByText('must be at least 10 characters').waitFor();
    await inviteePage.getByLabel('Password').fill('a-long-enough-password');
    await inviteePage.getByRole('button', { name: 'Accept invitation' }).click();
    await inviteePage.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    expect(new URL(inviteePage.url()).hash).toBe('');
    await page.reload();
    await page.getByRole('row').filter({ hasText: invitee }).getByText('Active').waitFor();

    // Audit log: newest first, with the actions above, the actor's email and the target.
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    // The heading comes before the events do: wait for the newest of them (evaluateAll does not wait).
    await page.locator('tbody tr[data-action="member.joined"]').first().waitFor();
    const actions = await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
    for (const action of ['member.signed_in', 'api_key.created', 'api_key.revoked', 'member.invited', 'member.role_changed', 'member.removed', 'member.joined']) {
      expect(actions).toContain(action);
    }
    expect(actions.indexOf('member.joined')).toBeLessThan(actions.indexOf('member.invited'));
    expect(actions.indexOf('api_key.revoked')).toBeLessThan(actions.indexOf('api_key.created'));
    // Actors are named once the member and key lists arrive.
    const revokedRow = page.locator('tr[data-action="api_key.revoked"]', { hasText: tenant.email });
    await revokedRow.waitFor();
    expect(await revokedRow.textContent()).toContain('Production backend');
    await shot(page, '07-audit-log');

    // More than a page of events: "Load more" follows the cursor to the end.
    for (let i = 0; i < 55; i++) expect((await tenant.host.put(`/v1/end-users/customer-${i}`, { displayName: `Customer ${i}` })).status).toBe(201);
    await page.reload();
    await page.locator('tbody tr').first().waitFor();
    expect(await page.locator('tbody tr').count()).toBe(50);
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.getByText('That is everything.').waitFor();
    const all = await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-id'), r.getAttribute('data-action')]));
    expect(all.length).toBeGreaterThan(55);
    expect(new Set(all.map(([id]) => id)).size).toBe(all.length);
    expect(all.at(-1)?.[1]).toBe('tenant.created');
    expect(all.map(([, action]) => action)).toContain('tenant.created');
    const ids = all.map(([id]) => BigInt(id!));
    expect(ids.every((id, i) => i === 0 || id < ids[i - 1])).toBe(true);
    // A filter narrows it to one kind.
    await Promise.all([page.waitForResponse((r) => r.url().includes('action=api_key.')), page.getByLabel('Show').selectOption('api_key.')]);
    await expect
      .poll(() => page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action'))))
      .toEqual(['api_key.revoked', 'api_key.created', 'api_key.created']);

    // Sign out: back to the sign-in form, and the session is gone.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByText('You have signed out.').waitFor();
    const me = await page.evaluate(() => fetch('/v1/auth/me', { credentials: 'same-origin' }).then((r) => r.status));
    expect(me).toBe(401);

    expect(problems.get(page)).toEqual([]);
    expect(problems.get(inviteePage)).toEqual([]);
  });

  it('switches between the tenants a person belongs to', async () => {
    // The owner of Acme Robotics is also invited to a second tenant.
    const other = await createTenant(api, 'Borealis Labs');
    const invite = await other.owner.post('/v1/admin/members', { email: tenant.email, role: 'admin' });
    expect(invite.status).toBe(201);
    expect((await new Http(api.url, { origin: api.origin }).post('/v1/auth/accept-invite', { token: invite.body.inviteToken, password: tenant.password })).status).toBe(200);

    const page = await newPage();
    await signIn(page, tenant.email, tenant.password);
    await page.getByRole('link', { name: 'API keys' }).click();
    const switcher = page.getByLabel('Tenant');
    const before = await switcher.inputValue();
    expect(before).toBe(tenant.tenantId);
    await page.getByRole('rowheader', { name: 'Production backend' }).waitFor();
    await switcher.selectOption({ label: 'Borealis Labs' });
    await page.getByText('Switched to Borealis Labs').waitFor();
    await page.getByRole('rowheader', { name: 'Production backend' }).waitFor({ state: 'detached' });
    await page.getByRole('rowheader', { name: 'test key' }).waitFor();
    expect(await page.locator('.account-role').textContent()).toBe('Admin');
    expect(await page.title()).toBe('API keys · Borealis Labs · Switchboard');
    await shot(page, '08-tenant-switcher');
    expect(problems.get(page)).toEqual([]);
  });

  it('shows a viewer what they may see and no actions they may not take', async () => {
    const viewer = await addMember(api, tenant, 'viewer');
    const page = await newPage();
    await signIn(page, viewer.email, viewer.password);
    // A viewer lands on the dashboard; Members is read-only.
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('heading', { name: 'Members', level: 1 }).waitFor();
    await page.getByRole('row').filter({ hasText: tenant.email }).waitFor();
    expect(await page.getByRole('button', { name: 'Send invite' }).count()).toBe(0);
    expect(await page.locator('tbody select').count()).toBe(0);
    // The only action is leaving, on their own row.
    expect(await page.locator('tbody button').allTextContents()).toEqual(['Leave']);

    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await page.getByText('You need the developer role').waitFor();
    expect(await page.getByRole('button', { name: 'Create key' }).count()).toBe(0);
    expect(await page.getByLabel('Key name').count()).toBe(0);
    await shot(page, '09-viewer-api-keys');
    // The server says the same.
    expect((await viewer.browser.get('/v1/admin/api-keys')).status).toBe(403);

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByText('You need the developer role').waitFor();
    expect(problems.get(page)).toEqual([]);
  });

  it('tells someone locked out how long to wait', async () => {
    const member = await addMember(api, tenant, 'developer');
    const anonymous = new Http(api.url);
    for (let i = 0; i < api.config.login.maxFailures; i++) {
      expect((await anonymous.post('/v1/auth/login', { email: member.email, password: 'wrong-password' })).status).toBe(401);
    }
    const page = await newPage();
    await page.goto(`${api.url}/portal`);
    await page.getByLabel('Email').fill(member.email);
    await page.getByLabel('Password').fill(member.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const warning = page.getByRole('status').filter({ hasText: 'Too many failed attempts' });
    await warning.waitFor();
    expect(await warning.textContent()).toMatch(/Try again in (1[45] min|\d+ min \d+ s)/);
    expect(await page.getByRole('button', { name: 'Sign in' }).isDisabled()).toBe(true);
    await shot(page, '10-sign-in-locked');
  });

  it('can be signed in to with the keyboard alone', async () => {
    const member = await addMember(api, tenant, 'developer');
    const page = await newPage({ colorScheme: 'dark' });
    await page.goto(`${api.url}/portal`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return el ? `${el.tagName.toLowerCase()}${el.getAttribute('name') ? `[name=${el.getAttribute('name')}]` : ''}:${el.textContent?.trim() ?? ''}` : 'none';
      });
    // The email field has focus on arrival.
    expect(await focused()).toBe('input[name=email]:');
    await page.keyboard.type(member.email);
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('input[name=password]:');
    await page.keyboard.type(member.password);
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('button:Sign in');
    // Focus is visible on the button.
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement as Element).boxShadow);
    expect(ring).not.toBe('none');
    await shot(page, '11-keyboard-focus-dark');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();

    // In the shell, the first Tab reaches the skip link, Enter jumps to the content.
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('a:Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    // Back into the sidebar to API keys; after navigating, focus is on the page's heading.
    for (let i = 0; i < 12 && (await focused()) !== 'a:API keys'; i++) await page.keyboard.press('Shift+Tab');
    expect(await focused()).toBe('a:API keys');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    // Tab onward into the create form and create a key with the keyboard.
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('input[name=name]:');
    await page.keyboard.type('Keyboard key');
    await page.keyboard.press('Enter');
    await page.getByLabel('Secret key', { exact: true }).waitFor();
    // Focus moves to the new secret, selected, ready to copy.
    await expect(page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.readOnly)).resolves.toBe(true);
    // Revoke through the dialog with the keyboard: Escape cancels, Enter on the confirm button revokes.
    await page.getByRole('button', { name: 'Revoke Keyboard key' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    expect(await focused()).toBe('button:Cancel');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    expect(await focused()).toBe('button:Revoke');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('button:Revoke key');
    await page.keyboard.press('Enter');
    await page.getByRole('row').filter({ hasText: 'Keyboard key' }).getByText('Revoked').waitFor();
    await shot(page, '12-api-keys-dark');
    expect(problems.get(page)).toEqual([]);
  });
});
