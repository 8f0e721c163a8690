/**
 * A small GraphQL server core for sandbox fakes of GraphQL APIs (Linear): parses the operations
 * clients send (queries and mutations, variables, arguments of every literal kind, aliases; no
 * fragments or directives), validates selections against the fake's types, and executes them with
 * its resolvers. Answers are what a GraphQL server answers: `{ data }`, or `{ errors }` with a
 * message like graphql-js's for a document that does not parse or validate.
 */

export type GqlValue = null | boolean | number | string | GqlValue[] | { [key: string]: GqlValue };

type ValueNode =
  { kind: 'var'; name: string } | { kind: 'literal'; value: GqlValue } | { kind: 'list'; items: ValueNode[] } | { kind: 'object'; fields: Record<string, ValueNode> };

export interface FieldNode {
  alias: string;
  name: string;
  args: Record<string, ValueNode>;
  selections: FieldNode[] | null;
}

export interface Operation {
  kind: 'query' | 'mutation';
  variables: { name: string; type: string; defaultValue?: ValueNode }[];
  selections: FieldNode[];
}

/** An error a resolver raises: it becomes one entry of `errors`, the field null. */
export class GqlError extends Error {
  constructor(
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A field of an object type: its return type (`String`, `Issue`, `[Issue]`, `IssueConnection`) and how it is resolved. */
export interface FieldDef {
  type: string;
  resolve(parent: any, args: Record<string, any>): unknown;
}

export type Schema = Record<string, Record<string, FieldDef>>;

const SCALARS = new Set(['String', 'Int', 'Float', 'Boolean', 'ID', 'DateTime', 'JSON', 'TimelessDate']);

class Lexer {
  private pos = 0;
  readonly tokens: { kind: 'punct' | 'name' | 'number' | 'string'; text: string; value?: GqlValue }[] = [];
  constructor(src: string) {
    const re = /[\s,\uFEFF]+|#[^\n\r]*|("""[\s\S]*?"""|"(?:\\.|[^"\\\n])*")|(\.\.\.|[!$():=@[\]{|}])|([_A-Za-z][_0-9A-Za-z]*)|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/y;
    while (this.pos < src.length) {
      re.lastIndex = this.pos;
      const m = re.exec(src);
      if (!m) throw new GqlError(`Syntax Error: Unexpected character: "${src[this.pos]}".`);
      this.pos = re.lastIndex;
      if (m[1]) this.tokens.push({ kind: 'string', text: m[1], value: m[1].startsWith('"""') ? m[1].slice(3, -3) : (JSON.parse(m[1]) as string) });
      else if (m[2]) this.tokens.push({ kind: 'punct', text: m[2] });
      else if (m[3]) this.tokens.push({ kind: 'name', text: m[3] });
      else if (m[4]) this.tokens.push({ kind: 'number', text: m[4], value: Number(m[4]) });
    }
  }
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Lexer['tokens']) {}
  private peek(text?: string) {
    const t = this.tokens[this.i];
    return text === undefined ? t : t && t.text === text && (t.kind === 'punct' || t.kind === 'name') ? t : undefined;
  }
  private expect(text: string) {
    const t = this.tokens[this.i];
    if (!t || t.text !== text) throw new GqlError(`Syntax Error: Expected "${text}", found ${t ? `"${t.text}"` : '<EOF>'}.`);
    this.i++;
  }
  private name(): string {
    const t = this.tokens[this.i];
    if (!t || t.kind !== 'name') throw new GqlError(`Syntax Error: Expected Name, found ${t ? `"${t.text}"` : '<EOF>'}.`);
    this.i++;
    return t.text;
  }
  document(): Operation {
    let op: Operation;
    if (this.peek('{')) op = { kind: 'query', variables: [], selections: this.selectionSet() };
    else {
      const kind = this.name();
      if (kind === 'fragment' || kind === 'subscription') throw new GqlError(`The sandbox does not support ${kind}s.`);
      if (kind !== 'query' && kind !== 'mutation') throw new GqlError(`Syntax Error: Unexpected Name "${kind}".`);
      if (this.peek()?.kind === 'name') this.name();
      const variables = this.peek('(') ? this.variableDefinitions() : [];
      op = { kind, variables, selections: this.selectionSet() };
    }
    if (this.i < this.tokens.length) throw new GqlError('The sandbox supports one operation per document.');
    return op;
  }
  private variableDefinitions() {
    const defs: Operation['variables'] = [];
    this.expect('(');
    while (!this.peek(')')) {
      this.expect('$');
      const name = this.name();
      this.expect(':');
      const type = this.type();
      const defaultValue = this.peek('=') ? (this.expect('='), this.value()) : undefined;
      defs.push({ name, type, defaultValue });
    }
    this.expect(')');
    return defs;
  }
  private type(): string {
    let t: string;
    if (this.peek('[')) {
      this.expect('[');
      t = `[${this.type()}]`;
      this.expect(']');
    } else t = this.name();
    if (this.peek('!')) {
      this.expect('!');
      t += '!';
    }
    return t;
  }
  private selectionSet(): FieldNode[] {
    this.expect('{');
    const out: FieldNode[] = [];
    while (!this.peek('}')) {
      if (this.peek('...')) throw new GqlError('The sandbox does not support fragments.');
      const alias = this.name();
      let name = alias;
      if (this.peek(':')) {
        this.expect(':');
        name = this.name();
      }
      const args: Record<string, ValueNode> = {};
      if (this.peek('(')) {
        this.expect('(');
        while (!this.peek(')')) {
          const arg = this.name();
          this.expect(':');
          args[arg] = this.value();
        }
        this.expect(')');
      }
      if (this.peek('@')) throw new GqlError('The sandbox does not support directives.');
      out.push({ alias, name, args, selections: this.peek('{') ? this.selectionSet() : null });
    }
    this.expect('}');
    if (out.length === 0) throw new GqlError('Syntax Error: Expected Name, found "}".');
    return out;
  }
  private value(): ValueNode {
    const t = this.tokens[this.i];
    if (!t) throw new GqlError('Syntax Error: Unexpected <EOF>.');
    if (t.text === '$' && t.kind === 'punct') {
      this.i++;
      return { kind: 'var', name: this.name() };
    }
    if (t.text === '[' && t.kind === 'punct') {
      this.i++;
      const items: ValueNode[] = [];
      while (!this.peek(']')) items.push(this.value());
      this.expect(']');
      return { kind: 'list', items };
    }
    if (t.text === '{' && t.kind === 'punct') {
      this.i++;
      const fields: Record<string, ValueNode> = {};
      while (!this.peek('}')) {
        const key = this.name();
        this.expect(':');
        fields[key] = this.value();
      }
      this.expect('}');
      return { kind: 'object', fields };
    }
    this.i++;
    if (t.kind === 'string' || t.kind === 'number') return { kind: 'literal', value: t.value! };
    if (t.kind === 'name') return { kind: 'literal', value: t.text === 'true' ? true : t.text === 'false' ? false : t.text === 'null' ? null : t.text };
    throw new GqlError(`Syntax Error: Unexpected "${t.text}".`);
  }
}

function valueOf(node: ValueNode, variables: Record<string, any>): any {
  switch (node.kind) {
    case 'var':
      return variables[node.name];
    case 'literal':
      return node.value;
    case 'list':
      return node.items.map((n) => valueOf(n, variables));
    default:
      return Object.fromEntries(Object.entries(node.fields).map(([k, v]) => [k, valueOf(v, variables)]));
  }
}

const named = (type: string) => type.replace(/[[\]!]/g, '');

/** graphql-js style validation of the selections against the schema: the problems, none when valid. */
function validate(schema: Schema, typeName: string, selections: FieldNode[], problems: string[]): void {
  for (const sel of selections) {
    if (sel.name === '__typename') continue;
    const def = schema[typeName]?.[sel.name];
    if (!def) {
      problems.push(`Cannot query field "${sel.name}" on type "${typeName}".`);
      continue;
    }
    const inner = named(def.type);
    if (SCALARS.has(inner)) {
      if (sel.selections) problems.push(`Field "${sel.name}" must not have a selection since type "${def.type}" has no subfields.`);
    } else if (!sel.selections) problems.push(`Field "${sel.name}" of type "${def.type}" must have a selection of subfields. Did you mean "${sel.name} { ... }"?`);
    else validate(schema, inner, sel.selections, problems);
  }
}

/** Parses, validates and runs one request body (`{ query, variables }`): the status and answer. */
export function execute(schema: Schema, body: unknown): { status: number; body: { data?: unknown; errors?: unknown[] } } {
  const b = (body ?? {}) as { query?: unknown; variables?: unknown };
  if (typeof b.query !== 'string' || !b.query.trim()) return { status: 400, body: { errors: [{ message: 'Must provide query string.', extensions: { code: 'BAD_USER_INPUT' } }] } };
  let op: Operation;
  try {
    op = new Parser(new Lexer(b.query).tokens).document();
  } catch (e) {
    return { status: 400, body: { errors: [{ message: (e as Error).message, extensions: { code: 'GRAPHQL_PARSE_FAILED' } }] } };
  }
  const root = op.kind === 'query' ? 'Query' : 'Mutation';
  const problems: string[] = [];
  validate(schema, root, op.selections, problems);
  const given = (b.variables && typeof b.variables === 'object' ? b.variables : {}) as Record<string, any>;
  const variables: Record<string, any> = {};
  for (const v of op.variables) {
    const value = given[v.name] !== undefined ? given[v.name] : v.defaultValue ? valueOf(v.defaultValue, {}) : undefined;
    if ((value === undefined || value === null) && v.type.endsWith('!')) problems.push(`Variable "$${v.name}" of required type "${v.type}" was not provided.`);
    variables[v.name] = value;
  }
  if (problems.length) return { status: 400, body: { errors: problems.map((message) => ({ message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })) } };
  const errors: unknown[] = [];
  const run = (typeName: string, parent: any, selections: FieldNode[], path: (string | number)[]): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const sel of selections) {
      if (sel.name === '__typename') {
        out[sel.alias] = typeName;
        continue;
      }
      const def = schema[typeName]![sel.name]!;
      const args = Object.fromEntries(Object.entries(sel.args).map(([k, v]) => [k, valueOf(v, variables)]));
      try {
        const value = def.resolve(parent, args);
        const inner = named(def.type);
        if (value === null || value === undefined || SCALARS.has(inner)) out[sel.alias] = value ?? null;
        else if (Array.isArray(value)) out[sel.alias] = value.map((v, i) => run(inner, v, sel.selections!, [...path, sel.alias, i]));
        else out[sel.alias] = run(inner, value, sel.selections!, [...path, sel.alias]);
      } catch (e) {
        if (!(e instanceof GqlError)) throw e;
        errors.push({ message: e.message, path: [...path, sel.alias], locations: [], extensions: e.extensions });
        out[sel.alias] = null;
      }
    }
    return out;
  };
  const data = run(root, null, op.selections, []);
  return { status: 200, body: errors.length ? { data, errors } : { data } };
}

/** Relay connection types for a node type: `${T}Connection` with nodes, edges and pageInfo. */
export function connectionTypes(node: string): Schema {
  return {
    [`${node}Connection`]: {
      nodes: { type: `[${node}]`, resolve: (p) => p.nodes },
      edges: { type: `[${node}Edge]`, resolve: (p) => p.nodes.map((n: unknown, i: number) => ({ node: n, cursor: p.cursors[i] })) },
      pageInfo: { type: 'PageInfo', resolve: (p) => p.pageInfo },
    },
    [`${node}Edge`]: { node: { type: node, resolve: (p) => p.node }, cursor: { type: 'String', resolve: (p) => p.cursor } },
  };
}

export const pageInfoType: Schema = {
  PageInfo: {
    hasNextPage: { type: 'Boolean', resolve: (p) => p.hasNextPage },
    hasPreviousPage: { type: 'Boolean', resolve: (p) => p.hasPreviousPage },
    startCursor: { type: 'String', resolve: (p) => p.startCursor },
    endCursor: { type: 'String', resolve: (p) => p.endCursor },
  },
};
