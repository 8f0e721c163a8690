import { randomUUID } from 'node:crypto';
import { json, ProviderModule, SandboxRequest } from '../core';

export interface HttpState {
  items: { id: string; name: string; price: number; created_at: string }[];
}

export const HTTP_API_KEY = 'sandbox-api-key';
export const HTTP_BASIC = { username: 'sandbox-user', password: 'sandbox-password' };

function echo(req: SandboxRequest) {
  const { authorization: _a, ...headers } = req.headers;
  return { method: req.method, path: req.path, query: Object.fromEntries(req.query), headers, body: req.body ?? null, authenticated: true };
}

/**
 * A generic JSON API for the `http` connector: /me, /items (CRUD), /echo/… and /graphql, behind an
 * API key (Authorization: Bearer or X-API-Key), basic auth, or a client-credentials token from
 * /oauth/token. Base URL for connections: `${sandboxUrl}/http`.
 */
export const httpSandbox: ProviderModule<HttpState> = {
  key: 'http',
  displayName: 'Example API',
  accounts: [{ id: 'sandbox-user', name: 'Sandbox User', email: 'api@example.test' }],
  apiKeys: { [HTTP_API_KEY]: 0 },
  basicCredentials: { [`${HTTP_BASIC.username}:${HTTP_BASIC.password}`]: 0 },
  tokenPrefix: { access: 'cc_sandbox_', refresh: 'ccr_sandbox_' },
  oauth: {
    authorizePath: '/oauth/authorize',
    tokenPath: '/oauth/token',
    refreshTokens: false,
    clientCredentialsGrant: true,
    tokenResponse(issued) {
      return {
        access_token: issued.accessToken,
        token_type: 'Bearer',
        expires_in: Number.isFinite(issued.expiresIn) ? issued.expiresIn : undefined,
        scope: issued.scope.join(' ') || undefined,
      };
    },
  },
  authError(reason) {
    return json(
      401,
      {
        error: reason === 'missing' ? 'unauthorized' : 'invalid_credentials',
        message: reason === 'missing' ? 'Authentication required' : 'The credentials are invalid or expired',
      },
      { 'www-authenticate': 'Bearer realm="example"' },
    );
  },
  seed: () => ({
    items: [
      { id: 'itm_1', name: 'Widget', price: 9.99, created_at: '2026-01-01T00:00:00.000Z' },
      { id: 'itm_2', name: 'Gadget', price: 24.5, created_at: '2026-01-02T00:00:00.000Z' },
    ],
  }),
  routes: [
    {
      method: 'GET',
      path: '/me',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        return json(200, { id: a.account.id, name: a.account.name, email: a.account.email });
      },
    },
    {
      method: 'GET',
      path: '/items',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const q = req.query.get('q')?.toLowerCase();
        return json(200, { data: ctx.state.items.filter((i) => !q || i.name.toLowerCase().includes(q)) });
      },
    },
    {
      method: 'POST',
      path: '/items',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const b = (req.body ?? {}) as Record<string, unknown>;
        if (typeof b.name !== 'string' || !b.name) return json(422, { error: 'validation_failed', message: 'name is required', fields: { name: 'required' } });
        const item = { id: `itm_${randomUUID().slice(0, 8)}`, name: b.name, price: Number(b.price ?? 0), created_at: new Date(ctx.now()).toISOString() };
        ctx.state.items.push(item);
        return json(201, item);
      },
    },
    {
      method: 'GET',
      path: '/items/:id',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const item = ctx.state.items.find((i) => i.id === req.params.id);
        return item ? json(200, item) : json(404, { error: 'not_found', message: `No item ${req.params.id}` });
      },
    },
    {
      method: 'POST',
      path: '/graphql',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const query = String((req.body as { query?: unknown } | undefined)?.query ?? '');
        if (!/\bitems\b/.test(query)) return json(200, { data: null, errors: [{ message: `Cannot query field on type "Query"`, locations: [{ line: 1, column: 3 }] }] });
        return json(200, { data: { items: ctx.state.items.map(({ id, name, price }) => ({ id, name, price })) } });
      },
    },
    {
      method: '*',
      path: /^\/echo(?:\/.*)?$/,
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        return json(200, echo(req));
      },
    },
  ],
};
