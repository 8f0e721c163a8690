// Writes dist/types/ (the declarations of `@switchboard/embed`) and makes them resolve under every
// TypeScript module resolution a host may use. The sources import each other without extensions
// ('./widget'), which `moduleResolution: bundler` accepts but `node16`/`nodenext` do not in an ES
// module package (TS2834, and the types silently become `any` with skipLibCheck). So after tsc,
// every relative specifier in the .d.ts files is rewritten to the file it means ('./widget.js',
// './ui/index.js'); a specifier that matches no declaration file fails the build. The API's types
// come from the SDK's generated declarations, copied in as api.gen.d.ts, so the published package
// depends on nothing of ours.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const out = join(root, 'dist', 'types');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit', cwd: root });
const API_TYPES = '@switchboard/sdk/api';
copyFileSync(
  createRequire(import.meta.url)
    .resolve('@switchboard/sdk/api')
    .replace(/\.js$/, '.d.ts'),
  join(out, 'api.gen.d.ts'),
);

/** `from './x'`, `import('./x')`, `import './x'`, `export * from './x'`. */
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*)\2/g;
const problems = [];

function rewrite(file) {
  const text = readFileSync(file, 'utf8');
  const apiTypes = relative(dirname(file), join(out, 'api.gen.js')).replace(/^(?!\.)/, './');
  const local = text.replaceAll(`'${API_TYPES}'`, `'${apiTypes}'`).replaceAll(`"${API_TYPES}"`, `"${apiTypes}"`);
  const fixed = local.replace(SPECIFIER, (whole, lead, quote, spec) => {
    if (spec.endsWith('.js')) return whole;
    const base = join(dirname(file), spec);
    const target = existsSync(`${base}.d.ts`) ? `${spec}.js` : existsSync(join(base, 'index.d.ts')) ? `${spec}/index.js` : null;
    if (!target) {
      problems.push(`${relative(root, file)}: '${spec}' matches no declaration file`);
      return whole;
    }
    return `${lead}${quote}${target}${quote}`;
  });
  if (fixed !== text) writeFileSync(file, fixed);
}

function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.name.endsWith('.d.ts')) rewrite(path);
  }
}

walk(out);
if (problems.length) {
  console.error(`embed: declarations with unresolvable imports:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
