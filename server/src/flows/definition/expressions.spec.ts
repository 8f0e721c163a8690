import { beforeEach, describe, expect, it } from 'vitest';
import {
  analyzeExpression,
  Bindings,
  clearExpressionCache,
  compileExpression,
  compileTemplate,
  containsExpression,
  evaluate,
  evaluateTemplate,
  EXPRESSION_LIMITS,
  ExpressionError,
  expressionCacheSize,
  isExpression,
  literalValue,
} from './expressions';

const bindings = (over: Partial<Bindings> = {}): Bindings => ({
  trigger: {
    name: 'Acme Corp',
    amount: 25000,
    items: [
      { sku: 'a', qty: 2 },
      { sku: 'b', qty: 3 },
    ],
  },
  inputs: { channel: 'C123', minAmount: 10000 },
  steps: { post: { channel: 'C123', ts: '1700000000.000100' } },
  endUser: { id: 'eu_1', externalId: 'user-42', email: 'jane@acme.test' },
  run: { id: 'run_1', startedAt: '2030-01-01T00:00:00.000Z' },
  ...over,
});

async function failure(promise: Promise<unknown>): Promise<ExpressionError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ExpressionError);
    return error as ExpressionError;
  }
  throw new Error('expected the evaluation to fail');
}

describe('literals and expressions', () => {
  it('tells expressions from literals', () => {
    expect(isExpression('=a')).toBe(true);
    expect(isExpression('= a')).toBe(true);
    expect(isExpression('==a')).toBe(false);
    expect(isExpression('a=b')).toBe(false);
    expect(isExpression('')).toBe(false);
    expect(isExpression('=')).toBe(true);
    expect(isExpression(5)).toBe(false);
    expect(isExpression(null)).toBe(false);
  });

  it('keeps literals as they are, "==" escaping a literal "="', async () => {
    expect(await evaluate('hello', bindings())).toBe('hello');
    expect(await evaluate('==x', bindings())).toBe('=x');
    expect(await evaluate('===x', bindings())).toBe('==x');
    expect(await evaluate('a = b', bindings())).toBe('a = b');
    expect(await evaluate('', bindings())).toBe('');
    for (const v of [0, 1.5, true, false, null]) expect(await evaluate(v, bindings())).toBe(v);
  });

  it('evaluates an expression string', async () => {
    expect(await evaluate("='Deal ' & $trigger.name & ' won'", bindings())).toBe('Deal Acme Corp won');
    expect(await evaluate('=$trigger.amount >= $inputs.minAmount', bindings())).toBe(true);
    expect(await evaluate('=$sum($trigger.items.qty)', bindings())).toBe(5);
    expect(await evaluate('=$trigger.items[qty > 2].sku', bindings())).toBe('b');
  });

  it('finds and resolves expressions in templates', () => {
    expect(containsExpression({ a: [1, { b: '=x' }] })).toBe(true);
    expect(containsExpression({ a: [1, { b: '==x' }] })).toBe(false);
    expect(literalValue({ a: ['==x', 'y', 1, null] })).toEqual({ a: ['=x', 'y', 1, null] });
  });
});

describe('templates', () => {
  it('evaluates every expression in nested objects and arrays, leaving literals', async () => {
    const template = {
      text: "='Deal ' & $trigger.name & ' won: $' & $trigger.amount",
      channel: '=$inputs.channel',
      literal: 'as is',
      escaped: '==not an expression',
      n: 3,
      flag: false,
      nothing: null,
      nested: { list: ['=$trigger.amount > 10000', 'x', ['=$steps.post.ts', 7]], deeper: { sku: '=$trigger.items[0].sku' } },
    };
    expect(await evaluate(template, bindings())).toEqual({
      text: 'Deal Acme Corp won: $25000',
      channel: 'C123',
      literal: 'as is',
      escaped: '=not an expression',
      n: 3,
      flag: false,
      nothing: null,
      nested: { list: [true, 'x', ['1700000000.000100', 7]], deeper: { sku: 'a' } },
    });
  });

  it('drops undefined values from objects and turns them into null in arrays', async () => {
    expect(await evaluate({ a: '=$trigger.missing', b: 1 }, bindings())).toEqual({ b: 1 });
    expect(await evaluate(['=$trigger.missing', 1], bindings())).toEqual([null, 1]);
    expect(await evaluate('=$trigger.missing', bindings())).toBeUndefined();
    expect(await evaluate('={"a": $trigger.missing, "b": [1, $trigger.missing]}', bindings())).toEqual({ b: [1] });
  });

  it('returns plain JSON: fresh objects and arrays, never the template or the bindings themselves', async () => {
    const template = { fixed: { a: [1, 2] }, copy: '=$trigger' };
    const b = bindings();
    const out = (await evaluate(template, b)) as { fixed: unknown; copy: Record<string, unknown> };
    expect(out.fixed).toEqual({ a: [1, 2] });
    expect(out.fixed).not.toBe(template.fixed);
    expect(out.copy).toEqual(b.trigger);
    expect(out.copy).not.toBe(b.trigger);
    const seq = (await evaluate('=$trigger.items.sku', b)) as unknown[];
    expect(seq).toEqual(['a', 'b']);
    expect(Object.keys(seq)).toEqual(['0', '1']); // no JSONata sequence flags
    const obj = await evaluate('={"x": 1}', b);
    expect(Object.getPrototypeOf(obj)).toBe(Object.prototype);
    expect(await evaluate('=1/0 > 0 ? 1 : 0', b)).toBe(1);
  });

  it('compiles a template once per template object', () => {
    const template = { a: '=$trigger.name', b: ['x'] };
    expect(compileTemplate(template)).toBe(compileTemplate(template));
    expect(compileTemplate(template).isStatic).toBe(false);
    expect(compileTemplate({ a: 1, b: ['==x'] }).isStatic).toBe(true);
  });

  it('is also exported as evaluateTemplate', () => {
    expect(evaluateTemplate).toBe(evaluate);
  });
});

