import { consentInSandbox, RecordedCall, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, Proc, run, sleep, waitFor } from './child-processes';
import { createTenant, freePort, TenantFixture, testEnv } from './harness';

/**
 * The crash test of the flow engine: the API and the workers are the compiled processes; under
 * load, a worker is killed with SIGKILL several times (a fresh one started after each kill, another
 * one running throughout). Afterwards every accepted trigger has exactly one finished, successful
 * run, and a side effect ran twice only when it was in flight at a kill, with the same idempotency key,
 * and then its step record is marked `possibleDuplicate`.
 *
 * Bull re-delivers a killed worker's jobs once their lock lapses and a stalled-job check sees it:
 * QUEUE_LOCK_DURATION_MS and QUEUE_STALLED_INTERVAL_MS are set low here so that takes ~2 s, not
 * the production ~15–20 s.
 */

const HOST_ORIGIN = 'https://host.example';
const EVENTS_PER_ROUND = 100;
const KILLS = 3;
/** Jobs one worker process runs at once (@Process({ concurrency }) in run.processor.ts). */
const WORKER_CONCURRENCY = 50;
const LOCK_MS = 2000;
const STALLED_MS = 500;
/** How late the in-process sandbox may stamp a call sent before a kill. */
const CLOCK_SLACK_MS = 500;

/** Event flow: a Slack action (no idempotency header of its own) and a raw request step (which carries the engine's key) to chat.postMessage. */
const orders = {
  key: 'orders-to-slack',
  name: 'Orders to Slack',
  trigger: { type: 'event', event: 'order.placed' },
  connectors: ['slack'],
  inputs: { channel: { type: 'string', title: 'Channel', required: true } },
  steps: [
    { id: 'text', type: 'transform', output: { text: "='order ' & $trigger.orderId" } },
    { id: 'post', type: 'action', connector: 'slack', action: 'send_message', input: { channel: '=$inputs.channel', text: "='A ' & $steps.text.text" } },
    { id: 'echo', type: 'request', connector: 'slack', method: 'POST', path: 'chat.postMessage', body: { channel: '=$inputs.channel', text: "='B ' & $steps.text.text" } },
    { id: 'done', type: 'transform', output: { ts: '=$steps.post.ts', echoed: '=$steps.echo.status' } },
  ],
};

