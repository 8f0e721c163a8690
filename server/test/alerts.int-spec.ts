import { Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, connectInSandbox, createTenant, freePort, startReceiver, startApi, startWorker, TenantFixture, TestApi, until } from './harness';

/**
 * Alert rules as a vendor's team uses them: each kind fires once while its condition holds and
 * resolves once when it clears, told by email (a local SMTP sink), Slack (the sandbox, through the
 * tenant's own connection) and an outbound webhook. Real API, worker (evaluating every second),
 * PostgreSQL and Redis.
 */

const HOST_ORIGIN = 'https://host.example';

interface Mail {
  to: string;
  subject: string;
  body: string;
}

async function startSmtpSink() {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (auth.username === 'alerts' && auth.password === 's3cret-smtp-pass') callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), subject: /^Subject: (.*)$/m.exec(raw)?.[1] ?? '', body: raw });
        callback();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('alerts', () => {
  let sandbox: Sandbox;
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let api: TestApi;
  let workers: Array<Awaited<ReturnType<typeof startWorker>>>;
  let tenant: TenantFixture;
  let other: TenantFixture;
  let db: DataSource;
  let verifier: Webhook;
  let slackConnection: string;
  let slackChannel: string;

  type Event = { type: string; data: { alert: Record<string, any> } };
  const events = () => receiver.received.map((r) => verifier.verify(r.body, r.headers as Record<string, string>) as Event);
  const channels = () => ({ email: ['oncall@vendor.test'], slack: { connectionId: slackConnection, channel: slackChannel }, webhook: true });

  /** Every notice about `name`, per channel and status. */
  function notices(name: string) {
    const subjects = smtp.mails.map((m) => m.subject).filter((s) => s.includes(`] ${name}:`));
    const slack = sandbox.state.slack.messages.filter((m) => m.text.includes(`] ${name}:`));
    const hooks = events().filter((e) => e.data.alert.ruleName === name);
    return {
      email: { firing: subjects.filter((s) => s.startsWith('[FIRING]')).length, resolved: subjects.filter((s) => s.startsWith('[RESOLVED]')).length },
      slack: { firing: slack.filter((m) => m.text.startsWith('[FIRING]')).length, resolved: slack.filter((m) => m.text.startsWith('[RESOLVED]')).length },
      webhook: { firing: hooks.filter((e) => e.type === 'alert.fired').length, resolved: hooks.filter((e) => e.type === 'alert.resolved').length },
    };
  }
  const each = (firing: number, resolved: number) => ({ email: { firing, resolved }, slack: { firing, resolved }, webhook: { firing, resolved } });

  /** Creates a rule, makes its condition hold, checks one notice per channel (also after more evaluations), clears it, checks one resolved notice. */
  async function fireAndResolve(rule: Record<string, unknown>, hold: () => Promise<unknown>, clear: () => Promise<unknown>, subject: string) {
    const created = await tenant.owner.post('/v1/admin/alert-rules', { ...rule, channels: channels() });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const name = rule.name as string;
    await hold();
    await until(`${name} fired everywhere`, async () => JSON.stringify(notices(name)) === JSON.stringify(each(1, 0)), 30_000).catch(async (error: Error) => {
      const incidents = await db.query(`SELECT * FROM alert_incidents WHERE rule_id = $1`, [created.body.id]);
      throw new Error(`${error.message}: notices ${JSON.stringify(notices(name))}, incidents ${JSON.stringify(incidents)}`);
    });
    const firing = await tenant.owner.get(`/v1/admin/alert-incidents?status=firing&ruleId=${created.body.id}`);
    expect(firing.body.data).toEqual([expect.objectContaining({ subject, status: 'firing', resolvedAt: null, notifyError: null })]);
    expect([...firing.body.data[0].notified].sort()).toEqual(['firing:email', 'firing:slack', 'firing:webhook']);
    // Several more evaluations while it still holds: no second incident, no second notice.
    await pause(3000);
    expect(notices(name)).toEqual(each(1, 0));
    await clear();
    await until(`${name} resolved everywhere`, async () => JSON.stringify(notices(name)) === JSON.stringify(each(1, 1)), 30_000);
    await pause(2500);
    expect(notices(name)).toEqual(each(1, 1));
    const all = (await tenant.owner.get(`/v1/admin/alert-incidents?ruleId=${created.body.id}`)).body.data;
    expect(all).toEqual([expect.objectContaining({ subject, status: 'resolved', resolvedAt: expect.any(String) })]);
    const hook = events().find((e) => e.type === 'alert.resolved' && e.data.alert.ruleName === name)!;
    expect(hook.data.alert).toMatchObject({ ruleId: created.body.id, kind: rule.kind, subject, status: 'resolved' });
    // Disabled, so later tests' conditions do not concern it.
    expect((await tenant.owner.patch(`/v1/admin/alert-rules/${created.body.id}`, { enabled: false })).status).toBe(200);
    return created.body.id as string;
  }

  beforeAll(async () => {
    sandbox = await startSandbox();
    smtp = await startSmtpSink();
    receiver = await startReceiver();
    api = await startApi({
      SANDBOX_URL: sandbox.url,
      OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port},127.0.0.1:${receiver.port}`,
      ALERTS_INTERVAL_SECONDS: '1',
      SMTP_URL: `smtp://alerts:s3cret-smtp-pass@127.0.0.1:${smtp.port}`,
      ALERTS_FROM: 'Alerts <alerts@vendor.test>',
    });
    // Two workers, so that overlapping ticks would show as a second notice.
    workers = [await startWorker(api.config), await startWorker(api.config)];
    db = api.app.get(DataSource);
    tenant = await createTenant(api, 'Alerting Co');
    other = await createTenant(api, 'Other Co');
    expect((await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] })).status).toBe(200);
    expect((await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    slackConnection = await connectInSandbox(api, tenant, 'slack', 'vendor-ops', { origin: HOST_ORIGIN });
    slackChannel = sandbox.state.slack.channels.find((c) => !c.is_archived && !c.is_private)!.id;
    const endpoint = await tenant.owner.post('/v1/admin/webhook-endpoints', { url: `http://127.0.0.1:${receiver.port}/hooks`, eventTypes: ['alert.fired', 'alert.resolved'] });
    expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(201);
    verifier = new Webhook(endpoint.body.secret);
    const definition = {
      key: 'audit',
      name: 'Audit',
      trigger: { type: 'event', event: 'deal.won' },
      connectors: [],
      inputs: {},
      steps: [{ id: 'check', type: 'transform', output: "=$trigger.amount > 100 ? $error('amount over budget') : 'ok'" }],
    };
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition })).status).toBe(201);
    expect((await tenant.owner.post('/v1/admin/flow-templates/audit/publish')).status).toBe(201);
    expect((await tenant.host.put('/v1/end-users/cust-1', {})).status).toBeLessThan(300);
    expect((await tenant.host.post('/v1/end-users/cust-1/flows/audit/enable', {})).status).toBeLessThan(300);
  });

  afterAll(async () => {
    for (const worker of workers ?? []) await worker.close();
    await api?.close();
    await receiver?.close();
    await smtp?.close();
    await sandbox?.close();
  });

  /** Failed runs of `audit` now; cleared by moving them out of every window (a test's clock). */
  const failRuns = async () => {
    for (const amount of [500, 600, 5]) {
      const sent = await tenant.host.post('/v1/events', { name: 'deal.won', endUserId: 'cust-1', payload: { amount } });
      expect(sent.status).toBe(202);
    }
    await until('the runs finished', async () => {
      const [row] = await db.query(`SELECT count(*) FILTER (WHERE status IN ('succeeded', 'failed'))::int AS done FROM runs WHERE tenant_id = $1`, [tenant.tenantId]);
      return row.done >= 3;
    });
  };
  const ageRuns = () => db.query(`UPDATE runs SET created_at = created_at - interval '1 day' WHERE tenant_id = $1`, [tenant.tenantId]);

  it('a flow failure count fires once and resolves once, by email, Slack and webhook', async () => {
    await fireAndResolve({ name: 'Audit failing', kind: 'flow_failures', params: { flowKey: 'audit', threshold: 2, windowMinutes: 60 } }, failRuns, ageRuns, 'audit');
    const mail = smtp.mails.find((m) => m.subject.startsWith('[FIRING] Audit failing'))!;
    expect(mail.to).toBe('oncall@vendor.test');
    expect(mail.body).toContain('2 runs failed in the last 60 min');
  });

  it('a flow failure rate over every flow fires once per flow and resolves once', async () => {
    await fireAndResolve({ name: 'Failure rate', kind: 'flow_failure_rate', params: { threshold: 50, windowMinutes: 30, minRuns: 3 } }, failRuns, ageRuns, 'audit');
    expect(smtp.mails.find((m) => m.subject.startsWith('[FIRING] Failure rate'))!.body).toContain('66.7% of finished runs failed');
  });

  it('a connection needing reauth fires once and resolves once', async () => {
    const reauth = await connectInSandbox(api, tenant, 'slack', 'cust-2', { origin: HOST_ORIGIN });
    // The refresh path marks a connection so when its provider refuses the token; the end user reconnecting makes it active again.
    const mark = (status: string) => db.query(`UPDATE connections SET status = $2 WHERE id = $1`, [reauth, status]);
    await fireAndResolve(
      { name: 'Reauth needed', kind: 'connection_needs_reauth' },
      () => mark('needs_reauth'),
      () => mark('active'),
      reauth,
    );
  });

  it('a disabled webhook endpoint fires once and resolves once', async () => {
    const endpoint = await tenant.owner.post('/v1/admin/webhook-endpoints', { url: `http://127.0.0.1:${receiver.port}/other`, eventTypes: ['run.failed'] });
    const id = endpoint.body.id as string;
    await fireAndResolve(
      { name: 'Endpoint down', kind: 'webhook_endpoint_disabled' },
      () => tenant.owner.patch(`/v1/admin/webhook-endpoints/${id}`, { enabled: false }),
      () => tenant.owner.patch(`/v1/admin/webhook-endpoints/${id}`, { enabled: true }),
      id,
    );
  });

  it('a tenant near its monthly token cap fires once and resolves once', async () => {
    await fireAndResolve(
      { name: 'Near cap', kind: 'tenant_near_cap', params: { threshold: 80 } },
      () => tenant.owner.patch('/v1/admin/tenant', { monthlyTokenCap: 0 }),
      () => tenant.owner.patch('/v1/admin/tenant', { monthlyTokenCap: null }),
      'monthly_tokens',
    );
  });

  it('retries a channel that failed on the next evaluation, without resending the others', async () => {
    sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', status: 503, times: 1 } as never);
    const endpoint = await tenant.owner.post('/v1/admin/webhook-endpoints', { url: `http://127.0.0.1:${receiver.port}/retry`, eventTypes: ['run.failed'] });
    const rule = await tenant.owner.post('/v1/admin/alert-rules', {
      name: 'Retry check',
      kind: 'webhook_endpoint_disabled',
      channels: { email: ['oncall@vendor.test'], slack: { connectionId: slackConnection, channel: slackChannel } },
    });
    expect(rule.status).toBe(201);
    await tenant.owner.patch(`/v1/admin/webhook-endpoints/${endpoint.body.id}`, { enabled: false });
    await until('the Slack notice retried', async () => notices('Retry check').slack.firing === 1);
    await pause(2500);
    expect(notices('Retry check')).toMatchObject({ email: { firing: 1, resolved: 0 }, slack: { firing: 1, resolved: 0 } });
    const attempts = sandbox.calls({ connector: 'slack', path: '/api/chat.postMessage' }).filter((c) => String((c.body as { text?: string })?.text).includes('Retry check'));
    expect(attempts).toHaveLength(2);
    const [incident] = (await tenant.owner.get(`/v1/admin/alert-incidents?ruleId=${rule.body.id}`)).body.data;
    expect(incident).toMatchObject({ status: 'firing', notifyError: null });
    expect([...incident.notified].sort()).toEqual(['firing:email', 'firing:slack']);
    expect((await tenant.owner.patch(`/v1/admin/alert-rules/${rule.body.id}`, { enabled: false })).status).toBe(200);
  });

  it('never logs the SMTP credentials', () => {
    const logs = JSON.stringify([api.logs, ...workers.map((w) => w.logs)]);
    expect(logs).toContain('alert incidents changed');
    expect(logs).not.toContain('s3cret-smtp-pass');
  });

  it("another tenant's rules are not found, and viewers only read", async () => {
    const rule = (await tenant.owner.get('/v1/admin/alert-rules')).body.data[0];
    expect(rule).toBeDefined();
    for (const res of [
      await other.owner.get(`/v1/admin/alert-rules/${rule.id}`),
      await other.owner.patch(`/v1/admin/alert-rules/${rule.id}`, { name: 'stolen' }),
      await other.owner.delete(`/v1/admin/alert-rules/${rule.id}`),
    ]) {
      expect(res.status).toBe(404);
    }
    expect((await other.owner.get(`/v1/admin/alert-incidents?ruleId=${rule.id}`)).body.data).toEqual([]);
    const viewer = await addMember(api, tenant, 'viewer');
    expect((await viewer.browser.get('/v1/admin/alert-rules')).status).toBe(200);
    expect((await viewer.browser.get('/v1/admin/alert-incidents')).status).toBe(200);
    expect((await viewer.browser.patch(`/v1/admin/alert-rules/${rule.id}`, { name: 'mine' })).status).toBe(403);
    // A Slack connection of another tenant is not a channel this one may use.
    const theirs = await other.owner.post('/v1/admin/alert-rules', {
      name: 'x',
      kind: 'connection_needs_reauth',
      channels: { slack: { connectionId: slackConnection, channel: 'C1' } },
    });
    expect(theirs.status).toBe(400);
    expect(theirs.body.error.details.errors).toEqual([{ path: 'channels.slack.connectionId', message: 'is not one of your connections' }]);
  });

  it('names the field a rule gets wrong', async () => {
    const errors = async (body: Record<string, unknown>) => {
      const res = await tenant.owner.post('/v1/admin/alert-rules', body);
      expect(res.status).toBe(400);
      return (res.body.error.details.errors as Array<{ path: string }>).map((e) => e.path);
    };
    expect(await errors({ name: 'x', kind: 'flow_failures', params: { threshold: 1 }, channels: { webhook: true } })).toEqual(['params.windowMinutes']);
    expect(await errors({ name: 'x', kind: 'tenant_near_cap', params: { threshold: 150 }, channels: { webhook: true } })).toEqual(['params.threshold']);
    expect(await errors({ name: 'x', kind: 'connection_needs_reauth', channels: {} })).toEqual(['channels']);
    expect(await errors({ name: 'x', kind: 'nope', channels: { webhook: true } })).toEqual(['kind']);
    expect(await errors({ name: 'x', kind: 'connection_needs_reauth', channels: { email: ['not-an-email'] } })).toEqual(['channels.email']);
    expect(await errors({ name: 'x', kind: 'flow_failures', params: { threshold: 0, windowMinutes: 5 }, channels: { webhook: true } })).toEqual(['params.threshold']);
    const stripeLike = await tenant.owner.post('/v1/admin/alert-rules', {
      name: 'x',
      kind: 'connection_needs_reauth',
      channels: { slack: { connectionId: '00000000-0000-4000-8000-000000000000', channel: 'C1' } },
    });
    expect(stripeLike.body.error.details.errors).toEqual([{ path: 'channels.slack.connectionId', message: 'is not one of your connections' }]);
  });

  it('audits every change to a rule', async () => {
    const created = await tenant.owner.post('/v1/admin/alert-rules', { name: 'Audited', kind: 'webhook_endpoint_disabled', channels: { webhook: true } });
    expect((await tenant.owner.patch(`/v1/admin/alert-rules/${created.body.id}`, { name: 'Audited again' })).status).toBe(200);
    expect((await tenant.owner.delete(`/v1/admin/alert-rules/${created.body.id}`)).status).toBe(204);
    const audit = (await tenant.owner.get('/v1/admin/audit-events?limit=50')).body.data as Array<{ action: string; targetId: string | null }>;
    expect(audit.filter((e) => e.targetId === created.body.id).map((e) => e.action)).toEqual(['alert_rule.deleted', 'alert_rule.updated', 'alert_rule.created']);
  });
});
