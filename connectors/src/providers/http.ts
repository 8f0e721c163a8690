import { Type } from '@sinclair/typebox';
import { ensureOk, send } from '../runtime';
import { defineAction, defineConnector, HttpRequest, ProviderError } from '../types';
import { anyObject, bool, dict, int, logo, obj, oneOf, res, str, types } from './shared';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

const request = defineAction({
  name: 'HTTP request',
  description: 'Calls any endpoint of the API, relative to the base URL, with the connection’s credentials.',
  // Its GET/PUT/DELETE are repeated anyway; a POST/PATCH to an unknown API may not be.
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      method: oneOf({ enum: [...METHODS], default: 'GET', title: 'Method' }),
      path: str('Path', { description: 'Relative to the base URL, e.g. /v1/orders/42', pattern: '^(?!https?:)' }),
      query: dict(types(['string', 'number', 'boolean']), { title: 'Query' }),
      headers: dict(str(), { title: 'Headers', description: 'Authorization, Cookie and Host are ignored' }),
      body: Type.Unknown({ title: 'JSON body' }),
      fail_on_error: bool('Fail on 4xx/5xx', { default: true }),
    },
    ['method', 'path'],
  ),
  output: res({ status: int('Status'), headers: dict(str()), body: Type.Unknown({ title: 'Body' }) }, ['status', 'headers']),
  async run(ctx, input) {
    const headers = Object.fromEntries(Object.entries(input.headers ?? {}).filter(([k]) => !/^(authorization|cookie|host)$/i.test(k)));
    const req: HttpRequest = { method: input.method, path: input.path, query: input.query, headers, body: input.body };
    const response = await ctx.http.request(req);
    if (input.fail_on_error !== false) ensureOk(response, req);
    return { status: response.status, headers: response.headers, body: response.data };
  },
});

const graphql = defineAction({
  name: 'GraphQL query',
  description: 'Posts a GraphQL query or mutation; GraphQL errors fail the step.',
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      query: str('Query', { minLength: 1 }),
      variables: anyObject({ title: 'Variables' }),
      operation_name: str('Operation name'),
      path: str('Endpoint path', { default: '/graphql', pattern: '^(?!https?:)' }),
    },
    ['query'],
  ),
  output: res({ data: Type.Unknown({ title: 'Data' }) }, ['data']),
  async run(ctx, input) {
    const result = await send<{ data?: unknown; errors?: { message: string }[] }>(ctx, {
      method: 'POST',
      path: input.path ?? '/graphql',
      body: { query: input.query, variables: input.variables, operationName: input.operation_name },
    });
    if (result.errors && result.errors.length > 0) {
      throw new ProviderError(`GraphQL error: ${result.errors.map((e) => e.message).join('; ')}`, 'graphql_error', result.errors);
    }
    return { data: result.data ?? null };
  },
});

export const httpConnector = defineConnector({
  key: 'http',
  name: 'HTTP (any REST API)',
  description: 'Call any HTTP/JSON API with an API key, basic auth or OAuth2 client credentials chosen by the tenant.',
  logo: logo('#334155', '<path d="M24 22l-10 10 10 10M40 22l10 10-10 10M35 18l-6 28" fill="none" stroke="#fff" stroke-width="4" stroke-linecap="round" stroke-linejoin="round"/>'),
  categories: ['developer-tools'],
  docsUrl: 'https://developer.mozilla.org/en-US/docs/Web/HTTP',
  auth: { type: 'api_key', in: 'header', name: '{{api_key_header}}', prefix: '{{api_key_prefix}}', label: 'API key' },
  authChoices: ['api_key', 'basic', 'oauth2_client_credentials'],
  authSpecs: [
    { type: 'api_key', in: 'header', name: '{{api_key_header}}', prefix: '{{api_key_prefix}}', label: 'API key' },
    { type: 'basic', usernameLabel: 'Username', passwordLabel: 'Password' },
    { type: 'oauth2_client_credentials', tokenUrl: '{{token_url}}', scopeSeparator: ' ', clientAuthentication: 'client_secret_basic' },
  ],
  connectionConfig: {
    base_url: { title: 'Base URL', description: 'Every request path is relative to it', pattern: '^https?://[^\\s]+$', example: 'https://api.example.com/v1' },
    api_key_header: { title: 'API key header', optional: true, default: 'Authorization', example: 'X-API-Key' },
    api_key_prefix: { title: 'API key prefix', optional: true, default: 'Bearer ', description: 'Put before the key; empty for none' },
    token_url: { title: 'Token URL (client credentials)', optional: true, pattern: '^https?://[^\\s]+$' },
    health_path: { title: 'Check path', optional: true, description: 'A GET that must succeed for new credentials, e.g. /me' },
  },
  baseUrl: '{{base_url}}',
  pagination: { style: 'none' },
  actions: { request, graphql },
  async account(ctx) {
    const base = new URL(ctx.config.base_url ?? '');
    if (ctx.config.health_path) {
      const req: HttpRequest = { method: 'GET', path: ctx.config.health_path };
      ensureOk(await ctx.http.request(req), req);
    }
    return { id: base.host, name: base.host, details: { base_url: base.origin + base.pathname } };
  },
});
