import type { Static } from '@sinclair/typebox';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ensureOk, send } from '../runtime';
import { ActionContext, defineAction, defineConnector, definePollTrigger, defineWebhookTrigger, HttpError, HttpRequest, WebhookRequest } from '../types';
import { anyObject, arr, bool, int, logo, nullable, obj, oneOf, res, str } from './shared';

/** The REST Admin API version every call is pinned to (Shopify supports each for a year). */
export const SHOPIFY_API_VERSION = '2025-10';

export interface ShopifyOrder {
  id: number;
  name: string;
  order_number: number;
  email: string | null;
  created_at: string;
  updated_at: string;
  currency: string;
  total_price: string;
  subtotal_price: string;
  financial_status: string | null;
  fulfillment_status: string | null;
  tags: string;
  customer?: { id: number; email: string | null; first_name: string | null; last_name: string | null } | null;
  line_items: { id: number; variant_id: number | null; product_id: number | null; title: string; quantity: number; price: string; sku: string | null }[];
}

interface ShopifyProduct {
  id: number;
  title: string;
  handle: string;
  status: string;
  vendor: string;
  product_type: string;
  created_at: string;
  variants: { id: number; title: string; price: string; sku: string | null; inventory_item_id: number }[];
}

const orderOutput = res(
  {
    id: int('Id'),
    name: str('Name', { description: 'e.g. #1001' }),
    order_number: int('Order number'),
    email: nullable(str('Email')),
    created_at: str('Created'),
    currency: str('Currency'),
    total_price: str('Total price'),
    financial_status: nullable(str('Financial status')),
    fulfillment_status: nullable(str('Fulfilment status')),
    tags: str('Tags'),
    customer: nullable(anyObject({ title: 'Customer' })),
    line_items: arr(res({ variant_id: nullable(int()), title: str('Title'), quantity: int('Quantity'), price: str('Price') })),
  },
  ['id', 'name', 'created_at'],
);

/** The fields flows see of an order (the whole order is large and grows every version). */
function orderSummary(o: ShopifyOrder): Static<typeof orderOutput> {
  return {
    id: o.id,
    name: o.name,
    order_number: o.order_number,
    email: o.email,
    created_at: o.created_at,
    currency: o.currency,
    total_price: o.total_price,
    financial_status: o.financial_status,
    fulfillment_status: o.fulfillment_status,
    tags: o.tags,
    customer: o.customer ? { id: o.customer.id, email: o.customer.email, first_name: o.customer.first_name, last_name: o.customer.last_name } : null,
    line_items: (o.line_items ?? []).map((l) => ({ variant_id: l.variant_id, title: l.title, quantity: l.quantity, price: l.price })),
  };
}

/** The `page_info` of the Link header's rel="next" URL (Shopify's cursor pagination), if any. */
export function nextPageInfo(link: string | undefined): string | undefined {
  for (const part of (link ?? '').split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) return new URL(m[1]!).searchParams.get('page_info') ?? undefined;
  }
  return undefined;
}

/** send(), keeping the response headers (the Link header carries the next page). */
async function sendWithHeaders<T>(ctx: ActionContext, request: HttpRequest): Promise<{ data: T; headers: Record<string, string> }> {
  const response = ensureOk(await ctx.http.request<T>(request), request);
  return { data: response.data, headers: response.headers };
}

const createOrder = defineAction({
  name: 'Create order',
  description: 'Creates an order (POST /admin/api/{version}/orders.json), e.g. for a sale made elsewhere.',
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      email: str('Customer email', { format: 'email' }),
      line_items: arr(
        obj(
          {
            variant_id: int('Product variant', { 'x-options': 'variants' }),
            title: str('Title', { description: 'For a custom item without a variant' }),
            price: str('Price', { pattern: '^[0-9]+(\\.[0-9]{1,2})?$' }),
            quantity: int('Quantity', { minimum: 1, default: 1 }),
          },
          ['quantity'],
        ),
        { title: 'Line items', minItems: 1 },
      ),
      financial_status: oneOf({ enum: ['pending', 'paid'], title: 'Financial status', default: 'pending' }),
      tags: str('Tags', { description: 'Comma-separated' }),
      note: str('Note'),
      send_receipt: bool('Email the receipt', { default: false }),
    },
    ['line_items'],
  ),
  output: orderOutput,
  async run(ctx, input) {
    const { order } = await send<{ order: ShopifyOrder }>(ctx, { method: 'POST', path: 'orders.json', body: { order: input } });
    return orderSummary(order);
  },
});

const getOrder = defineAction({
  name: 'Get order',
  description: 'Reads an order by id (GET /admin/api/{version}/orders/{id}.json).',
  readOnly: true,
  retrySafe: true,
  input: obj({ order_id: int('Order id', { minimum: 1 }) }, ['order_id']),
  output: orderOutput,
  async run(ctx, input) {
    const { order } = await send<{ order: ShopifyOrder }>(ctx, { method: 'GET', path: `orders/${input.order_id}.json` });
    return orderSummary(order);
  },
});

