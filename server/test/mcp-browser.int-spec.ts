import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePortalDist } from '../src/portal/portal-files';
import { launchChromium } from './chromium';
import { addMember, connectInSandbox, createTenant, startApi, startWorker, type TenantFixture, type TestApi, until } from './harness';

/**
 * An AI assistant's approval-gated MCP call, decided by the end user in the embedded widget (real
 * Chromium, the host's page): the waiting call answers the action's result once approved, and a
 * clear rejection once rejected. The portal's MCP page, as an admin and as a viewer. Screenshots in
 * test-results/screenshots/mcp-*.png.
 */

const SCREENSHOTS = join(__dirname, '..', 'test-results', 'screenshots');
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const snippet = (api: string) =>
  `(function(w,d,s,u){w.Switchboard=w.Switchboard||function(){(w.Switchboard.q=w.Switchboard.q||[]).push(arguments)};var j=d.createElement(s);j.async=1;j.src=u;d.head.appendChild(j)})(window,document,'script','${api}/embed/v1/loader.js');`;

/** The host app's page: the snippet, init with the end user's session, a button opening the widget. */
async function startHost(api: string): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const token = url.searchParams.get('token') ?? '';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme CRM</title>
<script>${snippet(api)}</script></head><body style="font:15px system-ui;margin:24px">
<button id="open" type="button">Manage integrations</button>
<script>window.events=[];Switchboard('init',{token:${JSON.stringify(token)}});Switchboard('on','approval-decided',(p)=>window.events.push(p));
document.getElementById('open').addEventListener('click',()=>Switchboard('open'));</script></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  return { origin: `http://localhost:${(server.address() as AddressInfo).port}`, server };
}

type ToolResult = { content: Array<{ type: string; text: string }>; structuredContent?: Record<string, any>; isError?: boolean };

