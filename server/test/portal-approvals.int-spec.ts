import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from './chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePortalDist } from '../src/portal/portal-files';
import { createTenant, Http, startApi, startWorker, type TenantFixture, type TestApi } from './harness';
import { axe, SCREENSHOTS } from './portal-browser';

/** The portal's Approvals screen in real Chromium against a real API and worker, checked with axe and photographed. */

let api: TestApi;
let worker: { close(): Promise<void> };
let browser: Browser;
let tenant: TenantFixture;

async function screen(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(250);
  const violations = await axe(page);
  if (violations.length) console.error(`axe on ${name}:\n${violations.join('\n')}`);
  expect(violations, `axe on ${name}`).toEqual([]);
  await page.screenshot({ path: join(SCREENSHOTS, `portal-${name}.png`), fullPage: true });
}

async function waitForRun(id: string, done: (status: string) => boolean) {
  for (let i = 0; i < 400; i++) {
    const run = (await tenant.host.get(`/v1/runs/${id}`)).body;
    if (done(run.status)) return run;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`run ${id} did not reach the expected status`);
}

const announce = {
  key: 'announce-deal',
  name: 'Announce won deals',
  trigger: { type: 'event', event: 'deal.won' },
  connectors: [],
  inputs: {},
  steps: [
    { id: 'ok', type: 'approval', title: "='Announce ' & $trigger.deal & '?'", description: "='Won by ' & $trigger.owner", approvers: 'end_user' },
    { id: 'done', type: 'transform', output: { approved: '=$steps.ok.approved' } },
  ],
};

beforeAll(async () => {
  if (!existsSync(join(resolvePortalDist(), 'index.html'))) throw new Error('The portal is not built: run `npm run build -w @switchboard/portal` first');
  api = await startApi();
  worker = await startWorker(api.config);
  tenant = await createTenant(api, 'Northwind Trading');
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await worker?.close();
  await api?.close();
});

describe('portal: approvals', () => {
  it('lists the pending approval a flow asked, links to its run, and shows it approved by the end user', async () => {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, colorScheme: 'light', locale: 'en-US' });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));

    await page.goto(`${api.url}/portal`);
    await page.getByLabel('Email').fill(tenant.email);
    await page.getByLabel('Password').fill(tenant.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();

    // Nothing asked yet: the empty state explains what approvals are; the team cannot decide them.
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Approvals', exact: true }).click();
    await page.getByRole('heading', { name: 'Approvals', level: 1 }).waitFor();
    await page.getByText('No pending approvals').waitFor();
    await page.getByText('The end user answers it in the widget').waitFor();
    await page.getByText('Your team can see approvals but not decide them').waitFor();
    await screen(page, '21-approvals-empty');

    // A flow with an approval step, switched on for an end user, asks when the event comes.
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition: announce })).status).toBe(201);
    expect((await tenant.owner.post('/v1/admin/flow-templates/announce-deal/publish')).status).toBe(201);
    expect((await tenant.host.put('/v1/end-users/acme-corp', {})).status).toBeLessThan(300);
    expect((await tenant.host.post('/v1/end-users/acme-corp/flows/announce-deal/enable', {})).status).toBe(200);
    const sent = await tenant.host.post('/v1/events', { name: 'deal.won', endUserId: 'acme-corp', payload: { deal: 'Acme expansion', owner: 'Dana' } });
    const runId = sent.body.runs[0].id as string;
    expect((await waitForRun(runId, (s) => s !== 'queued' && s !== 'running')).status).toBe('waiting');

    // The list polls, so the new approval appears without a reload.
    const row = page.locator('tbody tr').filter({ hasText: 'Announce Acme expansion?' });
    await row.waitFor();
    const approvalId = (await row.getAttribute('data-approval-id'))!;
    expect(await row.getAttribute('data-status')).toBe('pending');
    await row.getByText('Announce won deals').waitFor();
    await row.getByText('Won by Dana').waitFor();
    await row.getByText('acme-corp').waitFor();
    await row.getByText('Pending', { exact: true }).waitFor();
    expect(await row.getByRole('link').getAttribute('href')).toBe(`/portal/runs/${runId}`);
    await screen(page, '21-approvals');

    // Only the end user (or the host) decides: here the end user, with a widget session.
    const token = (await tenant.host.post('/v1/sessions', { endUserId: 'acme-corp' })).body.token as string;
    const endUser = new Http(api.url).withBearer(token);
    expect((await endUser.post(`/v1/me/approvals/${approvalId}/approve`, {})).status).toBe(200);
    expect((await waitForRun(runId, (s) => s === 'succeeded' || s === 'failed')).status).toBe('succeeded');

    // It leaves the pending list and shows under Approved, decided by the end user.
    await row.waitFor({ state: 'detached' });
    await page.getByLabel('Status').selectOption('approved');
    const approved = page.locator(`tr[data-approval-id="${approvalId}"]`);
    await approved.waitFor();
    expect(await approved.getAttribute('data-status')).toBe('approved');
    await approved.getByText('Approved', { exact: true }).waitFor();
    await approved.getByText('end user', { exact: true }).waitFor();
    expect(new URL(page.url()).searchParams.get('status')).toBe('approved');
    await screen(page, '22-approvals-approved');

    // Its title opens the run it belongs to.
    await approved.getByRole('link').click();
    await page.getByRole('heading', { name: /Run of/, level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/portal/runs/${runId}`);
    expect(problems).toEqual([]);
    await context.close();
  });
});
