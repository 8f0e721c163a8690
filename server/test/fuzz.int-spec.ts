import fc from 'fast-check';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { consentInSandbox, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../src/common/errors/app-error';
import { createTenant, environmentOf, Http, startApi, startWorker, TenantFixture, TestApi } from './harness';

/**
 * Every operation of /openapi.json, called with hostile path, query and body values under every
 * credential it accepts, must answer below 500 with the documented error envelope; and tenant B,
 * holding tenant A's ids, must get 4xx and never tenant A's data. Reproduce a failure with
 * FUZZ_SEED=<the printed seed>; FUZZ_RUNS sets the inputs per input slot (parameter or body field) and credential.
 */
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env.FUZZ_RUNS ?? 4);

type Credential = 'none' | 'cookie' | 'secretKey' | 'endUserSession';
type Operation = { method: string; path: string; op: any };
type Input = { path: Record<string, string>; query: Record<string, string>; body?: string; contentType?: string };
type Finding = { operation: string; credential: Credential; input: Input; status: number; body: string; why: string };

/** Marks put into tenant A's data, so an answer that leaks it to tenant B is recognisable. */
const A_MARK = 'tenant-a-private-7c1e';

interface TenantData {
  fixture: TenantFixture;
  session: string;
  externalId: string;
  ids: {
    membership: string;
    apiKey: string;
    signingKey: string;
    webhookEndpoint: string;
    customProvider: string;
    webhookDelivery: string;
    run: string;
    approval: string;
    hookToken: string;
    appConfig: string;
    flowKey: string;
    rollout: string;
    alertRule: string;
    connection: string;
  };
}

const flows = (prefix: string) => [
  { key: `${prefix}-req`, name: `${prefix} request`, trigger: { type: 'request' }, connectors: [], inputs: {}, steps: [{ id: 'x', type: 'transform', output: '=$trigger' }] },
  { key: `${prefix}-hook`, name: `${prefix} hook`, trigger: { type: 'webhook' }, connectors: [], inputs: {}, steps: [{ id: 'x', type: 'transform', output: '=$trigger.body' }] },
  {
    key: `${prefix}-ok`,
    name: `${prefix} approval`,
    trigger: { type: 'request' },
    connectors: [],
    inputs: {},
    steps: [{ id: 'ok', type: 'approval', title: 'Go?' }],
  },
];

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A tenant with one of everything the API addresses by id. */
const HOST_ORIGIN = 'https://host.example.test';

