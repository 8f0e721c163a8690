// Builds the embed package into dist/:
//   cdn/loader.js          the script-tag loader (served at /embed/v1/loader.js, cached 5 minutes)
//   cdn/widget.<hash>.js   the widget, content-hashed (served cached for good)
//   cdn/manifest.json      which widget file is current, and the sizes
//   npm/index.js           the ESM entry of `@switchboard/embed` for hosts that bundle (preact external)
// and fails if the loader or the widget goes over its gzip budget.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
const cdn = join(dist, 'cdn');
const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

/** Bytes, gzip level 9: what the size budget counts. */
export const BUDGET = { loader: 2 * 1024, widget: 30 * 1024 };

/** styles.css becomes a minified string the shadow root adopts. */
const cssText = {
  name: 'css-text',
  setup(build) {
    build.onLoad({ filter: /\.css$/ }, async (args) => {
      const { code } = await esbuild.transform(await readFile(args.path, 'utf8'), { loader: 'css', minify: true, target: ['chrome111', 'firefox113', 'safari16.2'] });
      return { contents: `export default ${JSON.stringify(code.trim())};`, loader: 'js' };
    });
  },
};

const common = {
  absWorkingDir: root,
  bundle: true,
  minify: true,
  legalComments: 'none',
  target: ['es2020', 'chrome111', 'firefox113', 'safari16.2'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  define: { 'process.env.NODE_ENV': '"production"', __VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
  plugins: [cssText],
};

const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} kB`;

await rm(dist, { recursive: true, force: true });
await mkdir(cdn, { recursive: true });

// The widget first: the loader embeds its hashed name.
const widget = await esbuild.build({ ...common, entryPoints: ['src/cdn.ts'], format: 'iife', write: false, outfile: 'widget.js' });
const widgetCode = widget.outputFiles[0].contents;
const widgetFile = `widget.${createHash('sha256').update(widgetCode).digest('hex').slice(0, 12)}.js`;
await writeFile(join(cdn, widgetFile), widgetCode);

const loader = await esbuild.build({
  ...common,
  entryPoints: ['src/loader.ts'],
  format: 'iife',
  write: false,
  outfile: 'loader.js',
  define: { ...common.define, __WIDGET_FILE__: JSON.stringify(widgetFile) },
});
const loaderCode = loader.outputFiles[0].contents;
await writeFile(join(cdn, 'loader.js'), loaderCode);

await esbuild.build({
  ...common,
  entryPoints: ['src/npm.ts'],
  format: 'esm',
  outfile: join(dist, 'npm', 'index.js'),
  external: ['preact', 'preact/*', '@preact/signals'],
  minify: false,
});

const sizes = {
  loader: { bytes: loaderCode.length, gzip: gz(loaderCode) },
  widget: { bytes: widgetCode.length, gzip: gz(widgetCode) },
};
await writeFile(join(cdn, 'manifest.json'), JSON.stringify({ version, widget: widgetFile, loader: 'loader.js', sizes, budget: BUDGET }, null, 2) + '\n');

for (const [name, size] of Object.entries(sizes)) {
  console.log(`embed: ${name.padEnd(7)} ${kb(size.bytes).padStart(9)} (gzip ${kb(size.gzip)}, budget ${kb(BUDGET[name])})`);
}
const over = Object.entries(sizes).filter(([name, size]) => size.gzip > BUDGET[name]);
if (over.length) {
  console.error(`embed: over the size budget: ${over.map(([name, s]) => `${name} ${s.gzip} B > ${BUDGET[name]} B gzip`).join(', ')}`);
  process.exit(1);
}
