import { createHash, randomBytes } from 'node:crypto';
import { intParam, json, ProviderModule, SandboxRequest, SandboxResponse } from '../core';

export interface StripeCustomer {
  id: string;
  object: 'customer';
  address: null;
  balance: number;
  created: number;
  currency: string | null;
  default_source: null;
  delinquent: boolean;
  description: string | null;
  email: string | null;
  invoice_prefix: string;
  invoice_settings: { custom_fields: null; default_payment_method: null; footer: null; rendering_options: null };
  livemode: false;
  metadata: Record<string, string>;
  name: string | null;
  phone: string | null;
  preferred_locales: string[];
  shipping: null;
  tax_exempt: 'none';
  test_clock: null;
}

export interface StripeState {
  customers: StripeCustomer[];
  charges: Record<string, unknown>[];
  invoiceItems: Record<string, unknown>[];
  /** Idempotency-Key → (request fingerprint, stored answer). */
  idempotency: Map<string, { fingerprint: string; response: SandboxResponse }>;
}

/** Accepted secret keys → account index. */
export const STRIPE_KEYS: Record<string, number> = { sk_test_sandbox: 0, sk_test_sandbox_globex: 1, rk_test_sandbox: 0 };

function sid(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 14)}`;
}

function stripeError(status: number, type: string, message: string, extra: Record<string, unknown> = {}): SandboxResponse {
  return json(status, { error: { message, type, ...extra } }, { 'request-id': `req_${randomBytes(7).toString('hex')}` });
}

function missing(param: string): SandboxResponse {
  return stripeError(400, 'invalid_request_error', `Missing required param: ${param}.`, { code: 'parameter_missing', param, doc_url: 'https://stripe.com/docs/error-codes/parameter-missing' });
}

function noSuch(kind: string, id: string, param: string): SandboxResponse {
  return stripeError(404, 'invalid_request_error', `No such ${kind}: '${id}'`, { code: 'resource_missing', param, doc_url: 'https://stripe.com/docs/error-codes/resource-missing' });
}

/** Stripe form bodies: metadata[plan]=pro → { metadata: { plan: 'pro' } }. */
function unflatten(form: Record<string, string>): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [key, value] of Object.entries(form)) {
    const parts = key.replace(/\]/g, '').split('[');
    let cur = out;
    parts.forEach((p, i) => {
      if (i === parts.length - 1) cur[p] = value;
      else cur = cur[p] ??= {};
    });
  }
  return out;
}

function customerJson(c: StripeCustomer) {
  return c;
}

function seed(): StripeState {
  const customers: StripeCustomer[] = [];
  const mk = (i: number, name: string, email: string): StripeCustomer => ({
    id: `cus_Sbx${String(i).padStart(10, '0')}`,
    object: 'customer',
    address: null,
    balance: 0,
    created: 1735000000 + i * 3600,
    currency: 'usd',
    default_source: null,
    delinquent: false,
    description: null,
    email,
    invoice_prefix: `SBX${String(i).padStart(4, '0')}`,
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: {},
    name,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  });
  customers.push(mk(1, 'Maria Johnson', 'maria@globex.test'), mk(2, 'Li Chen', 'li@initech.test'));
  for (let i = 3; i <= 75; i++) customers.push(mk(i, `Customer ${i}`, `customer${i}@example.test`));
  customers.sort((a, b) => b.created - a.created);
  const charges: Record<string, unknown>[] = [];
  for (let i = 0; i < 25; i++) {
    const customer = i % 2 === 0 ? 'cus_Sbx0000000001' : 'cus_Sbx0000000002';
    charges.push({
      id: `ch_Sbx${String(i).padStart(12, '0')}`,
      object: 'charge',
      amount: 1000 + i * 250,
      amount_captured: 1000 + i * 250,
      amount_refunded: 0,
      balance_transaction: `txn_Sbx${i}`,
      captured: true,
      created: 1736000000 - i * 86400,
      currency: 'usd',
      customer,
      description: `Subscription payment #${i + 1}`,
      livemode: false,
      metadata: {},
      paid: true,
      payment_intent: `pi_Sbx${i}`,
      receipt_url: `https://pay.stripe.com/receipts/sandbox/ch_Sbx${i}`,
      refunded: false,
      status: i === 3 ? 'failed' : 'succeeded',
    });
  }
  return { customers, charges, invoiceItems: [], idempotency: new Map() };
}

