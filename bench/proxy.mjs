#!/usr/bin/env node
// Proxy benchmark: latency the proxy adds over calling the provider directly, the API's memory
// while proxying, and the refresh storm (many concurrent calls on an expired token, two API
// processes, one refresh expected). Prints one line per measure.
// With --profile, where the API process spent its CPU over the proxy runs.
// Usage: npm run build && node bench/proxy.mjs [--requests 3000] [--concurrency 10] [--runs 3] [--storm 1000] [--profile]
import { cpuMs, load, median, pct, rssMb, sampleRss, sleep } from './lib/measure.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printProfiles, profileArgs } from './lib/profile.mjs';
import { args, ms, print, printMachine, signed } from './lib/report.mjs';
import { run, scratchStack, stop } from './lib/stack.mjs';
import { PROXY, printTargets } from './lib/targets.mjs';
import { client, connectEndUser, signIn } from './lib/tenant.mjs';

const { requests: REQUESTS, concurrency: CONCURRENCY, runs: RUNS, storm: STORM } = args({ requests: 3000, concurrency: 10, runs: 3, storm: 1000, profile: false });
const PROFILE = process.argv.includes('--profile');

/** `requests` GETs at CONCURRENCY with the global fetch (keep-alive); a call succeeds on 200 with `ok: true`. */
const getLoad = (target, headers, requests = REQUESTS) =>
  load(requests, CONCURRENCY, async () => {
    const res = await fetch(target, { headers });
    const body = await res.json().catch(() => undefined);
    return res.status === 200 && body?.ok === true;
  });

