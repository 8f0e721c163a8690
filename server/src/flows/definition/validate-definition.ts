/**
 * Validates a flow template version document: the JSON Schema first (structure, with errors mapped
 * to plain messages), then, on a structurally valid document, the semantic checks (ids, connectors,
 * actions and their inputs, options sources, expressions and what they reference, cron, time zones).
 *
 * Every error has a `path`: dotted segments from the document root, array indexes as numbers
 * (`steps.1.then.0.input.channel`), keys that are not plain words in brackets (`output["a.b"]`),
 * '' for the document itself. Pure: no I/O, no framework.
 */
import { allConnectors, DEFAULT_MIN_POLL_SECONDS } from '@switchboard/connectors';
import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { cronProblem, timeZoneProblem } from '../../triggers/schedule';
import { durationMs } from './durations';
import {
  analyzeExpression,
  BINDING_NAMES,
  compileExpression,
  containsExpression,
  ExpressionError,
  isExpression,
  joinPath,
  JSONATA_BUILTINS,
  literalValue,
  LOOP_BINDING_NAMES,
  matchesPattern,
} from './expressions';
import {
  AgentStep,
  agentToolName,
  bindingConnector,
  FLOW_LIMITS,
  flowDefinitionSchema,
  FlowDefinition,
  forEachStep,
  InputSpec,
  isSwitchBranch,
  splitAgentTool,
  Step,
  StepVisit,
} from './flow-definition.schema';

export interface ValidationError {
  /** Dotted path of the offending value ('' for the whole document). */
  path: string;
  message: string;
}

export type ValidationResult = { ok: true; definition: FlowDefinition } | { ok: false; errors: ValidationError[] };

/** What validation needs of a connector: its actions' input schemas and its options sources. */
export interface CatalogConnector {
  actions: Record<string, { input: Record<string, unknown> }>;
  options?: Record<string, unknown>;
  triggers?: Record<string, { kind: 'poll' | 'webhook'; input?: Record<string, unknown>; minIntervalSeconds?: number }>;
  webhooks?: unknown;
}
export type ConnectorCatalog = Record<string, CatalogConnector>;

/** The connectors every tenant shares (deep and catalogue), by key. */
const sharedConnectors = (): ConnectorCatalog => Object.fromEntries(allConnectors().map((d) => [d.key, d]));

// ─── ajv ─────────────────────────────────────────────────────────────────────────────────────────

function makeAjv(strict: boolean): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict, strictRequired: false, allowUnionTypes: true, discriminator: true });
  addFormats(ajv);
  ajv.addKeyword({ keyword: 'x-error-message', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'x-options', schemaType: 'string' });
  return ajv;
}

let definitionValidator: ValidateFunction | undefined;
function validateSchema(doc: unknown): ErrorObject[] {
  if (!definitionValidator) definitionValidator = makeAjv(true).compile(flowDefinitionSchema);
  return definitionValidator(doc) ? [] : (definitionValidator.errors ?? []);
}

/** For connector schemas, which we do not control: lenient about unknown keywords. */
const looseAjv = makeAjv(false);
const compiledSchemas = new WeakMap<object, ValidateFunction>();
function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  let fn = compiledSchemas.get(schema);
  if (!fn) {
    fn = compileOnce(schema);
    compiledSchemas.set(schema, fn);
  }
  return fn;
}

/**
 * Validators of input specs (for their defaults), by the spec's JSON; bounded. Without `pattern`:
 * ajv would run the tenant's regex here, in the API's event loop (validateDefinitionWithPatterns
 * tests it in the sandbox).
 */
const inputValidators = new Map<string, ValidateFunction>();
function inputValidator(spec: InputSpec): ValidateFunction {
  const { pattern: _pattern, ...schema } = inputJsonSchema(spec);
  const key = JSON.stringify(schema);
  let fn = inputValidators.get(key);
  if (!fn) {
    fn = compileOnce(schema);
    if (inputValidators.size >= 500) inputValidators.delete(inputValidators.keys().next().value as string);
    inputValidators.set(key, fn);
  }
  return fn;
}

/** Compiles without leaving the schema in ajv's own cache (keyed by object: it would only grow). */
function compileOnce(schema: Record<string, unknown>): ValidateFunction {
  try {
    return looseAjv.compile(schema);
  } finally {
    looseAjv.removeSchema(schema);
  }
}

