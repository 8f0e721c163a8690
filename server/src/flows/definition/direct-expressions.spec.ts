import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { compileDirect, NOT_FOUND } from './direct-expressions';
import { BINDING_NAMES, LOOP_BINDING_NAMES } from './expressions';

const bindings = {
  trigger: { name: 'Acme Corp', amount: 25000, small: 12.5, zero: 0, neg: -3, float: 0.1, big: 1e21, empty: '', yes: true, no: false, nothing: null, obj: { a: 1 }, list: [1, 2] },
  inputs: { channel: 'C1', count: 3 },
  steps: { post: { ts: '1.2', ok: true }, skipped: {} },
  endUser: { id: 'u1', email: null },
  run: { id: 'r1' },
};

/** JSONata's own answer, as the engine would see it (undefined, a value, or an error). */
async function viaJsonata(expression: string): Promise<{ value: unknown } | { error: string }> {
  try {
    return { value: await jsonata(expression).evaluate(bindings, bindings as never) };
  } catch (error) {
    return { error: (error as { code?: string }).code ?? String(error) };
  }
}

function direct(expression: string): unknown {
  const compiled = compileDirect(jsonata(expression).ast());
  return compiled ? compiled(bindings) : NOT_FOUND;
}

const OPERANDS = [
  '$trigger.name',
  '$trigger.amount',
  '$trigger.small',
  '$trigger.zero',
  '$trigger.neg',
  '$trigger.float',
  '$trigger.big',
  '$trigger.empty',
  '$trigger.yes',
  '$trigger.no',
  '$trigger.nothing',
  '$trigger.missing',
  '$trigger.obj',
  '$trigger.list',
  '$steps.post',
  '$steps.skipped',
  '$steps.post.ts',
  '$inputs.count',
  "'text'",
  '10000',
  '2.5',
  'true',
  'null',
];
const BINARY = ['&', '+', '-', '*', '/', '%', '=', '!=', '<', '<=', '>', '>=', 'and', 'or'];

/** A small deterministic generator (mulberry32), so a failure names a case that can be run again. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function expression(next: () => number, depth: number): string {
  const pick = <T>(list: T[]) => list[Math.floor(next() * list.length)];
  const choice = depth <= 0 ? 0 : next();
  if (choice < 0.35) return pick(OPERANDS);
  if (choice < 0.7) return `(${expression(next, depth - 1)} ${pick(BINARY)} ${expression(next, depth - 1)})`;
  if (choice < 0.8) return `${expression(next, depth - 1)} ? ${expression(next, depth - 1)} : ${expression(next, depth - 1)}`;
  if (choice < 0.87) return `$exists(${expression(next, depth - 1)})`;
  if (choice < 0.94) return `$string(${expression(next, depth - 1)})`;
  return `-${pick(OPERANDS)}`;
}

describe('direct expressions', () => {
  it('starts paths from the bindings the engine provides', () => {
    for (const root of [...BINDING_NAMES, ...LOOP_BINDING_NAMES]) expect(compileDirect(jsonata(`$${root}.x`).ast())).toBeDefined();
  });

  it("answers the reference flow's expressions in this process, as JSONata does", async () => {
    for (const source of [
      "'Deal ' & $trigger.name & ' won: $' & $string($trigger.amount)",
      '$trigger.amount > 10000',
      "$exists($steps.post) ? 'posted' : 'skipped'",
      '$exists($steps.post.ts)',
    ]) {
      const value = direct(source);
      expect(value, source).not.toBe(NOT_FOUND);
      expect(await viaJsonata(source)).toEqual({ value });
    }
  });

  it('leaves to JSONata what is outside the subset', () => {
    for (const source of [
      '$trigger.list[0]',
      '$sum($trigger.list)',
      '$trigger.list',
      '$string($trigger.obj)',
      '$trigger.obj = $trigger.obj',
      "$trigger.name = 'Acme Corp' and $trigger.list",
      '$trigger.yes + 1',
      '$trigger.yes > 1',
    ]) {
      expect(direct(source), source).toBe(NOT_FOUND);
    }
  });

  it('agrees with JSONata on 3,000 generated expressions whenever it answers', async () => {
    const next = random(20261207);
    let answered = 0;
    for (let i = 0; i < 3000; i++) {
      const source = expression(next, 3);
      const value = direct(source);
      if (value === NOT_FOUND) continue;
      answered++;
      // JSONata returns numbers and strings as they are; the engine serialises both the same way.
      expect(await viaJsonata(source), source).toEqual({ value });
    }
    // The subset covers most of these forms: a direct evaluator that answered nothing would pass trivially.
    expect(answered).toBeGreaterThan(1000);
  });

  it('leaves long strings to the sandbox, whose memory is bounded', () => {
    const long = { ...bindings, trigger: { s: 'x'.repeat(40_000) } };
    const compiled = compileDirect(jsonata('$trigger.s & $trigger.s').ast())!;
    expect(compiled(long)).toBe(NOT_FOUND);
  });
});
