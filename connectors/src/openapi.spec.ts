import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpConnector } from './index';
import { actionKey, importedConnectorParts, importOpenApi, OPENAPI_LIMITS, OpenApiImportError, operationRequest } from './openapi';
import { makeCtx } from './test-support/helpers';

const PETSTORE_YAML = `
openapi: 3.0.3
info: { title: Petstore, version: "1.2.0" }
servers: [{ url: https://pets.example/v1 }]
paths:
  /pets:
    get:
      operationId: listPets
      summary: List pets
      parameters:
        - { name: q, in: query, schema: { type: string } }
        - { name: tag, in: query, explode: true, schema: { type: array, items: { type: string } } }
        - { name: X-Trace, in: header, schema: { type: string } }
        - { name: session, in: cookie, schema: { type: string } }
        - { name: Authorization, in: header, schema: { type: string } }
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: { type: array, items: { $ref: '#/components/schemas/Pet' } }
    post:
      operationId: createPet
      summary: Create a pet
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: '#/components/schemas/NewPet' }
      responses:
        "201":
          description: created
          content: { application/json: { schema: { $ref: '#/components/schemas/Pet' } } }
    head:
      responses: { "200": { description: ok } }
  /pets/{petId}:
    parameters:
      - { name: petId, in: path, required: true, schema: { type: integer, minimum: 1, exclusiveMinimum: true } }
    get:
      summary: One pet
      responses:
        "200":
          description: ok
          content: { application/json: { schema: { $ref: '#/components/schemas/Pet' } } }
    delete:
      operationId: list-pets
      responses: { "204": { description: gone } }
  /owners:
    get:
      operationId: listOwners
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  data: { type: array, items: { type: object, properties: { uuid: { type: string }, full_name: { type: string } } } }
                  next: { type: string, nullable: true }
  /photos:
    post:
      operationId: uploadPhoto
      requestBody:
        required: true
        content: { multipart/form-data: { schema: { type: object } } }
      responses: { "200": { description: ok } }
components:
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id: { type: integer, readOnly: true }
        name: { type: string, example: Rex }
        tag: { type: string, nullable: true }
    NewPet:
      allOf:
        - $ref: '#/components/schemas/Pet'
        - type: object
          properties: { secret: { type: string, writeOnly: true } }
`;

const doc = (paths: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ openapi: '3.1.0', info: { title: 'T', version: '1' }, paths, ...extra });
const ok = { '200': { description: 'ok' } };

async function refusal(source: unknown, limits = OPENAPI_LIMITS): Promise<OpenApiImportError> {
  const error = await importOpenApi(source, limits).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpenApiImportError);
  return error as OpenApiImportError;
}

