import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allConnectors } from '@switchboard/connectors';
import { afterAll, describe, expect, it } from 'vitest';
import { stopExpressionSandbox } from './expression-sandbox';
import { benchmarkReferenceFlow, everyFeature, wonDealsToSlack } from './fixtures';
import { FLOW_LIMITS } from './flow-definition.schema';
import { ConnectorCatalog, inputJsonSchema, settingsJsonSchema, validateDefinition, validateDefinitionWithPatterns, ValidationError } from './validate-definition';

type Doc = any;

/** The docs/architecture.md reference flow, changed by `change`. */
function flow(change: (d: Doc) => void = () => {}): Doc {
  const d: Doc = wonDealsToSlack();
  change(d);
  return d;
}

/** The same with `steps` replaced. */
function withSteps(steps: Doc[], change: (d: Doc) => void = () => {}): Doc {
  return flow((d) => {
    d.steps = steps;
    change(d);
  });
}

function errors(doc: unknown, catalog?: ConnectorCatalog): ValidationError[] {
  const result = catalog ? validateDefinition(doc, catalog) : validateDefinition(doc);
  return result.ok ? [] : result.errors;
}

function expectErrors(doc: unknown, expected: Array<[path: string, message: string]>, catalog?: ConnectorCatalog) {
  expect(errors(doc, catalog)).toEqual(expected.map(([path, message]) => ({ path, message })));
}

const post = (input: Record<string, unknown> = { channel: 'C1', text: 'hi' }, more: Record<string, unknown> = {}) => ({
  id: 'post',
  type: 'action',
  connector: 'slack',
  action: 'send_message',
  input,
  ...more,
});
const transform = (id: string, output: unknown = {}) => ({ id, type: 'transform', output });

