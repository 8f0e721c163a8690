import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

/** Tests that drive Chromium: the `browser` project (slower, and they need `chromium` installed). */
export const BROWSER_TESTS = [
  'test/**/*-browser.int-spec.ts',
  'test/portal.int-spec.ts',
  'test/portal-areas.int-spec.ts',
  'test/portal-approvals.int-spec.ts',
  'test/demo-journey.int-spec.ts',
];

const database = { globalSetup: ['test/global-setup.ts'] };

// SWC compiles the tests because NestJS needs decorator metadata, which esbuild does not emit.
// Three projects: `unit` (src/**/*.spec.ts, no services), `integration` (real PostgreSQL, Redis,
// HTTP and child processes) and `browser` (the same plus Chromium). `npm test` runs all three;
// `npx vitest run --project unit` runs one.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    setupFiles: ['reflect-metadata'],
    testTimeout: 60_000,
    // Two cores: more parallel files only make the browser and multi-process tests race for CPU.
    maxWorkers: 2,
    hookTimeout: 60_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.spec.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/**/*.int-spec.ts'], exclude: BROWSER_TESTS, ...database } },
      { extends: true, test: { name: 'browser', include: BROWSER_TESTS, ...database } },
    ],
  },
});