describe('flow engine under SIGKILL', () => {
  let sandbox: Sandbox;
  let env: Record<string, string>;
  let url: string;
  let api: Proc;
  const workers: Proc[] = [];
  let tenant: TenantFixture;
  let db: Client;
  const users = ['crash-a', 'crash-b', 'crash-c'];

  const startWorker = async (): Promise<Proc> => {
    const worker = run('worker.js', env);
    workers.push(worker);
    await waitFor(() => (worker.output().includes('Switchboard worker ready') ? true : alive(worker) ? undefined : Promise.reject(new Error('exited'))), 30_000, 'worker ready');
    return worker;
  };

  beforeAll(async () => {
    sandbox = await startSandbox();
    const port = await freePort();
    env = testEnv(port, {
      SANDBOX_URL: sandbox.url,
      OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}`,
      MAINTENANCE_INTERVAL_SECONDS: '1',
      QUEUE_LOCK_DURATION_MS: String(LOCK_MS),
      QUEUE_STALLED_INTERVAL_MS: String(STALLED_MS),
      // 600 chat.postMessage calls over 3 connections: Slack's 1 call/s per connection would take minutes.
      CONNECTION_RATE_LIMITS: 'false',
      // info: the worker's "ready" line; nothing is logged per run.
      LOG_LEVEL: 'info',
    });
    url = env.PUBLIC_URL;
    api = run('main.js', env);
    await waitFor(async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined), 30_000, 'API ready');
    db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();

    tenant = await createTenant({ url, origin: url } as never, 'Crash Co');
    await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
    expect((await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } })).status).toBe(200);
    expect((await tenant.owner.post('/v1/admin/flow-templates', { definition: orders })).status).toBe(201);
    expect((await tenant.owner.post(`/v1/admin/flow-templates/${orders.key}/publish`)).status).toBe(201);
    for (const endUserId of users) {
      const token = (await tenant.host.post('/v1/sessions', { endUserId })).body.token as string;
      const start = await fetch(`${url}/connect/slack?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
      const html = await (await fetch(await consentInSandbox(start.headers.get('location')!))).text();
      expect(html).toContain('"connected"');
      const enabled = await tenant.host.post(`/v1/end-users/${endUserId}/flows/${orders.key}/enable`, { settings: { channel: '#general' } });
      expect(enabled.status).toBe(200);
    }
  });

  afterAll(async () => {
    for (const p of [...workers, api]) {
      if (p && alive(p)) {
        p.child.kill('SIGTERM');
        await Promise.race([p.exited, sleep(10_000).then(() => p.child.kill('SIGKILL'))]);
      }
    }
    await db?.end();
    await sandbox?.close();
  });

  it('every accepted event has exactly one successful run; only steps in flight at a kill ran twice, with the same idempotency key', async () => {
    const started = Date.now();
    // Every chat.postMessage takes 50 ms at the provider, so kills land mid-step.
    sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', latencyMs: 50, times: Infinity });
    const steady = await startWorker();
    let victim = await startWorker();

    const runId = randomBytes(3).toString('hex');
    const accepted = new Map<string, string[]>(); // order id → run ids answered
    const refused: string[] = [];
    const kills: number[] = [];
    let fired = 0;

    let acceptedInRound = 0;
    let roundFired = false;
    const fireRound = async (count: number) => {
      acceptedInRound = 0;
      roundFired = false;
      const ids = Array.from({ length: count }, () => `o${fired++}-${runId}`);
      let next = 0;
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          for (let i = next++; i < ids.length; i = next++) {
            const orderId = ids[i];
            const res = await tenant.host.post('/v1/events', { name: 'order.placed', endUserId: users[i % users.length], payload: { orderId }, idempotencyKey: orderId });
            if (res.status === 202) {
              accepted.set(
                orderId,
                res.body.runs.map((r: { id: string }) => r.id),
              );
              acceptedInRound++;
            } else refused.push(`${orderId}: ${res.status} ${JSON.stringify(res.body)}`);
          }
        }),
      );
      roundFired = true;
    };
    const inFlight = () => sandbox.calls((c: RecordedCall) => c.connector === 'slack' && c.path === '/api/chat.postMessage' && c.status === 0).length;
    const unfinished = async () => (await db.query(`SELECT count(*)::int AS n FROM runs WHERE tenant_id = $1 AND finished_at IS NULL`, [tenant.tenantId])).rows[0].n as number;

    // What each run had checkpointed when a kill landed (read once the victim is dead, before its jobs come back).
    const finishedAtKill: Array<Map<string, Set<string>>> = [];
    const timeline: string[] = [];
    for (let round = 0; round < KILLS; round++) {
      const firing = fireRound(EVENTS_PER_ROUND);
      // Kill the victim in the middle of the burst, with messages in flight at the provider.
      // (On a machine fast enough to finish the burst first, any message in flight will do.)
      await waitFor(() => ((acceptedInRound >= EVENTS_PER_ROUND / 2 && inFlight() >= 5) || (roundFired && inFlight() >= 1) ? true : undefined), 30_000, 'load');
      const flying = inFlight();
      victim.child.kill('SIGKILL');
      kills.push(Date.now());
      await victim.exited;
      const snapshot: Array<{ idempotency_key: string; steps: Array<{ path: string; status: string }>; finished_at: Date | null }> = (
        await db.query(`SELECT idempotency_key, steps, finished_at FROM runs WHERE tenant_id = $1`, [tenant.tenantId])
      ).rows;
      finishedAtKill.push(new Map(snapshot.map((r) => [r.idempotency_key, new Set(r.steps.filter((s) => s.status === 'succeeded').map((s) => s.path))])));
      const open = snapshot.filter((r) => r.finished_at === null).length;
      timeline.push(
        `kill ${round + 1} at +${kills[round] - started} ms: ${acceptedInRound} of the round's ${EVENTS_PER_ROUND} events accepted, ${open} runs unfinished, ${flying} chat.postMessage in flight`,
      );
      await firing;
      const t = Date.now();
      victim = await startWorker();
      // The killed worker's jobs come back once their lock lapses; every run so far finishes before the next round.
      await waitFor(async () => ((await unfinished()) === 0 ? true : undefined), 60_000, 'runs to finish after a kill');
      timeline.push(`  all runs finished ${Date.now() - t} ms after the burst (replacement worker booted meanwhile)`);
    }
    expect(alive(steady)).toBe(true);

    // Every accepted trigger: exactly one run, finished and successful.
    expect(refused).toEqual([]);
    expect(accepted.size).toBe(KILLS * EVENTS_PER_ROUND);
    type Row = {
      id: string;
      idempotency_key: string;
      status: string;
      steps: Array<{ path: string; status: string; idempotencyKey?: string }>;
      error: unknown;
      finished_at: Date | null;
    };
    const rows: Row[] = (
      await db.query(`SELECT id, idempotency_key, status, steps, error, finished_at FROM runs WHERE tenant_id = $1 AND trigger_type = 'event'`, [tenant.tenantId])
    ).rows;
    expect(rows).toHaveLength(accepted.size);
    const byKey = new Map<string, Row[]>();
    for (const r of rows) byKey.set(r.idempotency_key, [...(byKey.get(r.idempotency_key) ?? []), r]);
    for (const [orderId, runIds] of accepted) {
      expect(runIds, orderId).toHaveLength(1);
      const runs = byKey.get(orderId) ?? [];
      expect(
        runs.map((r) => r.id),
        orderId,
      ).toEqual(runIds);
      expect({ orderId, status: runs[0].status, error: runs[0].error }).toEqual({ orderId, status: 'succeeded', error: null });
      expect(runs[0].finished_at).not.toBeNull();
    }

    // At the provider: per order and per step (A = the action, B = the request step), one call, or two
    // when the first was in flight at a kill (sent before it, within the lock window) and the second after it.
    const calls = sandbox.calls({ connector: 'slack', path: '/api/chat.postMessage' });
    const perStep = new Map<string, RecordedCall[]>();
    for (const c of calls) {
      const m = /^([AB]) order (\S+)$/.exec((c.body as { text?: string })?.text ?? '');
      if (!m || !accepted.has(m[2])) continue;
      const key = `${m[1]} ${m[2]}`;
      perStep.set(key, [...(perStep.get(key) ?? []), c]);
    }
    const runOf = new Map<string, Row>(rows.map((r) => [r.idempotency_key, r]));
    const doubled = { A: [] as string[], B: [] as string[] };
    let actionSendsKey = false;
    for (const orderId of accepted.keys()) {
      const run = runOf.get(orderId)!;
      for (const [step, path] of [
        ['A', 'post'],
        ['B', 'echo'],
      ] as const) {
        const seen = perStep.get(`${step} ${orderId}`) ?? [];
        expect(seen.length, `${step} ${orderId}`).toBeGreaterThanOrEqual(1);
        expect(seen.length, `${step} ${orderId}`).toBeLessThanOrEqual(2);
        const record = run.steps.find((s) => s.path === path);
        expect(record, `${path} of ${orderId}`).toMatchObject({ status: 'succeeded', idempotencyKey: `${run.id}:${path}` });
        const keys = seen.map((c) => c.headers['idempotency-key']);
        if (step === 'B') expect(keys, `${step} ${orderId}`).toEqual(seen.map(() => `${run.id}:${path}`));
        if (step === 'A' && keys[0] !== undefined) actionSendsKey = true;
        if (seen.length === 2) {
          doubled[step].push(orderId);
          // Same idempotency key on both calls when the connector sends one; the record above holds the key either way.
          expect(keys[1], `${step} ${orderId}`).toBe(keys[0]);
          const [first, second] = seen;
          // The sandbox shares this process's event loop: a request the victim wrote just before dying can be read (and stamped) a little after the kill.
          const k = kills.findIndex((at) => first.at <= at + CLOCK_SLACK_MS && at <= second.at);
          expect(k, `${step} ${orderId}: a kill between its two calls (${first.at}, ${second.at}; kills ${kills.join(', ')})`).toBeGreaterThanOrEqual(0);
          // In flight: not checkpointed when the worker died (a finished step never runs again).
          expect(finishedAtKill[k].get(orderId)?.has(path) ?? false, `${step} ${orderId}: ${path} had finished before kill ${k + 1}`).toBe(false);
          // And the timeline says the provider may have it twice.
          expect(record, `${step} ${orderId}`).toMatchObject({ possibleDuplicate: true });
        }
      }
      // A kill interrupts a run at one step: never both side effects doubled (each run was in flight at one kill at most).
      expect(doubled.A.includes(orderId) && doubled.B.includes(orderId), orderId).toBe(false);
    }
    const twice = new Set([...doubled.A, ...doubled.B]);
    // Runs a kill interrupted took at least a lock period longer than the rest.
    const resumed = (
      await db.query(`SELECT count(*)::int AS n FROM runs WHERE tenant_id = $1 AND finished_at - created_at > $2 * interval '1 millisecond'`, [tenant.tenantId, LOCK_MS])
    ).rows[0].n;
    expect(twice.size).toBeLessThanOrEqual(KILLS * WORKER_CONCURRENCY);

    console.log(
      [
        `engine crash test: ${accepted.size} events, ${KILLS} SIGKILLs, ${rows.length} runs, all succeeded, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        ...timeline.map((l) => `  ${l}`),
        `  chat.postMessage calls: ${calls.length} for ${2 * accepted.size} steps; doubled: ${doubled.A.length} action steps (A), ${doubled.B.length} request steps (B), ${twice.size} events of at most ${KILLS * WORKER_CONCURRENCY}; ${resumed} runs took longer than the lock period (${LOCK_MS} ms), most of them resumed after a kill`,
        `  the Slack action ${actionSendsKey ? 'sent' : 'sent no'} idempotency key to the provider (its key is checked in runs.steps); the request step sent the engine's key on every call`,
      ].join('\n'),
    );
  }, 180_000);
});
