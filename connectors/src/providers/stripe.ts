import { createHmac, timingSafeEqual } from 'node:crypto';
import { ensureOk, send } from '../runtime';
import { defineAction, defineConnector, definePollTrigger, defineWebhookTrigger, HttpRequest, TriggerItem } from '../types';
import { arr, bool, dict, int, logo, nullable, obj, res, str } from './shared';

/** Pinned so payload shapes do not change under us. */
export const STRIPE_VERSION = '2024-06-20';

/** Stripe bodies are form-encoded with bracketed nesting: metadata[plan]=pro. */
export function stripeForm(values: Record<string, unknown>, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || value === null) continue;
    const name = prefix ? `${prefix}[${key}]` : key;
    if (typeof value === 'object' && !Array.isArray(value)) stripeForm(value as Record<string, unknown>, name, out);
    else if (Array.isArray(value))
      value.forEach((v, i) => (typeof v === 'object' && v ? stripeForm(v as Record<string, unknown>, `${name}[${i}]`, out) : (out[`${name}[${i}]`] = String(v))));
    else out[name] = String(value);
  }
  return out;
}

interface StripeList<T> {
  object: 'list' | 'search_result';
  data: T[];
  has_more: boolean;
  next_page?: string | null;
}

interface Customer {
  id: string;
  email: string | null;
  name: string | null;
  description: string | null;
  created: number;
  metadata: Record<string, string>;
}

export interface Charge {
  id: string;
  amount: number;
  currency: string;
  status: string;
  paid: boolean;
  description: string | null;
  created: number;
  customer: string | null;
  receipt_url?: string | null;
}

const METADATA = dict(str({ maxLength: 500 }), { title: 'Metadata', maxProperties: 50 });

const createCustomer = defineAction({
  name: 'Create customer',
  description: 'Creates a customer (POST /v1/customers). Idempotent per step execution.',
  // Stripe de-duplicates by the Idempotency-Key it sends.
  readOnly: false,
  retrySafe: true,
  input: obj({ email: str('Email', { format: 'email' }), name: str('Name'), phone: str('Phone'), description: str('Description'), metadata: METADATA }),
  output: res({ id: str('Customer id'), email: nullable(str()), name: nullable(str()), created: int('Created (unix)') }, ['id']),
  async run(ctx, input) {
    const c = await send<Customer>(ctx, { method: 'POST', path: 'customers', form: stripeForm(input), headers: { 'idempotency-key': ctx.idempotencyKey } });
    return { id: c.id, email: c.email, name: c.name, created: c.created };
  },
});

const listCharges = defineAction({
  name: 'List charges',
  description: 'Lists charges, newest first, optionally for one customer (GET /v1/charges).',
  readOnly: true,
  retrySafe: true,
  input: obj({
    customer: str('Customer', { pattern: '^cus_[A-Za-z0-9]+$', 'x-options': 'customers' }),
    limit: int('Page size', { minimum: 1, maximum: 100, default: 10 }),
    starting_after: str('Cursor', { description: 'Last charge id of the previous page' }),
  }),
  output: res(
    {
      charges: arr(
        res(
          {
            id: str('Id'),
            amount: int('Amount (minor units)'),
            currency: str('Currency'),
            status: str('Status'),
            paid: bool(),
            customer: nullable(str()),
          },
          ['id', 'amount', 'currency'],
        ),
      ),
      has_more: bool(),
      next_cursor: str('Next cursor'),
    },
    ['charges', 'has_more'],
  ),
  async run(ctx, input) {
    const list = await send<StripeList<Charge>>(ctx, {
      method: 'GET',
      path: 'charges',
      query: { customer: input.customer, limit: input.limit ?? 10, starting_after: input.starting_after },
    });
    const charges = list.data.map(({ id, amount, currency, status, paid, description, created, customer }) => ({
      id,
      amount,
      currency,
      status,
      paid,
      description,
      created,
      customer,
    }));
    const last = charges[charges.length - 1];
    return list.has_more && last ? { charges, has_more: true, next_cursor: last.id } : { charges, has_more: false };
  },
});

