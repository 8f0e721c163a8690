import { createHash, createHmac, randomBytes } from 'node:crypto';
import { intParam, json, ProviderContext, ProviderModule, SandboxRequest, SandboxResponse } from '../core';

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

export interface StripeWebhookEndpoint {
  id: string;
  object: 'webhook_endpoint';
  api_version: string | null;
  application: null;
  created: number;
  description: string | null;
  enabled_events: string[];
  livemode: false;
  metadata: Record<string, string>;
  /** whsec_…: answered only when the endpoint is created. */
  secret: string;
  status: 'enabled' | 'disabled';
  url: string;
}

export interface StripeEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface StripeState {
  /** Newest first, as lists answer. */
  customers: StripeCustomer[];
  charges: Record<string, unknown>[];
  invoiceItems: Record<string, unknown>[];
  paymentIntents: Record<string, unknown>[];
  webhookEndpoints: StripeWebhookEndpoint[];
  /** Newest first. */
  events: StripeEvent[];
  /** Idempotency-Key → (request fingerprint, stored answer). */
  idempotency: Map<string, { fingerprint: string; response: SandboxResponse }>;
  /** How many times tick() ran (names the customers it creates). */
  ticks: number;
}

/** Accepted secret keys → account index. */
export const STRIPE_KEYS: Record<string, number> = { sk_test_sandbox: 0, sk_test_sandbox_globex: 1, rk_test_sandbox: 0 };

function sid(prefix: string): string {
  return `${prefix}_${randomBytes(12)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 14)}`;
}

function stripeError(status: number, type: string, message: string, extra: Record<string, unknown> = {}): SandboxResponse {
  return json(status, { error: { message, type, ...extra } }, { 'request-id': `req_${randomBytes(7).toString('hex')}` });
}

function missing(param: string): SandboxResponse {
  return stripeError(400, 'invalid_request_error', `Missing required param: ${param}.`, {
    code: 'parameter_missing',
    param,
    doc_url: 'https://stripe.com/docs/error-codes/parameter-missing',
  });
}

function noSuch(kind: string, id: string, param: string): SandboxResponse {
  return stripeError(404, 'invalid_request_error', `No such ${kind}: '${id}'`, {
    code: 'resource_missing',
    param,
    doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
  });
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
  return { customers, charges, invoiceItems: [], paymentIntents: [], webhookEndpoints: [], events: [], idempotency: new Map(), ticks: 0 };
}

/** Stripe's `created` filter: created=123 or created[gt|gte|lt|lte]=123; null when a bound is not an integer. */
function createdFilter(req: SandboxRequest): ((created: number) => boolean) | null {
  const bounds: Array<[string, (a: number, b: number) => boolean]> = [
    ['created', (a, b) => a === b],
    ['created[gt]', (a, b) => a > b],
    ['created[gte]', (a, b) => a >= b],
    ['created[lt]', (a, b) => a < b],
    ['created[lte]', (a, b) => a <= b],
  ];
  const tests: Array<(created: number) => boolean> = [];
  for (const [param, compare] of bounds) {
    const value = req.query.get(param);
    if (value === null) continue;
    if (!/^\d+$/.test(value)) return null;
    tests.push((created) => compare(created, Number(value)));
  }
  return (created) => tests.every((t) => t(created));
}

