import { consentInSandbox, RecordedCall, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, PrivateRedis, Proc, run, sleep, stop, waitFor } from './child-processes';
import { createTenant, freePort, freshDatabase, TenantFixture, testEnv } from './harness';

/**
 * The crash test of poll triggers: the compiled API and two workers poll GitHub (the sandbox) for
 * 120 instances across 3 tenants while issues keep being opened. Meanwhile the test makes every
 * poll due again and again (stealing leases of polls in flight), SIGKILLs workers mid-poll (a fresh
 * one started after each kill), and kills its own Redis and starts it again empty. Afterwards every
 * issue opened after the instances' first polls has started exactly one run per instance watching
 * its repository, and every run finished. Then provider webhooks: deliveries while a worker is
 * killed start one run per event, and GitHub's redeliveries start none.
 *
 * POLL_TIMEOUT_SECONDS=2 makes a claim's lease 4 s, so a killed worker's polls come back fast;
 * QUEUE_LOCK_DURATION_MS and RUN_RECOVERY_GRACE_SECONDS are low so its runs do too, and runs stored
 * while Redis was away are queued by the recovery sweep within seconds.
 */

const HOST_ORIGIN = 'https://host.example';
const TENANTS = 3;
const FLOWS_PER_TENANT = 4;
const USERS_PER_TENANT = 10;
/** Repositories watched: each by 6 instances (of different tenants, users and flows). */
const REPOSITORIES = 20;
const POLL_LATENCY_MS = 150;
const POLL_TIMEOUT_SECONDS = 2;

/** GitHub pushes opened issues to the instance's URL (a repository hook Switchboard makes). */
const hookFlow = {
  key: 'issue-hook',
  name: 'Issue opened (webhook)',
  trigger: { type: 'webhook', connector: 'github', event: 'issue_opened', input: { repository: '=$inputs.repo' } },
  connectors: ['github'],
  inputs: { repo: { type: 'string', title: 'Repository', required: true } },
  steps: [{ id: 'seen', type: 'transform', output: { number: '=$trigger.number', repository: '=$trigger.repository' } }],
};
/** Webhook instances per tenant (end users already connected to GitHub), each on a repository of its own. */
const HOOK_USERS = 3;

const pollFlow = (n: number) => ({
  key: `new-issues-${n}`,
  name: `New issues ${n}`,
  trigger: { type: 'poll', connector: 'github', event: 'new_issue', input: { repository: '=$inputs.repo' }, interval: 'PT1M' },
  connectors: ['github'],
  inputs: { repo: { type: 'string', title: 'Repository', required: true } },
  steps: [{ id: 'seen', type: 'transform', output: { number: '=$trigger.number', repository: '=$trigger.repository' } }],
});