describe('MCP approvals in the widget, and the portal page', () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let host: { origin: string; server: Server };
  let browser: Browser;
  let assistant: Client;

  const session = async (endUserId: string) => (await tenant.host.post('/v1/sessions', { endUserId })).body.token as string;

  async function axe(page: Page, label: string, include?: string): Promise<void> {
    await page.evaluate(AXE_SOURCE);
    await page.mouse.move(0, 0);
    await page.waitForTimeout(250);
    const violations: string[] = await page.evaluate(async (scope) => {
      const result = await (globalThis as any).axe.run(scope ? { include: [[scope]] } : document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
        resultTypes: ['violations'],
      });
      return result.violations.map((v: any) => `${v.id}: ${v.help} (${v.nodes.map((n: any) => n.target.join(' ')).join(', ')})`);
    }, include ?? null);
    expect(violations, `axe on ${label}`).toEqual([]);
  }

  beforeAll(async () => {
    if (!existsSync(join(resolvePortalDist(), 'index.html'))) throw new Error('The portal is not built: run `npm run build -w @switchboard/portal` first');
    mkdirSync(SCREENSHOTS, { recursive: true });
    sandbox = await startSandbox();
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Acme');
    host = await startHost(api.url);
    expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [host.origin] })).status).toBe(200);
    expect((await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    await connectInSandbox(api, tenant, 'slack', 'alice', { origin: host.origin });
    expect((await tenant.owner.put('/v1/admin/mcp/connectors/slack', { exposed: ['send_message', 'list_users'], requireApproval: ['send_message'] })).status).toBe(200);
    expect((await tenant.owner.put('/v1/admin/mcp/approval', { approvalMode: 'wait', approvalWaitSeconds: 50 })).status).toBe(200);
    assistant = new Client({ name: 'assistant', version: '1.0.0' });
    await assistant.connect(new StreamableHTTPClientTransport(new URL(`${api.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${await session('alice')}` } } }));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await assistant?.close().catch(() => undefined);
    await browser?.close();
    await new Promise((resolve) => host?.server.close(resolve));
    await worker?.close();
    await api?.close();
    await sandbox?.close();
  });

  /** The end user opens the widget on the host page and finds the assistant's request under Slack. */
  async function openRequest(text: string) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 860 }, colorScheme: 'light', locale: 'en-US', deviceScaleFactor: 1 });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${host.origin}/?token=${encodeURIComponent(await session('alice'))}`);
    await page.getByRole('button', { name: 'Manage integrations' }).click();
    const modal = page.getByRole('dialog', { name: 'Integrations' });
    await modal.getByText('A request is waiting for your approval.').waitFor();
    await modal.getByRole('button', { name: 'Review' }).click();
    await modal.getByRole('heading', { name: 'Your AI assistant asks' }).waitFor();
    const request = modal.getByRole('region', { name: 'Send message in Slack' }).filter({ hasText: text });
    await request.waitFor();
    return { context, page, modal, request, problems };
  }

  it('holds the call while the end user reviews it in the widget, and answers the result once approved', async () => {
    const call = assistant.callTool({ name: 'slack_send_message', arguments: { channel: '#general', text: 'Quarterly numbers are in' } }) as Promise<ToolResult>;
    await until('the approval', async () => (await tenant.host.get('/v1/approvals?status=pending&endUserId=alice')).body.data.length > 0);
    const { context, page, request, problems } = await openRequest('Quarterly numbers are in');
    await request.getByText('Your AI assistant asks to send message in Slack with:').waitFor();
    await request.getByText('- Text: Quarterly numbers are in', { exact: false }).waitFor();
    await axe(page, 'widget request', 'switchboard-widget');
    await page.screenshot({ path: join(SCREENSHOTS, 'mcp-widget-request.png') });
    expect(sandbox.calls({ connector: 'slack', path: '/api/chat.postMessage' })).toHaveLength(0);

    await request.getByRole('button', { name: 'Approve' }).click();
    await request.waitFor({ state: 'detached' });
    const result = await call;
    expect(result.isError, JSON.stringify(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: 'succeeded', result: { text: 'Quarterly numbers are in' } });
    expect(sandbox.calls({ connector: 'slack', path: '/api/chat.postMessage' })).toHaveLength(1);
    const decided = await page.evaluate(() => (globalThis as any).events[0]);
    expect(decided).toMatchObject({ status: 'approved', tool: 'slack_send_message', flow: null });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('answers a clear rejection when the end user rejects it in the widget', async () => {
    const call = assistant.callTool({ name: 'slack_send_message', arguments: { channel: '#general', text: 'Everyone is fired' } }) as Promise<ToolResult>;
    await until('the approval', async () => (await tenant.host.get('/v1/approvals?status=pending&endUserId=alice')).body.data.length > 0);
    const { context, request } = await openRequest('Everyone is fired');
    await request.getByLabel('Comment (optional)').fill('Absolutely not');
    await request.getByRole('button', { name: 'Reject' }).click();
    await request.waitFor({ state: 'detached' });
    const result = await call;
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({ status: 'rejected', code: 'approval_rejected', comment: 'Absolutely not' });
    expect(result.content[0].text).toContain('was rejected by the user; nothing was done');
    expect(sandbox.calls({ connector: 'slack', path: '/api/chat.postMessage' })).toHaveLength(1);
    await context.close();
  });

  it('shows the exposure settings in the portal: editable for admins, read-only for viewers', async () => {
    const signIn = async (email: string, password: string) => {
      const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, colorScheme: 'light', locale: 'en-US' });
      const page = await context.newPage();
      await page.goto(`${api.url}/portal`);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
      await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'AI agents (MCP)' }).click();
      await page.getByRole('heading', { name: 'AI agents (MCP)', level: 1 }).waitFor();
      return { context, page };
    };
    // The runs explorer names the calls and filters by trigger.
    const admin = await signIn(tenant.email, tenant.password);
    const { page } = admin;
    await page.getByRole('textbox', { name: 'MCP server URL' }).waitFor();
    expect(await page.getByRole('textbox', { name: 'MCP server URL' }).inputValue()).toBe(`${api.url}/mcp`);
    const slack = page.locator('section[data-connector="slack"]');
    await slack.getByRole('checkbox', { name: 'Offer Send message to AI assistants' }).waitFor();
    expect(await slack.getByRole('checkbox', { name: 'Offer Send message to AI assistants' }).isChecked()).toBe(true);
    expect(await slack.getByRole('checkbox', { name: "Send message needs the end user's approval" }).isChecked()).toBe(true);
    await axe(page, 'portal mcp');
    await page.screenshot({ path: join(SCREENSHOTS, 'mcp-portal-admin.png'), fullPage: true });

    // Offering a write turns its approval on; saving stores both.
    await slack.getByRole('checkbox', { name: 'Offer Add reaction to AI assistants' }).check();
    expect(await slack.getByRole('checkbox', { name: "Add reaction needs the end user's approval" }).isChecked()).toBe(true);
    await slack.getByRole('button', { name: 'Save Slack' }).click();
    await page.getByText('Slack: saved').waitFor();
    const stored = (await tenant.owner.get('/v1/admin/mcp')).body.connectors.find((c: { key: string }) => c.key === 'slack');
    expect(stored.actions.find((a: { key: string }) => a.key === 'add_reaction')).toMatchObject({ exposed: true, requireApproval: true });

    await page.getByRole('radio', { name: /An answer at once/ }).check();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Approval behaviour saved').waitFor();
    expect((await tenant.owner.get('/v1/admin/mcp')).body.approvalMode).toBe('pending');

    await page.goto(`${api.url}/portal/runs?triggerType=mcp`);
    await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
    await page.locator('tbody tr').first().getByText('slack_send_message').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'mcp-portal-runs.png'), fullPage: true });
    await admin.context.close();

    const viewer = await addMember(api, tenant, 'viewer');
    const asViewer = await signIn(viewer.email, viewer.password);
    const viewerSlack = asViewer.page.locator('section[data-connector="slack"]');
    await viewerSlack.getByRole('checkbox', { name: 'Offer Send message to AI assistants' }).waitFor();
    expect(await viewerSlack.getByRole('checkbox', { name: 'Offer Send message to AI assistants' }).isDisabled()).toBe(true);
    expect(await viewerSlack.getByRole('button', { name: 'Save Slack' }).count()).toBe(0);
    await asViewer.page.getByText('You can see these settings; admins and owners change them.').waitFor();
    expect(await asViewer.page.getByRole('radio', { name: /The result/ }).isDisabled()).toBe(true);
    await axe(asViewer.page, 'portal mcp (viewer)');
    await asViewer.page.screenshot({ path: join(SCREENSHOTS, 'mcp-portal-viewer.png'), fullPage: true });
    await asViewer.context.close();
  });

  it('says in the portal that nothing is exposed by default', async () => {
    const fresh = await createTenant(api, 'Fresh');
    expect((await fresh.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, colorScheme: 'dark', locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${api.url}/portal`);
    await page.getByLabel('Email').fill(fresh.email);
    await page.getByLabel('Password').fill(fresh.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    await page.goto(`${api.url}/portal/mcp`);
    await page.getByText('Nothing is exposed yet').waitFor();
    await axe(page, 'portal mcp empty (dark)');
    await page.screenshot({ path: join(SCREENSHOTS, 'mcp-portal-default-dark.png'), fullPage: true });
    await context.close();
  });
});
