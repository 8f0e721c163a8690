import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, alive, sleep, waitFor, type Proc } from './child-processes';
import { createTenant, freePort, TenantFixture, testEnv } from './harness';

/**
 * Hostile expressions in real runs: the API and the worker are the compiled processes, so "the
 * worker stays alive" is about a real process (before the sandbox, `$pad("", 200000000)` made V8
 * fail fatally inside the worker, which then hung and took the same run again after a restart).
 */

const PAD_BOMB = '=$length($pad("", 200000000))';
const REGEX_BOMB = '=$match("aaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /^(a+)+$/)';

const flow = (key: string, steps: unknown[]) => ({ key, name: key, trigger: { type: 'request' }, connectors: [], inputs: {}, steps });
/** Needs JSONata (not a plain path), so it goes through the sandbox too. */
const quick = flow('quick', [
  { id: 'count', type: 'transform', output: { text: "='ok ' & $string($count($trigger.items))" } },
  { id: 'answer', type: 'respond', output: '=$steps.count' },
]);

async function publish(t: TenantFixture, definition: { key: string }, endUserId: string) {
  expect((await t.owner.post('/v1/admin/flow-templates', { definition })).status).toBe(201);
  expect((await t.owner.post(`/v1/admin/flow-templates/${definition.key}/publish`)).status).toBe(201);
  await t.host.put(`/v1/end-users/${endUserId}`, {});
  expect((await t.host.post(`/v1/end-users/${endUserId}/flows/${definition.key}/enable`, { settings: {} })).status).toBe(200);
}

async function finished(t: TenantFixture, id: string) {
  return waitFor(
    async () => {
      const run = (await t.host.get(`/v1/runs/${id}`)).body;
      return ['succeeded', 'failed', 'cancelled'].includes(run.status) ? run : undefined;
    },
    60_000,
    `run ${id}`,
  );
}

describe('hostile expressions in real runs', () => {
  let api: Proc;
  let worker: Proc;
  let hostile: TenantFixture;
  let quiet: TenantFixture;

  beforeAll(async () => {
    const port = await freePort();
    const env = testEnv(port, { LOG_LEVEL: 'info' });
    api = run('main.js', env);
    await waitFor(async () => ((await fetch(`${env.PUBLIC_URL}/readyz`)).ok ? true : undefined), 30_000, 'API ready');
    worker = run('worker.js', env);
    await waitFor(() => (worker.output().includes('Switchboard worker ready') ? true : alive(worker) ? undefined : Promise.reject(new Error('exited'))), 30_000, 'worker ready');
    const target = { url: env.PUBLIC_URL, origin: env.PUBLIC_URL } as never;
    hostile = await createTenant(target, 'Hostile');
    quiet = await createTenant(target, 'Quiet');
    await publish(hostile, flow('pad-bomb', [{ id: 'boom', type: 'transform', output: { n: PAD_BOMB } }]), 'h1');
    await publish(hostile, flow('regex-bomb', [{ id: 'slow', type: 'transform', output: { matched: REGEX_BOMB } }]), 'h1');
    await publish(quiet, quick, 'q1');
    // Both sandbox children of the worker up, so timings below are evaluations, not boots.
    const warm = await Promise.all([1, 2].map(() => quiet.host.post('/v1/flows/quick/runs', { endUserId: 'q1', input: { items: [1] }, wait: true })));
    for (const res of warm) expect(res.body.status).toBe('succeeded');
  });

  afterAll(async () => {
    for (const p of [worker, api]) {
      if (p && alive(p)) {
        p.child.kill('SIGTERM');
        await Promise.race([p.exited, sleep(10_000).then(() => p.child.kill('SIGKILL'))]);
      }
    }
  });

  it("fails an allocation bomb's run with a bound; the worker process stays up and another tenant's run completes meanwhile", async () => {
    const pid = worker.child.pid;
    const bomb = await hostile.host.post('/v1/flows/pad-bomb/runs', { endUserId: 'h1' });
    expect(bomb.status).toBe(202);
    const other = await quiet.host.post('/v1/flows/quick/runs', { endUserId: 'q1', input: { items: [1, 2, 3] }, wait: true });
    expect(other.body).toMatchObject({ status: 'succeeded', result: { text: 'ok 3' } });

    const failed = await finished(hostile, bomb.body.id);
    expect(failed.status).toBe('failed');
    // Memory or time, whichever the bomb hits first (on a loaded machine the 200 MB join may still be running at 1 s).
    expect(['expression_memory_exceeded', 'expression_timeout']).toContain(failed.error.code);
    expect(failed.error).toMatchObject({ step: 'boom', message: expect.stringContaining(`Expression "${PAD_BOMB}"`) });
    expect(Date.parse(other.body.finishedAt)).toBeLessThan(Date.parse(failed.finishedAt));

    expect(alive(worker)).toBe(true);
    expect(worker.child.pid).toBe(pid);
    expect(worker.output()).not.toMatch(/heap out of memory|FATAL/i);
    const after = await quiet.host.post('/v1/flows/quick/runs', { endUserId: 'q1', input: { items: [1] }, wait: true });
    expect(after.body).toMatchObject({ status: 'succeeded', result: { text: 'ok 1' } });
    // Failed once, for good: not taken again.
    await sleep(500);
    expect((await hostile.host.get(`/v1/runs/${bomb.body.id}`)).body).toMatchObject({ status: 'failed', attempt: 1 });
  });

  it('fails a catastrophic regex with expression_timeout near the 1 s budget', async () => {
    const res = await hostile.host.post('/v1/flows/regex-bomb/runs', { endUserId: 'h1', wait: true });
    expect(res.body.status).toBe('failed');
    expect(res.body.error).toEqual({
      code: 'expression_timeout',
      step: 'slow',
      message: `Expression "${REGEX_BOMB}" ran longer than the 1000 ms an evaluation may take`,
    });
    expect(res.body.durationMs).toBeGreaterThanOrEqual(1000);
    expect(res.body.durationMs).toBeLessThan(3000);
    expect(alive(worker)).toBe(true);
  });
});
