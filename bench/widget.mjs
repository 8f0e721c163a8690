#!/usr/bin/env node
// Widget benchmark: gzip/brotli sizes of the loader and the widget bundle, and, in Chromium, the
// time from the snippet running on a host page (another origin) to the widget's first render —
// its frame (skeleton) and the catalogue with the end user's data — cold (empty cache) and warm.
// Usage: npm run build && node bench/widget.mjs [--runs 10]
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import pg from 'pg';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'server', 'dist');
const cdn = join(root, 'embed', 'dist', 'cdn');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const RUNS = Number(values.runs);
const adminUrl = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
const print = (measure, value, extra = '') => console.log(`${measure.padEnd(34)} ${value}${extra ? `  (${extra})` : ''}`);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () =>
  new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

console.log(
  `machine: ${cpus().length} cores (${cpus()[0].model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; Chromium ${execFileSync(CHROMIUM, ['--version']).toString().trim()}`,
);

// Sizes: what a host page downloads.
const manifest = JSON.parse(readFileSync(join(cdn, 'manifest.json'), 'utf8'));
for (const [name, file] of [
  ['loader', 'loader.js'],
  ['widget', manifest.widget],
]) {
  const bytes = readFileSync(join(cdn, file));
  const gz = gzipSync(bytes, { level: 9 }).length;
  print(`${name} size`, `${kb(gz)} gzip`, `${kb(bytes.length)} minified, ${kb(brotliCompressSync(bytes).length)} brotli; budget ${kb(manifest.budget[name])} gzip`);
}

const database = `sb_bench_${Date.now().toString(36)}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);
const env = {
  ...process.env,
  DATABASE_URL: Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString(),
  REDIS_URL: redisUrl,
  REDIS_PREFIX: `sbbench:${randomBytes(3).toString('hex')}`,
  MASTER_KEY: randomBytes(32).toString('base64'),
  LOG_LEVEL: 'warn',
  NODE_ENV: 'production',
};
let api;
let host;
let browser;
try {
  execFileSync(process.execPath, [join(dist, 'cli/main.js'), 'migrate', 'up'], { env, stdio: 'ignore' });
  const email = `bench-${randomBytes(3).toString('hex')}@example.test`;
  const password = `pw-${randomBytes(9).toString('hex')}`;
  const created = JSON.parse(
    execFileSync(process.execPath, [join(dist, 'cli/main.js'), 'create-tenant', '--name', 'Bench CRM', '--email', email, '--password', password, '--api-key', 'bench'], {
      env,
    }).toString(),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  api = spawn(process.execPath, [join(dist, 'main.js')], { env: { ...env, PORT: String(port), PUBLIC_URL: url }, stdio: 'ignore' });
  for (;;) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      /* not yet */
    }
    await sleep(20);
  }

  // The host app on another origin: the snippet plus an inline mount, and a mark when the snippet runs.
  const page = (token) => `<!doctype html><html><head><title>Host</title><script>