/** A Stripe list page (newest first): `created` filter, `limit`, `starting_after` / `ending_before` cursors. */
function list<T extends { id: string; created?: unknown }>(items: T[], req: SandboxRequest, url: string, kind: string): SandboxResponse {
  const limit = intParam(req.query.get('limit'), 10, 1, 100);
  const created = createdFilter(req);
  if (!created) return stripeError(400, 'invalid_request_error', 'Invalid integer: created', { param: 'created' });
  const filtered = items.filter((x) => typeof x.created !== 'number' || created(x.created));
  const after = req.query.get('starting_after');
  const before = req.query.get('ending_before');
  const cursor = after ?? before;
  const at = cursor ? filtered.findIndex((x) => x.id === cursor) : -1;
  if (cursor && at < 0) return noSuch(kind, cursor, after ? 'starting_after' : 'ending_before');
  if (before) {
    // The page just newer than the cursor object, still newest first.
    const start = Math.max(0, at - limit);
    return json(200, { object: 'list', data: filtered.slice(start, at), has_more: start > 0, url });
  }
  const start = after ? at + 1 : 0;
  return json(200, { object: 'list', data: filtered.slice(start, start + limit), has_more: start + limit < filtered.length, url });
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
      return stripeError(
        400,
        'idempotency_error',
        `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
      );
    }
    return { ...seen.response, headers: { ...(seen.response.headers ?? {}), 'idempotent-replayed': 'true' } };
  }
  const response = handler();
  if (response.status < 500) state.idempotency.set(slot, { fingerprint, response });
  return response;
}

/** The account's default API version: event payloads are rendered in it. */
const API_VERSION = '2024-06-20';

const MAX_EVENTS = 5000;

/** Event types an endpoint may enable (a subset of Stripe's list; '*' = all). */
const EVENT_TYPES = new Set([
  '*',
  'charge.captured',
  'charge.failed',
  'charge.refunded',
  'charge.succeeded',
  'checkout.session.completed',
  'customer.created',
  'customer.deleted',
  'customer.updated',
  'customer.subscription.created',
  'customer.subscription.deleted',
  'customer.subscription.updated',
  'invoice.created',
  'invoice.finalized',
  'invoice.paid',
  'invoice.payment_failed',
  'invoiceitem.created',
  'payment_intent.canceled',
  'payment_intent.created',
  'payment_intent.payment_failed',
  'payment_intent.succeeded',
  'payout.paid',
  'product.created',
  'price.created',
]);

/**
 * Records an event and sends it to every enabled endpoint that listens to its type, signed as
 * Stripe does: `Stripe-Signature: t=<unix>,v1=<HMAC-SHA256 of "t.body" with the whsec secret>`
 * (test mode adds a v0 made with another key). The body is Stripe's pretty-printed JSON.
 */
function emit(ctx: ProviderContext<StripeState>, type: string, object: object, req?: SandboxRequest): StripeEvent {
  const endpoints = ctx.state.webhookEndpoints.filter((e) => e.status === 'enabled' && (e.enabled_events.includes(type) || e.enabled_events.includes('*')));
  const event: StripeEvent = {
    id: sid('evt'),
    object: 'event',
    api_version: API_VERSION,
    created: Math.floor(ctx.now() / 1000),
    // The object as it is now: later changes make later events.
    data: { object: structuredClone(object) as Record<string, unknown> },
    livemode: false,
    pending_webhooks: endpoints.length,
    request: { id: req ? `req_${randomBytes(7).toString('hex')}` : null, idempotency_key: req?.headers['idempotency-key'] ?? null },
    type,
  };
  ctx.state.events.unshift(event);
  // Stripe keeps events 30 days; the sandbox keeps the newest few thousand (it churns for ever in the demo).
  if (ctx.state.events.length > MAX_EVENTS) ctx.state.events.length = MAX_EVENTS;
  const body = JSON.stringify(event, null, 2);
  for (const endpoint of endpoints) {
    const t = Math.floor(ctx.now() / 1000);
    const v1 = createHmac('sha256', endpoint.secret).update(`${t}.${body}`).digest('hex');
    const v0 = randomBytes(32).toString('hex');
    ctx.deliver({
      url: endpoint.url,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        accept: '*/*; q=0.5, application/xml',
        'cache-control': 'no-cache',
        'stripe-signature': `t=${t},v1=${v1},v0=${v0}`,
      },
      body,
    });
  }
  return event;
}

function createCustomer(
  ctx: ProviderContext<StripeState>,
  fields: { email?: string; name?: string; phone?: string; description?: string; metadata?: Record<string, string> },
  req?: SandboxRequest,
): StripeCustomer {
  const c: StripeCustomer = {
    ...seed().customers[0]!,
    id: sid('cus'),
    created: Math.floor(ctx.now() / 1000),
    currency: null,
    email: fields.email ?? null,
    name: fields.name ?? null,
    phone: fields.phone ?? null,
    description: fields.description ?? null,
    metadata: fields.metadata ?? {},
    invoice_prefix: randomBytes(4).toString('hex').toUpperCase(),
  };
  ctx.state.customers.unshift(c);
  emit(ctx, 'customer.created', c, req);
  return c;
}

/** Stripe's test payment methods: how a confirmation with each ends. */
const TEST_PAYMENT_METHODS: Record<string, { brand: string; last4: string; decline?: { code: string; decline_code: string; message: string } }> = {
  pm_card_visa: { brand: 'visa', last4: '4242' },
  pm_card_mastercard: { brand: 'mastercard', last4: '4444' },
  pm_card_chargeDeclined: { brand: 'visa', last4: '0002', decline: { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' } },
  pm_card_chargeDeclinedInsufficientFunds: {
    brand: 'visa',
    last4: '9995',
    decline: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' },
  },
};

/**
 * Confirms a payment intent with its payment method: a card that pays makes a charge and the
 * intent `succeeded` (payment_intent.succeeded, charge.succeeded); a declining one answers 402
 * card_error and leaves it `requires_payment_method` (payment_intent.payment_failed, charge.failed).
 */
function confirmPaymentIntent(ctx: ProviderContext<StripeState>, intent: Record<string, any>, req?: SandboxRequest): SandboxResponse {
  const method = TEST_PAYMENT_METHODS[intent.payment_method as string]!;
  const now = Math.floor(ctx.now() / 1000);
  const charge = {
    id: sid('ch'),
    object: 'charge',
    amount: intent.amount,
    amount_captured: method.decline ? 0 : intent.amount,
    amount_refunded: 0,
    balance_transaction: method.decline ? null : sid('txn'),
    captured: !method.decline,
    created: now,
    currency: intent.currency,
    customer: intent.customer,
    description: intent.description,
    failure_code: method.decline?.code ?? null,
    failure_message: method.decline?.message ?? null,
    livemode: false,
    metadata: intent.metadata,
    outcome: method.decline
      ? {
          network_status: 'declined_by_network',
          reason: method.decline.decline_code,
          risk_level: 'normal',
          seller_message: 'The bank did not return any further details with this decline.',
          type: 'issuer_declined',
        }
      : { network_status: 'approved_by_network', reason: null, risk_level: 'normal', seller_message: 'Payment complete.', type: 'authorized' },
    paid: !method.decline,
    payment_intent: intent.id,
    payment_method: intent.payment_method,
    payment_method_details: { type: 'card', card: { brand: method.brand, last4: method.last4, exp_month: 12, exp_year: 2034, country: 'US', funding: 'credit' } },
    receipt_url: method.decline ? null : `https://pay.stripe.com/receipts/sandbox/${intent.id}`,
    refunded: false,
    status: method.decline ? 'failed' : 'succeeded',
  };
  ctx.state.charges.unshift(charge);
  intent.latest_charge = charge.id;
  if (method.decline) {
    intent.status = 'requires_payment_method';
    intent.last_payment_error = { ...method.decline, charge: charge.id, type: 'card_error', doc_url: `https://stripe.com/docs/error-codes/${method.decline.code}` };
    intent.payment_method = null;
    emit(ctx, 'charge.failed', charge, req);
    emit(ctx, 'payment_intent.payment_failed', intent, req);
    return stripeError(402, 'card_error', method.decline.message, {
      code: method.decline.code,
      decline_code: method.decline.decline_code,
      charge: charge.id,
      doc_url: `https://stripe.com/docs/error-codes/${method.decline.code}`,
      payment_intent: intent,
    });
  }
  intent.status = 'succeeded';
  intent.amount_received = intent.amount;
  intent.last_payment_error = null;
  emit(ctx, 'charge.succeeded', charge, req);
  emit(ctx, 'payment_intent.succeeded', intent, req);
  return json(200, intent);
}

