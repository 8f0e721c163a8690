import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, Http, startApi, startWorker, TenantFixture, TestApi } from './harness';

/** A refund that needs a person's go: the approval's title is computed, its decision feeds the next step. */
const refund = (key: string, approval: Record<string, unknown>) => ({
  key,
  name: `Refund (${key})`,
  trigger: { type: 'request' },
  connectors: [],
  inputs: {},
  steps: [
    { id: 'ok', type: 'approval', title: "='Refund ' & $trigger.amount & ' EUR?'", description: '=$trigger.reason', ...approval },
    { id: 'after', type: 'transform', output: { approved: '=$steps.ok.approved', by: '=$steps.ok.decidedBy', via: '=$steps.ok.decidedVia', comment: '=$steps.ok.comment' } },
  ],
});

describe('approval steps', () => {
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let other: TenantFixture;
  let alice: Http;
  let bob: Http;

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function waitForRun(t: TenantFixture, id: string, statuses = ['succeeded', 'failed', 'cancelled']) {
    for (let i = 0; i < 400; i++) {
      const run = (await t.host.get(`/v1/runs/${id}`)).body;
      if (statuses.includes(run.status)) return run;
      await sleep(25);
    }
    throw new Error(`run ${id} did not reach ${statuses.join('/')}`);
  }

  async function publish(definition: { key: string }) {
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition })).status).toBe(201);
    expect((await tenant.owner.post(`/v1/admin/flow-templates/${definition.key}/publish`)).status).toBe(201);
    for (const user of ['alice', 'bob']) expect((await tenant.host.post(`/v1/end-users/${user}/flows/${definition.key}/enable`, {})).status).toBe(200);
  }

  /** Starts a run for alice and waits until it is parked on its approval; answers the run and the approval. */
  async function parked(key: string, input: Record<string, unknown> = { amount: 120, reason: 'Damaged parcel' }) {
    const started = await tenant.host.post(`/v1/flows/${key}/runs`, { endUserId: 'alice', input });
    expect(started.status).toBe(202);
    const run = await waitForRun(tenant, started.body.id, ['waiting', 'failed']);
    expect(run.status).toBe('waiting');
    const listed = await tenant.host.get(`/v1/approvals?status=pending&endUserId=alice`);
    const approval = listed.body.data.find((a: { runId: string }) => a.runId === run.id);
    expect(approval).toBeDefined();
    return { run, approval };
  }

  beforeAll(async () => {
    api = await startApi();
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Approvals Co');
    other = await createTenant(api, 'Other Co');
    alice = new Http(api.url).withBearer((await tenant.host.post('/v1/sessions', { endUserId: 'alice' })).body.token);
    bob = new Http(api.url).withBearer((await tenant.host.post('/v1/sessions', { endUserId: 'bob' })).body.token);
    await publish(refund('refund-by-user', { approvers: 'end_user' }));
    await publish(refund('refund-by-host', { approvers: 'host' }));
    await publish(refund('refund-any', {}));
    await publish(refund('refund-continue', { onReject: 'continue' }));
    await publish(refund('refund-timeout-approve', { timeoutMs: 1000, onTimeout: 'approve' }));
    await publish(refund('refund-timeout-reject', { timeoutMs: 1000 }));
  });
  afterAll(async () => {
    await worker.close();
    await api.close();
  });

  it('parks the run on an approval the end user sees, approves it, and resumes with the decision', async () => {
    const { run, approval } = await parked('refund-by-user');
    expect(approval).toMatchObject({
      flow: 'refund-by-user',
      flowName: 'Refund (refund-by-user)',
      stepId: 'ok',
      endUserId: 'alice',
      title: 'Refund 120 EUR?',
      description: 'Damaged parcel',
      approvers: 'end_user',
      status: 'pending',
      decidedBy: null,
      comment: null,
      expiresAt: null,
      decidedAt: null,
    });
    expect(run.steps).toEqual([expect.objectContaining({ path: 'ok', status: 'waiting', output: { approvalId: approval.id } })]);

    const mine = await alice.get('/v1/me/approvals?status=pending');
    expect(mine.body.data.map((a: { id: string }) => a.id)).toContain(approval.id);
    expect((await alice.get(`/v1/me/approvals/${approval.id}`)).body).toMatchObject({ id: approval.id, status: 'pending' });
    expect((await tenant.owner.get('/v1/admin/approvals?status=pending')).body.data.map((a: { id: string }) => a.id)).toContain(approval.id);

    const approved = await alice.post(`/v1/me/approvals/${approval.id}/approve`, { comment: 'Looks right' });
    expect(approved).toMatchObject({ status: 200, body: { id: approval.id, status: 'approved', decidedBy: 'alice', decidedVia: 'end_user', comment: 'Looks right' } });
    expect(Date.parse(approved.body.decidedAt)).not.toBeNaN();

    const done = await waitForRun(tenant, run.id);
    expect(done).toMatchObject({
      status: 'succeeded',
      flow: 'refund-by-user',
      endUserId: 'alice',
      result: { approved: true, by: 'alice', via: 'end_user', comment: 'Looks right' },
    });
    expect(done.steps.find((s: { path: string }) => s.path === 'ok')).toMatchObject({
      status: 'succeeded',
      output: { approved: true, decidedBy: 'alice', decidedAt: approved.body.decidedAt },
    });

    // Deciding again, either way and by anyone allowed, is a conflict.
    const again = await alice.post(`/v1/me/approvals/${approval.id}/reject`, {});
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'approval_already_decided', details: { status: 'approved' } } } });
    const audit = await tenant.owner.get(`/v1/admin/audit-events?action=approval.&targetId=${approval.id}`);
    expect(audit.body.data).toEqual([expect.objectContaining({ action: 'approval.approved', actorType: 'end_user', targetType: 'approval' })]);
  });

  it('asks once: a resumed run finds its approval instead of creating a second one', async () => {
    const { run, approval } = await parked('refund-any');
    // An extra wake-up of the parked run (as after a crash or a recovery sweep) re-parks it.
    const queue = api.app.get<Queue>(getQueueToken('runs'));
    await queue.add({ runId: run.id, tenantId: tenant.tenantId }, { jobId: `${run.id}:extra`, removeOnComplete: true });
    await sleep(300);
    expect((await tenant.host.get(`/v1/runs/${run.id}`)).body.status).toBe('waiting');
    const db = api.app.get(DataSource);
    expect((await db.query(`SELECT count(*)::int AS n FROM approvals WHERE run_id = $1`, [run.id]))[0].n).toBe(1);
    expect((await tenant.host.post(`/v1/approvals/${approval.id}/approve`, { decidedBy: 'ops@vendor.example' })).body).toMatchObject({
      decidedBy: 'ops@vendor.example',
      decidedVia: 'host',
    });
    expect(await waitForRun(tenant, run.id)).toMatchObject({ status: 'succeeded', result: { approved: true, by: 'ops@vendor.example', via: 'host' } });
    expect((await db.query(`SELECT count(*)::int AS n FROM approvals WHERE run_id = $1`, [run.id]))[0].n).toBe(1);
  });

  it('a rejection stops the run (onReject stop), naming the step', async () => {
    const { run, approval } = await parked('refund-any');
    const rejected = await tenant.host.post(`/v1/approvals/${approval.id}/reject`, { comment: 'Not eligible' });
    expect(rejected).toMatchObject({ status: 200, body: { status: 'rejected', decidedBy: 'host', comment: 'Not eligible' } });
    const done = await waitForRun(tenant, run.id);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'approval_rejected', step: 'ok', message: expect.stringContaining('rejected') } });
    expect(done.steps.map((s: { path: string }) => s.path)).toEqual(['ok']);
  });

  it('a rejection with onReject continue goes on with approved = false', async () => {
    const { run, approval } = await parked('refund-continue');
    expect((await alice.post(`/v1/me/approvals/${approval.id}/reject`, { comment: 'No' })).status).toBe(200);
    expect(await waitForRun(tenant, run.id)).toMatchObject({ status: 'succeeded', result: { approved: false, by: 'alice', comment: 'No' } });
  });

  it('a timeout settles the approval as expired and applies onTimeout', async () => {
    const start = async (key: string) => {
      const run = (await tenant.host.post(`/v1/flows/${key}/runs`, { endUserId: 'alice', input: { amount: 5 } })).body;
      for (let i = 0; i < 200; i++) {
        const approval = (await tenant.host.get('/v1/approvals?endUserId=alice&limit=20')).body.data.find((a: { runId: string }) => a.runId === run.id);
        if (approval) return { run, approval };
        await sleep(25);
      }
      throw new Error(`no approval for run ${run.id}`);
    };
    const [{ run: approvedRun, approval: a1 }, { run: rejectedRun, approval: a2 }] = await Promise.all([start('refund-timeout-approve'), start('refund-timeout-reject')]);
    expect(a1.expiresAt).toEqual(expect.any(String));
    const approvedDone = await waitForRun(tenant, approvedRun.id);
    expect(approvedDone).toMatchObject({ status: 'succeeded', result: { approved: true, via: 'timeout' } });
    expect(approvedDone.result.by).toBeNull();
    expect(await waitForRun(tenant, rejectedRun.id)).toMatchObject({
      status: 'failed',
      error: { code: 'approval_rejected', message: expect.stringContaining('not given in time') },
    });
    for (const id of [a1.id, a2.id]) expect((await tenant.host.get(`/v1/approvals/${id}`)).body).toMatchObject({ status: 'expired', decidedVia: 'timeout', decidedBy: null });
    // Too late to decide.
    expect((await tenant.host.post(`/v1/approvals/${a1.id}/approve`, {})).body.error.code).toBe('approval_already_decided');
  });

  it('of two concurrent decisions exactly one wins', async () => {
    for (let round = 0; round < 3; round++) {
      const { run, approval } = await parked('refund-any');
      const answers = await Promise.all([
        tenant.host.post(`/v1/approvals/${approval.id}/approve`, {}),
        alice.post(`/v1/me/approvals/${approval.id}/reject`, {}),
        tenant.host.post(`/v1/approvals/${approval.id}/reject`, {}),
      ]);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409]);
      const winner = answers.find((a) => a.status === 200)!.body;
      const done = await waitForRun(tenant, run.id);
      expect(done.status).toBe(winner.status === 'approved' ? 'succeeded' : 'failed');
    }
  });

  it('enforces who may decide: end user vs host', async () => {
    const byUser = await parked('refund-by-user');
    const refusedHost = await tenant.host.post(`/v1/approvals/${byUser.approval.id}/approve`, {});
    expect(refusedHost).toMatchObject({ status: 403, body: { error: { code: 'forbidden', message: expect.stringContaining('end user') } } });
    const byHost = await parked('refund-by-host');
    const refusedUser = await alice.post(`/v1/me/approvals/${byHost.approval.id}/approve`, {});
    expect(refusedUser).toMatchObject({ status: 403, body: { error: { code: 'forbidden', message: expect.stringContaining('host') } } });
    // Both still pending, and decidable by the right party.
    expect((await tenant.host.post(`/v1/approvals/${byHost.approval.id}/approve`, {})).status).toBe(200);
    expect((await alice.post(`/v1/me/approvals/${byUser.approval.id}/approve`, {})).status).toBe(200);
    await waitForRun(tenant, byUser.run.id);
    await waitForRun(tenant, byHost.run.id);
  });

  it("answers 404 for another tenant's or another end user's approval, and validates input", async () => {
    const { run, approval } = await parked('refund-any');
    expect((await other.host.get(`/v1/approvals/${approval.id}`)).status).toBe(404);
    expect((await other.host.post(`/v1/approvals/${approval.id}/approve`, {})).status).toBe(404);
    expect((await other.host.get('/v1/approvals')).body.data).toEqual([]);
    expect((await bob.get(`/v1/me/approvals/${approval.id}`)).status).toBe(404);
    expect((await bob.post(`/v1/me/approvals/${approval.id}/approve`, {})).status).toBe(404);
    expect((await bob.get('/v1/me/approvals')).body.data).toEqual([]);
    expect((await tenant.host.post('/v1/approvals/not-a-uuid/approve', {})).body.error.details.errors[0].path).toBe('id');
    const long = await tenant.host.post(`/v1/approvals/${approval.id}/approve`, { comment: 'x'.repeat(2001) });
    expect(long.status).toBe(400);
    expect(long.body.error.details.errors[0].path).toBe('comment');
    expect((await tenant.host.get('/v1/approvals?status=maybe')).status).toBe(400);
    // Still pending after all that.
    expect((await tenant.host.get(`/v1/approvals/${approval.id}`)).body.status).toBe('pending');
    expect((await tenant.host.post(`/v1/approvals/${approval.id}/approve`, {})).status).toBe(200);
    await waitForRun(tenant, run.id);
  });

  it('pages approval lists with a cursor', async () => {
    const first = await tenant.host.get('/v1/approvals?limit=2');
    expect(first.body.data).toHaveLength(2);
    const second = await tenant.host.get(`/v1/approvals?limit=2&cursor=${first.body.nextCursor}`);
    const ids = [...first.body.data, ...second.body.data].map((a: { id: string }) => a.id);
    expect(new Set(ids).size).toBe(4);
    expect((await tenant.host.get('/v1/approvals?cursor=bogus')).status).toBe(400);
  });
});