performance.mark('snippet');
// Marks when the widget's element appears, when its frame is in the DOM, and when the catalogue is.
new MutationObserver((_, outer) => {
  const host = document.querySelector('switchboard-widget');
  if (!host || !host.shadowRoot) return;
  outer.disconnect();
  performance.mark('mounted');
  const check = () => {
    const root = host.shadowRoot;
    if (!performance.getEntriesByName('frame').length && root.querySelector('.frame')) performance.mark('frame');
    if (root.querySelector('.card')) { performance.mark('catalogue'); inner.disconnect(); }
  };
  const inner = new MutationObserver(check);
  inner.observe(host.shadowRoot, { childList: true, subtree: true });
  check();
}).observe(document, { childList: true, subtree: true });
(function(w,d,s,u){w.Switchboard=w.Switchboard||function(){(w.Switchboard.q=w.Switchboard.q||[]).push(arguments)};var j=d.createElement(s);j.async=1;j.src=u;d.head.appendChild(j)})(window,document,'script','${url}/embed/v1/loader.js');
Switchboard('init', { token: ${JSON.stringify(token)} });
Switchboard('mount', '#inline');
</script></head><body><div id="inline"></div></body></html>`;
  let token = '';
  host = createHttpServer((req, res) => res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' }).end(page(token)));
  await new Promise((r) => host.listen(0, 'localhost', r));
  const hostOrigin = `http://localhost:${host.address().port}`;

  // Tenant set-up as an admin would: allowed origin, a few connectors switched on.
  const login = await fetch(`${url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ email, password }) });
  const cookie = login.headers
    .getSetCookie()
    .find((c) => c.startsWith('sb_session='))
    .split(';')[0];
  const asOwner = (method, path, body) => fetch(url + path, { method, headers: { cookie, origin: url, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!(await asOwner('PATCH', '/v1/admin/tenant', { allowedOrigins: [hostOrigin] })).ok) throw new Error('could not set allowed origins');
  for (const key of ['slack', 'hubspot', 'github', 'notion', 'stripe', 'salesforce']) await asOwner('PUT', `/v1/admin/connectors/${key}`, { enabled: true });
  const mint = async () => {
    const res = await fetch(`${url}/v1/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${created.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ endUserId: 'bench-user' }),
    });
    return (await res.json()).token;
  };

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  /** ms from the snippet running to each mark (set by the page as the DOM changes) and to the end of each download. */
  const measure = (p) =>
    p.evaluate(
      () =>
        new Promise((done) => {
          const at = (name) => performance.getEntriesByName(name)[0]?.startTime;
          const wait = () => {
            if (at('catalogue') === undefined) return setTimeout(wait, 10);
            const start = at('snippet');
            const res = (name) => performance.getEntriesByType('resource').find((e) => e.name.includes(name))?.responseEnd - start;
            done({ loader: res('loader.js'), widget: res('/widget.'), ready: at('mounted') - start, frame: at('frame') - start, catalogue: at('catalogue') - start });
          };
          wait();
        }),
    );

  // The four calls the widget makes to draw the catalogue, from Node (no browser, no CORS): the API's share.
  const calls = ['/v1/me/widget-config', '/v1/me/integrations', '/v1/me/flows', '/v1/me/approvals?status=pending'];
  const apiTimes = Object.fromEntries(calls.map((c) => [c, []]));
  const bearer = { authorization: `Bearer ${await mint()}` };
  for (let i = 0; i < 20; i++) {
    for (const c of calls) {
      const t0 = performance.now();
      await (await fetch(url + c, { headers: bearer })).arrayBuffer();
      apiTimes[c].push(performance.now() - t0);
    }
  }
  print('widget API calls, p50', calls.map((c) => `${c.split('?')[0].slice(7)} ${pct(apiTimes[c], 50).toFixed(1)} ms`).join(', '), 'one after another from Node, 20 each');

  const results = { cold: [], warm: [] };
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext();
    const tab = await context.newPage();
    token = await mint();
    await tab.goto(hostOrigin);
    results.cold.push(await measure(tab));
    token = await mint();
    await tab.goto(hostOrigin); // same context: loader (5 min) and widget (immutable) come from the cache
    results.warm.push(await measure(tab));
    await context.close();
  }
  for (const [label, runs] of Object.entries(results)) {
    const of = (k) => runs.map((r) => r[k]);
    print(
      `first render, ${label}`,
      `p50 ${pct(of('catalogue'), 50).toFixed(0)} ms, p90 ${pct(of('catalogue'), 90).toFixed(0)} ms`,
      `snippet → catalogue with data; loader downloaded ${pct(of('loader'), 50).toFixed(0)} ms, widget downloaded ${pct(of('widget'), 50).toFixed(0)} ms, mounted ${pct(of('ready'), 50).toFixed(0)} ms, frame seen ${pct(of('frame'), 50).toFixed(0)} ms (p50s); ${RUNS} runs`,
    );
  }
} finally {
  await browser?.close();
  host?.close();
  api?.kill();
  await sleep(300);
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}
