import { SANDBOX_CREDENTIALS, type Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium } from './chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectResult, resultPage } from '../src/connections/connect-pages';
import { createTenant, startApi, type TenantFixture, type TestApi } from './harness';

/**
 * The connect popup in real Chromium (Debian's, driven by playwright-core): a host page on
 * another origin opens it, the end user clicks through the sandbox consent page, and the result
 * arrives by postMessage. The API is http://127.0.0.1:<port>; host pages are http://localhost:<port>
 * on ports of their own, so every party is a different origin. Screenshots land in
 * test-results/screenshots/connect-*.png.
 */

const SCREENSHOTS = join(__dirname, '..', 'test-results', 'screenshots');

type ConnectMessage = { type: string; status: 'connected' | 'error'; connector: string; connectionId?: string; error?: { code: string; message: string } };
type Seen = { origin: string; data: unknown };

/**
 * The host app's page, as an integrator would write it: a button opening the popup, and a
 * message listener that trusts only the Switchboard origin. Everything else is recorded as ignored.
 * `claimOrigin` lets a page lie about its origin in the connect URL; `frame` embeds a third-origin iframe.
 */
function hostPage(input: { api: string; session: string; connector: string; claimOrigin?: string; frame?: string }): string {
  const config = JSON.stringify(input).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme CRM</title>
<style>body{font:15px system-ui,sans-serif;margin:2rem;color:#1d2230}button{font:inherit;padding:.5rem 1rem}pre{background:#f4f5f7;padding:1rem;border-radius:8px;min-height:3rem}iframe{width:100%;height:3rem;border:1px dashed #999}</style></head>
<body><h1>Acme CRM · Integrations</h1>
<button id="connect" type="button">Connect ${input.connector === 'slack' ? 'Slack' : input.connector}</button>
<h2>Result</h2><pre id="result">waiting</pre>
<h2>Ignored messages</h2><pre id="ignored">none</pre>
${input.frame ? `<iframe id="third-party" src="${input.frame}"></iframe>` : ''}
<script>
  const config = ${config};
  const apiOrigin = new URL(config.api).origin;
  window.received = [];
  window.ignored = [];
  document.getElementById('connect').addEventListener('click', () => {
    const q = new URLSearchParams({ session: config.session, origin: config.claimOrigin || location.origin });
    window.open(config.api + '/connect/' + config.connector + '?' + q, 'sb-connect', 'popup,width=500,height=640');
  });
  window.addEventListener('message', (event) => {
    if (event.origin !== apiOrigin) {
      window.ignored.push({ origin: event.origin, data: event.data });
      document.getElementById('ignored').textContent = JSON.stringify(window.ignored, null, 2);
      return;
    }
    if (!event.data || event.data.type !== 'switchboard:connect') return;
    window.received.push({ origin: event.origin, data: event.data });
    document.getElementById('result').textContent = JSON.stringify(event.data, null, 2);
  });
</script></body></html>`;
}

/** A page on a third origin that tries to pass itself off as the connect popup. */
const FORGER_PAGE = `<!doctype html><html><body style="font:13px system-ui;margin:.5rem">third-party frame
<script>parent.postMessage({ type: 'switchboard:connect', status: 'connected', connector: 'slack', connectionId: 'conn_forged' }, '*');</script></body></html>`;

/** One node:http server answering the host page at `/host?…` and the forger at `/forger`, on a port of its own. */
async function startSite(): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/host') {
      const q = url.searchParams;
      const html = hostPage({
        api: q.get('api')!,
        session: q.get('session')!,
        connector: q.get('connector') ?? 'slack',
        claimOrigin: q.get('claimOrigin') ?? undefined,
        frame: q.get('frame') ?? undefined,
      });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
    } else if (url.pathname === '/forger') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(FORGER_PAGE);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve)); // loopback only
  return { origin: `http://localhost:${(server.address() as AddressInfo).port}`, server };
}

// The cases are independent (a context, an end user and a host page each), so they run side by side.
describe.concurrent('connect popup in a browser', { timeout: 60_000 }, () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let tenant: TenantFixture;
  let browser: Browser;
  /** Allowed by the tenant. */
  let host: { origin: string; server: Server };
  /** Not in the tenant's allowed origins. */
  let stranger: { origin: string; server: Server };
  /** Neither: a third party framed into the host page. */
  let thirdParty: { origin: string; server: Server };
  const contexts: BrowserContext[] = [];
  /** Console errors and page errors per page (the popup's included), except failed resource loads. */
  const problems = new Map<Page, string[]>();

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `connect-${name}.png`), fullPage: true });

  function watch(page: Page): Page {
    const seen: string[] = [];
    problems.set(page, seen);
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) seen.push(m.text());
    });
    page.on('pageerror', (e) => seen.push(`pageerror: ${e.message}`));
    return page;
  }

  async function session(endUserId: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await tenant.host.post('/v1/sessions', { endUserId, ...extra });
    expect(res.status).toBe(201);
    return res.body.token;
  }

  /** Opens the host page of `site` in a fresh context, ready to click "Connect". */
  async function openHost(
    site: { origin: string },
    params: { session: string; connector?: string; claimOrigin?: string; frame?: string },
    colorScheme: 'light' | 'dark' = 'light',
  ) {
    const context = await browser.newContext({ viewport: { width: 900, height: 700 }, colorScheme, locale: 'en-US' });
    contexts.push(context);
    const page = watch(await context.newPage());
    const q = new URLSearchParams({ api: api.url, ...Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) } as Record<string, string>);
    await page.goto(`${site.origin}/host?${q}`);
    return { context, page };
  }

  /** Clicks "Connect" and returns the popup, sized like the window the host asked for. */
  async function openPopup(context: BrowserContext, page: Page): Promise<Page> {
    const [popup] = await Promise.all([context.waitForEvent('page'), page.getByRole('button', { name: /^Connect/ }).click()]);
    watch(popup);
    await popup.setViewportSize({ width: 500, height: 640 });
    return popup;
  }

  /**
   * Renders a connect page's HTML at the API origin (its real stylesheet, without its script) in
   * a popup-sized page and screenshots it: for the success page, when the popup closed itself
   * before the screenshot (800 ms; a loaded machine misses that).
   */
  async function preview(html: string, name: string): Promise<void> {
    const context = await browser.newContext({ viewport: { width: 500, height: 640 }, colorScheme: 'light', locale: 'en-US' });
    contexts.push(context);
    await context.route(`${api.url}/connect/assets/connect.js`, (route) => route.fulfill({ contentType: 'text/javascript', body: '' }));
    await context.route(`${api.url}/connect/preview`, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: html }));
    const page = await context.newPage();
    await page.goto(`${api.url}/connect/preview`);
    await shot(page, name);
  }

  const received = (page: Page) => page.evaluate(() => (globalThis as unknown as { received: Seen[] }).received);
  const ignored = (page: Page) => page.evaluate(() => (globalThis as unknown as { ignored: Seen[] }).ignored);
  async function result(page: Page): Promise<ConnectMessage> {
    await page.waitForFunction(() => (globalThis as unknown as { received: Seen[] }).received.length > 0, undefined, { timeout: 20_000 });
    return JSON.parse((await page.locator('#result').textContent())!) as ConnectMessage;
  }

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    sandbox = await startSandbox();
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    [host, stranger, thirdParty] = await Promise.all([startSite(), startSite(), startSite()]);
    tenant = await createTenant(api, 'Acme CRM');
    expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [host.origin] })).status).toBe(200);
    expect((await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    expect((await tenant.owner.put('/v1/admin/connectors/stripe', { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    expect(new URL(host.origin).origin).not.toBe(new URL(api.url).origin);
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    for (const site of [host, stranger, thirdParty]) if (site) await new Promise((resolve) => site.server.close(resolve));
    await api?.close();
    await sandbox?.close();
  });

  it('opens from another origin, clicks through consent, posts the result to the opener and closes; the connection works through the proxy', async () => {
    const { context, page } = await openHost(host, { session: await session('browser-alice') });
    const popup = await openPopup(context, page);

    // The popup went to Switchboard, which sent it on to the provider's consent page.
    await popup.locator('#sandbox-allow').waitFor();
    expect(new URL(popup.url()).origin).toBe(sandbox.url);
    expect(await popup.locator('#sandbox-consent-title').textContent()).toContain('Slack');
    await shot(popup, 'consent');

    const closed = popup.waitForEvent('close', { timeout: 20_000 });
    const callback = popup.waitForResponse((r) => r.url().startsWith(`${api.url}/oauth/callback?`));
    await popup.locator('#sandbox-allow').click();
    // Back on Switchboard's callback: the result page posts to the opener, then closes itself
    // 800 ms later — the screenshot is best effort, a loaded machine may miss it.
    expect((await callback).status()).toBe(200);
    const pictured = await popup
      .getByRole('heading', { name: 'Slack is connected' })
      .waitFor({ timeout: 2_000 })
      .then(() => shot(popup, 'popup-connected'))
      .then(
        () => true,
        () => false,
      );
    await closed;
    expect(popup.isClosed()).toBe(true);

    const message = await result(page);
    expect(message).toEqual({ type: 'switchboard:connect', status: 'connected', connector: 'slack', connectionId: expect.any(String) });
    expect(await received(page)).toEqual([{ origin: api.origin, data: message }]);
    expect(await ignored(page)).toEqual([]);
    await shot(page, 'host-connected');
    if (!pictured) await preview(resultPage(message as ConnectResult, null, 'Slack'), 'popup-connected');

    // The connection is the end user's, active, and usable through the proxy with the secret key.
    const listed = await tenant.host.get('/v1/end-users/browser-alice/connections');
    expect(listed.body.data).toEqual([expect.objectContaining({ id: message.connectionId, connector: 'slack', status: 'active' })]);
    const channel = (await tenant.host.get(`/v1/proxy/${message.connectionId}/conversations.list?limit=1`)).body.channels[0];
    const text = `Hello from the browser test ${Date.now()}`;
    const posted = await tenant.host.post(`/v1/proxy/${message.connectionId}/chat.postMessage`, { channel: channel.id, text });
    expect(posted.status).toBe(200);
    expect(posted.body).toMatchObject({ ok: true, channel: channel.id });
    expect(sandbox.state.slack.messages).toContainEqual(expect.objectContaining({ channel: channel.id, text }));

    expect(problems.get(page)).toEqual([]);
    expect(problems.get(popup)).toEqual([]);
  });

  it('reports a denied consent to the host page and explains it in the popup', async () => {
    const { context, page } = await openHost(host, { session: await session('browser-denier') });
    const popup = await openPopup(context, page);
    await popup.locator('#sandbox-deny').click();
    await popup.waitForURL(`${api.url}/oauth/callback?**`);

    const message = await result(page);
    expect(message).toMatchObject({ type: 'switchboard:connect', status: 'error', connector: 'slack', error: { code: 'consent_denied' } });
    expect(message.connectionId).toBeUndefined();
    await shot(page, 'host-denied');

    // The popup stays open with a readable reason, and its button closes it.
    await popup.getByRole('heading', { name: 'Could not connect Slack' }).waitFor();
    const alert = popup.getByRole('alert');
    expect(await alert.textContent()).toBe('You did not allow access to Slack. Nothing was connected.');
    expect(await alert.isVisible()).toBe(true);
    await shot(popup, 'popup-denied');
    await popup.waitForTimeout(1_000);
    expect(popup.isClosed()).toBe(false);
    // The click closes the page it is on: Playwright may report the page closed before the click settles.
    await Promise.all([
      popup.waitForEvent('close'),
      popup
        .getByRole('button', { name: 'Close window' })
        .click()
        .catch((error: Error) => {
          if (!popup.isClosed()) throw error;
        }),
    ]);

    expect((await tenant.host.get('/v1/end-users/browser-denier/connections')).body.data).toEqual([]);
    expect(problems.get(page)).toEqual([]);
    expect(problems.get(popup)).toEqual([]);
  });

  it('sends nothing to a host page on an origin the tenant did not allow, and says why in the popup', async () => {
    const { context, page } = await openHost(stranger, { session: await session('browser-bob') });
    const popup = await openPopup(context, page);
    await popup.getByRole('heading', { name: /^Could not connect slack$/i }).waitFor(); // the key, not "Slack": see connect.controller.ts
    expect(new URL(popup.url()).origin).toBe(api.origin); // never sent to the provider
    expect(await popup.getByRole('alert').textContent()).toBe(
      `${stranger.origin} is not one of this app's allowed origins, so Switchboard refused the request. Its admin can add it in the Switchboard portal under Settings → Allowed origins.`,
    );
    await shot(popup, 'popup-origin-error');
    await page.waitForTimeout(1_500);
    expect(await received(page)).toEqual([]);
    expect(await ignored(page)).toEqual([]);
    expect(await page.locator('#result').textContent()).toBe('waiting');
    expect(popup.isClosed()).toBe(false);
    expect(problems.get(popup)).toEqual([]);
  });

  it('sends nothing to a page that claims an allowed origin it is not on: the browser enforces the target origin', async () => {
    const { context, page } = await openHost(stranger, { session: await session('browser-liar'), claimOrigin: host.origin });
    const popup = await openPopup(context, page);
    const closed = popup.waitForEvent('close', { timeout: 20_000 });
    const callback = popup.waitForResponse((r) => r.url().startsWith(`${api.url}/oauth/callback?`));
    await popup.locator('#sandbox-allow').click();
    // The connect went through and the result page posted it to the origin it was given, then closed…
    expect((await callback).status()).toBe(200);
    await closed;
    expect((await tenant.host.get('/v1/end-users/browser-liar/connections')).body.data).toEqual([expect.objectContaining({ status: 'active' })]);
    // …so Chromium did not deliver it to the real opener.
    await page.waitForTimeout(500);
    expect(await received(page)).toEqual([]);
    expect(await ignored(page)).toEqual([]);
    expect(await page.locator('#result').textContent()).toBe('waiting');
  });

  it("ignores a look-alike message from a third origin when the host checks event.origin (the widget's pattern)", async () => {
    const { page } = await openHost(host, { session: await session('browser-carol'), frame: `${thirdParty.origin}/forger` });
    await page.waitForFunction(() => (globalThis as unknown as { ignored: Seen[] }).ignored.length > 0, undefined, { timeout: 20_000 });
    expect(await ignored(page)).toEqual([
      { origin: thirdParty.origin, data: { type: 'switchboard:connect', status: 'connected', connector: 'slack', connectionId: 'conn_forged' } },
    ]);
    expect(await received(page)).toEqual([]);
    expect(await page.locator('#result').textContent()).toBe('waiting');
    await shot(page, 'host-forged-ignored');
    // (The same listener accepts the genuine popup's message: the first case.)
  });

  it('takes API-key credentials in the popup form, never in the host page, and posts the result', async () => {
    const { context, page } = await openHost(host, { session: await session('browser-erin'), connector: 'stripe' }, 'dark');
    const popup = await openPopup(context, page);
    await popup.getByRole('heading', { name: 'Connect Stripe' }).waitFor();
    expect(new URL(popup.url()).origin).toBe(api.origin);
    const field = popup.getByLabel(/key/i);
    await field.fill('sk_test_wrong');
    await popup.getByRole('button', { name: 'Connect' }).click();
    await popup.getByRole('alert').waitFor();
    expect(await popup.getByRole('alert').textContent()).toContain('did not accept these credentials');
    await shot(popup, 'form-error-dark');
    await popup.emulateMedia({ colorScheme: 'light' });
    await shot(popup, 'form-error');
    expect(await received(page)).toEqual([]);

    await popup.getByLabel(/key/i).fill(SANDBOX_CREDENTIALS.stripe.apiKey);
    const closed = popup.waitForEvent('close', { timeout: 20_000 });
    await popup.getByRole('button', { name: 'Connect' }).click();
    const message = await result(page);
    expect(message).toMatchObject({ type: 'switchboard:connect', status: 'connected', connector: 'stripe', connectionId: expect.any(String) });
    await closed;
    expect(problems.get(popup)).toEqual([]);
  });
});
