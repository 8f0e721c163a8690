#!/usr/bin/env node
// Polling benchmark: how many poll-triggered instances ONE worker keeps on schedule, and what a
// poll costs. `--instances` instances of a GitHub `new_issue` poll flow at a 1-minute interval,
// spread over `--tenants` tenants (the first tenant holds half of them, to show fairness), each
// bound to its own GitHub connection (its own token) against the sandbox, which runs in its own
// process. One worker polls them; the sandbox opens an issue every `--tick` seconds in the
// repositories a small share of the instances watch, so some polls start runs.
// Usage: npm run build && node bench/polling.mjs [--instances 10000] [--seconds 180] [--tenants 20] [--warmup 75] [--tick 5] [--watch-share 0.01]
//
// Setup (not measured): per tenant, the real path once: CLI create-tenant, the owner turns GitHub
// on against the sandbox and publishes the flow, end user 0 connects GitHub through the connect
// popup over HTTP and enables the flow (API). The other instances are copies of that tenant's
// rows in bulk SQL: each its own end user, its own connection holding its own sandbox-issued
// token (POST /_sandbox/oauth/issue, encrypted by the server's Vault for its row), its own
// instance and trigger row, with next_poll_at spread uniformly over the next minute and no
// cursor yet (so the worker makes every first poll itself during the warm-up). The API is then
// stopped; the worker starts, polls through the warm-up (`--warmup` s: every instance's first poll,
// which only finds where "now" is), then the window (`--seconds`) is measured.
//
// Schedule lag of a poll = its polled_at (now() of the transaction that commits the new cursor)
// minus the next_poll_at it was due at (seen on the previous poll, or in the snapshot at the start
// of the window), read once a second from rows whose polled_at moved. CPU from /proc: the worker,
// the sandbox, and the PostgreSQL backends connected to the bench's database (minus this script's).
// BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the worker. POLL_CONCURRENCY,
// DATABASE_POOL_SIZE and the like pass through from the environment.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Vault } from '../server/dist/vault/vault.js';
import { bindingFor } from '../server/dist/vault/vault-fields.js';
import { bindingsHealthySql } from '../server/dist/flows/binding-health.js';
import { cpuMs, pct, pool, rssMb, selfCpuMs, sleep } from './lib/measure.mjs';
import { args, print, printMachine } from './lib/report.mjs';
import { dist, run, scratchStack, stop } from './lib/stack.mjs';
import { client, connectEndUser, signIn } from './lib/tenant.mjs';

const ARGS = args({ instances: 10000, seconds: 180, tenants: 20, warmup: 75, tick: 5, 'watch-share': 0.01 });
const INSTANCES = ARGS.instances;
const SECONDS = ARGS.seconds;
const TENANTS = Math.max(2, ARGS.tenants);
const WARMUP = ARGS.warmup;
const TICK_SECONDS = ARGS.tick;
const WATCH_SHARE = ARGS['watch-share'];
const INTERVAL_SECONDS = 60;
const ON_TIME_SECONDS = 5;
/** The repositories the sandbox's GitHub tick opens issues in (round robin); the others stay quiet. */
const TICK_REPOS = ['octo-jane/website', 'acme-inc/api', 'acme-inc/mobile-app', 'acme-inc/docs', 'acme-inc/design-system'];

const sorted = (xs) => Float64Array.from(xs).sort();
const s = (x) => `${x.toFixed(2)} s`;

const pollFlow = {
  key: 'bench-new-issues',
  name: 'Bench: new GitHub issues (poll)',
  trigger: { type: 'poll', connector: 'github', event: 'new_issue', input: { repository: '=$inputs.repo' }, interval: 'PT1M' },
  connectors: ['github'],
  inputs: { repo: { type: 'string', title: 'Repository', required: true } },
  steps: [{ id: 'seen', type: 'transform', output: { number: '=$trigger.number', title: '=$trigger.title' } }],
};

