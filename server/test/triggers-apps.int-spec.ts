import { Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectInSandbox, createTenant, freshDatabase, pollNow, startApi, startWorker, TenantFixture, TestApi, until } from './harness';

const HOST_ORIGIN = 'https://host.example';
const REPO = 'acme-inc/api';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const seenIssue = { id: 'seen', type: 'transform', output: { number: '=$trigger.number', title: '=$trigger.title', repository: '=$trigger.repository' } };
const inputs = { repo: { type: 'string', title: 'Repository', default: REPO } };

/** Polls GitHub for new issues. */
const pollFlow = {
  key: 'new-issues',
  name: 'New issues (poll)',
  trigger: { type: 'poll', connector: 'github', event: 'new_issue', input: { repository: '=$inputs.repo' }, interval: 'PT1M' },
  connectors: ['github'],
  inputs,
  steps: [seenIssue],
};
/** The same, but the first poll runs the two newest existing issues. */
const backfillFlow = { ...pollFlow, key: 'new-issues-backfill', name: 'New issues (backfill)', trigger: { ...pollFlow.trigger, backfill: 2 } };
/** GitHub pushes opened issues to the instance's URL (a repository hook Switchboard creates). */
const hookFlow = {
  key: 'issue-hook',
  name: 'Issue opened (webhook)',
  trigger: { type: 'webhook', connector: 'github', event: 'issue_opened', input: { repository: '=$inputs.repo' } },
  connectors: ['github'],
  inputs,
  steps: [seenIssue],
};

interface RunView {
  id: string;
  status: string;
  flow: string;
  triggerType: string;
  trigger: { number: number };
  result: { number: number; title: string };
}