async function seedTenant(api: TestApi, prefix: string, mark: string, given?: TenantFixture): Promise<TenantData> {
  const fixture = given ?? (await createTenant(api, `${prefix} ${mark}`));
  const { owner, host } = fixture;
  const ok = (res: { status: number; body: any }, what: string) => {
    if (res.status >= 300) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const externalId = `${prefix}-user-${mark}`;
  ok(await host.put(`/v1/end-users/${externalId}`, { displayName: `${mark} person`, metadata: { note: mark } }), 'end user');
  const session = ok(await host.post('/v1/sessions', { endUserId: externalId }), 'session').token as string;
  // A Slack connection through the sandbox: the popup driven over HTTP.
  ok(await owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] }), 'origins');
  const slackApp = ok(await owner.put('/v1/admin/connectors/slack', SLACK_ON_SANDBOX), 'slack');
  const appConfig = new URL(slackApp.config.webhookUrl as string).pathname.split('/').pop()!;
  const start = await fetch(`${api.url}/connect/slack?${new URLSearchParams({ session, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
  await fetch(await consentInSandbox(start.headers.get('location')!));
  const connection = (await host.get(`/v1/end-users/${externalId}/connections`)).body.data[0]?.id as string;
  if (!connection) throw new Error('the sandbox connection was not made');
  const member = ok(await owner.post('/v1/admin/members', { email: `${prefix}-${randomUUID()}@example.test`, role: 'viewer' }), 'member');
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' });
  const signingKey = ok(await owner.post('/v1/admin/signing-keys', { name: `${mark} key`, algorithm: 'ES256', publicKey: pem }), 'signing key');
  const endpoint = ok(
    await owner.post('/v1/admin/webhook-endpoints', { url: 'https://example.com/hook', description: mark, eventTypes: ['run.succeeded', 'approval.requested'] }),
    'webhook endpoint',
  );
  const customProvider = ok(
    await owner.post('/v1/admin/custom-providers', {
      key: `${prefix}-own-api`,
      definition: {
        name: `${mark} API`,
        description: mark,
        categories: ['other'],
        logo: { color: '#123456' },
        docsUrl: 'https://example.com/docs',
        auth: { type: 'api_key', in: 'header', name: 'X-Key' },
        baseUrl: 'https://api.example.com',
        verify: { path: 'me', accountId: 'id' },
      },
    }),
    'custom provider',
  );
  for (const definition of flows(prefix)) {
    ok(await owner.post('/v1/admin/flow-templates', { definition }), 'template');
    ok(await owner.post(`/v1/admin/flow-templates/${definition.key}/publish`), 'publish');
    ok(await host.post(`/v1/end-users/${externalId}/flows/${definition.key}/enable`, {}), 'enable');
  }
  const hook = (await host.get(`/v1/end-users/${externalId}/flows`)).body.data.find((f: { key: string }) => f.key === `${prefix}-hook`).instance;
  const hookToken = new URL(hook.webhookUrl).pathname.split('/').pop()!;
  const run = ok(await host.post(`/v1/flows/${prefix}-req/runs`, { endUserId: externalId, input: { note: mark } }), 'run');
  ok(await host.post(`/v1/flows/${prefix}-ok/runs`, { endUserId: externalId, input: {} }), 'approval run');
  const approval = await until('approval', async () => (await host.get('/v1/approvals')).body.data[0]?.id as string | undefined);
  // A second version of the request flow, rolled out to the end user: a rollout id of tenant A.
  const [req] = flows(prefix);
  ok(await owner.put(`/v1/admin/flow-templates/${req!.key}/draft`, { definition: { ...req, name: `${mark} v2` } }), 'draft v2');
  ok(await owner.post(`/v1/admin/flow-templates/${req!.key}/publish`), 'publish v2');
  const rollout = ok(await owner.post(`/v1/admin/flow-templates/${req!.key}/rollouts`, { version: 2, target: { endUserIds: [externalId] } }), 'rollout');
  const alertRule = ok(await owner.post('/v1/admin/alert-rules', { name: `${mark} endpoints`, kind: 'webhook_endpoint_disabled', channels: { webhook: true } }), 'alert rule');
  const delivery = await until('delivery', async () => (await owner.get(`/v1/admin/webhook-endpoints/${endpoint.id}/deliveries`)).body.data[0]?.id as string | undefined);
  return {
    fixture,
    session,
    externalId,
    ids: {
      membership: member.member.id,
      apiKey: fixture.apiKeyId,
      signingKey: signingKey.id,
      webhookEndpoint: endpoint.id,
      customProvider: customProvider.id,
      webhookDelivery: delivery,
      run: run.id,
      approval,
      hookToken,
      appConfig,
      flowKey: `${prefix}-req`,
      rollout: rollout.id,
      alertRule: alertRule.id,
      connection,
    },
  };
}

/** Tenant A's id for a path parameter of an operation; a parameter nobody mapped fails the test (new operations must be covered). */
function idFor(data: TenantData, path: string, name: string): string | undefined {
  const { ids } = data;
  if (name === 'externalId') return data.externalId;
  if (name === 'key') return path.includes('/connectors/') ? 'slack' : ids.flowKey;
  if (name === 'source') return 'channels';
  if (name === 'connector') return 'slack';
  if (name === 'token') return ids.hookToken;
  if (name === 'configId') return ids.appConfig;
  if (name === 'path') return 'anything';
  if (name === 'connectionId') return ids.connection;
  if (name !== 'id') return undefined;
  if (path.includes('/environments/')) return data.fixture.tenantId;
  if (path.includes('/rollouts/')) return ids.rollout;
  if (path.includes('/alert-rules/')) return ids.alertRule;
  if (path.includes('/members/')) return ids.membership;
  if (path.includes('/api-keys/')) return ids.apiKey;
  if (path.includes('/signing-keys/')) return ids.signingKey;
  if (path.includes('/webhook-endpoints/')) return ids.webhookEndpoint;
  if (path.includes('/custom-providers/')) return ids.customProvider;
  if (path.includes('/webhook-deliveries/')) return ids.webhookDelivery;
  if (path.includes('/approvals/')) return ids.approval;
  if (path.includes('/runs/')) return ids.run;
  if (path.includes('/connections/')) return ids.connection;
  return undefined;
}

// ---- hostile values ----------------------------------------------------------------------------

const forgedCursors = [
  'garbage',
  Buffer.from('2026-01-01T00:00:00.000Z|not-a-uuid').toString('base64url'),
  Buffer.from('-200000-01-01T00:00:00.000Z|00000000-0000-0000-0000-000000000000').toString('base64url'),
  Buffer.from("'; DROP TABLE runs; --|x").toString('base64url'),
  '99999999999999999999',
  '-1',
];
/** Strings, each as likely as the others: what PostgreSQL cannot store, numbers that overflow, dates out of range, forged cursors… */
const HOSTILE_STRINGS = [
  'a\u0000b',
  '\ud800',
  'x\udfff',
  '99999999999999999999',
  '-99999999999999999999',
  '2147483648',
  '1e309',
  '-1',
  '0',
  '1.5',
  'NaN',
  'null',
  'true',
  '',
  ' ',
  '../../etc/passwd',
  '%',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  'toString',
  '2026-13-45T99:99:99Z',
  '-200000-01-01T00:00:00.000Z',
  '275760-09-13T00:00:00.000Z',
  '\u202e\u0301',
  '😀'.repeat(100),
  'x'.repeat(3000),
  '00000000-0000-0000-0000-000000000000',
  '-'.repeat(36),
  ...forgedCursors,
];
const hostileText = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) }, fc.string({ unit: 'binary', maxLength: 40 }));
/** Sent in URLs as they are: bytes that are not UTF-8, a NUL, a broken escape. */
const RAW_URL_PARTS = ['%ED%A0%80', '%00', '%ZZ', '%C0%AE%C0%AE', '%FF'];
const hostileUrlPart = fc.oneof({ weight: 6, arbitrary: hostileText }, fc.constantFrom(...RAW_URL_PARTS));
const deep = (depth: number): unknown => {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
};
/** JSON values, each as likely as the others. */
const HOSTILE_VALUES: unknown[] = [
  ...HOSTILE_STRINGS,
  'x'.repeat(300_000),
  'é'.repeat(100_000),
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e20,
  -1e20,
  2 ** 31,
  2 ** 53 + 2,
  Number.MAX_VALUE,
  [],
  {},
  ['x'],
  [null],
  ['\u0000'],
  { x: 1 },
  deep(70),
  deep(20),
  JSON.parse('{"__proto__":{"polluted":true}}'),
  { '\u0000': 1 },
  { constructor: { prototype: { polluted: true } } },
  { a: { b: '\ud800' } },
];
const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...HOSTILE_VALUES) },
  fc.array(hostileText, { maxLength: 3 }),
  fc.dictionary(hostileText, hostileText, { maxKeys: 3 }),
);
const rawBodies = fc.constantFrom(
  '[]',
  'null',
  '"x"',
  '42',
  '{"a":',
  `{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
  '{"__proto__":{"x":1}}',
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  '\u0000',
);

function resolve(doc: any, schema: any): any {
  let s = schema;
  for (let i = 0; s?.$ref && i < 10; i++)
    s = s.$ref
      .split('/')
      .slice(1)
      .reduce((o: any, k: string) => o?.[k], doc);
  return s?.allOf?.length === 1 ? resolve(doc, s.allOf[0]) : s;
}

/** A plausible value for a schema, so hostile fields sit next to valid ones and reach the handler. */
/** Valid values for free-form fields, by name, so nested hostile values land inside something real. */
const FREE_FORM: Record<string, unknown> = {
  definition: {
    key: 'fuzzed',
    name: 'Fuzzed',
    trigger: { type: 'request' },
    connectors: [],
    inputs: { label: { type: 'string', title: 'Label', default: 'x' } },
    steps: [{ id: 'x', type: 'transform', output: { a: '=$trigger.a', b: ['=$inputs.label'] } }],
  },
  payload: { a: { b: [1, 'x'] } },
  input: { a: { b: [1, 'x'] } },
  metadata: { a: { b: [1, 'x'] } },
  settings: { label: 'x' },
};

function plausible(doc: any, schema: any, depth = 0, name = ''): unknown {
  if (name in FREE_FORM) return structuredClone(FREE_FORM[name]);
  const s = resolve(doc, schema) ?? {};
  if (s.example !== undefined) return s.example;
  if (s.enum) return s.enum[0];
  if (s.default !== undefined) return s.default;
  if (s.type === 'array') return depth > 3 ? [] : [plausible(doc, s.items, depth + 1)];
  if (s.type === 'object' || s.properties) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s.properties ?? {})) if (depth < 3) out[k] = plausible(doc, v, depth + 1, k);
    return out;
  }
  if (s.type === 'integer' || s.type === 'number') return s.minimum ?? 1;
  if (s.type === 'boolean') return true;
  if (s.format === 'uuid') return randomUUID();
  if (s.format === 'email') return 'fuzz@example.test';
  if (s.format === 'date-time') return new Date().toISOString();
  return 'fuzz';
}

