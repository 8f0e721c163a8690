#!/usr/bin/env node
// Catalogue benchmark: the widget and the portal with a big catalogue (--connectors, default 160,
// all enabled for the tenant; a generated catalogue through CATALOGUE_DIR until the real one is that
// big). Prints the widget bundle size, the /v1/me/integrations payload and its latency, the admin
// list's, the logos' caching, and in Chromium the time to the first catalogue render and from a
// keystroke in the search box to the next frame, each against its budget.
// Usage: npm run build && node bench/catalogue.mjs [--connectors 160] [--runs 10] [--requests 200]
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { writeSyntheticCatalogue } from './synthetic-catalogue.mjs';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'server', 'dist');
const cdn = join(root, 'embed', 'dist', 'cdn');
const { values } = parseArgs({
  options: { connectors: { type: 'string', default: '160' }, runs: { type: 'string', default: '10' }, requests: { type: 'string', default: '200' } },
});
const COUNT = Number(values.connectors);
const RUNS = Number(values.runs);
const REQUESTS = Number(values.requests);
const adminUrl = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * The budgets: sizes and first render from the original brief's benchmark targets ("loader ≤ 2 KB gzip, UI ≤ 30 KB
 * gzip, first render ≤ 100 ms after load"); the rest are ours: a keystroke answered within one
 * 60 Hz frame and a half (the list must feel instant), the catalogue call as cheap as the widget's
 * other reads, its payload well under one round trip's worth of TCP windows.
 */
const BUDGET = {
  widgetGzip: 30 * 1024,
  payloadGzip: 14 * 1024,
  apiP99: 50,
  renderAfterLoad: 100,
  keystroke: 25,
};

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
const verdict = (value, budget) => (value <= budget ? 'within budget' : 'OVER BUDGET');
const print = (measure, value, extra = '') => console.log(`${measure.padEnd(36)} ${value}${extra ? `  (${extra})` : ''}`);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const ms = (n) => `${n.toFixed(1)} ms`;
const sleep = (t) => new Promise((r) => setTimeout(r, t));
const freePort = () =>
  new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

console.log(
  `machine: ${cpus().length} cores, load ${loadavg()[0].toFixed(1)} (${cpus()[0].model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; Chromium ${execFileSync(CHROMIUM, ['--version']).toString().trim()}; ${COUNT} connectors enabled`,
);

const manifest = JSON.parse(readFileSync(join(cdn, 'manifest.json'), 'utf8'));
const bundle = readFileSync(join(cdn, manifest.widget));
const bundleGzip = gzipSync(bundle, { level: 9 }).length;
print(
  'widget bundle',
  `${kb(bundleGzip)} gzip, ${kb(bundle.length)} raw`,
  `budget ${kb(BUDGET.widgetGzip)} gzip: ${verdict(bundleGzip, BUDGET.widgetGzip)}; no catalogue data in it`,
);