describe('poll triggers under SIGKILL and a Redis restart', () => {
  let sandbox: Sandbox;
  let redis: PrivateRedis;
  let fresh: { url: string; drop(): Promise<void> };
  let env: Record<string, string>;
  let url: string;
  let api: Proc;
  const workers = new Set<Proc>();
  const ready = new Set<Proc>();
  const killed = new Set<Proc>();
  let db: Client;
  let githubToken: string;
  /** Instance id → the repository it watches (as enabled). */
  const watching = new Map<string, string>();
  const tenants: TenantFixture[] = [];

  const startWorker = async (): Promise<Proc> => {
    const worker = run('worker.js', env);
    workers.add(worker);
    await waitFor(
      () => (worker.output().includes('Switchboard worker ready') ? true : alive(worker) ? undefined : Promise.reject(new Error(worker.output()))),
      60_000,
      'worker ready',
    );
    ready.add(worker);
    return worker;
  };

  /** On a loaded machine the API may answer 503 (a database connection slow to open): a client tries again. */
  async function retried<T extends { status: number }>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const reply = await call();
      if (reply.status !== 503 || attempt === 10) return reply;
      await sleep(500);
    }
  }

  async function connectGithub(tenant: TenantFixture, endUserId: string): Promise<void> {
    const token = (await retried(() => tenant.host.post('/v1/sessions', { endUserId }))).body.token as string;
    const start = await retried(() => fetch(`${url}/connect/github?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`, { redirect: 'manual' }));
    const consented = await retried(async () => fetch(await consentInSandbox(start.headers.get('location')!)));
    expect(await consented.text()).toContain('"connected"');
  }

  async function setUpTenant(t: number, repositories: string[]): Promise<void> {
    let tenant: TenantFixture | undefined;
    for (let attempt = 1; !tenant; attempt++)
      tenant = await createTenant({ url, origin: url } as never, `Poll Crash ${t}`).catch((error) => (attempt < 10 ? sleep(500).then(() => undefined) : Promise.reject(error)));
    tenants.push(tenant);
    const owner = tenant.owner;
    expect((await retried(() => owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] }))).status).toBe(200);
    expect((await retried(() => owner.put('/v1/admin/connectors/github', { enabled: true, settings: { useSandbox: true } }))).status).toBe(200);
    for (let f = 0; f < FLOWS_PER_TENANT; f++) {
      const definition = pollFlow(f);
      expect((await retried(() => owner.post('/v1/admin/flow-templates', { definition }))).status).toBe(201);
      expect((await retried(() => owner.post(`/v1/admin/flow-templates/${definition.key}/publish`))).status).toBe(201);
    }
    const connectUser = async (u: number) => {
      const endUserId = `poller-${u}`;
      await connectGithub(tenant!, endUserId);
      for (let f = 0; f < FLOWS_PER_TENANT; f++) {
        const n = (t * USERS_PER_TENANT + u) * FLOWS_PER_TENANT + f;
        const repo = repositories[n % repositories.length]!;
        const enabled = await retried(() => tenant!.host.post(`/v1/end-users/${endUserId}/flows/new-issues-${f}/enable`, { settings: { repo } }));
        expect(enabled.status).toBe(200);
        watching.set(enabled.body.instance.id, repo);
      }
    };
    for (let u = 0; u < USERS_PER_TENANT; u++) await connectUser(u);
  }

  beforeAll(async () => {
    sandbox = await startSandbox();
    redis = new PrivateRedis(await freePort());
    await redis.start();
    // A database of its own: the recovery sweep looks at every run in it.
    fresh = await freshDatabase();
    env = testEnv(await freePort(), {
      DATABASE_URL: fresh.url,
      REDIS_URL: redis.url,
      SANDBOX_URL: sandbox.url,
      OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}`,
      MAINTENANCE_INTERVAL_SECONDS: '1',
      RUN_RECOVERY_GRACE_SECONDS: '2',
      QUEUE_LOCK_DURATION_MS: '2000',
      QUEUE_STALLED_INTERVAL_MS: '500',
      // A claim's lease is twice this: a killed worker's polls are taken over within 4 s.
      POLL_TIMEOUT_SECONDS: String(POLL_TIMEOUT_SECONDS),
      // Lanes beyond the worker's 10 database connections would only queue for one (past the lease).
      POLL_CONCURRENCY: '10',
      // GitHub's 1 request/s per connection would make 204 polls over 51 connections take minutes.
      CONNECTION_RATE_LIMITS: 'false',
      LOG_LEVEL: 'info', // the worker's "ready" line
    });
    url = env.PUBLIC_URL;
    api = run('main.js', env);
    await waitFor(async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined), 60_000, 'API ready');
    db = new Client({ connectionString: fresh.url });
    await db.connect();
    githubToken = sandbox.oauth.issueTokens('github').accessToken;
    const repositories = (sandbox.state.github as { repos: Array<{ name: string; full_name: string }> }).repos
      .filter((r) => r.name.startsWith('service-'))
      .slice(0, REPOSITORIES)
      .map((r) => r.full_name);
    expect(repositories).toHaveLength(REPOSITORIES);
    const setUp = Date.now();
    // Every GitHub issues list takes a while, so kills and lease steals land mid-poll.
    sandbox.inject({ connector: 'github', method: 'GET', path: /^\/repos\/[^/]+\/[^/]+\/issues$/, latencyMs: POLL_LATENCY_MS, times: Infinity });
    // The workers boot while the tenants are set up; instances are polled as soon as they are enabled.
    await Promise.all([startWorker(), startWorker(), ...Array.from({ length: TENANTS }, (_, t) => setUpTenant(t, repositories))]).catch((error: Error) => {
      throw new Error(`${error.message} (API ${alive(api) ? 'up' : 'exited'}): ${api.output().slice(-3000)}`);
    });
    console.log(`set up ${watching.size} instances in ${Date.now() - setUp} ms`);
  }, 120_000);

  afterAll(async () => {
    for (const p of [...workers, api]) await stop(p);
    await db?.end();
    await redis?.kill();
    await sandbox?.close();
    await fresh?.drop();
  });

  it('every issue opened after the first poll starts exactly one run per watching instance, through worker kills and a Redis restart', async () => {
    const started = Date.now();
    const at = () => `+${((Date.now() - started) / 1000).toFixed(1)} s`;
    const timeline: string[] = [];
    expect(watching.size).toBe(TENANTS * USERS_PER_TENANT * FLOWS_PER_TENANT);

    // The first polls only find where "now" is; every issue opened after them is new to every watcher.
    const unpolled = async () => (await db.query(`SELECT count(*)::int AS n FROM flow_instance_triggers WHERE type = 'poll' AND polled_at IS NULL`)).rows[0].n as number;
    await waitFor(async () => ((await unpolled()) === 0 ? true : undefined), 30_000, 'every first poll');
    timeline.push(`${at()} all ${watching.size} first polls done`);
    expect((await db.query(`SELECT count(*)::int AS n FROM runs`)).rows[0].n).toBe(0);

    const repositories = [...new Set(watching.values())];
    let opened = 0;
    const openIssue = async () => {
      const repo = repositories[opened++ % repositories.length];
      const res = await fetch(`${sandbox.url}/github/repos/${repo}/issues`, {
        method: 'POST',
        headers: { authorization: `Bearer ${githubToken}`, 'content-type': 'application/json', accept: 'application/vnd.github+json' },
        body: JSON.stringify({ title: `Issue ${opened}` }),
      });
      expect(res.status).toBe(201);
    };
    // Every poll due now, even those in flight (their lease is taken: a poll that finishes late keeps nothing).
    // Rows a worker holds are skipped, not waited for: waiting while it commits could deadlock with it (40P01).
    const makeDue = () =>
      db.query(`UPDATE flow_instance_triggers SET next_poll_at = now() WHERE id IN (SELECT id FROM flow_instance_triggers WHERE type = 'poll' ORDER BY id FOR UPDATE SKIP LOCKED)`);
    // Polls waiting for their interval (or a backoff) due now; those claimed keep their lease.
    const makeIdleDue = () =>
      db.query(
        `UPDATE flow_instance_triggers SET next_poll_at = now()
          WHERE id IN (SELECT id FROM flow_instance_triggers WHERE type = 'poll' AND next_poll_at > now() + make_interval(secs => $1) ORDER BY id FOR UPDATE SKIP LOCKED)`,
        [2 * POLL_TIMEOUT_SECONDS],
      );
    // Issues keep appearing and polls keep being made due, in the background of every fault.
    let churning = true;
    const churn = (async () => {
      for (let round = 0; churning; round++) {
        if (!alive(api)) throw new Error('the API exited');
        await openIssue();
        await (round % 8 === 0 ? makeDue() : makeIdleDue());
        await sleep(250);
      }
    })();
    const issuesInFlight = () => sandbox.calls((c: RecordedCall) => c.connector === 'github' && c.method === 'GET' && c.status === 0).length;

    const killWorker = async () => {
      // Two ready workers at each kill (the replacement of the last kill has booted).
      await waitFor(() => ([...ready].filter((w) => alive(w) && !killed.has(w)).length >= 2 ? true : undefined), 60_000, 'two ready workers');
      const victim = [...ready].find((w) => alive(w) && !killed.has(w))!;
      // Mid-poll: the victim (or its sibling) has issue lists in flight at the provider.
      await makeIdleDue();
      await waitFor(() => (issuesInFlight() >= 5 ? true : undefined), 10_000, 'polls in flight');
      const flying = issuesInFlight();
      killed.add(victim);
      victim.child.kill('SIGKILL');
      await victim.exited;
      timeline.push(`${at()} SIGKILL a worker (${flying} issue lists in flight); starting a replacement`);
      void startWorker();
    };

    let redisDown = new Date(0);
    let redisUp = new Date(0);
    try {
      await sleep(1500);
      await killWorker();
      await sleep(2000);
      await killWorker();
      await sleep(1500);

      // Redis away: polls go on (claims live in PostgreSQL) and store their runs; nothing can be queued.
      await makeIdleDue();
      await redis.kill();
      redisDown = new Date();
      timeline.push(`${at()} Redis killed (no persistence)`);
      // Until polls have stored runs they could not queue (issues keep coming meanwhile).
      const storedSince = async (since: Date) => (await db.query(`SELECT count(*)::int AS n FROM runs WHERE created_at >= $1`, [since])).rows[0].n as number;
      await waitFor(
        async () => ((await storedSince(redisDown)) > 0 && Date.now() - redisDown.getTime() > 2000 ? true : (await makeIdleDue(), await sleep(500), undefined)),
        20_000,
        'runs stored while Redis is down',
      );
      await redis.start();
      redisUp = new Date();
      timeline.push(`${at()} Redis started again, empty`);
      await sleep(2000);
      await killWorker();
      await sleep(2000);
    } finally {
      churning = false;
    }
    await churn;
    timeline.push(`${at()} ${opened} issues opened; settling`);

    // Settle: polls made due until every instance has read everything (no poll due or in flight) and every run finished.
    const issues = (sandbox.state.github as { issues: Array<{ id: number; repository: string; pull_request?: unknown }> }).issues;
    expect(issues.filter((i) => repositories.includes(i.repository))).toHaveLength(opened);
    const expected = new Map<string, Set<string>>();
    for (const [instanceId, repo] of watching) expected.set(instanceId, new Set(issues.filter((i) => i.repository === repo && !i.pull_request).map((i) => `poll:${i.id}`)));
    const total = [...expected.values()].reduce((n, keys) => n + keys.size, 0);
    const progress: string[] = [];
    const settled = async () => {
      const [runs] = (await db.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE finished_at IS NULL)::int AS open FROM runs WHERE trigger_type = 'poll'`)).rows;
      if (runs.n >= total && runs.open === 0) return true;
      const [polls] = (
        await db.query(
          `SELECT count(*) FILTER (WHERE next_poll_at <= now())::int AS due, count(*) FILTER (WHERE next_poll_at > now() AND next_poll_at <= now() + interval '5 seconds')::int AS leased, count(*) FILTER (WHERE failures > 0)::int AS failing FROM flow_instance_triggers WHERE type = 'poll'`,
        )
      ).rows;
      progress.push(`${at()} runs ${runs.n}/${total} (${runs.open} open), polls due ${polls.due}, leased ${polls.leased}, failing ${polls.failing}`);
      await makeIdleDue();
      return undefined;
    };
    const settledIn = await waitFor(async () => ((await settled()) ? true : (await sleep(1000), undefined)), 40_000, `${total} runs, all finished`).catch(
      (error: Error) => error.message,
    );
    timeline.push(`${at()} ${settledIn === true ? 'settled' : settledIn}`);

    type Row = { instance_id: string; idempotency_key: string; status: string; error: unknown; finished_at: Date | null; created_at: Date; crashed_executions: number };
    const rows: Row[] = (await db.query(`SELECT instance_id, idempotency_key, status, error, finished_at, created_at, crashed_executions FROM runs WHERE trigger_type = 'poll'`))
      .rows;
    const rel = (d: Date | null) => (d ? `+${((d.getTime() - started) / 1000).toFixed(1)} s` : 'never');
    const slowest = rows
      .filter((r) => r.finished_at)
      .sort((a, b) => b.finished_at!.getTime() - b.created_at.getTime() - (a.finished_at!.getTime() - a.created_at.getTime()))
      .slice(0, 3)
      .map((r) => `stored ${rel(r.created_at)} finished ${rel(r.finished_at)} (crashed executions ${r.crashed_executions})`);
    const found = new Map<string, string[]>();
    for (const r of rows) found.set(r.instance_id, [...(found.get(r.instance_id) ?? []), r.idempotency_key]);
    const missing: string[] = [];
    const doubled: string[] = [];
    const unexpected: string[] = [];
    for (const [instanceId, keys] of expected) {
      const seen = found.get(instanceId) ?? [];
      for (const key of keys) {
        const n = seen.filter((k) => k === key).length;
        if (n === 0) missing.push(`${instanceId} ${key}`);
        if (n > 1) doubled.push(`${instanceId} ${key} ×${n}`);
      }
      for (const key of seen) if (!keys.has(key)) unexpected.push(`${instanceId} ${key}`);
    }
    const notSucceeded = rows
      .filter((r) => r.status !== 'succeeded' || r.finished_at === null)
      .map((r) => `${r.instance_id} ${r.idempotency_key} ${r.status} ${JSON.stringify(r.error)}`);
    const storedWhileRedisDown = rows.filter((r) => r.created_at >= redisDown && r.created_at < redisUp).length;
    const unexpectedExits = [...workers].filter((w) => !killed.has(w) && !alive(w)).length + (alive(api) ? 0 : 1);
    console.log(
      [
        `poll crash test: ${watching.size} instances, ${opened} issues, ${rows.length} runs of ${total} expected, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        ...timeline.map((l) => `  ${l}`),
        // How the backlog drained, when it did not within the wait.
        ...(settledIn === true ? [] : progress.map((l) => `    settling ${l}`)),
        `  runs stored while Redis was down (queued by the recovery sweep): ${storedWhileRedisDown}; slowest runs: ${slowest.join('; ')}`,
        `  missing ${missing.length}, doubled ${doubled.length}, unexpected ${unexpected.length}, not succeeded ${notSucceeded.length}, unexpected process exits ${unexpectedExits}`,
      ].join('\n'),
    );
    if (missing.length) {
      const detail = [];
      for (const m of missing.slice(0, 10)) {
        const [instanceId, key] = m.split(' ');
        const [t] = (await db.query(`SELECT poll_cursor, polled_at, next_poll_at, health FROM flow_instance_triggers WHERE id = $1`, [instanceId])).rows;
        const issue = issues.find((i) => `poll:${i.id}` === key) as unknown as { id: number; created_at: string; number: number; repository: string };
        const runs = (await db.query(`SELECT idempotency_key, created_at FROM runs WHERE instance_id = $1 ORDER BY created_at`, [instanceId])).rows.map(
          (r) => `${r.idempotency_key}@${r.created_at.toISOString()}`,
        );
        detail.push(
          `${m}: issue ${JSON.stringify({ id: issue.id, n: issue.number, created: issue.created_at, repo: issue.repository })} trigger ${JSON.stringify(t)} runs ${runs.join(' ')}`,
        );
      }
      const stuck = [...new Set(missing.map((m) => m.split(' ')[0]!))];
      const who = (
        await db.query(
          `SELECT i.id, i.end_user_id, i.connections, t.polled_at, t.next_poll_at, t.failures FROM flow_instances i JOIN flow_instance_triggers t ON t.id = i.id WHERE i.id = ANY($1)`,
          [stuck],
        )
      ).rows;
      const logs = [...workers].flatMap((w) =>
        w
          .output()
          .split('\n')
          .filter((l) => stuck.some((id) => l.includes(id)))
          .slice(-3),
      );
      const never = (await db.query(`SELECT count(*)::int AS n FROM flow_instance_triggers t WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.instance_id = t.id)`)).rows[0].n;
      console.log(`settle: ${settledIn}\n${detail.join('\n')}\nstuck ${stuck.length}: ${JSON.stringify(who)}\ninstances without any run: ${never}\n${logs.join('\n')}`);
    }
    expect(missing.slice(0, 10)).toEqual([]);
    expect(doubled.slice(0, 10)).toEqual([]);
    expect(unexpected.slice(0, 10)).toEqual([]);
    if (notSucceeded.length) {
      const { default: Redis } = await import('ioredis');
      const client = new Redis(redis.url);
      const prefix = `${env.REDIS_PREFIX}:bull:runs`;
      const open = (await db.query(`SELECT id, status, attempt, crashed_executions, execution_owner, created_at, started_at FROM runs WHERE status <> 'succeeded' LIMIT 5`)).rows;
      for (const r of open) {
        const job = await client.hgetall(`${prefix}:${r.id}`);
        const where = [];
        for (const list of ['wait', 'active', 'paused']) if ((await client.lpos(`${prefix}:${list}`, r.id)) !== null) where.push(list);
        for (const set of ['delayed', 'completed', 'failed']) if ((await client.zscore(`${prefix}:${set}`, r.id)) !== null) where.push(set);
        console.log(
          `stuck run ${JSON.stringify(r)} job ${JSON.stringify({ ...job, data: undefined, stacktrace: job.stacktrace?.slice(0, 300) })} in ${where.join(',') || 'no list'}`,
        );
      }
      await client.quit();
    }
    if (process.env.TRIGGERS_CRASH_LOGS) {
      const { writeFileSync } = await import('node:fs');
      [...workers].forEach((w, i) => writeFileSync(`${process.env.TRIGGERS_CRASH_LOGS}/worker-${i}.log`, w.output()));
      writeFileSync(`${process.env.TRIGGERS_CRASH_LOGS}/api.log`, api.output());
      writeFileSync(`${process.env.TRIGGERS_CRASH_LOGS}/times.json`, JSON.stringify({ redisDown, redisUp }));
    }
    expect(notSucceeded.slice(0, 10)).toEqual([]);
    expect(rows).toHaveLength(total);
    expect(storedWhileRedisDown).toBeGreaterThan(0);
    expect(unexpectedExits).toBe(0);
  }, 120_000);

  it('provider webhooks delivered while workers are killed start exactly one run per event; redeliveries start nothing', async () => {
    const started = Date.now();
    const repos = (sandbox.state.github as { repos: Array<{ name: string; full_name: string }> }).repos
      .filter((r) => r.name.startsWith('service-'))
      .slice(100, 100 + TENANTS * HOOK_USERS);
    const hooked = new Map<string, { url: string; repo: string }>(); // instance id → its URL and repository
    for (const [t, tenant] of tenants.entries()) {
      expect((await retried(() => tenant.owner.post('/v1/admin/flow-templates', { definition: hookFlow }))).status).toBe(201);
      expect((await retried(() => tenant.owner.post(`/v1/admin/flow-templates/${hookFlow.key}/publish`))).status).toBe(201);
      for (let u = 0; u < HOOK_USERS; u++) {
        const repo = repos[t * HOOK_USERS + u]!.full_name;
        const enabled = await retried(() => tenant.host.post(`/v1/end-users/poller-${u}/flows/${hookFlow.key}/enable`, { settings: { repo } }));
        expect(enabled.status).toBe(200);
        hooked.set(enabled.body.instance.id, { url: enabled.body.instance.webhookUrl, repo });
      }
    }
    const hooks = () => (sandbox.state.github as { hooks: Array<{ config: { url: string } }> }).hooks;
    await waitFor(() => ([...hooked.values()].every(({ url: u }) => hooks().some((h) => h.config.url === u)) ? true : undefined), 30_000, 'every repository hook');

    let opened = 0;
    const openIssues = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const { repo } = [...hooked.values()][opened++ % hooked.size]!;
        const res = await fetch(`${sandbox.url}/github/repos/${repo}/issues`, {
          method: 'POST',
          headers: { authorization: `Bearer ${githubToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ title: `Hooked ${opened}` }),
        });
        expect(res.status).toBe(201);
      }
    };
    // Deliveries keep coming while a worker dies mid-run and its replacement boots.
    const firing = openIssues(60);
    await waitFor(async () => ((await db.query(`SELECT count(*)::int AS n FROM runs WHERE trigger_type = 'webhook'`)).rows[0].n >= 10 ? true : undefined), 30_000, 'webhook runs');
    await waitFor(() => ([...ready].filter((w) => alive(w) && !killed.has(w)).length >= 2 ? true : undefined), 60_000, 'two ready workers');
    const victim = [...ready].find((w) => alive(w) && !killed.has(w))!;
    killed.add(victim);
    victim.child.kill('SIGKILL');
    await victim.exited;
    const replacement = startWorker();
    await firing;
    await openIssues(30);
    await sandbox.settleDeliveries();
    // GitHub redelivers (same X-GitHub-Delivery): each answers the first run.
    const ours = sandbox.deliveries('github').filter((d) => d.headers['x-github-event'] === 'issues' && [...hooked.values()].some((h) => h.url === d.url));
    expect(ours.every((d) => d.delivered)).toBe(true);
    const redelivered = await Promise.all(ours.map(async (d) => (await fetch(d.url, { method: 'POST', headers: d.headers, body: d.body })).status));
    expect(redelivered.every((status) => status === 202)).toBe(true);
    await replacement;

    const open = async () => (await db.query(`SELECT count(*)::int AS n FROM runs WHERE trigger_type = 'webhook' AND finished_at IS NULL`)).rows[0].n as number;
    await waitFor(async () => ((await open()) === 0 ? true : (await sleep(500), undefined)), 40_000, 'webhook runs to finish');
    type Row = { instance_id: string; idempotency_key: string; status: string };
    const rows: Row[] = (await db.query(`SELECT instance_id, idempotency_key, status FROM runs WHERE trigger_type = 'webhook'`)).rows;
    for (const [instanceId, { url: hookUrl }] of hooked) {
      const expected = ours
        .filter((d) => d.url === hookUrl)
        .map((d) => `event:${d.headers['x-github-delivery']}`)
        .sort();
      expect(
        rows
          .filter((r) => r.instance_id === instanceId)
          .map((r) => r.idempotency_key)
          .sort(),
        instanceId,
      ).toEqual(expected);
    }
    expect(rows.filter((r) => r.status !== 'succeeded')).toEqual([]);
    expect(ours).toHaveLength(opened);
    console.log(
      `webhook crash test: ${hooked.size} instances, ${opened} issues, ${ours.length} deliveries each redelivered once, ${rows.length} runs, one SIGKILL, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 120_000);
});