describe('validateDefinition: valid documents', () => {
  it('accepts the reference flow of docs/architecture.md and returns it typed', () => {
    const doc = wonDealsToSlack();
    const result = validateDefinition(doc);
    expect(result).toEqual({ ok: true, definition: doc });
    const markdown = readFileSync(join(__dirname, '../../../../docs/architecture.md'), 'utf8');
    const shown = [...markdown.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]) as Doc);
    expect(shown).toEqual([doc]);
  });

  it('accepts the benchmark reference flow (bench/engine.mjs)', () => {
    expect(errors(benchmarkReferenceFlow())).toEqual([]);
  });

  it('accepts every complete example document in docs/flows.md', () => {
    const markdown = readFileSync(join(__dirname, '../../../../docs/flows.md'), 'utf8');
    const docs = [...markdown.matchAll(/```json\n([\s\S]*?)```/g)]
      .map((m) => {
        try {
          return JSON.parse(m[1]) as Doc;
        } catch {
          return undefined; // fragments
        }
      })
      .filter((d) => d && typeof d.key === 'string');
    expect(docs.map((d) => d.key)).toEqual(['won-deals-to-slack', 'daily-digest', 'reference-flow', 'weekly-repo-digest']);
    for (const d of docs) expect({ key: d.key, errors: errors(d) }).toEqual({ key: d.key, errors: [] });
    expect(docs[0]).toEqual(wonDealsToSlack());
  });

  it('accepts every step type and trigger in one document', () => {
    expect(errors(everyFeature())).toEqual([]);
  });

  it('accepts the other triggers', () => {
    for (const trigger of [
      { type: 'request' },
      { type: 'webhook' },
      { type: 'webhook', connector: 'slack' },
      { type: 'webhook', verify: { header: 'X-Signature', algorithm: 'sha1', encoding: 'base64', prefix: 'sha1=' } },
      { type: 'schedule', cron: '=$inputs.cron', timezone: '=$endUser.metadata.timezone' },
      { type: 'schedule', cron: '*/5 * * * *', timezone: 'UTC' },
    ]) {
      expect(
        errors(
          flow((d) => {
            d.trigger = trigger;
            d.inputs.cron = { type: 'string', title: 'Schedule', default: '0 9 * * *' };
          }),
        ),
      ).toEqual([]);
    }
  });

  it('accepts a custom catalog (what the admin API passes for a tenant)', () => {
    const catalog: ConnectorCatalog = {
      acme: { actions: { ping: { input: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'], additionalProperties: false } } } },
    };
    const doc = withSteps([{ id: 'p', type: 'action', connector: 'acme', action: 'ping', input: { n: 1 } }], (d) => {
      d.connectors = ['acme'];
      d.inputs = {};
    });
    expect(errors(doc, catalog)).toEqual([]);
    expectErrors(
      flow(),
      [
        ['connectors.0', "unknown connector 'slack'"],
        ['steps.0.then.0.connector', "unknown connector 'slack'"],
      ],
      catalog,
    );
  });
});

describe('validateDefinition: structure (JSON Schema)', () => {
  it('wants an object', () => {
    expectErrors(null, [['', 'must be an object']]);
    expectErrors([], [['', 'must be an object']]);
  });

  it('names missing top-level properties', () => {
    expectErrors({ key: 'a', name: 'A', trigger: { type: 'request' }, connectors: [], inputs: {} }, [['', "missing required property 'steps'"]]);
  });

  it('lets a flow without connections or settings leave them out, and fills them in', () => {
    const result = validateDefinition({ key: 'a', name: 'A', trigger: { type: 'request' }, steps: [{ id: 'x', type: 'transform', output: 1 }] });
    expect(result).toMatchObject({ ok: true, definition: { connectors: [], inputs: {} } });
    expectErrors({ key: 'a', name: 'A', trigger: { type: 'request' }, steps: [{ id: 'x', type: 'transform', output: '=$inputs.missing' }] }, [
      ['steps.0.output', "unknown input 'missing'"],
    ]);
  });

  it('rejects unknown properties, suggesting the closest known one', () => {
    expectErrors(
      flow((d) => (d.stpes = [])),
      [['stpes', "unknown property 'stpes' (did you mean 'steps'?)"]],
    );
    expectErrors(
      flow((d) => (d.steps[0].then[0].conection = 'slack')),
      [['steps.0.then.0.conection', "unknown property 'conection' (did you mean 'connection'?)"]],
    );
    expectErrors(
      flow((d) => (d.whatever = 1)),
      [['whatever', "unknown property 'whatever'"]],
    );
  });

  it('checks key, name and description', () => {
    expectErrors(
      flow((d) => (d.key = 'Won Deals')),
      [['key', "must be kebab-case (lowercase letters and digits joined by '-'), e.g. 'won-deals-to-slack'"]],
    );
    expectErrors(
      flow((d) => (d.key = 'a'.repeat(65))),
      [['key', 'must be at most 64 characters long']],
    );
    expectErrors(
      flow((d) => (d.name = '')),
      [['name', 'must not be empty']],
    );
    expectErrors(
      flow((d) => (d.description = 5)),
      [['description', 'must be a string']],
    );
  });

  it('wants at least one step', () => {
    expectErrors(withSteps([]), [['steps', 'must not be empty']]);
  });

  describe('trigger', () => {
    it('names the allowed types', () => {
      expectErrors(
        flow((d) => (d.trigger = { type: 'cron' })),
        [['trigger.type', "must be one of 'event', 'request', 'schedule', 'poll', 'webhook'"]],
      );
      expectErrors(
        flow((d) => (d.trigger = {})),
        [['trigger', "missing required property 'type'"]],
      );
      expectErrors(
        flow((d) => (d.trigger = { type: 5 })),
        [['trigger.type', 'must be a string']],
      );
    });

    it('checks event triggers', () => {
      expectErrors(
        flow((d) => (d.trigger = { type: 'event' })),
        [['trigger', "missing required property 'event'"]],
      );
      expectErrors(
        flow((d) => (d.trigger = { type: 'event', event: 'deal won' })),
        [['trigger.event', "must be an event name like 'deal.won' (letters, digits, '_', '.', ':', '-')"]],
      );
    });

    it('checks request triggers', () => {
      expectErrors(
        flow((d) => (d.trigger = { type: 'request', event: 'x' })),
        [['trigger.event', "unknown property 'event'"]],
      );
    });

    it('checks schedule triggers', () => {
      expectErrors(
        flow((d) => (d.trigger = { type: 'schedule', cron: '0 9 * * *' })),
        [['trigger', "missing required property 'timezone'"]],
      );
    });

    it('checks webhook triggers', () => {
      expectErrors(
        flow((d) => (d.trigger = { type: 'webhook', verify: { header: 'X Sig', algorithm: 'md5' } })),
        [
          ['trigger.verify.header', 'must be an HTTP header name'],
          ['trigger.verify.algorithm', "must be one of 'sha256', 'sha1'"],
        ],
      );
      expectErrors(
        flow((d) => (d.trigger = { type: 'webhook', verify: {} })),
        [['trigger.verify', "missing required property 'header'"]],
      );
    });
  });

  describe('connectors', () => {
    it('wants connector keys or aliases, each once', () => {
      expectErrors(
        flow((d) => (d.connectors = ['slack', 'Slack', 'slack'])),
        [
          ['connectors.1', "must be a connector key, or '<connector>:<alias>' (lowercase)"],
          ['connectors.2', "'slack' appears twice (also at index 0)"],
        ],
      );
      expectErrors(
        flow((d) => (d.connectors = 'slack')),
        [['connectors', 'must be an array']],
      );
      expectErrors(
        flow((d) => d.connectors.push(...Array.from({ length: FLOW_LIMITS.maxConnectors }, (_, i) => `slack:a${i}`))),
        [['connectors', `must have at most ${FLOW_LIMITS.maxConnectors} items`]],
      );
    });
  });

  describe('inputs', () => {
    it('wants input keys usable in expressions', () => {
      expectErrors(
        flow((d) => (d.inputs['min amount'] = { type: 'number', title: 'Min' })),
        [['inputs["min amount"]', "invalid key 'min amount': must be an input key: a letter, then letters, digits or '_' (at most 63 characters)"]],
      );
    });

    it('names the allowed input types', () => {
      expectErrors(
        flow((d) => (d.inputs.minAmount.type = 'float')),
        [['inputs.minAmount.type', "must be one of 'string', 'number', 'integer', 'boolean', 'array'"]],
      );
    });

    it('wants a title', () => {
      expectErrors(
        flow((d) => delete d.inputs.channel.title),
        [['inputs.channel', "missing required property 'title'"]],
      );
    });

    it('allows only the fields of the input type', () => {
      expectErrors(
        flow((d) => (d.inputs.minAmount.options = { connector: 'slack', source: 'channels' })),
        [['inputs.minAmount.options', "unknown property 'options'"]],
      );
      expectErrors(
        flow((d) => (d.inputs.channel.minimum = 1)),
        [['inputs.channel.minimum', "unknown property 'minimum'"]],
      );
      expectErrors(
        flow((d) => (d.inputs.flag = { type: 'boolean', title: 'Flag', enum: [true] })),
        [['inputs.flag.enum', "unknown property 'enum'"]],
      );
    });

    it('type-checks default and enum', () => {
      expectErrors(
        flow((d) => (d.inputs.minAmount.default = '0')),
        [['inputs.minAmount.default', 'must be a number']],
      );
      expectErrors(
        flow((d) => (d.inputs.n = { type: 'integer', title: 'N', default: 1.5 })),
        [['inputs.n.default', 'must be an integer']],
      );
      expectErrors(
        flow((d) => (d.inputs.tags = { type: 'array', title: 'Tags', default: [1] })),
        [['inputs.tags.default.0', 'must be a string']],
      );
      expectErrors(
        flow((d) => (d.inputs.level = { type: 'string', title: 'Level', enum: [] })),
        [['inputs.level.enum', 'must not be empty']],
      );
      expectErrors(
        flow((d) => (d.inputs.level = { type: 'string', title: 'Level', enum: ['a', 'a'] })),
        [['inputs.level.enum.1', "'a' appears twice (also at index 0)"]],
      );
    });

    it('checks options references structurally', () => {
      expectErrors(
        flow((d) => (d.inputs.channel.options = { connector: 'slack' })),
        [['inputs.channel.options', "missing required property 'source'"]],
      );
    });

    it(`allows at most ${FLOW_LIMITS.maxInputs} inputs`, () => {
      expectErrors(
        flow((d) => {
          for (let i = 0; i < FLOW_LIMITS.maxInputs; i++) d.inputs[`x${i}`] = { type: 'boolean', title: 'X' };
        }),
        [['inputs', `must have at most ${FLOW_LIMITS.maxInputs} entries`]],
      );
    });
  });

  describe('steps', () => {
    it('names the step types', () => {
      expectErrors(
        flow((d) => (d.steps[0].type = 'if')),
        [['steps.0.type', "must be one of 'action', 'request', 'transform', 'branch', 'loop', 'delay', 'approval', 'respond', 'agent'"]],
      );
      expectErrors(
        flow((d) => delete d.steps[0].type),
        [['steps.0', "missing required property 'type'"]],
      );
    });

    it('checks step ids', () => {
      expectErrors(
        flow((d) => (d.steps[0].then[0].id = 'Post')),
        [['steps.0.then.0.id', "must be a step id: a lowercase letter, then letters, digits or '_' (at most 63 characters)"]],
      );
      expectErrors(
        flow((d) => (d.steps[0].then[0].id = 'post-it')),
        [['steps.0.then.0.id', "must be a step id: a lowercase letter, then letters, digits or '_' (at most 63 characters)"]],
      );
      expectErrors(
        flow((d) => (d.steps[0].then[0].id = 'p'.repeat(64))),
        [['steps.0.then.0.id', "must be a step id: a lowercase letter, then letters, digits or '_' (at most 63 characters)"]],
      );
      expectErrors(
        flow((d) => delete d.steps[0].id),
        [['steps.0', "missing required property 'id'"]],
      );
    });

    it('checks action steps', () => {
      expectErrors(withSteps([{ id: 'a', type: 'action', conector: 'slack', action: 'send_message' }]), [
        ['steps.0', "missing required property 'connector'"],
        ['steps.0.conector', "unknown property 'conector' (did you mean 'connector'?)"],
      ]);
      expectErrors(withSteps([post('hello' as never)]), [['steps.0.input', 'must be an object']]);
      expectErrors(withSteps([post(undefined, { retry: { attempts: 11 } })]), [['steps.0.retry.attempts', 'must be at most 10']]);
      expectErrors(withSteps([post(undefined, { retry: { attempts: 2, backoff: { initialMs: 100 } } })]), [['steps.0.retry.backoff', "missing required property 'maxMs'"]]);
      expectErrors(withSteps([post(undefined, { retry: { attempts: 2, backoff: { initialMs: 100, maxMs: 200, multiplier: 0.5 } } })]), [
        ['steps.0.retry.backoff.multiplier', 'must be at least 1'],
      ]);
      expectErrors(withSteps([post(undefined, { timeoutMs: 50 })]), [['steps.0.timeoutMs', 'must be at least 100']]);
      expectErrors(withSteps([post(undefined, { timeoutMs: 1.5e6 })]), [['steps.0.timeoutMs', 'must be at most 900000']]);
      expectErrors(withSteps([post(undefined, { connection: 'Slack' })]), [['steps.0.connection', "must be a connector key, or '<connector>:<alias>' (lowercase)"]]);
    });

    it('checks request steps', () => {
      const req = (more: Record<string, unknown>) => ({ id: 'r', type: 'request', connector: 'slack', method: 'GET', path: 'auth.test', ...more });
      expectErrors(withSteps([req({ method: 'get' })]), [['steps.0.method', "must be one of 'GET', 'POST', 'PUT', 'PATCH', 'DELETE'"]]);
      expectErrors(withSteps([req({ path: '' })]), [['steps.0.path', 'must not be empty']]);
      expectErrors(withSteps([req({ query: { a: { b: 1 } } })]), [['steps.0.query.a', 'must be a string, a number or a boolean']]);
      expectErrors(withSteps([req({ headers: { 'X Bad': 'v' } })]), [['steps.0.headers["X Bad"]', "invalid key 'X Bad': must be an HTTP header name"]]);
      expectErrors(withSteps([req({ headers: { 'X-N': 1 } })]), [['steps.0.headers.X-N', 'must be a string']]);
      expectErrors(withSteps([req({ failOnError: 'no' })]), [['steps.0.failOnError', 'must be a boolean']]);
    });

    it('checks transform steps', () => {
      expectErrors(withSteps([{ id: 't', type: 'transform' }]), [['steps.0', "missing required property 'output'"]]);
    });

    it('checks the if form of branch steps', () => {
      expectErrors(withSteps([{ id: 'b', type: 'branch', then: [] }]), [['steps.0', "a branch needs 'if' (with 'then') or 'switch' (with 'cases')"]]);
      expectErrors(withSteps([{ id: 'b', type: 'branch', if: '=true' }]), [['steps.0', "missing required property 'then'"]]);
      expectErrors(withSteps([{ id: 'b', type: 'branch', if: 'true', then: [] }]), [['steps.0.if', "must be an expression (a string starting with '=')"]]);
      expectErrors(withSteps([{ id: 'b', type: 'branch', if: '==x', then: [] }]), [['steps.0.if', "must be an expression (a string starting with '=')"]]);
      expectErrors(withSteps([{ id: 'b', type: 'branch', if: '=true', then: [], cases: [] }]), [['steps.0.cases', "'cases' cannot be used with 'if'"]]);
      expectErrors(withSteps([{ id: 'b', type: 'branch', if: '=true', then: [{ id: 'x', type: 'nope' }] }]), [
        ['steps.0.then.0.type', "must be one of 'action', 'request', 'transform', 'branch', 'loop', 'delay', 'approval', 'respond', 'agent'"],
      ]);
    });

    it('checks the switch form of branch steps', () => {
      expectErrors(withSteps([{ id: 'b', type: 'branch', switch: '=1' }]), [['steps.0', "missing required property 'cases'"]]);
      expectErrors(withSteps([{ id: 'b', type: 'branch', switch: '=1', cases: [] }]), [['steps.0.cases', 'must not be empty']]);
      expectErrors(withSteps([{ id: 'b', type: 'branch', switch: '=1', cases: Array.from({ length: FLOW_LIMITS.maxSwitchCases + 1 }, (_, i) => ({ when: i, steps: [] })) }]), [
        ['steps.0.cases', `must have at most ${FLOW_LIMITS.maxSwitchCases} items`],
      ]);
      expectErrors(withSteps([{ id: 'b', type: 'branch', switch: '=1', cases: [{ when: 1, steps: [] }], else: [] }]), [['steps.0.else', "'else' cannot be used with 'switch'"]]);
      expectErrors(withSteps([{ id: 'b', type: 'branch', switch: '=1', cases: [{ when: { a: 1 }, steps: [] }] }]), [
        ['steps.0.cases.0.when', 'must be a string, a number, a boolean or null'],
      ]);
      expectErrors(withSteps([{ id: 'b', type: 'branch', switch: '=1', cases: [{ when: 1 }] }]), [['steps.0.cases.0', "missing required property 'steps'"]]);
      expectErrors(withSteps([{ id: 'b', type: 'branch', switch: '=1', cases: [{ when: 1, steps: [] }], if: '=true', then: [] }]), [
        ['steps.0', "use either 'if' (with 'then'/'else') or 'switch' (with 'cases'/'default'), not both"],
      ]);
    });

    it('checks loop steps', () => {
      const loop = (more: Record<string, unknown>) => ({ id: 'l', type: 'loop', over: '=[1,2]', steps: [transform('t')], ...more });
      expectErrors(withSteps([loop({ over: '$trigger.items' })]), [['steps.0.over', "must be an expression (a string starting with '=')"]]);
      expectErrors(withSteps([loop({ concurrency: 0 })]), [['steps.0.concurrency', 'must be at least 1']]);
      expectErrors(withSteps([loop({ concurrency: 21 })]), [['steps.0.concurrency', 'must be at most 20']]);
      expectErrors(withSteps([loop({ maxIterations: 1001 })]), [['steps.0.maxIterations', 'must be at most 1000']]);
      expectErrors(withSteps([loop({ maxIterations: 0 })]), [['steps.0.maxIterations', 'must be at least 1']]);
      expectErrors(withSteps([loop({ steps: [] })]), [['steps.0.steps', 'must not be empty']]);
    });

    it('checks delay steps', () => {
      const delay = (more: Record<string, unknown>) => ({ id: 'd', type: 'delay', ...more });
      const forMessage = "must be an ISO-8601 duration like 'PT15M' or 'P2D' (no years or months), milliseconds (at most 365 days), or an expression";
      expectErrors(withSteps([delay({})]), [['steps.0', "a delay needs exactly one of 'for' or 'until'"]]);
      expectErrors(withSteps([delay({ for: 'PT1M', until: '=$now()' })]), [['steps.0', "a delay needs exactly one of 'for' or 'until'"]]);
      expectErrors(withSteps([delay({ for: 'P1M' })]), [['steps.0.for', forMessage]]);
      expectErrors(withSteps([delay({ for: '15 minutes' })]), [['steps.0.for', forMessage]]);
      expectErrors(withSteps([delay({ for: 366 * 86_400_000 })]), [['steps.0.for', forMessage]]);
      expectErrors(withSteps([delay({ until: 'tomorrow' })]), [['steps.0.until', "must be an ISO-8601 date-time like '2030-01-01T09:00:00Z', or an expression"]]);
    });

    it('checks approval steps', () => {
      const approval = (more: Record<string, unknown>) => ({ id: 'a', type: 'approval', title: 'OK?', ...more });
      expectErrors(withSteps([{ id: 'a', type: 'approval' }]), [['steps.0', "missing required property 'title'"]]);
      expectErrors(withSteps([approval({ approvers: 'admin' })]), [['steps.0.approvers', "must be one of 'end_user', 'host', 'any'"]]);
      expectErrors(withSteps([approval({ timeoutMs: 1000, onTimeout: 'skip' })]), [['steps.0.onTimeout', "must be one of 'reject', 'approve'"]]);
      expectErrors(withSteps([approval({ timeoutMs: 10 })]), [['steps.0.timeoutMs', 'must be at least 1000']]);
      expectErrors(withSteps([approval({ onReject: 'fail' })]), [['steps.0.onReject', "must be one of 'stop', 'continue'"]]);
    });

    it('checks respond steps', () => {
      expectErrors(withSteps([{ id: 'r', type: 'respond', output: 1, status: 700 }]), [['steps.0.status', 'must be at most 599']]);
      expectErrors(withSteps([{ id: 'r', type: 'respond' }]), [['steps.0', "missing required property 'output'"]]);
    });

    it('reports every structural error at once, before any semantic check', () => {
      expectErrors(
        flow((d) => {
          d.key = 'X';
          d.steps[0].then[0].action = 'nope'; // semantic: not reported yet
          d.steps[0].then.push({ id: 'x', type: 'transform', output: 1, extra: true });
        }),
        [
          ['key', "must be kebab-case (lowercase letters and digits joined by '-'), e.g. 'won-deals-to-slack'"],
          ['steps.0.then.1.extra', "unknown property 'extra'"],
        ],
      );
    });
  });
});

describe('validateDefinition: semantics', () => {
  it('wants step ids unique across the whole tree', () => {
    expectErrors(
      flow((d) => d.steps.push(transform('post'), transform('big'))),
      [
        ['steps.1.id', "duplicate step id 'post' (also used at steps.0.then.0)"],
        ['steps.2.id', "duplicate step id 'big' (also used at steps.0)"],
      ],
    );
  });

  it('still checks the contents of a step whose id is a duplicate', () => {
    expectErrors(
      flow((d) => d.steps.push(transform('post', '=$steps.nope'))),
      [
        ['steps.1.id', "duplicate step id 'post' (also used at steps.0.then.0)"],
        ['steps.1.output', "unknown step 'nope'"],
      ],
    );
  });

  describe('connectors', () => {
    it('wants every listed connector in the catalog', () => {
      expectErrors(
        flow((d) => d.connectors.push('slak:x', 'nope')),
        [
          ['connectors.1', "unknown connector 'slak' (did you mean 'slack'?)"],
          ['connectors.2', "unknown connector 'nope'"],
        ],
      );
    });

    it("wants a step's connector in the catalog", () => {
      expectErrors(
        flow((d) => (d.steps[0].then[0].connector = 'slak')),
        [['steps.0.then.0.connector', "unknown connector 'slak' (did you mean 'slack'?)"]],
      );
    });

    it("wants a step's connector listed in 'connectors'", () => {
      expectErrors(withSteps([{ id: 'i', type: 'action', connector: 'github', action: 'create_issue', input: { repository: 'a/b', title: 'c' } }]), [
        ['steps.0.connector', "connector 'github' is not listed in 'connectors'"],
      ]);
      expectErrors(withSteps([{ id: 'r', type: 'request', connector: 'github', method: 'GET', path: '/user' }]), [
        ['steps.0.connector', "connector 'github' is not listed in 'connectors'"],
      ]);
    });

    it("wants a step's connection listed and of the step's connector", () => {
      expectErrors(withSteps([post(undefined, { connection: 'slack:alerts' })]), [['steps.0.connection', "connection 'slack:alerts' is not listed in 'connectors'"]]);
      expectErrors(
        withSteps([post(undefined, { connection: 'github' })], (d) => d.connectors.push('github')),
        [['steps.0.connection', "'github' is a connection of 'github', not of 'slack'"]],
      );
      expect(errors(withSteps([post(undefined, { connection: 'slack:alerts' })], (d) => (d.connectors = ['slack', 'slack:alerts'])))).toEqual([]);
    });
  });

  describe('actions', () => {
    it('wants the action on its connector', () => {
      expectErrors(
        flow((d) => (d.steps[0].then[0].action = 'send_mesage')),
        [['steps.0.then.0.action', "unknown action 'send_mesage' of connector 'slack' (did you mean 'send_message'?); it has 'send_message', 'add_reaction', 'list_users'"]],
      );
    });

    it("wants every required property of the action's input", () => {
      expectErrors(
        flow((d) => delete d.steps[0].then[0].input.text),
        [['steps.0.then.0.input', "missing required input 'text' of slack.send_message"]],
      );
      expectErrors(withSteps([post(undefined)].map(({ input: _input, ...s }) => s)), [
        ['steps.0', "missing required input 'channel' of slack.send_message"],
        ['steps.0', "missing required input 'text' of slack.send_message"],
      ]);
    });

    it('rejects properties the action does not take', () => {
      expectErrors(
        flow((d) => (d.steps[0].then[0].input.chanel = '#general')),
        [['steps.0.then.0.input.chanel', "unknown input 'chanel' of slack.send_message (did you mean 'channel'?)"]],
      );
    });

    it('type-checks literal values against the input schema', () => {
      expectErrors(withSteps([post({ channel: 'C1', text: 5 })]), [['steps.0.input.text', 'must be a string']]);
      expectErrors(withSteps([post({ channel: '', text: 'x' })]), [['steps.0.input.channel', 'must not be empty']]);
      expectErrors(withSteps([post({ channel: 'C1', text: 'x', unfurl_links: 'yes' })]), [['steps.0.input.unfurl_links', 'must be a boolean']]);
      expectErrors(withSteps([post({ channel: 'C1', text: 'x', blocks: [{ type: 'section' }, 'b'] })]), [['steps.0.input.blocks.1', 'must be an object']]);
      expectErrors(withSteps([{ id: 'u', type: 'action', connector: 'slack', action: 'list_users', input: { limit: 5000 } }]), [['steps.0.input.limit', 'must be at most 1000']]);
    });

    it('checks an escaped literal as the string it stands for', () => {
      const react = (name: string) => ({ id: 'r', type: 'action', connector: 'slack', action: 'add_reaction', input: { channel: 'C1', timestamp: '1.2', name } });
      expectErrors(withSteps([react('==tada')]), [['steps.0.input.name', 'must match the pattern ^[a-z0-9_+\\-]+$']]);
      expect(errors(withSteps([react('tada')]))).toEqual([]);
    });

    it('does not type-check values that contain expressions (known at run time only)', () => {
      expect(errors(withSteps([post({ channel: '=$trigger.channel', text: '=$trigger.count' })]))).toEqual([]);
      expect(errors(withSteps([post({ channel: 'C1', text: 'x', blocks: [{ type: 'section', text: '=$trigger.text' }], unfurl_links: '=$trigger.unfurl' })]))).toEqual([]);
    });

    it('accepts any property when the action schema allows additional properties', () => {
      const catalog: ConnectorCatalog = { acme: { actions: { go: { input: { type: 'object', properties: {}, additionalProperties: true } } } } };
      const doc = withSteps([{ id: 'g', type: 'action', connector: 'acme', action: 'go', input: { anything: 1 } }], (d) => {
        d.connectors = ['acme'];
        d.inputs = {};
      });
      expect(errors(doc, catalog)).toEqual([]);
    });
  });

  describe('inputs', () => {
    it("wants an options connector listed in 'connectors'", () => {
      expectErrors(
        flow((d) => (d.inputs.channel.options.connector = 'github')),
        [['inputs.channel.options.connector', "connector 'github' is not listed in 'connectors'"]],
      );
    });

    it('wants an options source the connector has', () => {
      expectErrors(
        flow((d) => (d.inputs.channel.options.source = 'chanels')),
        [['inputs.channel.options.source', "unknown options source 'chanels' of connector 'slack' (did you mean 'channels'?); it has 'channels'"]],
      );
      expectErrors(
        flow((d) => {
          d.connectors.push('http');
          d.inputs.channel.options = { connector: 'http', source: 'x' };
        }),
        [['inputs.channel.options.source', "unknown options source 'x' of connector 'http'; it has none"]],
      );
    });

    it('wants either enum or options', () => {
      expectErrors(
        flow((d) => (d.inputs.channel.enum = ['C1'])),
        [['inputs.channel', "use either 'enum' or 'options', not both"]],
      );
    });

    it('wants ranges the right way round', () => {
      expectErrors(
        flow((d) => Object.assign(d.inputs.minAmount, { minimum: 10, maximum: 5 })),
        [['inputs.minAmount.minimum', 'must not be greater than maximum (5)']],
      );
      expectErrors(
        flow((d) => Object.assign(d.inputs.channel, { minLength: 10, maxLength: 5 })),
        [['inputs.channel.minLength', 'must not be greater than maxLength (5)']],
      );
      expectErrors(
        flow((d) => (d.inputs.tags = { type: 'array', title: 'Tags', minItems: 3, maxItems: 2 })),
        [['inputs.tags.minItems', 'must not be greater than maxItems (2)']],
      );
    });

    it('wants a pattern that compiles', () => {
      expectErrors(
        flow((d) => (d.inputs.channel.pattern = '([a-z]')),
        [['inputs.channel.pattern', 'invalid regular expression: Invalid regular expression: /([a-z]/u: Unterminated group']],
      );
    });

    it("checks a default against the input's pattern in the sandbox, stopping a catastrophic one", async () => {
      const level = flow((d) => (d.inputs.level = { type: 'string', title: 'Level', pattern: '^[a-z]+$', default: 'A' }));
      expect(validateDefinition(level).ok).toBe(true); // the synchronous check never runs the tenant's regex
      expect(await validateDefinitionWithPatterns(level)).toEqual({ ok: false, errors: [{ path: 'inputs.level.default', message: 'must match the pattern ^[a-z]+$' }] });
      expect((await validateDefinitionWithPatterns(flow((d) => (d.inputs.level = { type: 'string', title: 'Level', pattern: '^[a-z]+$', default: 'ab' })))).ok).toBe(true);
      const started = Date.now();
      const hostile = await validateDefinitionWithPatterns(flow((d) => (d.inputs.code = { type: 'string', title: 'Code', pattern: '^(a+)+$', default: `${'a'.repeat(32)}!` })));
      expect(hostile).toEqual({
        ok: false,
        errors: [{ path: 'inputs.code.default', message: 'must match the pattern ^(a+)+$ (checking it was stopped: The pattern ^(a+)+$ took longer than 1000 ms to check)' }],
      });
      expect(Date.now() - started).toBeLessThan(10_000); // in-process it would backtrack for minutes
    });
    afterAll(() => stopExpressionSandbox());

    it("wants a default that satisfies the input's own constraints", () => {
      expectErrors(
        flow((d) => Object.assign(d.inputs.minAmount, { minimum: 10, default: 5 })),
        [['inputs.minAmount.default', 'must be at least 10']],
      );
      expectErrors(
        flow((d) => (d.inputs.level = { type: 'string', title: 'Level', enum: ['info', 'warn'], default: 'debug' })),
        [['inputs.level.default', "must be one of 'info', 'warn'"]],
      );
      expectErrors(
        flow((d) => (d.inputs.tags = { type: 'array', title: 'Tags', enum: ['a', 'b'], default: ['a', 'c'] })),
        [['inputs.tags.default.1', "must be one of 'a', 'b'"]],
      );
      expectErrors(
        flow((d) => (d.inputs.tags = { type: 'array', title: 'Tags', maxItems: 1, default: ['a', 'b'] })),
        [['inputs.tags.default', 'must have at most 1 items']],
      );
    });
  });

  describe('expressions', () => {
    it('must compile: the JSONata message, code and position', () => {
      expectErrors(
        flow((d) => (d.steps[0].then[0].input.text = "='Deal ' & $trigger.name &")),
        [['steps.0.then.0.input.text', 'Invalid expression: Unexpected end of expression (S0207 at position 25)']],
      );
      expectErrors(
        flow((d) => (d.steps[0].if = '=$trigger.amount >= (1')),
        [['steps.0.if', 'Invalid expression: Expected ")" before end of expression (S0203 at position 21)']],
      );
      expectErrors(withSteps([transform('t', { a: ['x', { b: "='unterminated" }] })]), [
        ['steps.0.output.a.1.b', 'Invalid expression: String literal must be terminated by a matching quote (S0101 at position 13)'],
      ]);
      expectErrors(withSteps([transform('t', '= ')]), [['steps.0.output', 'Invalid expression: it is empty']]);
    });

    it('are found in every field that takes them', () => {
      const bad = '=$nope';
      const message = "unknown variable '$nope'; the bindings are $trigger, $inputs, $steps, $endUser, $run (and $item, $index in loops)";
      const cases: Array<[Doc, string]> = [
        [{ id: 'r', type: 'request', connector: 'slack', method: 'POST', path: bad }, 'steps.0.path'],
        [{ id: 'r', type: 'request', connector: 'slack', method: 'POST', path: 'x', query: { q: bad } }, 'steps.0.query.q'],
        [{ id: 'r', type: 'request', connector: 'slack', method: 'POST', path: 'x', headers: { 'X-A': bad } }, 'steps.0.headers.X-A'],
        [{ id: 'r', type: 'request', connector: 'slack', method: 'POST', path: 'x', body: [bad] }, 'steps.0.body.0'],
        [{ id: 'r', type: 'respond', output: { a: bad } }, 'steps.0.output.a'],
        [{ id: 'b', type: 'branch', switch: bad, cases: [{ when: 1, steps: [] }] }, 'steps.0.switch'],
        [{ id: 'b', type: 'branch', switch: '=1', cases: [{ when: bad, steps: [] }] }, 'steps.0.cases.0.when'],
        [{ id: 'l', type: 'loop', over: bad, steps: [transform('t')] }, 'steps.0.over'],
        [{ id: 'd', type: 'delay', for: bad }, 'steps.0.for'],
        [{ id: 'd', type: 'delay', until: bad }, 'steps.0.until'],
        [{ id: 'a', type: 'approval', title: bad }, 'steps.0.title'],
        [{ id: 'a', type: 'approval', title: 't', description: bad }, 'steps.0.description'],
      ];
      for (const [step, path] of cases) expectErrors(withSteps([step]), [[path, message]]);
    });

    it('may only use known inputs', () => {
      expectErrors(
        flow((d) => (d.steps[0].then[0].input.channel = '=$inputs.chanel')),
        [['steps.0.then.0.input.channel', "unknown input 'chanel' (did you mean 'channel'?)"]],
      );
      expectErrors(
        flow((d) => (d.steps[0].if = '=$trigger.amount >= $inputs.min and $inputs.max')),
        [
          ['steps.0.if', "unknown input 'min'"],
          ['steps.0.if', "unknown input 'max'"],
        ],
      );
    });

    it('may only use the bindings, their own variables and JSONata functions', () => {
      expectErrors(
        flow((d) => (d.steps[0].if = '=$trigerr.amount > 1')),
        [['steps.0.if', "unknown variable '$trigerr' (did you mean '$trigger'?); the bindings are $trigger, $inputs, $steps, $endUser, $run (and $item, $index in loops)"]],
      );
      expectErrors(
        flow((d) => (d.steps[0].if = '=$uppercse($trigger.name) = "A"')),
        [['steps.0.if', "unknown function '$uppercse()' (did you mean '$uppercase'?)"]],
      );
      expect(errors(flow((d) => (d.steps[0].if = '=($n := $count($trigger.items); $f := function($x) { $x * $n }; $trigger.items@$i#$pos[$f($pos) > 1] ~> $exists($$))')))).toEqual(
        [],
      );
      expect(errors(flow((d) => (d.steps[0].if = '=$.trigger.amount > 1 and $run.id and $endUser.email')))).toEqual([]);
    });

    it('may use $item and $index only inside a loop', () => {
      expectErrors(withSteps([transform('t', '=$item')]), [['steps.0.output', "'$item' is only defined inside a loop's steps"]]);
      expectErrors(withSteps([{ id: 'l', type: 'loop', over: '=$item', steps: [transform('t', '=$index')] }]), [['steps.0.over', "'$item' is only defined inside a loop's steps"]]);
    });

    describe('$steps references', () => {
      it('must name a step', () => {
        expectErrors(withSteps([transform('a'), transform('b', '=$steps.aa')]), [['steps.1.output', "unknown step 'aa' (did you mean 'a'?)"]]);
      });

      it('must not name the step itself', () => {
        expectErrors(withSteps([transform('a', '=$steps.a')]), [['steps.0.output', "step 'a' cannot use its own output"]]);
      });

      it('must not name a later step', () => {
        expectErrors(withSteps([transform('a', '=$steps.b'), transform('b')]), [['steps.0.output', "step 'b' runs after this step"]]);
        expectErrors(withSteps([{ id: 'l', type: 'loop', over: '=$steps.t', steps: [transform('t')] }]), [['steps.0.over', "step 't' runs after this step"]]);
      });

      it('must not name a step containing this one', () => {
        expectErrors(withSteps([{ id: 'b', type: 'branch', if: '=true', then: [transform('t', '=$steps.b')] }]), [
          ['steps.0.then.0.output', "step 'b' contains this step and has not finished when it runs"],
        ]);
      });

      it('must not name a step in another arm of the same branch', () => {
        expectErrors(withSteps([{ id: 'b', type: 'branch', if: '=true', then: [transform('x')], else: [transform('y', '=$steps.x')] }]), [
          ['steps.0.else.0.output', "step 'x' is in another arm of branch 'b' (then) and never runs before this step"],
        ]);
        expectErrors(withSteps([{ id: 's', type: 'branch', switch: '=1', cases: [{ when: 1, steps: [transform('x')] }], default: [transform('y', '=$steps.x')] }]), [
          ['steps.0.default.0.output', "step 'x' is in another arm of branch 's' (cases.0) and never runs before this step"],
        ]);
      });

      it('may name a step inside an earlier branch (its value is undefined when that arm did not run)', () => {
        expect(errors(withSteps([{ id: 'b', type: 'branch', if: '=true', then: [transform('x')] }, transform('y', '=$steps.x')]))).toEqual([]);
        expect(
          errors(withSteps([{ id: 'b', type: 'branch', if: '=true', then: [transform('x'), { id: 'c', type: 'branch', if: '=$steps.x', then: [transform('z', '=$steps.x')] }] }])),
        ).toEqual([]);
      });

      it('may name a step inside a loop only from within that loop', () => {
        expectErrors(withSteps([{ id: 'l', type: 'loop', over: '=[1]', steps: [transform('x')] }, transform('y', '=$steps.x')]), [
          ['steps.1.output', "step 'x' is inside loop 'l'; outside the loop use $steps.l (one result per iteration)"],
        ]);
        expect(
          errors(
            withSteps([
              { id: 'l', type: 'loop', over: '=[1]', steps: [transform('x'), { id: 'm', type: 'loop', over: '=$steps.x', steps: [transform('y', '=$steps.x & $item')] }] },
              transform('z', '=$steps.l'),
            ]),
          ),
        ).toEqual([]);
      });
    });
  });

  describe('trigger', () => {
    const schedule = (cron: string, timezone = 'UTC') => flow((d) => (d.trigger = { type: 'schedule', cron, timezone }));

    it('wants a 5-field cron expression', () => {
      expectErrors(schedule('0 9 * *'), [['trigger.cron', 'invalid cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got 4']]);
      expectErrors(schedule('0 0 9 * * *'), [['trigger.cron', 'invalid cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got 6']]);
      expectErrors(schedule('61 9 * * *'), [['trigger.cron', 'invalid cron expression: Constraint error, got value 61 expected range 0-59']]);
      expectErrors(schedule('0 9 * * mon-frx'), [['trigger.cron', 'invalid cron expression: Validation error, cannot resolve alias "frx"']]);
      expect(errors(schedule('30 8 1,15 * MON-FRI'))).toEqual([]);
    });

    it('wants an IANA time zone', () => {
      expectErrors(schedule('0 9 * * *', 'Europe/Pariss'), [['trigger.timezone', "unknown time zone 'Europe/Pariss' (use an IANA name like 'Europe/Paris' or 'UTC')"]]);
      expectErrors(schedule('0 9 * * *', '+02:00'), [['trigger.timezone', "unknown time zone '+02:00' (use an IANA name like 'Europe/Paris' or 'UTC')"]]);
      expect(errors(schedule('0 9 * * *', 'America/Argentina/Buenos_Aires'))).toEqual([]);
    });

    it('computes schedule settings from $inputs and $endUser only', () => {
      expectErrors(schedule('=$trigger.cron', '=$inputs.tz'), [
        ['trigger.cron', "'$trigger' is not available here: the trigger's settings are computed when the flow is enabled, from $inputs and $endUser only"],
        ['trigger.timezone', "unknown input 'tz'"],
      ]);
      expectErrors(schedule("='0 9 * * *", 'UTC'), [['trigger.cron', 'Invalid expression: String literal must be terminated by a matching quote (S0101 at position 10)']]);
    });

    it("wants a webhook's connector listed, and not together with verify", () => {
      expectErrors(
        flow((d) => (d.trigger = { type: 'webhook', connector: 'github' })),
        [['trigger.connector', "connector 'github' is not listed in 'connectors'"]],
      );
      expectErrors(
        flow((d) => {
          d.connectors.push('acme');
          d.trigger = { type: 'webhook', connector: 'acme' };
        }),
        [
          ['connectors.1', "unknown connector 'acme'"],
          ['trigger.connector', "unknown connector 'acme'"],
        ],
      );
      expectErrors(
        flow((d) => (d.trigger = { type: 'webhook', connector: 'slack', verify: { header: 'X-Sig' } })),
        [['trigger', "use either 'connector' (the provider's own signatures) or 'verify', not both"]],
      );
    });

    describe("a connector's triggers", () => {
      const pipelineInput = { type: 'object', properties: { pipeline: { type: 'string', minLength: 1 } }, required: ['pipeline'], additionalProperties: false };
      const withCrm: ConnectorCatalog = {
        ...Object.fromEntries(allConnectors().map((c) => [c.key, c])),
        crm: {
          actions: {},
          triggers: {
            new_deal: { kind: 'poll', minIntervalSeconds: 120, input: pipelineInput },
            deal_created: { kind: 'webhook', input: pipelineInput },
          },
          webhooks: {},
        },
        quiet: { actions: {}, triggers: { deal_created: { kind: 'webhook' } } },
      };
      const triggered = (trigger: Record<string, unknown>) =>
        flow((d) => {
          d.connectors.push('crm', 'quiet');
          d.trigger = trigger;
        });

      it('accepts a poll trigger and a webhook trigger with their input, literal or from settings', () => {
        expect(errors(triggered({ type: 'poll', connector: 'crm', event: 'new_deal', input: { pipeline: 'default' }, interval: 'PT5M', backfill: 10 }), withCrm)).toEqual([]);
        expect(errors(triggered({ type: 'webhook', connector: 'crm', event: 'deal_created', input: { pipeline: '=$inputs.channel' } }), withCrm)).toEqual([]);
      });

      it('names an unknown trigger, the wrong kind, a bad input and a too-short interval', () => {
        expectErrors(
          triggered({ type: 'poll', connector: 'crm', event: 'new_dael', input: { pipeline: 'x' } }),
          [['trigger.event', "unknown poll trigger 'new_dael' of connector 'crm' (did you mean 'new_deal'?); it has 'new_deal'"]],
          withCrm,
        );
        expectErrors(
          triggered({ type: 'poll', connector: 'crm', event: 'deal_created', input: { pipeline: 'x' } }),
          [['trigger.event', `unknown poll trigger 'deal_created' of connector 'crm' ('deal_created' is a webhook trigger: use "type": "webhook"); it has 'new_deal'`]],
          withCrm,
        );
        expectErrors(
          triggered({ type: 'poll', connector: 'crm', event: 'new_deal', input: { pipeline: '', stage: 'x' } }),
          [
            ['trigger.input.pipeline', 'must not be empty'],
            ['trigger.input.stage', "unknown input 'stage' of crm new_deal"],
          ],
          withCrm,
        );
        expectErrors(triggered({ type: 'poll', connector: 'crm', event: 'new_deal' }), [['trigger', "missing required input 'pipeline' of crm new_deal"]], withCrm);
        expectErrors(
          triggered({ type: 'poll', connector: 'crm', event: 'new_deal', input: { pipeline: 'x' }, interval: 'PT1M' }),
          [['trigger.interval', 'must be at least 120 seconds for crm new_deal (got 60)']],
          withCrm,
        );
        expectErrors(triggered({ type: 'webhook', connector: 'quiet', event: 'deal_created' }), [['trigger.event', "connector 'quiet' does not receive webhooks"]], withCrm);
        expectErrors(
          triggered({ type: 'webhook', event: 'deal_created' }),
          [['trigger', "'event' and 'input' need 'connector': the connector whose events start the flow"]],
          withCrm,
        );
      });

      it('computes trigger input from $inputs and $endUser only', () => {
        expectErrors(
          triggered({ type: 'poll', connector: 'crm', event: 'new_deal', input: { pipeline: '=$trigger.x' } }),
          [['trigger.input.pipeline', "'$trigger' is not available here: the trigger's settings are computed when the flow is enabled, from $inputs and $endUser only"]],
          withCrm,
        );
      });
    });
  });

  describe('steps', () => {
    it('request: wants a relative path and no credential headers', () => {
      const req = (more: Record<string, unknown>) => ({ id: 'r', type: 'request', connector: 'slack', method: 'GET', path: 'auth.test', ...more });
      expectErrors(withSteps([req({ path: 'https://evil.example/x' })]), [['steps.0.path', "must be relative to the connector's base URL, not an absolute URL"]]);
      expectErrors(withSteps([req({ headers: { authorization: 'Bearer x', Cookie: 'a=b' } })]), [
        ['steps.0.headers.authorization', "'authorization' comes from the connection and cannot be set"],
        ['steps.0.headers.Cookie', "'Cookie' comes from the connection and cannot be set"],
      ]);
      expect(errors(withSteps([req({ path: '=$trigger.url' })]))).toEqual([]);
    });

    it('switch: wants distinct literal case values', () => {
      expectErrors(
        withSteps([
          {
            id: 's',
            type: 'branch',
            switch: '=1',
            cases: [
              { when: 'a', steps: [] },
              { when: 1, steps: [] },
              { when: '==a', steps: [] },
              { when: 'a', steps: [] },
            ],
          },
        ]),
        [['steps.0.cases.3.when', 'duplicate case value (same as cases.0)']],
      );
    });

    it('delay: at most 365 days, more than 0', () => {
      expectErrors(withSteps([{ id: 'd', type: 'delay', for: 'P366D' }]), [['steps.0.for', 'must be at most 365 days']]);
      expectErrors(withSteps([{ id: 'd', type: 'delay', for: 'PT0S' }]), [['steps.0.for', 'must be longer than 0']]);
      expect(errors(withSteps([{ id: 'd', type: 'delay', for: 'P52W' }]))).toEqual([]);
    });

    it('approval: onTimeout needs timeoutMs', () => {
      expectErrors(withSteps([{ id: 'a', type: 'approval', title: 'OK?', onTimeout: 'approve' }]), [['steps.0.onTimeout', "needs 'timeoutMs'"]]);
    });

    it('respond: any number of them, but not inside a loop', () => {
      expect(
        errors(
          withSteps([
            { id: 'b', type: 'branch', if: '=true', then: [{ id: 'r1', type: 'respond', output: 1 }], else: [{ id: 'r2', type: 'respond', output: 2 }] },
            { id: 'r3', type: 'respond', output: 3 },
          ]),
        ),
      ).toEqual([]);
      expectErrors(withSteps([{ id: 'l', type: 'loop', over: '=[1]', steps: [{ id: 'b', type: 'branch', if: '=true', then: [{ id: 'r', type: 'respond', output: 1 }] }] }]), [
        ['steps.0.steps.0.then.0', "respond cannot be inside a loop (it is inside loop 'l')"],
      ]);
    });

    it(`allows at most ${FLOW_LIMITS.maxSteps} steps`, () => {
      const many = Array.from({ length: FLOW_LIMITS.maxSteps }, (_, i) => transform(`t${i}`));
      expect(errors(withSteps(many))).toEqual([]);
      expectErrors(withSteps([...many, transform('last')]), [['steps', `too many steps: ${FLOW_LIMITS.maxSteps + 1} (at most ${FLOW_LIMITS.maxSteps}, nested ones included)`]]);
    });

    it(`nests at most ${FLOW_LIMITS.maxDepth} levels`, () => {
      const nest = (levels: number): Doc => (levels === 1 ? transform('leaf') : { id: `b${levels}`, type: 'branch', if: '=true', then: [nest(levels - 1)] });
      expect(errors(withSteps([nest(FLOW_LIMITS.maxDepth)]))).toEqual([]);
      const path = ['steps.0', ...Array.from({ length: FLOW_LIMITS.maxDepth }, () => 'then.0')].join('.');
      expectErrors(withSteps([nest(FLOW_LIMITS.maxDepth + 1)]), [[path, `nested too deep: branches and loops may nest at most ${FLOW_LIMITS.maxDepth} levels`]]);
    });
  });
});

describe('settingsJsonSchema', () => {
  it('describes the settings an instance needs', () => {
    expect(settingsJsonSchema(wonDealsToSlack().inputs)).toEqual({
      type: 'object',
      additionalProperties: false,
      properties: {
        channel: { title: 'Channel', type: 'string' },
        minAmount: { title: 'Only deals of at least', type: 'number' },
      },
      required: [],
    });
    expect(inputJsonSchema({ type: 'array', title: 'Tags', enum: ['a'], minItems: 1, required: true })).toEqual({
      title: 'Tags',
      type: 'array',
      items: { type: 'string', enum: ['a'] },
      minItems: 1,
    });
  });
});