function createPaymentIntent(ctx: ProviderContext<StripeState>, p: Record<string, any>, req?: SandboxRequest): SandboxResponse {
  if (p.amount === undefined) return missing('amount');
  if (!/^\d+$/.test(String(p.amount))) return stripeError(400, 'invalid_request_error', `Invalid integer: ${p.amount}`, { param: 'amount' });
  if (!p.currency) return missing('currency');
  if (Number(p.amount) < 50) {
    return stripeError(400, 'invalid_request_error', 'Amount must be at least $0.50 usd', {
      code: 'amount_too_small',
      param: 'amount',
      doc_url: 'https://stripe.com/docs/error-codes/amount-too-small',
    });
  }
  if (p.customer && !ctx.state.customers.some((c) => c.id === p.customer)) return noSuch('customer', p.customer, 'customer');
  if (p.payment_method && !TEST_PAYMENT_METHODS[p.payment_method]) return noSuch('PaymentMethod', p.payment_method, 'payment_method');
  const id = sid('pi');
  const intent: Record<string, any> = {
    id,
    object: 'payment_intent',
    amount: Number(p.amount),
    amount_capturable: 0,
    amount_received: 0,
    automatic_payment_methods: null,
    canceled_at: null,
    capture_method: 'automatic',
    client_secret: `${id}_secret_${randomBytes(12).toString('hex')}`,
    confirmation_method: 'automatic',
    created: Math.floor(ctx.now() / 1000),
    currency: String(p.currency).toLowerCase(),
    customer: p.customer ?? null,
    description: p.description ?? null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata: p.metadata ?? {},
    payment_method: p.payment_method ?? null,
    payment_method_types: ['card'],
    receipt_email: p.receipt_email ?? null,
    status: p.payment_method ? 'requires_confirmation' : 'requires_payment_method',
  };
  ctx.state.paymentIntents.unshift(intent);
  emit(ctx, 'payment_intent.created', intent, req);
  if (p.confirm === 'true') {
    if (!intent.payment_method) {
      return stripeError(
        400,
        'invalid_request_error',
        "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.",
        { code: 'payment_intent_unexpected_state' },
      );
    }
    return confirmPaymentIntent(ctx, intent, req);
  }
  return json(200, intent);
}