describe('bindings', () => {
  it('exposes $trigger, $inputs, $steps, $endUser, $run', async () => {
    expect(await evaluate({ t: '=$trigger.name', i: '=$inputs.channel', s: '=$steps.post.ts', e: '=$endUser.externalId', r: '=$run.id' }, bindings())).toEqual({
      t: 'Acme Corp',
      i: 'C123',
      s: '1700000000.000100',
      e: 'user-42',
      r: 'run_1',
    });
  });

  it('exposes $item and $index inside loops', async () => {
    expect(await evaluate("=$item.sku & '#' & $index", bindings({ item: { sku: 'z' }, index: 4 }))).toBe('z#4');
  });

  it('gives the root context the same keys', async () => {
    expect(await evaluate('=trigger.name', bindings())).toBe('Acme Corp');
    expect(await evaluate('=$.inputs.channel', bindings())).toBe('C123');
  });

  it('can tell a missing step from a finished one', async () => {
    expect(await evaluate('=$exists($steps.nope)', bindings())).toBe(false);
    expect(await evaluate('=$exists($steps.post)', bindings())).toBe(true);
  });
});

describe('plain binding paths', () => {
  it('are recognised', () => {
    expect(compileExpression('=$inputs.channel').kind).toBe('path');
    expect(compileExpression('=$steps.post.body.ts').kind).toBe('path');
    expect(compileExpression('=$steps.`post`.ts').kind).toBe('path');
    expect(compileExpression('=$trigger').kind).toBe('path');
    for (const other of ['=$trigger.items[0]', '=$trigger.items.sku[]', '=$foo.bar', '=trigger.name', '=$trigger.a & ""', '=$trigger.*', '=$trigger.items@$i.sku']) {
      expect(compileExpression(other).kind).toBe('jsonata');
    }
  });

  it('give exactly what JSONata gives, whatever the data', async () => {
    const trigger = {
      s: 'x',
      n: 0,
      nil: null,
      obj: { a: { b: 1 }, list: [1, 2], deep: [{ k: 1 }, { k: [2, 3] }] },
      list: [{ k: 1 }, { k: 2 }],
      nested: [[1, 2], [3]],
      one: [{ k: 'only' }],
      empty: [],
    };
    const paths = [
      's',
      's.x',
      'n',
      'nil',
      'nil.x',
      'obj',
      'obj.a',
      'obj.a.b',
      'obj.a.b.c',
      'obj.list',
      'obj.deep',
      'obj.deep.k',
      'list',
      'list.k',
      'nested',
      'one',
      'one.k',
      'empty',
      'empty.k',
      'missing',
      'missing.x',
      'constructor',
      'obj.toString',
      's.length',
    ];
    const b = bindings({ trigger });
    for (const p of paths) {
      const source = `=$trigger.${p}`;
      const viaJsonata = await jsonataResult(source.slice(1), b);
      expect({ p, value: await evaluate(source, b) }).toEqual({ p, value: viaJsonata });
    }
    expect(await evaluate('=$item', bindings({ item: [1, 2] }))).toEqual([1, 2]);
    expect(await evaluate('=$index', bindings({ index: 0 }))).toBe(0);
  });
});

/** The same expression through JSONata with a non-path wrapper (so the fast path cannot apply). */
async function jsonataResult(source: string, b: Bindings): Promise<unknown> {
  return evaluate(`=(${source})`, b);
}

