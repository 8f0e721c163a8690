import { ROUTES, RouteName } from '@switchboard/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, TestApi } from './harness';
import { sdkInterface } from './sdk-shapes';

type Schema = { $ref?: string; type?: string; properties?: Record<string, Schema & { nullable?: boolean }>; required?: string[]; items?: Schema; allOf?: Schema[] };
type Operation = {
  security?: Array<Record<string, unknown>>;
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
};

/** SDK input types sent as the request body, by route. */
const BODY_TYPES: Partial<Record<RouteName, string>> = {
  upsertEndUser: 'UpsertEndUserInput',
  createSession: 'CreateSessionInput',
  sendEvent: 'EventInput',
  runFlow: 'RunFlowInput',
  enableInstance: 'InstanceInput',
  updateInstance: 'InstanceInput',
  upgradeInstance: 'InstanceInput',
  setInstanceWebhookSecret: 'WebhookSecretInput',
  approve: 'DecisionInput',
  reject: 'DecisionInput',
};

/** SDK parameter types sent as the query string, by route. */
const QUERY_TYPES: Partial<Record<RouteName, string>> = {
  listEndUsers: 'PageParams',
  listRuns: 'RunListParams',
  listApprovals: 'ApprovalListParams',
};

/** SDK result types, by route, where the server documents its answer (`list`: a `{ data: [...] }` of them). Undocumented answers are checked live in sdk.int-spec.ts. */
const RESPONSE_TYPES: Partial<Record<RouteName, { type: string; list?: true }>> = {
  listEndUsers: { type: 'EndUser', list: true },
  getEndUser: { type: 'EndUser' },
  upsertEndUser: { type: 'EndUser' },
  createSession: { type: 'Session' },
  listConnections: { type: 'Connection', list: true },
  getConnection: { type: 'Connection' },
  connectionAccessToken: { type: 'AccessToken' },
  listApprovals: { type: 'Approval', list: true },
  getApproval: { type: 'Approval' },
  approve: { type: 'Approval' },
  reject: { type: 'Approval' },
  listRuns: { type: 'Run', list: true },
  getRun: { type: 'Run' },
  retryRun: { type: 'Run' },
  cancelRun: { type: 'Run' },
  runFlow: { type: 'Run' },
  listInstances: { type: 'Flow', list: true },
  enableInstance: { type: 'Flow' },
  updateInstance: { type: 'Flow' },
  disableInstance: { type: 'Flow' },
  upgradeInstance: { type: 'Flow' },
  rotateInstanceWebhook: { type: 'Flow' },
  setInstanceWebhookSecret: { type: 'Flow' },
};

describe('@switchboard/sdk matches the OpenAPI document', () => {
  let api: TestApi;
  let doc: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } };

  const operation = (route: string): Operation | undefined => {
    const [method, path] = route.split(' ');
    return doc.paths[path]?.[method.toLowerCase()];
  };
  const resolve = (schema: Schema): Schema => {
    if (schema.$ref) return resolve(doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')]);
    if (schema.allOf?.length === 1) return resolve(schema.allOf[0]);
    return schema;
  };
  /** Compares a schema's properties with an SDK interface: names, and for inputs which are required; for outputs, which may be null. */
  const compare = (schema: Schema, typeName: string, kind: 'input' | 'output') => {
    const fields = sdkInterface(typeName);
    const properties = resolve(schema).properties ?? {};
    expect([...fields.keys()].sort(), `${typeName} fields`).toEqual(Object.keys(properties).sort());
    if (kind === 'input') {
      const required = [...fields]
        .filter(([, f]) => !f.optional)
        .map(([k]) => k)
        .sort();
      expect(required, `${typeName} required fields`).toEqual([...(resolve(schema).required ?? [])].sort());
    } else {
      const nullable = Object.entries(properties)
        .filter(([, p]) => p.nullable)
        .map(([k]) => k)
        .sort();
      expect(
        [...fields]
          .filter(([, f]) => f.nullable)
          .map(([k]) => k)
          .sort(),
        `${typeName} nullable fields`,
      ).toEqual(nullable);
    }
  };

  beforeAll(async () => {
    api = await startApi();
    doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as typeof doc;
  });
  afterAll(() => api.close());

  it('calls only routes the API has, with the secret key', () => {
    for (const route of Object.values(ROUTES)) {
      const op = operation(route);
      expect(op, `${route} is not in /openapi.json`).toBeDefined();
      expect(
        op!.security?.some((s) => 'secretKey' in s),
        `${route} does not take a secret key`,
      ).toBe(true);
    }
  });

  it('covers every host (secret-key) operation of the API', () => {
    const covered = new Set<string>(Object.values(ROUTES));
    const missing: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const route = `${method.toUpperCase()} ${path}`;
        const hostOnly = op.security?.some((s) => 'secretKey' in s) && !op.security?.some((s) => 'endUserSession' in s);
        // The proxy's routes are covered by Switchboard.proxy(), which forwards any method and path.
        if (hostOnly && !covered.has(route) && !path.startsWith('/v1/proxy/')) missing.push(route);
      }
    }
    expect(missing).toEqual([]);
  });

  it('sends the bodies and query parameters the API expects', () => {
    for (const [name, route] of Object.entries(ROUTES) as Array<[RouteName, string]>) {
      const op = operation(route)!;
      const body = op.requestBody?.content['application/json']?.schema;
      expect(Boolean(body), `${route}: body documented ${Boolean(body)}, SDK type ${BODY_TYPES[name] ?? 'none'}`).toBe(Boolean(BODY_TYPES[name]));
      if (body) compare(body, BODY_TYPES[name]!, 'input');
      const query = (op.parameters ?? [])
        .filter((p) => p.in === 'query')
        .map((p) => p.name)
        .sort();
      const sdkQuery = QUERY_TYPES[name] ? [...sdkInterface(QUERY_TYPES[name]!).keys()].sort() : [];
      expect(sdkQuery, `${route} query parameters`).toEqual(query);
      const path = [...route.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(
        (op.parameters ?? [])
          .filter((p) => p.in === 'path')
          .map((p) => p.name)
          .sort(),
        `${route} path parameters`,
      ).toEqual(path);
    }
  });

  it('types every documented answer as the API does', () => {
    for (const [name, route] of Object.entries(ROUTES) as Array<[RouteName, string]>) {
      const op = operation(route)!;
      const schema = Object.entries(op.responses).find(([status]) => /^2\d\d$/.test(status))?.[1].content?.['application/json']?.schema;
      if (!schema) continue;
      const expected = RESPONSE_TYPES[name];
      expect(expected, `${route} documents its answer; map it to an SDK type in RESPONSE_TYPES`).toBeDefined();
      const resolved = resolve(schema);
      compare(expected!.list ? resolved.properties!.data.items! : resolved, expected!.type, 'output');
    }
  });
});
