import { type Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePortalDist } from '../src/portal/portal-files';
import { launchChromium } from './chromium';
import { ANSWER, LOOKUP, POST, publishForAlice, setUpAgentTenant, triageFlow } from './agent-fixtures';
import { createTenant, Http, startApi, startWorker, type TenantFixture, type TestApi, until } from './harness';

/**
 * AI agent steps as people see them, in real Chromium against a real API, worker, the sandbox
 * providers and the sandbox model: the end user approves the agent's Slack message in the widget
 * (its "Field: value" lines as a list, a long value clipped with "Show more"); the team reads the
 * agent's model and tool calls nested under it on the run page (approved, rejected, waiting), this
 * month's tokens on the dashboard, and sets the monthly token cap in settings. axe on each screen;
 * screenshots in test-results/screenshots/agents-*.png.
 */

const SCREENSHOTS = join(__dirname, '..', 'test-results', 'screenshots');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const HOST_ORIGIN = 'https://host.example';
const MODEL = 'support-model-1';
const num = new Intl.NumberFormat('en-US');

const snippet = (api: string) =>
  `(function(w,d,s,u){w.Switchboard=w.Switchboard||function(){(w.Switchboard.q=w.Switchboard.q||[]).push(arguments)};var j=d.createElement(s);j.async=1;j.src=u;d.head.appendChild(j)})(window,document,'script','${api}/embed/v1/loader.js');`;

