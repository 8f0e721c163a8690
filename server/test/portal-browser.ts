import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** What the portal's browser tests share: a signed-in page, axe, settled screenshots, field errors. */

export const SCREENSHOTS = join(__dirname, '..', 'test-results', 'screenshots');
mkdirSync(SCREENSHOTS, { recursive: true });

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core (WCAG 2.1 A/AA and best practices) on the page as it is now; evaluated through the DevTools protocol, which the CSP does not restrict. */
export async function axe(page: Page): Promise<string[]> {
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

/** Toasts gone and fades (a dialog's) finished: axe measures the colours as they end up, not mid-way. */
export async function settle(page: Page): Promise<void> {
  await page.locator('.toast').waitFor({ state: 'detached', timeout: 6000 });
  await page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((a) => a.effect?.getTiming().iterations !== Infinity)
        .map((a) => a.finished),
    ),
  );
}

/** A settled portal screen: no axe violations, then its full-page picture as SCREENSHOTS/`file`.png. */
export async function screen(page: Page, file: string): Promise<void> {
  await settle(page);
  expect(await axe(page), `axe on ${file}`).toEqual([]);
  await page.screenshot({ path: join(SCREENSHOTS, `${file}.png`), fullPage: true });
}

/** A page in a fresh context as the portal tests size it; its uncaught errors are pushed to `errors`. */
export async function newPage(browser: Browser, errors: string[], colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, locale: 'en-US', deviceScaleFactor: 1, colorScheme });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return page;
}

/** Signs in on the portal's form at `url` (the portal, or a page in it) and waits for the portal's sections. */
export async function signIn(page: Page, url: string, who: { email: string; password: string }): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Email', { exact: true }).fill(who.email);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Sections' }).waitFor();
}

/** A new page signed in to the portal at `apiUrl` as `who`. */
export async function signedIn(
  browser: Browser,
  errors: string[],
  apiUrl: string,
  who: { email: string; password: string },
  colorScheme: 'light' | 'dark' = 'light',
): Promise<Page> {
  const page = await newPage(browser, errors, colorScheme);
  await signIn(page, `${apiUrl}/portal`, who);
  return page;
}

/** The error shown under a field, found through the field's aria-describedby (what a screen reader reads). */
export async function fieldError(page: Page, label: string): Promise<string> {
  const input = page.getByLabel(label, { exact: true });
  await expect.poll(() => input.getAttribute('aria-invalid')).toBe('true');
  const ids = (await input.getAttribute('aria-describedby'))!.split(' ');
  return (await page.locator(`[id="${ids.find((id) => id.endsWith('-error'))}"]`).textContent()) ?? '';
}
