/**
 * The one expression language of flows: JSONata.
 *
 * - A string starting with "=" is an expression (the text after the "="); "==" at the start escapes
 *   a literal "=" ("==x" is the string "=x"); every other string is literal.
 * - Bindings: $trigger, $inputs, $steps, $endUser, $run, and inside a loop's steps $item and $index.
 *   The root context `$` is an object with the same keys.
 * - Results are plain JSON: objects lose keys whose value is undefined, arrays get null for them,
 *   non-finite numbers become null, a function result is an error.
 * - Compiled expressions are cached (LRU-ish, EXPRESSION_LIMITS.cacheSize entries); compiled templates
 *   are cached per template object (WeakMap), so a definition held in memory is walked once.
 * - evaluate() runs JSONata only in the expression sandbox (expression-sandbox.ts): a child process
 *   with a capped heap, killed when it overruns its time budget, so no expression can stop or crash
 *   the API or a worker. Templates with no expression, or only plain binding paths that meet no
 *   array, are read in-process: that is a bounded walk of data already in memory.
 * - Inside the sandbox JSONata's own guardrails also apply: a timeout checked between evaluation
 *   steps and an evaluation-depth guard.
 *
 * JSONata 2 evaluates asynchronously: evaluate() returns a Promise.
 */
import jsonata from 'jsonata';
import { compileDirect, NOT_FOUND, plainPath } from './direct-expressions';
import { EXPRESSION_LIMITS, type ExpressionLimitCode, runInSandbox, type SandboxReply } from './expression-sandbox';

export { NOT_FOUND } from './direct-expressions';

export { EXPRESSION_LIMITS, EXPRESSION_LIMIT_CODES, type ExpressionLimitCode, isExpressionLimitCode } from './expression-sandbox';

/** The variables an expression sees. The engine fills them; see docs/flows.md for their shapes. */
export interface Bindings {
  /** The trigger payload (event payload, request body, webhook request, schedule tick). */
  trigger: unknown;
  /** The instance's settings, by input key (defaults applied). */
  inputs: Record<string, unknown>;
  /** Outputs of the steps finished so far, by step id. */
  steps: Record<string, unknown>;
  /** The end user the run belongs to. */
  endUser: unknown;
  /** The run itself (id, start time…). */
  run: unknown;
  /** Inside a loop's steps: the current element. */
  item?: unknown;
  /** Inside a loop's steps: the index of the current element, from 0. */
  index?: number;
}

export const BINDING_NAMES = ['trigger', 'inputs', 'steps', 'endUser', 'run'] as const;
export const LOOP_BINDING_NAMES = ['item', 'index'] as const;

/** An expression failed to compile or to evaluate. */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  constructor(
    message: string,
    /** The expression text (without the leading "="). */
    readonly expression: string,
    /**
     * JSONata's error code (S0xxx syntax, T/D runtime), when it gave one; or the sandbox bound that
     * was hit (expression_timeout, expression_memory_exceeded, expression_result_too_large,
     * expression_input_too_large).
     */
    readonly code?: string,
    /** Character position in the expression JSONata reported, when it gave one. */
    readonly position?: number,
    /** Where in the evaluated template the expression sits (dotted path, '' for the template itself). */
    readonly path: string = '',
  ) {
    super(message);
  }

  /** The same error, located at `path` inside a template. */
  at(path: string): ExpressionError {
    const error = new ExpressionError(this.message, this.expression, this.code, this.position, path);
    error.stack = this.stack;
    return error;
  }
}

/** True for a string that is an expression: it starts with "=" but not "==". */
export function isExpression(value: unknown): value is `=${string}` {
  return typeof value === 'string' && value.charCodeAt(0) === 61 /* = */ && value.charCodeAt(1) !== 61;
}

/** The literal a non-expression string stands for ("==x" → "=x"; anything else unchanged). */
export function literalString(value: string): string {
  return value.startsWith('==') ? value.slice(1) : value;
}

/** Whether a template contains an expression anywhere. */
export function containsExpression(template: unknown): boolean {
  if (typeof template === 'string') return isExpression(template);
  if (Array.isArray(template)) return template.some(containsExpression);
  if (template !== null && typeof template === 'object') return Object.values(template).some(containsExpression);
  return false;
}

