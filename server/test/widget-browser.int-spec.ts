import { consentInSandbox, type Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { launchChromium } from './chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startApi, startWorker, type TenantFixture, type TestApi } from './harness';

/**
 * The embeddable widget in real Chromium against a real API, worker and the sandbox providers. A
 * host page on another origin (http://localhost:<port>; the API is http://127.0.0.1:<port>) pastes
 * the snippet, and an end user connects Slack in the popup, switches a flow on, picks a channel,
 * saves, reloads, disconnects; keyboard only; under hostile page CSS; with axe. Screenshots of every
 * screen, light and dark, land in test-results/screenshots/widget-*.png.
 */

const SCREENSHOTS = join(__dirname, '..', 'test-results', 'screenshots');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** The copy-paste snippet from the README, pointed at this API. */
const snippet = (api: string) =>
  `(function(w,d,s,u){w.Switchboard=w.Switchboard||function(){(w.Switchboard.q=w.Switchboard.q||[]).push(arguments)};var j=d.createElement(s);j.async=1;j.src=u;d.head.appendChild(j)})(window,document,'script','${api}/embed/v1/loader.js');`;

/** Global CSS a careless or hostile host might ship: it must not reach into the widget. */
const HOSTILE_CSS = `
*{font-family:"Comic Sans MS",cursive!important;color:#f0f!important;letter-spacing:3px!important;box-sizing:content-box!important}
html{font-size:8px!important}
body{line-height:4!important;text-transform:uppercase!important}
div,span,p,section,ul,li,h1,h2,h3{display:inline!important;margin:40px!important;padding:0!important;border:3px dotted red!important}
button,input,select{all:unset!important;background:yellow!important;border:5px solid #000!important}
dialog{display:none!important;position:static!important}
switchboard-widget{display:none!important;opacity:0!important}
img,svg{width:300px!important;height:300px!important}
[role=switch],[role=dialog]{visibility:hidden!important}
`;

interface HostConfig {
  api: string;
  token: string;
  endUserId: string;
  theme?: Record<string, string>;
  inline?: boolean;
  hostile?: boolean;
  /** init without a token (the missing-token case). */
  noToken?: boolean;
  /** init without onSessionExpired. */
  noRefresh?: boolean;
  /** Call connect('slack') as the page loads, without a click (pop-up blockers refuse that). */
  connectOnLoad?: boolean;
  /** Serve the page with a strict Content-Security-Policy (no inline styles at all). */
  csp?: boolean;
}

/** The host app's page, as an integrator writes it: the snippet, init, a button, event listeners. */
function hostPage(config: HostConfig): string {
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme CRM</title>
<style>body{font:15px system-ui,sans-serif;margin:0;color:#1d2230;background:#f4f5f7}header{display:flex;align-items:center;justify-content:space-between;padding:14px 28px;background:#fff;border-bottom:1px solid #e3e6ec}
main{max-width:900px;margin:28px auto;padding:0 20px}#open{font:inherit;font-weight:600;padding:8px 16px;border-radius:8px;border:1px solid #c9ced8;background:#fff}</style>
${config.hostile ? `<style>${HOSTILE_CSS}</style>` : ''}
<script>${snippet(config.api)}</script>
</head><body>
<header><strong>Acme CRM</strong><button id="open" type="button">Manage integrations</button></header>
<main><h1>Settings</h1><div id="inline"></div></main>
<script>
  const config = ${json};
  window.events = [];
  window.refreshes = 0;
  if (!config.noToken) {
    Switchboard('init', {
      token: config.token,
      theme: config.theme,
      onSessionExpired: config.noRefresh ? undefined : async () => {
        window.refreshes++;
        const res = await fetch('/token?endUserId=' + encodeURIComponent(config.endUserId));
        return (await res.json()).token;
      },
    });
  } else {
    Switchboard('init', { token: '' });
  }
  for (const name of ['connected', 'disconnected', 'flow-enabled', 'flow-disabled', 'approval-decided', 'open', 'close', 'error']) {
    Switchboard('on', name, (payload) => window.events.push({ name, payload }));
  }
  document.getElementById('open').addEventListener('click', () => Switchboard('open'));
  if (config.connectOnLoad) Switchboard('connect', 'slack');
  if (config.inline) Switchboard('mount', '#inline');
</script></body></html>`;
}

/** The portal's theme editor, in short: a preview with a theme, no session. */
const previewPage = (api: string) => `<!doctype html><html lang="en"><head><title>Theme editor</title><script>${snippet(api)}</script></head>
<body style="margin:24px;font:14px system-ui"><div id="preview"></div>
<script>Switchboard('preview', { container: '#preview', theme: { mode: 'dark', accent: '#f59e0b', radius: '4px', font: 'Georgia, serif' } });</script></body></html>`;

/** The host app: its page at /host?config=…, and /token — its backend minting a fresh session. */
async function startHost(mint: (endUserId: string) => Promise<string>): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/host') {
      const config = JSON.parse(url.searchParams.get('config')!) as HostConfig;
      const headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' };
      // The page's own inline script is allowed; styles are not, at all: the widget must not need them.
      if (config.csp)
        headers['content-security-policy'] =
          `default-src 'self'; script-src 'self' 'unsafe-inline' ${config.api}; connect-src 'self' ${config.api}; img-src ${config.api}; style-src 'none'`;
      res.writeHead(200, headers).end(hostPage(config));
    } else if (url.pathname === '/preview') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(previewPage(url.searchParams.get('api')!));
    } else if (url.pathname === '/token') {
      mint(url.searchParams.get('endUserId')!).then(
        (token) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token })),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  return { origin: `http://localhost:${(server.address() as AddressInfo).port}`, server };
}

const DEALS_FLOW = {
  key: 'won-deals-to-slack',
  name: 'Post won deals to Slack',
  description: 'When a deal is marked won in Acme CRM, post it to a Slack channel.',
  trigger: { type: 'event', event: 'deal.won' },
  connectors: ['slack'],
  inputs: {
    channel: { type: 'string', title: 'Channel', description: 'Where the deal is announced', required: true, options: { connector: 'slack', source: 'channels' } },
    minAmount: { type: 'number', title: 'Only deals of at least', default: 0, minimum: 0 },
    mentionOwner: { type: 'boolean', title: 'Mention the deal owner', default: true },
    format: { type: 'string', title: 'Message style', enum: ['compact', 'detailed'], default: 'compact' },
    pipelines: { type: 'array', title: 'Pipelines', enum: ['New business', 'Renewals', 'Upsell'] },
  },
  steps: [
    {
      id: 'big',
      type: 'branch',
      if: '=$trigger.amount >= $inputs.minAmount',
      then: [{ id: 'post', type: 'action', connector: 'slack', action: 'send_message', input: { channel: '=$inputs.channel', text: "='Deal ' & $trigger.name & ' won'" } }],
    },
  ],
};

const REFUND_FLOW = {
  key: 'refund-approvals',
  name: 'Approve large refunds',
  description: 'Ask before a refund above your limit is posted to Slack.',
  trigger: { type: 'event', event: 'refund.requested' },
  connectors: ['slack'],
  inputs: {},
  steps: [
    {
      id: 'ok',
      type: 'approval',
      title: "='Refund ' & $trigger.amount & ' EUR to ' & $trigger.customer & '?'",
      description: 'Requested by the support team',
      approvers: 'end_user',
    },
    { id: 'note', type: 'transform', output: { done: true } },
  ],
};

describe('widget in a browser', { timeout: 120_000 }, () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let browser: Browser;
  let host: { origin: string; server: Server };
  const contexts: BrowserContext[] = [];
  const problems = new Map<Page, string[]>();

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `widget-${name}.png`) });

  /** The same screen light and dark (the widget follows the system scheme unless the theme says otherwise). */
  async function shots(page: Page, name: string): Promise<void> {
    await shot(page, `${name}-light`);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.locator('switchboard-widget .sb[data-theme=dark]').first().waitFor({ state: 'attached' });
    await shot(page, `${name}-dark`);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.locator('switchboard-widget .sb[data-theme=light]').first().waitFor({ state: 'attached' });
  }

  /** Connects Slack for an end user over HTTP (the popup's requests, without a browser), for tests about other things. */
  async function connectSlackOverHttp(endUserId: string, fixture = tenant): Promise<string> {
    const start = await fetch(`${api.url}/connect/slack?${new URLSearchParams({ session: await session(endUserId, {}, fixture), origin: host.origin })}`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const page = await fetch(await consentInSandbox(start.headers.get('location')!));
    expect(page.status).toBe(200);
    return JSON.parse(/id="switchboard-result">([^<]*)</.exec(await page.text())![1]!).message.connectionId;
  }

  /** Where keyboard focus is, through shadow roots. */
  const focused = (page: Page) =>
    page.evaluate(() => {
      let el = document.activeElement;
      let inWidget = false;
      while (el?.shadowRoot?.activeElement) {
        inWidget ||= el.tagName === 'SWITCHBOARD-WIDGET';
        el = el.shadowRoot.activeElement;
      }
      if (el?.tagName === 'SWITCHBOARD-WIDGET') inWidget = true;
      return {
        inWidget,
        tag: el?.tagName.toLowerCase() ?? null,
        id: el?.id ?? null,
        name: el?.getAttribute('aria-label') ?? el?.textContent?.trim().slice(0, 60) ?? null,
        role: el?.getAttribute('role') ?? null,
      };
    });

  /** Tabs forward until `match` has focus (at most `max` presses), asserting focus never leaves the modal. */
  async function tabTo(page: Page, match: (f: Awaited<ReturnType<typeof focused>>) => boolean, max = 40): Promise<void> {
    for (let i = 0; i < max; i++) {
      await page.keyboard.press('Tab');
      const f = await focused(page);
      expect(f.inWidget, `focus left the widget: ${JSON.stringify(f)}`).toBe(true);
      if (match(f)) return;
    }
    throw new Error('never reached the control');
  }

  async function session(endUserId: string, extra: Record<string, unknown> = {}, fixture = tenant): Promise<string> {
    const res = await fixture.host.post('/v1/sessions', { endUserId, ...extra });
    expect(res.status).toBe(201);
    return res.body.token;
  }

  function watch(page: Page): Page {
    const seen: string[] = [];
    problems.set(page, seen);
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) seen.push(m.text());
    });
    page.on('pageerror', (e) => seen.push(`pageerror: ${e.message}`));
    return page;
  }

  async function openHost(config: Omit<HostConfig, 'api'>, options: { colorScheme?: 'light' | 'dark'; width?: number; height?: number } = {}) {
    const context = await browser.newContext({
      viewport: { width: options.width ?? 1100, height: options.height ?? 800 },
      colorScheme: options.colorScheme ?? 'light',
      locale: 'en-US',
      deviceScaleFactor: 1,
    });
    contexts.push(context);
    context.setDefaultTimeout(20_000); // a step that fails says which
    const page = watch(await context.newPage());
    await page.goto(`${host.origin}/host?${new URLSearchParams({ config: JSON.stringify({ api: api.url, ...config }) })}`);
    return { context, page };
  }

  const dialog = (page: Page) => page.getByRole('dialog', { name: 'Integrations' });
  const events = (page: Page) => page.evaluate(() => (globalThis as unknown as { events: Array<{ name: string; payload: any }> }).events);

  async function openModal(page: Page): Promise<Locator> {
    await page.getByRole('button', { name: 'Manage integrations' }).click();
    const modal = dialog(page);
    await modal.getByRole('button', { name: /^Slack / }).waitFor();
    return modal;
  }

  /** Clicks "Connect Slack" and allows access on the sandbox consent page; resolves when the popup has closed. */
  async function connectSlack(context: BrowserContext, modal: Locator): Promise<void> {
    const [popup] = await Promise.all([context.waitForEvent('page'), modal.getByRole('button', { name: 'Connect Slack' }).click()]);
    watch(popup);
    await popup.locator('#sandbox-allow').waitFor();
    const closed = popup.waitForEvent('close', { timeout: 30_000 });
    await popup.locator('#sandbox-allow').click();
    await closed;
  }

  /** axe-core on the widget's shadow tree: no violations. */
  async function axe(page: Page, label: string): Promise<void> {
    await page.addScriptTag({ content: AXE });
    // Colours mid-transition (a button's hover fading) are not the page's: take the pointer off the
    // widget (a hover left by the last click starts its fade now), then let finite animations end.
    await page.mouse.move(0, 0);
    // Two frames: the hover's fade-out exists only once styles were recalculated (late on a loaded box).
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await page.evaluate(() =>
      Promise.all(
        document
          .getAnimations()
          .filter((a) => a.effect?.getTiming().iterations !== Infinity)
          .map((a) => a.finished.catch(() => undefined)),
      ),
    );
    const violations = await page.evaluate(async () => {
      const result = await (globalThis as any).axe.run({ include: [['switchboard-widget']] }, { resultTypes: ['violations'] });
      return result.violations.map((v: any) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n: any) => n.target.join(' ')).slice(0, 3) }));
    });
    expect(violations, label).toEqual([]);
  }

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    sandbox = await startSandbox();
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Acme CRM');
    host = await startHost((endUserId) => session(endUserId));
    expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [host.origin] })).status).toBe(200);
    for (const key of ['slack', 'hubspot', 'github', 'notion', 'google-sheets', 'salesforce', 'stripe']) {
      expect((await tenant.owner.put(`/v1/admin/connectors/${key}`, { enabled: true, settings: { useSandbox: true } })).status, key).toBe(200);
    }
    for (const definition of [DEALS_FLOW, REFUND_FLOW]) {
      const created = await tenant.owner.post('/v1/admin/flow-templates', { definition });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const published = await tenant.owner.post(`/v1/admin/flow-templates/${definition.key}/publish`);
      expect(published.status, JSON.stringify(published.body)).toBe(201);
    }
    // Popups opened without a click must be refused: keep the blocker.
    browser = await launchChromium({ popupBlocker: true });
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    if (host) await new Promise((resolve) => host.server.close(resolve));
    await worker?.close();
    await api?.close();
    await sandbox?.close();
  });

  it('connects Slack, enables a flow with a channel from the dynamic dropdown, saves; reload shows it; disconnect works', async () => {
    const endUserId = 'widget-alice';
    const { context, page } = await openHost({ endUserId, token: await session(endUserId) });
    const modal = await openModal(page);
    expect((await events(page)).map((e) => e.name)).toEqual(['open']);
    await shots(page, 'catalogue');

    await modal.getByRole('button', { name: /^Slack / }).click();
    await modal.getByRole('heading', { name: 'Slack', exact: true }).waitFor();
    await shots(page, 'integration');

    await connectSlack(context, modal);
    await modal.getByText(/^Connected as /).waitFor();
    const connected = (await events(page)).find((e) => e.name === 'connected')!;
    expect(connected.payload).toMatchObject({ connector: 'slack', status: 'active', endUserId });
    const [connection] = (await tenant.host.get(`/v1/end-users/${endUserId}/connections`)).body.data;
    expect(connection).toMatchObject({ id: connected.payload.id, status: 'active' });
    await shots(page, 'connected');

    // Switch the flow on: its settings come first.
    await modal.getByRole('switch', { name: 'Turn on Post won deals to Slack' }).click();
    const channel = modal.getByRole('combobox', { name: /Channel/ });
    await channel.waitFor();
    // Submitting without the required channel: a message at the field, nothing saved.
    await modal.getByRole('button', { name: 'Turn on', exact: true }).click();
    await modal.getByText('Channel is required.').waitFor();
    expect(await channel.getAttribute('aria-invalid')).toBe('true');
    await shots(page, 'settings-validation');
    expect((await tenant.host.get(`/v1/end-users/${endUserId}/flows`)).body.data.find((f: any) => f.key === DEALS_FLOW.key).instance).toBeNull();

    // Search as you type in the channels of the connected workspace.
    await channel.click();
    await channel.fill('eng');
    const option = modal.getByRole('option', { name: /#engineering/ });
    await option.waitFor();
    await shots(page, 'options');
    await option.click();
    expect(await channel.inputValue()).toBe('#engineering');
    await modal.getByLabel('Only deals of at least').fill('5000');
    await modal.getByLabel('Message style').selectOption('detailed');
    await modal.getByRole('checkbox', { name: 'Renewals' }).check();
    await modal.getByRole('button', { name: 'Turn on', exact: true }).click();
    await modal.getByRole('switch', { name: 'Turn on Post won deals to Slack' }).and(page.locator('[aria-checked=true]')).waitFor();

    const flows = (await tenant.host.get(`/v1/end-users/${endUserId}/flows`)).body.data;
    const instance = flows.find((f: any) => f.key === DEALS_FLOW.key).instance;
    const engineering = sandbox.state.slack.channels.find((c) => c.name === 'engineering')!;
    expect(instance).toMatchObject({ enabled: true, settings: { channel: engineering.id, minAmount: 5000, mentionOwner: true, format: 'detailed', pipelines: ['Renewals'] } });
    expect((await events(page)).filter((e) => e.name === 'flow-enabled')).toEqual([{ name: 'flow-enabled', payload: expect.objectContaining({ key: DEALS_FLOW.key }) }]);
    await shots(page, 'flow-enabled');

    // Reload: the saved state is what the widget shows.
    await page.reload();
    const again = await openModal(page);
    await again.getByRole('button', { name: 'Slack Connected' }).click();
    await again.getByText(/^Connected as /).waitFor();
    expect(await again.getByRole('switch', { name: 'Turn on Post won deals to Slack' }).getAttribute('aria-checked')).toBe('true');
    // The saved channel id is shown by its name once the first page of channels has answered.
    await expect.poll(() => again.getByRole('combobox', { name: /Channel/ }).inputValue()).toBe('#engineering');
    expect(await again.getByLabel('Only deals of at least').inputValue()).toBe('5000');
    expect(await again.getByLabel('Message style').inputValue()).toBe('detailed');
    expect(await again.getByRole('checkbox', { name: 'Renewals' }).isChecked()).toBe(true);

    // Change a setting and save.
    await again.getByLabel('Only deals of at least').fill('250');
    await again.getByRole('button', { name: 'Save' }).click();
    await again.getByText('Saved.').waitFor();
    expect((await tenant.host.get(`/v1/end-users/${endUserId}/flows`)).body.data.find((f: any) => f.key === DEALS_FLOW.key).instance.settings.minAmount).toBe(250);

    // Disconnect, after confirming.
    await again.getByRole('button', { name: 'Disconnect' }).click();
    const confirm = page.getByRole('dialog', { name: 'Disconnect Slack?' });
    await confirm.waitFor();
    await shots(page, 'disconnect-confirm');
    await confirm.getByRole('button', { name: 'Disconnect' }).click();
    await again.getByRole('button', { name: 'Connect Slack' }).waitFor();
    expect((await tenant.host.get(`/v1/end-users/${endUserId}/connections`)).body.data).toEqual([]);
    expect((await events(page)).find((e) => e.name === 'disconnected')?.payload).toEqual({ connectionId: connection.id, connector: 'slack' });

    // Close with ×: the close event, and the dialog is gone.
    await again.getByRole('button', { name: 'Close' }).click();
    await dialog(page).waitFor({ state: 'hidden' });
    expect((await events(page)).at(-1)?.name).toBe('close');
    expect(problems.get(page)).toEqual([]);
  });
  it('shows an option list in full when its picker is the last field of a flow: in the modal, near the bottom, and inline', async () => {
    // A tenant of its own, so the flow below changes nothing the other tests count.
    const other = await createTenant(api, 'Picker Co');
    expect((await other.owner.patch('/v1/admin/tenant', { allowedOrigins: [host.origin] })).status).toBe(200);
    expect((await other.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    const definition = {
      key: 'ping-channel',
      name: 'Ping a channel',
      trigger: { type: 'event', event: 'ping' },
      connectors: ['slack'],
      inputs: {
        greeting: { type: 'string', title: 'Greeting', default: 'Hello' },
        channel: { type: 'string', title: 'Channel', required: true, options: { connector: 'slack', source: 'channels' } },
      },
      steps: [{ id: 'post', type: 'action', connector: 'slack', action: 'send_message', input: { channel: '=$inputs.channel', text: '=$inputs.greeting' } }],
    };
    expect((await other.owner.post('/v1/admin/flow-templates', { definition })).status).toBe(201);
    expect((await other.owner.post('/v1/admin/flow-templates/ping-channel/publish')).status).toBe(201);
    const endUserId = 'widget-picker';
    await connectSlackOverHttp(endUserId, other);

    /** Opens the channel list; how tall it is and whether its top and bottom rows are what a click there reaches. */
    const openList = async (scope: Locator) => {
      await scope.getByRole('switch', { name: 'Turn on Ping a channel' }).click();
      await scope.getByRole('combobox', { name: /Channel/ }).click();
      const listbox = scope.getByRole('listbox');
      await listbox.getByRole('option').nth(5).waitFor();
      return listbox.evaluate((ul) => {
        const list = ul.parentElement!;
        const r = list.getBoundingClientRect();
        const root = list.getRootNode() as ShadowRoot;
        const reaches = (y: number) => list.contains(root.elementFromPoint(r.left + r.width / 2, y));
        return { height: Math.round(r.height), top: reaches(r.top + 6), bottom: reaches(r.bottom - 6), up: list.classList.contains('up') };
      });
    };

    for (const [mode, height] of [
      ['modal', 800],
      ['modal-short', 620],
    ] as const) {
      const { page } = await openHost({ endUserId, token: await session(endUserId, {}, other) }, { height });
      await page.getByRole('button', { name: 'Manage integrations' }).click();
      const modal = dialog(page);
      await modal.getByRole('button', { name: 'Slack Connected' }).click();
      const seen = await openList(modal);
      expect(seen, mode).toMatchObject({ height: 240, top: true, bottom: true });
      await shot(page, `options-last-field-${mode}`);
      expect(problems.get(page)).toEqual([]);
    }

    const { page } = await openHost({ endUserId, token: await session(endUserId, {}, other), inline: true });
    const inline = page.locator('#inline');
    await inline.getByRole('button', { name: 'Slack Connected' }).click();
    const seen = await openList(inline);
    expect(seen).toMatchObject({ height: 240, top: true, bottom: true });
    await shot(page, 'options-last-field-inline');
    expect(problems.get(page)).toEqual([]);
  });

  it('works with the keyboard alone: focus trapped in the modal, visible focus, Escape closes and focus returns; no axe violations', async () => {
    const endUserId = 'widget-keyboard';
    await connectSlackOverHttp(endUserId);
    const { page } = await openHost({ endUserId, token: await session(endUserId) });
    await page.keyboard.press('Tab');
    expect(await focused(page)).toMatchObject({ id: 'open', inWidget: false });
    await page.keyboard.press('Enter');
    await dialog(page)
      .getByRole('button', { name: /^Slack / })
      .waitFor();
    expect((await focused(page)).inWidget).toBe(true);
    await axe(page, 'catalogue');

    // Round and round: 30 presses of Tab and 10 of Shift+Tab never leave the dialog.
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      expect((await focused(page)).inWidget, `Tab ${i}`).toBe(true);
    }
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Shift+Tab');
      expect((await focused(page)).inWidget, `Shift+Tab ${i}`).toBe(true);
    }

    // The search box filters as you type.
    await tabTo(page, (f) => f.tag === 'input');
    await page.keyboard.type('sla');
    await dialog(page)
      .getByRole('button', { name: /^HubSpot / })
      .waitFor({ state: 'detached' });
    await tabTo(page, (f) => f.name?.startsWith('Slack') ?? false);
    // The focused control shows a focus ring.
    const ring = await page.evaluate(() => {
      let el = document.activeElement;
      while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
      return getComputedStyle(el!).outlineStyle;
    });
    expect(ring).toBe('solid');
    await shots(page, 'keyboard-focus');
    await page.keyboard.press('Enter');
    await dialog(page)
      .getByText(/^Connected as /)
      .waitFor();
    await axe(page, 'integration page');

    // Switch the flow on with Space: its settings form opens; pick a channel with the arrows.
    await tabTo(page, (f) => f.role === 'switch');
    await page.keyboard.press('Space');
    const channel = dialog(page).getByRole('combobox', { name: /Channel/ });
    await channel.waitFor();
    await tabTo(page, (f) => f.role === 'combobox');
    await page.keyboard.type('sales');
    await dialog(page)
      .getByRole('option', { name: /#sales/ })
      .waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowUp');
    // Escape in the open list closes the list, not the modal.
    await page.keyboard.press('Escape');
    await dialog(page).getByRole('listbox').waitFor({ state: 'detached' });
    expect(await dialog(page).isVisible()).toBe(true);
    await page.keyboard.press('ArrowDown');
    await dialog(page)
      .getByRole('option', { name: /#sales/ })
      .waitFor();
    // The list may first show every channel and then the search's answer: wait until #sales leads it.
    await expect.poll(() => dialog(page).getByRole('option').first().textContent(), { timeout: 10_000 }).toMatch(/^#sales/);
    await page.keyboard.press('Enter');
    expect(await channel.inputValue()).toBe('#sales');
    await axe(page, 'settings form');
    await tabTo(page, (f) => f.name === 'Turn on');
    await page.keyboard.press('Enter');
    await dialog(page).getByRole('tab', { name: 'Recent activity' }).waitFor();
    const flow = (await tenant.host.get(`/v1/end-users/${endUserId}/flows`)).body.data.find((f: any) => f.key === DEALS_FLOW.key);
    expect(flow.instance).toMatchObject({ enabled: true, settings: { channel: sandbox.state.slack.channels.find((c) => c.name === 'sales')!.id } });

    // Escape closes the modal and focus goes back to the button that opened it.
    await page.keyboard.press('Escape');
    await dialog(page).waitFor({ state: 'hidden' });
    await expect.poll(() => focused(page)).toMatchObject({ id: 'open', inWidget: false });
    expect((await events(page)).map((e) => e.name)).toEqual(['open', 'flow-enabled', 'close']);
    expect(problems.get(page)).toEqual([]);
  });

  it('renders correctly inline and in the modal under hostile page CSS, with the host theme', async () => {
    const endUserId = 'widget-hostile';
    await connectSlackOverHttp(endUserId);
    const { page } = await openHost({ endUserId, token: await session(endUserId), inline: true, hostile: true, theme: { accent: '#0f766e', radius: '14px' } });
    const card = page.locator('#inline').getByRole('button', { name: 'Slack Connected' });
    await card.waitFor();
    const style = await card.evaluate((el) => {
      const s = getComputedStyle(el);
      const root = el.closest('.sb')!;
      return {
        font: s.fontFamily,
        color: s.color,
        display: s.display,
        letterSpacing: s.letterSpacing,
        accent: getComputedStyle(root).getPropertyValue('--sb-accent').trim(),
        grid: getComputedStyle(el.closest('ul')!).display,
      };
    });
    expect(style.font).not.toMatch(/Comic/);
    expect(style.color).not.toBe('rgb(255, 0, 255)');
    expect(style.letterSpacing).toBe('normal');
    expect(style).toMatchObject({ display: 'flex', grid: 'grid', accent: '#0f766e' });
    const box = (await page.locator('#inline switchboard-widget').boundingBox())!;
    expect(box.width).toBeGreaterThan(700);
    expect(box.height).toBeGreaterThan(400);
    await shots(page, 'hostile-css-inline');

    // The modal too, although the page hides every dialog and our element with !important.
    await page.locator('#open').click();
    const modal = dialog(page);
    await modal.getByRole('button', { name: 'Slack Connected' }).waitFor();
    const modalBox = (await modal.boundingBox())!;
    expect(modalBox.width).toBeGreaterThan(600);
    await modal.getByRole('button', { name: 'Slack Connected' }).click();
    await modal.getByText(/^Connected as /).waitFor();
    expect(await modal.getByRole('switch', { name: 'Turn on Post won deals to Slack' }).isVisible()).toBe(true);
    await shots(page, 'hostile-css-modal');
    await axe(page, 'hostile page');
    expect(problems.get(page)).toEqual([]);
  });

  it("follows the tenant's theme (dark mode, accent) unless the host overrides it", async () => {
    expect((await tenant.owner.patch('/v1/admin/tenant', { widgetTheme: { mode: 'dark', accent: '#e11d48', radius: '6px' } })).status).toBe(200);
    try {
      const { page } = await openHost({ endUserId: 'widget-themed', token: await session('widget-themed'), inline: true }, { colorScheme: 'light' });
      await page
        .locator('#inline')
        .getByRole('button', { name: /^Slack / })
        .waitFor();
      const root = page.locator('#inline switchboard-widget .sb');
      expect(await root.getAttribute('data-theme')).toBe('dark');
      expect(await root.evaluate((el) => getComputedStyle(el).getPropertyValue('--sb-accent').trim())).toBe('#e11d48');
      await shot(page, 'tenant-theme-inline');
      await axe(page, 'tenant theme');

      const overridden = await openHost({ endUserId: 'widget-themed', token: await session('widget-themed'), inline: true, theme: { mode: 'light' } });
      await overridden.page
        .locator('#inline')
        .getByRole('button', { name: /^Slack / })
        .waitFor();
      expect(await overridden.page.locator('#inline switchboard-widget .sb').getAttribute('data-theme')).toBe('light');
    } finally {
      expect((await tenant.owner.patch('/v1/admin/tenant', { widgetTheme: null })).status).toBe(200);
    }
  });

  it('handles a blocked popup, a popup closed by the user, look-alike messages, and a failing option source', async () => {
    const endUserId = 'widget-trouble';
    // connect() without a click: Chromium's pop-up blocker refuses the window; the widget says so and offers a retry.
    const { context, page } = await openHost({ endUserId, token: await session(endUserId), connectOnLoad: true });
    await expect.poll(async () => (await events(page)).map((e) => e.name === 'error' && e.payload.code)).toEqual(['popup_blocked']);
    expect(context.pages()).toHaveLength(1);
    const modal = await openModal(page);
    await modal.getByRole('button', { name: /^Slack / }).click();
    await modal.getByRole('alert').filter({ hasText: 'blocked the connect window' }).waitFor();
    await shots(page, 'popup-blocked');

    // Try again (a click) opens it; the user closes it.
    const [popup] = await Promise.all([context.waitForEvent('page'), modal.getByRole('button', { name: 'Try again' }).click()]);
    await popup.locator('#sandbox-allow').waitFor();
    await modal.getByText('Finish connecting in the window that opened…').waitFor();

    // A look-alike result from the host's own origin (any script or frame could post one) is ignored.
    await page.evaluate(() =>
      window.postMessage({ type: 'switchboard:connect', status: 'connected', connector: 'slack', connectionId: '00000000-0000-0000-0000-000000000000' }, '*'),
    );
    await page.waitForTimeout(300);
    expect(await modal.getByText('Finish connecting in the window that opened…').isVisible()).toBe(true);
    await shots(page, 'connecting');

    await popup.close();
    await modal.getByText('The connect window was closed before Slack was connected.').waitFor();
    expect((await tenant.host.get(`/v1/end-users/${endUserId}/connections`)).body.data).toEqual([]);
    expect((await events(page)).filter((e) => e.name === 'error').map((e) => e.payload.code)).toEqual(['popup_blocked', 'popup_closed']);
    expect((await events(page)).some((e) => e.name === 'connected')).toBe(false);

    // Connected for real now; then the channels source fails.
    await connectSlack(context, modal);
    await modal.getByText(/^Connected as /).waitFor();
    const fault = sandbox.inject({ connector: 'slack', path: /conversations\.list/, status: 500, times: Infinity });
    await modal.getByRole('switch', { name: 'Turn on Post won deals to Slack' }).click();
    await modal.getByRole('combobox', { name: /Channel/ }).click();
    const failure = modal.getByRole('alert').filter({ hasText: 'Could not load the choices' });
    await failure.waitFor({ timeout: 30_000 });
    await failure.scrollIntoViewIfNeeded();
    await shots(page, 'options-error');
    fault.cancel();
    await failure.getByRole('button', { name: 'Retry' }).click();
    await modal.getByRole('option', { name: /#general/ }).waitFor();
    expect(problems.get(page)).toEqual([]);
  });

  it('asks the host for a fresh session when the token is refused, and says so when there is none', async () => {
    const endUserId = 'widget-expiring';
    // An unknown token: the widget's first request answers 401, the host's callback mints a new session.
    const { page } = await openHost({ endUserId, token: 'sess_expired_long_ago' });
    const modal = await openModal(page);
    expect(await page.evaluate(() => (globalThis as any).refreshes)).toBe(1);
    expect(await modal.getByRole('button', { name: /^Slack / }).isVisible()).toBe(true);

    // No callback: a clear message and an error event.
    const stuck = await openHost({ endUserId, token: 'sess_expired_long_ago', noRefresh: true });
    await stuck.page.getByRole('button', { name: 'Manage integrations' }).click();
    await dialog(stuck.page).getByText('Your session has expired. Reload the page to continue.').waitFor();
    expect((await events(stuck.page)).filter((e) => e.name === 'error').map((e) => e.payload.code)).toEqual(['session_expired']);
    await shots(stuck.page, 'session-expired');

    // No token at all.
    const none = await openHost({ endUserId, token: '', noToken: true });
    await none.page.getByRole('button', { name: 'Manage integrations' }).click();
    await dialog(none.page).getByText('Your session has expired. Reload the page to continue.').waitFor();
    expect((await events(none.page)).filter((e) => e.name === 'error').map((e) => e.payload.code)).toEqual(['missing_token']);

    // A connector the tenant has not enabled.
    await page.bringToFront();
    await page.keyboard.press('Escape');
    await dialog(page).waitFor({ state: 'hidden' });
    await page.evaluate(() => (globalThis as any).Switchboard('open', { connector: 'zendesk' }));
    await dialog(page).getByText('zendesk is not available here.').waitFor();
    expect(await dialog(page).getByRole('button', { name: 'All integrations' }).count()).toBe(0);
  });

  it('shows recent runs with errors in plain words and pending approvals the end user decides', async () => {
    const endUserId = 'widget-runs';
    await connectSlackOverHttp(endUserId);
    const general = sandbox.state.slack.channels.find((c) => c.name === 'general')!;
    for (const [key, settings] of [
      [DEALS_FLOW.key, { channel: general.id, minAmount: 0 }],
      [REFUND_FLOW.key, {}],
    ] as const) {
      const res = await tenant.host.post(`/v1/end-users/${endUserId}/flows/${key}/enable`, { settings });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    const waitRun = async (id: string, statuses: string[]) => {
      for (let i = 0; i < 200; i++) {
        const run = (await tenant.host.get(`/v1/runs/${id}`)).body;
        if (statuses.includes(run.status)) return run;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`run ${id} never reached ${statuses.join('/')}`);
    };
    const send = async (name: string, payload: unknown) => {
      const res = await tenant.host.post('/v1/events', { name, endUserId, payload });
      expect(res.status).toBe(202);
      return res.body.runs[0].id as string;
    };
    await waitRun(await send('deal.won', { name: 'Globex', amount: 12000 }), ['succeeded']);
    sandbox.inject({ connector: 'slack', path: /chat\.postMessage/, status: 200, body: { ok: false, error: 'channel_not_found' }, times: 1 });
    const failed = await waitRun(await send('deal.won', { name: 'Initech', amount: 800 }), ['failed']);
    // The connection drops after Slack got the message: the outcome is unknown, not simply "failed".
    sandbox.inject({ connector: 'slack', path: /chat\.postMessage/, drop: true, times: 1 });
    const unsure = await waitRun(await send('deal.won', { name: 'Hooli', amount: 900 }), ['failed']);
    expect(unsure.steps.find((s: { outcome?: string }) => s.outcome === 'unknown')).toBeDefined();
    const waiting = await waitRun(await send('refund.requested', { amount: 420, customer: 'Globex' }), ['waiting']);

    const { page } = await openHost({ endUserId, token: await session(endUserId) });
    const modal = await openModal(page);
    // The catalogue points at what waits for the end user.
    await modal.getByText('A request is waiting for your approval.').waitFor();
    await shots(page, 'catalogue-pending-approval');
    await modal.getByRole('button', { name: 'Review' }).click();
    await modal.getByText(/^Connected as /).waitFor();

    await modal.getByRole('tab', { name: 'Recent activity' }).first().click();
    await modal.getByText(failed.error.message).waitFor();
    // Each run says what happened, in words, and when.
    const deals = modal.getByRole('article', { name: 'Post won deals to Slack' });
    const items = deals.locator('.runs li');
    await expect.poll(() => items.count()).toBe(3);
    expect(await items.allInnerTexts()).toEqual([
      expect.stringMatching(/^Post won deals to Slack may not have finished\n(just now|\d+ min ago)\n+It may have gone through anyway/),
      expect.stringMatching(new RegExp(`^Post won deals to Slack did not finish\\n(just now|\\d+ min ago)\\n+${failed.error.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)),
      expect.stringMatching(/^Post won deals to Slack ran and finished\n(just now|\d+ min ago)$/),
    ]);
    expect(await items.first().locator('time').getAttribute('datetime')).toBe(unsure.createdAt);
    await modal.getByText('Post won deals to Slack may not have finished').waitFor();
    await modal.getByText('It may have gone through anyway: it was interrupted before the service answered. Check there before trying again.').waitFor();
    expect(await modal.getByText(unsure.error.message).count()).toBe(0);
    await shots(page, 'activity');

    const approval = modal.getByRole('region', { name: 'Refund 420 EUR to Globex?' });
    await approval.waitFor();
    await approval.scrollIntoViewIfNeeded();
    await shots(page, 'approvals');
    await approval.getByLabel('Comment (optional)').fill('Fine by me');
    await approval.getByRole('button', { name: 'Approve' }).click();
    await approval.waitFor({ state: 'detached' });
    const decided = (await events(page)).find((e) => e.name === 'approval-decided')!.payload;
    expect(decided).toMatchObject({ status: 'approved', comment: 'Fine by me', runId: waiting.id });
    await waitRun(waiting.id, ['succeeded']);
    expect(problems.get(page)).toEqual([]);
  });

  it('answers the headless API the same way, for hosts with their own UI', async () => {
    const endUserId = 'widget-headless';
    const connectionId = await connectSlackOverHttp(endUserId);
    const { page } = await openHost({ endUserId, token: await session(endUserId) });
    const result = await page.evaluate(async () => {
      const sb = (globalThis as any).Switchboard;
      const integrations = await sb.listIntegrations();
      const flows = await sb.listFlows('slack');
      const options = await sb.getOptions('slack', 'channels', { search: 'random' });
      const enabled = await sb.enableFlow('won-deals-to-slack', { settings: { channel: options.options[0].value } });
      const updated = await sb.updateFlowSettings('won-deals-to-slack', { channel: options.options[0].value, minAmount: 99 });
      const invalid = await sb
        .updateFlowSettings('won-deals-to-slack', { channel: options.options[0].value, minAmount: 'lots' })
        .catch((e: any) => ({ code: e.code, status: e.status, fields: e.fieldErrors }));
      const disabled = await sb.disableFlow('won-deals-to-slack');
      const runs = await sb.listRuns({ flow: 'won-deals-to-slack' });
      const approvals = await sb.listApprovals();
      await sb.disconnect('slack');
      const after = await sb.listIntegrations();
      return {
        keys: integrations.map((i: any) => i.key),
        slack: integrations.find((i: any) => i.key === 'slack').connection?.id,
        flows: flows.map((f: any) => f.key).sort(),
        option: options.options[0].label,
        enabled: enabled.instance.enabled,
        minAmount: updated.instance.settings.minAmount,
        invalid,
        disabled: disabled.instance.enabled,
        runs: runs.data.length,
        approvals: approvals.length,
        afterSlack: after.find((i: any) => i.key === 'slack').connection,
      };
    });
    expect(result).toEqual({
      keys: ['github', 'google-sheets', 'hubspot', 'notion', 'salesforce', 'slack', 'stripe'],
      slack: connectionId,
      flows: [DEALS_FLOW.key, REFUND_FLOW.key].sort(),
      option: '#random',
      enabled: true,
      minAmount: 99,
      invalid: { code: 'validation_failed', status: 400, fields: { 'settings.minAmount': expect.any(String) } },
      disabled: false,
      runs: 0,
      approvals: 0,
      afterSlack: null,
    });
    expect((await events(page)).map((e) => e.name)).toEqual(['flow-enabled', 'error', 'flow-disabled', 'disconnected']);
  });
  it("renders a static preview for the portal's theme editor, without a session or any request", async () => {
    const context = await browser.newContext({ viewport: { width: 900, height: 700 }, colorScheme: 'light', deviceScaleFactor: 1 });
    contexts.push(context);
    context.setDefaultTimeout(20_000);
    const page = watch(await context.newPage());
    const requests: string[] = [];
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    await page.goto(`${host.origin}/preview?api=${encodeURIComponent(api.url)}`);
    const slack = page.getByRole('button', { name: 'Slack Connected' });
    await slack.waitFor();
    // Rendered a few cards per frame: wait for it rather than look once.
    await page.getByRole('button', { name: 'Salesforce Needs attention' }).waitFor();
    const root = page.locator('#preview switchboard-widget .sb');
    expect(await root.getAttribute('data-theme')).toBe('dark');
    expect(await slack.evaluate((el) => getComputedStyle(el).fontFamily)).toBe('Georgia, serif');
    await shot(page, 'preview-theme-editor');
    // The snippet's loader and the widget bundle, nothing else: no API call, no session.
    expect(requests.filter((p) => !p.startsWith('/embed/v1/') && p !== '/preview')).toEqual([]);
    expect(problems.get(page)).toEqual([]);
  });
  it("works under a host's strict Content-Security-Policy (style-src 'none')", async () => {
    const endUserId = 'widget-csp';
    const { page } = await openHost({ endUserId, token: await session(endUserId), inline: true, csp: true });
    const card = page.locator('#inline').getByRole('button', { name: /^Slack / });
    await card.waitFor();
    // Styled by the adopted stylesheet: a grid of bordered cards, the accent on the selected chip.
    expect(await card.evaluate((el) => [getComputedStyle(el).display, getComputedStyle(el.closest('ul')!).display, getComputedStyle(el).borderTopStyle])).toEqual([
      'flex',
      'grid',
      'solid',
    ]);
    await shot(page, 'csp-inline');
  });
  // Last: it revokes every sandbox Slack token.
  it('offers Reconnect when the provider refused the refresh token, and reconnects the same connection', async () => {
    const endUserId = 'widget-reauth';
    const id = await connectSlackOverHttp(endUserId);
    sandbox.oauth.revokeAll('slack');
    await api.app.get(DataSource).query(`UPDATE connections SET expires_at = now() - interval '1 minute' WHERE id = $1`, [id]);
    expect((await tenant.host.get(`/v1/proxy/${id}/auth.test`)).status).toBe(409);

    const { context, page } = await openHost({ endUserId, token: await session(endUserId) });
    await page.getByRole('button', { name: 'Manage integrations' }).click();
    const modal = dialog(page);
    await modal.getByRole('button', { name: 'Slack Needs attention' }).click();
    await modal.getByText('Slack needs you to sign in again: your access expired or was revoked.').waitFor();
    await shots(page, 'needs-reauth');

    const [popup] = await Promise.all([context.waitForEvent('page'), modal.getByRole('button', { name: 'Reconnect' }).click()]);
    await popup.locator('#sandbox-allow').waitFor();
    const closed = popup.waitForEvent('close', { timeout: 30_000 });
    await popup.locator('#sandbox-allow').click();
    await closed;
    await modal.getByRole('button', { name: 'Reconnect' }).waitFor({ state: 'detached' });
    expect((await tenant.host.get(`/v1/connections/${id}`)).body.status).toBe('active');
    expect((await tenant.host.get(`/v1/end-users/${endUserId}/connections`)).body.data).toHaveLength(1);
    expect((await events(page)).find((e) => e.name === 'connected')?.payload).toMatchObject({ id, status: 'active' });
    expect(problems.get(page)).toEqual([]);
  });

  it('shows a flow as paused while its account is disconnected, and On again once it is reconnected', async () => {
    const endUserId = 'widget-paused';
    await connectSlackOverHttp(endUserId);
    const general = sandbox.state.slack.channels.find((c) => c.name === 'general')!;
    expect((await tenant.host.post(`/v1/end-users/${endUserId}/flows/${DEALS_FLOW.key}/enable`, { settings: { channel: general.id } })).status).toBe(200);
    const { context, page } = await openHost({ endUserId, token: await session(endUserId) });
    const modal = await openModal(page);
    await modal.getByRole('button', { name: 'Slack Connected' }).click();
    const card = modal.getByRole('article', { name: DEALS_FLOW.name });
    await card.getByText('On', { exact: true }).waitFor();

    await modal.getByRole('button', { name: 'Disconnect' }).click();
    await page.getByRole('dialog', { name: 'Disconnect Slack?' }).getByRole('button', { name: 'Disconnect' }).click();
    await card.getByText('Paused', { exact: true }).waitFor();
    await card.getByText('Paused: Slack was disconnected. Connect Slack again and this automation resumes on its own.').waitFor();
    expect(await card.getByRole('switch').getAttribute('aria-checked')).toBe('true');
    await shots(page, 'flow-paused');

    await connectSlack(context, modal);
    await card.getByText('On', { exact: true }).waitFor();
    await card.getByText(/^Now using your reconnected Slack account/).waitFor();
    expect(await card.getByText('Paused', { exact: true }).count()).toBe(0);
    await shots(page, 'flow-rebound');
    const instance = (await tenant.host.get(`/v1/end-users/${endUserId}/flows`)).body.data.find((f: any) => f.key === DEALS_FLOW.key).instance;
    const [connection] = (await tenant.host.get(`/v1/end-users/${endUserId}/connections`)).body.data;
    expect(instance).toMatchObject({ status: 'on', connections: { slack: connection.id } });
    expect(problems.get(page)).toEqual([]);
  });

  it("tells the host developer when the page's origin is not allowed, and keeps a real network failure distinct", async () => {
    const endUserId = 'widget-stranger';
    const stranger = await startHost((id) => session(id));
    try {
      const context = await browser.newContext({ viewport: { width: 1100, height: 800 }, colorScheme: 'light', locale: 'en-US', deviceScaleFactor: 1 });
      contexts.push(context);
      context.setDefaultTimeout(20_000);
      const page = watch(await context.newPage());
      const consoleErrors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
      await page.goto(`${stranger.origin}/host?${new URLSearchParams({ config: JSON.stringify({ api: api.url, endUserId, token: await session(endUserId) }) })}`);
      await page.getByRole('button', { name: 'Manage integrations' }).click();
      const modal = dialog(page);
      await modal.getByRole('heading', { name: 'This page is not allowed to use Switchboard' }).waitFor();
      await modal
        .getByText(`${stranger.origin} is not in this app’s allowed origins. Its developer can add it in the Switchboard portal under Settings → Allowed origins.`)
        .waitFor();
      expect(await modal.getByText('Could not reach Switchboard', { exact: false }).count()).toBe(0);
      await shots(page, 'origin-not-allowed');
      // Once in the console, for the developer, naming the origin and where to add it.
      const told = consoleErrors.filter((m) => m.startsWith('Switchboard:'));
      expect(told).toEqual([
        `Switchboard: this page's origin (${stranger.origin}) is not in the tenant's allowed origins, so the Switchboard API refused it (403 origin_not_allowed). Add ${stranger.origin} in the Switchboard portal under Settings → Allowed origins.`,
      ]);
      expect((await events(page)).find((e) => e.name === 'error')?.payload).toMatchObject({ code: 'origin_not_allowed' });

      // An allowed page whose requests never reach the API still says "could not reach".
      const { page: offline } = await openHost({ endUserId, token: await session(endUserId) });
      await offline.route(`${api.url}/v1/me/**`, (route) => route.abort('internetdisconnected'));
      await offline.reload(); // init loaded before the route was set
      await offline.getByRole('button', { name: 'Manage integrations' }).click();
      await dialog(offline).getByText('Could not reach Switchboard. Check your connection and try again.').waitFor();
      expect(await dialog(offline).getByText('allowed origins', { exact: false }).count()).toBe(0);
      problems.delete(offline); // the aborted requests are logged by Chromium as errors
    } finally {
      await new Promise((resolve) => stranger.server.close(resolve));
    }
  });
});
