/**
 * A fake Shopify store host: every `<shop>.myshopify.com` (reached as `/shopify/~<shop>.myshopify.com/…`,
 * see withSandbox) with its OAuth endpoints, the REST Admin API's shop, products, orders, customers
 * and webhook subscriptions, Link-header (page_info) pagination, the per-app-and-store leaky bucket
 * (X-Shopify-Shop-Api-Call-Limit, 429 with Retry-After) and orders/create webhooks signed with the
 * subscribing app's client secret.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { intParam, isoNow, json, matchPath, ProviderContext, ProviderModule, SandboxRequest, SandboxResponse } from '../core';
import type { OAuthServer } from '../oauth';

export interface ShopifyShopData {
  id: number;
  name: string;
  email: string;
  products: Record<string, any>[];
  orders: Record<string, any>[];
  customers: Record<string, any>[];
  webhooks: { id: number; address: string; topic: string; format: string; api_version: string; created_at: string; updated_at: string; clientId: string }[];
  nextOrderNumber: number;
}

export interface ShopifyState {
  /** Stores by shop name (`acme-store` of acme-store.myshopify.com), made on first use. */
  shops: Record<string, ShopifyShopData>;
  /** Ids only grow, across stores, as Shopify's do. */
  nextId: number;
  /** Leaky bucket size per app and store (Shopify: 40; high here so tests trip it only on purpose). */
  bucketSize: number;
  /** Requests the bucket leaks per second (Shopify: 2). */
  leakPerSecond: number;
  buckets: Record<string, { level: number; at: number }>;
}

const TOPICS = ['orders/create', 'orders/updated', 'orders/paid', 'orders/cancelled', 'products/create', 'products/update', 'customers/create', 'app/uninstalled'];
const VERSION = /^\d{4}-(01|04|07|10)$/;
const MAX_KEPT = 5000;

function errors(status: number, body: unknown, headers: Record<string, string> = {}): SandboxResponse {
  return json(status, { errors: body }, headers);
}

function money(n: number): string {
  return n.toFixed(2);
}

function newShop(state: ShopifyState, name: string, now: number): ShopifyShopData {
  const at = isoNow(now);
  const shop: ShopifyShopData = {
    id: 60000000000 + state.nextId++,
    name,
    email: `owner@${name}.test`,
    products: [],
    orders: [],
    customers: [],
    webhooks: [],
    nextOrderNumber: 1001,
  };
  const product = (title: string, type: string, variants: [string, number, string][]) => {
    const id = state.nextId++;
    shop.products.push({
      id,
      title,
      handle: title.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
      body_html: null,
      vendor: name,
      product_type: type,
      status: 'active',
      tags: '',
      created_at: at,
      updated_at: at,
      published_at: at,
      admin_graphql_api_id: `gid://shopify/Product/${id}`,
      variants: variants.map(([vt, price, sku], i) => ({
        id: state.nextId++,
        product_id: id,
        title: vt,
        price: money(price),
        sku,
        position: i + 1,
        inventory_item_id: state.nextId++,
        inventory_quantity: 25,
        created_at: at,
        updated_at: at,
      })),
    });
  };
  product('Classic Tee', 'Shirts', [
    ['Small', 19, 'TEE-S'],
    ['Medium', 19, 'TEE-M'],
    ['Large', 21, 'TEE-L'],
  ]);
  product('Canvas Tote', 'Bags', [['Default Title', 24.5, 'TOTE-1']]);
  product('Ceramic Mug', 'Kitchen', [['Default Title', 12, 'MUG-1']]);
  for (let i = 0; i < 60; i++) product(`Sticker ${String(i + 1).padStart(2, '0')}`, 'Stickers', [['Default Title', 3, `STK-${i + 1}`]]);
  shop.customers.push({
    id: state.nextId++,
    email: 'maria@globex.test',
    first_name: 'Maria',
    last_name: 'Johnson',
    phone: null,
    tags: '',
    created_at: at,
    updated_at: at,
    orders_count: 0,
    state: 'enabled',
    currency: 'USD',
  });
  return shop;
}

