import { Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANSWER, LOOKUP, POST, publishForAlice, setUpAgentTenant, triageFlow } from './agent-fixtures';
import { connectInSandbox, createTenant, Http, startApi, startWorker, TenantFixture, TestApi, until } from './harness';

const HOST_ORIGIN = 'https://host.example';

interface Step {
  path: string;
  id: string;
  type: string;
  status: string;
  input?: any;
  output?: any;
  error?: { code: string; message: string };
  usage?: { inputTokens: number; outputTokens: number; totalTokens: number };
  approval?: { approved: boolean; decidedBy: string | null; comment: string | null };
}

const triage = triageFlow;

describe('agent steps', () => {
  let sandbox: Sandbox;
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let alice: Http;

  const run = async (t: TenantFixture, key: string, input: Record<string, unknown> = { subject: 'Cannot log in', email: 'maria@globex.test' }) => {
    const started = await t.host.post(`/v1/flows/${key}/runs`, { endUserId: 'alice', input });
    expect(started.status).toBe(202);
    return started.body.id as string;
  };
  const settled = (t: TenantFixture, id: string, statuses = ['succeeded', 'failed']) =>
    until(`run ${id} ${statuses.join('/')}`, async () => {
      const view = (await t.host.get(`/v1/runs/${id}`)).body;
      return statuses.includes(view.status) ? view : undefined;
    });
  const pendingApproval = async (runId: string) =>
    until('the agent approval', async () =>
      ((await alice.get('/v1/me/approvals?status=pending')).body.data as Array<{ runId: string; id: string }>).find((a) => a.runId === runId),
    );
  const requestsOf = async (model: string): Promise<Array<{ messages: Array<{ role: string; content: unknown; tool_calls?: unknown[] }> }>> =>
    ((await (await fetch(`${sandbox.url}/_sandbox/llm/requests?model=${model}`)).json()) as { requests: never }).requests;
  const slackTexts = () => sandbox.state.slack.messages.map((m: { text?: string }) => m.text ?? '');

  const publish = publishForAlice;
  const setUp = (t: TenantFixture) => setUpAgentTenant(api, t, sandbox, [HOST_ORIGIN]);

  beforeAll(async () => {
    sandbox = await startSandbox();
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}` });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Agents Co');
    await setUp(tenant);
    alice = new Http(api.url).withBearer((await tenant.host.post('/v1/sessions', { endUserId: 'alice' })).body.token);
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await sandbox?.close();
  });

  it('chooses tools, waits for the end user to approve the write, posts, and answers valid JSON', async () => {
    sandbox.scriptModel('triage-approve', [LOOKUP, POST, ANSWER]);
    await publish(tenant, triage('triage-approve', 'triage-approve'));
    const id = await run(tenant, 'triage-approve');
    const approval = await pendingApproval(id);
    expect(approval).toMatchObject({ stepId: 'triage', approvers: 'end_user', title: 'The AI agent wants to: Send message in Slack', status: 'pending' });
    expect((approval as unknown as { description: string }).description).toBe('Channel: #general\nText: Ticket from Maria: Cannot log in');
    const waiting = (await tenant.host.get(`/v1/runs/${id}`)).body;
    expect(waiting.status).toBe('waiting');
    expect(slackTexts()).not.toContain('Ticket from Maria: Cannot log in');

    expect((await alice.post(`/v1/me/approvals/${approval.id}/approve`, { comment: 'Go' })).status).toBe(200);
    const done = await settled(tenant, id);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.result).toEqual({ priority: 'high', calls: 2 });
    expect(slackTexts().filter((t: string) => t === 'Ticket from Maria: Cannot log in')).toHaveLength(1);

    const steps = done.steps as Step[];
    expect(steps.map((s) => [s.path, s.type, s.status])).toEqual([
      ['ticket', 'transform', 'succeeded'],
      ['triage', 'agent', 'succeeded'],
      ['triage/turn[0]', 'model', 'succeeded'],
      ['triage/turn[0]/call[0]', 'tool', 'succeeded'],
      ['triage/turn[1]', 'model', 'succeeded'],
      ['triage/turn[1]/call[0]', 'tool', 'succeeded'],
      ['triage/turn[2]', 'model', 'succeeded'],
      ['done', 'transform', 'succeeded'],
    ]);
    const lookup = steps.find((s) => s.path === 'triage/turn[0]/call[0]')!;
    expect(lookup).toMatchObject({ id: 'hubspot_find_contact', input: { email: 'maria@globex.test' }, output: { found: true, contact: { id: '51' } } });
    expect(steps.find((s) => s.path === 'triage/turn[1]/call[0]')).toMatchObject({
      approval: { approved: true, decidedBy: 'alice', comment: 'Go' },
      output: { channel: expect.any(String) },
    });
    const agent = steps.find((s) => s.path === 'triage')!;
    expect(agent.output).toMatchObject({ answer: { summary: 'Maria cannot log in', priority: 'high' }, modelCalls: 3, toolCalls: 2 });
    const turns = steps.filter((s) => s.type === 'model');
    for (const turn of turns) expect(turn.usage!.totalTokens).toBeGreaterThan(0);
    const total = turns.reduce((n, s) => n + s.usage!.totalTokens, 0);
    expect(done.usage.totalTokens).toBe(total);
    expect(agent.usage!.totalTokens).toBe(total);

    // The model saw the lookup's result before writing its message.
    const requests = await requestsOf('triage-approve');
    expect(requests).toHaveLength(3);
    expect(JSON.stringify(requests[1]!.messages)).toContain('Johnson');
    expect(requests[0]!.messages[0]).toMatchObject({ role: 'system' });

    const dashboard = (await tenant.owner.get('/v1/admin/stats')).body;
    expect(dashboard.tokens.thisMonth.totalTokens).toBeGreaterThanOrEqual(total);
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    const scraped = (direction: string) => Number(new RegExp(`^llm_tokens_total\\{direction="${direction}"\\} (\\d+)$`, 'm').exec(metrics)?.[1]);
    expect(scraped('input') + scraped('output')).toBeGreaterThanOrEqual(total);
    expect(Number(/^llm_model_calls_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);
  });

  it('reports a rejected call back to the model, which goes on without it', async () => {
    sandbox.scriptModel('triage-reject', [LOOKUP, POST, { content: '{"summary":"Not posted","priority":"low"}' }]);
    await publish(tenant, triage('triage-reject', 'triage-reject'));
    const before = slackTexts().length;
    const id = await run(tenant, 'triage-reject');
    const approval = await pendingApproval(id);
    expect((await alice.post(`/v1/me/approvals/${approval.id}/reject`, { comment: 'Not to #general' })).status).toBe(200);
    const done = await settled(tenant, id);
    expect(done.status).toBe('succeeded');
    expect(done.result.priority).toBe('low');
    expect(slackTexts()).toHaveLength(before);
    const rejected = (done.steps as Step[]).find((s) => s.path === 'triage/turn[1]/call[0]')!;
    expect(rejected).toMatchObject({ status: 'skipped', approval: { approved: false, decidedBy: 'alice' }, error: { code: 'approval_rejected' } });
    const third = (await requestsOf('triage-reject'))[2]!;
    expect(JSON.stringify(third.messages)).toContain('alice rejected it: Not to #general');
  });

  it("tells the model when its arguments do not fit the action's schema or the tool does not exist; nothing is sent or asked", async () => {
    sandbox.scriptModel('sloppy', [
      { toolCalls: [{ name: 'slack_send_message', arguments: { channel: '#general' } }] },
      { toolCalls: [{ name: 'github_delete_repo', arguments: {} }] },
      ANSWER,
    ]);
    await publish(tenant, triage('agent-sloppy', 'sloppy'));
    const before = slackTexts().length;
    const done = await settled(tenant, await run(tenant, 'agent-sloppy'));
    expect(done.status).toBe('succeeded');
    const calls = (done.steps as Step[]).filter((s) => s.type === 'tool');
    expect(calls.map((c) => [c.id, c.status, c.error?.code])).toEqual([
      ['slack_send_message', 'failed', 'invalid_tool_input'],
      ['github_delete_repo', 'failed', 'unknown_tool'],
    ]);
    expect(slackTexts()).toHaveLength(before);
    expect((await alice.get('/v1/me/approvals')).body.data.filter((a: { runId: string }) => a.runId === done.id)).toEqual([]);
    const requests = await requestsOf('sloppy');
    expect(JSON.stringify(requests[1]!.messages)).toContain("must have required property 'text'");
    expect(JSON.stringify(requests[2]!.messages)).toContain('There is no tool named github_delete_repo');
  });

  it('fails clearly when the model exhausts its iterations or its token budget', async () => {
    sandbox.scriptModel('loops', [LOOKUP]);
    await publish(tenant, triage('agent-iterations', 'loops', { maxIterations: 3 }));
    const iterations = await settled(tenant, await run(tenant, 'agent-iterations'));
    expect(iterations.status).toBe('failed');
    expect(iterations.error).toMatchObject({ code: 'agent_iterations_exhausted', step: 'triage' });
    expect(iterations.error.message).toContain('3 model calls');
    expect((iterations.steps as Step[]).filter((s) => s.type === 'model')).toHaveLength(3);
    // Every lookup was made once per model call that asked for it, none repeated by the failure.
    expect((iterations.steps as Step[]).filter((s) => s.type === 'tool')).toHaveLength(3);

    await publish(tenant, triage('agent-tokens', 'loops', { maxTokens: 50 }));
    const tokens = await settled(tenant, await run(tenant, 'agent-tokens'));
    expect(tokens.error).toMatchObject({ code: 'agent_tokens_exhausted', step: 'triage' });
    expect((tokens.steps as Step[]).filter((s) => s.type === 'model')).toHaveLength(1);
  });

  it('sends an invalid answer back once with the schema errors, then fails the step', async () => {
    sandbox.scriptModel('fixes-itself', [{ content: 'High priority, I think.' }, ANSWER]);
    await publish(tenant, triage('agent-fixes', 'fixes-itself'));
    const fixed = await settled(tenant, await run(tenant, 'agent-fixes'));
    expect(fixed.status).toBe('succeeded');
    expect(fixed.result.priority).toBe('high');
    const second = (await requestsOf('fixes-itself'))[1]!;
    expect(JSON.stringify(second.messages.at(-1))).toContain('Your answer is not valid: it is not JSON');

    sandbox.scriptModel('stubborn', [{ content: '{"summary":"x","priority":"urgent"}' }]);
    await publish(tenant, triage('agent-stubborn', 'stubborn'));
    const failed = await settled(tenant, await run(tenant, 'agent-stubborn'));
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'agent_output_invalid', step: 'triage' });
    expect(failed.error.message).toContain('answer/priority must be equal to one of the allowed values');
  });

  it("stops at the tenant's monthly token cap", async () => {
    const capped = await createTenant(api, 'Capped Co');
    await setUp(capped);
    sandbox.scriptModel('capped', [ANSWER]);
    await publish(capped, triage('capped', 'capped'));
    expect((await capped.owner.patch('/v1/admin/tenant', { monthlyTokenCap: 1 })).body.monthlyTokenCap).toBe(1);
    const first = await settled(capped, await run(capped, 'capped'));
    expect(first.status).toBe('succeeded'); // under the cap when it started; it takes the month past it
    const second = await settled(capped, await run(capped, 'capped'));
    expect(second.error).toMatchObject({ code: 'token_cap_reached', step: 'triage' });
    expect(second.error.message).toContain('monthly cap of 1');
    expect((await capped.owner.patch('/v1/admin/tenant', { monthlyTokenCap: -1 })).status).toBe(400);
    const audit = (await capped.owner.get('/v1/admin/audit-events?action=tenant.updated')).body.data;
    expect(audit[0].data).toMatchObject({ monthlyTokenCap: { from: null, to: 1 } });
  });

  it("never uses another tenant's LLM provider: a tenant without one gets a clear failure", async () => {
    const other = await createTenant(api, 'No Models Co');
    await other.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
    for (const connector of ['hubspot', 'slack']) {
      expect((await other.owner.put(`/v1/admin/connectors/${connector}`, { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
      await connectInSandbox(api, other, connector, 'alice', { origin: HOST_ORIGIN });
    }
    sandbox.scriptModel('borrowed', [ANSWER]);
    await publish(other, triage('borrowed', 'borrowed'));
    const failed = await settled(other, await run(other, 'borrowed'));
    expect(failed.error).toMatchObject({ code: 'llm_provider_not_found', step: 'triage' });
    expect(failed.error.message).toContain('LLM provider sandbox was not found');
    expect(await requestsOf('borrowed')).toEqual([]);
  });

  it('refuses definitions whose tools, approvals or context do not exist, naming where', async () => {
    const bad = triage('bad-agent', 'x', { tools: ['hubspot.find_contact', 'slack.send_mesage', 'github.create_issue'], approve: ['slack.send_message'], context: ['later'] });
    const res = await tenant.owner.post('/v1/admin/flow-templates/bad-agent/validate', { definition: bad });
    expect(res.body.valid).toBe(false);
    const errors = res.body.errors as Array<{ path: string; message: string }>;
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'steps.1.tools.1', message: expect.stringContaining("unknown action 'send_mesage'") }),
        expect.objectContaining({ path: 'steps.1.tools.2', message: expect.stringContaining("'github' is not listed in 'connectors'") }),
        expect.objectContaining({ path: 'steps.1.approve.0', message: expect.stringContaining('not one of the agent') }),
        expect.objectContaining({ path: 'steps.1.context.0', message: expect.stringContaining("unknown step 'later'") }),
      ]),
    );
    const noProvider = await tenant.owner.post('/v1/admin/flow-templates/bad-agent/validate', {
      definition: { ...triage('bad-agent', 'x'), steps: [{ id: 'a', type: 'agent', instructions: 'x' }] },
    });
    expect(noProvider.body).toMatchObject({ valid: false, errors: [{ path: 'steps.0', message: expect.stringContaining('provider') }] });
  });
});