const createInvoiceItem = defineAction({
  name: 'Add invoice item',
  description: "Adds a pending line to the customer's next invoice (POST /v1/invoiceitems). Idempotent per step execution.",
  readOnly: false,
  retrySafe: true,
  input: obj(
    {
      customer: str('Customer', { pattern: '^cus_[A-Za-z0-9]+$', 'x-options': 'customers' }),
      amount: int('Amount', { description: 'In the smallest currency unit (cents); negative for a credit' }),
      currency: str('Currency', { pattern: '^[a-z]{3}$', description: 'ISO code, lower case', default: 'usd' }),
      description: str('Description'),
      metadata: METADATA,
    },
    ['customer', 'amount', 'currency'],
  ),
  output: res({ id: str('Invoice item id'), amount: int('Amount'), currency: str('Currency'), customer: str('Customer'), invoice: nullable(str()) }, ['id']),
  async run(ctx, input) {
    const item = await send<{ id: string; amount: number; currency: string; customer: string; invoice: string | null }>(ctx, {
      method: 'POST',
      path: 'invoiceitems',
      form: stripeForm(input),
      headers: { 'idempotency-key': ctx.idempotencyKey },
    });
    return { id: item.id, amount: item.amount, currency: item.currency, customer: item.customer, invoice: item.invoice };
  },
});

const CUSTOMER_OUTPUT = res(
  {
    id: str('Customer id'),
    email: nullable(str('Email')),
    name: nullable(str('Name')),
    phone: nullable(str('Phone')),
    description: nullable(str('Description')),
    created: int('Created (unix)'),
    metadata: dict(str(), { title: 'Metadata' }),
  },
  ['id', 'created'],
);

function customerItem(c: Customer & { phone?: string | null }): TriggerItem {
  return { id: c.id, data: { id: c.id, email: c.email, name: c.name, phone: c.phone ?? null, description: c.description, created: c.created, metadata: c.metadata } };
}

interface PaymentIntent {
  id: string;
  amount: number;
  amount_received: number;
  currency: string;
  customer: string | null;
  description: string | null;
  status: string;
  created: number;
  latest_charge: string | null;
  receipt_email: string | null;
  metadata: Record<string, string>;
}

const customerCreated = defineWebhookTrigger({
  name: 'Customer created',
  description: 'Runs when a customer is created in Stripe (webhook endpoint, `customer.created`).',
  events: ['customer.created'],
  output: CUSTOMER_OUTPUT,
  map(event) {
    return event.type === 'customer.created' ? customerItem(event.data as unknown as Customer) : null;
  },
});

const paymentSucceeded = defineWebhookTrigger({
  name: 'Payment succeeded',
  description: 'Runs when a payment succeeds (webhook endpoint, `payment_intent.succeeded`).',
  events: ['payment_intent.succeeded'],
  output: res(
    {
      id: str('Payment intent id'),
      amount: int('Amount (minor units)'),
      amount_received: int('Amount received (minor units)'),
      currency: str('Currency'),
      customer: nullable(str('Customer id')),
      description: nullable(str('Description')),
      status: str('Status'),
      created: int('Created (unix)'),
      latest_charge: nullable(str('Charge id')),
      receipt_email: nullable(str('Receipt email')),
      metadata: dict(str(), { title: 'Metadata' }),
    },
    ['id', 'amount', 'currency', 'status', 'created'],
  ),
  map(event) {
    if (event.type !== 'payment_intent.succeeded') return null;
    const pi = event.data as unknown as PaymentIntent;
    return {
      id: pi.id,
      data: {
        id: pi.id,
        amount: pi.amount,
        amount_received: pi.amount_received,
        currency: pi.currency,
        customer: pi.customer,
        description: pi.description,
        status: pi.status,
        created: pi.created,
        latest_charge: pi.latest_charge,
        receipt_email: pi.receipt_email,
        metadata: pi.metadata,
      },
    };
  },
});

/** Where new_customer has read up to: the newest customer seen (null before there was any). */
export interface CustomerCursor {
  id: string | null;
  created: number;
}

/** Pages of 100 read at most when the whole list must be walked to find its oldest customers. */
const MAX_WALK_PAGES = 50;

