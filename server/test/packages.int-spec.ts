import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startApi, TenantFixture, TestApi } from './harness';

/**
 * `@switchboard/sdk` and `@switchboard/embed` as someone outside this repository gets them: packed
 * with `npm pack`, installed from the tarballs into an empty project under the system's temp folder
 * (where nothing of the monorepo's node_modules can be found), then the README's examples run from
 * there against a real API and type-checked the way TypeScript users resolve modules.
 */

const ROOT = join(__dirname, '..', '..');
const exec = promisify(execFile);
const TSC = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');

/**
 * Run under `npm test`, this process carries npm's lifecycle variables (the monorepo as local prefix,
 * the workspace, the package's fields): the child npm must not act on the monorepo because of them.
 * Where to fetch from (registry, cache, proxies, certificates) is kept.
 */
const NPM_KEEP = /^npm_config_(registry|cache|userconfig|globalconfig|cafile|ca|strict_ssl|proxy|https_proxy|noproxy|offline|prefer_offline)$/i;
const npmEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || NPM_KEEP.test(k))) as NodeJS.ProcessEnv;

async function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = npmEnv()) {
  try {
    return await exec(command, args, { cwd, env, maxBuffer: 20 * 1024 * 1024, timeout: 120_000 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

interface Packed {
  name: string;
  filename: string;
  files: Array<{ path: string }>;
}

/**
 * `npm pack --json`. With --ignore-scripts: `npm test` has just built every package, and letting
 * prepack rebuild embed/dist here would delete files the widget tests running beside this one serve.
 */
async function pack(args: string[], cwd: string, destination: string): Promise<Packed[]> {
  const { stdout } = await run('npm', ['pack', ...args, '--pack-destination', destination, '--ignore-scripts', '--json'], cwd);
  return JSON.parse(stdout.slice(stdout.indexOf('['))) as Packed[];
}

/** Every file package.json sends a consumer to (main, module, types, each exports target) that the tarball lacks. */
function missingEntries(manifest: Record<string, any>, packed: Packed): string[] {
  const targets = new Set<string>();
  const collect = (value: unknown): void => {
    if (typeof value === 'string') targets.add(value.replace(/^\.\//, ''));
    else if (value && typeof value === 'object') Object.values(value).forEach(collect);
  };
  collect([manifest.main, manifest.module, manifest.types, manifest.exports]);
  const files = new Set(packed.files.map((f) => f.path));
  return [...targets].filter((target) => !files.has(target)).sort();
}

/** The README's examples: each ```js/```ts block of the section whose first line is `// <file> — …`. */
function readmeExamples(): Record<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Installing the SDK and widget\n');
  expect(start, 'README.md has the section "Installing the SDK and widget"').toBeGreaterThan(0);
  const section = readme.slice(start + 1, readme.indexOf('\n## ', start + 1));
  const examples: Record<string, string> = {};
  for (const match of section.matchAll(/```(?:js|ts)\n(\/\/ (\S+) —[^\n]*\n[\s\S]*?)```/g)) examples[match[2]] = match[1];
  return examples;
}

function tsconfig(moduleResolution: 'bundler' | 'node16') {
  return {
    compilerOptions: {
      target: 'ES2022',
      module: moduleResolution === 'bundler' ? 'ESNext' : 'Node16',
      moduleResolution,
      lib: ['ES2023', 'DOM', 'DOM.Iterable'],
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      // @types/node from the monorepo: the scratch project installs nothing but the two tarballs.
      typeRoots: [join(ROOT, 'node_modules', '@types')],
      types: ['node'],
    },
    files: ['integrations.ts', 'probe.ts', 'probe.cts'],
  };
}

/** Type probes: every @ts-expect-error must meet an error, so types that resolve to `any` fail the check. */
const PROBE_ESM = `import { Switchboard, SwitchboardError, verifyWebhook, type EndUser } from '@switchboard/sdk';
import { createSwitchboard, SwitchboardError as WidgetError, type SwitchboardApi } from '@switchboard/embed';

const client = new Switchboard({ secretKey: 'sk_test', baseUrl: 'https://switchboard.example.com' });
export const user: Promise<EndUser> = client.endUsers.get('customer-42');
// @ts-expect-error secretKey is a string
new Switchboard({ secretKey: 42 });
// @ts-expect-error get() resolves an EndUser, not a number
export const wrong: Promise<number> = client.endUsers.get('customer-42');
export const isError = (e: unknown) => e instanceof SwitchboardError && e.status === 404;
export const verify: typeof verifyWebhook = verifyWebhook;

const widget: SwitchboardApi = createSwitchboard({ apiUrl: 'https://switchboard.example.com', headless: true });
export const opened: void = widget.open({ connector: 'slack' });
// @ts-expect-error apiUrl is required
createSwitchboard({});
// @ts-expect-error open() returns nothing
export const openedWrong: string = widget.open();
export const widgetError = (e: unknown) => e instanceof WidgetError && e.code;
`;
const PROBE_CJS = `import { Switchboard, SwitchboardError } from '@switchboard/sdk';

const client = new Switchboard({ secretKey: 'sk_test' });
export const list = client.connections.list('customer-42');
// @ts-expect-error the first argument is an end user id
client.connections.list(42);
export const isError = (e: unknown) => e instanceof SwitchboardError;
`;

describe('the packed SDK and embed, installed into an empty project', () => {
  let workDir: string;
  let scratch: string;
  let packed: Packed[];
  let api: TestApi;
  let tenant: TenantFixture;
  let examples: Record<string, string>;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'switchboard-packages-'));
    const tarballs = join(workDir, 'tarballs');
    scratch = join(workDir, 'app');
    mkdirSync(tarballs);
    mkdirSync(scratch);
    packed = await pack(['-w', 'sdk', '-w', 'embed'], ROOT, tarballs);
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch-app', version: '1.0.0', private: true, type: 'module' }, null, 2));
    await run('npm', ['install', ...packed.map((p) => join(tarballs, p.filename)), '--prefer-offline', '--no-audit', '--no-fund'], scratch);
    examples = readmeExamples();
    for (const [file, code] of Object.entries(examples)) writeFileSync(join(scratch, file), code);
    api = await startApi();
    tenant = await createTenant(api, 'Packages Co');
  }, 240_000);

  afterAll(async () => {
    await api?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('packs both, each tarball holding every file its package.json points at and no workspace-only dependency', () => {
    expect(packed.map((p) => p.name).sort()).toEqual(['@switchboard/embed', '@switchboard/sdk']);
    for (const p of packed) {
      const manifest = JSON.parse(readFileSync(join(ROOT, p.name.replace('@switchboard/', ''), 'package.json'), 'utf8'));
      expect(missingEntries(manifest, p), `${p.name}: files package.json names but the tarball lacks`).toEqual([]);
      expect(
        Object.keys(manifest.dependencies ?? {}).filter((d) => d.startsWith('@switchboard/')),
        `${p.name}: workspace dependencies`,
      ).toEqual([]);
      expect(manifest).toMatchObject({
        license: 'Apache-2.0',
        engines: { node: expect.any(String) },
        scripts: { prepack: 'npm run build && cp ../LICENSE LICENSE', postpack: 'rm -f LICENSE' },
      });
      expect(manifest.private, `${p.name} must not be private`).toBeUndefined();
    }
    const embed = packed.find((p) => p.name === '@switchboard/embed')!;
    // The server serves the widget from the installed package's dist/cdn.
    expect(embed.files.map((f) => f.path)).toEqual(expect.arrayContaining(['dist/cdn/loader.js', 'dist/cdn/manifest.json']));
  });

  it('notices a tarball without its build output', async () => {
    const copy = join(workDir, 'sdk-without-dist');
    mkdirSync(copy);
    cpSync(join(ROOT, 'sdk', 'package.json'), join(copy, 'package.json'));
    cpSync(join(ROOT, 'sdk', 'README.md'), join(copy, 'README.md'));
    const [broken] = await pack([], copy, copy);
    expect(missingEntries(JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8')), broken)).toEqual(
      expect.arrayContaining(['dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/esm/index.js', 'dist/esm/index.d.ts']),
    );
  });

  it('resolves the packages from the scratch project, not from the monorepo', async () => {
    const { stdout } = await run(process.execPath, ['-p', "require.resolve('@switchboard/sdk') + '\\n' + require.resolve('@switchboard/embed')"], scratch);
    const [sdk, embed] = stdout.trim().split('\n');
    expect(sdk).toBe(join(scratch, 'node_modules', '@switchboard', 'sdk', 'dist', 'cjs', 'index.js'));
    expect(embed).toBe(join(scratch, 'node_modules', '@switchboard', 'embed', 'dist', 'npm', 'index.js'));
  });

  it("runs the README's SDK examples (ESM and CommonJS) against a real API", async () => {
    expect(Object.keys(examples).sort()).toEqual(['hello-switchboard.cjs', 'hello-switchboard.mjs', 'integrations.ts']);
    const env = { PATH: process.env.PATH, SWITCHBOARD_URL: api.url, SWITCHBOARD_SECRET_KEY: tenant.host.options.bearer };

    const esm = await run(process.execPath, ['hello-switchboard.mjs'], scratch, env);
    expect(esm.stdout).toMatch(/^Jane Doe \(customer-42\) may use the widget until \d{4}-\d\d-\d\dT[\d:.]+Z\n$/);
    const jane = await tenant.host.get('/v1/end-users/customer-42');
    expect(jane.status).toBe(200);
    expect(jane.body).toMatchObject({ externalId: 'customer-42', displayName: 'Jane Doe' });

    const cjs = await run(process.execPath, ['hello-switchboard.cjs'], scratch, env);
    expect(cjs.stdout).toBe('404 not_found\n');
  });

  it('loads the embed from its tarball and talks to the API with a real session token', async () => {
    const session = await tenant.host.post('/v1/sessions', { endUserId: 'customer-42' });
    expect(session.status).toBe(201);
    const script = `import { createSwitchboard, SwitchboardError } from '@switchboard/embed';
const switchboard = createSwitchboard({ apiUrl: process.env.SWITCHBOARD_URL, headless: true });
await switchboard.init({ token: process.env.SESSION_TOKEN });
const integrations = await switchboard.listIntegrations();
let refused = null;
try { createSwitchboard({}); } catch (error) { refused = error.message; }
console.log(JSON.stringify({ version: switchboard.version, integrations, refused, errorClass: typeof SwitchboardError }));
`;
    writeFileSync(join(scratch, 'embed-check.mjs'), script);
    const { stdout } = await run(process.execPath, ['embed-check.mjs'], scratch, { PATH: process.env.PATH, SWITCHBOARD_URL: api.url, SESSION_TOKEN: session.body.token });
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ version: JSON.parse(readFileSync(join(ROOT, 'embed', 'package.json'), 'utf8')).version, errorClass: 'function' });
    expect(out.refused).toMatch(/apiUrl/);
    expect(Array.isArray(out.integrations)).toBe(true);
  });

  it.each(['bundler', 'node16'] as const)(
    "type-checks the README's widget example and the packages' types with moduleResolution %s",
    async (moduleResolution) => {
      writeFileSync(join(scratch, 'probe.ts'), PROBE_ESM);
      writeFileSync(join(scratch, 'probe.cts'), PROBE_CJS);
      writeFileSync(join(scratch, `tsconfig.${moduleResolution}.json`), JSON.stringify(tsconfig(moduleResolution), null, 2));
      await run(process.execPath, [TSC, '-p', `tsconfig.${moduleResolution}.json`], scratch);
    },
    120_000,
  );
});