/** The value a template without expressions stands for (escapes resolved). */
export function literalValue(template: unknown): unknown {
  if (typeof template === 'string') return literalString(template);
  if (Array.isArray(template)) return template.map(literalValue);
  if (template !== null && typeof template === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(template)) out[k] = literalValue(v);
    return out;
  }
  return template;
}

interface JsonataErrorLike {
  message?: string;
  code?: string;
  position?: number;
  token?: string;
}

function describe(error: unknown): JsonataErrorLike {
  if (error && typeof error === 'object') return error as JsonataErrorLike;
  return { message: String(error) };
}

function located(info: JsonataErrorLike): string {
  const parts = [info.code, typeof info.position === 'number' ? `at position ${info.position}` : undefined].filter(Boolean);
  return parts.length ? ` (${parts.join(' ')})` : '';
}

export interface CompiledExpression {
  /** The expression text, without the leading "=". */
  readonly source: string;
  /** Evaluates against the bindings IN THIS PROCESS, unbounded: only the sandbox child may call it. */
  evaluate(bindings: Bindings): Promise<unknown>;
  /** The value evaluated in this process without JSONata (direct-expressions.ts), or NOT_FOUND when JSONata is needed. */
  read(bindings: Bindings): unknown;
  /** Whether read() can answer at all (for some bindings): the expression is in the direct subset. */
  readonly direct: boolean;
  /** JSONata's syntax tree (for analysis). */
  ast(): jsonata.ExprNode;
  /**
   * 'path' when the expression is a plain binding path (`$inputs.channel`, `$steps.post.body.ts`):
   * then it is read directly, without JSONata, whenever no array is met on the way (JSONata maps
   * over arrays; those cases go to JSONata), giving the same result much faster.
   */
  readonly kind: 'path' | 'jsonata';
}

/**
 * The compile cache: a Map in insertion order with a "used" mark per entry (the CLOCK / second-chance
 * approximation of LRU). A hit only sets the mark, so hits never reorder the Map; when full, the
 * oldest entries that were used since they last came round are moved to the back, and the oldest
 * unused one is evicted.
 */
const cache = new Map<string, { expression: CompiledExpression; used: boolean }>();

function evictOne(): void {
  for (const [key, entry] of cache) {
    cache.delete(key);
    if (!entry.used) return;
    entry.used = false;
    cache.set(key, entry);
  }
}

function stripEquals(source: string): string {
  return source.charCodeAt(0) === 61 ? source.slice(1) : source;
}

/**
 * Compiles an expression (with or without its leading "="), from the cache when it was compiled
 * before. Throws ExpressionError on a syntax error, with JSONata's message, code and position.
 */
export function compileExpression(source: string): CompiledExpression {
  const text = stripEquals(source);
  const hit = cache.get(text);
  if (hit) {
    hit.used = true;
    return hit.expression;
  }
  if (text.trim() === '') throw new ExpressionError('Invalid expression: it is empty', text);
  let compiled: jsonata.Expression;
  try {
    compiled = jsonata(text, { timeout: EXPRESSION_LIMITS.timeoutMs, stack: EXPRESSION_LIMITS.maxDepth });
  } catch (error) {
    const info = describe(error);
    throw new ExpressionError(`Invalid expression: ${info.message ?? 'syntax error'}${located(info)}`, text, info.code, info.position);
  }
  const direct = compileDirect(compiled.ast());
  const expression: CompiledExpression = {
    source: text,
    kind: plainPath(compiled.ast()) ? 'path' : 'jsonata',
    direct: direct !== undefined,
    ast: () => compiled.ast(),
    read: direct ?? (() => NOT_FOUND),
    async evaluate(bindings: Bindings): Promise<unknown> {
      if (direct) {
        const value = direct(bindings);
        if (value !== NOT_FOUND) return toJson(value, text);
      }
      let result: unknown;
      try {
        result = await compiled.evaluate(bindings, bindings as unknown as Record<string, unknown>);
      } catch (error) {
        const info = describe(error);
        throw new ExpressionError(`Expression "=${text}" failed: ${info.message ?? 'evaluation error'}${located(info)}`, text, info.code, info.position);
      }
      return toJson(result, text);
    },
  };
  if (cache.size >= EXPRESSION_LIMITS.cacheSize) evictOne();
  cache.set(text, { expression, used: false });
  return expression;
}

