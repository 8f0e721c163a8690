import { consentInSandbox, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, Proc, run, sleep, waitFor } from './child-processes';
import { createTenant, freePort, TenantFixture, testEnv } from './harness';

/**
 * An agent whose worker is killed (SIGKILL) mid-agent: after its tool calls finished, while the
 * model is working on its final answer. A fresh worker resumes the run from the timeline: the
 * finished model and tool calls are replayed, not made again; only the model call in flight is.
 */

const HOST_ORIGIN = 'https://host.example';
const LOCK_MS = 2000;
const STALLED_MS = 500;
const TEXT = 'Ticket from Maria: Cannot log in';

const flow = {
  key: 'agent-crash',
  name: 'Agent under SIGKILL',
  trigger: { type: 'request' },
  connectors: ['hubspot', 'slack'],
  inputs: {},
  steps: [
    {
      id: 'triage',
      type: 'agent',
      provider: 'sandbox',
      model: 'crash-triage',
      instructions: 'Look the customer up, then tell #general.',
      input: { subject: '=$trigger.subject', from: '=$trigger.email' },
      tools: ['hubspot.find_contact', 'slack.send_message'],
    },
  ],
};

describe('agent step under SIGKILL', () => {
  let sandbox: Sandbox;
  let env: Record<string, string>;
  let url: string;
  let api: Proc;
  const workers: Proc[] = [];
  let tenant: TenantFixture;

  const startWorker = async (): Promise<Proc> => {
    const worker = run('worker.js', env);
    workers.push(worker);
    await waitFor(() => (worker.output().includes('Switchboard worker ready') ? true : alive(worker) ? undefined : Promise.reject(new Error('exited'))), 30_000, 'worker ready');
    return worker;
  };
  const modelRequests = async () => ((await (await fetch(`${sandbox.url}/_sandbox/llm/requests?model=crash-triage`)).json()) as { requests: unknown[] }).requests.length;

  beforeAll(async () => {
    sandbox = await startSandbox();
    env = testEnv(await freePort(), {
      SANDBOX_URL: sandbox.url,
      OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}`,
      MAINTENANCE_INTERVAL_SECONDS: '1',
      QUEUE_LOCK_DURATION_MS: String(LOCK_MS),
      QUEUE_STALLED_INTERVAL_MS: String(STALLED_MS),
      LOG_LEVEL: 'info',
    });
    url = env.PUBLIC_URL;
    api = run('main.js', env);
    await waitFor(async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined), 30_000, 'API ready');
    tenant = await createTenant({ url, origin: url } as never, 'Agent Crash Co');
    await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
    const token = (await tenant.host.post('/v1/sessions', { endUserId: 'alice' })).body.token as string;
    for (const connector of ['hubspot', 'slack']) {
      expect((await tenant.owner.put(`/v1/admin/connectors/${connector}`, { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
      const start = await fetch(`${url}/connect/${connector}?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
      expect(await (await fetch(await consentInSandbox(start.headers.get('location')!))).text()).toContain('"connected"');
    }
    expect(
      (await tenant.owner.post('/v1/admin/llm-providers', { key: 'sandbox', name: 'Sandbox', kind: 'openai-compatible', baseUrl: `${sandbox.url}/llm/v1`, apiKey: 'x' })).status,
    ).toBe(201);
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition: flow })).status).toBe(201);
    expect((await tenant.owner.post(`/v1/admin/flow-templates/${flow.key}/publish`)).status).toBe(201);
    expect((await tenant.host.post(`/v1/end-users/alice/flows/${flow.key}/enable`, {})).status).toBe(200);
  });

  afterAll(async () => {
    for (const p of [...workers, api]) {
      if (p && alive(p)) {
        p.child.kill('SIGTERM');
        await Promise.race([p.exited, sleep(10_000).then(() => p.child.kill('SIGKILL'))]);
      }
    }
    await sandbox?.close();
  });

  it('resumes from the last finished call: no tool call is made twice', async () => {
    sandbox.scriptModel('crash-triage', [
      { toolCalls: [{ name: 'hubspot_find_contact', arguments: { email: '{{input.from}}' } }] },
      {
        toolCalls: [
          { name: 'slack_send_message', arguments: { channel: '#general', text: 'Ticket from {{tools.hubspot_find_contact.contact.properties.firstname}}: {{input.subject}}' } },
        ],
      },
      // The final answer takes a while: the kill lands while the model is "thinking".
      { content: 'Posted the summary.', delayMs: 4000 },
    ]);
    const victim = await startWorker();
    const started = await tenant.host.post(`/v1/flows/${flow.key}/runs`, { endUserId: 'alice', input: { subject: 'Cannot log in', email: 'maria@globex.test' } });
    expect(started.status).toBe(202);
    const id = started.body.id as string;

    await waitFor(async () => ((await modelRequests()) === 3 ? true : undefined), 30_000, 'the third model call');
    expect(sandbox.state.slack.messages.filter((m: { text?: string }) => m.text === TEXT)).toHaveLength(1);
    victim.child.kill('SIGKILL');
    await victim.exited;
    await startWorker();

    const done = await waitFor(
      async () => {
        const view = (await tenant.host.get(`/v1/runs/${id}`)).body;
        return ['succeeded', 'failed'].includes(view.status) ? view : undefined;
      },
      60_000,
      'the resumed run',
    );
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.steps.find((s: { path: string }) => s.path === 'triage').output).toMatchObject({ answer: 'Posted the summary.', modelCalls: 3, toolCalls: 2 });
    // Exactly one Slack message and one HubSpot search; the model call in flight at the kill was made again (4 requests in all).
    expect(sandbox.state.slack.messages.filter((m: { text?: string }) => m.text === TEXT)).toHaveLength(1);
    expect(sandbox.calls().filter((c) => c.connector === 'hubspot' && c.path.endsWith('/search'))).toHaveLength(1);
    expect(await modelRequests()).toBe(4);
    const tools = done.steps.filter((s: { type: string }) => s.type === 'tool');
    expect(tools).toHaveLength(2);
    for (const tool of tools) expect(tool).not.toHaveProperty('possibleDuplicate');
  });
});
