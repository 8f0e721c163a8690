// The browser side of the widget scripts: Chromium, and a host app on another origin serving the snippet.
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';
import { atCleanup } from './stack.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumVersion = () => execFileSync(CHROMIUM, ['--version']).toString().trim();

/** Headless Chromium, closed at the end. */
export async function launchChromium() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  atCleanup(() => browser.close());
  return browser;
}

/** The host app on another origin (localhost vs the API's 127.0.0.1), serving `page()` uncached; answers its origin. */
export async function hostApp(page) {
  const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' }).end(page()));
  await new Promise((r) => server.listen(0, 'localhost', r));
  atCleanup(() => new Promise((r) => server.close(r)));
  return `http://localhost:${server.address().port}`;
}
