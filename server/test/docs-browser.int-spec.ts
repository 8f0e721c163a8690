import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser } from 'playwright-core';
import { launchChromium } from './chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, TestApi } from './harness';

const SCREENSHOTS = join(__dirname, '..', 'test-results', 'screenshots');

/** /docs under its CSP: swagger-ui still renders every operation, with no CSP violation, and cannot be framed. */
describe('API docs in a browser', () => {
  let api: TestApi;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    api = await startApi();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  it('renders swagger-ui with every operation and no CSP violation', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    const res = await page.goto(`${api.url}/docs`);
    expect(res?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await page.locator('.swagger-ui .info .title').filter({ hasText: 'Switchboard API' }).waitFor({ timeout: 20_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThan(50);
    await page.screenshot({ path: join(SCREENSHOTS, 'docs.png') });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('refuses to be framed by another page', async () => {
    const page = await browser.newPage();
    const blocked: string[] = [];
    page.on('console', (m) => blocked.push(m.text()));
    await page.setContent(`<iframe src="${api.url}/docs" width="800" height="600"></iframe>`);
    await page.waitForTimeout(1000);
    const frame = page.frames().find((f) => f.url().includes('/docs'));
    const rendered = frame
      ? await frame
          .locator('.swagger-ui')
          .count()
          .catch(() => 0)
      : 0;
    expect(rendered).toBe(0);
    await page.close();
  });
});
