import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium } from './chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePortalDist } from '../src/portal/portal-files';
import { createTenant, Http, startApi, type TenantFixture, type TestApi, uniqueEmail } from './harness';

/**
 * The portal's accept-invite page in Chromium: a new person chooses a password; someone with an
 * account gives its password or, signed in as it, just accepts; the link alone never signs in.
 */
const SCREENSHOTS = join(__dirname, '..', 'test-results', 'screenshots');
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

let api: TestApi;
let browser: Browser;
let inviter: TenantFixture;
const contexts: BrowserContext[] = [];
const problems = new Map<Page, string[]>();

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
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

async function screen(page: Page, name: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(() =>
    (window as unknown as { axe: { run(context: Document, options: unknown): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    }),
  );
  expect(
    result.violations.map((v) => `${v.id} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
    `axe on ${name}`,
  ).toEqual([]);
  await page.screenshot({ path: join(SCREENSHOTS, `accept-invite-${name}.png`), fullPage: true });
}

async function inviteLink(email: string, role = 'developer'): Promise<string> {
  const res = await inviter.owner.post('/v1/admin/members', { email, role });
  expect(res.status).toBe(201);
  return res.body.inviteUrl;
}

beforeAll(async () => {
  if (!existsSync(join(resolvePortalDist(), 'index.html'))) throw new Error('The portal is not built: run `npm run build` first');
  mkdirSync(SCREENSHOTS, { recursive: true });
  api = await startApi();
  inviter = await createTenant(api, 'Inviting Co');
  browser = await launchChromium();
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await api?.close();
});

describe('accept-invite page', () => {
  it('a new person sees the tenant and chooses a password (at least 10 characters), and is in', async () => {
    const email = uniqueEmail('newcomer');
    const page = await newPage();
    await page.goto(await inviteLink(email));
    await page.getByText('Choose a password to create your account.').waitFor();
    await page.getByText('Inviting Co').waitFor();
    await screen(page, 'new-person');
    await page.getByLabel('Your name').fill('New Comer');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Accept invitation' }).click();
    await page.getByText('must be at least 10 characters').waitFor();
    await page.getByLabel('Password').fill('a-long-enough-password');
    await page.getByRole('button', { name: 'Accept invitation' }).click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    expect((await new Http(api.url).post('/v1/auth/login', { email, password: 'a-long-enough-password' })).status).toBe(200);
    expect(problems.get(page)).toEqual([]);
  });

  it('someone with an account must give its password: a wrong one is refused, the right one signs them in with both tenants', async () => {
    const existing = await createTenant(api, 'Home Co');
    const page = await newPage();
    await page.goto(await inviteLink(existing.email));
    await page.getByText('already has a Switchboard account').waitFor();
    await expect(page.getByLabel('Your name').count()).resolves.toBe(0);
    await screen(page, 'existing-account');
    // Accepting without the password is refused, and nothing signs in.
    await page.getByRole('button', { name: 'Accept invitation' }).click();
    await page.getByRole('alert').waitFor();
    await page.getByLabel('Password of your account').fill('not-the-password');
    await page.getByRole('button', { name: 'Accept invitation' }).click();
    await page.getByText('This is not the password of that account.').waitFor();
    expect((await page.context().cookies()).some((c) => c.name === 'sb_session')).toBe(false);
    await page.getByLabel('Password of your account').fill(existing.password);
    await page.getByRole('button', { name: 'Accept invitation' }).click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    const me = await page.evaluate(() => fetch('/v1/auth/me').then((r) => r.json()));
    expect(me.email).toBe(existing.email);
    expect(me.memberships.map((m: { tenantName: string }) => m.tenantName).sort()).toEqual(['Home Co', 'Inviting Co']);
    expect(problems.get(page)).toEqual([]);
  });

  it('someone signed in as the invited account just accepts, without a password', async () => {
    const existing = await createTenant(api, 'Signed Co');
    const page = await newPage();
    await page.goto(`${api.url}/portal`);
    await page.getByLabel('Email').fill(existing.email);
    await page.getByLabel('Password').fill(existing.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Sections' }).waitFor();
    await page.goto(await inviteLink(existing.email, 'viewer'));
    await page.getByText('You are signed in as this account.').waitFor();
    await expect(page.getByLabel(/Password/).count()).resolves.toBe(0);
    await screen(page, 'signed-in');
    await page.getByRole('button', { name: 'Accept invitation' }).click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    const me = await page.evaluate(() => fetch('/v1/auth/me').then((r) => r.json()));
    expect(me.memberships.find((m: { tenantId: string }) => m.tenantId === me.activeTenantId).tenantName).toBe('Inviting Co');
    expect(problems.get(page)).toEqual([]);
  });

  it('an unknown or used link says so instead of showing a form', async () => {
    const page = await newPage();
    await page.goto(`${api.url}/portal/accept-invite#token=inv_${'C'.repeat(43)}`);
    await page.getByText('This invitation cannot be used').waitFor();
    await expect(page.getByRole('button', { name: 'Accept invitation' }).count()).resolves.toBe(0);
  });
});