/** How many compiled expressions are cached (for tests and metrics). */
export function expressionCacheSize(): number {
  return cache.size;
}

/** Empties the expression cache (tests). */
export function clearExpressionCache(): void {
  cache.clear();
}

function toJson(value: unknown, expression: string): unknown {
  switch (typeof value) {
    case 'undefined':
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'function':
      throw new ExpressionError(`Expression "=${expression}" evaluated to a function, not a JSON value`, expression);
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) {
        const out = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          const v = toJson(value[i], expression);
          out[i] = v === undefined ? null : v;
        }
        return out;
      }
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        const v = toJson((value as Record<string, unknown>)[key], expression);
        if (v !== undefined) out[key] = v;
      }
      return out;
    }
    default:
      // bigint, symbol: not JSON
      throw new ExpressionError(`Expression "=${expression}" evaluated to a ${typeof value}, not a JSON value`, expression);
  }
}

// ─── Templates ───────────────────────────────────────────────────────────────────────────────────

type Node =
  | { kind: 'static'; value: unknown }
  | { kind: 'expr'; expression: CompiledExpression; path: string }
  | { kind: 'array'; items: Node[] }
  | { kind: 'object'; keys: string[]; values: Node[] };

export interface CompiledTemplate {
  /** True when the template has no expressions (evaluating it just copies it). */
  readonly isStatic: boolean;
  /** Its expressions, with where they sit and whether they need JSONata (not plain paths). */
  readonly expressions: ReadonlyArray<{ expression: string; path: string; jsonata: boolean }>;
  /** Evaluates IN THIS PROCESS, unbounded: only the sandbox child may call it. */
  evaluate(bindings: Bindings): Promise<unknown>;
  /** The value when every expression is a plain path that meets no array, else NOT_FOUND. Bounded. */
  read(bindings: Bindings): unknown;
}

const templates = new WeakMap<object, CompiledTemplate>();

function pathKey(key: string | number): string {
  return typeof key === 'number' || /^[A-Za-z0-9_$-]+$/.test(key) ? String(key) : `[${JSON.stringify(key)}]`;
}

/** Joins dotted-path segments: `steps.0.input.channel`; odd keys are bracketed: `output["a.b"]`. */
export function joinPath(base: string, key: string | number): string {
  const part = pathKey(key);
  if (part.startsWith('[')) return base + part;
  return base ? `${base}.${part}` : part;
}

function build(template: unknown, path: string): Node {
  if (typeof template === 'string') {
    if (isExpression(template)) {
      try {
        return { kind: 'expr', expression: compileExpression(template), path };
      } catch (error) {
        throw error instanceof ExpressionError ? error.at(path) : error;
      }
    }
    return { kind: 'static', value: literalString(template) };
  }
  if (Array.isArray(template)) {
    const items = template.map((v, i) => build(v, joinPath(path, i)));
    return items.every((n) => n.kind === 'static') ? { kind: 'static', value: literalValue(template) } : { kind: 'array', items };
  }
  if (template !== null && typeof template === 'object') {
    const keys = Object.keys(template);
    const values = keys.map((k) => build((template as Record<string, unknown>)[k], joinPath(path, k)));
    return values.every((n) => n.kind === 'static') ? { kind: 'static', value: literalValue(template) } : { kind: 'object', keys, values };
  }
  return { kind: 'static', value: template };
}

function copy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copy);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copy((value as Record<string, unknown>)[key]);
  return out;
}

/** The template read with plain paths only (no JSONata); NOT_FOUND as soon as one needs JSONata. */
function read(node: Node, bindings: Bindings): unknown {
  switch (node.kind) {
    case 'static':
      return copy(node.value);
    case 'expr': {
      const value = node.expression.read(bindings);
      return value === NOT_FOUND ? NOT_FOUND : toJson(value, node.expression.source);
    }
    case 'array': {
      const out = new Array<unknown>(node.items.length);
      for (let i = 0; i < node.items.length; i++) {
        const v = read(node.items[i], bindings);
        if (v === NOT_FOUND) return NOT_FOUND;
        out[i] = v === undefined ? null : v;
      }
      return out;
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < node.keys.length; i++) {
        const v = read(node.values[i], bindings);
        if (v === NOT_FOUND) return NOT_FOUND;
        if (v !== undefined) out[node.keys[i]] = v;
      }
      return out;
    }
  }
}