await run(async () => {
  printMachine('PostgreSQL + Redis on the same box, sandbox and load client in this process');
  const stack = await scratchStack({ sandbox: 'here' });
  const { sandbox } = stack;
  const tenant = await stack.createTenant();
  const profileDir = PROFILE ? mkdtempSync(join(tmpdir(), 'sb-proxy-prof-')) : undefined;
  const api = await stack.startApi({}, profileDir ? { nodeArgs: profileArgs(profileDir) } : undefined);

  // The owner turns Slack on against the sandbox; an end user connects through the popup.
  const owner = await signIn(api.url, tenant);
  await owner('PUT', '/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } });
  const connectionId = await connectEndUser(api.url, tenant.apiKey, 'slack', 'bench-user');
  const { accessToken } = await client(api.url, { bearer: tenant.apiKey })('POST', `/v1/connections/${connectionId}/access-token`);

  const direct = { url: `${sandbox.url}/slack/api/auth.test`, headers: { authorization: `Bearer ${accessToken}` } };
  const proxied = { url: `${api.url}/v1/proxy/${connectionId}/auth.test`, headers: { authorization: `Bearer ${tenant.apiKey}` } };

  // Warm both paths (JIT, pools, keep-alive sockets), then alternate direct and proxy runs.
  await getLoad(direct.url, direct.headers, 500);
  await getLoad(proxied.url, proxied.headers, 500);
  await sleep(300);
  const restRss = rssMb(api.child.pid);
  const rounds = [];
  let peakRss = 0;
  for (let i = 0; i < RUNS; i++) {
    sandbox.reset({ calls: true, faults: false, data: false });
    const d = await getLoad(direct.url, direct.headers);
    const sampler = sampleRss([api.child.pid]);
    const cpu0 = cpuMs(api.child.pid);
    const p = await getLoad(proxied.url, proxied.headers);
    p.cpuPerCall = (cpuMs(api.child.pid) - cpu0) / REQUESTS;
    peakRss = Math.max(peakRss, ...sampler.stop());
    rounds.push({ d, p });
  }
  const m = (f) => median(rounds.map(f));
  const failures = rounds.reduce((n, r) => n + r.d.failures + r.p.failures, 0);
  const cfg = `${REQUESTS} requests × ${RUNS} runs, concurrency ${CONCURRENCY}, median of runs`;
  print('direct GET sandbox auth.test', `p50 ${ms(m((r) => r.d.p50))}, p99 ${ms(m((r) => r.d.p99))}, ${m((r) => r.d.rps).toFixed(0)} req/s`, cfg);
  print(
    'proxy GET /v1/proxy/:id/auth.test',
    `p50 ${ms(m((r) => r.p.p50))}, p99 ${ms(m((r) => r.p.p99))}, ${m((r) => r.p.rps).toFixed(0)} req/s`,
    `${(m((r) => r.p.rps / r.d.rps) * 100).toFixed(0)}% of direct throughput; ${failures} failed calls in all`,
  );
  print(
    'proxy added latency',
    `p50 ${signed(m((r) => r.p.p50 - r.d.p50))}, p99 ${signed(m((r) => r.p.p99 - r.d.p99))}`,
    `proxy minus direct, same run; p50 ratio ${m((r) => r.p.p50 / r.d.p50).toFixed(1)}×`,
  );
  print(
    'proxy API CPU per call',
    ms(m((r) => r.p.cpuPerCall)),
    `user + system time of the API process over the proxy run ÷ calls; ≈ ${(1000 / m((r) => r.p.cpuPerCall)).toFixed(0)} calls/s per core at most`,
  );
  print('proxy API RSS peak', `${peakRss.toFixed(0)} MB`, `${restRss.toFixed(0)} MB at rest after warm-up, NODE_ENV=production`);

  if (profileDir) {
    // The profile is written when the process exits: stop it here, before the storm.
    await stop(api.child);
    printProfiles('API over the proxy runs', profileDir, 25);
    if (process.env.KEEP_PROFILE) console.log(`profile kept in ${profileDir}`);
    else rmSync(profileDir, { recursive: true, force: true });
    return;
  }

  // The refresh storm: a second API process with the same environment, the token expired on both
  // sides (the provider refuses it, our row says so), STORM calls split evenly, all started at once.
  const api2 = await stack.startApi();
  const apis = [api, api2];
  for (const a of apis) await getLoad(`${a.url}/v1/proxy/${connectionId}/auth.test`, proxied.headers, 50);
  sandbox.reset({ calls: true, faults: false, data: false });
  sandbox.oauth.expireAccessTokens('slack');
  await (await stack.db()).query(`UPDATE connections SET expires_at = now() - interval '1 minute' WHERE id = $1`, [connectionId]);
  const refreshesBefore = sandbox.oauth.refreshCount('slack');
  const eventsBefore = sandbox.oauth.events('slack').length;
  const stormSampler = sampleRss(apis.map((a) => a.child.pid));
  const t0 = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: STORM }, async (_, i) => {
      const s = performance.now();
      try {
        const res = await fetch(`${apis[i % 2].url}/v1/proxy/${connectionId}/auth.test`, { headers: proxied.headers });
        const body = await res.json().catch(() => undefined);
        return { ok: res.status === 200 && body?.ok === true, ms: performance.now() - s, status: res.status, error: body?.error };
      } catch (error) {
        return { ok: false, ms: performance.now() - s, status: 0, error: error.cause?.code ?? error.message };
      }
    }),
  );
  const wall = performance.now() - t0;
  const stormPeak = stormSampler.stop();
  const stormFailures = outcomes.filter((o) => !o.ok);
  const refreshes = sandbox.oauth.refreshCount('slack') - refreshesBefore;
  const reuse = sandbox.oauth
    .events('slack')
    .slice(eventsBefore)
    .filter((e) => e.outcome === 'error').length;
  const tokenCalls = sandbox.calls({ connector: 'slack', path: '/api/oauth.v2.access' }).length;
  const latencies = outcomes.map((o) => o.ms);
  print(
    'refresh storm:',
    `${STORM} calls, ${stormFailures.length} failures, ${refreshes} refreshes`,
    `2 API processes, ${STORM / 2} each, all started at once; ${tokenCalls} token-endpoint calls, ${reuse} refused (refresh-token reuse)`,
  );
  print(
    'refresh storm, wall time',
    `${wall.toFixed(0)} ms`,
    `first call sent to last answer; per call p50 ${ms(pct(latencies, 50))}, p99 ${ms(pct(latencies, 99))}; API RSS peaks ${stormPeak.map((x) => x.toFixed(0)).join(' / ')} MB`,
  );
  if (stormFailures.length) {
    const kinds = {};
    for (const f of stormFailures) kinds[`${f.status} ${f.error?.code ?? f.error ?? ''}`.trim()] = (kinds[`${f.status} ${f.error?.code ?? f.error ?? ''}`.trim()] ?? 0) + 1;
    console.log(`  failures by kind: ${JSON.stringify(kinds)}`);
  }
  printTargets('issue 17: now against target, and against the baseline (quiet 2-core box)', PROXY, {
    apiCpuPerCall: m((r) => r.p.cpuPerCall),
    addedP50: m((r) => r.p.p50 - r.d.p50),
    addedP99: m((r) => r.p.p99 - r.d.p99),
    shareOfDirect: m((r) => r.p.rps / r.d.rps) * 100,
    requestsPerSecond: m((r) => r.p.rps),
  });
  if (failures || stormFailures.length || refreshes !== 1) process.exitCode = 1;
});
