#!/usr/bin/env node
// Foundation benchmark: cold start of API, worker and `npm run demo`; memory at rest and under
// load; API latency for an authenticated read. Prints one line per measure.
// Usage: npm run build && node bench/startup.mjs [--requests 5000] [--concurrency 10] [--runs 5]
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, median, rssMb, sampleRss, sleep } from './lib/measure.mjs';
import { args, print, printMachine } from './lib/report.mjs';
import { freePort, redisUrl, run, scratchStack, startProcess, stop, untilOutput } from './lib/stack.mjs';

const { requests: REQUESTS, concurrency: CONCURRENCY, runs: RUNS } = args({ requests: 5000, concurrency: 10, runs: 5 });

/** REQUESTS GETs at CONCURRENCY with the global fetch (keep-alive). */
const getLoad = (target, headers) =>
  load(REQUESTS, CONCURRENCY, async () => {
    const res = await fetch(target, { headers });
    await res.arrayBuffer();
    return res.status === 200;
  });

await run(async () => {
  printMachine();
  const stack = await scratchStack();

  // 1. API cold start: spawn → first 200 from /readyz.
  const apiStarts = [];
  for (let i = 0; i < RUNS; i++) {
    const api = await stack.startApi();
    apiStarts.push(api.readyMs);
    await stop(api.child);
  }
  print('api cold start, p50', `${median(apiStarts).toFixed(0)} ms`, `spawn to first 200 on /readyz, median of ${RUNS}, min ${Math.min(...apiStarts).toFixed(0)} ms`);

  // 2. Worker cold start: spawn → "worker ready" log line (LOG_LEVEL=info to see it).
  const workerStarts = [];
  let workerRss = 0;
  for (let i = 0; i < RUNS; i++) {
    const worker = startProcess('worker.js', { ...stack.env, LOG_LEVEL: 'info' });
    workerStarts.push(await untilOutput(worker, 'Switchboard worker ready'));
    await sleep(i === RUNS - 1 ? 2000 : 0);
    if (i === RUNS - 1) workerRss = rssMb(worker.child.pid);
    await stop(worker.child);
  }
  print('worker cold start, p50', `${median(workerStarts).toFixed(0)} ms`, `spawn to ready, median of ${RUNS}`);
  print('worker RSS at rest', `${workerRss.toFixed(0)} MB`);

  // 3. API under load: authenticated reads with a real secret key.
  const created = await stack.createTenant();
  const api = await stack.startApi();
  const { url } = api;
  const headers = { authorization: `Bearer ${created.apiKey}`, 'content-type': 'application/json' };
  await fetch(`${url}/v1/end-users/bench-user`, { method: 'PUT', headers, body: JSON.stringify({ displayName: 'Bench User' }) });
  await sleep(500);
  print('api RSS at rest', `${rssMb(api.child.pid).toFixed(0)} MB`);

  const sampler = sampleRss([api.child.pid]);
  const ours = await getLoad(`${url}/v1/end-users/bench-user`, headers);
  const [peakRss] = sampler.stop();
  await stop(api.child);

  // The same client against a bare node:http server that answers a constant: the machine's ceiling.
  const bare = createHttpServer((_, res) => res.setHeader('content-type', 'application/json').end('{"ok":true}'));
  await new Promise((r) => bare.listen(0, '127.0.0.1', r));
  const baseline = await getLoad(`http://127.0.0.1:${bare.address().port}/`, {});
  bare.close();

  print(
    'api GET end user, throughput',
    `${ours.rps.toFixed(0)} req/s`,
    `${REQUESTS} requests, concurrency ${CONCURRENCY}, ${ours.failures} failed; ${((ours.rps / baseline.rps) * 100).toFixed(0)}% of bare node:http on this machine (${baseline.rps.toFixed(0)} req/s)`,
  );
  print(
    'api GET end user, latency',
    `p50 ${ours.p50.toFixed(2)} ms, p99 ${ours.p99.toFixed(2)} ms`,
    `bare node:http p50 ${baseline.p50.toFixed(2)} ms, p99 ${baseline.p99.toFixed(2)} ms`,
  );
  print('api RSS under load, peak', `${peakRss.toFixed(0)} MB`);

  // 4. `npm run demo` cold start from an empty state folder (includes initdb of the embedded PostgreSQL),
  //    then warm (second start on the same folder). The build step of `npm run demo` is not included.
  const home = mkdtempSync(join(tmpdir(), 'sb-bench-demo-'));
  for (const label of ['cold', 'warm']) {
    const demoPort = await freePort();
    const demo = startProcess(
      'cli/main.js',
      { SWITCHBOARD_HOME: home, PORT: String(demoPort), SWITCHBOARD_PG_PORT: String(await freePort()), REDIS_URL: redisUrl, DATABASE_URL: '' },
      { args: ['demo'] },
    );
    const ms = await untilOutput(demo, 'is running', 120_000);
    print(`demo start, ${label}`, `${(ms / 1000).toFixed(1)} s`, label === 'cold' ? 'empty state folder: initdb, migrations, seed, API + worker ready' : 'existing state folder');
    await stop(demo.child, 'SIGINT');
  }
  rmSync(home, { recursive: true, force: true });
});
