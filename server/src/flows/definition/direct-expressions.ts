/**
 * Expressions evaluated in this process, without JSONata or the sandbox: plain binding paths and a
 * small, bounded subset built on them — literals, `&`, arithmetic, comparisons, `and`/`or`, `? :`,
 * `$exists` and `$string` of scalars. Each form follows JSONata's own rules (jsonata.js: string
 * concatenation through `$string`, comparisons false on undefined, `fn.boolean` for conditions),
 * and anything outside them — arrays, objects where JSONata would stringify or compare them, type
 * errors, non-finite numbers, long strings — answers NOT_FOUND, so JSONata in the sandbox decides
 * (and reports its errors). The subset has no loops or calls back into tenant code, so its time is
 * bounded by the expression's size, and its memory by MAX_DIRECT_STRING.
 */
import type jsonata from 'jsonata';

export const NOT_FOUND = Symbol('not-found');

/** The roots an expression may start a path from. */
const PATH_ROOTS = new Set(['trigger', 'inputs', 'steps', 'endUser', 'run', 'item', 'index']);
/** Longest string `&` builds here; longer ones are left to the sandbox's memory bound. */
const MAX_DIRECT_STRING = 64 * 1024;

/** A compiled direct evaluation: the value (undefined when JSONata gives nothing), or NOT_FOUND. */
export type Direct = (bindings: object) => unknown;

type Node = {
  type: string;
  value?: unknown;
  steps?: Node[];
  lhs?: Node;
  rhs?: Node;
  condition?: Node;
  then?: Node;
  else?: Node;
  expression?: Node;
  procedure?: Node;
  arguments?: Node[];
};

/** Whether the node has no property but these (and its type and position; one left undefined counts as absent). */
function onlyKeys(node: Node, keys: string[]): boolean {
  return Object.keys(node).every((k) => k === 'type' || k === 'position' || keys.includes(k) || (node as Record<string, unknown>)[k] === undefined);
}

/** `[variable, ...names]` when the AST is `$variable.name.name…` and nothing else, else undefined. */
export function plainPath(root: jsonata.ExprNode): string[] | undefined {
  const ast = root as unknown as Node;
  const plain = (node: Node, type: string) => node.type === type && typeof node.value === 'string' && onlyKeys(node, ['value']);
  if (plain(ast, 'variable') && PATH_ROOTS.has(ast.value as string)) return [ast.value as string];
  if (ast.type !== 'path' || !Array.isArray(ast.steps) || !onlyKeys(ast, ['steps'])) return undefined;
  const [head, ...rest] = ast.steps;
  if (!head || !plain(head, 'variable') || !PATH_ROOTS.has(head.value as string) || !rest.every((n) => plain(n, 'name'))) return undefined;
  return [head.value as string, ...rest.map((n) => n.value as string)];
}

/** Follows a plain path through plain objects; NOT_FOUND when JSONata's semantics are needed. */
export function readPath(bindings: object, path: string[]): unknown {
  let value: unknown = (bindings as Record<string, unknown>)[path[0]];
  for (let i = 1; i < path.length; i++) {
    if (value === null || value === undefined || typeof value !== 'object') return typeof value === 'function' ? NOT_FOUND : undefined;
    if (Array.isArray(value) || !Object.prototype.hasOwnProperty.call(value, path[i])) {
      if (Array.isArray(value)) return NOT_FOUND;
      // A missing key is undefined for JSONata too, unless an inherited property would be found.
      if (path[i] in (value as object)) return NOT_FOUND;
      return undefined;
    }
    value = (value as Record<string, unknown>)[path[i]];
  }
  return Array.isArray(value) || typeof value === 'function' ? NOT_FOUND : value;
}

/** JSONata's `$string` of a scalar (numbers to 15 significant digits); NOT_FOUND for anything else. */
function scalarString(value: unknown): string | typeof NOT_FOUND {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(Number(value.toPrecision(15))) : NOT_FOUND;
  if (typeof value === 'boolean' || value === null) return String(value);
  return NOT_FOUND;
}

/** JSONata's `fn.boolean`, where it needs no array handling; NOT_FOUND otherwise. */
function truthy(value: unknown): boolean | typeof NOT_FOUND {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return value.length > 0;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'object' && !Array.isArray(value)) return Object.keys(value).length > 0;
  return NOT_FOUND;
}