function shopFor(state: ShopifyState, name: string, now: number): ShopifyShopData {
  return (state.shops[name] ??= newShop(state, name, now));
}

function seed(): ShopifyState {
  const state: ShopifyState = { shops: {}, nextId: 5_100_000_000_001, bucketSize: 10_000, leakPerSecond: 2, buckets: {} };
  const shop = shopFor(state, 'acme-store', Date.parse('2026-01-10T09:00:00Z'));
  const tee = shop.products[0]!;
  addOrder(
    state,
    shop,
    { email: 'maria@globex.test', line_items: [{ variant_id: tee.variants[1].id, quantity: 2 }], financial_status: 'paid' },
    Date.parse('2026-01-10T10:00:00Z'),
  );
  return state;
}

/** Validates and adds an order; answers the order or Shopify's 422 errors. */
function addOrder(state: ShopifyState, shop: ShopifyShopData, input: Record<string, any>, now: number): { order: Record<string, any> } | { error: SandboxResponse } {
  const lines = Array.isArray(input.line_items) ? input.line_items : [];
  if (lines.length === 0) return { error: errors(422, { line_items: ['must have at least one line item'] }) };
  const lineItems: Record<string, any>[] = [];
  for (const line of lines) {
    const quantity = Number(line?.quantity ?? 1);
    if (!Number.isInteger(quantity) || quantity < 1) return { error: errors(422, { 'line_items.quantity': ['must be greater than or equal to 1'] }) };
    if (line.variant_id !== undefined && line.variant_id !== null) {
      const product = shop.products.find((p) => p.variants.some((v: any) => v.id === Number(line.variant_id)));
      const variant = product?.variants.find((v: any) => v.id === Number(line.variant_id));
      if (!product || !variant) return { error: errors(422, { line_items: [`variant ${line.variant_id} does not exist`] }) };
      lineItems.push({
        id: state.nextId++,
        variant_id: variant.id,
        product_id: product.id,
        title: product.title,
        variant_title: variant.title,
        quantity,
        price: variant.price,
        sku: variant.sku,
      });
    } else {
      if (!line.title) return { error: errors(422, { 'line_items.title': ["can't be blank"] }) };
      lineItems.push({
        id: state.nextId++,
        variant_id: null,
        product_id: null,
        title: String(line.title),
        variant_title: null,
        quantity,
        price: money(Number(line.price ?? 0)),
        sku: null,
      });
    }
  }
  const email = typeof input.email === 'string' ? input.email : null;
  const customer = email ? shop.customers.find((c) => c.email === email) : undefined;
  if (customer) customer.orders_count += 1;
  const subtotal = lineItems.reduce((sum, l) => sum + Number(l.price) * l.quantity, 0);
  const id = state.nextId++;
  const number = shop.nextOrderNumber++;
  const at = isoNow(now);
  const order = {
    id,
    admin_graphql_api_id: `gid://shopify/Order/${id}`,
    name: `#${number}`,
    order_number: number,
    number: number - 1000,
    email,
    contact_email: email,
    created_at: at,
    updated_at: at,
    processed_at: at,
    currency: 'USD',
    presentment_currency: 'USD',
    subtotal_price: money(subtotal),
    total_tax: '0.00',
    total_price: money(subtotal),
    financial_status: input.financial_status === 'paid' ? 'paid' : 'pending',
    fulfillment_status: null,
    confirmed: true,
    test: false,
    tags: typeof input.tags === 'string' ? input.tags : '',
    note: typeof input.note === 'string' ? input.note : null,
    customer: customer ? { id: customer.id, email: customer.email, first_name: customer.first_name, last_name: customer.last_name } : null,
    line_items: lineItems,
  };
  shop.orders.push(order);
  return { order };
}

