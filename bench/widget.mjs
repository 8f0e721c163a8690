#!/usr/bin/env node
// Widget benchmark: gzip/brotli sizes of the loader and the widget bundle, and, in Chromium, the
// time from the snippet running on a host page (another origin) to the widget's first render —
// its frame (skeleton) and the catalogue with the end user's data — cold (empty cache) and warm.
// Usage: npm run build && node bench/widget.mjs [--runs 10]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { chromiumVersion, hostApp, launchChromium } from './lib/browser.mjs';
import { pct } from './lib/measure.mjs';
import { args, kb, print, printMachine } from './lib/report.mjs';
import { root, run, scratchStack } from './lib/stack.mjs';
import { client, signIn } from './lib/tenant.mjs';

const cdn = join(root, 'embed', 'dist', 'cdn');
const { runs: RUNS } = args({ runs: 10 });

await run(async () => {
  printMachine(`PostgreSQL + Redis on the same box; Chromium ${chromiumVersion()}`);

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

  const stack = await scratchStack();
  const tenant = await stack.createTenant('Bench CRM');
  const { url } = await stack.startApi();

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
  const hostOrigin = await hostApp(() => page(token));

  // Tenant set-up as an admin would: allowed origin, a few connectors switched on.
  const owner = await signIn(url, tenant, [hostOrigin]);
  const oauth = new Set((await owner('GET', '/v1/admin/connectors')).data.filter((c) => c.authType.startsWith('oauth2')).map((c) => c.key));
  for (const key of ['slack', 'hubspot', 'github', 'notion', 'stripe', 'salesforce'])
    await owner('PUT', `/v1/admin/connectors/${key}`, { enabled: true, ...(oauth.has(key) ? { clientId: `bench-${key}`, clientSecret: 'bench-secret' } : {}) });
  const mint = async () => (await client(url, { bearer: tenant.apiKey })('POST', '/v1/sessions', { endUserId: 'bench-user' })).token;

  const browser = await launchChromium();
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
});
