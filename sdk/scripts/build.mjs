// Builds the CommonJS (dist/cjs) and ESM (dist/esm) outputs from the same sources.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
rmSync(new URL('../tsconfig.tsbuildinfo', import.meta.url), { force: true });
for (const project of ['tsconfig.json', 'tsconfig.esm.json']) execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit', cwd: new URL('..', import.meta.url) });
// Node reads .js under dist/esm as ESM because of this marker (the package itself is CommonJS by default).
writeFileSync(new URL('../dist/esm/package.json', import.meta.url), JSON.stringify({ type: 'module' }) + '\n');