type Located = { expression: string; path: string; jsonata: boolean };

/** Whether every expression of the template can be read in this process (for some bindings). */
function readable(node: Node): boolean {
  if (node.kind === 'expr') return node.expression.direct;
  if (node.kind === 'array') return node.items.every(readable);
  if (node.kind === 'object') return node.values.every(readable);
  return true;
}

function expressionNodes(node: Node, into: Located[]): Located[] {
  if (node.kind === 'expr') into.push({ expression: node.expression.source, path: node.path, jsonata: node.expression.kind === 'jsonata' });
  if (node.kind === 'array') for (const item of node.items) expressionNodes(item, into);
  if (node.kind === 'object') for (const value of node.values) expressionNodes(value, into);
  return into;
}

async function run(node: Node, bindings: Bindings): Promise<unknown> {
  switch (node.kind) {
    case 'static':
      return copy(node.value);
    case 'expr':
      try {
        return await node.expression.evaluate(bindings);
      } catch (error) {
        throw error instanceof ExpressionError ? error.at(node.path) : error;
      }
    case 'array': {
      const out = new Array<unknown>(node.items.length);
      for (let i = 0; i < node.items.length; i++) {
        const v = await run(node.items[i], bindings);
        out[i] = v === undefined ? null : v;
      }
      return out;
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < node.keys.length; i++) {
        const v = await run(node.values[i], bindings);
        if (v !== undefined) out[node.keys[i]] = v;
      }
      return out;
    }
  }
}

/**
 * Compiles a template (any JSON value whose strings may be expressions). Object and array
 * templates are cached by identity, so keep the definition object and pass the same sub-objects.
 * Throws ExpressionError (with `path` inside the template) if an expression does not compile.
 */
export function compileTemplate(template: unknown): CompiledTemplate {
  const cacheable = template !== null && typeof template === 'object';
  if (cacheable) {
    const hit = templates.get(template);
    if (hit) return hit;
  }
  const root = build(template, '');
  const expressions = expressionNodes(root, []);
  const needsJsonata = !readable(root);
  const compiled: CompiledTemplate = {
    isStatic: root.kind === 'static',
    expressions,
    evaluate: (bindings) => run(root, bindings),
    read: (bindings) => (needsJsonata ? NOT_FOUND : read(root, bindings)),
  };
  if (cacheable) templates.set(template, compiled);
  return compiled;
}

/**
 * Evaluates every expression in a template and returns plain JSON: the template's shape with each
 * expression replaced by its value. Undefined values are dropped from objects and become null in
 * arrays; a template that is a single expression evaluating to nothing gives undefined.
 * JSONata runs in the expression sandbox, bounded in time, memory, input and result size.
 * Rejects with ExpressionError (message names the expression; `path` locates it in the template;
 * `code` is one of EXPRESSION_LIMIT_CODES when a bound was hit). Evaluations waiting for the
 * sandbox are served round-robin by `fairnessKey` (the engine passes the tenant id).
 */
export async function evaluate(template: unknown, bindings: Bindings, options: { fairnessKey?: string } = {}): Promise<unknown> {
  if (typeof template === 'string' && !isExpression(template)) return literalString(template);
  if (template === null || (typeof template !== 'object' && typeof template !== 'string')) return template;
  const compiled = typeof template === 'string' ? compileSingle(template) : compileTemplate(template);
  if (compiled.isStatic) return compiled.evaluate(bindings);
  const direct = compiled.read(bindings);
  if (direct !== NOT_FOUND) {
    const bytes = direct === undefined ? 0 : Buffer.byteLength(JSON.stringify(direct));
    if (bytes > EXPRESSION_LIMITS.maxResultBytes) throw limitError(compiled, { ok: false, limit: 'expression_result_too_large', bytes });
    return direct;
  }
  const json = JSON.stringify(bindings);
  const bytes = Buffer.byteLength(json);
  if (bytes > EXPRESSION_LIMITS.maxBindingsBytes) throw limitError(compiled, { ok: false, limit: 'expression_input_too_large', bytes });
  const reply = await runInSandbox({ op: 'template', template, bindings: json }, options.fairnessKey);
  if (reply.ok) return reply.json === undefined ? undefined : JSON.parse(reply.json);
  if ('limit' in reply) throw limitError(compiled, reply);
  const e = reply.error;
  throw new ExpressionError(e.message, e.expression ?? '', e.code, e.position, e.path ?? '');
}

