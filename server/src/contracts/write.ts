import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildContracts, REPO_ROOT } from './contracts';

/**
 * `npm run contracts`: writes docs/openapi.json and the types generated from it (the SDK's, which the portal imports too).
 * With --check, writes nothing and fails naming the files that differ (test/contracts.int-spec.ts).
 * Run compiled (tsc), as the server runs: another compiler may emit other decorator metadata.
 */
async function main(check: boolean): Promise<number> {
  const stale: string[] = [];
  for (const [path, text] of await buildContracts()) {
    const file = join(REPO_ROOT, path);
    if (check) {
      if (readFileSync(file, 'utf8') !== text) stale.push(path);
    } else {
      writeFileSync(file, text);
      console.log(`wrote ${path}`);
    }
  }
  if (stale.length) console.error(`Out of date: ${stale.join(', ')}; run npm run contracts`);
  return stale.length ? 1 : 0;
}

main(process.argv.includes('--check')).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
