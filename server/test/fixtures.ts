/** Test fixtures more than one spec uses (a spec file cannot export them: importing it would run its tests). */

/** A request-triggered flow: a price from the request and a setting, answered. */
export const QUOTE_FLOW = {
  key: 'quote',
  name: 'Quote a price',
  trigger: { type: 'request' },
  connectors: [],
  inputs: { markup: { type: 'number', title: 'Markup', default: 1.5 } },
  steps: [
    { id: 'price', type: 'transform', output: { total: '=$trigger.cost * $inputs.markup' } },
    { id: 'answer', type: 'respond', output: { total: '=$steps.price.total', customer: '=$endUser.externalId' } },
  ],
};

/** A request-triggered flow with one setting (a default) that answers it: version 1 of the rollout tests' template. */
export const SYNC_FLOW = {
  key: 'sync',
  name: 'Sync contacts',
  trigger: { type: 'request' },
  connectors: [],
  inputs: { region: { type: 'string', title: 'Region', default: 'eu' } },
  steps: [{ id: 'answer', type: 'respond', output: { region: '=$inputs.region' } }],
};

/** An OpenAPI document with reads, a write, a path parameter, a header and a name that collides with the generic connector's own action. */
export const PETSTORE = {
  openapi: '3.0.3',
  info: { title: 'Petstore', version: '2.1.0' },
  servers: [{ url: 'https://pets.example/api' }],
  paths: {
    '/pets': {
      get: {
        operationId: 'listPets',
        summary: 'List pets',
        parameters: [{ name: 'q', in: 'query', schema: { type: 'string' } }],
        responses: { '200': { description: 'ok', content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/Pet' } } } } } },
      },
      post: {
        operationId: 'createPet',
        summary: 'Create a pet',
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/NewPet' } } } },
        responses: { '201': { description: 'created', content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } } } },
      },
    },
    '/pets/{petId}': {
      get: {
        operationId: 'getPet',
        summary: 'One pet',
        parameters: [
          { name: 'petId', in: 'path', required: true, schema: { type: 'integer' } },
          { name: 'X-Include', in: 'header', schema: { type: 'string' } },
        ],
        responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } } } },
      },
    },
    // Sanitises onto the generic connector's own `request` action, so it gets another key.
    '/raw': { post: { operationId: 'request', responses: { '204': { description: 'done' } } } },
  },
  components: {
    schemas: {
      Pet: { type: 'object', required: ['id', 'name'], properties: { id: { type: 'integer', readOnly: true }, name: { type: 'string' }, species: { type: 'string' } } },
      NewPet: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 }, species: { type: 'string' } } },
    },
  },
};