/**
 * Stripe lists are newest first; `ending_before` answers the page just newer than a customer (still
 * newest first, `has_more` when newer ones remain), which is how the trigger reads forward.
 */
const newCustomer = definePollTrigger<CustomerCursor>()({
  name: 'New customer',
  description: 'Checks Stripe for newly created customers, oldest first.',
  intervalSeconds: 300,
  minIntervalSeconds: 60,
  output: CUSTOMER_OUTPUT,
  async poll(ctx, { cursor, limit }) {
    // Stripe pages hold 1 to 100 objects.
    const pageSize = Math.min(Math.max(limit, 1), 100);
    const list = (query: HttpRequest['query']) => send<StripeList<Customer>>(ctx, { method: 'GET', path: 'customers', query: { limit: pageSize, ...query } });
    let page: StripeList<Customer> | undefined;
    if (!cursor) {
      page = await list({});
      const newest = page.data[0];
      return { items: page.data.slice(0, limit).reverse().map(customerItem), cursor: newest ? { id: newest.id, created: newest.created } : { id: null, created: 0 } };
    }
    if (cursor.id) {
      const request: HttpRequest = { method: 'GET', path: 'customers', query: { limit: pageSize, ending_before: cursor.id } };
      const response = await ctx.http.request<StripeList<Customer> & { error?: { code?: string } }>(request);
      // A deleted customer cannot anchor the page: re-anchor below.
      if (!(response.status === 404 && response.data?.error?.code === 'resource_missing')) page = ensureOk(response, request).data;
    }
    if (!page) {
      // Anchor on the newest customer no newer than the cursor (the engine drops any repeat of the same second).
      const older = cursor.created > 0 ? (await list({ limit: 1, 'created[lte]': cursor.created })).data[0] : undefined;
      page = older ? await list({ ending_before: older.id }) : await oldestCustomers(list, pageSize);
    }
    const items = [...page.data].reverse();
    const newest = items[items.length - 1];
    return {
      items: items.map(customerItem),
      cursor: newest ? { id: newest.id, created: newest.created } : cursor,
      ...(page.has_more ? { more: true } : {}),
    };
  },
});

/** The oldest `limit` customers of the account (newest first, like a page), walking the whole list. */
async function oldestCustomers(list: (query: HttpRequest['query']) => Promise<StripeList<Customer>>, limit: number): Promise<StripeList<Customer>> {
  const seen: Customer[] = [];
  let page = await list({ limit: 100 });
  seen.push(...page.data);
  for (let i = 1; i < MAX_WALK_PAGES && page.has_more && page.data.length; i++) {
    page = await list({ limit: 100, starting_after: page.data[page.data.length - 1]!.id });
    seen.push(...page.data);
  }
  return { object: 'list', data: seen.slice(-limit), has_more: seen.length > limit };
}

/** Parses `Stripe-Signature: t=…,v1=…,v1=…,v0=…`. */
function parseSignatureHeader(header: string): { timestamp: number; signatures: string[] } | null {
  let timestamp = Number.NaN;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.split('=', 2).map((x) => x.trim());
    if (key === 't' && value && /^\d+$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && value) signatures.push(value);
  }
  return Number.isFinite(timestamp) && signatures.length ? { timestamp, signatures } : null;
}

/** How old (or early) a delivery's timestamp may be, as Stripe's libraries default. */
const SIGNATURE_TOLERANCE_SECONDS = 300;

