import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * docs/self-hosting.md names variables, commands and metrics an operator will type or alert on:
 * each must exist in the code, and every variable the server reads must be in the README's table.
 */
const ROOT = join(__dirname, '..', '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const guide = read('docs/self-hosting.md');

/** The variables `loadConfig` reads: the fields of its Environment class. */
function configVariables(): string[] {
  const source = read('server/src/config/app-config.ts');
  const body = source.slice(source.indexOf('class Environment {'), source.indexOf('\n}\n', source.indexOf('class Environment {')));
  return [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]+)[!?]?(?::| =)/gm)].map((m) => m[1]);
}

/** The local runner's own variables, read by the CLI's demo/dev stack and the demo app. */
function localRunnerVariables(): string[] {
  const sources = ['server/src/cli/local-stack.ts', 'connectors/src/sandbox/main.ts', 'demo-host-app/src/main.ts'].map(read).join('\n');
  return [...sources.matchAll(/process\.env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]);
}

describe('docs/self-hosting.md', () => {
  it('names only variables the processes read', () => {
    const known = new Set([...configVariables(), ...localRunnerVariables()]);
    expect(known.size).toBeGreaterThan(40);
    const named = [...new Set([...guide.matchAll(/`([A-Z][A-Z0-9]*_[A-Z0-9_]+|HOST|PORT)`/g)].map((m) => m[1]))];
    expect(named.length).toBeGreaterThan(15);
    expect(named.filter((name) => !known.has(name))).toEqual([]);
  });

  it('the README documents every variable the configuration reads', () => {
    const readme = read('README.md');
    expect(configVariables().filter((name) => !readme.includes(`| \`${name}\``) && !readme.includes(`/ \`${name}\``))).toEqual([]);
  });

  it('shows only CLI commands the CLI has', () => {
    const usage = read('server/src/cli/main.ts');
    const commands = [...guide.matchAll(/node server\/dist\/cli\/main\.js ([a-z-]+(?: [a-z]+)?)/g)].map((m) => m[1]);
    expect(commands.length).toBeGreaterThan(5);
    for (const command of new Set(commands)) {
      const [name, sub] = command.split(' ');
      expect(usage, `switchboard ${command}`).toMatch(new RegExp(`\\n  ${name}${['migrate', 'vault'].includes(name) && sub ? ` ${sub}` : ''}\\b`));
    }
    for (const flag of [...guide.matchAll(/main\.js (?:create-tenant|migrate down)[^\n`]*/g)].flatMap((m) => [...m[0].matchAll(/--([a-z-]+)/g)].map((f) => f[1]))) {
      expect(usage, `--${flag}`).toContain(`--${flag}`);
    }
  });

  it('starts processes and npm scripts that exist', () => {
    for (const [, file] of guide.matchAll(/node (server\/dist\/[a-z-]+\.js|bench\/[a-z-]+\.mjs)/g)) {
      expect(existsSync(join(ROOT, file.replace(/^server\/dist\/(.*)\.js$/, 'server/src/$1.ts'))), file).toBe(true);
    }
    const server = JSON.parse(read('server/package.json')).scripts;
    const root = JSON.parse(read('package.json')).scripts;
    for (const [, script] of guide.matchAll(/npm (?:run )?([a-z:]+) -w server/g)) expect(server, script).toHaveProperty([script]);
    for (const [, script] of guide.matchAll(/npm run ([a-z:]*[a-z])(?![a-z:])(?! -w)/g)) expect(root, script).toHaveProperty([script]);
  });

  it('names only metrics the API serves', () => {
    const sources = ['server/src/metrics/metrics.ts', 'server/src/webhooks/webhook-metrics.ts'].map(read).join('\n');
    const metrics = [
      ...new Set([...guide.matchAll(/`([a-z]+(?:_[a-z]+)+)(?:\{[^`]*\})?`/g)].map((m) => m[1]).filter((name) => /_(total|seconds|jobs)$/.test(name) || name === 'queue_jobs')),
    ];
    expect(metrics.length).toBeGreaterThanOrEqual(5);
    for (const name of metrics) expect(sources, name).toContain(`name: '${name}'`);
  });

  it('links only to files and headings that exist', () => {
    for (const [, target] of guide.matchAll(/\]\(([^)#]+\.md)(?:#([^)]+))?\)/g)) {
      expect(existsSync(join(ROOT, 'docs', target)), target).toBe(true);
    }
    const anchor = (heading: string) =>
      heading
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-');
    for (const [, target, hash] of guide.matchAll(/\]\(([^)#]*)#([^)]+)\)/g)) {
      const text = target ? read(join('docs', target)) : guide;
      const headings = [...text.matchAll(/^#+ (.+)$/gm)].map((m) => anchor(m[1]));
      expect(headings, `${target || 'self-hosting.md'}#${hash}`).toContain(hash);
    }
  });
});