describe('errors', () => {
  it('reports syntax errors with the expression, JSONata message, code and position', () => {
    let error: unknown;
    try {
      compileExpression("='Deal ' & $trigger.name &");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExpressionError);
    expect(error).toMatchObject({
      message: 'Invalid expression: Unexpected end of expression (S0207 at position 25)',
      expression: "'Deal ' & $trigger.name &",
      code: 'S0207',
      position: 25,
    });
  });

  it('rejects (not throws) from evaluate on a syntax error, with the path in the template', async () => {
    const promise = evaluate({ a: [{ b: '=(' }] }, bindings());
    expect(promise).toBeInstanceOf(Promise);
    const error = await failure(promise);
    expect(error.path).toBe('a.0.b');
    expect(error.code).toBe('S0203');
  });

  it('refuses an empty expression', () => {
    expect(() => compileExpression('=  ')).toThrow('Invalid expression: it is empty');
  });

  it('reports run-time errors with the expression and JSONata message', async () => {
    const error = await failure(evaluate({ text: "='x' & $error('deal has no name')" }, bindings()));
    expect(error.message).toBe(`Expression "='x' & $error('deal has no name')" failed: deal has no name (D3137 at position 13)`);
    expect(error.path).toBe('text');
    const typeError = await failure(evaluate('=$trigger.name + 1', bindings()));
    expect(typeError.message).toBe('Expression "=$trigger.name + 1" failed: The left side of the "+" operator must evaluate to a number (T2001 at position 15)');
    expect(typeError.code).toBe('T2001');
  });

  it('refuses a function as a result', async () => {
    const error = await failure(evaluate('=$uppercase', bindings()));
    expect(error.message).toBe('Expression "=$uppercase" evaluated to a function, not a JSON value');
  });

  it('stops a runaway expression (timeout)', async () => {
    const started = Date.now();
    const error = await failure(evaluate('=($loop := function($x) { $loop($x) }; $loop(0))', bindings()));
    expect(error.code).toBe('expression_timeout');
    expect(error.message).toBe('Expression "=($loop := function($x) { $loop($x) }; $loop(0))" ran longer than the 1000 ms an evaluation may take');
    expect(Date.now() - started).toBeLessThan(EXPRESSION_LIMITS.timeoutMs * 5);
  });

  it('stops unbounded recursion (depth guard)', async () => {
    const error = await failure(evaluate('=($f := function($x) { $x = 0 ? 0 : 1 + $f($x - 1) }; $f(100000))', bindings()));
    expect(error.code).toBe('D1011');
  });
});

describe('compile cache', () => {
  beforeEach(() => clearExpressionCache());

  it('compiles a source once, with or without its "="', () => {
    const a = compileExpression('=$trigger.name');
    expect(compileExpression('$trigger.name')).toBe(a);
    expect(compileExpression('=$trigger.name')).toBe(a);
    expect(a.source).toBe('$trigger.name');
    expect(expressionCacheSize()).toBe(1);
  });

  it(`keeps at most ${EXPRESSION_LIMITS.cacheSize} expressions, evicting the least recently used`, () => {
    const first = compileExpression('=0');
    const second = compileExpression('=1');
    for (let i = 2; i < EXPRESSION_LIMITS.cacheSize; i++) compileExpression(`=${i}`);
    expect(expressionCacheSize()).toBe(EXPRESSION_LIMITS.cacheSize);
    expect(compileExpression('=0')).toBe(first); // used again: now the most recent
    compileExpression('=extra');
    expect(expressionCacheSize()).toBe(EXPRESSION_LIMITS.cacheSize);
    expect(compileExpression('=0')).toBe(first);
    expect(compileExpression('=1')).not.toBe(second); // was the least recently used: evicted and compiled anew
  });

  it('does not cache failures', () => {
    expect(() => compileExpression('=(')).toThrow(ExpressionError);
    expect(expressionCacheSize()).toBe(0);
  });
});

describe('analyzeExpression', () => {
  it('lists free variables and $var.member paths', () => {
    expect(analyzeExpression("='Deal ' & $trigger.name & $inputs.channel & $steps.post.ts")).toEqual({
      variables: [
        { name: 'trigger', position: 18, call: false },
        { name: 'inputs', position: 33, call: false },
        { name: 'steps', position: 50, call: false },
      ],
      members: [
        { variable: 'trigger', member: 'name', position: 23 },
        { variable: 'inputs', member: 'channel', position: 41 },
        { variable: 'steps', member: 'post', position: 55 },
      ],
    });
  });

  it('leaves out built-ins, local variables, lambda parameters, focus and index variables, and $ / $$', () => {
    const analysis = analyzeExpression('=($n := 2; $f := function($x) { $x * $n }; $map($trigger.items@$it#$i, function($v) { $f($i) }) ~> $count() & $.a & $$.b)');
    expect(analysis.variables.map((v) => v.name)).toEqual(['trigger']);
  });

  it('marks function calls', () => {
    expect(analyzeExpression('=$nope(1)').variables).toEqual([{ name: 'nope', position: 5, call: true }]);
  });
});