export const stripeConnector = defineConnector({
  key: 'stripe',
  name: 'Stripe',
  description: 'Create customers, bill invoice items and look up charges in Stripe; start flows on new customers and successful payments.',
  logo: logo(
    '#635BFF',
    '<path d="M40 20c-3-2-7-3-10-3-6 0-10 3-10 8 0 10 16 7 16 14 0 3-3 5-7 5-4 0-8-2-11-4" fill="none" stroke="#fff" stroke-width="5" stroke-linecap="round"/>',
  ),
  categories: ['payments', 'finance'],
  docsUrl: 'https://docs.stripe.com/api',
  auth: {
    type: 'api_key',
    in: 'header',
    name: 'Authorization',
    prefix: 'Bearer ',
    label: 'Secret key (or restricted key)',
    help: 'Dashboard → Developers → API keys. A restricted key with Customers, Charges and Invoices access is enough.',
  },
  baseUrl: 'https://api.stripe.com/v1',
  defaultHeaders: { 'stripe-version': STRIPE_VERSION },
  pagination: { style: 'cursor', cursorParam: 'starting_after', nextCursorPath: 'data.-1.id', limitParam: 'limit' },
  // 100 read + 100 write operations per second in live mode (25 in test mode).
  rateLimit: { requestsPerSecond: 25 },
  honoursIdempotencyKey: true,
  actions: { create_customer: createCustomer, list_charges: listCharges, create_invoice_item: createInvoiceItem },
  triggers: { payment_succeeded: paymentSucceeded, customer_created: customerCreated, new_customer: newCustomer },
  webhooks: {
    // A webhook endpoint per enabled instance; Stripe issues its signing secret (whsec_…).
    routing: 'instance',
    secret: 'subscription',
    verify(req, secret, now) {
      const header = req.headers['stripe-signature'];
      const parsed = header ? parseSignatureHeader(header) : null;
      if (!parsed) return 'missing or malformed Stripe-Signature';
      if (Math.abs(now / 1000 - parsed.timestamp) > SIGNATURE_TOLERANCE_SECONDS) return 'timestamp too old';
      const expected = Buffer.from(createHmac('sha256', secret).update(`${parsed.timestamp}.`).update(req.rawBody).digest('hex'));
      const matches = parsed.signatures.some((s) => {
        const given = Buffer.from(s);
        return given.length === expected.length && timingSafeEqual(given, expected);
      });
      return matches ? null : 'signature mismatch';
    },
    events(req) {
      const body = req.body as { id?: string; object?: string; type?: string; data?: { object?: Record<string, unknown> } } | undefined;
      return body?.object === 'event' && body.id && body.type && body.data?.object ? [{ id: body.id, type: body.type, data: body.data.object }] : [];
    },
    async subscribe(ctx, { url, events }) {
      const endpoint = await send<{ id: string; secret: string }>(ctx, {
        method: 'POST',
        path: 'webhook_endpoints',
        // Pinned like the API calls, so event payloads keep their shape.
        form: stripeForm({ url, enabled_events: events, api_version: STRIPE_VERSION, description: 'Switchboard flow trigger' }),
        headers: { 'idempotency-key': ctx.idempotencyKey },
      });
      return { id: endpoint.id, secret: endpoint.secret };
    },
    async unsubscribe(ctx, { id }) {
      const request: HttpRequest = { method: 'DELETE', path: `webhook_endpoints/${encodeURIComponent(id)}` };
      const response = await ctx.http.request(request);
      if (response.status !== 404) ensureOk(response, request);
    },
  },
  options: {
    customers: {
      name: 'Customers',
      async run(ctx, { search, cursor }) {
        let list: StripeList<Customer>;
        if (search && search.trim()) {
          // Search API: substring match on email or name; `page` cursor.
          const term = search.trim().replace(/["\\]/g, '');
          list = await send(ctx, { method: 'GET', path: 'customers/search', query: { query: `email~"${term}" OR name~"${term}"`, limit: 50, page: cursor } });
        } else {
          list = await send(ctx, { method: 'GET', path: 'customers', query: { limit: 50, starting_after: cursor } });
        }
        const options = list.data.map((c) => ({ value: c.id, label: c.name || c.email || c.id, description: c.name && c.email ? c.email : c.id }));
        const next = list.object === 'search_result' ? (list.next_page ?? undefined) : list.has_more ? list.data[list.data.length - 1]?.id : undefined;
        return next ? { options, nextCursor: next } : { options };
      },
    },
  },
  async account(ctx) {
    const a = await send<{ id: string; email?: string | null; business_profile?: { name?: string | null }; settings?: { dashboard?: { display_name?: string | null } } }>(ctx, {
      method: 'GET',
      path: 'account',
    });
    const name = a.settings?.dashboard?.display_name || a.business_profile?.name || a.email || a.id;
    return { id: a.id, name, details: { email: a.email } };
  },
});
