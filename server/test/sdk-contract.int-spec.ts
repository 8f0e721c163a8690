import { ROUTES } from '@switchboard/sdk';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

type Operation = { security?: Array<Record<string, unknown>>; parameters?: Array<{ in: string; name: string }> };

// The SDK's types are aliases of the ones generated from this document (test/contracts.int-spec.ts
// keeps it current); what is left to check is that the SDK calls the routes it names.
const doc = JSON.parse(readFileSync(join(__dirname, '../../docs/openapi.json'), 'utf8')) as { paths: Record<string, Record<string, Operation>> };

const operation = (route: string): Operation | undefined => {
  const [method, path] = route.split(' ');
  return doc.paths[path]?.[method.toLowerCase()];
};

describe('@switchboard/sdk matches the OpenAPI document', () => {
  it('calls only routes the API has, with the secret key and their path parameters', () => {
    for (const route of Object.values(ROUTES)) {
      const op = operation(route);
      expect(op, `${route} is not in docs/openapi.json`).toBeDefined();
      expect(
        op!.security?.some((s) => 'secretKey' in s),
        `${route} does not take a secret key`,
      ).toBe(true);
      const pathParameters = (op!.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      expect(pathParameters.sort(), `${route} path parameters`).toEqual([...route.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort());
    }
  });

  it('covers every host (secret-key) operation of the API', () => {
    const covered = new Set<string>(Object.values(ROUTES));
    const missing: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const route = `${method.toUpperCase()} ${path}`;
        const hostOnly = op.security?.some((s) => 'secretKey' in s) && !op.security?.some((s) => 'endUserSession' in s);
        // The proxy's routes are covered by Switchboard.proxy(), which forwards any method and path.
        if (hostOnly && !covered.has(route) && !path.startsWith('/v1/proxy/')) missing.push(route);
      }
    }
    expect(missing).toEqual([]);
  });
});
