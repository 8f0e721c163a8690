import { send } from '../runtime';
import { defineAction, defineConnector } from '../types';
import { int, logo, obj, res, str } from './shared';

/** Pinned so payload shapes do not change under us. */
export const STRIPE_VERSION = '2024-06-20';

/** Stripe bodies are form-encoded with bracketed nesting: metadata[plan]=pro. */
export function stripeForm(values: Record<string, unknown>, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || value === null) continue;
    const name = prefix ? `${prefix}[${key}]` : key;
    if (typeof value === 'object' && !Array.isArray(value)) stripeForm(value as Record<string, unknown>, name, out);
    else if (Array.isArray(value)) value.forEach((v, i) => (typeof v === 'object' && v ? stripeForm(v as Record<string, unknown>, `${name}[${i}]`, out) : (out[`${name}[${i}]`] = String(v))));
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

const METADATA = { type: 'object', title: 'Metadata', additionalProperties: { type: 'string', maxLength: 500 }, maxProperties: 50 };

const createCustomer = defineAction<
  { email?: string; name?: string; phone?: string; description?: string; metadata?: Record<string, string> },
  { id: string; email: string | null; name: string | null; created: number }
>({
  name: 'Create customer',
  description: 'Creates a customer (POST /v1/customers). Idempotent per step execution.',
  // Stripe de-duplicates by the Idempotency-Key it sends.
  retrySafe: true,
  input: obj({ email: str('Email', { format: 'email' }), name: str('Name'), phone: str('Phone'), description: str('Description'), metadata: METADATA }),
  output: res({ id: str('Customer id'), email: { type: ['string', 'null'] }, name: { type: ['string', 'null'] }, created: int('Created (unix)') }, ['id']),
  async run(ctx, input) {
    const c = await send<Customer>(ctx, { method: 'POST', path: 'customers', form: stripeForm(input), headers: { 'idempotency-key': ctx.idempotencyKey } });
    return { id: c.id, email: c.email, name: c.name, created: c.created };
  },
});

const listCharges = defineAction<
  { customer?: string; limit?: number; starting_after?: string },
  { charges: Omit<Charge, 'receipt_url'>[]; has_more: boolean; next_cursor?: string }
>({
  name: 'List charges',
  description: 'Lists charges, newest first, optionally for one customer (GET /v1/charges).',
  retrySafe: true,
  input: obj({
    customer: str('Customer', { pattern: '^cus_[A-Za-z0-9]+$', 'x-options': 'customers' }),
    limit: int('Page size', { minimum: 1, maximum: 100, default: 10 }),
    starting_after: str('Cursor', { description: 'Last charge id of the previous page' }),
  }),
  output: res(
    {
      charges: {
        type: 'array',
        items: res({ id: str('Id'), amount: int('Amount (minor units)'), currency: str('Currency'), status: str('Status'), paid: { type: 'boolean' }, customer: { type: ['string', 'null'] } }, ['id', 'amount', 'currency']),
      },
      has_more: { type: 'boolean' },
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
    const charges = list.data.map(({ id, amount, currency, status, paid, description, created, customer }) => ({ id, amount, currency, status, paid, description, created, customer }));
    const last = charges[charges.length - 1];
    return list.has_more && last ? { charges, has_more: true, next_cursor: last.id } : { charges, has_more: false };
  },
});

const createInvoiceItem = defineAction<
  { customer: string; amount: number; currency: string; description?: string; metadata?: Record<string, string> },
  { id: string; amount: number; currency: string; customer: string; invoice: string | null }
>({
  name: 'Add invoice item',
  description: "Adds a pending line to the customer's next invoice (POST /v1/invoiceitems). Idempotent per step execution.",
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
  output: res({ id: str('Invoice item id'), amount: int('Amount'), currency: str('Currency'), customer: str('Customer'), invoice: { type: ['string', 'null'] } }, ['id']),
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

export const stripeConnector = defineConnector({
  key: 'stripe',
  name: 'Stripe',
  description: 'Create customers, bill invoice items and look up charges in Stripe.',
  logo: logo('#635BFF', '<path d="M40 20c-3-2-7-3-10-3-6 0-10 3-10 8 0 10 16 7 16 14 0 3-3 5-7 5-4 0-8-2-11-4" fill="none" stroke="#fff" stroke-width="5" stroke-linecap="round"/>'),
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
        const next = list.object === 'search_result' ? list.next_page ?? undefined : list.has_more ? list.data[list.data.length - 1]?.id : undefined;
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
