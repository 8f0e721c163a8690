import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildContracts, REPO_ROOT } from './contracts';

// `npm run contracts`: writes docs/openapi.json and the SDK's and portal's types generated from it.
buildContracts()
  .then((files) => {
    for (const [path, text] of files) {
      writeFileSync(join(REPO_ROOT, path), text);
      console.log(`wrote ${path}`);
    }
  })
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