// ─── Paths and messages ──────────────────────────────────────────────────────────────────────────

function pointerSegments(pointer: string): string[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** A dotted path from JSON Pointer segments (numeric segments stay numbers). */
function dotted(base: string, segments: Array<string | number>): string {
  return segments.reduce<string>((path, s) => joinPath(path, typeof s === 'string' && /^(0|[1-9]\d*)$/.test(s) ? Number(s) : s), base);
}

const quote = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));
const list = (values: readonly unknown[]) => values.map(quote).join(', ');

/** Edit distance with adjacent transpositions (optimal string alignment): 'stpes' → 'steps' is 1. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** " (did you mean 'x'?)" when one candidate is close, else ''. */
function suggest(name: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? ` (did you mean '${best}'?)` : '';
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

function typeMessage(type: unknown): string {
  const types = (Array.isArray(type) ? type : [type]).map((t) => TYPE_NAMES[String(t)] ?? String(t));
  return `must be ${types.length > 1 ? `${types.slice(0, -1).join(', ')} or ${types[types.length - 1]}` : types[0]}`;
}

/** The `type` consts of a discriminated oneOf, resolving local $refs. */
function discriminatorValues(parentSchema: Record<string, unknown> | undefined, root: Record<string, unknown>): string[] {
  const oneOf = (parentSchema?.oneOf ?? []) as Array<Record<string, unknown>>;
  return oneOf.flatMap((branch) => {
    let sch = branch;
    if (typeof branch.$ref === 'string' && branch.$ref.startsWith('#/')) {
      sch = pointerSegments(branch.$ref.slice(1)).reduce<Record<string, unknown>>((s, k) => (s?.[k] as Record<string, unknown>) ?? {}, root);
    }
    const tag = (sch.properties as Record<string, Record<string, unknown>> | undefined)?.type;
    return tag && typeof tag.const === 'string' ? [tag.const] : [];
  });
}

/**
 * ajv errors as { path, message }. `base` prefixes every path; `root` resolves $refs for
 * discriminator messages; `noun` names what a property is in messages ('property' by default).
 */
function mapAjvErrors(errors: ErrorObject[], base = '', root: Record<string, unknown> = {}, noun = 'property'): ValidationError[] {
  // A failed anyOf/oneOf/propertyNames is reported once, by itself: drop what its branches said.
  const umbrellas = errors.filter((e) => e.keyword === 'anyOf' || (e.keyword === 'oneOf' && !(e.parentSchema as Record<string, unknown>)?.discriminator));
  // A failed `not` (if and switch together) says it all for that object's dependentSchemas.
  const nots = errors.filter((e) => e.keyword === 'not');
  // A property that may not be there at all: what else is wrong with it does not matter.
  const forbidden = errors.filter((e) => e.keyword === 'false schema').map((e) => e.instancePath);
  const underUmbrella = (e: ErrorObject) =>
    (e.keyword !== 'false schema' && forbidden.some((p) => e.instancePath === p || e.instancePath.startsWith(`${p}/`))) ||
    umbrellas.some((u) => u !== e && e.schemaPath.startsWith(`${u.schemaPath}/`) && e.instancePath.startsWith(u.instancePath)) ||
    (e.schemaPath.includes('/dependentSchemas/') && nots.some((n) => e.instancePath === n.instancePath || e.instancePath.startsWith(`${n.instancePath}/`)));
  const out: ValidationError[] = [];
  const seen = new Set<string>();
  const push = (segments: Array<string | number>, message: string) => {
    const path = dotted(base, segments);
    const key = `${path}\n${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ path, message });
    }
  };
  for (const e of errors) {
    if (underUmbrella(e)) continue;
    const at = pointerSegments(e.instancePath);
    const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
    const custom = typeof parent['x-error-message'] === 'string' ? (parent['x-error-message'] as string) : undefined;
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required':
        push(at, `missing required ${noun} '${params.missingProperty}'`);
        break;
      case 'additionalProperties': {
        const name = String(params.additionalProperty);
        const known = Object.keys((parent.properties ?? {}) as object);
        push([...at, name], `unknown ${noun} '${name}'${suggest(name, known)}`);
        break;
      }
      case 'propertyNames':
        break; // reported by the inner error, which names the property
      case 'type':
        push(at, typeMessage(params.type));
        break;
      case 'enum':
        push(at, `must be one of ${list(params.allowedValues as unknown[])}`);
        break;
      case 'const':
        push(at, `must be ${quote(params.allowedValue)}`);
        break;
      case 'pattern':
      case 'format': {
        const propertyName = (e as ErrorObject & { propertyName?: string }).propertyName;
        if (propertyName !== undefined) {
          push([...at, propertyName], `invalid key '${propertyName}': ${custom ?? `must match ${params.pattern}`}`);
        } else {
          push(at, custom ?? (e.keyword === 'pattern' ? `must match the pattern ${params.pattern}` : `must be a valid ${params.format}`));
        }
        break;
      }
      case 'minLength':
        push(at, params.limit === 1 ? 'must not be empty' : `must be at least ${params.limit} characters long`);
        break;
      case 'maxLength':
        push(at, `must be at most ${params.limit} characters long`);
        break;
      case 'minimum':
        push(at, `must be at least ${params.limit}`);
        break;
      case 'maximum':
        push(at, `must be at most ${params.limit}`);
        break;
      case 'exclusiveMinimum':
        push(at, `must be greater than ${params.limit}`);
        break;
      case 'exclusiveMaximum':
        push(at, `must be less than ${params.limit}`);
        break;
      case 'minItems':
        push(at, params.limit === 1 ? 'must not be empty' : `must have at least ${params.limit} items`);
        break;
      case 'maxItems':
        push(at, `must have at most ${params.limit} items`);
        break;
      case 'minProperties':
        push(at, `must have at least ${params.limit} properties`);
        break;
      case 'maxProperties':
        push(at, `must have at most ${params.limit} entries`);
        break;
      case 'uniqueItems': {
        const i = Number(params.i);
        const j = Number(params.j);
        const value = (e.data as unknown[] | undefined)?.[Math.max(i, j)];
        push([...at, Math.max(i, j)], `${quote(value)} appears twice (also at index ${Math.min(i, j)})`);
        break;
      }
      case 'discriminator': {
        const tag = String(params.tag);
        if (params.error === 'mapping') {
          push([...at, tag], `must be one of ${list(discriminatorValues(parent, root))}`);
        } else {
          const data = e.data as Record<string, unknown> | undefined;
          push(data && tag in data ? [...at, tag] : at, data && tag in data ? 'must be a string' : `missing required ${noun} '${tag}'`);
        }
        break;
      }
      case 'false schema': {
        // dependentSchemas: { if: { properties: { cases: false } } } → 'cases' cannot be used with 'if'.
        const m = /\/dependentSchemas\/([^/]+)\/properties\/([^/]+)/.exec(e.schemaPath);
        push(at, m ? `'${m[2]}' cannot be used with '${m[1]}'` : `${noun} '${at[at.length - 1]}' is not allowed here`);
        break;
      }
      case 'not':
        push(at, custom ?? 'must not match the forbidden form');
        break;
      case 'anyOf':
      case 'oneOf':
        push(at, custom ?? (e.keyword === 'oneOf' ? 'must match exactly one of the allowed forms' : 'must match one of the allowed forms'));
        break;
      default:
        push(at, e.message ?? `fails ${e.keyword}`);
    }
  }
  return out;
}

// ─── Semantic checks ─────────────────────────────────────────────────────────────────────────────

const BINDINGS = new Set<string>(BINDING_NAMES);
const LOOP_BINDINGS = new Set<string>(LOOP_BINDING_NAMES);
const RESERVED_HEADERS = new Set(['authorization', 'cookie', 'host']);
const ABSOLUTE_URL = /^[a-z][a-z0-9+.-]*:/i;

/** A JSON Schema for the values of one input (what the end user's setting must satisfy). */
export function inputJsonSchema(spec: InputSpec): Record<string, unknown> {
  const { title, description, required: _required, default: _default, ...rest } = spec as InputSpec & Record<string, unknown>;
  const schema: Record<string, unknown> = { title, ...(description ? { description } : {}) };
  const { options: _options, enum: enumValues, ...constraints } = rest as Record<string, unknown>;
  if (spec.type === 'array') {
    schema.type = 'array';
    schema.items = enumValues ? { type: 'string', enum: enumValues } : { type: 'string' };
    for (const k of ['minItems', 'maxItems'] as const) if (constraints[k] !== undefined) schema[k] = constraints[k];
  } else {
    Object.assign(schema, constraints);
    if (enumValues) schema.enum = enumValues;
  }
  return schema;
}

/** A JSON Schema for an instance's settings: an object with one property per input. */
export function settingsJsonSchema(inputs: Record<string, InputSpec>): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(inputs).map(([k, s]) => [k, inputJsonSchema(s)])),
    required: Object.entries(inputs)
      .filter(([, s]) => s.required && s.default === undefined)
      .map(([k]) => k),
  };
}

interface StepInfo {
  visit: StepVisit;
  path: string;
}

class SemanticChecker {
  readonly errors: ValidationError[] = [];
  /** Every step, in document order. */
  private readonly visits: StepInfo[] = [];
  /** Steps by id (the first one, when an id is duplicated). */
  private readonly steps = new Map<string, StepInfo>();
  private readonly listed: Set<string>;

  constructor(
    private readonly def: FlowDefinition,
    private readonly catalog: ConnectorCatalog,
  ) {
    this.listed = new Set(def.connectors);
  }

  private error(path: string, message: string) {
    this.errors.push({ path, message });
  }

  private connector(key: string): CatalogConnector | undefined {
    return Object.prototype.hasOwnProperty.call(this.catalog, key) ? this.catalog[key] : undefined;
  }

  run(): ValidationError[] {
    this.checkConnectorList();
    this.checkInputs();
    this.checkTrigger();
    this.collectSteps();
    for (const info of this.visits) this.checkStep(info);
    return this.errors;
  }

  private checkConnectorList() {
    this.def.connectors.forEach((binding, i) => {
      const key = bindingConnector(binding);
      if (!this.connector(key)) this.error(`connectors.${i}`, `unknown connector '${key}'${suggest(key, Object.keys(this.catalog))}`);
    });
  }

  /** A binding used by an input, a step or the trigger must be listed in `connectors`. */
  private checkListed(binding: string, path: string, what = 'connector'): boolean {
    if (this.listed.has(binding)) return true;
    this.error(path, `${what} '${binding}' is not listed in 'connectors'${suggest(binding, this.listed)}`);
    return false;
  }

  private checkInputs() {
    for (const [key, spec] of Object.entries(this.def.inputs)) {
      const path = joinPath('inputs', key);
      if ((spec.type === 'string' || spec.type === 'array') && spec.options) {
        if (spec.enum) this.error(path, "use either 'enum' or 'options', not both");
        const { connector: binding, source } = spec.options;
        if (this.checkListed(binding, `${path}.options.connector`)) {
          const connector = this.connector(bindingConnector(binding));
          const sources = Object.keys(connector?.options ?? {});
          if (connector && !sources.includes(source)) {
            this.error(
              `${path}.options.source`,
              `unknown options source '${source}' of connector '${bindingConnector(binding)}'${suggest(source, sources)}; it has ${sources.length ? list(sources) : 'none'}`,
            );
          }
        }
      }
      const range = (lo: string, hi: string) => {
        const a = (spec as unknown as Record<string, number | undefined>)[lo];
        const b = (spec as unknown as Record<string, number | undefined>)[hi];
        if (a !== undefined && b !== undefined && a > b) this.error(`${path}.${lo}`, `must not be greater than ${hi} (${b})`);
      };
      if (spec.type === 'string') {
        range('minLength', 'maxLength');
        if (spec.pattern !== undefined) {
          try {
            new RegExp(spec.pattern, 'u');
          } catch (error) {
            this.error(`${path}.pattern`, `invalid regular expression: ${(error as Error).message}`);
          }
        }
      }
      if (spec.type === 'number' || spec.type === 'integer') range('minimum', 'maximum');
      if (spec.type === 'array') range('minItems', 'maxItems');
      if (spec.default !== undefined && !this.errors.some((e) => e.path === path || e.path.startsWith(`${path}.`))) {
        const validate = inputValidator(spec);
        if (!validate(spec.default)) this.errors.push(...mapAjvErrors(validate.errors ?? [], `${path}.default`));
      }
    }
  }

  private checkTrigger() {
    const trigger = this.def.trigger;
    if (trigger.type === 'schedule') {
      if (isExpression(trigger.cron)) this.checkSettingExpression(trigger.cron, 'trigger.cron');
      else this.errorIf('trigger.cron', cronProblem(trigger.cron));
      if (isExpression(trigger.timezone)) this.checkSettingExpression(trigger.timezone, 'trigger.timezone');
      else this.errorIf('trigger.timezone', timeZoneProblem(trigger.timezone));
    }
    if (trigger.type === 'webhook' && trigger.connector !== undefined) {
      if (trigger.verify) this.error('trigger', "use either 'connector' (the provider's own signatures) or 'verify', not both");
      if (this.checkListed(trigger.connector, 'trigger.connector') && !this.connector(bindingConnector(trigger.connector))) {
        this.error('trigger.connector', `unknown connector '${bindingConnector(trigger.connector)}'`);
      }
    }
    if (trigger.type === 'webhook' && trigger.connector === undefined && (trigger.event !== undefined || trigger.input !== undefined)) {
      this.error('trigger', "'event' and 'input' need 'connector': the connector whose events start the flow");
    }
    if ((trigger.type === 'poll' || trigger.type === 'webhook') && trigger.connector !== undefined && trigger.event !== undefined) {
      this.checkConnectorTrigger(trigger.type, trigger.connector, trigger.event, trigger.input);
    }
    if (trigger.type === 'poll' && trigger.interval !== undefined) {
      if (isExpression(trigger.interval)) this.checkSettingExpression(trigger.interval, 'trigger.interval');
      else {
        const min = this.connector(bindingConnector(trigger.connector))?.triggers?.[trigger.event]?.minIntervalSeconds ?? DEFAULT_MIN_POLL_SECONDS;
        const ms = durationMs(trigger.interval);
        if (ms !== undefined && ms < min * 1000) this.error('trigger.interval', `must be at least ${min} seconds for ${trigger.connector} ${trigger.event} (got ${ms / 1000})`);
      }
    }
  }

  /** A connector trigger exists with this kind, and its input fits the trigger's parameters. */
  private checkConnectorTrigger(kind: 'poll' | 'webhook', binding: string, event: string, input: Record<string, unknown> | undefined) {
    if (!this.checkListed(binding, 'trigger.connector')) return;
    const key = bindingConnector(binding);
    const connector = this.connector(key);
    if (!connector) return this.error('trigger.connector', `unknown connector '${key}'`);
    const own = Object.entries(connector.triggers ?? {})
      .filter(([, t]) => t.kind === kind)
      .map(([k]) => k);
    const definition = Object.prototype.hasOwnProperty.call(connector.triggers ?? {}, event) ? connector.triggers![event] : undefined;
    if (!definition || definition.kind !== kind) {
      const other = definition ? ` ('${event}' is a ${definition.kind} trigger: use "type": "${definition.kind}")` : suggest(event, own);
      return this.error('trigger.event', `unknown ${kind} trigger '${event}' of connector '${key}'${other}; it has ${own.length ? list(own) : 'none'}`);
    }
    if (kind === 'webhook' && !connector.webhooks) return this.error('trigger.event', `connector '${key}' does not receive webhooks`);
    this.checkActionInput(input, definition.input ?? { type: 'object', properties: {}, additionalProperties: false }, `${key} ${event}`, 'trigger');
    for (const [k, value] of Object.entries(input ?? {})) {
      if (typeof value === 'string' && isExpression(value)) this.checkSettingExpression(value, joinPath('trigger.input', k));
    }
  }

  private errorIf(path: string, message: string | null) {
    if (message) this.error(path, message);
  }

  /** Trigger settings are evaluated when an instance is enabled: only $inputs and $endUser exist then. */
  private checkSettingExpression(source: string, path: string) {
    const analysis = this.compile(source, path);
    if (!analysis) return;
    for (const v of analysis.variables) {
      if (v.name !== 'inputs' && v.name !== 'endUser') {
        this.error(path, `'$${v.name}' is not available here: the trigger's settings are computed when the flow is enabled, from $inputs and $endUser only`);
      }
    }
    this.checkInputMembers(analysis.members, path);
  }

  private compile(source: string, path: string): ReturnType<typeof analyzeExpression> | undefined {
    try {
      compileExpression(source);
      return analyzeExpression(source);
    } catch (error) {
      this.error(path, error instanceof ExpressionError ? error.message : `Invalid expression: ${String(error)}`);
      return undefined;
    }
  }

  private checkInputMembers(members: ReturnType<typeof analyzeExpression>['members'], path: string) {
    for (const m of members) {
      if (m.variable === 'inputs' && !Object.prototype.hasOwnProperty.call(this.def.inputs, m.member)) {
        this.error(path, `unknown input '${m.member}'${suggest(m.member, Object.keys(this.def.inputs))}`);
      }
    }
  }

  private collectSteps() {
    let count = 0;
    forEachStep(this.def.steps, (visit) => {
      count++;
      const path = dotted('', pointerSegments(visit.pointer));
      if (visit.ancestors.length === FLOW_LIMITS.maxDepth) {
        // depth = ancestors + 1; reported once, at the first level too deep
        this.error(path, `nested too deep: branches and loops may nest at most ${FLOW_LIMITS.maxDepth} levels`);
      }
      this.visits.push({ visit, path });
      const first = this.steps.get(visit.step.id);
      if (first) this.error(`${path}.id`, `duplicate step id '${visit.step.id}' (also used at ${first.path})`);
      else this.steps.set(visit.step.id, { visit, path });
    });
    if (count > FLOW_LIMITS.maxSteps) this.error('steps', `too many steps: ${count} (at most ${FLOW_LIMITS.maxSteps}, nested ones included)`);
  }

  private checkStep(info: StepInfo) {
    const { visit, path } = info;
    const step = visit.step;
    switch (step.type) {
      case 'action': {
        const connector = this.checkStepConnector(step.connector, step.connection, path);
        if (!connector) break;
        const action = connector.actions[step.action];
        if (!action) {
          const actions = Object.keys(connector.actions);
          this.error(`${path}.action`, `unknown action '${step.action}' of connector '${step.connector}'${suggest(step.action, actions)}; it has ${list(actions)}`);
          break;
        }
        this.checkActionInput(step.input, action.input, `${step.connector}.${step.action}`, path);
        break;
      }
      case 'request':
        this.checkStepConnector(step.connector, step.connection, path);
        if (!isExpression(step.path) && ABSOLUTE_URL.test(step.path)) {
          this.error(`${path}.path`, "must be relative to the connector's base URL, not an absolute URL");
        }
        for (const name of Object.keys(step.headers ?? {})) {
          if (RESERVED_HEADERS.has(name.toLowerCase())) this.error(joinPath(`${path}.headers`, name), `'${name}' comes from the connection and cannot be set`);
        }
        break;
      case 'branch':
        if (isSwitchBranch(step)) {
          const seen = new Map<string, number>();
          step.cases.forEach((c, i) => {
            if (isExpression(c.when)) return;
            const key = JSON.stringify(literalValue(c.when));
            const first = seen.get(key);
            if (first !== undefined) this.error(`${path}.cases.${i}.when`, `duplicate case value (same as cases.${first})`);
            else seen.set(key, i);
          });
        }
        break;
      case 'delay':
        if (typeof step.for === 'string' && !isExpression(step.for)) {
          const ms = durationMs(step.for);
          if (ms !== undefined && ms > FLOW_LIMITS.maxDelayMs) this.error(`${path}.for`, 'must be at most 365 days');
          if (ms === 0) this.error(`${path}.for`, 'must be longer than 0');
        }
        break;
      case 'approval':
        if (step.onTimeout !== undefined && step.timeoutMs === undefined) this.error(`${path}.onTimeout`, "needs 'timeoutMs'");
        break;
      case 'agent':
        this.checkAgent(step, path, visit);
        break;
      case 'respond':
        if (visit.ancestors.some((a) => a.step.type === 'loop')) {
          this.error(path, `respond cannot be inside a loop (it is inside loop '${visit.ancestors.filter((a) => a.step.type === 'loop').pop()!.step.id}')`);
        }
        break;
      default:
        break;
    }
    for (const [source, at] of stepExpressions(step, path)) this.checkExpression(source, at, visit);
  }

  /** Tools name listed bindings' existing actions; approvals name given tools; context names earlier steps. */
  private checkAgent(step: AgentStep, path: string, visit: StepVisit) {
    const tools = step.tools ?? [];
    const names = new Map<string, string>();
    tools.forEach((tool, i) => {
      const at = `${path}.tools.${i}`;
      const { binding, action } = splitAgentTool(tool);
      const key = bindingConnector(binding);
      const connector = this.connector(key);
      if (!connector) return this.error(at, `unknown connector '${key}'${suggest(key, Object.keys(this.catalog))}`);
      if (!this.checkListed(binding, at, binding === key ? 'connector' : 'connection')) return;
      if (!connector.actions[action]) {
        const actions = Object.keys(connector.actions);
        return this.error(at, `unknown action '${action}' of connector '${key}'${suggest(action, actions)}; it has ${list(actions)}`);
      }
      const name = agentToolName(tool);
      const first = names.get(name);
      if (first) this.error(at, `'${tool}' and '${first}' would both be the model's tool '${name}'`);
      else names.set(name, tool);
    });
    (step.approve ?? []).forEach((tool, i) => {
      if (!tools.includes(tool)) this.error(`${path}.approve.${i}`, `'${tool}' is not one of the agent's tools${suggest(tool, tools)}`);
    });
    (step.context ?? []).forEach((id, i) => this.checkStepReference(id, `${path}.context.${i}`, visit));
    if (step.output !== undefined) {
      try {
        makeAjv(false).compile(step.output);
      } catch (error) {
        this.error(`${path}.output`, `is not a valid JSON Schema: ${(error as Error).message}`);
      }
    }
  }

  private checkStepConnector(key: string, connection: string | undefined, path: string): CatalogConnector | undefined {
    const connector = this.connector(key);
    if (!connector) {
      this.error(`${path}.connector`, `unknown connector '${key}'${suggest(key, Object.keys(this.catalog))}`);
      return undefined;
    }
    if (connection !== undefined) {
      if (this.checkListed(connection, `${path}.connection`, 'connection') && bindingConnector(connection) !== key) {
        this.error(`${path}.connection`, `'${connection}' is a connection of '${bindingConnector(connection)}', not of '${key}'`);
      }
    } else {
      this.checkListed(key, `${path}.connector`);
    }
    return connector;
  }

  private checkActionInput(given: Record<string, unknown> | undefined, schema: Record<string, unknown>, name: string, path: string) {
    const input = given ?? {};
    const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
    const required = (schema.required ?? []) as string[];
    const extrasAllowed = schema.additionalProperties !== undefined && schema.additionalProperties !== false;
    const inputPath = `${path}.input`;
    for (const key of required) {
      if (!Object.prototype.hasOwnProperty.call(input, key)) this.error(given ? `${path}.input` : path, `missing required input '${key}' of ${name}`);
    }
    for (const [key, value] of Object.entries(input)) {
      const at = joinPath(inputPath, key);
      const propertySchema = Object.prototype.hasOwnProperty.call(properties, key) ? properties[key] : undefined;
      if (!propertySchema) {
        if (!extrasAllowed) this.error(at, `unknown input '${key}' of ${name}${suggest(key, Object.keys(properties))}`);
        continue;
      }
      if (containsExpression(value)) continue; // known at run time only
      const validate = validatorFor(propertySchema);
      if (!validate(literalValue(value))) this.errors.push(...mapAjvErrors(validate.errors ?? [], at));
    }
  }

  private checkExpression(source: string, path: string, visit: StepVisit) {
    const analysis = this.compile(source, path);
    if (!analysis) return;
    const inLoop = visit.ancestors.some((a) => a.step.type === 'loop');
    const reported = new Set<string>();
    for (const v of analysis.variables) {
      if (reported.has(v.name)) continue;
      reported.add(v.name);
      if (BINDINGS.has(v.name)) continue;
      if (LOOP_BINDINGS.has(v.name)) {
        if (!inLoop) this.error(path, `'$${v.name}' is only defined inside a loop's steps`);
        continue;
      }
      if (v.call) {
        this.error(
          path,
          `unknown function '$${v.name}()'${suggest(
            `$${v.name}`,
            [...JSONATA_BUILTINS].map((f) => `$${f}`),
          )}`,
        );
      } else {
        this.error(
          path,
          `unknown variable '$${v.name}'${suggest(
            `$${v.name}`,
            [...BINDINGS, ...LOOP_BINDINGS].map((b) => `$${b}`),
          )}; the bindings are $trigger, $inputs, $steps, $endUser, $run (and $item, $index in loops)`,
        );
      }
    }
    this.checkInputMembers(analysis.members, path);
    for (const m of analysis.members) {
      if (m.variable === 'steps') this.checkStepReference(m.member, path, visit);
    }
  }

  /**
   * `$steps.<id>` must name a step that can have finished before this one runs: earlier in document
   * order, not one containing this step, not in another arm of a branch this step is in, and not
   * inside a loop this step is not in (after a loop, its result is `$steps.<loop id>`).
   */
  private checkStepReference(id: string, path: string, visit: StepVisit) {
    const target = this.steps.get(id);
    if (!target) {
      this.error(path, `unknown step '${id}'${suggest(id, this.steps.keys())}`);
      return;
    }
    const t = target.visit;
    if (t.step === visit.step) {
      this.error(path, `step '${id}' cannot use its own output`);
      return;
    }
    if (visit.ancestors.some((a) => a.step === t.step)) {
      this.error(path, `step '${id}' contains this step and has not finished when it runs`);
      return;
    }
    if (t.order > visit.order) {
      this.error(path, `step '${id}' runs after this step`);
      return;
    }
    for (let k = 0; k < Math.min(t.ancestors.length, visit.ancestors.length); k++) {
      const a = t.ancestors[k];
      const b = visit.ancestors[k];
      if (a.step !== b.step) break;
      if (a.arm !== b.arm) {
        this.error(path, `step '${id}' is in another arm of branch '${a.step.id}' (${a.arm.replace('/', '.')}) and never runs before this step`);
        return;
      }
    }
    const loop = t.ancestors.find((a) => a.step.type === 'loop' && !visit.ancestors.some((b) => b.step === a.step));
    if (loop) {
      this.error(path, `step '${id}' is inside loop '${loop.step.id}'; outside the loop use $steps.${loop.step.id} (one result per iteration)`);
    }
  }
}