const ARITHMETIC: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => a % b,
};
const ORDER: Record<string, (a: string | number, b: string | number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function binary(op: string, lhs: Direct, rhs: Direct): Direct | undefined {
  if (op === '&') {
    return (b) => {
      const l = lhs(b);
      if (l === NOT_FOUND) return NOT_FOUND;
      const r = rhs(b);
      if (r === NOT_FOUND) return NOT_FOUND;
      const ls = l === undefined ? '' : scalarString(l);
      const rs = r === undefined ? '' : scalarString(r);
      if (ls === NOT_FOUND || rs === NOT_FOUND || ls.length + rs.length > MAX_DIRECT_STRING) return NOT_FOUND;
      return ls + rs;
    };
  }
  if (op === 'and' || op === 'or') {
    // Short-circuits like JSONata: the right side is evaluated only when it decides.
    return (b) => {
      const l = lhs(b);
      if (l === NOT_FOUND) return NOT_FOUND;
      const lt = truthy(l);
      if (lt === NOT_FOUND) return NOT_FOUND;
      if (op === 'and' ? !lt : lt) return lt;
      const r = rhs(b);
      return r === NOT_FOUND ? NOT_FOUND : truthy(r);
    };
  }
  const both = (b: object): [unknown, unknown] | undefined => {
    const l = lhs(b);
    if (l === NOT_FOUND) return undefined;
    const r = rhs(b);
    return r === NOT_FOUND ? undefined : [l, r];
  };
  const arithmetic = ARITHMETIC[op];
  if (arithmetic) {
    return (b) => {
      const v = both(b);
      if (!v) return NOT_FOUND;
      const [l, r] = v;
      // A non-number is JSONata's T2001/T2002: left to it, so its error is the one reported.
      if ((l !== undefined && typeof l !== 'number') || (r !== undefined && typeof r !== 'number')) return NOT_FOUND;
      if (l === undefined || r === undefined) return undefined;
      const result = arithmetic(l as number, r as number);
      return Number.isFinite(result) ? result : NOT_FOUND;
    };
  }
  const order = ORDER[op];
  if (order) {
    return (b) => {
      const v = both(b);
      if (!v) return NOT_FOUND;
      const [l, r] = v;
      const comparable = (x: unknown) => x === undefined || typeof x === 'string' || typeof x === 'number';
      if (!comparable(l) || !comparable(r)) return NOT_FOUND; // T2010
      if (l === undefined || r === undefined) return false;
      if (typeof l !== typeof r) return NOT_FOUND; // T2009
      return order(l as string | number, r as string | number);
    };
  }
  if (op === '=' || op === '!=') {
    return (b) => {
      const v = both(b);
      if (!v) return NOT_FOUND;
      const [l, r] = v;
      if (l === undefined || r === undefined) return false;
      if ((typeof l === 'object' && l !== null) || (typeof r === 'object' && r !== null)) return NOT_FOUND; // deep equality: JSONata's
      return op === '=' ? l === r : l !== r;
    };
  }
  return undefined;
}

/**
 * The direct evaluation of an expression's syntax tree, or undefined when some part of it is
 * outside the subset (then JSONata always evaluates it).
 */
export function compileDirect(root: jsonata.ExprNode): Direct | undefined {
  const node = root as unknown as Node;
  const path = plainPath(root);
  if (path) return (b) => readPath(b, path);
  switch (node.type) {
    case 'string':
    case 'number':
    case 'value': {
      if (!onlyKeys(node, ['value'])) return undefined;
      const value = node.value;
      return () => value;
    }
    case 'binary': {
      if (!onlyKeys(node, ['value', 'lhs', 'rhs']) || !node.lhs || !node.rhs) return undefined;
      const lhs = compileDirect(node.lhs as unknown as jsonata.ExprNode);
      const rhs = lhs && compileDirect(node.rhs as unknown as jsonata.ExprNode);
      return rhs ? binary(String(node.value), lhs!, rhs) : undefined;
    }
    case 'condition': {
      if (!onlyKeys(node, ['condition', 'then', 'else']) || !node.condition || !node.then) return undefined;
      const condition = compileDirect(node.condition as unknown as jsonata.ExprNode);
      const then = condition && compileDirect(node.then as unknown as jsonata.ExprNode);
      const otherwise = node.else ? then && compileDirect(node.else as unknown as jsonata.ExprNode) : () => undefined;
      if (!condition || !then || !otherwise) return undefined;
      return (b) => {
        const c = condition(b);
        if (c === NOT_FOUND) return NOT_FOUND;
        const t = truthy(c);
        if (t === NOT_FOUND) return NOT_FOUND;
        return t ? then(b) : otherwise(b);
      };
    }
    case 'unary': {
      if (node.value !== '-' || !onlyKeys(node, ['value', 'expression']) || !node.expression) return undefined;
      const operand = compileDirect(node.expression as unknown as jsonata.ExprNode);
      if (!operand) return undefined;
      return (b) => {
        const v = operand(b);
        if (v === NOT_FOUND || v === undefined) return v;
        return typeof v === 'number' ? -v : NOT_FOUND;
      };
    }
    case 'function': {
      const name = node.procedure?.type === 'variable' && onlyKeys(node.procedure, ['value']) ? node.procedure.value : undefined;
      if (!onlyKeys(node, ['value', 'procedure', 'arguments']) || node.arguments?.length !== 1) return undefined;
      const arg = compileDirect(node.arguments[0] as unknown as jsonata.ExprNode);
      if (!arg) return undefined;
      if (name === 'exists') {
        return (b) => {
          const v = arg(b);
          return v === NOT_FOUND ? NOT_FOUND : v !== undefined;
        };
      }
      if (name === 'string') {
        return (b) => {
          const v = arg(b);
          return v === NOT_FOUND || v === undefined ? v : scalarString(v);
        };
      }
      return undefined;
    }
    default:
      return undefined;
  }
}