const catalogueDir = writeSyntheticCatalogue(COUNT);
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
  CATALOGUE_DIR: catalogueDir,
};
let api;
let host;
let browser;
let failed = false;
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

  let token = '';
  let expected = 0;
  host = createHttpServer((req, res) => res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' }).end(hostPage(url, token, expected)));
  await new Promise((r) => host.listen(0, 'localhost', r));
  const hostOrigin = `http://localhost:${host.address().port}`;

  // The tenant switches every connector on, as an admin would in the portal (OAuth ones with an app).
  const login = await fetch(`${url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ email, password }) });
  const cookie = login.headers
    .getSetCookie()
    .find((c) => c.startsWith('sb_session='))
    .split(';')[0];
  const asOwner = (method, path, body) => fetch(url + path, { method, headers: { cookie, origin: url, 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  if (!(await asOwner('PATCH', '/v1/admin/tenant', { allowedOrigins: [hostOrigin] })).ok) throw new Error('could not set allowed origins');
  const available = (await (await asOwner('GET', '/v1/admin/connectors')).json()).data;
  const wanted = available.filter((c) => c.key !== 'http').slice(0, COUNT);
  expected = wanted.length;
  for (const c of wanted) {
    const oauth = c.authType.startsWith('oauth2');
    const res = await asOwner('PUT', `/v1/admin/connectors/${c.key}`, { enabled: true, ...(oauth ? { clientId: `bench-${c.key}`, clientSecret: 'bench-secret' } : {}) });
    if (!res.ok) throw new Error(`could not enable ${c.key}: ${res.status} ${await res.text()}`);
  }
  const mint = async () => {
    const res = await fetch(`${url}/v1/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${created.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ endUserId: 'bench-user' }),
    });
    return (await res.json()).token;
  };

  // The catalogue call: payload and latency, from Node, one after another.
  const bearer = { authorization: `Bearer ${await mint()}` };
  const first = await fetch(`${url}/v1/me/integrations`, { headers: bearer });
  const body = Buffer.from(await first.arrayBuffer());
  const items = JSON.parse(body.toString()).data;
  if (items.length !== wanted.length) throw new Error(`the widget lists ${items.length} connectors, not ${wanted.length}`);
  const payloadGzip = gzipSync(body).length;
  print(
    'integrations payload',
    `${kb(body.length)} raw, ${kb(payloadGzip)} gzip`,
    `${items.length} connectors, ${(body.length / items.length).toFixed(0)} B each; budget ${kb(BUDGET.payloadGzip)} gzip: ${verdict(payloadGzip, BUDGET.payloadGzip)}; Content-Encoding ${first.headers.get('content-encoding') ?? 'none'}, ETag ${first.headers.get('etag') ? 'yes' : 'no'}`,
  );
  const timeCalls = async (path, headers) => {
    const times = [];
    for (let i = 0; i < REQUESTS + 20; i++) {
      const t0 = performance.now();
      await (await fetch(url + path, { headers })).arrayBuffer();
      if (i >= 20) times.push(performance.now() - t0); // the first 20 warm the JIT
    }
    return times;
  };
  const apiTimes = await timeCalls('/v1/me/integrations', bearer);
  const [p50, p99] = [pct(apiTimes, 50), pct(apiTimes, 99)];
  print(
    'GET /v1/me/integrations',
    `p50 ${ms(p50)}, p99 ${ms(p99)}`,
    `${REQUESTS} calls; budget p99 ${BUDGET.apiP99} ms: ${verdict(p99, BUDGET.apiP99)} (compare p50 with --connectors 10 on the same machine: the list's own cost)`,
  );
  const etag = first.headers.get('etag');
  if (etag) {
    const again = await fetch(`${url}/v1/me/integrations`, { headers: { ...bearer, 'if-none-match': etag } });
    print('revalidated catalogue', `${again.status}`, `${(await again.arrayBuffer()).byteLength} B body with If-None-Match`);
  }
  const adminBody = Buffer.from(await (await asOwner('GET', '/v1/admin/connectors')).arrayBuffer());
  const adminTimes = await timeCalls('/v1/admin/connectors', { cookie, origin: url });
  print(
    'GET /v1/admin/connectors',
    `p50 ${ms(pct(adminTimes, 50))}, p99 ${ms(pct(adminTimes, 99))}`,
    `${kb(adminBody.length)} raw, ${kb(gzipSync(adminBody).length)} gzip; the portal's list of ${available.length}`,
  );
  const urls = [...new Set(items.map((i) => i.logoUrl).filter(Boolean))];
  const logo = urls.length ? await fetch(urls[0]) : null;
  print(
    'logos',
    `${items.filter((i) => i.monogram).length} monograms drawn by the widget, ${urls.length} image URLs`,
    logo ? `Cache-Control ${logo.headers.get('cache-control')}; ${(await logo.arrayBuffer()).byteLength} B` : 'no image to fetch',
  );

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const results = { cold: [], warm: [] };
  const keystrokes = [];
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const tab = await context.newPage();
    token = await mint();
    await tab.goto(hostOrigin);
    results.cold.push(await measureRender(tab));
    token = await mint();
    await tab.goto(hostOrigin); // same context: loader, bundle and logos from the HTTP cache
    results.warm.push(await measureRender(tab));
    keystrokes.push(...(await measureKeystrokes(tab, items)));
    await context.close();
  }
  for (const [label, runs] of Object.entries(results)) {
    const of = (k) => runs.map((r) => r[k]);
    const afterLoad = pct(of('afterLoad'), 50);
    print(
      `first catalogue render, ${label}`,
      `p50 ${pct(of('catalogue'), 50).toFixed(0)} ms, p90 ${pct(of('catalogue'), 90).toFixed(0)} ms`,
      `snippet → all ${items.length} cards with data; first render ${afterLoad.toFixed(0)} ms p50 after the widget bundle and the catalogue call finished loading (budget ${BUDGET.renderAfterLoad} ms: ${verdict(afterLoad, BUDGET.renderAfterLoad)}), every card ${pct(of('everyCardAfterLoad'), 50).toFixed(0)} ms; ${RUNS} runs`,
    );
    if (afterLoad > BUDGET.renderAfterLoad) failed = true;
  }
  const [k50, k99] = [pct(keystrokes, 50), pct(keystrokes, 99)];
  print(
    'search keystroke → next frame',
    `p50 ${ms(k50)}, p99 ${ms(k99)}`,
    `${keystrokes.length} keystrokes typing names into the search box, the list filtered each time; budget p50 ${BUDGET.keystroke} ms: ${verdict(k50, BUDGET.keystroke)}`,
  );
  if (bundleGzip > BUDGET.widgetGzip || payloadGzip > BUDGET.payloadGzip || p99 > BUDGET.apiP99 || k50 > BUDGET.keystroke) failed = true;
} finally {
  await browser?.close();
  host?.close();
  api?.kill();
  await sleep(300);
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
  rmSync(catalogueDir, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;

/** The host app on another origin: the snippet, an inline mount, and marks as the widget appears. */
function hostPage(api, token, expected) {
  return `<!doctype html><html><head><title>Host</title><script>
performance.mark('snippet');
window.expected = ${expected};
new MutationObserver((_, outer) => {
  const host = document.querySelector('switchboard-widget');
  if (!host || !host.shadowRoot) return;
  outer.disconnect();
  const check = () => {
    const cards = host.shadowRoot.querySelectorAll('.card').length;
    // First render: the first cards with data (bench/widget.mjs's mark); then every card mounted.
    if (cards > 0 && !performance.getEntriesByName('firstRender').length) performance.mark('firstRender');
    if (cards >= window.expected) { performance.mark('catalogue'); inner.disconnect(); }
  };
  const inner = new MutationObserver(check);
  inner.observe(host.shadowRoot, { childList: true, subtree: true });
  check();
}).observe(document, { childList: true, subtree: true });
(function(w,d,s,u){w.Switchboard=w.Switchboard||function(){(w.Switchboard.q=w.Switchboard.q||[]).push(arguments)};var j=d.createElement(s);j.async=1;j.src=u;d.head.appendChild(j)})(window,document,'script','${api}/embed/v1/loader.js');
Switchboard('init', { token: ${JSON.stringify(token)} });
Switchboard('mount', '#inline');
</script></head><body><div id="inline"></div></body></html>`;
}

/** ms from the snippet to every card on screen, and from the last of the bundle and the catalogue call arriving to that. */
async function measureRender(tab) {
  return tab.evaluate(
    () =>
      new Promise((done) => {
        const wait = () => {
          const at = (name) => performance.getEntriesByName(name)[0]?.startTime;
          if (at('catalogue') === undefined) return setTimeout(wait, 10);
          const start = at('snippet');
          const end = (part) => performance.getEntriesByType('resource').find((e) => e.name.includes(part))?.responseEnd ?? start;
          const loaded = Math.max(end('/widget.'), end('/v1/me/integrations'), end('/v1/me/flows'), end('/v1/me/widget-config'), end('/v1/me/approvals'));
          done({ catalogue: at('catalogue') - start, afterLoad: at('firstRender') - loaded, everyCardAfterLoad: at('catalogue') - loaded });
        };
        wait();
      }),
  );
}

/**
 * Types names into the search box key by key; for each key, the time from the keydown event to
 * the frame after the list re-rendered (requestAnimationFrame, then a task: the paint has happened).
 */
async function measureKeystrokes(tab, items) {
  await tab.evaluate(() => {
    const input = document.querySelector('switchboard-widget').shadowRoot.querySelector('input[type=search]');
    window.keystrokes = [];
    input.addEventListener('keydown', (e) => {
      const t0 = e.timeStamp;
      requestAnimationFrame(() => setTimeout(() => window.keystrokes.push(performance.now() - t0)));
    });
  });
  const search = tab.locator('switchboard-widget input[type=search]');
  const at = (share) => items[Math.floor(share * (items.length - 1))].name;
  for (const word of [at(0.05), at(0.25), at(0.6), 'ma']) {
    await search.fill('');
    for (const ch of word.slice(0, 6)) {
      await search.press(ch === ' ' ? 'Space' : ch);
      await sleep(20);
    }
  }
  await sleep(100);
  return tab.evaluate(() => window.keystrokes);
}