describe('OpenAPI import: operations → actions', () => {
  it('keys, inputs, outputs, listings and warnings of a petstore', async () => {
    const imported = await importOpenApi(PETSTORE_YAML);
    expect(imported).toMatchObject({ openapi: '3.0.3', title: 'Petstore', version: '1.2.0', servers: ['https://pets.example/v1'] });
    const byKey = Object.fromEntries(imported.operations.map((o) => [o.key, o]));
    // operationId in snake_case; without one, method + path; `list-pets` sanitises onto list_pets, so it gets _2.
    expect(Object.keys(byKey)).toEqual(['list_pets', 'create_pet', 'get_pets_pet_id', 'list_pets_2', 'list_owners']);
    expect(byKey.list_pets_2).toMatchObject({ method: 'DELETE', path: '/pets/{petId}', output: {} });
    // Keys the connector already uses (its own actions and option sources) are not taken.
    const beside = await importOpenApi(PETSTORE_YAML, OPENAPI_LIMITS, ['list_pets', 'request']);
    expect(beside.operations.map((o) => o.key)).toEqual(['list_pets_2', 'create_pet', 'get_pets_pet_id', 'list_pets_3', 'list_owners']);

    const list = byKey.list_pets;
    expect(list).toMatchObject({ name: 'List pets', method: 'GET', path: '/pets' });
    // Cookie and Authorization parameters are not inputs: the connection authenticates.
    expect(list.input).toEqual({
      type: 'object',
      properties: { q: { type: 'string' }, tag: { type: 'array', items: { type: 'string' } }, 'X-Trace': { type: 'string' } },
      additionalProperties: false,
    });
    expect(list.output).toEqual({
      type: 'array',
      items: { type: 'object', required: ['id', 'name'], properties: { id: { type: 'integer' }, name: { type: 'string' }, tag: { type: ['string', 'null'] } } },
    });
    expect(list.list).toEqual({ itemsPath: '', valuePath: 'id', labelPath: 'name', searchParam: 'q' });

    // The body: readOnly `id` is not an input (nor required), writeOnly `secret` is; allOf kept.
    const create = byKey.create_pet;
    expect(create.body).toEqual({ field: 'body', required: true, contentType: 'application/json' });
    expect(create.input.required).toEqual(['body']);
    const body = (create.input.properties as Record<string, any>).body;
    expect(body.allOf[0]).toEqual({ type: 'object', required: ['name'], properties: { name: { type: 'string' }, tag: { type: ['string', 'null'] } } });
    expect(body.allOf[1].properties).toEqual({ secret: { type: 'string' } });
    expect(create.output.properties).toHaveProperty('id');
    expect(create.list).toBeUndefined();

    // Path-item parameters apply; 3.0's boolean exclusiveMinimum becomes 2020-12's number.
    expect(byKey.get_pets_pet_id.input).toMatchObject({ properties: { petId: { type: 'integer', exclusiveMinimum: 1 } }, required: ['petId'] });
    expect(byKey.get_pets_pet_id.list).toBeUndefined();
    expect(byKey.list_owners.list).toEqual({ itemsPath: 'data', valuePath: 'uuid', labelPath: 'full_name' });

    expect(imported.warnings).toEqual([
      'HEAD /pets: HEAD operations are not imported',
      'GET /pets: cookie parameter session is not supported and was left out',
      'POST /photos: its request body is multipart/form-data; only JSON bodies are supported, so it was not imported',
    ]);
  });

  it('produces input and output schemas a 2020-12 validator compiles strictly', async () => {
    const imported = await importOpenApi(PETSTORE_YAML);
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    addFormats(ajv);
    for (const op of imported.operations) {
      expect(() => ajv.compile(op.input), op.key).not.toThrow();
      expect(() => ajv.compile(op.output), op.key).not.toThrow();
    }
    const validateCreate = ajv.compile(imported.operations.find((o) => o.key === 'create_pet')!.input);
    expect(validateCreate({ body: { name: 'Rex', tag: null } })).toBe(true);
    expect(validateCreate({ body: { tag: 'x' } })).toBe(false);
  });

  it('leaves out patterns a validator cannot compile, saying so', async () => {
    const imported = await importOpenApi(
      doc({
        '/a': {
          get: {
            parameters: [
              { name: 'code', in: 'query', schema: { type: 'string', pattern: '([a-z]' } },
              { name: 'ok', in: 'query', schema: { type: 'string', pattern: '^[a-z]+$' } },
              { name: 'map', in: 'query', schema: { type: 'object', patternProperties: { '[': { type: 'string' }, '^x-': { type: 'integer' } } } },
            ],
            responses: ok,
          },
        },
      }),
    );
    const input = imported.operations[0].input as { properties: Record<string, Record<string, unknown>> };
    expect(input.properties.code).toEqual({ type: 'string' });
    expect(input.properties.ok.pattern).toBe('^[a-z]+$');
    expect(input.properties.map.patternProperties).toEqual({ '^x-': { type: 'integer' } });
    expect(imported.warnings).toEqual(['pattern "([a-z]" is not a valid regular expression and was left out', 'pattern "[" is not a valid regular expression and was left out']);
    expect(() => new Ajv2020({ strict: true }).compile(input)).not.toThrow();
  });

  it('leaves out patterns that could backtrack exponentially (they would run on shared API and worker processes)', async () => {
    const imported = await importOpenApi(
      doc({
        '/a': {
          get: {
            parameters: [
              { name: 'slow', in: 'query', schema: { type: 'string', pattern: '^(a+)+$' } },
              { name: 'fine', in: 'query', schema: { type: 'string', pattern: '^[a-z]+(-[a-z]+)?$' } },
            ],
            responses: ok,
          },
        },
      }),
    );
    const input = imported.operations[0].input as { properties: Record<string, Record<string, unknown>> };
    expect(input.properties.slow).toEqual({ type: 'string' });
    expect(input.properties.fine.pattern).toBe('^[a-z]+(-[a-z]+)?$');
    expect(imported.warnings).toEqual(['pattern "^(a+)+$" could backtrack exponentially and was left out']);
  });

  it('sanitises action keys', () => {
    expect(actionKey('getHTTPStatus', 'get', '/x')).toBe('get_http_status');
    expect(actionKey('users.list', 'get', '/x')).toBe('users_list');
    expect(actionKey('2fa-enable', 'post', '/x')).toBe('op_2fa_enable');
    expect(actionKey(undefined, 'get', '/repos/{owner}/{repo}/issues')).toBe('get_repos_owner_repo_issues');
    expect(actionKey('   ', 'delete', '/')).toBe('delete');
    expect(actionKey('ü'.repeat(5), 'get', '/a')).toBe('get');
  });

  it('places parameters and the body as the spec says', async () => {
    const imported = await importOpenApi(
      doc({
        '/items/{id}/{sub}': {
          put: {
            operationId: 'put',
            parameters: [
              { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
              { name: 'sub', in: 'path', required: true, schema: { type: 'string' } },
              { name: 'id', in: 'query', schema: { type: 'string' } },
              { name: 'ids', in: 'query', explode: false, schema: { type: 'array', items: { type: 'integer' } } },
              { name: 'tags', in: 'query', schema: { type: 'array', items: { type: 'string' } } },
              { name: 'X-Mode', in: 'header', schema: { type: 'string' } },
              { name: 'body', in: 'query', schema: { type: 'string' } },
            ],
            requestBody: { content: { 'application/merge-patch+json': { schema: { type: 'object' } } } },
            responses: ok,
          },
        },
      }),
    );
    const op = imported.operations[0];
    expect(Object.keys(op.input.properties as object)).toEqual(['id', 'sub', 'query_id', 'ids', 'tags', 'X-Mode', 'body', 'request_body']);
    const request = operationRequest(op, { id: 'a/b c', sub: '../x', query_id: 'q', ids: [1, 2], tags: ['x', 'y'], 'X-Mode': 'fast', body: 'b', request_body: { n: 1 } });
    expect(request).toEqual({
      method: 'PUT',
      path: '/items/a%2Fb%20c/..%2Fx?id=q&ids=1%2C2&tags=x&tags=y&body=b',
      headers: { 'X-Mode': 'fast', 'content-type': 'application/merge-patch+json' },
      body: { n: 1 },
    });
    expect(() => operationRequest(op, { sub: 'x' })).toThrow(/path parameter id is required/);
  });
});

describe('OpenAPI import: refusals name the problem', () => {
  it('a cyclic schema, naming the $ref path', async () => {
    const cyclic = doc(
      { '/nodes': { get: { responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } } } } } } },
      { components: { schemas: { Node: { type: 'object', properties: { children: { type: 'array', items: { $ref: '#/components/schemas/Node' } } } } } } },
    );
    const error = await refusal(cyclic);
    expect(error.problem).toBe('cyclic');
    expect(error.message).toContain('#/components/schemas/Node/properties/children/items');
    expect(error.pointer).toBe('#/components/schemas/Node/properties/children/items');
  });

  it('too many bytes, too many operations, schemas that expand too far', async () => {
    expect((await refusal('x'.repeat(OPENAPI_LIMITS.maxDocumentBytes + 1))).message).toMatch(/is 1048577 bytes; the limit is 1048576/);
    const many = doc(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`/p${i}`, { get: { responses: ok } }])));
    const tooMany = await refusal(many, { ...OPENAPI_LIMITS, maxOperations: 10 });
    expect(tooMany).toMatchObject({ problem: 'too_large', message: 'The document has 11 operations; the limit is 10' });
    // Each level refers to the next twice: 2^12 copies once dereferenced.
    const schemas: Record<string, unknown> = { L12: { type: 'string' } };
    for (let i = 11; i >= 0; i--)
      schemas[`L${i}`] = { type: 'object', properties: { a: { $ref: `#/components/schemas/L${i + 1}` }, b: { $ref: `#/components/schemas/L${i + 1}` } } };
    const wide = doc(
      { '/x': { get: { responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/L0' } } } } } } } },
      { components: { schemas } },
    );
    expect((await refusal(wide, { ...OPENAPI_LIMITS, maxSchemaNodes: 1000 })).message).toMatch(/expand to over 1000 nodes/);
    expect((await refusal(wide, { ...OPENAPI_LIMITS, maxNormalisedBytes: 50_000 })).message).toMatch(
      /^The actions take \d+ bytes once references are resolved; the limit is 50000/,
    );
  });

  it('not OpenAPI 3, not valid, dangling or external references, not JSON/YAML', async () => {
    expect((await refusal({ swagger: '2.0', info: {}, paths: {} })).message).toBe('Only OpenAPI 3.0 and 3.1 documents can be imported (found Swagger 2.0)');
    expect((await refusal('[1, 2')).message).toMatch(/neither JSON nor YAML/);
    expect((await refusal('just: [text')).problem).toBe('invalid_document');
    const invalid = await refusal({ openapi: '3.0.3', info: { title: 'T' }, paths: { '/a': { get: { responses: {} } } } });
    expect(invalid.message).toMatch(/^The document is not valid OpenAPI 3\.0\.3: .*'version'.*; .*fewer than 1 properties/);
    expect((await refusal(doc({ '/a/{id}': { get: { responses: ok } } }))).message).toMatch(/missing path parameter\(s\) for `\{id\}`/);
    const dangling = await refusal(doc({ '/a': { get: { responses: { '200': { $ref: '#/components/responses/Nope' } } } } }));
    expect(dangling.message).toMatch(/#\/components\/responses\/Nope/);
    const external = await refusal(
      doc({ '/a': { get: { responses: { '200': { description: 'x', content: { 'application/json': { schema: { $ref: 'http://169.254.169.254/latest/meta-data' } } } } } } } }),
    );
    expect(external).toMatchObject({ problem: 'unsupported', pointer: '/paths/~1a/get/responses/200/content/application~1json/schema' });
    expect(external.message).toContain('http://169.254.169.254/latest/meta-data');
    // A YAML alias bomb is refused by the parser, not expanded.
    const bomb = [
      'a: &a [x,x,x,x,x,x,x,x,x,x]',
      ...Array.from(
        { length: 8 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(',')}]`,
      ),
    ].join('\n');
    expect((await refusal(bomb)).message).toMatch(/neither JSON nor YAML: .*alias/i);
  });
});

describe('OpenAPI import: actions and option sources run through the connection', () => {
  let server: Server;
  let baseUrl: string;
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const pets = [
    { id: 1, name: 'Rex', tag: 'dog' },
    { id: 2, name: 'Tom', tag: 'cat' },
  ];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        const url = new URL(req.url!, 'http://x');
        res.setHeader('content-type', 'application/json');
        if (req.method === 'GET' && url.pathname === '/api/pets')
          return res.end(JSON.stringify(pets.filter((p) => !url.searchParams.get('q') || p.name.includes(url.searchParams.get('q')!))));
        if (req.method === 'POST' && url.pathname === '/api/pets') return res.writeHead(201).end(JSON.stringify({ id: 3, ...JSON.parse(body) }));
        res.writeHead(404).end(JSON.stringify({ message: `no ${url.pathname}` }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('calls the operation with credentials, fails on 4xx, lists options with search', async () => {
    const imported = await importOpenApi(PETSTORE_YAML);
    const { actions, options } = importedConnectorParts(imported.operations);
    expect(Object.keys(options)).toEqual(['list_pets', 'list_owners']);
    const ctx = makeCtx(httpConnector, { base_url: baseUrl }, { type: 'api_key', apiKey: 'k-123' } as never);

    expect(await actions.create_pet.run(ctx, { body: { name: 'Kit' } })).toEqual({ id: 3, name: 'Kit' });
    const post = seen.at(-1)!;
    expect(post).toMatchObject({ method: 'POST', url: '/api/pets', body: '{"name":"Kit"}' });
    expect(post.headers).toMatchObject({ authorization: 'Bearer k-123', 'content-type': expect.stringMatching(/^application\/json/) });

    await expect(actions.get_pets_pet_id.run(ctx, { petId: 9 })).rejects.toMatchObject({ name: 'HttpError', status: 404, message: 'GET /pets/9 answered 404: no /api/pets/9' });

    expect(await options.list_pets.run(ctx, {})).toEqual({
      options: [
        { value: '1', label: 'Rex' },
        { value: '2', label: 'Tom' },
      ],
    });
    expect(await options.list_pets.run(ctx, { search: 'To' })).toEqual({ options: [{ value: '2', label: 'Tom' }] });
    expect(seen.at(-1)!.url).toBe('/api/pets?q=To');

    // The admin's override: the tag is the value; `null` turns a listing off.
    const overridden = importedConnectorParts(imported.operations, { list_pets: { itemsPath: '', valuePath: 'tag', labelPath: 'name' }, list_owners: null });
    expect(Object.keys(overridden.options)).toEqual(['list_pets']);
    expect((await overridden.options.list_pets.run(ctx, {})).options).toEqual([
      { value: 'dog', label: 'Rex' },
      { value: 'cat', label: 'Tom' },
    ]);
  });
});
