import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(__dirname, '../..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('the OpenAPI document', () => {
  // Swagger names a schema after its class and keeps one per name: a second class of that name
  // silently replaces the first one's schema everywhere it is used.
  it('gets every schema class under a name no other class has', () => {
    const where = new Map<string, string[]>();
    for (const path of files(SRC)) {
      const text = readFileSync(path, 'utf8');
      if (!text.includes('@ApiProperty')) continue;
      for (const [, name] of text.matchAll(/^(?:export )?class (\w+)/gm)) where.set(name, [...(where.get(name) ?? []), relative(SRC, path)]);
    }
    expect(where.size).toBeGreaterThan(100);
    expect([...where].filter(([, paths]) => paths.length > 1)).toEqual([]);
  });
});
