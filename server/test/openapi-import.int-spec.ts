import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createTenant, Http, startApi, startWorker, TenantFixture, TestApi } from './harness';
import { PETSTORE } from './fixtures';

/**
 * OpenAPI import: a tenant attaches a document to a connector (here the generic HTTP one) by
 * upload or URL; its operations become actions flows run through the end user's connection, and
 * its listing operations option sources for flow settings. A local HTTP server plays both the
 * document host and the API.
 */

const HOST_ORIGIN = 'https://host.example';
const USER = 'openapi-user';
const API_KEY = 'pets-key-123';

const CYCLIC = {
  openapi: '3.1.0',
  info: { title: 'Tree', version: '1' },
  paths: { '/nodes': { get: { responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } } } } } } },
  components: { schemas: { Node: { type: 'object', properties: { parent: { $ref: '#/components/schemas/Node' } } } } },
};

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** The API and the document host: serves the petstore, records every call. */
async function startPetstore(): Promise<{ server: Server; port: number; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const pets = [
    { id: 1, name: 'Rex', species: 'dog' },
    { id: 2, name: 'Tom', species: 'cat' },
  ];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (url.pathname === '/docs/petstore.yaml') return res.writeHead(200, { 'content-type': 'application/yaml' }).end(toYaml(PETSTORE));
      if (url.pathname === '/docs/cyclic.json') return json(200, CYCLIC);
      if (url.pathname === '/docs/missing.json') return json(404, { message: 'no such document' });
      if (url.pathname === '/docs/moved') return res.writeHead(302, { location: url.searchParams.get('to')! }).end();
      // Over a mebibyte without a Content-Length: refused while streaming.
      if (url.pathname === '/docs/huge') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"openapi":"3.0.3","x":"');
        for (let i = 0; i < 20; i++) res.write('x'.repeat(64 * 1024));
        return res.end('"}');
      }
      if (!url.pathname.startsWith('/api/')) return json(404, { message: 'not found' });
      if (req.headers.authorization !== `Bearer ${API_KEY}`) return json(401, { message: 'bad key' });
      const path = url.pathname.slice('/api'.length);
      if (req.method === 'GET' && path === '/pets') {
        const q = url.searchParams.get('q');
        return json(
          200,
          pets.filter((p) => !q || p.name.toLowerCase().includes(q.toLowerCase())),
        );
      }
      if (req.method === 'POST' && path === '/pets') {
        const pet = { id: pets.length + 1, ...JSON.parse(body) };
        pets.push(pet);
        return json(201, pet);
      }
      const one = /^\/pets\/(\d+)$/.exec(path);
      if (req.method === 'GET' && one) {
        const pet = pets.find((p) => p.id === Number(one[1]));
        return pet ? json(200, { ...pet, include: req.headers['x-include'] ?? null }) : json(404, { message: `no pet ${one[1]}` });
      }
      return json(404, { message: 'not found' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { server, port, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('OpenAPI import', () => {
  let api: TestApi;
  let worker: { close(): Promise<void> };
  let tenant: TenantFixture;
  let other: TenantFixture;
  let petstore: Awaited<ReturnType<typeof startPetstore>>;
  /** Same host, a port the outbound allowlist does not name. */
  let unlisted: Awaited<ReturnType<typeof startPetstore>>;
  let me: Http;
  const docUrl = (path: string) => `http://127.0.0.1:${petstore.port}${path}`;

  beforeAll(async () => {
    petstore = await startPetstore();
    unlisted = await startPetstore();
    api = await startApi({ OUTBOUND_ALLOWLIST: `127.0.0.1:${petstore.port}`, CONNECTION_RATE_LIMITS: 'false' });
    worker = await startWorker(api.config);
    tenant = await createTenant(api, 'Pets Co');
    other = await createTenant(api, 'Other Co');
    await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
    expect((await tenant.owner.put('/v1/admin/connectors/http', { enabled: true })).status).toBe(200);
    const token = (await tenant.host.post('/v1/sessions', { endUserId: USER })).body.token as string;
    me = new Http(api.url, { origin: HOST_ORIGIN }).withBearer(token);
    const connect = await fetch(`${api.url}/connect/http`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ session: token, origin: HOST_ORIGIN, 'config.base_url': `http://127.0.0.1:${petstore.port}/api`, apiKey: API_KEY }).toString(),
    });
    expect(await connect.text()).toContain('"connected"');
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await petstore?.close();
    await unlisted?.close();
  });

  it('imports an uploaded document: operations become actions of the connector, audited', async () => {
    const res = await tenant.owner.put('/v1/admin/connectors/http/openapi', { document: PETSTORE });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ connectorKey: 'http', title: 'Petstore', version: '2.1.0', openapi: '3.0.3', url: null, servers: ['https://pets.example/api'], warnings: [] });
    expect(res.body.operations.map((o: { key: string; method: string; path: string }) => `${o.key} ${o.method} ${o.path}`)).toEqual([
      'list_pets GET /pets',
      'create_pet POST /pets',
      'get_pet GET /pets/{petId}',
      'request_2 POST /raw',
    ]);
    const list = res.body.operations[0];
    expect(list).toMatchObject({ name: 'List pets', optionSource: { itemsPath: '', valuePath: 'id', labelPath: 'name', searchParam: 'q' }, optionSourceOverridden: false });
    expect(res.body.operations[1].input).toMatchObject({
      required: ['body'],
      properties: { body: { required: ['name'], properties: { name: { type: 'string', minLength: 1 } } } },
    });

    expect((await tenant.owner.get('/v1/admin/connectors/http/openapi')).body).toEqual(res.body);
    const connector = (await tenant.owner.get('/v1/admin/connectors/http')).body;
    expect(connector.actions.map((a: { key: string }) => a.key)).toEqual(['list_pets', 'create_pet', 'get_pet', 'request_2', 'request', 'graphql']);
    expect(connector.optionSources).toEqual(['list_pets']);
    // Another tenant's connector is untouched.
    expect((await other.owner.get('/v1/admin/connectors/http')).body.actions.map((a: { key: string }) => a.key)).toEqual(['request', 'graphql']);

    const audit = await tenant.owner.get('/v1/admin/audit-events?action=connector_openapi.imported');
    expect(audit.body.data[0]).toMatchObject({ targetType: 'connector', targetId: 'http', data: { title: 'Petstore', operations: 4, source: 'upload', replaced: false } });
  });

  it('runs an imported operation in a flow action step, through the connection', async () => {
    const definition = {
      key: 'adopt',
      name: 'Adopt',
      trigger: { type: 'request' },
      connectors: ['http'],
      inputs: { favourite: { type: 'string', title: 'Favourite pet', required: true, options: { connector: 'http', source: 'list_pets' } } },
      steps: [
        { id: 'create', type: 'action', connector: 'http', action: 'create_pet', input: { body: { name: '=$trigger.name', species: 'hamster' } } },
        { id: 'fetch', type: 'action', connector: 'http', action: 'get_pet', input: { petId: '=$steps.create.id', 'X-Include': '=$inputs.favourite' } },
      ],
    };
    const created = await tenant.owner.post('/v1/admin/flow-templates', { definition });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const published = await tenant.owner.post('/v1/admin/flow-templates/adopt/publish');
    expect(published.status, JSON.stringify(published.body)).toBe(201);

    // The settings dropdown lists the pets through the end user's connection; search goes to `q`.
    const options = await me.get('/v1/me/connectors/http/options/list_pets');
    expect(options.status, JSON.stringify(options.body)).toBe(200);
    expect(options.body.options).toEqual([
      { value: '1', label: 'Rex' },
      { value: '2', label: 'Tom' },
    ]);
    expect((await me.get('/v1/me/connectors/http/options/list_pets?search=to')).body.options).toEqual([{ value: '2', label: 'Tom' }]);
    expect(petstore.seen.at(-1)).toMatchObject({ method: 'GET', url: '/api/pets?q=to' });
    expect(petstore.seen.at(-1)!.headers.authorization).toBe(`Bearer ${API_KEY}`);

    expect((await tenant.host.post(`/v1/end-users/${USER}/flows/adopt/enable`, { settings: { favourite: '2' } })).status).toBe(200);
    const started = await tenant.host.post('/v1/flows/adopt/runs', { endUserId: USER, input: { name: 'Nibbles' }, wait: true });
    expect(started.status, JSON.stringify(started.body)).toBeLessThan(300);
    const run = (await tenant.host.get(`/v1/runs/${started.body.id}`)).body;
    expect(run, JSON.stringify(run)).toMatchObject({ status: 'succeeded' });
    expect(run.steps.map((s: { output: unknown }) => s.output)).toEqual([
      { id: 3, name: 'Nibbles', species: 'hamster' },
      { id: 3, name: 'Nibbles', species: 'hamster', include: '2' },
    ]);
    const post = petstore.seen.find((s) => s.method === 'POST' && s.url === '/api/pets')!;
    expect(JSON.parse(post.body)).toEqual({ name: 'Nibbles', species: 'hamster' });
    expect(post.headers.authorization).toBe(`Bearer ${API_KEY}`);

    // Flow validation knows the imported input schema; another tenant has no such action.
    const bad = await tenant.owner.post('/v1/admin/flow-templates/adopt/validate', {
      definition: { ...definition, steps: [{ id: 'create', type: 'action', connector: 'http', action: 'create_pet', input: { body: { name: '' } } }] },
    });
    expect(bad.body).toMatchObject({ valid: false, errors: [{ path: 'steps.0.input.body.name', message: 'must not be empty' }] });
    expect((await other.owner.post('/v1/admin/flow-templates', { definition })).status).toBe(201);
    const foreign = await other.owner.post('/v1/admin/flow-templates/adopt/validate', {});
    expect(foreign.body.valid).toBe(false);
    expect(JSON.stringify(foreign.body.errors)).toContain("unknown action 'create_pet'");
  });

  it('lets the admin choose the value and label of an option source, or turn it off', async () => {
    const patched = await tenant.owner.patch('/v1/admin/connectors/http/openapi', { optionSources: { list_pets: { itemsPath: '', valuePath: 'name', labelPath: 'species' } } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.operations[0]).toMatchObject({ optionSource: { valuePath: 'name', labelPath: 'species' }, optionSourceOverridden: true });
    expect((await me.get('/v1/me/connectors/http/options/list_pets')).body.options.slice(0, 2)).toEqual([
      { value: 'Rex', label: 'dog' },
      { value: 'Tom', label: 'cat' },
    ]);

    const wrong = await tenant.owner.patch('/v1/admin/connectors/http/openapi', {
      optionSources: { create_pet: null, get_pet: null, nope: null, list_pets: { itemsPath: 'a b', valuePath: 'id', labelPath: 'name', searchParam: 'zzz', extra: 1 } },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.details.errors.map((e: { path: string }) => e.path)).toEqual([
      'optionSources.create_pet',
      'optionSources.get_pet',
      'optionSources.nope',
      'optionSources.list_pets.extra',
      'optionSources.list_pets.itemsPath',
      'optionSources.list_pets.searchParam',
    ]);

    expect((await tenant.owner.patch('/v1/admin/connectors/http/openapi', { optionSources: { list_pets: null } })).body.operations[0].optionSource).toBeNull();
    expect((await me.get('/v1/me/connectors/http/options/list_pets')).status).toBe(404);
    expect((await tenant.owner.get('/v1/admin/audit-events?action=connector_openapi.option_sources_updated')).body.data).toHaveLength(2);
    await tenant.owner.patch('/v1/admin/connectors/http/openapi', { optionSources: { list_pets: { itemsPath: '', valuePath: 'id', labelPath: 'name', searchParam: 'q' } } });
  });

  it('imports by URL through the outbound guard (YAML, redirects re-checked), with a size cap', async () => {
    const res = await tenant.owner.put('/v1/admin/connectors/http/openapi', { url: docUrl('/docs/petstore.yaml') });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ title: 'Petstore', url: docUrl('/docs/petstore.yaml') });
    // The admin's option-source choice survives a re-import that keeps the operation.
    expect(res.body.operations[0]).toMatchObject({ key: 'list_pets', optionSourceOverridden: true });

    const privateUrl = await tenant.owner.put('/v1/admin/connectors/http/openapi', { url: `http://127.0.0.1:${unlisted.port}/docs/petstore.yaml` });
    expect(privateUrl.status).toBe(403);
    expect(privateUrl.body.error.message).toMatch(/private, loopback and link-local destinations are blocked/);
    expect(unlisted.seen).toHaveLength(0);
    const metadata = await tenant.owner.put('/v1/admin/connectors/http/openapi', { url: 'http://169.254.169.254/latest/meta-data/' });
    expect(metadata.status).toBe(403);
    const redirected = await tenant.owner.put('/v1/admin/connectors/http/openapi', {
      url: docUrl(`/docs/moved?to=${encodeURIComponent(`http://127.0.0.1:${unlisted.port}/docs/petstore.yaml`)}`),
    });
    expect(redirected.status).toBe(403);
    expect(unlisted.seen).toHaveLength(0);
    expect((await tenant.owner.put('/v1/admin/connectors/http/openapi', { url: 'file:///etc/passwd' })).status).toBe(403);

    const huge = await tenant.owner.put('/v1/admin/connectors/http/openapi', { url: docUrl('/docs/huge') });
    expect(huge.status).toBe(413);
    expect(huge.body.error.message).toMatch(/over the 1048576-byte limit/);
    const missing = await tenant.owner.put('/v1/admin/connectors/http/openapi', { url: docUrl('/docs/missing.json') });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/answered HTTP 404/);
    const cyclic = await tenant.owner.put('/v1/admin/connectors/http/openapi', { url: docUrl('/docs/cyclic.json') });
    expect(cyclic.status).toBe(400);
    expect(cyclic.body.error).toMatchObject({ code: 'validation_failed', details: { problem: 'cyclic', pointer: '#/components/schemas/Node/properties/parent' } });
    // A refused import leaves the one before in place.
    expect((await tenant.owner.get('/v1/admin/connectors/http/openapi')).body.title).toBe('Petstore');
  });

  it('refuses invalid, too large, cyclic and hostile documents, naming the problem', async () => {
    const put = (body: unknown) => tenant.owner.put('/v1/admin/connectors/http/openapi', body);
    const cyclic = await put({ document: toYaml(CYCLIC) });
    expect(cyclic.status).toBe(400);
    expect(cyclic.body.error.message).toMatch(/cyclic .*#\/components\/schemas\/Node\/properties\/parent/);

    const invalid = await put({ document: { openapi: '3.0.3', info: { title: 'x' }, paths: {} } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatchObject({ code: 'validation_failed', details: { problem: 'invalid_document' } });
    expect(invalid.body.error.message).toMatch(/not valid OpenAPI 3\.0\.3: .*'version'/);

    expect((await put({ document: { swagger: '2.0', info: {}, paths: {} } })).body.error.message).toMatch(/Only OpenAPI 3\.0 and 3\.1 .*Swagger 2\.0/);
    const many = { ...PETSTORE, paths: Object.fromEntries(Array.from({ length: 301 }, (_, i) => [`/p${i}`, { get: { responses: { '200': { description: 'ok' } } } }])) };
    const tooMany = await put({ document: many });
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.error.message).toBe('The document has 301 operations; the limit is 300');
    // Bigger than the API's body limit: refused before it is parsed.
    expect((await put({ document: 'x'.repeat(1100 * 1024) })).status).toBe(413);
    const external = await put({ document: { ...PETSTORE, paths: { '/a': { get: { responses: { '200': { $ref: 'http://127.0.0.1:9/evil.json' } } } } } } });
    expect(external.status).toBe(400);
    expect(external.body.error.details).toMatchObject({ problem: 'unsupported', pointer: '/paths/~1a/get/responses/200' });

    // Hostile and malformed bodies.
    expect((await put({})).body.error.message).toBe('Send either url or document');
    expect((await put({ url: docUrl('/docs/petstore.yaml'), document: PETSTORE })).body.error.message).toBe('Send url or document, not both');
    expect((await put({ document: [PETSTORE] })).status).toBe(400);
    expect((await put({ document: 42 })).status).toBe(400);
    expect((await put({ url: 42 })).status).toBe(400);
    expect((await put({ url: 'not a url' })).body.error.message).toMatch(/is not a URL/);
    expect((await put({ document: 'a: &a [1]\nb: *a\n'.repeat(1) + Array.from({ length: 200 }, (_, i) => `k${i}: *a`).join('\n') })).status).toBe(400);
    const deep = await put({ document: '['.repeat(20000) + ']'.repeat(20000) });
    expect(deep.status).toBe(400);
    const proto = await put({ document: '{"openapi":"3.0.3","info":{"title":"p","version":"1"},"paths":{},"__proto__":{"polluted":true}}' });
    // Kept as a plain key (and refused as not OpenAPI), never a prototype.
    expect(proto.status).toBe(400);
    expect(proto.body.error.message).toMatch(/additional properties \(near "__proto__"/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('viewers read the document, only admins change it', async () => {
    const { browser: viewer } = await addMember(api, tenant, 'viewer');
    expect((await viewer.get('/v1/admin/connectors/http/openapi')).status).toBe(200);
    expect((await viewer.put('/v1/admin/connectors/http/openapi', { document: PETSTORE })).status).toBe(403);
    expect((await viewer.patch('/v1/admin/connectors/http/openapi', { optionSources: {} })).status).toBe(403);
    expect((await viewer.delete('/v1/admin/connectors/http/openapi')).status).toBe(403);
  });

  it('is per tenant and per connector: unknown keys and other tenants get 404; DELETE removes the actions', async () => {
    expect((await other.owner.get('/v1/admin/connectors/http/openapi')).status).toBe(404);
    expect((await other.owner.delete('/v1/admin/connectors/http/openapi')).status).toBe(404);
    expect((await tenant.owner.put('/v1/admin/connectors/no-such-connector/openapi', { document: PETSTORE })).status).toBe(404);
    expect((await tenant.owner.get('/v1/admin/connectors/no-such-connector/openapi')).status).toBe(404);

    await tenant.owner.put('/v1/admin/connectors/http/openapi', { document: PETSTORE });
    expect((await tenant.owner.delete('/v1/admin/connectors/http/openapi')).status).toBe(204);
    expect((await tenant.owner.get('/v1/admin/connectors/http/openapi')).status).toBe(404);
    expect((await tenant.owner.get('/v1/admin/connectors/http')).body.actions.map((a: { key: string }) => a.key)).toEqual(['request', 'graphql']);
    expect((await tenant.owner.delete('/v1/admin/connectors/http/openapi')).status).toBe(404);
    expect((await tenant.owner.get('/v1/admin/audit-events?action=connector_openapi.deleted')).body.data).toHaveLength(1);
  });
});