/** Sends `topic` to every subscription of the store, signed with the subscribing app's client secret. */
function notify(ctx: ProviderContext<ShopifyState>, shopName: string, topic: string, payload: Record<string, unknown>): void {
  const shop = ctx.state.shops[shopName];
  if (!shop) return;
  const body = JSON.stringify(payload);
  const eventId = randomUUID();
  for (const hook of shop.webhooks.filter((w) => w.topic === topic)) {
    const client = ctx.oauthClient(hook.clientId);
    if (!client) continue;
    ctx.deliver({
      url: hook.address,
      body,
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': topic,
        'x-shopify-hmac-sha256': createHmac('sha256', client.clientSecret).update(body).digest('base64'),
        'x-shopify-shop-domain': `${shopName}.myshopify.com`,
        'x-shopify-api-version': hook.api_version,
        'x-shopify-webhook-id': randomUUID(),
        'x-shopify-event-id': eventId,
        'x-shopify-triggered-at': isoNow(ctx.now()),
      },
    });
  }
}

/**
 * A list request's filters and offset: from the query, or from `page_info`, which holds the filters
 * the first page was asked with (Shopify refuses filters next to page_info).
 */
function listQuery(req: SandboxRequest): { filters: Record<string, string>; offset: number } | { error: SandboxResponse } {
  const pageInfo = req.query.get('page_info');
  if (!pageInfo) {
    const filters = Object.fromEntries([...req.query].filter(([k]) => k !== 'limit' && k !== 'fields'));
    return { filters, offset: 0 };
  }
  const extra = [...req.query.keys()].filter((k) => !['page_info', 'limit', 'fields'].includes(k));
  if (extra.length) return { error: errors(400, { page_info: [`Cannot be combined with ${extra.join(', ')}.`] }) };
  try {
    const { offset, ...filters } = JSON.parse(Buffer.from(pageInfo, 'base64url').toString('utf8')) as Record<string, string> & { offset: number };
    if (Number.isInteger(offset) && offset >= 0) return { filters, offset };
  } catch {
    /* answered below */
  }
  return { error: errors(400, { page_info: ['Invalid value.'] }) };
}

/** A page of `items` (already filtered and ordered) with Shopify's Link header. */
function paged(req: SandboxRequest, ctx: ProviderContext, key: string, items: Record<string, any>[], query: { filters: Record<string, string>; offset: number }): SandboxResponse {
  const limit = intParam(req.query.get('limit'), 50, 1, 250);
  const start = query.offset;
  const page = items.slice(start, start + limit);
  const url = (offset: number) => {
    const u = new URL(`${ctx.providerUrl}${req.path}`);
    u.searchParams.set('limit', String(limit));
    u.searchParams.set('page_info', Buffer.from(JSON.stringify({ ...query.filters, offset })).toString('base64url'));
    return u.toString();
  };
  const links: string[] = [];
  if (start > 0) links.push(`<${url(Math.max(0, start - limit))}>; rel="previous"`);
  if (start + limit < items.length) links.push(`<${url(start + limit)}>; rel="next"`);
  return json(200, { [key]: page }, links.length ? { link: links.join(', ') } : {});
}

type Handler = (req: SandboxRequest, ctx: ProviderContext<ShopifyState>, shop: ShopifyShopData, shopName: string, who: { clientId: string; version: string }) => SandboxResponse;

const notFound = () => errors(404, 'Not Found');