function list<T extends { id: string }>(items: T[], req: SandboxRequest, url: string): SandboxResponse {
  const limit = intParam(req.query.get('limit'), 10, 1, 100);
  let start = 0;
  const after = req.query.get('starting_after');
  if (after) {
    const i = items.findIndex((x) => x.id === after);
    if (i < 0) return noSuch(url.includes('charges') ? 'charge' : 'customer', after, 'starting_after');
    start = i + 1;
  }
  return json(200, { object: 'list', data: items.slice(start, start + limit), has_more: start + limit < items.length, url });
}

/** The subset of Stripe's search language the connector uses: field~"text" / field:"text" joined by OR/AND. */
function searchFilter(query: string): ((c: StripeCustomer) => boolean) | null {
  const parts = query.split(/\s+(OR|AND)\s+/);
  const tests: ((c: StripeCustomer) => boolean)[] = [];
  let joiner = 'OR';
  for (let i = 0; i < parts.length; i++) {
    if (i % 2 === 1) {
      joiner = parts[i]!;
      continue;
    }
    const m = /^(email|name|phone|metadata\[['"]?\w+['"]?\])\s*([~:])\s*"([^"]*)"$/.exec(parts[i]!.trim());
    if (!m) return null;
    const [, field, op, value] = m as unknown as [string, string, string, string];
    if (op === '~' && value.length < 3) return null;
    tests.push((c) => {
      const v = field.startsWith('metadata') ? c.metadata[field.replace(/^metadata\[['"]?|['"]?\]$/g, '')] : (c as unknown as Record<string, string | null>)[field];
      if (typeof v !== 'string') return false;
      return op === '~' ? v.toLowerCase().includes(value.toLowerCase()) : v.toLowerCase() === value.toLowerCase();
    });
  }
  return (c) => (joiner === 'AND' ? tests.every((t) => t(c)) : tests.some((t) => t(c)));
}

function idempotent(req: SandboxRequest, state: StripeState, apiKey: string, handler: () => SandboxResponse): SandboxResponse {
  const key = req.headers['idempotency-key'];
  if (!key) return handler();
  const fingerprint = createHash('sha256').update(`${req.method} ${req.path} ${req.rawBody}`).digest('hex');
  const slot = `${apiKey}:${key}`;
  const seen = state.idempotency.get(slot);
  if (seen) {
    if (seen.fingerprint !== fingerprint) {
      return stripeError(400, 'idempotency_error', `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`);
    }
    return { ...seen.response, headers: { ...(seen.response.headers ?? {}), 'idempotent-replayed': 'true' } };
  }
  const response = handler();
  if (response.status < 500) state.idempotency.set(slot, { fingerprint, response });
  return response;
}

function apiKeyOf(req: SandboxRequest): string {
  return (req.headers['authorization'] ?? '').replace(/^Bearer\s+/i, '');
}

export const stripeSandbox: ProviderModule<StripeState> = {
  key: 'stripe',
  displayName: 'Stripe',
  accounts: [
    { id: 'acct_1SbxAcme000001', name: 'Acme Inc.', email: 'billing@acme.test' },
    { id: 'acct_1SbxGlobex00002', name: 'Globex Corporation', email: 'finance@globex.test' },
  ],
  apiKeys: STRIPE_KEYS,
  authError(reason, req) {
    if (reason === 'missing') {
      return stripeError(401, 'invalid_request_error', "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.");
    }
    const key = apiKeyOf(req);
    return stripeError(401, 'invalid_request_error', `Invalid API Key provided: ${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`);
  },
  seed,
  routes: [
    {
      method: 'GET',
      path: '/v1/account',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        return json(200, {
          id: a.account.id,
          object: 'account',
          business_profile: { name: a.account.name, url: null, support_email: a.account.email },
          business_type: 'company',
          capabilities: { card_payments: 'active', transfers: 'active' },
          charges_enabled: true,
          country: 'US',
          created: 1700000000,
          default_currency: 'usd',
          details_submitted: true,
          email: a.account.email,
          payouts_enabled: true,
          settings: { dashboard: { display_name: a.account.name, timezone: 'America/New_York' } },
          type: 'standard',
        });
      },
    },
    {
      method: 'POST',
      path: '/v1/customers',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        return idempotent(req, ctx.state, apiKeyOf(req), () => {
          const p = unflatten((req.body ?? {}) as Record<string, string>);
          for (const k of Object.keys(p)) {
            if (!['email', 'name', 'phone', 'description', 'metadata'].includes(k)) {
              return stripeError(400, 'invalid_request_error', `Received unknown parameter: ${k}`, { param: k, doc_url: 'https://stripe.com/docs/error-codes/parameter-unknown', code: 'parameter_unknown' });
            }
          }
          const c: StripeCustomer = {
            ...seed().customers[0]!,
            id: sid('cus'),
            created: Math.floor(ctx.now() / 1000),
            currency: null,
            email: p.email ?? null,
            name: p.name ?? null,
            phone: p.phone ?? null,
            description: p.description ?? null,
            metadata: p.metadata ?? {},
            invoice_prefix: randomBytes(4).toString('hex').toUpperCase(),
          };
          ctx.state.customers.unshift(c);
          return json(200, customerJson(c));
        });
      },
    },
    {
      method: 'GET',
      path: '/v1/customers',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const email = req.query.get('email');
        const items = email ? ctx.state.customers.filter((c) => c.email?.toLowerCase() === email.toLowerCase()) : ctx.state.customers;
        return list(items, req, '/v1/customers');
      },
    },
    {
      method: 'GET',
      path: '/v1/customers/search',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const query = req.query.get('query');
        if (!query) return missing('query');
        const filter = searchFilter(query);
        if (!filter) return stripeError(400, 'invalid_request_error', `The query \`${query}\` is invalid. See https://stripe.com/docs/search#search-query-language.`, { param: 'query' });
        const limit = intParam(req.query.get('limit'), 10, 1, 100);
        const page = req.query.get('page');
        const start = page ? Number(Buffer.from(page, 'base64url').toString('utf8').replace(/^sbx:/, '')) || 0 : 0;
        const matched = ctx.state.customers.filter(filter);
        const more = start + limit < matched.length;
        return json(200, {
          object: 'search_result',
          url: '/v1/customers/search',
          data: matched.slice(start, start + limit),
          has_more: more,
          next_page: more ? Buffer.from(`sbx:${start + limit}`).toString('base64url') : null,
          total_count: matched.length,
        });
      },
    },
    {
      method: 'GET',
      path: '/v1/customers/:id',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const c = ctx.state.customers.find((x) => x.id === req.params.id);
        return c ? json(200, c) : noSuch('customer', req.params.id!, 'id');
      },
    },
    {
      method: 'GET',
      path: '/v1/charges',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const customer = req.query.get('customer');
        if (customer && !ctx.state.customers.some((c) => c.id === customer)) return noSuch('customer', customer, 'customer');
        const items = customer ? ctx.state.charges.filter((c) => c.customer === customer) : ctx.state.charges;
        return list(items as { id: string }[], req, '/v1/charges');
      },
    },
    {
      method: 'POST',
      path: '/v1/invoiceitems',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        return idempotent(req, ctx.state, apiKeyOf(req), () => {
          const p = unflatten((req.body ?? {}) as Record<string, string>);
          if (!p.customer) return missing('customer');
          if (!ctx.state.customers.some((c) => c.id === p.customer)) return noSuch('customer', p.customer, 'customer');
          if (p.amount === undefined && p.price === undefined) return missing('amount');
          if (p.amount !== undefined && !/^-?\d+$/.test(p.amount)) return stripeError(400, 'invalid_request_error', 'Invalid integer: ' + p.amount, { param: 'amount' });
          if (!p.currency) return missing('currency');
          const now = Math.floor(ctx.now() / 1000);
          const item = {
            id: sid('ii'),
            object: 'invoiceitem',
            amount: Number(p.amount),
            currency: String(p.currency).toLowerCase(),
            customer: p.customer,
            date: now,
            description: p.description ?? null,
            discountable: true,
            discounts: [],
            invoice: null,
            livemode: false,
            metadata: p.metadata ?? {},
            period: { end: now, start: now },
            proration: false,
            quantity: 1,
            test_clock: null,
            unit_amount: Number(p.amount),
            unit_amount_decimal: String(p.amount),
          };
          ctx.state.invoiceItems.push(item);
          return json(200, item);
        });
      },
    },
  ],
};