describe('triggers from inside the apps (GitHub: poll and provider webhook)', () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let db: DataSource;
  let githubToken: string;

  const flowOf = async (user: string, key: string) => (await tenant.host.get(`/v1/end-users/${user}/flows`)).body.data.find((f: { key: string }) => f.key === key);
  const runsOf = async (flow: string, user = 'alice'): Promise<RunView[]> =>
    ((await tenant.host.get(`/v1/runs?flow=${flow}&endUserId=${user}&limit=100`)).body.data as RunView[]).filter((r) => r.flow === flow);

  async function openIssue(title: string): Promise<number> {
    const res = await fetch(`${sandbox.url}/github/repos/${REPO}/issues`, {
      method: 'POST',
      headers: { authorization: `Bearer ${githubToken}`, 'content-type': 'application/json', accept: 'application/vnd.github+json' },
      body: JSON.stringify({ title }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { number: number }).number;
  }

  beforeAll(async () => {
    sandbox = await startSandbox();
    // A database of its own: every worker polls every due row of its database, and other files' workers would poll these with their own sandboxes.
    database = await freshDatabase();
    api = await startApi({ DATABASE_URL: database.url, SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}`, MAINTENANCE_INTERVAL_SECONDS: '1' });
    worker = await startWorker(api.config);
    db = api.app.get(DataSource);
    tenant = await createTenant(api, 'Apps Co');
    await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
    expect((await tenant.owner.put('/v1/admin/connectors/github', { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    for (const definition of [pollFlow, backfillFlow, hookFlow]) {
      expect((await tenant.owner.post('/v1/admin/flow-templates', { definition })).status).toBe(201);
      expect((await tenant.owner.post(`/v1/admin/flow-templates/${definition.key}/publish`)).status).toBe(201);
    }
    githubToken = sandbox.oauth.issueTokens('github').accessToken;
  });

  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await sandbox?.close();
    await database?.drop();
  });

  it("lists the connector's triggers for flow authors: kind, interval floor, events, and on one connector their schemas", async () => {
    const github = (await tenant.owner.get('/v1/admin/connectors/github')).body;
    expect(github.webhooks).toEqual({ routing: 'instance', secret: 'subscription' });
    const newIssue = github.triggers.find((t: { key: string }) => t.key === 'new_issue');
    expect(newIssue).toMatchObject({
      kind: 'poll',
      name: 'New issue',
      minIntervalSeconds: 60,
      input: { properties: { repository: { type: 'string' } }, required: ['repository'] },
    });
    expect(github.triggers.find((t: { key: string }) => t.key === 'issue_opened')).toMatchObject({ kind: 'webhook', events: ['issues.opened'], output: { type: 'object' } });
    const listed = (await tenant.owner.get('/v1/admin/connectors')).body.data.find((c: { key: string }) => c.key === 'github');
    expect(listed.triggers.find((t: { key: string }) => t.key === 'new_issue')).not.toHaveProperty('input');
  });

  it('polls from "now": the first poll starts nothing, each issue opened after it starts exactly one run', async () => {
    await openIssue('Older issue, before the flow was on');
    await connectInSandbox(api, tenant, 'github', 'alice', { origin: HOST_ORIGIN });
    const enabled = await tenant.host.post('/v1/end-users/alice/flows/new-issues/enable', { settings: {} });
    expect(enabled.status).toBe(200);
    expect(enabled.body.instance.triggerHealth).toMatchObject({ status: 'waiting', lastCheckedAt: null });
    // The first poll comes at once (a new instance is due immediately).
    const first = await until('the first poll', async () => {
      const health = (await flowOf('alice', 'new-issues')).instance.triggerHealth;
      return health.status === 'ok' && health;
    });
    expect(Date.parse(first.nextCheckAt)).toBeGreaterThan(Date.now() + 50_000);
    expect(await runsOf('new-issues')).toEqual([]);

    const opened = [await openIssue('Login page is blank'), await openIssue('Export fails on large files')];
    await pollNow(db);
    const runs = await until('two runs', async () => {
      const all = await runsOf('new-issues');
      return all.length >= 2 && all.every((r) => r.status === 'succeeded') && all;
    });
    expect(runs.map((r) => r.result.number).sort()).toEqual(opened.sort());
    expect(runs.every((r) => r.triggerType === 'poll')).toBe(true);
    expect(runs.find((r) => r.result.number === opened[0])!.result).toMatchObject({ title: 'Login page is blank', repository: REPO });

    // Polling again finds nothing new: no run twice.
    await pollNow(db);
    await sleep(300);
    expect(await runsOf('new-issues')).toHaveLength(2);
    const health = (await flowOf('alice', 'new-issues')).instance.triggerHealth;
    expect(health).toMatchObject({ status: 'ok', error: null });
    expect(health.lastItemAt).not.toBeNull();
  });

  it('backfills the newest items on the first poll when the flow asks for it', async () => {
    await connectInSandbox(api, tenant, 'github', 'bob', { origin: HOST_ORIGIN });
    expect((await tenant.host.post('/v1/end-users/bob/flows/new-issues-backfill/enable', { settings: {} })).status).toBe(200);
    const runs = await until('the backfill', async () => {
      const all = await runsOf('new-issues-backfill', 'bob');
      return all.length >= 2 && all.every((r) => r.status === 'succeeded') && all;
    });
    const newest = (await runsOf('new-issues')).map((r) => r.result.number);
    expect(runs.map((r) => r.result.number).sort()).toEqual(newest.sort());
  });

  it('backs off when the provider fails, shows the trigger failing, and recovers', async () => {
    const fault = sandbox.inject({ connector: 'github', path: new RegExp(`^/repos/${REPO}/issues$`), method: 'GET', status: 502, times: Infinity });
    await pollNow(db);
    await pollNow(db);
    const failing = await until('a failing trigger', async () => {
      const health = (await flowOf('alice', 'new-issues')).instance.triggerHealth;
      return health.status === 'failing' && health;
    });
    expect(failing.error).toMatchObject({ code: 'provider_error' });
    // Backing off: the next poll is later than the interval.
    expect(Date.parse(failing.error.retryAt)).toBeGreaterThan(Date.now() + 90_000);
    // The end user sees it on the instance; the team sees it in the portal's view of the instance.
    const failingList = (await tenant.owner.get('/v1/admin/flow-templates/new-issues/instances?triggerHealth=failing')).body.data;
    expect(failingList).toHaveLength(1);
    expect(failingList[0]).toMatchObject({ endUserId: 'alice', triggerHealth: { status: 'failing', error: { code: 'provider_error' } } });

    fault.cancel();
    const number = await openIssue('Opened while GitHub was failing');
    await pollNow(db);
    await until('recovery', async () => (await flowOf('alice', 'new-issues')).instance.triggerHealth.status === 'ok');
    // Nothing was lost while it failed: the issue opened meanwhile runs once.
    const runs = await until('the missed issue', async () => {
      const all = await runsOf('new-issues');
      return all.some((r) => r.result?.number === number) && all;
    });
    expect(runs.filter((r) => r.trigger.number === number)).toHaveLength(1);
  });

  it('subscribes at GitHub when enabled, runs once per delivery, refuses forged ones, and unsubscribes when switched off', async () => {
    const enabled = await tenant.host.post('/v1/end-users/alice/flows/issue-hook/enable', { settings: {} });
    expect(enabled.status).toBe(200);
    const url: string = enabled.body.instance.webhookUrl;
    expect(url).toMatch(/\/v1\/hooks\/whk_/);
    const hook = await until('the repository hook', async () => sandbox.state.github.hooks.find((h: { config: { url: string } }) => h.config.url === url));
    expect(hook.events).toEqual(['issues']);
    await until('an active subscription', async () => (await flowOf('alice', 'issue-hook')).instance.triggerHealth.status === 'ok');

    const number = await openIssue('Pushed by a webhook');
    const runs = await until('the webhook run', async () => {
      const all = (await runsOf('issue-hook')).filter((r) => r.status === 'succeeded');
      return all.length > 0 && all;
    });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ triggerType: 'webhook', result: { number, title: 'Pushed by a webhook', repository: REPO } });

    // GitHub redelivers the same event (same X-GitHub-Delivery): the first run answers, nothing new starts.
    await sandbox.settleDeliveries();
    const delivery = sandbox.deliveries('github').find((d) => d.url === url && d.headers['x-github-event'] === 'issues')!;
    const again = await fetch(url, { method: 'POST', headers: delivery.headers, body: delivery.body });
    expect(again.status).toBe(202);
    expect(((await again.json()) as { runId: string }).runId).toBe(runs[0]!.id);
    // A forged delivery (right URL, wrong signature) is refused.
    const forged = await fetch(url, { method: 'POST', headers: { ...delivery.headers, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }, body: delivery.body });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('webhook_signature_invalid');
    await sleep(300);
    expect(await runsOf('issue-hook')).toHaveLength(1);

    // An issue in another repository is not this flow's.
    await fetch(`${sandbox.url}/github/repos/acme-inc/docs/issues`, {
      method: 'POST',
      headers: { authorization: `Bearer ${githubToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Elsewhere' }),
    });
    await sandbox.settleDeliveries();
    expect(await runsOf('issue-hook')).toHaveLength(1);

    expect((await tenant.host.post('/v1/end-users/alice/flows/issue-hook/disable', {})).status).toBe(200);
    await until('the hook removed', async () => !sandbox.state.github.hooks.some((h: { id: number }) => h.id === hook.id));
    // The row goes once GitHub's answer to the removal is back, a moment after the sandbox acted on it.
    await until('the subscription forgotten', async () => (await db.query(`SELECT 1 FROM provider_subscriptions WHERE instance_id = $1`, [enabled.body.instance.id])).length === 0);
  });

  it('removes the provider subscription before a connection is deleted', async () => {
    const enabled = await tenant.host.post('/v1/end-users/bob/flows/issue-hook/enable', { settings: {} });
    const url: string = enabled.body.instance.webhookUrl;
    await until('the repository hook', async () => sandbox.state.github.hooks.some((h: { config: { url: string } }) => h.config.url === url));
    const connectionId = (enabled.body.instance.connections as Record<string, string>).github;
    expect((await tenant.host.delete(`/v1/connections/${connectionId}`)).status).toBe(204);
    expect(sandbox.state.github.hooks.some((h: { config: { url: string } }) => h.config.url === url)).toBe(false);

    // Reconnecting resumes the flow (it is rebound to the new connection) and the hook is made again.
    await connectInSandbox(api, tenant, 'github', 'bob', { origin: HOST_ORIGIN });
    const resumed = (await flowOf('bob', 'issue-hook')).instance;
    expect(resumed.status).toBe('on');
    expect(resumed.connections.github).not.toBe(connectionId);
    await until('the hook made again', async () => sandbox.state.github.hooks.some((h: { config: { url: string } }) => h.config.url === url), 30_000);
  }, 40_000);
});