const api: { method: string; path: string | RegExp; handler: Handler }[] = [
  {
    method: 'GET',
    path: '/shop.json',
    handler: (_req, _ctx, shop, name) =>
      json(200, {
        shop: {
          id: shop.id,
          name: name.replace(/-/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase()),
          email: shop.email,
          domain: `${name}.myshopify.com`,
          myshopify_domain: `${name}.myshopify.com`,
          plan_name: 'basic',
          currency: 'USD',
          country_code: 'US',
          iana_timezone: 'America/New_York',
        },
      }),
  },
  {
    method: 'GET',
    path: '/products.json',
    handler(req, ctx, shop) {
      const query = listQuery(req);
      if ('error' in query) return query.error;
      const title = query.filters.title?.toLowerCase();
      const items = shop.products.filter((p) => !title || p.title.toLowerCase().includes(title)).sort((a, b) => b.id - a.id);
      return paged(req, ctx, 'products', items, query);
    },
  },
  {
    method: 'POST',
    path: '/products.json',
    handler(req, ctx, shop) {
      const input = req.body?.product;
      if (!input || typeof input !== 'object') return errors(400, { product: 'Required parameter missing or invalid' });
      if (!input.title) return errors(422, { title: ["can't be blank"] });
      const at = isoNow(ctx.now());
      const id = ctx.state.nextId++;
      const variants = (Array.isArray(input.variants) && input.variants.length ? input.variants : [{}]).map((v: any, i: number) => ({
        id: ctx.state.nextId++,
        product_id: id,
        title: v.title ?? 'Default Title',
        price: money(Number(v.price ?? 0)),
        sku: v.sku ?? null,
        position: i + 1,
        inventory_item_id: ctx.state.nextId++,
        inventory_quantity: 0,
        created_at: at,
        updated_at: at,
      }));
      const product = {
        id,
        title: String(input.title),
        handle: String(input.title)
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-'),
        body_html: input.body_html ?? null,
        vendor: input.vendor ?? shop.name,
        product_type: input.product_type ?? '',
        status: input.status ?? 'active',
        tags: input.tags ?? '',
        created_at: at,
        updated_at: at,
        published_at: at,
        admin_graphql_api_id: `gid://shopify/Product/${id}`,
        variants,
      };
      shop.products.push(product);
      return json(201, { product });
    },
  },
  {
    method: 'GET',
    path: '/orders.json',
    handler(req, ctx, shop) {
      const query = listQuery(req);
      if ('error' in query) return query.error;
      const status = query.filters.status ?? 'open';
      const sinceId = query.filters.since_id;
      let items = shop.orders.filter((o) => status === 'any' || (status === 'open' && !o.cancelled_at && !o.closed_at));
      // Newest first, or ascending by id after since_id (as Shopify does).
      if (sinceId) items = items.filter((o) => o.id > Number(sinceId)).sort((a, b) => a.id - b.id);
      else items = items.slice().sort((a, b) => b.id - a.id);
      return paged(req, ctx, 'orders', items, query);
    },
  },
  {
    method: 'POST',
    path: '/orders.json',
    handler(req, ctx, shop, shopName) {
      const input = req.body?.order;
      if (!input || typeof input !== 'object') return errors(400, { order: 'Required parameter missing or invalid' });
      const added = addOrder(ctx.state, shop, input, ctx.now());
      if ('error' in added) return added.error;
      notify(ctx, shopName, 'orders/create', added.order);
      return json(201, { order: added.order });
    },
  },
  {
    method: 'GET',
    path: /^\/orders\/(?<id>\d+)\.json$/,
    handler(req, _ctx, shop) {
      const order = shop.orders.find((o) => String(o.id) === req.params.id);
      return order ? json(200, { order }) : notFound();
    },
  },
  {
    method: 'POST',
    path: '/customers.json',
    handler(req, ctx, shop) {
      const input = req.body?.customer;
      if (!input || typeof input !== 'object') return errors(400, { customer: 'Required parameter missing or invalid' });
      if (!input.email && !input.phone) return errors(422, { email: ["can't be blank"] });
      if (input.email && shop.customers.some((c) => c.email === String(input.email).toLowerCase())) return errors(422, { email: ['has already been taken'] });
      const at = isoNow(ctx.now());
      const customer = {
        id: ctx.state.nextId++,
        email: input.email ? String(input.email).toLowerCase() : null,
        first_name: input.first_name ?? null,
        last_name: input.last_name ?? null,
        phone: input.phone ?? null,
        tags: input.tags ?? '',
        state: 'disabled',
        orders_count: 0,
        currency: 'USD',
        email_marketing_consent: input.email_marketing_consent ?? { state: 'not_subscribed', opt_in_level: 'single_opt_in', consent_updated_at: null },
        created_at: at,
        updated_at: at,
      };
      shop.customers.push(customer);
      return json(201, { customer });
    },
  },
  {
    method: 'GET',
    path: '/webhooks.json',
    handler: (_req, _ctx, shop, _name, who) => json(200, { webhooks: shop.webhooks.filter((w) => w.clientId === who.clientId).map(publicWebhook) }),
  },
  {
    method: 'POST',
    path: '/webhooks.json',
    handler(req, ctx, shop, _name, who) {
      const input = req.body?.webhook;
      if (!input || typeof input !== 'object') return errors(400, { webhook: 'Required parameter missing or invalid' });
      const problems: Record<string, string[]> = {};
      if (!TOPICS.includes(input.topic)) problems.topic = [`Invalid topic specified: ${input.topic}. Topics allowed: ${TOPICS.join(', ')}`];
      let address: URL | undefined;
      try {
        address = new URL(String(input.address));
      } catch {
        problems.address = ['is not a valid URL'];
      }
      // Shopify wants https; the sandbox also takes http so local receivers work.
      if (address && !/^https?:$/.test(address.protocol)) problems.address = ['protocol is not supported'];
      if (!problems.address && shop.webhooks.some((w) => w.clientId === who.clientId && w.topic === input.topic && w.address === input.address)) {
        problems.address = ['for this topic has already been taken'];
      }
      if (Object.keys(problems).length) return errors(422, problems);
      const at = isoNow(ctx.now());
      const hook = {
        id: ctx.state.nextId++,
        address: String(input.address),
        topic: String(input.topic),
        format: input.format === 'xml' ? 'xml' : 'json',
        api_version: who.version,
        created_at: at,
        updated_at: at,
        clientId: who.clientId,
      };
      shop.webhooks.push(hook);
      return json(201, { webhook: publicWebhook(hook) });
    },
  },
  {
    method: 'DELETE',
    path: /^\/webhooks\/(?<id>\d+)\.json$/,
    handler(req, _ctx, shop, _name, who) {
      const i = shop.webhooks.findIndex((w) => String(w.id) === req.params.id && w.clientId === who.clientId);
      if (i < 0) return notFound();
      shop.webhooks.splice(i, 1);
      return json(200, {});
    },
  },
];