await run(async () => {
  printMachine('PostgreSQL + Redis on the same box');
  const setupStarted = Date.now();

  // The sandbox in its own process, so its CPU is its own.
  const stack = await scratchStack({ sandbox: 'process' });
  const { sandbox, masterKey } = stack;
  const sandboxUrl = sandbox.url;
  const sandboxControl = sandbox.control;

  // Tenants through the CLI, two at a time (one per core).
  const tenants = new Array(TENANTS);
  await pool(TENANTS, 2, async (t) => (tenants[t] = await stack.createTenant(`Bench ${t}`)));
  // Half the instances in tenant 0, the rest shared by the others.
  const big = Math.round(INSTANCES / 2);
  const counts = tenants.map((_, t) => (t === 0 ? big : Math.floor((INSTANCES - big) / (TENANTS - 1)) + (t - 1 < (INSTANCES - big) % (TENANTS - 1) ? 1 : 0)));

  // Repositories: a share of the instances watch the ones the tick opens issues in; the rest watch quiet ones.
  const anyToken = (await sandboxControl('oauth/issue', { connector: 'github' })).accessToken;
  const allRepos = [];
  for (let page = 1; ; page++) {
    const list = await (await fetch(`${sandboxUrl}/github/user/repos?per_page=100&page=${page}`, { headers: { authorization: `Bearer ${anyToken}` } })).json();
    allRepos.push(...list.map((r) => r.full_name));
    if (list.length < 100) break;
  }
  const quietRepos = allRepos.filter((r) => /\/service-\d+$/.test(r));
  const watchEvery = WATCH_SHARE > 0 ? Math.max(1, Math.round(1 / WATCH_SHARE)) : Infinity;
  let globalIndex = 0;
  const repoFor = () => {
    const i = globalIndex++;
    return i % watchEvery === 0 ? TICK_REPOS[(i / watchEvery) % TICK_REPOS.length] : quietRepos[i % quietRepos.length];
  };

  // The real path once per tenant (API): GitHub on against the sandbox, the flow published, end user 0 connected through the popup, the flow enabled.
  const api = await stack.startApi();
  const { url } = api;
  for (const [t, tenant] of tenants.entries()) {
    const owner = await signIn(url, tenant);
    await owner('PUT', '/v1/admin/connectors/github', { enabled: true, settings: { useSandbox: true } });
    await owner('POST', '/v1/admin/flow-templates', { definition: pollFlow });
    await owner('POST', `/v1/admin/flow-templates/${pollFlow.key}/publish`);
    const host = client(url, { bearer: tenant.apiKey });
    const endUserId = `bench-${t}-0`;
    await connectEndUser(url, tenant.apiKey, 'github', endUserId);
    await host('POST', `/v1/end-users/${endUserId}/flows/${pollFlow.key}/enable`, { settings: { repo: repoFor() } });
  }
  await stop(api.child);

  // The other instances: copies of each tenant's rows, each with its own end user, connection and token.
  const db = await stack.db();
  const vault = new Vault(masterKey);
  const { rows: references } = await db.query(
    `SELECT i.id AS instance_id, i.tenant_id, i.template_id, i.version_id, i.settings, i.trigger_event, c.id AS connection_id, c.credentials, c.account_id, c.account_name,
            c.config AS connection_config, c.scopes, t.trigger_key, t.trigger_input, t.poll_interval_seconds, t.backfill
       FROM flow_instances i JOIN connections c ON c.id = (i.connections ->> 'github')::uuid JOIN flow_instance_triggers t ON t.id = i.id`,
  );
  if (references.length !== TENANTS) throw new Error(`expected ${TENANTS} enabled instances, found ${references.length}`);
  const byTenant = new Map(references.map((r) => [r.tenant_id, r]));
  // Tenant t's end user 0 is `bench-<t>-0`.
  const orderedTenantIds = new Array(TENANTS);
  for (const r of (await db.query(`SELECT tenant_id, external_id FROM end_users`)).rows) orderedTenantIds[Number(/^bench-(\d+)-0$/.exec(r.external_id)[1])] = r.tenant_id;
  const clones = [];
  for (const [t, tenantId] of orderedTenantIds.entries()) for (let k = 1; k < counts[t]; k++) clones.push({ tenantId, t, k });
  const tokens = new Array(clones.length);
  await pool(clones.length, 16, async (i) => (tokens[i] = await sandboxControl('oauth/issue', { connector: 'github' })));
  const CHUNK = 2000;
  for (let from = 0; from < clones.length; from += CHUNK) {
    const part = clones.slice(from, from + CHUNK);
    const cols = {
      user: [],
      tenant: [],
      external: [],
      conn: [],
      cred: [],
      account: [],
      accountName: [],
      connConfig: [],
      expires: [],
      instance: [],
      template: [],
      version: [],
      settings: [],
      connections: [],
      event: [],
      triggerKey: [],
      input: [],
      interval: [],
      backfill: [],
    };
    part.forEach((c, j) => {
      const ref = byTenant.get(c.tenantId);
      const token = tokens[from + j];
      const userId = randomUUID();
      const connectionId = randomUUID();
      const instanceId = randomUUID();
      const credentials = JSON.parse(vault.decrypt(ref.credentials, bindingFor('connectionCredentials', { tenantId: c.tenantId, id: ref.connection_id })));
      const expiresAt = new Date(Date.now() + token.expiresIn * 1000).toISOString();
      Object.assign(credentials, { accessToken: token.accessToken, refreshToken: token.refreshToken, ...(credentials.expiresAt ? { expiresAt } : {}) });
      const repo = repoFor();
      cols.user.push(userId);
      cols.tenant.push(c.tenantId);
      cols.external.push(`bench-${c.t}-${c.k}`);
      cols.conn.push(connectionId);
      cols.cred.push(vault.encryptJson(credentials, bindingFor('connectionCredentials', { tenantId: c.tenantId, id: connectionId })));
      cols.account.push(ref.account_id);
      cols.accountName.push(ref.account_name);
      cols.connConfig.push(JSON.stringify(ref.connection_config));
      cols.expires.push(credentials.expiresAt ? expiresAt : null);
      cols.instance.push(instanceId);
      cols.template.push(ref.template_id);
      cols.version.push(ref.version_id);
      cols.settings.push(JSON.stringify({ ...ref.settings, repo }));
      cols.connections.push(JSON.stringify({ github: connectionId }));
      cols.event.push(ref.trigger_event);
      cols.triggerKey.push(ref.trigger_key);
      cols.input.push(JSON.stringify({ ...ref.trigger_input, repository: repo }));
      cols.interval.push(ref.poll_interval_seconds);
      cols.backfill.push(ref.backfill);
    });
    await db.query('BEGIN');
    await db.query(`INSERT INTO end_users (id, tenant_id, external_id) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[])`, [cols.user, cols.tenant, cols.external]);
    await db.query(
      `INSERT INTO connections (id, tenant_id, end_user_id, connector_key, status, account_id, account_name, credentials, config, scopes, expires_at)
       SELECT c.id, c.tenant, c.end_user, 'github', 'active', c.account, c.account_name, c.cred, c.config, r.scopes, c.expires
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::timestamptz[]) AS c(id, tenant, end_user, account, account_name, cred, config, expires)
         JOIN LATERAL (SELECT scopes FROM connections WHERE tenant_id = c.tenant LIMIT 1) r ON true`,
      [cols.conn, cols.tenant, cols.user, cols.account, cols.accountName, cols.cred, cols.connConfig, cols.expires],
    );
    await db.query(
      `INSERT INTO flow_instances (id, tenant_id, end_user_id, template_id, version_id, enabled, settings, connections, trigger_event)
       SELECT id, tenant, end_user, template, version, true, settings, connections, event
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::jsonb[], $7::jsonb[], $8::text[]) AS x(id, tenant, end_user, template, version, settings, connections, event)`,
      [cols.instance, cols.tenant, cols.user, cols.template, cols.version, cols.settings, cols.connections, cols.event],
    );
    await db.query(
      `INSERT INTO flow_instance_triggers (id, tenant_id, type, trigger_key, trigger_input, poll_interval_seconds, backfill, health, failures, next_poll_at)
       SELECT id, tenant, 'poll', key, input, interval, backfill, 'ok', 0, now()
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::int[], $6::int[]) AS x(id, tenant, key, input, interval, backfill)`,
      [cols.instance, cols.tenant, cols.triggerKey, cols.input, cols.interval, cols.backfill],
    );
    await db.query('COMMIT');
  }
  // First polls spread over the next minute (as instances enabled over time would be), none made yet.
  await db.query(
    `UPDATE flow_instance_triggers SET next_poll_at = now() + random() * interval '${INTERVAL_SECONDS} seconds', polled_at = NULL, poll_cursor = NULL WHERE type = 'poll'`,
  );
  await db.query('VACUUM ANALYZE');
  const {
    rows: [{ n: instanceCount }],
  } = await db.query(`SELECT count(*)::int AS n FROM flow_instance_triggers WHERE type = 'poll' AND next_poll_at IS NOT NULL`);
  const bigTenant = orderedTenantIds[0];
  console.log(
    `setup: ${instanceCount} poll instances (github new_issue, interval ${INTERVAL_SECONDS} s) over ${TENANTS} tenants (big tenant ${counts[0]}, the others ${Math.min(...counts.slice(1))}-${Math.max(...counts.slice(1))}), one connection and token each; ${Math.ceil(instanceCount / watchEvery)} watch the ${TICK_REPOS.length} repositories the tick opens issues in; ${((Date.now() - setupStarted) / 1000).toFixed(0)} s`,
  );

  // One worker; the sandbox opens an issue every TICK_SECONDS and forgets its recorded calls now and then (bounded memory).
  const [worker] = await stack.startWorkers(1);
  const workerStarted = Date.now();
  let ticks = 0;
  let sandboxTrim = 0;
  const ticker = setInterval(() => {
    sandboxControl('tick', { connector: 'github' }).then(
      () => ticks++,
      () => undefined,
    );
    if (++sandboxTrim % Math.max(1, Math.round(30 / TICK_SECONDS)) === 0)
      sandboxControl('reset', { calls: true, faults: false, data: false, tokens: false }).catch(() => undefined);
  }, TICK_SECONDS * 1000);
  console.log(
    `config: 1 worker, POLL_CONCURRENCY ${process.env.POLL_CONCURRENCY ?? '50 (default)'}, POLL_TIMEOUT_SECONDS ${process.env.POLL_TIMEOUT_SECONDS ?? '30 (default)'}, DATABASE_POOL_SIZE ${process.env.DATABASE_POOL_SIZE ?? '10 (default)'}, connection rate limits ${process.env.CONNECTION_RATE_LIMITS ?? 'on (default)'}; sandbox tick every ${TICK_SECONDS} s; warm-up ${WARMUP} s, window ${SECONDS} s`,
  );

  const sampler = await db.query('SELECT pg_backend_pid() AS pid');
  const ownPid = sampler.rows[0].pid;
  const backlog = async () =>
    (
      await db.query(
        `SELECT count(*)::int AS due, coalesce(extract(epoch FROM max(now() - next_poll_at)), 0)::float AS lag FROM flow_instance_triggers WHERE type = 'poll' AND next_poll_at < now()`,
      )
    ).rows[0];
  let warmPeakLag = 0;
  while (Date.now() - workerStarted < WARMUP * 1000) {
    if (worker.child.exitCode !== null) throw new Error(`worker exited: ${worker.output().slice(-2000)}`);
    warmPeakLag = Math.max(warmPeakLag, (await backlog()).lag);
    await sleep(1000);
  }
  const {
    rows: [warm],
  } = await db.query(`SELECT count(*) FILTER (WHERE polled_at IS NOT NULL)::int AS polled, count(*)::int AS total FROM flow_instance_triggers WHERE type = 'poll'`);
  print('warm-up', `${warm.polled} of ${warm.total} first polls made in ${WARMUP} s`, `largest due backlog lag ${s(warmPeakLag)}`);

  // The window: when each row is due (snapshot), then once a second the rows whose polled_at moved.
  const due = new Map();
  const watchers = new Map(); // instance → { repo, cursor at start }
  let since = new Date(0);
  for (const r of (await db.query(`SELECT id, next_poll_at, polled_at, poll_cursor, trigger_input ->> 'repository' AS repo FROM flow_instance_triggers WHERE type = 'poll'`))
    .rows) {
    due.set(r.id, r.next_poll_at.getTime());
    if (r.polled_at && r.polled_at > since) since = r.polled_at;
    if (TICK_REPOS.includes(r.repo)) watchers.set(r.id, { repo: r.repo, start: r.poll_cursor });
  }
  const lags = { big: [], small: [] };
  const backlogs = [];
  const pgCpu = new Map(); // backend pid → { first, last }
  const samplePg = async () => {
    for (const { pid } of (await db.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> $1`, [ownPid])).rows) {
      const now = cpuMs(pid);
      if (now === null) continue;
      const seen = pgCpu.get(pid);
      if (seen) seen.last = now;
      else pgCpu.set(pid, { first: windowOpen ? 0 : now, last: now }); // a backend born in the window counts whole
    }
  };
  let windowOpen = false;
  await samplePg();
  windowOpen = true;
  const {
    rows: [runs0],
  } = await db.query(`SELECT count(*)::int AS n FROM runs WHERE trigger_type = 'poll'`);
  const ticks0 = ticks;
  const cpu0 = { worker: cpuMs(worker.child.pid), sandbox: cpuMs(sandbox.child.pid), self: selfCpuMs() };
  const windowStart = Date.now();
  let workerPeakRss = 0;
  let sandboxPeakRss = 0;
  let polls = 0;
  while (Date.now() - windowStart < SECONDS * 1000) {
    if (worker.child.exitCode !== null) throw new Error(`worker exited: ${worker.output().slice(-2000)}`);
    const t0 = Date.now();
    const { rows } = await db.query(`SELECT id, tenant_id, polled_at, next_poll_at FROM flow_instance_triggers WHERE polled_at > $1`, [since]);
    for (const r of rows) {
      if (r.polled_at > since) since = r.polled_at;
      const was = due.get(r.id);
      if (was !== undefined && r.polled_at.getTime() >= windowStart) {
        (r.tenant_id === bigTenant ? lags.big : lags.small).push((r.polled_at.getTime() - was) / 1000);
        polls++;
      }
      due.set(r.id, r.next_poll_at.getTime());
    }
    backlogs.push(await backlog());
    await samplePg();
    workerPeakRss = Math.max(workerPeakRss, rssMb(worker.child.pid));
    sandboxPeakRss = Math.max(sandboxPeakRss, rssMb(sandbox.child.pid));
    await sleep(Math.max(0, 1000 - (Date.now() - t0)));
  }
  const elapsed = (Date.now() - windowStart) / 1000;
  const cpu = {
    worker: cpuMs(worker.child.pid) - cpu0.worker,
    sandbox: cpuMs(sandbox.child.pid) - cpu0.sandbox,
    pg: [...pgCpu.values()].reduce((sum, x) => sum + x.last - x.first, 0),
    self: selfCpuMs() - cpu0.self,
  };
  clearInterval(ticker);
  const tickCount = ticks - ticks0;
  // Stopped first, so the rows stay as the window left them (and a --cpu-prof profile is written).
  await stop(worker.child);
  const {
    rows: [end],
  } = await db.query(
    `SELECT count(*) FILTER (WHERE health = 'failing')::int AS failing, count(*) FILTER (WHERE failures > 0)::int AS failed,
            count(*) FILTER (WHERE next_poll_at < now() - interval '${ON_TIME_SECONDS} seconds')::int AS overdue
       FROM flow_instance_triggers WHERE type = 'poll'`,
  );
  const { rows: errors } = await db.query(`SELECT last_error ->> 'code' AS code, count(*)::int AS n FROM flow_instance_triggers WHERE failures > 0 GROUP BY 1`);
  const { rows: runStats } = await db.query(`SELECT status, count(*)::int AS n FROM runs WHERE trigger_type = 'poll' GROUP BY 1`);

  // Items found vs runs started: for each watching instance, the issues between its cursor at the start and at the end.
  const issues = new Map();
  for (const repo of TICK_REPOS) {
    const list = [];
    for (let page = 1; ; page++) {
      const batch = await (
        await fetch(`${sandboxUrl}/github/repos/${repo}/issues?state=all&sort=created&direction=asc&per_page=100&page=${page}`, {
          headers: { authorization: `Bearer ${anyToken}` },
        })
      ).json();
      list.push(...batch.filter((i) => !i.pull_request));
      if (batch.length < 100) break;
    }
    issues.set(repo, list);
  }
  const after = (issue, cursor) =>
    cursor &&
    (cursor.created === null || Date.parse(issue.created_at) > Date.parse(cursor.created) || (Date.parse(issue.created_at) === Date.parse(cursor.created) && issue.id > cursor.id));
  const endCursors = new Map(
    (await db.query(`SELECT id, poll_cursor FROM flow_instance_triggers WHERE id = ANY($1::uuid[])`, [[...watchers.keys()]])).rows.map((r) => [r.id, r.poll_cursor]),
  );
  // Matched by the run's idempotency key (`poll:<issue id>`), not by time: a poll in flight when the window opened is no edge case.
  const keysOf = new Map();
  for (const r of (await db.query(`SELECT instance_id, idempotency_key FROM runs WHERE trigger_type = 'poll' AND instance_id = ANY($1::uuid[])`, [[...watchers.keys()]])).rows) {
    if (!keysOf.has(r.instance_id)) keysOf.set(r.instance_id, new Set());
    keysOf.get(r.instance_id).add(r.idempotency_key);
  }
  let expected = 0;
  let runsOfKnown = 0;
  for (const [id, w] of watchers) {
    if (!w.start) continue; // its first poll came in the window: it starts from "now"
    const found = issues.get(w.repo).filter((i) => after(i, w.start) && !after(i, endCursors.get(id)));
    expected += found.length;
    runsOfKnown += found.filter((i) => keysOf.get(id)?.has(`poll:${i.id}`)).length;
  }
  const { rows: runsPerInstance } = await db.query(
    `SELECT count(*)::int AS n, count(DISTINCT idempotency_key)::int AS distinct_items FROM runs WHERE trigger_type = 'poll' AND created_at >= to_timestamp($1 / 1000.0) GROUP BY instance_id`,
    [windowStart],
  );
  const runsInWindow = runsPerInstance.reduce((a, r) => a + r.n, 0);
  const {
    rows: [{ duplicates }],
  } = await db.query(`SELECT (count(*) - count(DISTINCT (instance_id, idempotency_key)))::int AS duplicates FROM runs WHERE trigger_type = 'poll'`);

  // Figures.
  const all = sorted([...lags.big, ...lags.small]);
  const needed = instanceCount / INTERVAL_SECONDS;
  const achieved = polls / elapsed;
  const onTime = all.filter((x) => x < ON_TIME_SECONDS).length / Math.max(1, all.length);
  const maxBacklog = backlogs.reduce((a, b) => (b.due > a.due ? b : a), { due: 0, lag: 0 });
  const lastBacklog = backlogs.at(-1) ?? { due: 0, lag: 0 };
  const lagLine = (xs) => {
    const x = sorted(xs);
    return `p50 ${s(pct(x, 50))}, p99 ${s(pct(x, 99))}, max ${s(x.at(-1) ?? NaN)} over ${x.length} polls, ${((100 * x.filter((v) => v < ON_TIME_SECONDS).length) / Math.max(1, x.length)).toFixed(1)} % on time`;
  };
  print(
    'polls/s',
    `${achieved.toFixed(1)} achieved, ${needed.toFixed(1)} needed`,
    `${polls} polls in ${elapsed.toFixed(0)} s; ${instanceCount} instances / ${INTERVAL_SECONDS} s; ${((achieved / needed) * 100).toFixed(0)} % of the schedule`,
  );
  print(
    'schedule lag (polled_at − due)',
    `p50 ${s(pct(all, 50))}, p99 ${s(pct(all, 99))}, max ${s(all.at(-1) ?? NaN)}`,
    `includes the poll itself (claim → commit) and up to the worker's 1 s idle tick`,
  );
  print(
    'on time',
    `${(onTime * 100).toFixed(1)} % of polls < ${ON_TIME_SECONDS} s late`,
    `due backlog (unclaimed rows past due): peak ${maxBacklog.due} rows, oldest ${s(Math.max(...backlogs.map((b) => b.lag)))}; at the end ${lastBacklog.due} rows, oldest ${s(lastBacklog.lag)}; ${end.overdue} rows more than ${ON_TIME_SECONDS} s overdue at the end`,
  );
  print('lag, big tenant', lagLine(lags.big), `${counts[0]} instances`);
  print('lag, small tenants', lagLine(lags.small), `${TENANTS - 1} tenants, ${instanceCount - counts[0]} instances`);
  print('poll failures', `${end.failed} instances with failures, ${end.failing} failing`, errors.length ? errors.map((e) => `${e.code}: ${e.n}`).join(', ') : 'none');
  const perPoll = (x) => (polls ? x / polls : NaN);
  print(
    'CPU per poll',
    `worker ${perPoll(cpu.worker).toFixed(2)} ms, PostgreSQL ${perPoll(cpu.pg).toFixed(2)} ms, sandbox ${perPoll(cpu.sandbox).toFixed(2)} ms`,
    `worker + PostgreSQL ${(perPoll(cpu.worker) + perPoll(cpu.pg)).toFixed(2)} ms ⇒ ≈ ${((1000 / (perPoll(cpu.worker) + perPoll(cpu.pg))) * 60).toFixed(0)} instances per core-minute at 1/min; this script ${perPoll(cpu.self).toFixed(2)} ms; includes the runs the polls started`,
  );
  print(
    'CPU use',
    `worker ${((cpu.worker / 1000 / elapsed) * 100).toFixed(0)} % of a core, PostgreSQL backends ${((cpu.pg / 1000 / elapsed) * 100).toFixed(0)} %, sandbox ${((cpu.sandbox / 1000 / elapsed) * 100).toFixed(0)} %`,
    `load ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} at the end; ${pgCpu.size} backends of the bench database (this script's excluded)`,
  );
  print('RSS peak', `worker ${workerPeakRss.toFixed(0)} MB, sandbox ${sandboxPeakRss.toFixed(0)} MB`);
  const known = [...watchers.values()].filter((w) => w.start).length;
  print(
    'runs per item found',
    `${runsOfKnown} of ${expected} new (instance, issue) pairs ran, ${duplicates} duplicates`,
    `the ${known} of ${watchers.size} watching instances that had a cursor when the window opened: issues between their cursor then and at the end; ${tickCount} issues opened by the tick, each seen by ~${(watchers.size / TICK_REPOS.length).toFixed(0)} instances; ${runsInWindow} poll runs started in the window in all; every poll run: ${runStats.map((r) => `${r.status} ${r.n}`).join(', ') || 'none'} (${runs0.n} before the window)`,
  );

  // What one claim (PollService.claim, its SQL read from the compiled service) costs PostgreSQL: with
  // the backlog the window left, and with every instance due. Each in a transaction rolled back.
  const compiled = readFileSync(join(dist, 'triggers', 'poll.service.js'), 'utf8');
  const claimSql = /`(WITH tenants AS \([\s\S]*?)`, \[now, limit/.exec(compiled)?.[1].replace(/\$\{\(0, binding_health_1\.bindingsHealthySql\)\('i'\)\}/, bindingsHealthySql('i'));
  if (claimSql && !claimSql.includes('${')) {
    const limit = Number(process.env.POLL_CONCURRENCY ?? 50) * 2;
    const explain = async () => {
      const [plan] = (await db.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${claimSql}`, [new Date(), limit, new Date(Date.now() + 60_000)])).rows[0]['QUERY PLAN'];
      return plan;
    };
    /** The plan nodes with the most time of their own (their total × loops, minus their children's). */
    const heaviestNodes = (root) => {
      const nodes = [];
      const walk = (node) => {
        const own = node['Actual Total Time'] * node['Actual Loops'] - (node.Plans ?? []).reduce((sum, c) => sum + c['Actual Total Time'] * c['Actual Loops'], 0);
        nodes.push({
          own,
          text: `${node['Node Type']}${node['Index Name'] ? ` using ${node['Index Name']}` : node['Relation Name'] ? ` on ${node['Relation Name']}` : ''} (${node['Actual Loops']} loops × ${node['Actual Rows']} rows${node['Rows Removed by Filter'] ? `, ${node['Rows Removed by Filter']} filtered out per loop` : ''})`,
        });
        for (const child of node.Plans ?? []) walk(child);
      };
      walk(root);
      return nodes
        .sort((a, b) => b.own - a.own)
        .slice(0, 3)
        .map((x) => `${x.own.toFixed(1)} ms ${x.text}`)
        .join('; ');
    };
    const timed = async (prepare) => {
      await db.query('BEGIN');
      try {
        if (prepare) await db.query(prepare);
        const {
          rows: [{ n }],
        } = await db.query(`SELECT count(*)::int AS n FROM flow_instance_triggers WHERE type = 'poll' AND next_poll_at <= now()`);
        const times = [];
        for (let i = 0; i < 5; i++) {
          await db.query('SAVEPOINT claim');
          times.push((await explain())['Execution Time']);
          await db.query('ROLLBACK TO SAVEPOINT claim');
        }
        const plan = await explain();
        await db.query('ROLLBACK TO SAVEPOINT claim');
        return { n, ms: sorted(times), top: heaviestNodes(plan.Plan) };
      } finally {
        await db.query('ROLLBACK');
      }
    };
    const asLeft = await timed();
    const allDue = await timed(`UPDATE flow_instance_triggers SET next_poll_at = now() - random() * interval '${INTERVAL_SECONDS} seconds' WHERE type = 'poll'`);
    print(
      'claim of ' + limit,
      `${pct(asLeft.ms, 50).toFixed(1)} ms with ${asLeft.n} rows due, ${pct(allDue.ms, 50).toFixed(1)} ms with all ${allDue.n} due`,
      `PostgreSQL execution time (EXPLAIN ANALYZE, median of 5, rolled back); one claim per ${limit} polls ⇒ ${(pct(allDue.ms, 50) / limit).toFixed(2)} ms per poll with all due`,
    );
    print('claim, heaviest plan nodes', allDue.top, 'all due');
  } else {
    print('claim cost', 'not measured', 'the claim SQL was not found in server/dist/triggers/poll.service.js');
  }
  // A missed or doubled item, or a failed poll, is a bug, not a figure.
  if (runsOfKnown !== expected || duplicates > 0 || end.failed > 0) process.exitCode = 1;
});