/** A single expression string as a one-node template (located at ''). */
function compileSingle(source: string): CompiledTemplate {
  const expression = compileExpression(source);
  return {
    isStatic: false,
    expressions: [{ expression: expression.source, path: '', jsonata: expression.kind === 'jsonata' }],
    evaluate: (bindings) => expression.evaluate(bindings),
    read: (bindings) => {
      const value = expression.read(bindings);
      return value === NOT_FOUND ? NOT_FOUND : toJson(value, expression.source);
    },
  };
}

/**
 * The error for a sandbox bound, naming the expression when it is known: the child said which, or
 * the template has one JSONata expression (only those can run long), or one expression at all.
 */
function limitError(compiled: CompiledTemplate, reply: Extract<SandboxReply, { limit: ExpressionLimitCode }>): ExpressionError {
  const viaJsonata = compiled.expressions.filter((e) => e.jsonata);
  const only = viaJsonata.length === 1 ? viaJsonata[0] : compiled.expressions.length === 1 ? compiled.expressions[0] : undefined;
  const expression = reply.expression ?? only?.expression;
  const path = reply.path ?? only?.path ?? '';
  const subject = expression !== undefined ? `Expression "=${expression}"` : `The template's expressions (${compiled.expressions.map((e) => `"=${e.expression}"`).join(', ')})`;
  const L = EXPRESSION_LIMITS;
  const message = {
    expression_timeout: `${subject} ran longer than the ${L.timeoutMs} ms an evaluation may take`,
    expression_memory_exceeded: `${subject} used more than the ${L.memoryMb} MB of memory an evaluation may use`,
    expression_result_too_large: `${subject} produced ${reply.bytes} bytes of JSON; the limit is ${L.maxResultBytes}`,
    expression_input_too_large: `${subject} cannot be evaluated: its bindings ($trigger, $steps, …) are ${reply.bytes} bytes of JSON; the limit is ${L.maxBindingsBytes}`,
  }[reply.limit];
  return new ExpressionError(message, expression ?? '', reply.limit, undefined, path);
}

/**
 * Evaluates in this process with no bound but JSONata's own: only the sandbox child calls this
 * (it is the child's process that the bounds protect). Same contract as evaluate().
 */