/**
 * Inputs for one operation: each aims at one slot (a path parameter, a query parameter, a body
 * field, the whole body) with a hostile value and fills the others validly (the fixture's own ids,
 * plausible body fields), so the hostile value reaches as far into the handler as it can.
 */
function inputs(doc: any, operation: Operation, own: Record<string, string>): fc.Arbitrary<Input> {
  const params: any[] = operation.op.parameters ?? [];
  const pathNames = [...operation.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  const queryNames = [...params.filter((p) => p.in === 'query').map((p) => p.name as string), 'unexpected'];
  const content = operation.op.requestBody?.content ?? {};
  const types = Object.keys(content);
  const schema = types.length > 0 ? (resolve(doc, content[types[0]]?.schema) ?? {}) : undefined;
  const valid = (schema ? (plausible(doc, schema) ?? {}) : undefined) as Record<string, unknown> | undefined;
  const fields = Object.keys(schema?.properties ?? {});
  const base = (): Input => ({
    path: Object.fromEntries(pathNames.map((n) => [n, own[n] ?? randomUUID()])),
    query: {},
    ...(valid ? { body: JSON.stringify(valid), contentType: 'application/json' } : {}),
  });
  const slots: Array<fc.Arbitrary<Input>> = [
    ...pathNames.map((n) => hostileUrlPart.map((v) => ({ ...base(), path: { ...base().path, [n]: v } }))),
    ...queryNames.map((n) => hostileUrlPart.map((v) => ({ ...base(), query: { [n]: v } }))),
  ];
  if (valid) {
    for (const f of fields) slots.push(hostileJson.map((v) => ({ ...base(), body: JSON.stringify({ ...valid, [f]: v }) })));
    slots.push(hostileJson.map((v) => ({ ...base(), body: JSON.stringify(v) ?? 'null' })));
    // Anywhere inside the valid body: nested objects, array items, a flow definition's steps.
    const nestedPaths = pathsIn(valid).filter((p) => p.length > 1);
    if (nestedPaths.length > 0) {
      slots.push(fc.tuple(fc.constantFrom(...nestedPaths), hostileJson).map(([at, v]) => ({ ...base(), body: JSON.stringify(setAt(structuredClone(valid), at, v)) })));
    }
    slots.push(rawBodies.map((body) => ({ ...base(), body })));
    const others = [...types.filter((t) => t !== 'application/json'), 'text/plain', 'application/x-www-form-urlencoded'];
    slots.push(fc.record({ body: hostileText, contentType: fc.constantFrom(...others) }).map((b) => ({ ...base(), ...b })));
  }
  return fc.oneof(...slots);
}

function pathsIn(value: unknown, at: string[] = []): string[][] {
  if (!value || typeof value !== 'object') return [at];
  return [at, ...Object.entries(value).flatMap(([k, v]) => pathsIn(v, [...at, k]))];
}

function setAt(root: any, at: string[], value: unknown): unknown {
  let node = root;
  for (const key of at.slice(0, -1)) node = node[key];
  node[at[at.length - 1]] = value;
  return root;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Path values with each of the fixture's own ids swapped for one that names nothing (a fresh uuid, or a key no record has). */
function decoys(path: Record<string, string>, own: Record<string, string>): Record<string, string> {
  const owned = new Set(Object.values(own));
  return Object.fromEntries(Object.entries(path).map(([n, v]) => [n, owned.has(v) ? (UUID.test(v) ? randomUUID() : `decoy-${randomUUID().slice(0, 8)}`) : v]));
}

/** How many inputs an operation gets: RUNS for each slot it has. */
function runsFor(operation: Operation, doc: any): number {
  const slots =
    [...operation.path.matchAll(/\{(\w+)\}/g)].length +
    (operation.op.parameters ?? []).filter((p: any) => p.in === 'query').length +
    1 +
    (operation.op.requestBody ? Object.keys(resolve(doc, Object.values<any>(operation.op.requestBody.content)[0]?.schema)?.properties ?? {}).length + 4 : 0);
  return RUNS * slots;
}

const KNOWN_CODES = new Set(Object.keys(ERROR_STATUS));
const SLACK_ON_SANDBOX = { enabled: true, settings: { useSandbox: true, endUserProxy: true } };

describe('fuzz: every OpenAPI operation', () => {
  let api: TestApi;
  let sandbox: Sandbox;
  let worker: { close(): Promise<void> };
  let a: TenantData;
  let b: TenantData;
  /** Tenant A's production environment: the same people, nothing else in common. */
  let aProduction: TenantData;
  let doc: any;
  let operations: Operation[];

  beforeAll(async () => {
    console.log(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} reproduces), ${RUNS} inputs per input slot and credential`);
    sandbox = await startSandbox();
    api = await startApi({
      LOG_LEVEL: 'error',
      LOGIN_MAX_FAILURES: '1000',
      SIGNUP_MAX_PER_HOUR: '100000',
      CONNECTION_RATE_LIMITS: 'false',
      SANDBOX_URL: sandbox.url,
      OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port}`,
    });
    worker = await startWorker(api.config);
    a = await seedTenant(api, 'a', A_MARK);
    b = await seedTenant(api, 'b', 'tenant-b');
    aProduction = await seedTenant(api, 'p', 'a-production', await environmentOf(api, a.fixture, 'production'));
    doc = await (await fetch(`${api.url}/openapi.json`)).json();
    operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
    );
  }, 120_000);
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await sandbox?.close();
  });

  const credentialsOf = (operation: Operation): Credential[] => {
    const kinds = new Set<Credential>();
    for (const requirement of operation.op.security ?? []) {
      for (const name of Object.keys(requirement)) kinds.add(name === 'sb_session' ? 'cookie' : (name as Credential));
    }
    return kinds.size > 0 ? [...kinds] : ['none'];
  };

  async function call(operation: Operation, credential: Credential, as: TenantData, input: Input) {
    const encode = (value: string) => (RAW_URL_PARTS.includes(value) ? value : encodeURIComponent(Buffer.from(value).toString()));
    let path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => encode(input.path[name] ?? 'x'));
    const query = Object.entries(input.query)
      .map(([k, v]) => `${encode(k)}=${encode(v)}`)
      .join('&');
    if (query) path += `?${query}`;
    const headers: Record<string, string> = { origin: api.origin };
    if (input.contentType) headers['content-type'] = input.contentType;
    if (credential === 'cookie') headers.cookie = as.fixture.owner.cookie!;
    if (credential === 'secretKey') headers.authorization = `Bearer ${as.fixture.host.options.bearer}`;
    if (credential === 'endUserSession') headers.authorization = `Bearer ${as.session}`;
    const method = operation.method;
    const res = await fetch(api.url + path, { method, headers, body: ['GET', 'HEAD'].includes(method) ? undefined : input.body });
    // The proxy marks the provider's own answers (x-switchboard-attempts): their shape is the provider's.
    const answer = { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '', fromProvider: res.headers.has('x-switchboard-attempts') };
    // A valid body may take Slack off the sandbox: put it back, so no later call looks for the real slack.com.
    if (operation.path === '/v1/admin/connectors/{key}' && (method === 'PUT' || method === 'DELETE') && answer.status < 300) {
      const restored = await as.fixture.owner.put('/v1/admin/connectors/slack', SLACK_ON_SANDBOX);
      if (restored.status !== 200) throw new Error(`could not put Slack back on the sandbox: ${restored.status}`);
    }
    return answer;
  }

  /** Why an answer breaks the contract, or null. */
  function problem(operation: Operation, res: { status: number; text: string; type: string; fromProvider?: boolean }): string | null {
    if (res.fromProvider) return null; // relayed by the proxy as the provider sent it
    // 502/504 name the provider's failure (the fuzzer may switch Slack off the sandbox, and there is no internet), not ours.
    const upstream =
      (res.status === 502 || res.status === 504) &&
      (/"provider_(error|timeout|unreachable)"/.test(res.text) || (operation.method === 'HEAD' && operation.path.startsWith('/v1/proxy/')));
    if (res.status >= 500 && !upstream) return 'server error';
    if (res.status < 400 || operation.method === 'HEAD') return null;
    if (operation.path.startsWith('/v1/proxy/') && res.status !== 401 && res.status !== 404 && res.status !== 400) return null; // the provider's own answer
    if (!res.type.includes('application/json')) return 'error answer is not JSON';
    let body: any;
    try {
      body = JSON.parse(res.text);
    } catch {
      return 'error answer is not valid JSON';
    }
    const code = body?.error?.code;
    if (typeof code !== 'string' || !KNOWN_CODES.has(code) || typeof body.error.message !== 'string' || body.error.message === '') return 'not the {error:{code,message}} envelope';
    if (ERROR_STATUS[code as keyof typeof ERROR_STATUS] !== res.status) return `code ${code} with status ${res.status}`;
    return null;
  }

  const report = (findings: Finding[]) =>
    findings
      .slice(0, 60)
      .map((f) => `${f.operation} as ${f.credential}: ${f.status} ${f.why}\n    input ${JSON.stringify(f.input).slice(0, 300)}\n    answer ${f.body.slice(0, 300)}`)
      .join('\n');

  it('covers every operation of the document with a tenant-A id for every path parameter', () => {
    const unmapped = operations.flatMap((o) =>
      [...o.path.matchAll(/\{(\w+)\}/g)]
        .map((m) => m[1])
        .filter((n) => idFor(a, o.path, n) === undefined)
        .map((n) => `${o.method} ${o.path}: {${n}}`),
    );
    expect(unmapped, 'path parameters the fuzzer has no fixture id for: extend idFor()').toEqual([]);
    expect(operations.length).toBeGreaterThanOrEqual(107);
  });

  /** `other`, holding tenant A's ids, gets 4xx and never A's data; `shared` names the routes whose records the two share (not called). */
  async function crossCheck(other: TenantData, shared?: RegExp) {
    const findings: Finding[] = [];
    // Operations that create B's own record under a name A also uses (upserts by external id or connector key) may succeed: for them only the leak is checked.
    // Deleting an end user is idempotent (204 for one B does not have); A's records are checked afterwards.
    const upserts =
      /^(PUT \/v1\/end-users\/\{externalId\}|DELETE \/v1\/end-users\/\{externalId\}|POST \/v1\/end-users\/\{externalId\}\/flows|PATCH \/v1\/end-users\/\{externalId\}\/flows|GET \/v1\/end-users\/\{externalId\}\/(flows|connections)|(GET|PUT|DELETE) \/v1\/admin\/connectors\/\{key\}|GET \/v1\/me\/connectors)/;
    let checked = 0;
    for (const operation of operations) {
      const names = [...operation.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      if (names.length === 0) continue;
      const path = Object.fromEntries(names.map((n) => [n, idFor(a, operation.path, n)!]));
      if (shared?.test(`${operation.method} ${operation.path}`)) continue;
      for (const credential of credentialsOf(operation)) {
        if (credential === 'none') continue; // the hook URL is its own credential
        if (operation.path === '/v1/auth/logout') continue;
        const input: Input = { path, query: {}, body: operation.op.requestBody ? '{}' : undefined, contentType: operation.op.requestBody ? 'application/json' : undefined };
        const res = await call(operation, credential, other, input);
        checked++;
        const name = `${operation.method} ${operation.path}`;
        // Echoing the id that was asked for is no leak; anything else of A's is.
        const answer = Object.values(path).reduce((text, asked) => text.split(asked).join('<asked>'), res.text);
        const leak = answer.includes(A_MARK) || answer.includes(a.fixture.tenantId) || Object.values(a.ids).some((id) => id.length > 8 && answer.includes(id));
        const why = leak
          ? "tenant A's data in the answer"
          : res.status >= 500
            ? 'server error'
            : res.status < 400 && !upserts.test(name)
              ? `answered ${res.status} to tenant A's id`
              : null;
        if (why) findings.push({ operation: name, credential, input, status: res.status, body: res.text, why });
      }
    }
    expect(checked).toBeGreaterThan(50);
    // And A still has everything.
    const { owner, host } = a.fixture;
    expect((await host.get(`/v1/end-users/${a.externalId}`)).body.metadata).toEqual({ note: A_MARK });
    expect((await host.get(`/v1/runs/${a.ids.run}`)).status).toBe(200);
    expect((await owner.get('/v1/admin/api-keys')).body.data.find((k: { id: string }) => k.id === a.ids.apiKey).revokedAt).toBeNull();
    expect((await owner.get('/v1/admin/signing-keys')).body.data.map((k: { id: string }) => k.id)).toContain(a.ids.signingKey);
    expect((await owner.get(`/v1/admin/webhook-endpoints/${a.ids.webhookEndpoint}`)).status).toBe(200);
    expect((await owner.get(`/v1/admin/custom-providers/${a.ids.customProvider}`)).body.definition.description).toBe(A_MARK);
    expect((await owner.get('/v1/admin/members')).body.data.map((m: { id: string }) => m.id)).toContain(a.ids.membership);
    expect((await host.get(`/v1/connections/${a.ids.connection}`)).body.status).toBe('active');
    expect(findings, `cross-tenant findings (seed ${SEED}):\n${report(findings)}`).toEqual([]);
  }

  it('tenant B holding tenant A ids gets 4xx and never tenant A data', () => crossCheck(b), 120_000);

  // Members belong to the tenant, so both environments see them; everything else is the environment's own.
  it("tenant A's production environment holding its development ids gets 4xx and never their data", () => crossCheck(aProduction, /\/v1\/admin\/members\/\{id\}/), 120_000);

  it('answers hostile input to the routes outside the document (popup, OAuth callback, widget files, portal, metrics, MCP) below 500', async () => {
    const raw = (part: string) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    };
    const mcpCall = (bearer: string, body: unknown): RequestInit => ({
      body: JSON.stringify(body),
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    });
    const findings: string[] = [];
    const parts = [...RAW_URL_PARTS, ...HOSTILE_STRINGS.filter((v) => typeof v === 'string' && v.length < 200).map((v) => encodeURIComponent(Buffer.from(v).toString()))];
    const session = encodeURIComponent(b.session);
    for (const part of parts) {
      const probes: Array<[string, string, RequestInit?]> = [
        ['GET', `/connect/slack?session=${session}&origin=${part}`],
        ['GET', `/connect/${part}?session=${session}&origin=${encodeURIComponent(HOST_ORIGIN)}`],
        ['GET', `/connect/slack?session=${part}`],
        [
          'POST',
          `/connect/stripe`,
          { body: `session=${session}&origin=${encodeURIComponent(HOST_ORIGIN)}&apiKey=${part}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        ],
        ['GET', `/oauth/callback?state=${part}&code=${part}`],
        ['GET', `/oauth/callback?state=${part}&error=${part}&error_description=${part}`],
        ['GET', `/embed/v1/logos/${part}.svg`],
        ['GET', `/embed/v1/${part}`],
        ['GET', `/portal/${part}`],
        ['GET', `/metrics?x=${part}`],
        ['GET', `/v1/${part}`],
        ['POST', `/mcp?x=${part}`, mcpCall(b.session, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: raw(part), arguments: { runId: raw(part) } } })],
        ['POST', `/mcp`, mcpCall(b.session, { jsonrpc: '2.0', id: raw(part), method: raw(part), params: raw(part) })],
        ['POST', `/mcp`, mcpCall(part, { jsonrpc: '2.0', id: 1, method: 'tools/list' })],
      ];
      for (const [method, path, init] of probes) {
        const res = await fetch(api.url + path, { method, redirect: 'manual', ...init });
        if (res.status >= 500) findings.push(`${method} ${path}: ${res.status} ${(await res.text()).slice(0, 200)}`);
        else await res.arrayBuffer();
      }
    }
    expect(findings).toEqual([]);
  }, 120_000);

  it('answers hostile input to every operation under every credential with a 4xx envelope, never a 5xx', async () => {
    const findings: Finding[] = [];
    const reached = new Set<string>();
    let calls = 0;
    for (const [index, operation] of operations.entries()) {
      const name = `${operation.method} ${operation.path}`;
      const own = Object.fromEntries([...operation.path.matchAll(/\{(\w+)\}/g)].map((m) => [m[1], idFor(b, operation.path, m[1])!]));
      for (const credential of credentialsOf(operation)) {
        if (operation.path === '/v1/auth/logout' && credential === 'cookie') continue; // would sign the fixture out
        const samples = fc.sample(inputs(doc, operation, own), { seed: SEED + index, numRuns: runsFor(operation, doc) });
        for (const input of samples) {
          // Never delete the fixture's own records (the point is hostile input, not a clean-up): aim at a decoy of the same shape instead, so the call still reaches the handler.
          if (operation.method === 'DELETE') input.path = decoys(input.path, own);
          const res = await call(operation, credential, b, input);
          calls++;
          if (res.status !== 401 && !res.text.includes('"route_not_found"')) reached.add(name);
          const why = problem(operation, res);
          if (why) findings.push({ operation: name, credential, input, status: res.status, body: res.text, why });
        }
      }
    }
    console.log(`fuzz: ${calls} calls over ${operations.length} operations`);
    const unreached = operations
      .map((o) => `${o.method} ${o.path}`)
      .filter((n) => !reached.has(n) && !['POST /v1/auth/logout', 'POST /v1/hooks/{token}', 'POST /v1/hooks/apps/{configId}'].includes(n) && !n.includes('/v1/proxy/'));
    expect(findings, `hostile-input findings (seed ${SEED}):\n${report(findings)}`).toEqual([]);
    expect(unreached, 'operations whose every call was refused before validation (credential or fixture missing)').toEqual([]);
  }, 240_000);
});
