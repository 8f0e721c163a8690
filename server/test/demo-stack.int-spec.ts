import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consentInSandbox } from '@switchboard/connectors/dist/sandbox';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, freshDatabase, Http } from './harness';

/**
 * `npm run demo` as a newcomer runs it (the compiled CLI, after `npm run build`): everything comes
 * up, the banner names Acme CRM and its logins, the seeded tenant works end to end (Acme's webhook
 * endpoint gets a signed ping its receiver accepts), Ctrl-C stops every process, and a second
 * start reuses what the first one created.
 */

const CLI = join(__dirname, '..', 'dist', 'cli', 'main.js');

interface Stack {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

describe('npm run demo', { timeout: 180_000 }, () => {
  let home: string;
  let database: { url: string; drop(): Promise<void> };
  let env: Record<string, string>;
  let ports: { api: number; sandbox: number; acme: number };
  let running: Stack | undefined;
  /** A Slack connection made before the restart, through the sandbox's consent page. */
  let slackConnection: string;

  function start(): Stack {
    let output = '';
    const child = spawn(process.execPath, [CLI, 'demo'], { env: { ...env } as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    running = { child, output: () => output, exited };
    return running;
  }

  async function untilReady(stack: Stack): Promise<void> {
    const deadline = Date.now() + 150_000;
    while (!stack.output().includes('Press Ctrl-C to stop everything.')) {
      if (stack.child.exitCode !== null || Date.now() > deadline) throw new Error(`the demo did not start:\n${stack.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function stop(stack: Stack): Promise<number | null> {
    stack.child.kill('SIGINT');
    return stack.exited;
  }

  const refused = (url: string) =>
    fetch(url).then(
      () => false,
      () => true,
    );

  const state = () => JSON.parse(readFileSync(join(home, 'demo.json'), 'utf8'));

  /** Signs in to Acme CRM with a form post, like the sign-in page does; returns the session cookie. */
  async function signIn(acmeUrl: string, email: string, password: string): Promise<string> {
    const res = await fetch(`${acmeUrl}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: acmeUrl },
      body: new URLSearchParams({ email, password }).toString(),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/deals');
    return res.headers.getSetCookie()[0]!.split(';')[0]!;
  }

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'sb-demo-'));
    database = await freshDatabase();
    ports = { api: await freePort(), sandbox: await freePort(), acme: await freePort() };
    env = {
      PATH: process.env.PATH!,
      DATABASE_URL: database.url,
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: `${inject('redisPrefix')}:${randomBytes(4).toString('hex')}`,
      SWITCHBOARD_HOME: home,
      PORT: String(ports.api),
      SANDBOX_PORT: String(ports.sandbox),
      DEMO_APP_PORT: String(ports.acme),
      LOG_LEVEL: 'warn',
      // The test makes its own changes at the providers.
      SANDBOX_CHURN_SECONDS: '0',
    };
  });

  /** A failed step must not leave the stack holding the ports the next test starts on. */
  afterEach(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGINT');
      await running.exited;
    }
  });

  afterAll(async () => {
    await database?.drop();
    rmSync(home, { recursive: true, force: true });
  });

  it('starts everything, prints the URLs and logins, works end to end, and stops cleanly on Ctrl-C', async () => {
    const stack = start();
    await untilReady(stack);
    const demo = state();
    const api = `http://localhost:${ports.api}`;
    const acme = `http://localhost:${ports.acme}`;

    // The banner: API, portal login, secret key, sandbox, Acme CRM and one login per company.
    const banner = stack.output();
    // When it started and when the code it runs was built: a stale build shows at a glance.
    expect(banner).toMatch(/Started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · built \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \((just before|\d+ (min|h|days) before)\)/);
    expect(Date.parse(demo.builtAt)).toBeLessThanOrEqual(Date.parse(demo.startedAt));
    for (const line of [api, `${api}/portal`, demo.portal.email, demo.portal.password, demo.apiKey, `127.0.0.1:${ports.sandbox}`, acme]) expect(banner).toContain(line);
    expect(demo.acme.logins).toEqual([
      { company: 'Globex Corporation', email: 'maria@globex.test', password: 'globex-demo' },
      { company: 'Initech', email: 'peter@initech.test', password: 'initech-demo' },
    ]);
    for (const login of demo.acme.logins) expect(banner).toMatch(new RegExp(`${login.email} / ${login.password}\\s+\\(${login.company}\\)`));

    // The tenant as seeded: Acme's origin allowed, the sandbox connectors on, the flow templates published.
    const owner = new Http(api, { origin: api });
    expect((await owner.post('/v1/auth/login', { email: demo.portal.email, password: demo.portal.password })).status).toBe(200);
    const tenant = (await owner.get('/v1/admin/tenant')).body;
    expect(tenant).toMatchObject({ name: 'Acme CRM', allowedOrigins: [acme] });
    const connectors = (await owner.get('/v1/admin/connectors')).body.data;
    expect(connectors.find((c: { key: string }) => c.key === 'slack')).toMatchObject({ config: { enabled: true, settings: { useSandbox: true } } });
    const templates = (await owner.get('/v1/admin/flow-templates')).body.data.map((t: { key: string; latestVersion: number }) => [t.key, t.latestVersion]);
    expect(templates).toEqual(
      expect.arrayContaining([
        ['won-deals-to-slack', 1],
        ['new-customer-to-hubspot', 1],
        ['new-hubspot-deals-to-slack', 1],
        ['github-issues-to-slack', 1],
      ]),
    );
    const approval = demo.templates.find((t: { key: string }) => t.key === 'big-deal-approval');
    if (approval.status === 'skipped') expect(banner).toContain(`Not seeded     flow template big-deal-approval: ${approval.reason}`);
    else expect(templates).toContainEqual(['big-deal-approval', 1]);

    // Acme CRM: the printed login works; its Integrations page embeds the widget with a session its backend minted.
    const cookie = await signIn(acme, 'maria@globex.test', 'globex-demo');
    const page = await fetch(`${acme}/integrations`, { headers: { cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`${api}/embed/v1/loader.js`);
    expect(html).toMatch(/token: "sess_[A-Za-z0-9_-]+"/);

    // Acme's webhook endpoint: a test ping is signed with the secret Acme CRM was given, so its receiver accepts it.
    expect(demo.webhook).toMatchObject({ url: `http://127.0.0.1:${ports.acme}/webhooks/switchboard`, secret: expect.stringMatching(/^whsec_/) });
    expect((await owner.post(`/v1/admin/webhook-endpoints/${demo.webhook.id}/test`)).status).toBeLessThan(300);
    const deadline = Date.now() + 20_000;
    let deliveries: Array<{ eventType: string; status: string; responseStatus: number | null }> = [];
    while (Date.now() < deadline) {
      deliveries = (await owner.get(`/v1/admin/webhook-endpoints/${demo.webhook.id}/deliveries`)).body.data;
      if (deliveries.some((d) => d.eventType === 'ping' && d.status !== 'pending')) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(deliveries).toContainEqual(expect.objectContaining({ eventType: 'ping', status: 'succeeded', responseStatus: 204 }));

    // A customer connects the sandbox Slack (the popup's requests, without a browser).
    const host = new Http(api).withBearer(demo.apiKey);
    const session = (await host.post('/v1/sessions', { endUserId: 'company_globex' })).body.token;
    const begin = await fetch(`${api}/connect/slack?${new URLSearchParams({ session, origin: acme })}`, { redirect: 'manual' });
    expect(begin.status).toBe(302);
    slackConnection = /"connectionId":"([0-9a-f-]{36})"/.exec(await (await fetch(await consentInSandbox(begin.headers.get('location')!))).text())![1]!;
    expect((await host.get(`/v1/proxy/${slackConnection}/auth.test`)).body).toMatchObject({ ok: true });

    // The seeded triggers from inside the apps: a HubSpot poll and a GitHub webhook, both posting to Slack.
    for (const connector of ['hubspot', 'github']) {
      const connect = await fetch(`${api}/connect/${connector}?${new URLSearchParams({ session, origin: acme })}`, { redirect: 'manual' });
      expect(await (await fetch(await consentInSandbox(connect.headers.get('location')!))).text()).toContain('"connected"');
    }
    const firstChannel = (await host.get(`/v1/proxy/${slackConnection}/conversations.list`)).body.channels[0] as { id: string; name: string };
    const channel = firstChannel.id;
    const sandboxUrl = `http://127.0.0.1:${ports.sandbox}`;
    const sandboxToken = async (connector: string) =>
      (
        (await (
          await fetch(`${sandboxUrl}/_sandbox/oauth/issue`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ connector }) })
        ).json()) as { accessToken: string }
      ).accessToken;
    const runsOf = async (flow: string) =>
      ((await host.get(`/v1/runs?flow=${flow}&limit=50`)).body.data as Array<{ status: string; triggerType: string }>).filter((r) => r.status === 'succeeded');
    const until = async <T>(what: string, probe: () => Promise<T | false>): Promise<T> => {
      for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((r) => setTimeout(r, 250))) {
        const value = await probe();
        if (value) return value;
      }
      throw new Error(`timed out waiting for ${what}`);
    };
    expect((await host.post('/v1/end-users/company_globex/flows/new-hubspot-deals-to-slack/enable', { settings: { channel } })).status).toBe(200);
    const issues = await host.post('/v1/end-users/company_globex/flows/github-issues-to-slack/enable', { settings: { channel, repository: 'acme-inc/api' } });
    expect(issues.status).toBe(200);
    // GitHub: the repository hook is made, then an opened issue is pushed and runs at once.
    const hookUrl: string = issues.body.instance.webhookUrl;
    await until('the repository hook', async () => {
      const calls = (await (await fetch(`${sandboxUrl}/_sandbox/calls?connector=github&method=POST&path=/repos/acme-inc/api/hooks`)).json()) as {
        calls: Array<{ status: number }>;
      };
      return calls.calls.some((c) => c.status === 201);
    });
    const github = await sandboxToken('github');
    expect(
      (
        await fetch(`${sandboxUrl}/github/repos/acme-inc/api/issues`, {
          method: 'POST',
          headers: { authorization: `Bearer ${github}`, 'content-type': 'application/json' },
          body: JSON.stringify({ title: 'Demo issue' }),
        })
      ).status,
    ).toBe(201);
    expect((await until('the GitHub run', async () => (await runsOf('github-issues-to-slack')).length > 0 && runsOf('github-issues-to-slack')))[0]).toMatchObject({
      triggerType: 'webhook',
    });
    expect(hookUrl).toContain('/v1/hooks/whk_');
    // HubSpot: after the first poll, a new deal is found by the next one (made due now instead of in a minute).
    const { Client } = await import('pg');
    const pg = new Client({ connectionString: database.url });
    await pg.connect();
    try {
      await until('the first poll', async () => (await pg.query(`SELECT 1 FROM flow_instance_triggers WHERE type = 'poll' AND polled_at IS NOT NULL`)).rowCount === 1);
      const hubspot = await sandboxToken('hubspot');
      expect(
        (
          await fetch(`${sandboxUrl}/hubspot/crm/v3/objects/deals`, {
            method: 'POST',
            headers: { authorization: `Bearer ${hubspot}`, 'content-type': 'application/json' },
            body: JSON.stringify({ properties: { dealname: 'Demo deal', amount: '1200' } }),
          })
        ).status,
      ).toBe(201);
      await pg.query(`UPDATE flow_instance_triggers SET next_poll_at = now() WHERE type = 'poll'`);
      expect((await until('the HubSpot run', async () => (await runsOf('new-hubspot-deals-to-slack')).length > 0 && runsOf('new-hubspot-deals-to-slack')))[0]).toMatchObject({
        triggerType: 'poll',
      });
    } finally {
      await pg.end();
    }

    // The AI agent, governed: the seeded provider is this sandbox's scripted model. A ticket filed in
    // Acme CRM runs the agent; its HubSpot lookup goes through, its Slack post waits for the end user.
    expect(banner).toContain(`LLM provider sandbox (created) on the sandbox's scripted model support-triage at ${sandboxUrl}/llm/v1`);
    expect((await owner.get('/v1/admin/llm-providers/sandbox')).body).toMatchObject({ kind: 'openai-compatible', baseUrl: `${sandboxUrl}/llm/v1`, hasApiKey: false });
    expect(templates).toContainEqual(['support-ticket-triage', 1]);
    expect((await host.post('/v1/end-users/company_globex/flows/support-ticket-triage/enable', { settings: { channel } })).status).toBe(200);
    const filed = await fetch(`${acme}/support`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, origin: acme, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: 'maria@globex.test', subject: 'Cannot log in', message: 'Since the update this morning.' }).toString(),
    });
    expect(filed.status).toBe(303);
    expect(await (await fetch(`${acme}/support`, { headers: { cookie } })).text()).toContain('The AI agent is triaging it: approve its Slack post in Integrations.');
    const endUser = new Http(api).withBearer(session);
    const pending = await until(
      'the agent approval',
      async () =>
        ((await endUser.get('/v1/me/approvals?status=pending')).body.data as Array<{ id: string; flow: string; runId: string; description: string }>).find(
          (a) => a.flow === 'support-ticket-triage',
        ) ?? false,
    );
    const text = ':ticket: New support ticket from Maria Johnson (Globex Corporation): *Cannot log in*\nSince the update this morning.';
    // The description is "Field: value" lines; a value's further lines are indented.
    expect(pending.description).toContain(`Text: ${text.replace(/\n/g, '\n  ')}`);
    // The channel by its name, as Slack's channel picker shows it, not its id.
    expect(pending.description).toContain(`Channel: #${firstChannel.name}\n`);
    const posts = async () =>
      (
        (await (await fetch(`${sandboxUrl}/_sandbox/calls?connector=slack&path=/api/chat.postMessage`)).json()) as { calls: Array<{ body: { text?: string }; status: number }> }
      ).calls.filter((c) => c.body?.text === text);
    expect(await posts()).toEqual([]);
    expect((await endUser.post(`/v1/me/approvals/${pending.id}/approve`, {})).status).toBe(200);
    const triaged = await until('the triage run', async () => {
      const run = (await host.get(`/v1/runs/${pending.runId}`)).body;
      return ['succeeded', 'failed'].includes(run.status) && run;
    });
    expect(triaged.status, JSON.stringify(triaged.error)).toBe('succeeded');
    expect(triaged.result).toMatchObject({ priority: 'high', toolCalls: 2 });
    expect(await posts()).toEqual([expect.objectContaining({ status: 200, body: expect.objectContaining({ channel }) })]);

    // Ctrl-C: the runner exits 0 and takes the API, the demo app and the sandbox with it.
    expect(await stop(stack)).toBe(0);
    expect(stack.output()).not.toMatch(/exited with code/);
    for (const port of [ports.api, ports.acme, ports.sandbox]) expect(await refused(`http://127.0.0.1:${port}/`)).toBe(true);
  });

  it('starts again from the same state: nothing is seeded twice, the same logins, key and webhook secret work', async () => {
    const before = state();
    const stack = start();
    await untilReady(stack);
    const after = state();
    expect(after.apiKey).toBe(before.apiKey);
    expect(after.portal.password).toBe(before.portal.password);
    expect(after.webhook).toEqual(before.webhook);
    expect(after.templates.filter((t: { status: string }) => t.status === 'published')).toEqual([]);
    expect(stack.output()).toContain('flow templates won-deals-to-slack (unchanged), new-customer-to-hubspot (unchanged)');
    const api = `http://localhost:${ports.api}`;
    const owner = new Http(api, { origin: api });
    expect((await owner.post('/v1/auth/login', { email: after.portal.email, password: after.portal.password })).status).toBe(200);
    expect((await owner.get('/v1/admin/webhook-endpoints')).body.data).toHaveLength(1);
    // The sandbox kept the tokens it issued: the connection made before the restart still works.
    expect((await new Http(api).withBearer(after.apiKey).get(`/v1/proxy/${slackConnection}/auth.test`)).body).toMatchObject({ ok: true });
    expect((await new Http(api).withBearer(after.apiKey).get(`/v1/connections/${slackConnection}`)).body.status).toBe('active');
    // The agent's provider and the sandbox model's script are still there, unchanged.
    expect(stack.output()).toContain('LLM provider sandbox (unchanged)');
    expect(stack.output()).toContain('support-ticket-triage (unchanged)');
    const script = await fetch(`http://127.0.0.1:${ports.sandbox}/_sandbox/llm/scripts/support-triage`);
    expect(script.status).toBe(200);
    expect(((await script.json()) as { turns: unknown[] }).turns).toHaveLength(3);
    // Acme CRM kept its data in the state folder.
    await signIn(`http://localhost:${ports.acme}`, 'peter@initech.test', 'initech-demo');
    expect(await stop(stack)).toBe(0);
  });
});
