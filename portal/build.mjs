// Builds the portal into dist/: index.html plus content-hashed, minified JS and CSS under
// dist/assets/. `node build.mjs --watch` rebuilds on change (for `npm run dev`).
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
const assets = join(dist, 'assets');
/** Where the server mounts dist/ (server/src/portal). Asset URLs are absolute so deep links work. */
const BASE = '/portal/';
const watch = process.argv.includes('--watch');

/** Writes index.html (and the hashed favicon) for the files esbuild just produced. */
const htmlPlugin = {
  name: 'portal-html',
  setup(build) {
    build.onStart(async () => {
      await rm(dist, { recursive: true, force: true });
      await mkdir(assets, { recursive: true });
    });
    build.onEnd(async (result) => {
      if (result.errors.length > 0 || !result.metafile) return;
      const outputs = Object.keys(result.metafile.outputs).map((file) => relative(dist, join(root, file)));
      const js = outputs.find((file) => file.endsWith('.js'));
      const css = outputs.find((file) => file.endsWith('.css'));
      if (!js || !css) throw new Error(`expected one JS and one CSS output, got ${outputs.join(', ')}`);

      const favicon = await readFile(join(root, 'src', 'favicon.svg'));
      const faviconName = `assets/favicon-${createHash('sha256').update(favicon).digest('hex').slice(0, 8)}.svg`;
      await writeFile(join(dist, faviconName), favicon);

      // No inline script or style: the server sends a CSP with script-src 'self' and style-src 'self'.
      const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>Switchboard</title>
<link rel="icon" type="image/svg+xml" href="${BASE}${faviconName}">
<link rel="stylesheet" href="${BASE}${css}">
<script type="module" src="${BASE}${js}"></script>
</head>
<body>
<noscript><p class="noscript">The Switchboard portal needs JavaScript.</p></noscript>
<div id="app"></div>
</body>
</html>
`;
      await writeFile(join(dist, 'index.html'), html);

      for (const file of [js, css]) {
        const bytes = await readFile(join(dist, file));
        console.log(`portal: ${basename(file).padEnd(28)} ${kb(bytes.length)} (gzip ${kb(gzipSync(bytes, { level: 9 }).length)})`);
      }
    });
  },
};

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} kB`;

const options = {
  absWorkingDir: root,
  entryPoints: { portal: 'src/main.tsx' },
  outdir: assets,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  bundle: true,
  minify: !watch,
  sourcemap: watch ? 'inline' : false,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  define: { 'process.env.NODE_ENV': watch ? '"development"' : '"production"' },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  plugins: [htmlPlugin],
};

if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
  console.log('portal: watching src/ for changes');
} else {
  await esbuild.build(options);
}
