import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');
const document = JSON.parse(readFileSync(join(ROOT, 'docs/openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, { responses: Record<string, Response> }>>;
};

type Response = { content?: Record<string, { schema?: unknown }>; headers?: Record<string, unknown> };

/** A success answer with a schema (any content type), a 204 without a body, or a redirect that names where. */
const documentsSuccess = (responses: Record<string, Response>) =>
  Object.entries(responses).some(
    ([status, response]) =>
      status === '204' || (status.startsWith('2') && Object.values(response.content ?? {}).some((c) => c.schema)) || (status.startsWith('3') && response.headers?.Location),
  );

describe('contracts: docs/openapi.json and the types generated from it', () => {
  it('are what the code declares (the compiled server, as it runs)', async () => {
    const check = promisify(execFile)(process.execPath, [join(__dirname, '../dist/contracts/write.js'), '--check']);
    await expect(check.catch((error: { stderr: string }) => Promise.reject(new Error(error.stderr)))).resolves.toBeDefined();
  });

  it('document every operation’s success answer', () => {
    const undocumented = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, operation]) => !documentsSuccess(operation.responses))
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(undocumented, 'document these answers (@ApiOkResponse({ type: SomeView }), or a content type for other answers)').toEqual([]);
  });
});