const hostPage = (api: string, token: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme Support</title><script>${snippet(api)}</script></head>
<body style="font:15px system-ui;margin:24px"><main><h1>Support settings</h1><button id="open" type="button">Manage integrations</button></main>
<script>
  Switchboard('init', { token: ${JSON.stringify(token)} });
  document.getElementById('open').addEventListener('click', () => Switchboard('open'));
</script></body></html>`;

const TRIAGE = triageFlow('ticket-triage', MODEL, {}, 'Ticket triage');
const SCRIPT = [LOOKUP, POST, ANSWER];
const LONG_SUBJECT = [
  'Locked out since the upgrade',
  'When I open the app, type the password and press Sign in, the page reloads and asks again.',
  'I tried another browser, clearing cookies and a password reset (the email never came).',
  'The whole finance team is locked out before the month-end close, please hurry.',
  'This last line is only visible after Show more.',
].join('\n');

describe('AI agent steps in the portal and the widget', { timeout: 240_000 }, () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let alice: Http;
  let browser: Browser;
  let host: { origin: string; server: Server };
  const contexts: BrowserContext[] = [];
  const problems = new Map<Page, string[]>();
  const runs = { approved: '', rejected: '', waiting: '' };
  /** The host page's session token for each end user (`/host?page=<endUserId>`). */
  const hostTokens = new Map<string, string>();

  const startRun = async (subject: string) => {
    const started = await tenant.host.post(`/v1/flows/${TRIAGE.key}/runs`, { endUserId: 'alice', input: { subject, email: 'maria@globex.test' } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    return started.body.id as string;
  };
  const runView = async (id: string) => (await tenant.host.get(`/v1/runs/${id}`)).body;
  const settled = (id: string, statuses: string[]) =>
    until(
      `run ${id} ${statuses.join('/')}`,
      async () => {
        const view = await runView(id);
        return statuses.includes(view.status) ? view : undefined;
      },
      30_000,
    );
  const pendingApproval = (runId: string) =>
    until('the agent approval', async () =>
      ((await alice.get('/v1/me/approvals?status=pending')).body.data as Array<{ runId: string; id: string }>).find((a) => a.runId === runId),
    );

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, colorScheme: 'light', locale: 'en-US', deviceScaleFactor: 1 });
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    const page = await context.newPage();
    const seen: string[] = [];
    problems.set(page, seen);
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) seen.push(m.text());
    });
    page.on('pageerror', (e) => seen.push(`pageerror: ${e.message}`));
    return page;
  }

  /** axe-core (WCAG 2.1 A/AA, best practices) on the page, or on the widget's shadow tree. */
  async function axe(page: Page, label: string, include?: string): Promise<void> {
    await page.mouse.move(0, 0);
    await page.locator('.toast').waitFor({ state: 'detached', timeout: 6000 });
    await page.waitForTimeout(250);
    await page.evaluate(AXE);
    const violations = await page.evaluate(async (scope) => {
      const result = await (globalThis as any).axe.run(scope ? { include: [[scope]] } : document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
        resultTypes: ['violations'],
      });
      return result.violations.map(
        (v: any) =>
          `${v.id}: ${v.help} (${v.nodes
            .map((n: any) => n.target.join(' '))
            .slice(0, 3)
            .join(', ')})`,
      );
    }, include ?? null);
    expect(violations, `axe on ${label}`).toEqual([]);
  }

  async function signIn(page: Page): Promise<void> {
    await page.goto(`${api.url}/portal`);
    await page.getByLabel('Email').fill(tenant.email);
    await page.getByLabel('Password').fill(tenant.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
  }

  /** Opens a step's (closed) <details> by its summary. */
  async function expand(item: Locator): Promise<void> {
    const details = item.locator(':scope > details');
    if ((await details.getAttribute('open')) === null) await details.locator(':scope > summary').click();
  }

  beforeAll(async () => {
    if (!existsSync(join(resolvePortalDist(), 'index.html'))) throw new Error('The portal is not built: run `npm run build -w @switchboard/portal` first');
    mkdirSync(SCREENSHOTS, { recursive: true });
    sandbox = await startSandbox();
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Acme Support');
    const server = createServer((req, res) => {
      const token = hostTokens.get(new URL(req.url ?? '/', 'http://x').searchParams.get('page') ?? '');
      if (!token) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(hostPage(api.url, token));
    });
    await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
    host = { origin: `http://localhost:${(server.address() as AddressInfo).port}`, server };

    await setUpAgentTenant(api, tenant, sandbox, [HOST_ORIGIN, host.origin]);
    sandbox.scriptModel(MODEL, SCRIPT);
    await publishForAlice(tenant, TRIAGE);
    alice = new Http(api.url).withBearer((await tenant.host.post('/v1/sessions', { endUserId: 'alice' })).body.token);

    // One run the end user will approve in the widget, one she rejects, one left waiting (with a long message).
    runs.approved = await startRun('Cannot log in');
    await pendingApproval(runs.approved);
    runs.rejected = await startRun('Refund twice');
    const rejecting = await pendingApproval(runs.rejected);
    expect((await alice.post(`/v1/me/approvals/${rejecting.id}/reject`, { comment: 'Not to #general' })).status).toBe(200);
    runs.waiting = await startRun(LONG_SUBJECT);
    await pendingApproval(runs.waiting);
    expect((await settled(runs.rejected, ['succeeded', 'failed'])).status).toBe('succeeded');

    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    if (host) await new Promise((resolve) => host.server.close(resolve));
    await worker?.close();
    await api?.close();
    await sandbox?.close();
  });

  it("shows the agent's approval in the widget as a list of fields, clips a long one, and the end user approves it", async () => {
    const token = (await tenant.host.post('/v1/sessions', { endUserId: 'alice' })).body.token as string;
    hostTokens.set('alice', token);
    const page = await newPage();
    await page.goto(`${host.origin}/host?page=alice`);
    await page.getByRole('button', { name: 'Manage integrations' }).click();
    const modal = page.getByRole('dialog', { name: 'Integrations' });
    await modal.getByText('2 requests are waiting for your approval.').waitFor();
    await modal.getByRole('button', { name: 'Review' }).click();

    const asks = modal.getByRole('region', { name: 'The AI agent wants to: Send message in Slack' });
    await expect.poll(() => asks.count()).toBe(2);
    const short = asks.filter({ hasText: 'Ticket from Maria: Cannot log in' });
    await short.scrollIntoViewIfNeeded();
    expect(await short.getByRole('term').allInnerTexts()).toEqual(['Channel', 'Text']);
    expect(await short.getByRole('definition').allInnerTexts()).toEqual(['#general', 'Ticket from Maria: Cannot log in']);
    expect(await short.getByRole('button', { name: 'Show more' }).count()).toBe(0);

    // The long message: its first lines, then "Show more" shows the rest.
    const long = asks.filter({ hasText: 'Locked out since the upgrade' });
    const text = long.getByRole('definition').nth(1);
    // All of it is there (for screen readers and copying); the box shows its first lines until "Show more".
    expect(await text.textContent()).toContain('This last line is only visible after Show more.');
    const more = long.getByRole('button', { name: 'Show more' });
    await more.scrollIntoViewIfNeeded();
    const clipped = () => text.locator('span').evaluate((el) => el.scrollHeight > el.clientHeight + 1);
    expect(await clipped()).toBe(true);
    expect(await more.getAttribute('aria-expanded')).toBe('false');
    await page.screenshot({ path: join(SCREENSHOTS, 'agents-widget-approval.png') });
    await axe(page, 'the widget approvals', 'switchboard-widget');
    await more.click();
    const less = long.getByRole('button', { name: 'Show less' });
    expect(await less.getAttribute('aria-expanded')).toBe('true');
    expect(await clipped()).toBe(false);
    await page.screenshot({ path: join(SCREENSHOTS, 'agents-widget-approval-expanded.png') });

    await short.getByLabel('Comment (optional)').fill('Go');
    await short.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => asks.count()).toBe(1);
    const done = await settled(runs.approved, ['succeeded', 'failed']);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(problems.get(page)).toEqual([]);
  });

  it("sets the monthly token cap in settings and shows this month's tokens on the dashboard", async () => {
    const page = await newPage();
    await signIn(page);
    const card = page.getByRole('region', { name: /^AI tokens this month/ });
    await card.waitFor();
    const stats = (await tenant.owner.get('/v1/admin/stats')).body.tokens;
    expect(stats.thisMonth.totalTokens).toBeGreaterThan(0);
    await card.getByText(`${num.format(stats.thisMonth.totalTokens)} used · no monthly cap`).waitFor();
    await card
      .getByText(`${num.format(stats.thisMonth.modelCalls)} model calls · ${num.format(stats.thisMonth.inputTokens)} in, ${num.format(stats.thisMonth.outputTokens)} out`)
      .waitFor();

    await card.getByRole('link', { name: 'Set a monthly cap' }).click();
    await page.getByRole('heading', { name: 'General', level: 1 }).waitFor();
    const field = page.getByLabel('Monthly AI token cap');
    expect(await field.inputValue()).toBe('');
    await field.fill('lots');
    await page.getByRole('button', { name: 'Save cap' }).click();
    await page.getByText('Write a whole number of tokens, like 2000000, or leave it empty for no cap.').waitFor();
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect((await tenant.owner.get('/v1/admin/tenant')).body.monthlyTokenCap).toBeNull();
    await axe(page, 'settings with a token cap error');
    await page.getByRole('region', { name: 'AI agents' }).screenshot({ path: join(SCREENSHOTS, 'agents-settings-cap-error.png') });

    await field.fill('2,000,000');
    await page.getByText('2,000,000 tokens a month. Empty: no cap.').waitFor();
    expect(await field.getAttribute('aria-invalid')).toBe('false');
    await page.getByRole('button', { name: 'Save cap' }).click();
    await page.getByText('Monthly token cap set to 2,000,000').waitFor();
    expect((await tenant.owner.get('/v1/admin/tenant')).body.monthlyTokenCap).toBe(2_000_000);
    expect(await field.inputValue()).toBe('2000000');

    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Dashboard', exact: true }).click();
    await card.getByText(`${num.format(stats.thisMonth.totalTokens)} of 2,000,000 (monthly cap)`).waitFor();
    const percent = ((stats.thisMonth.totalTokens / 2_000_000) * 100).toFixed(1);
    await card.getByRole('img', { name: `${percent}% of the monthly cap used` }).waitFor();
    await card.getByRole('link', { name: 'Change the cap' }).waitFor();
    await axe(page, 'the dashboard');
    await card.screenshot({ path: join(SCREENSHOTS, 'agents-dashboard-tokens.png') });
    await page.screenshot({ path: join(SCREENSHOTS, 'agents-dashboard.png'), fullPage: true });

    // Empty again: no cap.
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'General', exact: true }).click();
    await field.fill('');
    await page.getByRole('button', { name: 'Save cap' }).click();
    await page.getByText('No monthly token cap').waitFor();
    expect((await tenant.owner.get('/v1/admin/tenant')).body.monthlyTokenCap).toBeNull();
    expect(problems.get(page)).toEqual([]);
  });

  it("shows an agent's model and tool calls nested under it, with tokens and the approval decision", async () => {
    const run = await runView(runs.approved);
    const page = await newPage();
    await signIn(page);
    await page.goto(`${api.url}/portal/runs/${runs.approved}`);
    await page.getByRole('heading', { name: 'Run of Ticket triage', level: 1 }).waitFor();
    // The run's tokens in its summary.
    const facts = page.getByRole('region', { name: 'Summary' });
    await facts.getByText(`${num.format(run.usage.totalTokens)} (${num.format(run.usage.inputTokens)} in · ${num.format(run.usage.outputTokens)} out)`).waitFor();

    const timeline = page.getByRole('region', { name: 'Steps' });
    await timeline.getByText('3 steps').waitFor();
    const agent = timeline.locator('li[data-step="triage"]');
    await agent.getByText('AI agent').first().waitFor();
    await expand(agent);
    const did = agent.getByRole('list', { name: 'What triage did' });
    const items = did.locator(':scope > li');
    const names = await items.locator(':scope > details > summary .timeline-name .cell-strong').allInnerTexts();
    expect(names).toEqual(['Model call 1', 'Find contact in HubSpot', 'Model call 2', 'Send message in Slack', 'Model call 3']);
    await agent.getByText('3 model calls · 2 tool calls').waitFor();
    await agent.getByText('"Maria cannot log in"', { exact: false }).first().waitFor();

    // Each model call: the model, its tokens, what it answered and which tools it chose, in plain words.
    const turns = (run.steps as Array<{ path: string; usage?: { inputTokens: number; outputTokens: number } }>).filter((s) => /\/turn\[\d+\]$/.test(s.path));
    expect(turns).toHaveLength(3);
    for (const [i, turn] of turns.entries()) {
      const item = items.nth(i * 2);
      await item.getByText(MODEL).first().waitFor();
      await item.getByText(`${num.format(turn.usage!.inputTokens)} in · ${num.format(turn.usage!.outputTokens)} out tokens`).waitFor();
      await expand(item);
    }
    const first = items.nth(0);
    await first.getByText('It chose to call').waitFor();
    expect(await first.getByRole('term').allInnerTexts()).toEqual(['email']);
    expect(await first.getByRole('definition').allInnerTexts()).toEqual(['maria@globex.test']);
    const last = items.nth(4);
    await last.getByText('It answered').waitFor();
    await last.getByText('{"summary":"Maria cannot log in","priority":"high"}').waitFor();
    await last.getByText('It finished its answer.', { exact: false }).waitFor();

    // The approved tool call: who approved, how, with which comment.
    const post = items.nth(3);
    await post.getByText('Approved by alice').first().waitFor();
    await expand(post);
    await post.getByText('Approved by alice (the end user)', { exact: false }).waitFor();
    await post.getByText('“Go”', { exact: false }).waitFor();
    await post.getByLabel('Input of Send message in Slack').getByText('"text": "Ticket from Maria: Cannot log in"', { exact: false }).waitFor();
    await post.getByLabel('Output of Send message in Slack').getByText('"channel"', { exact: false }).waitFor();
    // Other steps keep their own rendering.
    await timeline.locator('li[data-step="ticket"]').getByText('transform').waitFor();
    await axe(page, 'run detail with an agent');
    await page.screenshot({ path: join(SCREENSHOTS, 'agents-run-detail.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await axe(page, 'run detail with an agent, dark');
    await page.screenshot({ path: join(SCREENSHOTS, 'agents-run-detail-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('li[data-step="triage"]').screenshot({ path: join(SCREENSHOTS, 'agents-run-detail-phone.png') });
    // Nothing is wider than the phone's screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1360, height: 900 });

    // A rejected call: "Rejected by alice", and not made.
    await page.goto(`${api.url}/portal/runs/${runs.rejected}`);
    const rejected = page.locator('li[data-step="triage/turn[1]/call[0]"]');
    await expand(page.locator('li[data-step="triage"]'));
    await rejected.getByText('Rejected by alice').first().waitFor();
    await rejected.getByText('The call was not made: alice rejected it: Not to #general', { exact: false }).waitFor();
    await rejected.getByText('Not made.').waitFor();
    await axe(page, 'run detail with a rejected call');
    await page.screenshot({ path: join(SCREENSHOTS, 'agents-run-detail-rejected.png'), fullPage: true });

    // A waiting call: the agent group is open by itself and says what it waits for.
    await page.goto(`${api.url}/portal/runs/${runs.waiting}`);
    const waiting = page.locator('li[data-step="triage/turn[1]/call[0]"]');
    await waiting.getByRole('status').getByText('Waiting for approval').waitFor();
    await waiting.getByRole('link', { name: 'See pending approvals' }).waitFor();
    await waiting.getByText('Not made yet.').waitFor();
    await page.locator('li[data-step="triage"] > details > summary').getByText('Waiting for approval').waitFor();
    await axe(page, 'run detail with a waiting call');
    await page.screenshot({ path: join(SCREENSHOTS, 'agents-run-detail-waiting.png'), fullPage: true });
    expect(problems.get(page)).toEqual([]);
  });
});
