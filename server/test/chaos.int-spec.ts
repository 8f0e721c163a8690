import type { Sandbox } from '@switchboard/connectors/dist/sandbox';
import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BreakableDeployment, startBreakableDeployment } from './breakable-deployment';
import { alive, CuttableProxy, PrivateRedis, Proc, sleep, waitFor } from './child-processes';
import type { TenantFixture } from './harness';

/**
 * The chaos test: the compiled API and two workers under load from a client (events, and runs
 * that wait for their result), while workers are SIGKILLed and replaced, a Redis of the test's own
 * is killed and started again empty, and PostgreSQL is cut for a few seconds (through a proxy;
 * the shared server is never touched). Every trigger that was acknowledged must end in exactly one
 * finished run; the API never exits; no answer is a 5xx other than 503.
 */

const CLIENTS = 8;
const LOCK_MS = 2000;

const orders = {
  key: 'orders',
  name: 'Orders',
  trigger: { type: 'event', event: 'order.placed' },
  connectors: ['slack'],
  steps: [
    { id: 'text', type: 'transform', output: { text: "='order ' & $trigger.orderId" } },
    { id: 'post', type: 'request', connector: 'slack', method: 'POST', path: 'chat.postMessage', body: { channel: '#general', text: '=$steps.text.text' } },
  ],
};
const quote = {
  key: 'quote',
  name: 'Quote',
  trigger: { type: 'request' },
  steps: [{ id: 'price', type: 'transform', output: { price: '=$trigger.qty * 2' } }],
};

