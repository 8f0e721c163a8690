#!/usr/bin/env node
// Expression benchmark: what evaluating flow expressions costs (JSONata, compiled once and cached),
// and what validating a definition costs. Pure CPU, no services. Prints one line per measure.
// evaluate() runs JSONata in the sandbox (child processes): "sandbox round trip" = evaluate − evaluateInProcess.
// Usage: npm run build && node bench/expressions.mjs [--iterations 20000] [--runs 9]
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { median } from './lib/measure.mjs';
import { args, print, printMachine } from './lib/report.mjs';
import { root } from './lib/stack.mjs';

const require = createRequire(join(root, 'server', 'package.json'));
const dist = join(root, 'server', 'dist', 'flows', 'definition');
const { compileExpression, evaluate, evaluateInProcess } = require(join(dist, 'expressions.js'));
const { validateDefinition } = require(join(dist, 'validate-definition.js'));
const { wonDealsToSlack, benchmarkReferenceFlow } = require(join(dist, 'fixtures.js'));
const jsonata = require('jsonata');

const { iterations: N, runs: RUNS } = args({ iterations: 20000, runs: 9 });

/** µs per call of `fn` over `n` calls. */
async function timed(fn, n) {
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  return Number(process.hrtime.bigint() - started) / 1000 / n;
}

/**
 * Runs every measure round-robin (one warm-up round, then RUNS rounds) so JIT and GC state is shared
 * fairly, as in a worker evaluating many expressions; reports each measure's median.
 */
async function measureAll(measures) {
  const samples = measures.map(() => []);
  for (let round = 0; round <= RUNS; round++) {
    for (const [i, m] of measures.entries()) {
      const us = await timed(m.fn, m.n ?? N);
      if (round > 0) samples[i].push(us);
    }
  }
  return measures.map((m, i) => ({ ...m, us: median(samples[i]) }));
}

const bindings = {
  trigger: { name: 'Acme Corp', amount: 25000 },
  inputs: { channel: 'C123', minAmount: 10000 },
  steps: { text: { text: 'Deal Acme Corp won: $25000' }, post: { status: 200, body: { ok: true, ts: '1.2' } } },
  endUser: { id: 'eu_1', externalId: 'user-42' },
  run: { id: 'run_1', startedAt: new Date().toISOString() },
};

printMachine('no services: pure CPU in this process (and the sandbox child processes of evaluate())');
console.log(`config: ${N} calls per measure per round (500 for compile/validate), measures interleaved, median of ${RUNS} rounds after a warm-up round`);

const SIMPLE = "='Deal ' & $trigger.name & ' won'";
const simple = compileExpression(SIMPLE);
if ((await simple.evaluate(bindings)) !== 'Deal Acme Corp won') throw new Error('unexpected result');

let fresh = 0;
const raw = jsonata(SIMPLE.slice(1));
const actionInput = { channel: '=$inputs.channel', text: "='Deal ' & $trigger.name & ' won'" };
const result = { status: 'big', text: '=$steps.text.text', ok: '=$steps.post.body.ok', ts: '=$steps.post.body.ts' };
const condition = '=$trigger.amount > 10000';
const staticTemplate = { channel: 'C123', text: 'hello', blocks: [{ type: 'section' }] };
const ns = (us) => `${(us * 1000).toFixed(0)} ns`;
const µs = (us) => `${us.toFixed(2)} µs`;

/** Sandboxed measures cost a round trip each: fewer calls. */
const S = Math.min(N, 2000);
const bigBindings = {
  ...bindings,
  steps: { ...bindings.steps, fetch: { rows: Array.from({ length: 1000 }, (_, i) => ({ id: i, name: `row ${i}`, tags: ['a', 'b'], amount: i * 10 })) } },
};
const bigKb = (JSON.stringify(bigBindings).length / 1024).toFixed(0);

const results = await measureAll([
  { name: 'evaluate cached simple expression', fn: () => evaluate(SIMPLE, bindings), n: S, show: µs, note: `${SIMPLE}, in the sandbox` },
  { name: '  same, in-process (evaluateInProcess)', fn: () => evaluateInProcess(SIMPLE, bindings), show: µs, note: 'no sandbox round trip' },
  { name: `  same, sandbox, ${bigKb} KB of bindings`, fn: () => evaluate(SIMPLE, bigBindings), n: Math.min(S, 500), show: µs },
  { name: '  same, compiled expression held', fn: () => simple.evaluate(bindings), show: µs },
  { name: '  same, raw jsonata (no guards, no JSON copy)', fn: () => raw.evaluate(bindings, bindings), show: µs },
  { name: 'cache lookup (compileExpression, hit)', fn: () => compileExpression(SIMPLE), show: ns },
  { name: 'compile a new expression (miss)', fn: () => compileExpression(`='Deal ' & $trigger.name & ' #${fresh++}'`), n: 500, show: µs },
  { name: 'evaluate plain binding path', fn: () => evaluate('=$steps.post.body.ts', bindings), show: µs, note: '=$steps.post.body.ts, read without JSONata' },
  { name: 'evaluate branch condition', fn: () => evaluate(condition, bindings), n: S, show: µs, note: condition },
  { name: 'evaluate action input template (2 exprs)', fn: () => evaluate(actionInput, bindings), n: S, show: µs, note: 'one round trip' },
  { name: 'evaluate result template (3 exprs, 1 literal)', fn: () => evaluate(result, bindings), n: S, show: µs, note: 'paths only: in-process' },
  { name: 'evaluate template without expressions', fn: () => evaluate(staticTemplate, bindings), show: µs },
  { name: 'validateDefinition (ARCHITECTURE reference)', fn: () => validateDefinition(wonDealsToSlack()), n: 500, show: µs },
  { name: 'validateDefinition (BENCHMARKS reference)', fn: () => validateDefinition(benchmarkReferenceFlow()), n: 500, show: µs },
]);
for (const r of results) print(r.name, r.show(r.us), r.note);

// Not awaited: the idle children are unref'ed, so the loop can empty before their 'exit' comes (node then exits 13 on the unsettled await).
void require(join(dist, 'expression-sandbox.js')).stopExpressionSandbox();