const createProduct = defineAction({
  name: 'Create product',
  description: 'Creates a product with one variant (POST /admin/api/{version}/products.json).',
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      title: str('Title', { minLength: 1, maxLength: 255 }),
      body_html: str('Description', { description: 'HTML' }),
      vendor: str('Vendor'),
      product_type: str('Product type'),
      status: oneOf({ enum: ['active', 'draft', 'archived'], title: 'Status', default: 'active' }),
      price: str('Price', { pattern: '^[0-9]+(\\.[0-9]{1,2})?$' }),
      sku: str('SKU'),
      tags: str('Tags', { description: 'Comma-separated' }),
    },
    ['title'],
  ),
  output: res({ id: int('Id'), title: str('Title'), handle: str('Handle'), status: str('Status'), variant_id: int('Variant id') }, ['id', 'title']),
  async run(ctx, input) {
    const { price, sku, ...product } = input;
    const body = { product: { ...product, variants: price !== undefined || sku !== undefined ? [{ price, sku }] : undefined } };
    const created = (await send<{ product: ShopifyProduct }>(ctx, { method: 'POST', path: 'products.json', body })).product;
    return { id: created.id, title: created.title, handle: created.handle, status: created.status, variant_id: created.variants[0]!.id };
  },
});

const createCustomer = defineAction({
  name: 'Create customer',
  description: 'Creates a customer (POST /admin/api/{version}/customers.json). Fails with 422 if the email is taken.',
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      email: str('Email', { format: 'email' }),
      first_name: str('First name'),
      last_name: str('Last name'),
      phone: str('Phone', { description: 'E.164, e.g. +15145551234' }),
      tags: str('Tags', { description: 'Comma-separated' }),
      accepts_marketing: bool('Accepts email marketing', { default: false }),
    },
    ['email'],
  ),
  output: res({ id: int('Id'), email: str('Email'), first_name: nullable(str()), last_name: nullable(str()) }, ['id', 'email']),
  async run(ctx, input) {
    const { accepts_marketing, ...customer } = input;
    const body = {
      customer: { ...customer, email_marketing_consent: accepts_marketing ? { state: 'subscribed', opt_in_level: 'single_opt_in' } : undefined },
    };
    const { customer: c } = await send<{ customer: { id: number; email: string; first_name: string | null; last_name: string | null } }>(ctx, {
      method: 'POST',
      path: 'customers.json',
      body,
    });
    return { id: c.id, email: c.email, first_name: c.first_name, last_name: c.last_name };
  },
});

/** Verifies `X-Shopify-Hmac-Sha256`: base64 HMAC-SHA256 of the raw body with the app's client secret. */
export function verifyShopifyWebhook(req: WebhookRequest, secret: string): string | null {
  const given = req.headers['x-shopify-hmac-sha256'];
  if (!given) return 'missing X-Shopify-Hmac-Sha256';
  const expected = createHmac('sha256', secret).update(req.rawBody).digest();
  const actual = Buffer.from(given, 'base64');
  return actual.length === expected.length && timingSafeEqual(actual, expected) ? null : 'signature mismatch';
}

