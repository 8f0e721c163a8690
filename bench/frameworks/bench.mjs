// Usage: node bench.mjs [runs=3] [n=5000] [conc=10] [variants=raw,express,express-nolog,fastify,fastify-nolog]
import { fork, execSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const RUNS = +(process.argv[2] || 3),
  N = +(process.argv[3] || 5000),
  CONC = +(process.argv[4] || 10),
  WARM = 1000;
const ALL = {
  raw: { file: 'dist/raw.js', env: {} },
  express: { file: 'dist/nest.js', env: { ADAPTER: 'express', LOGGER: '1' } },
  'express-nolog': { file: 'dist/nest.js', env: { ADAPTER: 'express', LOGGER: '0' } },
  'express-nolog-noetag': { file: 'dist/nest.js', env: { ADAPTER: 'express', LOGGER: '0', ETAG: '0' } },
  fastify: { file: 'dist/nest.js', env: { ADAPTER: 'fastify', LOGGER: '1' } },
  'fastify-nolog': { file: 'dist/nest.js', env: { ADAPTER: 'fastify', LOGGER: '0' } },
};
const VARIANTS = (process.argv[5] || 'raw,express,express-nolog,fastify,fastify-nolog').split(',');
const CLK = +execSync('getconf CLK_TCK').toString().trim();
const BASE = 'http://127.0.0.1:4200';
const ROUTES = { ping: '/v1/ping', proxy: '/v1/proxy/T123/auth.test' };
const HDR = { authorization: 'Bearer k_test_123' };
mkdirSync('logs', { recursive: true });

function cpuMs(pid) {
  // utime+stime (fields 14,15), all threads of the process
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return ((+f[11] + +f[12]) * 1000) / CLK;
}
const statusKb = (pid, k) => +readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(k + ':\\s+(\\d+)'))[1];
const start = (file, env) =>
  new Promise((res, rej) => {
    const c = fork(file, [], { env: { ...process.env, NODE_ENV: 'production', ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    c.once('message', () => res(c));
    c.once('exit', (code) => rej(new Error(file + ' exited ' + code)));
  });
const stop = (c) =>
  new Promise((r) => {
    c.removeAllListeners('exit');
    c.once('exit', r);
    c.kill('SIGTERM');
  });

async function load(url, n) {
  const lat = new Float64Array(n);
  let i = 0,
    bad = 0;
  const worker = async () => {
    while (true) {
      const k = i++;
      if (k >= n) return;
      const t = performance.now();
      const r = await fetch(url, { headers: HDR });
      await r.arrayBuffer();
      lat[k] = performance.now() - t;
      if (r.status !== 200) bad++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONC }, worker));
  const wall = performance.now() - t0;
  lat.sort();
  return { rps: (n / wall) * 1000, p50: lat[Math.floor(n * 0.5)], p99: lat[Math.floor(n * 0.99)], bad };
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s[s.length >> 1];
};
const results = {}; // variant -> route -> [{...}]
const up = await start('upstream.mjs', {});
for (let run = 1; run <= RUNS; run++) {
  for (const v of VARIANTS) {
    const logFile = `logs/${v}.log`;
    rmSync(logFile, { force: true });
    const srv = await start(ALL[v].file, { ...ALL[v].env, LOG_FILE: process.cwd() + '/' + logFile });
    const pid = srv.pid;
    const r401 = await fetch(BASE + ROUTES.ping);
    await r401.arrayBuffer();
    if (r401.status !== 401) throw new Error(v + ' auth check not enforced');
    for (const path of Object.values(ROUTES)) await load(BASE + path, WARM);
    for (const [name, path] of Object.entries(ROUTES)) {
      const c0 = cpuMs(pid);
      const m = await load(BASE + path, N);
      m.cpu = (cpuMs(pid) - c0) / N;
      (results[v] ??= {})[name] ??= [];
      results[v][name].push(m);
      if (m.bad) console.error(`!! ${v} ${name}: ${m.bad} non-200`);
    }
    const rss = statusKb(pid, 'VmHWM') / 1024;
    for (const name of Object.keys(ROUTES)) results[v][name].at(-1).rss = rss;
    await stop(srv);
    const p = results[v];
    console.error(
      `run ${run} ${v.padEnd(14)} ping ${p.ping.at(-1).rps.toFixed(0)} rps ${p.ping.at(-1).cpu.toFixed(3)} cpu-ms | proxy ${p.proxy.at(-1).rps.toFixed(0)} rps ${p.proxy.at(-1).cpu.toFixed(3)} cpu-ms | rss ${rss.toFixed(0)}MB`,
    );
  }
}
await stop(up);
let out = `# ${N} req/route, concurrency ${CONC}, warmup ${WARM}/route, median of ${RUNS} interleaved runs, CLK_TCK=${CLK}\n`;
for (const name of Object.keys(ROUTES)) {
  out += `\n## GET ${ROUTES[name]}\n| variant | CPU ms/req | req/s | p50 ms | p99 ms | RSS peak MB |\n|---|---|---|---|---|---|\n`;
  for (const v of VARIANTS) {
    const a = results[v][name],
      md = (k) => median(a.map((x) => x[k]));
    out += `| ${v} | ${md('cpu').toFixed(3)} | ${md('rps').toFixed(0)} | ${md('p50').toFixed(2)} | ${md('p99').toFixed(2)} | ${md('rss').toFixed(0)} |\n`;
  }
}
console.log(out);
const tag = process.env.TAG || 'results';
writeFileSync(tag + '.md', out);
writeFileSync(tag + '.json', JSON.stringify(results, null, 1));