const TICK_PEOPLE = ['Ava Patel', 'Noah Kim', 'Mia Rossi', 'Leo Novak', 'Zoe Martin'];

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
      return stripeError(
        401,
        'invalid_request_error',
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      );
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
              return stripeError(400, 'invalid_request_error', `Received unknown parameter: ${k}`, {
                param: k,
                doc_url: 'https://stripe.com/docs/error-codes/parameter-unknown',
                code: 'parameter_unknown',
              });
            }
          }
          const c = createCustomer(ctx, p, req);
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
        return list(items, req, '/v1/customers', 'customer');
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
        if (!filter)
          return stripeError(400, 'invalid_request_error', `The query \`${query}\` is invalid. See https://stripe.com/docs/search#search-query-language.`, { param: 'query' });
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
        return list(items as { id: string }[], req, '/v1/charges', 'charge');
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
    {
      method: 'POST',
      path: '/v1/payment_intents',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        return idempotent(req, ctx.state, apiKeyOf(req), () => createPaymentIntent(ctx, unflatten((req.body ?? {}) as Record<string, string>), req));
      },
    },
    {
      method: 'GET',
      path: '/v1/payment_intents/:id',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const intent = ctx.state.paymentIntents.find((x) => x.id === req.params.id);
        return intent ? json(200, intent) : noSuch('payment_intent', req.params.id!, 'intent');
      },
    },
    {
      method: 'POST',
      path: '/v1/payment_intents/:id/confirm',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        return idempotent(req, ctx.state, apiKeyOf(req), () => {
          const intent = ctx.state.paymentIntents.find((x) => x.id === req.params.id) as Record<string, any> | undefined;
          if (!intent) return noSuch('payment_intent', req.params.id!, 'intent');
          const p = unflatten((req.body ?? {}) as Record<string, string>);
          if (!['requires_payment_method', 'requires_confirmation'].includes(intent.status)) {
            return stripeError(
              400,
              'invalid_request_error',
              `This PaymentIntent's status is ${intent.status}, but must be one of requires_payment_method, requires_confirmation to be confirmed.`,
              {
                code: 'payment_intent_unexpected_state',
                payment_intent: intent,
              },
            );
          }
          if (p.payment_method) {
            if (!TEST_PAYMENT_METHODS[p.payment_method]) return noSuch('PaymentMethod', p.payment_method, 'payment_method');
            intent.payment_method = p.payment_method;
          }
          if (!intent.payment_method) return missing('payment_method');
          return confirmPaymentIntent(ctx, intent, req);
        });
      },
    },
    {
      method: 'POST',
      path: '/v1/webhook_endpoints',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        return idempotent(req, ctx.state, apiKeyOf(req), () => {
          const p = unflatten((req.body ?? {}) as Record<string, string>);
          if (!p.url) return missing('url');
          if (!/^https?:\/\/[^\s]+$/.test(p.url)) return stripeError(400, 'invalid_request_error', 'Invalid URL: URL must be publicly accessible.', { param: 'url' });
          // enabled_events[]=a&enabled_events[]=b or enabled_events[0]=a…
          const events = [...new URLSearchParams(req.rawBody).entries()].filter(([k]) => /^enabled_events\[\d*\]$/.test(k)).map(([, v]) => v);
          if (events.length === 0) return missing('enabled_events');
          const bad = events.findIndex((e) => !EVENT_TYPES.has(e));
          if (bad >= 0)
            return stripeError(400, 'invalid_request_error', `Invalid enabled_events[${bad}]: must be one of ${[...EVENT_TYPES].join(', ')}`, { param: `enabled_events[${bad}]` });
          const endpoint: StripeWebhookEndpoint = {
            id: sid('we'),
            object: 'webhook_endpoint',
            api_version: p.api_version ?? null,
            application: null,
            created: Math.floor(ctx.now() / 1000),
            description: p.description ?? null,
            enabled_events: [...new Set(events)],
            livemode: false,
            metadata: p.metadata ?? {},
            secret: `whsec_${randomBytes(24)
              .toString('base64')
              .replace(/[^A-Za-z0-9]/g, '')}`,
            status: 'enabled',
            url: p.url,
          };
          ctx.state.webhookEndpoints.unshift(endpoint);
          return json(200, endpoint);
        });
      },
    },
    {
      method: 'GET',
      path: '/v1/webhook_endpoints',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        // The secret is answered only on creation.
        return list(
          ctx.state.webhookEndpoints.map(({ secret: _secret, ...e }) => e),
          req,
          '/v1/webhook_endpoints',
          'webhook_endpoint',
        );
      },
    },
    {
      method: 'GET',
      path: '/v1/webhook_endpoints/:id',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const endpoint = ctx.state.webhookEndpoints.find((e) => e.id === req.params.id);
        if (!endpoint) return noSuch('webhook_endpoint', req.params.id!, 'id');
        const { secret: _secret, ...shown } = endpoint;
        return json(200, shown);
      },
    },
    {
      method: 'DELETE',
      path: '/v1/webhook_endpoints/:id',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const endpoint = ctx.state.webhookEndpoints.find((e) => e.id === req.params.id);
        if (!endpoint) return noSuch('webhook_endpoint', req.params.id!, 'id');
        ctx.state.webhookEndpoints = ctx.state.webhookEndpoints.filter((e) => e !== endpoint);
        return json(200, { id: endpoint.id, object: 'webhook_endpoint', deleted: true });
      },
    },
    {
      method: 'GET',
      path: '/v1/events',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        // type=customer.* matches a prefix; types[]=… several exact types.
        const type = req.query.get('type');
        const types = [...req.query.entries()].filter(([k]) => /^types\[\d*\]$/.test(k)).map(([, v]) => v);
        const matchesType = (t: string) => (!type || (type.endsWith('.*') ? t.startsWith(type.slice(0, -1)) : t === type)) && (types.length === 0 || types.includes(t));
        return list(
          ctx.state.events.filter((e) => matchesType(e.type)),
          req,
          '/v1/events',
          'event',
        );
      },
    },
    {
      method: 'GET',
      path: '/v1/events/:id',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const event = ctx.state.events.find((e) => e.id === req.params.id);
        return event ? json(200, event) : noSuch('event', req.params.id!, 'id');
      },
    },
  ],
  /** A new customer signs up and pays at once, as a shop's customers would. */
  tick(ctx) {
    const n = ctx.state.ticks++;
    const name = TICK_PEOPLE[n % TICK_PEOPLE.length]!;
    const customer = createCustomer(ctx, { name, email: `${name.split(' ')[0]!.toLowerCase()}.${n + 1}@example.test` });
    createPaymentIntent(ctx, {
      amount: String(1900 + (n % 5) * 1000),
      currency: 'usd',
      customer: customer.id,
      payment_method: 'pm_card_visa',
      confirm: 'true',
      description: 'Pro plan',
    });
  },
};
