import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startSandbox, Sandbox } from '@switchboard/connectors/dist/sandbox';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, connectInSandbox, createTenant, startReceiver, Http, startApi, startWorker, TenantFixture, TestApi, until } from './harness';

/**
 * The MCP server as an independent MCP client sees it (the SDK's Client over Streamable HTTP):
 * two tenants, each end user seeing and calling only what their tenant exposed over their own
 * connections; approvals, the no-connection answer, runs, audit and webhooks.
 */

const HOST_ORIGIN = 'https://host.example';

type ToolResult = { content: Array<{ type: string; text: string }>; structuredContent?: Record<string, any>; isError?: boolean };

describe('MCP server (POST /mcp)', () => {
  let sandbox: Sandbox;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let acme: TenantFixture;
  let globex: TenantFixture;
  let verifier: Webhook;
  const clients: Client[] = [];

  const sessionFor = async (t: TenantFixture, endUserId: string, extra: Record<string, unknown> = {}) =>
    (await t.host.post('/v1/sessions', { endUserId, ...extra })).body.token as string;

  async function mcp(headers: Record<string, string>): Promise<Client> {
    const client = new Client({ name: 'switchboard-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${api.url}/mcp`), { requestInit: { headers } }));
    clients.push(client);
    return client;
  }
  const asEndUser = async (t: TenantFixture, endUserId: string) => mcp({ Authorization: `Bearer ${await sessionFor(t, endUserId)}` });
  const call = async (client: Client, name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as ToolResult;
  /** A raw JSON-RPC POST, as a client that is not the SDK would send it. */
  const rpc = (headers: Record<string, string>, body: unknown, query = '') =>
    fetch(`${api.url}/mcp${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify(body),
    });
  const listTools = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };
  const events = () => receiver.received.map((r) => verifier.verify(r.body, r.headers as Record<string, string>) as { type: string; data: Record<string, any> });

  beforeAll(async () => {
    sandbox = await startSandbox();
    receiver = await startReceiver();
    api = await startApi({ SANDBOX_URL: sandbox.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port},127.0.0.1:${receiver.port}`, AUTH_FAILURES_PER_IP: '100000' });
    worker = await startWorker(api.config);
    acme = await createTenant(api, 'Acme');
    globex = await createTenant(api, 'Globex');
    for (const t of [acme, globex]) {
      expect((await t.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] })).status).toBe(200);
      expect((await t.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    }
    await connectInSandbox(api, acme, 'slack', 'alice', { origin: HOST_ORIGIN });
    await connectInSandbox(api, globex, 'slack', 'bob', { origin: HOST_ORIGIN, account: 1 });
    expect((await acme.host.put('/v1/end-users/carol', {})).status).toBeLessThan(300);
    const endpoint = await acme.owner.post('/v1/admin/webhook-endpoints', {
      url: `http://127.0.0.1:${receiver.port}/hooks`,
      eventTypes: ['run.succeeded', 'run.failed', 'approval.requested'],
    });
    expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(201);
    verifier = new Webhook(endpoint.body.secret);
  });

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await worker?.close();
    await api?.close();
    await receiver?.close();
    await sandbox?.close();
  });

  it('exposes nothing until the tenant opts in', async () => {
    const alice = await asEndUser(acme, 'alice');
    expect((await alice.listTools()).tools).toEqual([]);
    const overview = (await acme.owner.get('/v1/admin/mcp')).body;
    expect(overview).toMatchObject({ url: `${api.url}/mcp`, approvalMode: 'pending', approvalWaitSeconds: 50 });
    const slack = overview.connectors.find((c: { key: string }) => c.key === 'slack');
    expect(slack.enabled).toBe(true);
    expect(slack.actions.every((a: { exposed: boolean }) => !a.exposed)).toBe(true);
    expect(slack.actions.find((a: { key: string }) => a.key === 'send_message')).toMatchObject({ tool: 'slack_send_message', readOnly: false });
  });

  it('validates exposure settings, allows changes to admins only, and audits them', async () => {
    const unknownConnector = await acme.owner.put('/v1/admin/mcp/connectors/no-such-thing', { exposed: [], requireApproval: [] });
    expect(unknownConnector.status).toBe(404);
    expect(unknownConnector.body.error.message).toContain('no-such-thing');
    const unknownAction = await acme.owner.put('/v1/admin/mcp/connectors/slack', { exposed: ['send_message', 'launch_rocket'], requireApproval: [] });
    expect(unknownAction.status).toBe(400);
    expect(unknownAction.body.error.message).toContain('launch_rocket');
    expect(unknownAction.body.error.details.errors[0].path).toBe('exposed[1]');
    const notExposed = await acme.owner.put('/v1/admin/mcp/connectors/slack', { exposed: ['list_users'], requireApproval: ['send_message'] });
    expect(notExposed.status).toBe(400);
    expect(notExposed.body.error.message).toContain('send_message is not exposed');
    expect((await acme.owner.put('/v1/admin/mcp/connectors/slack', { exposed: 'all', requireApproval: [] })).status).toBe(400);
    expect((await acme.owner.put('/v1/admin/mcp/approval', { approvalMode: 'later' })).status).toBe(400);
    expect((await acme.owner.put('/v1/admin/mcp/approval', { approvalMode: 'wait', approvalWaitSeconds: 3600 })).status).toBe(400);

    const viewer = await addMember(api, acme, 'viewer');
    expect((await viewer.browser.get('/v1/admin/mcp')).status).toBe(200);
    const refused = await viewer.browser.put('/v1/admin/mcp/connectors/slack', { exposed: ['list_users'], requireApproval: [] });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('insufficient_role');

    const saved = await acme.owner.put('/v1/admin/mcp/connectors/slack', { exposed: ['send_message', 'list_users'], requireApproval: ['send_message'] });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(
      saved.body.connectors
        .find((c: { key: string }) => c.key === 'slack')
        .actions.filter((a: { exposed: boolean }) => a.exposed)
        .map((a: { key: string }) => a.key)
        .sort(),
    ).toEqual(['list_users', 'send_message']);
    expect((await globex.owner.put('/v1/admin/mcp/connectors/slack', { exposed: ['list_users'], requireApproval: [] })).status).toBe(200);
    const audit = (await acme.owner.get('/v1/admin/audit-events?action=mcp.connector_exposure_updated')).body.data;
    expect(audit[0]).toMatchObject({ action: 'mcp.connector_exposure_updated', targetType: 'connector', targetId: 'slack', actorType: 'member' });
    expect(audit[0].data).toMatchObject({ exposed: ['send_message', 'list_users'], requireApproval: ['send_message'] });
  });

  it("lists each end user's own tenant's tools, with the connector's schema and annotations", async () => {
    const alice = await asEndUser(acme, 'alice');
    const { tools } = await alice.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['slack_list_users', 'slack_send_message', 'switchboard_call_result']);
    const send = tools.find((t) => t.name === 'slack_send_message')!;
    expect(send.inputSchema).toMatchObject({ type: 'object', required: ['channel', 'text'], properties: { channel: { type: 'string' } } });
    expect(send.annotations).toMatchObject({ title: 'Send message in Slack', readOnlyHint: false, destructiveHint: false, idempotentHint: false });
    expect(tools.find((t) => t.name === 'slack_list_users')!.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, idempotentHint: true });

    const bob = await asEndUser(globex, 'bob');
    expect((await bob.listTools()).tools.map((t) => t.name)).toEqual(['slack_list_users']);
    // A session limited to other connectors sees no Slack tools.
    const limited = await mcp({ Authorization: `Bearer ${await sessionFor(acme, 'alice', { allowedConnectors: ['github'] })}` });
    expect((await limited.listTools()).tools).toEqual([]);
  });

  it('runs a call as an engine run (trigger mcp, no flow) with audit event and run.succeeded webhook', async () => {
    const alice = await asEndUser(acme, 'alice');
    const result = await call(alice, 'slack_list_users', { limit: 5 });
    expect(result.isError, JSON.stringify(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: 'succeeded', result: { users: expect.any(Array) } });
    expect(JSON.parse(result.content[0].text).users.length).toBeGreaterThan(0);
    const runId = result.structuredContent!.runId as string;
    expect(sandbox.calls({ connector: 'slack', path: '/api/users.list' }).length).toBeGreaterThan(0);

    const run = (await acme.host.get(`/v1/runs/${runId}`)).body;
    expect(run).toMatchObject({ id: runId, status: 'succeeded', flow: null, tool: 'slack_list_users', instanceId: null, triggerType: 'mcp', endUserId: 'alice' });
    expect(run.trigger).toMatchObject({ tool: 'slack_list_users', connector: 'slack', action: 'list_users', input: { limit: 5 } });
    expect(run.steps.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([['call', 'succeeded']]);
    const listed = (await acme.owner.get('/v1/admin/runs?triggerType=mcp')).body.data;
    expect(listed.map((r: { id: string }) => r.id)).toContain(runId);
    expect((await acme.owner.get('/v1/admin/runs?tool=slack_list_users')).body.data[0].id).toBe(runId);
    expect((await acme.owner.get('/v1/admin/runs?triggerType=schedule')).body.data).toEqual([]);
    expect((await globex.host.get(`/v1/runs/${runId}`)).status).toBe(404);

    const audit = (await acme.owner.get('/v1/admin/audit-events?action=mcp.tool_called')).body.data;
    expect(audit.find((e: { targetId: string }) => e.targetId === runId)).toMatchObject({
      actorType: 'end_user',
      targetType: 'run',
      data: { tool: 'slack_list_users', connector: 'slack', action: 'list_users', endUserId: 'alice', approvalRequired: false },
    });
    const hook = await until('run.succeeded webhook', async () => events().find((e) => e.type === 'run.succeeded' && e.data.run.id === runId));
    expect(hook.data).toMatchObject({ endUserId: 'alice', run: { id: runId, flow: null, tool: 'slack_list_users', triggerType: 'mcp', status: 'succeeded' } });
    // The dashboard counts it (as mcp:<tool> where flows are named).
    expect((await acme.owner.get('/v1/admin/stats?window=24h')).status).toBe(200);
  });

  it("paces calls on one connection at the connector's declared rate, like flow actions", async () => {
    const alice = await asEndUser(acme, 'alice');
    const before = sandbox.calls({ connector: 'slack', path: '/api/users.list' }).length;
    const results = await Promise.all([
      call(alice, 'slack_list_users', { limit: 1 }),
      call(alice, 'slack_list_users', { limit: 2 }),
      call(alice, 'slack_list_users', { limit: 3 }),
    ]);
    expect(results.every((r) => !r.isError)).toBe(true);
    // Slack declares 1 request/s per connection: three calls reach it at least ~2 s apart in all.
    const times = sandbox
      .calls({ connector: 'slack', path: '/api/users.list' })
      .slice(before)
      .map((c) => c.at)
      .sort((x, y) => x - y);
    expect(times).toHaveLength(3);
    expect(times[2] - times[0]).toBeGreaterThanOrEqual(1900);
  });

  it('offers nothing of a connector the tenant switched off', async () => {
    expect((await globex.owner.put('/v1/admin/connectors/slack', { enabled: false })).status).toBe(200);
    try {
      const bob = await asEndUser(globex, 'bob');
      expect((await bob.listTools()).tools).toEqual([]);
      expect((await globex.owner.get('/v1/admin/mcp')).body.connectors.find((c: { key: string }) => c.key === 'slack')).toMatchObject({ enabled: false });
    } finally {
      expect((await globex.owner.put('/v1/admin/connectors/slack', { enabled: true })).status).toBe(200);
    }
  });

  it('answers invalid arguments as a tool error the model can correct, starting no run', async () => {
    const alice = await asEndUser(acme, 'alice');
    const before = (await acme.host.get('/v1/runs?triggerType=mcp')).body.data.length;
    const result = await call(alice, 'slack_list_users', { limit: 'lots' });
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toContain('/limit');
    expect((await acme.host.get('/v1/runs?triggerType=mcp')).body.data.length).toBe(before);
  });

  it('keeps tenants apart: another tenant cannot call tools it did not expose, nor read calls of others', async () => {
    const alice = await asEndUser(acme, 'alice');
    const aliceRun = (await call(alice, 'slack_list_users', {})).structuredContent!.runId;
    const bob = await asEndUser(globex, 'bob');
    await expect(bob.callTool({ name: 'slack_send_message', arguments: { channel: '#general', text: 'hi' } })).rejects.toThrow(/Unknown tool: slack_send_message/);
    // switchboard_call_result exists only where gated tools do: unknown for bob.
    await expect(bob.callTool({ name: 'switchboard_call_result', arguments: { runId: aliceRun } })).rejects.toThrow(/Unknown tool/);
    // Another end user of the same tenant cannot read alice's call either.
    const carol = await asEndUser(acme, 'carol');
    const peek = await call(carol, 'switchboard_call_result', { runId: aliceRun });
    expect(peek.isError).toBe(true);
    expect(peek.content[0].text).toContain('No call');
    // Bob's own call runs on bob's connection, in globex.
    const own = await call(bob, 'slack_list_users', {});
    expect(own.isError, JSON.stringify(own)).toBeFalsy();
    expect((await globex.host.get(`/v1/runs/${own.structuredContent!.runId}`)).body).toMatchObject({ endUserId: 'bob', tool: 'slack_list_users' });
  });

  it('tells an end user without a connection so, with a link that starts connecting', async () => {
    const carol = await asEndUser(acme, 'carol');
    const result = await call(carol, 'slack_list_users', {});
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toContain('No Slack account is connected');
    const url = result.structuredContent!.connectUrl as string;
    expect(url.startsWith(`${api.url}/connect/slack?session=sess_`)).toBe(true);
    expect(result.content[0].text).toContain(url);
    // The link opens the connect flow (to the sandbox's consent page) for carol.
    const opened = await fetch(url, { redirect: 'manual' });
    expect(opened.status).toBe(302);
    expect(opened.headers.get('location')).toContain(sandbox.url);
    expect((await acme.host.get('/v1/runs?endUserId=carol&triggerType=mcp')).body.data).toEqual([]);
  });

  it('answers an approval-gated call pending, then its result once the end user approves', async () => {
    const alice = await asEndUser(acme, 'alice');
    const pending = await call(alice, 'slack_send_message', { channel: '#general', text: '=$steps' });
    expect(pending.isError).toBeFalsy();
    expect(pending.structuredContent).toMatchObject({ status: 'pending_approval', approvalId: expect.any(String), runId: expect.any(String) });
    const { runId, approvalId } = pending.structuredContent!;
    const me = new Http(api.url).withBearer(await sessionFor(acme, 'alice'));
    const approval = (await me.get(`/v1/me/approvals/${approvalId}`)).body;
    expect(approval).toMatchObject({ title: 'Send message in Slack', approvers: 'end_user', status: 'pending' });
    // The caller's text is shown as text (never evaluated), after fixed words.
    expect(approval.description).toMatch(/^Your AI assistant asks to send message in Slack with:/);
    expect(approval.description).toContain('- Text: =$steps');
    await until('approval.requested webhook', async () => events().find((e) => e.type === 'approval.requested' && e.data.approval.id === approvalId));
    expect(sandbox.calls({ connector: 'slack', path: '/api/chat.postMessage' }).length).toBe(0);

    expect((await call(alice, 'switchboard_call_result', { runId })).structuredContent).toMatchObject({ status: 'pending_approval' });
    expect((await me.post(`/v1/me/approvals/${approvalId}/approve`, {})).status).toBe(200);
    const done = await until('the approved call', async () => {
      const r = await call(alice, 'switchboard_call_result', { runId });
      return r.structuredContent?.status === 'succeeded' && r;
    });
    expect(done.structuredContent!.result).toMatchObject({ channel: expect.any(String), ts: expect.any(String), text: '=$steps' });
    const posted = sandbox.calls({ connector: 'slack', path: '/api/chat.postMessage' });
    expect(posted).toHaveLength(1);
    expect(posted[0].body).toMatchObject({ text: '=$steps' });
    const run = (await acme.host.get(`/v1/runs/${runId}`)).body;
    expect(run.steps.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([
      ['approval', 'succeeded'],
      ['call', 'succeeded'],
    ]);
  });

  it('answers a rejected call as rejected, with nothing done', async () => {
    const alice = await asEndUser(acme, 'alice');
    const before = sandbox.calls({ connector: 'slack', path: '/api/chat.postMessage' }).length;
    const pending = await call(alice, 'slack_send_message', { channel: '#general', text: 'Delete everything' });
    const { runId, approvalId } = pending.structuredContent!;
    const me = new Http(api.url).withBearer(await sessionFor(acme, 'alice'));
    expect((await me.post(`/v1/me/approvals/${approvalId}/reject`, { comment: 'No way' })).status).toBe(200);
    const rejected = await until('the rejected call', async () => {
      const r = await call(alice, 'switchboard_call_result', { runId });
      return r.structuredContent?.status === 'rejected' && r;
    });
    expect(rejected.isError).toBe(true);
    expect(rejected.content[0].text).toContain('was rejected by the user; nothing was done');
    expect(rejected.content[0].text).toContain('No way');
    expect(sandbox.calls({ connector: 'slack', path: '/api/chat.postMessage' }).length).toBe(before);
    await until('run.failed webhook', async () => events().find((e) => e.type === 'run.failed' && e.data.run.id === runId));
  });

  it("in 'wait' mode, holds the call until the decision and answers the action's result", async () => {
    expect((await acme.owner.put('/v1/admin/mcp/approval', { approvalMode: 'wait', approvalWaitSeconds: 20 })).status).toBe(200);
    try {
      const alice = await asEndUser(acme, 'alice');
      const me = new Http(api.url).withBearer(await sessionFor(acme, 'alice'));
      const answer = call(alice, 'slack_send_message', { channel: '#general', text: 'Waited for' });
      const approval = await until('the approval', async () =>
        (await me.get('/v1/me/approvals?status=pending')).body.data.find((a: { description: string }) => a.description.includes('Waited for')),
      );
      expect((await me.post(`/v1/me/approvals/${approval.id}/approve`, {})).status).toBe(200);
      const result = await answer;
      expect(result.isError, JSON.stringify(result)).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ status: 'succeeded', result: { text: 'Waited for' } });
      // Undecided past the wait: pending, with the approval id.
      expect((await acme.owner.put('/v1/admin/mcp/approval', { approvalMode: 'wait', approvalWaitSeconds: 1 })).status).toBe(200);
      const timedOut = await call(alice, 'slack_send_message', { channel: '#general', text: 'Nobody decides' });
      expect(timedOut.structuredContent).toMatchObject({ status: 'pending_approval', approvalId: expect.any(String) });
    } finally {
      await acme.owner.put('/v1/admin/mcp/approval', { approvalMode: 'pending' });
    }
  });

  it('identifies server-to-server callers by secret key plus end user, and refuses unknown ones', async () => {
    const viaKey = await mcp({ Authorization: `Bearer ${acme.host.options.bearer!}`, 'X-Switchboard-End-User': 'alice' });
    const result = await call(viaKey, 'slack_list_users', {});
    expect(result.isError, JSON.stringify(result)).toBeFalsy();
    const audit = (await acme.owner.get('/v1/admin/audit-events?action=mcp.tool_called')).body.data;
    expect(audit.find((e: { targetId: string }) => e.targetId === result.structuredContent!.runId)).toMatchObject({ actorType: 'api_key', actorId: acme.apiKeyId });

    const missing = await rpc({ Authorization: `Bearer ${acme.host.options.bearer!}` }, listTools);
    expect(missing.status).toBe(400);
    expect((await missing.json()).error.message).toContain('X-Switchboard-End-User');
    // bob is globex's end user: unknown in acme.
    const unknown = await rpc({ Authorization: `Bearer ${acme.host.options.bearer!}`, 'X-Switchboard-End-User': 'bob' }, listTools);
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.message).toContain('bob');
    // An end-user token cannot speak for someone else.
    const other = await rpc({ Authorization: `Bearer ${await sessionFor(acme, 'carol')}`, 'X-Switchboard-End-User': 'alice' }, listTools);
    expect(other.status).toBe(403);
  });

  it('follows the MCP authorization rules for bearer tokens: 401 with resource metadata, no tokens in URLs', async () => {
    const anonymous = await rpc({}, listTools);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${api.url}/.well-known/oauth-protected-resource/mcp"`);
    const wrong = await rpc({ Authorization: 'Bearer sess_not-a-real-token' }, listTools);
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const metadata = await fetch(`${api.url}/.well-known/oauth-protected-resource/mcp`);
    expect(metadata.status).toBe(200);
    expect(await metadata.json()).toMatchObject({ resource: `${api.url}/mcp`, bearer_methods_supported: ['header'] });
    const token = await sessionFor(acme, 'alice');
    const inQuery = await rpc({}, listTools, `?access_token=${token}`);
    expect(inQuery.status).toBe(400);
    expect((await inQuery.json()).error.message).toContain('query string');
    const both = await rpc({ Authorization: `Bearer ${token}` }, listTools, `?session=${token}`);
    expect(both.status).toBe(400);
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(`${api.url}/mcp`, { method, headers: { Authorization: `Bearer ${token}`, accept: 'application/json, text/event-stream' } });
      expect(res.status).toBe(405);
      expect(await res.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 }, id: null });
    }
  });

  it('accepts host-signed JWTs whose aud names the MCP resource or the deployment, and no other', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const kid = (await acme.owner.post('/v1/admin/signing-keys', { name: 'mcp', algorithm: 'ES256', publicKey: await exportJWK(pair.publicKey) })).body.id;
    const jwt = (aud: string) =>
      new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).setSubject('alice').setAudience(aud).setIssuedAt().setExpirationTime('10m').sign(pair.privateKey);
    for (const aud of [`${api.url}/mcp`, api.url]) {
      const client = await mcp({ Authorization: `Bearer ${await jwt(aud)}` });
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('slack_list_users');
    }
    const elsewhere = await rpc({ Authorization: `Bearer ${await jwt('https://other.example/mcp')}` }, listTools);
    expect(elsewhere.status).toBe(401);
    expect((await elsewhere.json()).error).toMatchObject({ code: 'jwt_claim_invalid', details: { claim: 'aud' } });
    // The JWT audience for other routes is unchanged: the MCP resource is not accepted there.
    expect((await new Http(api.url).withBearer(await jwt(`${api.url}/mcp`)).get('/v1/me')).status).toBe(401);
  });

  it('refuses hostile bodies with JSON-RPC or envelope errors, never a 5xx', async () => {
    const auth = { Authorization: `Bearer ${await sessionFor(acme, 'alice')}` };
    const answer = async (body: unknown) => {
      const res = await rpc(auth, body);
      expect(res.status, JSON.stringify(body).slice(0, 100)).toBeLessThan(500);
      return { status: res.status, body: JSON.parse(await res.text()) };
    };
    expect((await answer({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slack_list_users', arguments: 'not an object' } })).body.error).toBeDefined();
    const longName = await answer({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x'.repeat(5000) } });
    expect(longName.body.error.code).toBe(-32602);
    expect(longName.body.error.message.length).toBeLessThan(300);
    expect((await answer({ jsonrpc: '1.0', id: 1, method: 'tools/list' })).status).toBe(400);
    expect((await answer('just a string')).status).toBe(400);
    const empty = await answer([]);
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 }, id: null });
    const batch = await answer(Array.from({ length: 50 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'tools/list' })));
    expect(batch.status).toBe(400);
    const injected = await answer({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'switchboard_call_result', arguments: { runId: "' OR 1=1 --" } } });
    expect(injected.body.result).toMatchObject({ isError: true });
    const huge = await rpc(auth, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slack_send_message', arguments: { channel: 'x', text: 'y'.repeat(2_000_000) } } });
    expect(huge.status).toBe(413);
  });
});
