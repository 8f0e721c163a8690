import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * docs/architecture.md is the repository's picture of itself ("where code and this document
 * disagree, fix one of them in the same change"): what it names must exist, and a new feature
 * module or table must be added to it.
 */
const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const doc = read('docs/architecture.md');
const quoted = [...new Set([...doc.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]))];

/** Sources the document's class, interface and decorator names must come from. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts'))
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));
}

describe('docs/architecture.md', () => {
  it('names only paths that exist (from the repository root, server/src or docs)', () => {
    // A path: has a slash, no spaces, placeholders, globs or URL routes (those start with `/`).
    const paths = quoted.filter((q) => q.includes('/') && !/^[/@.]|[\s<>*…:?&]/.test(q));
    expect(paths.length).toBeGreaterThan(30);
    const missing = paths.filter((p) => !['', 'server/src', 'docs'].some((base) => existsSync(join(ROOT, base, p))));
    expect(missing).toEqual([]);
  });

  it('names only classes, interfaces and decorators the code exports', () => {
    const code = [...sources('server/src'), ...sources('connectors/src')].join('\n');
    const names = quoted.flatMap((q) => q.match(/^@?([A-Z][a-z]+[A-Z]\w*|[A-Z][a-z]+)(?:\(\w*\))?$/)?.[1] ?? []);
    expect(names.length).toBeGreaterThan(15);
    const unknown = names.filter((name) => !new RegExp(`export (?:abstract )?(?:class|interface|type|function|const) ${name}\\b`).test(code));
    expect(unknown).toEqual([]);
  });

  it('lists every feature module of server/src', () => {
    const modules = readdirSync(join(ROOT, 'server/src'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => `${e.name}/`);
    expect(modules.length).toBeGreaterThan(20);
    expect(modules.filter((m) => !quoted.includes(m))).toEqual([]);
  });

  it('lists every table the migrations create, and no other', () => {
    const created = [
      ...new Set(
        readdirSync(join(ROOT, 'migrations/src'))
          .filter((f) => /^\d+-.+\.ts$/.test(f))
          .flatMap((f) => [...read(`migrations/src/${f}`).matchAll(/CREATE TABLE (\w+)/g)].map((m) => m[1])),
      ),
    ];
    expect(created.length).toBeGreaterThan(20);
    const paragraph = doc.slice(doc.indexOf('\nTables: '), doc.indexOf('\n\n', doc.indexOf('\nTables: ')));
    const listed = [...paragraph.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
    expect([...listed].sort()).toEqual([...created].sort());
  });

  it('links only to files and headings that exist', () => {
    const anchor = (heading: string) =>
      heading
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-');
    const links = [...doc.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
    expect(links.length).toBeGreaterThan(10);
    for (const link of links) {
      const [target, hash] = link.split('#');
      const file = target ? join('docs', target) : 'docs/architecture.md';
      expect(existsSync(join(ROOT, file)), link).toBe(true);
      if (hash)
        expect(
          [...read(file).matchAll(/^#+ (.+)$/gm)].map((m) => anchor(m[1])),
          link,
        ).toContain(hash);
    }
  });
});