function publicWebhook(w: ShopifyShopData['webhooks'][number]) {
  const { clientId: _c, ...rest } = w;
  return { ...rest, fields: [], metafield_namespaces: [], private_metafield_namespaces: [] };
}

const INVALID_TOKEN = '[API] Invalid API key or access token (unrecognized login or wrong password)';

/** The leaky bucket of one app at one store: answers a 429 when it is full, else the call-limit header. */
function throttle(state: ShopifyState, key: string, now: number): { headers: Record<string, string> } | { limited: SandboxResponse } {
  const bucket = (state.buckets[key] ??= { level: 0, at: now });
  bucket.level = Math.max(0, bucket.level - ((now - bucket.at) / 1000) * state.leakPerSecond);
  bucket.at = now;
  if (bucket.level + 1 > state.bucketSize) {
    return { limited: errors(429, 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.', { 'retry-after': '2.0' }) };
  }
  bucket.level += 1;
  return { headers: { 'x-shopify-shop-api-call-limit': `${Math.ceil(bucket.level)}/${state.bucketSize}` } };
}

export const shopifySandbox: ProviderModule<ShopifyState> = {
  key: 'shopify',
  displayName: 'Shopify',
  accounts: [
    { id: '74001', name: 'Jane Cooper', email: 'jane@acme.test' },
    { id: '74002', name: 'Hank Scorpio', email: 'hank@globex.test' },
  ],
  tokenPrefix: { access: 'shpat_', refresh: 'shprt_' },
  oauth: {
    authorizePath: '/admin/oauth/authorize',
    tokenPath: '/admin/oauth/access_token',
    requirePostClientAuth: true,
    defaultTtlSeconds: 3600,
    tokenResponse(issued) {
      return {
        access_token: issued.accessToken,
        scope: issued.scope.join(','),
        expires_in: Number.isFinite(issued.expiresIn) ? issued.expiresIn : undefined,
        refresh_token: issued.refreshToken,
        refresh_token_expires_in: issued.refreshToken ? 7_776_000 : undefined,
      };
    },
  },
  authError: () => errors(401, INVALID_TOKEN),
  seed,
  routes: [],
  tick(ctx) {
    const at = ctx.now();
    for (const [name, shop] of Object.entries(ctx.state.shops)) {
      const variants = shop.products.flatMap((p) => p.variants);
      const variant = variants[Math.floor(Math.random() * variants.length)];
      const customer = shop.customers[Math.floor(Math.random() * shop.customers.length)];
      const added = addOrder(
        ctx.state,
        shop,
        { email: customer?.email, line_items: [{ variant_id: variant?.id, quantity: 1 + Math.floor(Math.random() * 3) }], financial_status: 'paid' },
        at,
      );
      if ('order' in added) notify(ctx, name, 'orders/create', added.order);
      // A churning demo sandbox stays bounded: the newest orders are kept.
      if (shop.orders.length > MAX_KEPT) shop.orders.splice(0, shop.orders.length - MAX_KEPT);
    }
  },
  handle(req, ctx, server) {
    const m = /^\/~([a-z0-9][a-z0-9-]*)\.myshopify\.com(\/.*)?$/.exec(req.path);
    if (!m) return json(404, { errors: 'Not Found', message: 'Shopify calls go to https://<shop>.myshopify.com (the shop connection value)' });
    const shopName = m[1]!;
    const rest = m[2] ?? '/';
    if (rest === '/admin/oauth/authorize') {
      if (req.method === 'POST') return server.authorizeDecision(shopifySandbox, req, ctx);
      // The consent form posts back to this store's authorize URL.
      const here = { ...shopifySandbox, oauth: { ...shopifySandbox.oauth!, authorizePath: req.path } };
      return server.authorizePage(here, req, ctx, shopName);
    }
    if (rest === '/admin/oauth/access_token') {
      if (req.method !== 'POST') return json(405, { errors: 'Method Not Allowed' });
      return server.tokenEndpoint(shopifySandbox, req, ctx, shopName);
    }
    const api = /^\/admin\/api\/([^/]+)(\/.*)$/.exec(rest);
    if (!api) return notFound();
    return apiCall(req, ctx as ProviderContext<ShopifyState>, server, shopName, api[1]!, api[2]!);
  },
};

function apiCall(req: SandboxRequest, ctx: ProviderContext<ShopifyState>, server: OAuthServer, shopName: string, version: string, path: string): SandboxResponse {
  const token = req.headers['x-shopify-access-token'];
  const checked = server.checkAccessToken('shopify', token);
  // Tokens minted by issueTokens() are not tied to a store; ones from the OAuth flow are.
  if ('failure' in checked || (checked.record.binding !== undefined && checked.record.binding !== shopName)) return errors(401, INVALID_TOKEN);
  if (!VERSION.test(version)) return notFound();
  const limited = throttle(ctx.state, `${checked.record.clientId}@${shopName}`, ctx.now());
  if ('limited' in limited) return limited.limited;
  const headers = { ...limited.headers, 'x-shopify-api-version': version, 'x-request-id': randomUUID() };
  const shop = shopFor(ctx.state, shopName, ctx.now());
  for (const route of api) {
    const params = matchPath(route.path, path);
    if (!params || route.method !== req.method) continue;
    const answer = route.handler({ ...req, params }, ctx, shop, shopName, { clientId: checked.record.clientId, version });
    return { ...answer, headers: { ...headers, ...answer.headers } };
  }
  return { ...notFound(), headers };
}