/** The expression strings among a step's own fields (not its children's), with their paths. */
function stepExpressions(step: Step, path: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (value: unknown, at: string) => {
    if (typeof value === 'string') {
      if (isExpression(value)) out.push([value, at]);
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, joinPath(at, i)));
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, joinPath(at, k));
  };
  const field = (name: string) => walk((step as unknown as Record<string, unknown>)[name], `${path}.${name}`);
  switch (step.type) {
    case 'action':
      field('input');
      break;
    case 'request':
      ['path', 'query', 'headers', 'body'].forEach(field);
      break;
    case 'transform':
    case 'respond':
      field('output');
      break;
    case 'branch':
      if (isSwitchBranch(step)) {
        field('switch');
        step.cases.forEach((c, i) => walk(c.when, `${path}.cases.${i}.when`));
      } else field('if');
      break;
    case 'loop':
      field('over');
      break;
    case 'delay':
      field('for');
      field('until');
      break;
    case 'approval':
      field('title');
      field('description');
      break;
    case 'agent':
      field('instructions');
      field('input');
      break;
  }
  return out;
}

/**
 * Validates a flow template version document. Schema errors come first and alone (semantic checks
 * need a well-formed document); a well-formed document then gets every semantic check.
 */
export function validateDefinition(doc: unknown, catalog: ConnectorCatalog = sharedConnectors()): ValidationResult {
  const schemaErrors = validateSchema(doc);
  if (schemaErrors.length) return { ok: false, errors: mapAjvErrors(schemaErrors, '', flowDefinitionSchema as unknown as Record<string, unknown>) };
  // A flow without connections or settings may leave them out; the stored version has them.
  const given = doc as Partial<FlowDefinition>;
  const definition = { ...given, connectors: given.connectors ?? [], inputs: given.inputs ?? {} } as FlowDefinition;
  const errors = new SemanticChecker(definition, catalog).run();
  return errors.length ? { ok: false, errors } : { ok: true, definition };
}

/**
 * validateDefinition, then the check that runs the template's own regular expressions (a string
 * input's default against its `pattern`) — in the expression sandbox, so a catastrophic pattern
 * cannot block the API. What the API's validate and publish use.
 */
export async function validateDefinitionWithPatterns(doc: unknown, catalog: ConnectorCatalog = sharedConnectors()): Promise<ValidationResult> {
  const result = validateDefinition(doc, catalog);
  if (!result.ok) return result;
  const errors: ValidationError[] = [];
  for (const [key, spec] of Object.entries(result.definition.inputs)) {
    if (spec.type !== 'string' || spec.pattern === undefined || typeof spec.default !== 'string') continue;
    try {
      if (!(await matchesPattern(spec.pattern, spec.default))) errors.push({ path: `inputs.${key}.default`, message: `must match the pattern ${spec.pattern}` });
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      errors.push({ path: `inputs.${key}.default`, message: `must match the pattern ${spec.pattern} (checking it was stopped: ${error.message})` });
    }
  }
  return errors.length ? { ok: false, errors } : result;
}