export const shopifyConnector = defineConnector({
  key: 'shopify',
  name: 'Shopify',
  description: 'Orders, products and customers of a Shopify store (Admin REST API), with order triggers.',
  logo: logo(
    '#95BF47',
    '<path d="M18 24h28l-3 26H21z" fill="#fff"/><path d="M25 24c0-6 3-10 7-10s7 4 7 10" fill="none" stroke="#fff" stroke-width="4"/>' +
      '<path d="M36 31c-2-2-8-2-8 2s8 3 8 7-6 4-9 2" fill="none" stroke="#95BF47" stroke-width="3" stroke-linecap="round"/>',
  ),
  categories: ['ecommerce'],
  docsUrl: 'https://shopify.dev/docs/api/admin-rest',
  auth: {
    type: 'oauth2',
    authorizationUrl: 'https://{{shop}}.myshopify.com/admin/oauth/authorize',
    tokenUrl: 'https://{{shop}}.myshopify.com/admin/oauth/access_token',
    // write_* implies read_*; orders/create webhooks need read_orders.
    scopes: ['read_products', 'write_products', 'read_orders', 'write_orders', 'read_customers', 'write_customers'],
    scopeSeparator: ',',
    pkce: false,
    // Expiring offline tokens (1 hour) with a refresh token, instead of a token that never expires.
    tokenParams: { expiring: '1' },
    tokenHeader: { name: 'X-Shopify-Access-Token' },
    refreshable: true,
  },
  connectionConfig: {
    shop: { title: 'Shop name', pattern: '[a-z0-9][a-z0-9-]*', example: 'acme-store', description: 'The part before .myshopify.com' },
  },
  baseUrl: `https://{{shop}}.myshopify.com/admin/api/${SHOPIFY_API_VERSION}`,
  pagination: { style: 'link_header' },
  // Leaky bucket of 40 requests per app and store, refilled at 2 per second (standard plans);
  // X-Shopify-Shop-Api-Call-Limit says how full it is, a 429 carries Retry-After.
  rateLimit: { requestsPerSecond: 2, retryAfterHeader: 'retry-after' },
  actions: { create_order: createOrder, get_order: getOrder, create_product: createProduct, create_customer: createCustomer },
  options: {
    variants: {
      name: 'Product variants',
      description: 'Each variant of the store’s products, newest products first',
      async run(ctx, { search, cursor }) {
        // With page_info, Shopify accepts only limit and fields: the title filter rides in the cursor.
        const query: Record<string, string | number> = cursor ? { limit: 50, page_info: cursor } : { limit: 50, ...(search ? { title: search } : {}) };
        const { data, headers } = await sendWithHeaders<{ products: ShopifyProduct[] }>(ctx, { method: 'GET', path: 'products.json', query });
        const options = data.products.flatMap((p) =>
          p.variants.map((v) => ({
            value: String(v.id),
            label: p.variants.length > 1 || v.title !== 'Default Title' ? `${p.title} – ${v.title}` : p.title,
            description: [v.sku && `SKU ${v.sku}`, `${v.price}`].filter(Boolean).join(' · '),
          })),
        );
        const next = nextPageInfo(headers['link']);
        return next ? { options, nextCursor: next } : { options };
      },
    },
  },
  triggers: {
    new_order: definePollTrigger<{ sinceId: number }>()({
      name: 'New order',
      description: 'An order is placed in the store (polls orders.json by since_id: order ids only grow).',
      input: obj({}),
      output: orderOutput,
      intervalSeconds: 60,
      minIntervalSeconds: 30,
      async poll(ctx, { cursor, limit }) {
        const pageSize = Math.min(250, Math.max(1, limit));
        if (cursor === null) {
          // Without since_id, orders come newest first.
          const { orders } = await send<{ orders: ShopifyOrder[] }>(ctx, { method: 'GET', path: 'orders.json', query: { status: 'any', limit: pageSize } });
          // The cursor sits at the newest order even when none is asked for (limit 0: from now).
          const items = orders.slice(0, limit).reverse();
          return { items: items.map((o) => ({ id: String(o.id), data: orderSummary(o) })), cursor: { sinceId: orders[0]?.id ?? 0 } };
        }
        // With since_id, ascending by id.
        const { data, headers } = await sendWithHeaders<{ orders: ShopifyOrder[] }>(ctx, {
          method: 'GET',
          path: 'orders.json',
          query: { status: 'any', since_id: cursor.sinceId, limit: pageSize },
        });
        const items = data.orders.slice(0, limit);
        return {
          items: items.map((o) => ({ id: String(o.id), data: orderSummary(o) })),
          cursor: { sinceId: items.at(-1)?.id ?? cursor.sinceId },
          more: Boolean(nextPageInfo(headers['link'])) || data.orders.length > limit,
        };
      },
    }),
    order_created: defineWebhookTrigger({
      name: 'Order created (instant)',
      description: 'Shopify pushes each new order (the orders/create webhook topic).',
      input: obj({}),
      output: orderOutput,
      events: ['orders/create'],
      map(event) {
        const order = event.data as unknown as ShopifyOrder;
        return typeof order?.id === 'number' ? { id: String(order.id), data: orderSummary(order) } : null;
      },
    }),
  },
  webhooks: {
    routing: 'instance',
    secret: 'client_secret',
    verify: (req, secret) => verifyShopifyWebhook(req, secret),
    events(req) {
      const id = req.headers['x-shopify-event-id'] ?? req.headers['x-shopify-webhook-id'];
      const type = req.headers['x-shopify-topic'];
      if (!id || !type || !req.body || typeof req.body !== 'object') return [];
      return [{ id, type, data: req.body as Record<string, unknown> }];
    },
    async subscribe(ctx, { url, events }) {
      const ids: number[] = [];
      try {
        for (const topic of events) {
          const { webhook } = await send<{ webhook: { id: number } }>(ctx, { method: 'POST', path: 'webhooks.json', body: { webhook: { topic, address: url, format: 'json' } } });
          ids.push(webhook.id);
        }
      } catch (error) {
        // Half a subscription would deliver to a URL nobody owns: remove what was made.
        for (const id of ids) await send(ctx, { method: 'DELETE', path: `webhooks/${id}.json` }).catch(() => undefined);
        throw error;
      }
      return { id: ids.join(',') };
    },
    async unsubscribe(ctx, { id }) {
      for (const webhookId of id.split(',').filter(Boolean)) {
        try {
          await send(ctx, { method: 'DELETE', path: `webhooks/${encodeURIComponent(webhookId)}.json` });
        } catch (error) {
          if (!(error instanceof HttpError && error.status === 404)) throw error;
        }
      }
    },
  },
  async account(ctx) {
    const { shop } = await send<{ shop: { id: number; name: string; email: string; myshopify_domain: string; plan_name: string; currency: string } }>(ctx, {
      method: 'GET',
      path: 'shop.json',
    });
    return {
      id: String(shop.id),
      name: `${shop.name} (${shop.myshopify_domain})`,
      details: { email: shop.email, plan: shop.plan_name, currency: shop.currency, domain: shop.myshopify_domain },
    };
  },
});