describe('chaos', () => {
  let deployment: BreakableDeployment;
  let sandbox: Sandbox;
  let redis: PrivateRedis;
  let proxy: CuttableProxy;
  let url: string;
  let api: Proc;
  let workers: Set<Proc>;
  const killed = new Set<Proc>();
  let tenant: TenantFixture;
  let db: Client;
  const users = ['chaos-a', 'chaos-b'];
  const startWorker = () => deployment.startWorker();

  beforeAll(async () => {
    deployment = await startBreakableDeployment({
      tenantName: 'Chaos Co',
      env: { RUN_RECOVERY_GRACE_SECONDS: '3', QUEUE_LOCK_DURATION_MS: String(LOCK_MS) },
      flows: [orders, quote],
      endUsers: users,
    });
    ({ sandbox, redis, proxy, url, api, workers, tenant, db } = deployment);
    await Promise.all([startWorker(), startWorker()]);
  }, 120_000);

  afterAll(() => deployment?.close());

  it('every acknowledged trigger ends in exactly one finished run through worker kills, a Redis restart and a PostgreSQL outage', async () => {
    // Runs are in flight at the provider for a while, so kills land mid-run.
    sandbox.inject({ connector: 'slack', path: '/api/chat.postMessage', latencyMs: 30, times: Infinity });
    const tag = randomBytes(3).toString('hex');
    const acknowledged = new Map<string, { kind: 'event' | 'sync'; runIds: string[] }>(); // idempotency key → what was answered
    const refused: string[] = [];
    const unexpected: string[] = [];
    let sent = 0;
    let loading = true;
    const latency = { event: [] as number[], sync: [] as number[] };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    /** What is down right now, and what each outage saw acknowledged and refused. */
    let fault = 'none';
    const byFault: Record<string, { acknowledged: number; refused: number; slowestMs: number }> = {};
    const tally = (during: string, what: 'acknowledged' | 'refused', ms: number) => {
      byFault[during] ??= { acknowledged: 0, refused: 0, slowestMs: 0 };
      byFault[during][what]++;
      byFault[during].slowestMs = Math.max(byFault[during].slowestMs, ms);
    };
    const started = Date.now();
    const at = () => `+${((Date.now() - started) / 1000).toFixed(1)} s`;

    const client = async (n: number) => {
      for (let i = 0; loading; i++) {
        const key = `${tag}-${n}-${i}`;
        const endUserId = users[i % users.length];
        const sync = i % 3 === 2;
        sent++;
        const t0 = Date.now();
        const during = fault;
        const res = await (
          sync
            ? tenant.host.post('/v1/flows/quote/runs', { endUserId, input: { qty: i }, wait: true, timeoutMs: 5000, idempotencyKey: key })
            : tenant.host.post('/v1/events', { name: 'order.placed', endUserId, payload: { orderId: key }, idempotencyKey: key })
        ).catch((error: Error) => ({ status: 0, body: error.message, headers: new Headers() }));
        (sync ? latency.sync : latency.event).push(Date.now() - t0);
        if ((!sync && res.status === 202) || (sync && (res.status === 200 || res.status === 202))) {
          acknowledged.set(key, { kind: sync ? 'sync' : 'event', runIds: sync ? [res.body.id] : res.body.runs.map((r: { id: string }) => r.id) });
          tally(during, 'acknowledged', Date.now() - t0);
        } else if (res.status === 503 && res.headers.get('retry-after')) {
          refused.push(`${res.body.error.code}`);
          tally(during, 'refused', Date.now() - t0);
          await sleep(200);
        } else {
          unexpected.push(`${at()} ${sync ? 'sync' : 'event'} ${key}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
          await sleep(200);
        }
      }
    };
    const load = Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));

    const timeline: string[] = [];
    const killWorker = async () => {
      const victim = [...workers].find((w) => alive(w) && !killed.has(w))!;
      killed.add(victim);
      victim.child.kill('SIGKILL');
      await victim.exited;
      timeline.push(`${at()} SIGKILL a worker; starting a replacement`);
      void startWorker();
    };

    await sleep(3000);
    await killWorker();
    await sleep(5000);
    await redis.kill();
    fault = 'redis';
    timeline.push(`${at()} Redis killed (no persistence)`);
    await sleep(2000);
    await redis.start();
    fault = 'none';
    timeline.push(`${at()} Redis started again, empty`);
    await sleep(6000);
    await proxy.cut();
    fault = 'postgres';
    timeline.push(`${at()} PostgreSQL cut`);
    await sleep(3000);
    await proxy.open();
    fault = 'none';
    timeline.push(`${at()} PostgreSQL back`);
    await sleep(5000);
    await killWorker();
    const lastFault = Date.now();
    await sleep(3000);
    loading = false;
    await load;
    timeline.push(`${at()} load stopped: ${sent} triggers sent`);

    // Drain: every acknowledged trigger's run finishes.
    const keys = [...acknowledged.keys()];
    const open = async () =>
      (await db.query(`SELECT count(*)::int AS n FROM runs WHERE tenant_id = $1 AND idempotency_key = ANY($2) AND finished_at IS NULL`, [tenant.tenantId, keys])).rows[0]
        .n as number;
    await waitFor(async () => ((await open()) === 0 ? true : undefined), 60_000, 'every acknowledged run to finish').catch(async (error: Error) => {
      const stuck = (
        await db.query(`SELECT id, status, crashed_executions, created_at FROM runs WHERE tenant_id = $1 AND idempotency_key = ANY($2) AND finished_at IS NULL LIMIT 5`, [
          tenant.tenantId,
          keys,
        ])
      ).rows;
      throw new Error(`${error.message}: ${JSON.stringify(stuck)}`);
    });
    const drainedMs = Date.now() - lastFault;

    type Row = { id: string; idempotency_key: string; status: string; error: { code: string } | null };
    const rows: Row[] = (await db.query(`SELECT id, idempotency_key, status, error FROM runs WHERE tenant_id = $1 AND idempotency_key = ANY($2)`, [tenant.tenantId, keys])).rows;
    const byKey = new Map<string, Row[]>();
    for (const r of rows) byKey.set(r.idempotency_key, [...(byKey.get(r.idempotency_key) ?? []), r]);
    const statuses: Record<string, number> = {};
    for (const [key, answer] of acknowledged) {
      const runs = byKey.get(key) ?? [];
      expect(
        runs.map((r) => r.id),
        key,
      ).toEqual(answer.runIds);
      statuses[runs[0].status] = (statuses[runs[0].status] ?? 0) + 1;
    }
    const failures = rows.filter((r) => r.status !== 'succeeded').map((r) => `${r.id} ${r.status} ${JSON.stringify(r.error)}`);

    const unhandled = /^process_unhandled_rejections_total (\d+)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1];
    const unexpectedExits = [...workers].filter((w) => !killed.has(w) && !alive(w)).length + (alive(api) ? 0 : 1);
    const refusedBy = refused.reduce<Record<string, number>>((m, c) => ({ ...m, [c]: (m[c] ?? 0) + 1 }), {});
    console.log(
      [
        `chaos test: ${sent} triggers sent by ${CLIENTS} clients, ${acknowledged.size} acknowledged (${[...acknowledged.values()].filter((a) => a.kind === 'sync').length} sync runs), ` +
          `${refused.length} refused with 503 ${JSON.stringify(refusedBy)}, ${unexpected.length} other answers`,
        ...timeline.map((l) => `  ${l}`),
        `  finished runs by status: ${JSON.stringify(statuses)}; 0 left unfinished; drained ${(drainedMs / 1000).toFixed(1)} s after the last fault`,
        `  median answer time: events ${median(latency.event)} ms, sync runs ${median(latency.sync)} ms`,
        `  by what was down when the request was sent: ${JSON.stringify(byFault)}`,
        `  unexpected process exits: ${unexpectedExits}; unhandled rejections in the API: ${unhandled}`,
      ].join('\n'),
    );
    expect(unexpected).toEqual([]);
    const diedOutput = [...workers].filter((w) => !killed.has(w) && !alive(w)).map((w) => `worker exited ${w.child.exitCode}: ${w.output().slice(-3000)}`);
    expect(unexpectedExits, [...diedOutput, alive(api) ? '' : api.output().slice(-3000)].join('\n')).toBe(0);
    expect(unhandled).toBe('0');
    expect(acknowledged.size).toBeGreaterThan(50);
    expect(failures).toEqual([]);
  }, 180_000);
});
