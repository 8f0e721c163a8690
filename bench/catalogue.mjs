#!/usr/bin/env node
// Catalogue benchmark: the widget and the portal with a big catalogue (--connectors, default 160,
// all enabled for the tenant; a generated catalogue through CATALOGUE_DIR until the real one is that
// big). Prints the widget bundle size, the /v1/me/integrations payload and its latency, the admin
// list's, the logos' caching, and in Chromium the time to the first catalogue render and from a
// keystroke in the search box to the next frame, each against its budget.
// Usage: npm run build && node bench/catalogue.mjs [--connectors 160] [--runs 10] [--requests 200]
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromiumVersion, hostApp, launchChromium } from './lib/browser.mjs';
import { pct, sleep } from './lib/measure.mjs';
import { args, kb, ms, print, printMachine } from './lib/report.mjs';
import { atCleanup, root, run, scratchStack } from './lib/stack.mjs';
import { client, signIn } from './lib/tenant.mjs';
import { writeSyntheticCatalogue } from './synthetic-catalogue.mjs';

const cdn = join(root, 'embed', 'dist', 'cdn');
const { connectors: COUNT, runs: RUNS, requests: REQUESTS } = args({ connectors: 160, runs: 10, requests: 200 });

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

const verdict = (value, budget) => (value <= budget ? 'within budget' : 'OVER BUDGET');

await run(async () => {
  printMachine(`PostgreSQL + Redis on the same box; Chromium ${chromiumVersion()}; ${COUNT} connectors enabled`);

  const manifest = JSON.parse(readFileSync(join(cdn, 'manifest.json'), 'utf8'));
  const bundle = readFileSync(join(cdn, manifest.widget));
  const bundleGzip = gzipSync(bundle, { level: 9 }).length;
  print(
    'widget bundle',
    `${kb(bundleGzip)} gzip, ${kb(bundle.length)} raw`,
    `budget ${kb(BUDGET.widgetGzip)} gzip: ${verdict(bundleGzip, BUDGET.widgetGzip)}; no catalogue data in it`,
  );

  const catalogueDir = writeSyntheticCatalogue(COUNT);
  atCleanup(() => rmSync(catalogueDir, { recursive: true, force: true }));
  const stack = await scratchStack({ env: { CATALOGUE_DIR: catalogueDir } });
  const tenant = await stack.createTenant('Bench CRM');
  const { url } = await stack.startApi();

  let token = '';
  let expected = 0;
  const hostOrigin = await hostApp(() => hostPage(url, token, expected));

  // The tenant switches every connector on, as an admin would in the portal (OAuth ones with an app).
  const owner = await signIn(url, tenant, [hostOrigin]);
  const available = (await owner('GET', '/v1/admin/connectors')).data;
  const wanted = available.filter((c) => c.key !== 'http').slice(0, COUNT);
  expected = wanted.length;
  for (const c of wanted) {
    const oauth = c.authType.startsWith('oauth2');
    await owner('PUT', `/v1/admin/connectors/${c.key}`, { enabled: true, ...(oauth ? { clientId: `bench-${c.key}`, clientSecret: 'bench-secret' } : {}) });
  }
  const mint = async () => (await client(url, { bearer: tenant.apiKey })('POST', '/v1/sessions', { endUserId: 'bench-user' })).token;

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
  const ownerHeaders = { cookie: owner.cookie(), origin: url };
  const adminBody = Buffer.from(await (await fetch(`${url}/v1/admin/connectors`, { headers: ownerHeaders })).arrayBuffer());
  const adminTimes = await timeCalls('/v1/admin/connectors', ownerHeaders);
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

  const browser = await launchChromium();
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
    if (afterLoad > BUDGET.renderAfterLoad) process.exitCode = 1;
  }
  const [k50, k99] = [pct(keystrokes, 50), pct(keystrokes, 99)];
  print(
    'search keystroke → next frame',
    `p50 ${ms(k50)}, p99 ${ms(k99)}`,
    `${keystrokes.length} keystrokes typing names into the search box, the list filtered each time; budget p50 ${BUDGET.keystroke} ms: ${verdict(k50, BUDGET.keystroke)}`,
  );
  if (bundleGzip > BUDGET.widgetGzip || payloadGzip > BUDGET.payloadGzip || p99 > BUDGET.apiP99 || k50 > BUDGET.keystroke) process.exitCode = 1;
});

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