export function evaluateInProcess(template: unknown, bindings: Bindings): Promise<unknown> {
  if (typeof template === 'string') {
    if (!isExpression(template)) return Promise.resolve(literalString(template));
    let expression: CompiledExpression;
    try {
      expression = compileExpression(template);
    } catch (error) {
      return Promise.reject(error);
    }
    return expression.evaluate(bindings);
  }
  if (template === null || typeof template !== 'object') return Promise.resolve(template);
  try {
    return compileTemplate(template).evaluate(bindings);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The same function under the name the engine imports. */
export const evaluateTemplate = evaluate;

/**
 * Whether `value` matches the regular expression `pattern` (a tenant-authored input pattern;
 * ECMAScript with the `u` flag, as the definition's validation compiles it),
 * tested in the sandbox so a catastrophic pattern cannot block this process. Rejects with
 * ExpressionError (code expression_timeout…) when a bound was hit, and on an invalid pattern.
 */
export async function matchesPattern(pattern: string, value: string): Promise<boolean> {
  const reply = await runInSandbox({ op: 'test', pattern, value });
  if (reply.ok) return JSON.parse(reply.json!) as boolean;
  if ('limit' in reply) {
    const what = reply.limit === 'expression_timeout' ? `took longer than ${EXPRESSION_LIMITS.timeoutMs} ms to check` : `used more than ${EXPRESSION_LIMITS.memoryMb} MB to check`;
    throw new ExpressionError(`The pattern ${pattern} ${what}`, pattern, reply.limit);
  }
  throw new ExpressionError(`The pattern ${pattern} is not a valid regular expression: ${reply.error.message}`, pattern);
}

// ─── Analysis ────────────────────────────────────────────────────────────────────────────────────

/** JSONata's built-in functions (jsonata 2.x), so `$string()` is not mistaken for an unknown variable. */
export const JSONATA_BUILTINS: ReadonlySet<string> = new Set([
  'sum',
  'count',
  'max',
  'min',
  'average',
  'string',
  'substring',
  'substringBefore',
  'substringAfter',
  'lowercase',
  'uppercase',
  'length',
  'trim',
  'pad',
  'match',
  'contains',
  'replace',
  'split',
  'join',
  'formatNumber',
  'formatBase',
  'formatInteger',
  'parseInteger',
  'number',
  'floor',
  'ceil',
  'round',
  'abs',
  'sqrt',
  'power',
  'random',
  'boolean',
  'not',
  'map',
  'zip',
  'filter',
  'single',
  'reduce',
  'sift',
  'keys',
  'lookup',
  'append',
  'exists',
  'spread',
  'merge',
  'reverse',
  'each',
  'error',
  'assert',
  'type',
  'sort',
  'shuffle',
  'distinct',
  'base64encode',
  'base64decode',
  'encodeUrlComponent',
  'encodeUrl',
  'decodeUrlComponent',
  'decodeUrl',
  'eval',
  'toMillis',
  'fromMillis',
  'clone',
  'now',
  'millis',
]);

export interface VariableReference {
  /** Without the "$". */
  name: string;
  /** JSONata's position (just after the name). */
  position: number;
  /** Used as a function: `$name(…)`. */
  call: boolean;
}

export interface MemberReference {
  /** The variable, e.g. 'inputs' for `$inputs.channel`. */
  variable: string;
  /** The first name after it, e.g. 'channel'. */
  member: string;
  position: number;
}

export interface ExpressionAnalysis {
  /** Variables the expression reads that it does not bind itself and that are not built-ins. */
  variables: VariableReference[];
  /** `$variable.member` paths on those variables. */
  members: MemberReference[];
}

interface AstNode {
  type?: string;
  value?: unknown;
  position?: number;
  steps?: AstNode[];
  focus?: string;
  index?: string;
  [key: string]: unknown;
}

/**
 * What an expression refers to: its free variables and `$var.member` paths. Names bound anywhere in
 * the expression (`$x := …`, lambda parameters, `@$v` / `#$i`) count as bound everywhere in it.
 */
export function analyzeExpression(source: string): ExpressionAnalysis {
  const ast = compileExpression(source).ast() as unknown as AstNode;
  const locals = new Set<string>();
  const nodes: AstNode[] = [];
  const calls = new Set<AstNode>();
  const seen = new Set<unknown>();
  const visit = (value: unknown) => {
    if (value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    if (Array.isArray(value)) {
      for (const v of value) visit(v);
      return;
    }
    const node = value as AstNode;
    nodes.push(node);
    if (node.type === 'bind' && (node.lhs as AstNode | undefined)?.type === 'variable') locals.add(String((node.lhs as AstNode).value));
    if (node.type === 'lambda' && Array.isArray(node.arguments)) for (const a of node.arguments as AstNode[]) locals.add(String(a.value));
    if (typeof node.focus === 'string') locals.add(node.focus);
    if (typeof node.index === 'string') locals.add(node.index);
    if ((node.type === 'function' || node.type === 'partial') && node.procedure) calls.add(node.procedure as AstNode);
    for (const key of Object.keys(node)) visit(node[key]);
  };
  visit(ast);
  const free = (name: string) => name !== '' && name !== '$' && !locals.has(name);
  const variables: VariableReference[] = [];
  const members: MemberReference[] = [];
  for (const node of nodes) {
    if (node.type === 'variable' && typeof node.value === 'string' && free(node.value) && !JSONATA_BUILTINS.has(node.value)) {
      variables.push({ name: node.value, position: node.position ?? 0, call: calls.has(node) });
    }
    if (node.type === 'path' && Array.isArray(node.steps) && node.steps.length >= 2) {
      const [head, next] = node.steps;
      if (head.type === 'variable' && typeof head.value === 'string' && free(head.value) && next.type === 'name' && typeof next.value === 'string') {
        members.push({ variable: head.value, member: next.value, position: next.position ?? 0 });
      }
    }
  }
  return { variables, members };
}
