import { createHash, createHmac, randomUUID } from 'node:crypto';
import { bearerToken, intParam, isoNow, json, ProviderContext, ProviderModule, SandboxRequest, SandboxResponse } from '../core';
import { overBudget, throttle, Throttle } from './throttle';

export interface HubSpotRecord {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  associations: { toId: string; typeId: number }[];
}

export interface HubSpotState {
  contacts: HubSpotRecord[];
  deals: HubSpotRecord[];
  pipelines: {
    id: string;
    label: string;
    displayOrder: number;
    archived: boolean;
    stages: { id: string; label: string; displayOrder: number; metadata: Record<string, string> }[];
  }[];
  nextId: number;
  /** Webhook event ids (HubSpot's are numbers, unique per app). */
  nextEventId: number;
  /** How many times tick() ran: names the next deal. */
  ticks: number;
  /** The search API's per-token budget: HubSpot allows 5 requests a second; high here so tests trip it only on purpose. */
  searchThrottle: Throttle;
}

function hsError(status: number, category: string, message: string, extra: Record<string, unknown> = {}): SandboxResponse {
  return json(status, { status: 'error', message, correlationId: randomUUID(), category, ...extra });
}

const CONTACT_PROPERTIES = ['email', 'firstname', 'lastname', 'phone', 'company', 'website', 'jobtitle', 'lifecyclestage', 'city', 'country'];
const DEAL_PROPERTIES = ['dealname', 'amount', 'pipeline', 'dealstage', 'closedate', 'hubspot_owner_id', 'description', 'dealtype'];

function stage(id: string, label: string, order: number, probability: string, closed = false) {
  return {
    id,
    label,
    displayOrder: order,
    metadata: { isClosed: String(closed), probability },
    createdAt: '2024-01-01T00:00:00Z',
    updatedAt: '2024-01-01T00:00:00Z',
    archived: false,
  };
}

function seed(): HubSpotState {
  const now = isoNow(Date.parse('2026-01-10T09:00:00Z'));
  const contact = (id: string, email: string, firstname: string, lastname: string, company: string): HubSpotRecord => ({
    id,
    properties: { email, firstname, lastname, company, createdate: now, lastmodifieddate: now, hs_object_id: id },
    createdAt: now,
    updatedAt: now,
    archived: false,
    associations: [],
  });
  return {
    contacts: [contact('51', 'maria@globex.test', 'Maria', 'Johnson', 'Globex Corporation'), contact('101', 'li@initech.test', 'Li', 'Chen', 'Initech')],
    deals: [],
    pipelines: [
      {
        id: 'default',
        label: 'Sales Pipeline',
        displayOrder: 0,
        archived: false,
        stages: [
          stage('appointmentscheduled', 'Appointment Scheduled', 0, '0.2'),
          stage('qualifiedtobuy', 'Qualified To Buy', 1, '0.4'),
          stage('presentationscheduled', 'Presentation Scheduled', 2, '0.6'),
          stage('decisionmakerboughtin', 'Decision Maker Bought-In', 3, '0.8'),
          stage('contractsent', 'Contract Sent', 4, '0.9'),
          stage('closedwon', 'Closed Won', 5, '1.0', true),
          stage('closedlost', 'Closed Lost', 6, '0.0', true),
        ],
      },
      {
        id: '75e28846-ad0d-4be2-a027-5e1da6590b98',
        label: 'Partner Deals',
        displayOrder: 1,
        archived: false,
        stages: [stage('1001', 'Intro', 0, '0.1'), stage('1002', 'Negotiation', 1, '0.5'), stage('1003', 'Signed', 2, '1.0', true)],
      },
      { id: '9b1f', label: 'Old Renewals', displayOrder: 2, archived: true, stages: [stage('2001', 'Renewal due', 0, '0.5')] },
    ],
    nextId: 1001,
    nextEventId: 1,
    ticks: 0,
    searchThrottle: throttle(1000, 1),
  };
}

function validate(props: unknown, allowed: string[]): SandboxResponse | Record<string, string> {
  if (!props || typeof props !== 'object' || Array.isArray(props)) {
    return hsError(400, 'VALIDATION_ERROR', 'Invalid input JSON on line 1 : properties must be an object');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props as Record<string, unknown>)) {
    if (!allowed.includes(k)) {
      return hsError(
        400,
        'VALIDATION_ERROR',
        `Property values were not valid: [{"isValid":false,"message":"Property \\"${k}\\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"${k}"}]`,
      );
    }
    out[k] = v === null ? '' : String(v);
  }
  return out;
}

function output(r: HubSpotRecord) {
  const { associations: _a, ...rest } = r;
  return rest;
}

function create(kind: 'contacts' | 'deals', req: SandboxRequest, state: HubSpotState, now: number): SandboxResponse {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const props = validate(body.properties, kind === 'contacts' ? CONTACT_PROPERTIES : DEAL_PROPERTIES);
  if ('status' in props && typeof props.status === 'number') return props as SandboxResponse;
  const properties = props as Record<string, string>;
  if (kind === 'contacts' && properties.email) {
    const existing = state.contacts.find((c) => c.properties.email?.toLowerCase() === properties.email!.toLowerCase());
    if (existing) return hsError(409, 'CONFLICT', `Contact already exists. Existing ID: ${existing.id}`);
  }
  if (kind === 'deals') {
    const pipeline = state.pipelines.find((p) => p.id === (properties.pipeline ?? 'default'));
    if (!pipeline) return hsError(400, 'VALIDATION_ERROR', `Property values were not valid: pipeline "${properties.pipeline}" does not exist`);
    properties.pipeline = pipeline.id;
    properties.dealstage ??= pipeline.stages[0]!.id;
    if (!pipeline.stages.some((s) => s.id === properties.dealstage)) {
      return hsError(400, 'VALIDATION_ERROR', `Property values were not valid: dealstage "${properties.dealstage}" is not a stage of pipeline ${pipeline.id}`);
    }
  }
  const associations: HubSpotRecord['associations'] = [];
  for (const assoc of Array.isArray(body.associations) ? body.associations : []) {
    const toId = String((assoc as { to?: { id?: unknown } }).to?.id ?? '');
    if (!state.contacts.some((c) => c.id === toId)) return hsError(400, 'VALIDATION_ERROR', `One or more associations are invalid: contact ${toId} not found`);
    associations.push({ toId, typeId: Number((assoc as { types?: { associationTypeId?: number }[] }).types?.[0]?.associationTypeId ?? 0) });
  }
  const id = String(state.nextId++);
  const at = isoNow(now);
  const record: HubSpotRecord = {
    id,
    properties: { ...properties, createdate: at, [modifiedProperty(kind)]: at, hs_object_id: id },
    createdAt: at,
    updatedAt: at,
    archived: false,
    associations,
  };
  state[kind].push(record);
  return json(201, output(record));
}

/** Contacts keep their last change in `lastmodifieddate`, other objects in `hs_lastmodifieddate`. */
function modifiedProperty(kind: 'contacts' | 'deals'): string {
  return kind === 'contacts' ? 'lastmodifieddate' : 'hs_lastmodifieddate';
}

function update(kind: 'contacts' | 'deals', req: SandboxRequest, ctx: ProviderContext<HubSpotState>, portalId: string): SandboxResponse {
  const record = ctx.state[kind].find((c) => c.id === req.params.id);
  if (!record) return json(404, { status: 'error', message: 'resource not found', correlationId: randomUUID(), category: 'OBJECT_NOT_FOUND' });
  const props = validate((req.body as Record<string, unknown> | undefined)?.properties, kind === 'contacts' ? CONTACT_PROPERTIES : DEAL_PROPERTIES);
  if ('status' in props && typeof props.status === 'number') return props as SandboxResponse;
  const changes = props as Record<string, string>;
  if (kind === 'deals' && changes.dealstage) {
    const pipeline = ctx.state.pipelines.find((p) => p.id === (changes.pipeline ?? record.properties.pipeline));
    if (!pipeline?.stages.some((s) => s.id === changes.dealstage)) {
      return hsError(400, 'VALIDATION_ERROR', `Property values were not valid: dealstage "${changes.dealstage}" is not a stage of pipeline ${pipeline?.id}`);
    }
  }
  const changed = Object.entries(changes).filter(([k, v]) => record.properties[k] !== v);
  const at = isoNow(ctx.now());
  Object.assign(record.properties, changes, { [modifiedProperty(kind)]: at });
  record.updatedAt = at;
  if (kind === 'deals') {
    emitEvents(
      ctx,
      changed.map(([propertyName, propertyValue]) => ({ portalId, type: 'deal.propertyChange', objectId: record.id, extra: { propertyName, propertyValue } })),
    );
  }
  return json(200, output(record));
}

/** HubSpot's answer when the search API's per-second limit is exceeded. */
function searchRateLimited(req: SandboxRequest, ctx: ProviderContext<HubSpotState>): SandboxResponse | undefined {
  ctx.state.searchThrottle ??= throttle(1000, 1); // absent in state files written before it existed
  const wait = overBudget(ctx.state.searchThrottle, bearerToken(req) ?? '', ctx.now());
  if (wait === null) return undefined;
  return {
    status: 429,
    headers: { 'retry-after': String(wait) },
    body: {
      status: 'error',
      message: 'You have reached your secondly limit.',
      errorType: 'RATE_LIMIT',
      correlationId: randomUUID(),
      policyName: 'SECONDLY',
      groupName: 'publicapi:search',
    },
  };
}

// ---- Search: POST /crm/v3/objects/{type}/search (filterGroups ORed, filters ANDed, one sort)

const DATE_PROPERTIES = new Set(['createdate', 'lastmodifieddate', 'hs_lastmodifieddate', 'closedate']);
const OPERATORS = ['EQ', 'NEQ', 'LT', 'LTE', 'GT', 'GTE', 'HAS_PROPERTY', 'NOT_HAS_PROPERTY', 'CONTAINS_TOKEN', 'IN'];

function comparable(property: string, value: unknown): number | string | null {
  if (value === null || value === undefined || value === '') return null;
  const text = String(value);
  if (DATE_PROPERTIES.has(property)) return /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text.toLowerCase();
}

function filterMatches(record: HubSpotRecord, f: { propertyName: string; operator: string; value?: unknown; values?: unknown[] }): boolean {
  const actual = comparable(f.propertyName, record.properties[f.propertyName]);
  const wanted = comparable(f.propertyName, f.value);
  switch (f.operator) {
    case 'HAS_PROPERTY':
      return actual !== null;
    case 'NOT_HAS_PROPERTY':
      return actual === null;
    case 'EQ':
      return actual === wanted;
    case 'NEQ':
      return actual !== wanted;
    case 'IN':
      return (f.values ?? []).some((v) => comparable(f.propertyName, v) === actual);
    case 'CONTAINS_TOKEN':
      return typeof actual === 'string' && typeof wanted === 'string' && actual.includes(wanted.replace(/\*/g, ''));
  }
  if (actual === null || wanted === null) return false;
  if (f.operator === 'LT') return actual < wanted;
  if (f.operator === 'LTE') return actual <= wanted;
  if (f.operator === 'GT') return actual > wanted;
  return actual >= wanted;
}

function searchRecords(kind: 'contacts' | 'deals', req: SandboxRequest, state: HubSpotState): SandboxResponse {
  const body = (req.body ?? {}) as {
    filterGroups?: { filters?: Record<string, unknown>[] }[];
    sorts?: ({ propertyName?: string; direction?: string } | string)[];
    query?: string;
    properties?: string[];
    limit?: unknown;
    after?: unknown;
  };
  const groups = body.filterGroups ?? [];
  if (groups.length > 5) return hsError(400, 'VALIDATION_ERROR', 'Too many filter groups. The maximum number of filter groups is 5.');
  const filters = groups.flatMap((g) => g.filters ?? []);
  if (filters.length > 18) return hsError(400, 'VALIDATION_ERROR', 'Too many filters. The maximum number of filters is 18.');
  for (const f of filters) {
    if (!OPERATORS.includes(String(f.operator)))
      return hsError(400, 'VALIDATION_ERROR', `Invalid input JSON on line 1 : Cannot deserialize value of type \`FilterOperatorEnum\` from String "${f.operator}"`);
  }
  if ((body.sorts ?? []).length > 1) return hsError(400, 'VALIDATION_ERROR', 'Only one sort is supported.');
  const limit = intParam(body.limit, 10, 1, Number.MAX_SAFE_INTEGER);
  if (limit > 200) return hsError(400, 'VALIDATION_ERROR', 'limit must be less than or equal to 200');
  const offset = intParam(body.after, 0, 0, Number.MAX_SAFE_INTEGER);
  if (offset >= 10000) return hsError(400, 'VALIDATION_ERROR', 'Search results are limited to 10,000 records; narrow the filters.');
  const query = typeof body.query === 'string' ? body.query.toLowerCase() : '';
  let matched = state[kind].filter(
    (r) =>
      !r.archived &&
      (groups.length === 0 || groups.some((g) => (g.filters ?? []).every((f) => filterMatches(r, f as Parameters<typeof filterMatches>[1])))) &&
      (!query || Object.values(r.properties).some((v) => typeof v === 'string' && v.toLowerCase().includes(query))),
  );
  const sort = body.sorts?.[0];
  const sortProperty = typeof sort === 'string' ? sort : (sort?.propertyName ?? 'hs_object_id');
  const descending = typeof sort === 'object' && sort.direction === 'DESCENDING';
  matched = [...matched].sort((x, y) => {
    const a = comparable(sortProperty, x.properties[sortProperty]) ?? '';
    const b = comparable(sortProperty, y.properties[sortProperty]) ?? '';
    return (a < b ? -1 : a > b ? 1 : Number(x.id) - Number(y.id)) * (descending ? -1 : 1);
  });
  const wanted = body.properties?.length
    ? body.properties
    : kind === 'deals'
      ? ['dealname', 'amount', 'closedate', 'pipeline', 'dealstage', 'createdate', 'hs_lastmodifieddate', 'hs_object_id']
      : ['email', 'firstname', 'lastname', 'createdate', 'lastmodifieddate', 'hs_object_id'];
  const results = matched.slice(offset, offset + limit).map((r) => ({
    ...output(r),
    properties: Object.fromEntries(wanted.map((p) => [p, r.properties[p] ?? null])),
  }));
  const answer: Record<string, unknown> = { total: matched.length, results };
  if (offset + limit < matched.length) answer.paging = { next: { after: String(offset + limit), link: `?after=${offset + limit}` } };
  return json(200, answer);
}

// ---- Webhooks: batched JSON arrays to each app's target URL, signed with its client secret

const APP_ID = 123456;

/**
 * Sends one batch of events to every HubSpot app (OAuth client) with a webhook target URL — the
 * sandbox does not track which portals installed which app, so each app hears every portal;
 * `portalId` says whose. Signed v3 (and v1, which HubSpot still sends) with the app's secret.
 */
function emitEvents(ctx: ProviderContext<HubSpotState>, events: { portalId: string; type: string; objectId: string; extra?: Record<string, unknown> }[]): void {
  if (events.length === 0) return;
  const occurredAt = ctx.now();
  const nextEventId = () => {
    const id = ctx.state.nextEventId ?? 1; // absent in state files written before webhooks existed
    ctx.state.nextEventId = id + 1;
    return id;
  };
  const batch = events.map((e) => ({
    eventId: nextEventId(),
    subscriptionId: { 'deal.creation': 2101, 'contact.creation': 2102, 'deal.propertyChange': 2103 }[e.type] ?? 2100,
    portalId: Number(e.portalId),
    appId: APP_ID,
    occurredAt,
    subscriptionType: e.type,
    attemptNumber: 0,
    objectId: Number(e.objectId),
    changeFlag: e.type.endsWith('.creation') ? 'NEW' : undefined,
    changeSource: 'INTEGRATION',
    ...e.extra,
  }));
  const body = JSON.stringify(batch);
  const timestamp = String(ctx.now());
  for (const app of ctx.appClients()) {
    // The URI as HubSpot signs it: these characters decoded, the rest left as they are.
    const decodedUri = app.webhookUrl.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => decodeURIComponent(m));
    ctx.deliver({
      url: app.webhookUrl,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon',
        'x-hubspot-signature-version': 'v1',
        'x-hubspot-signature': createHash('sha256').update(`${app.clientSecret}${body}`).digest('hex'),
        'x-hubspot-signature-v3': createHmac('sha256', app.clientSecret).update(`POST${decodedUri}${body}${timestamp}`).digest('base64'),
        'x-hubspot-request-timestamp': timestamp,
      },
      body,
    });
  }
}

/** A churning demo sandbox keeps this many contacts and deals each, dropping the oldest. */
const MAX_RECORDS = 5000;

const TICK_COMPANIES = ['Initech', 'Umbrella', 'Hooli', 'Vehement Capital', 'Soylent', 'Wonka Industries', 'Stark Industries', 'Cyberdyne'];

export const hubspotSandbox: ProviderModule<HubSpotState> = {
  key: 'hubspot',
  displayName: 'HubSpot',
  accounts: [
    { id: '44556677', name: 'Jane Cooper', email: 'jane@acme.test', uiDomain: 'app.hubspot.com', hub_domain: 'acme-sandbox.com' },
    { id: '99887766', name: 'Hank Scorpio', email: 'hank@globex.test', uiDomain: 'app-eu1.hubspot.com', hub_domain: 'globex.test' },
  ],
  tokenPrefix: { access: 'CNsandbox', refresh: 'na1-sandbox-' },
  oauth: {
    authorizePath: '/oauth/authorize',
    tokenPath: '/oauth/v1/token',
    defaultTtlSeconds: 1800,
    tokenError(kind, description) {
      const status = {
        invalid_code: 'BAD_AUTH_CODE',
        invalid_refresh_token: 'BAD_REFRESH_TOKEN',
        invalid_client: 'BAD_CLIENT_ID',
        redirect_uri_mismatch: 'BAD_REDIRECT_URI',
        invalid_request: 'BAD_REQUEST',
        unsupported_grant_type: 'BAD_GRANT_TYPE',
      }[kind];
      return json(400, { status, message: description, correlationId: randomUUID() });
    },
    tokenResponse(issued) {
      return {
        token_type: 'bearer',
        refresh_token: issued.refreshToken,
        access_token: issued.accessToken,
        expires_in: Number.isFinite(issued.expiresIn) ? issued.expiresIn : undefined,
      };
    },
  },
  authError(reason) {
    if (reason === 'expired') return hsError(401, 'EXPIRED_AUTHENTICATION', 'The OAuth token used to make this call expired 1 second(s) ago.');
    if (reason === 'missing') return hsError(401, 'INVALID_AUTHENTICATION', 'Authentication credentials not found. This API supports OAuth 2.0 authentication.');
    return hsError(
      401,
      'INVALID_AUTHENTICATION',
      'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
    );
  },
  seed,
  /** A new contact signs up and a deal is opened for them: one batch of two events. */
  tick(ctx) {
    const n = ctx.state.ticks ?? 0; // absent in state files written before ticks existed
    ctx.state.ticks = n + 1;
    const company = TICK_COMPANIES[n % TICK_COMPANIES.length]!;
    const slug = company.toLowerCase().replace(/[^a-z]+/g, '');
    const noBody = { connector: 'hubspot', method: 'POST', path: '', query: new URLSearchParams(), headers: {}, rawBody: '', params: {} };
    const contact = create(
      'contacts',
      { ...noBody, body: { properties: { email: `buyer${n + 1}@${slug}.test`, firstname: 'Pat', lastname: `Buyer ${n + 1}`, company } } },
      ctx.state,
      ctx.now(),
    );
    const deal = create(
      'deals',
      { ...noBody, body: { properties: { dealname: `${company} — ${10 + (n % 9) * 5} seats`, amount: String(1200 + (n % 7) * 800) } } },
      ctx.state,
      ctx.now(),
    );
    for (const list of [ctx.state.contacts, ctx.state.deals]) if (list.length > MAX_RECORDS) list.splice(0, list.length - MAX_RECORDS);
    const portalId = hubspotSandbox.accounts[0]!.id;
    emitEvents(ctx, [
      ...(contact.status === 201 ? [{ portalId, type: 'contact.creation', objectId: (contact.body as { id: string }).id }] : []),
      { portalId, type: 'deal.creation', objectId: (deal.body as { id: string }).id },
    ]);
  },
  routes: [
    {
      method: 'GET',
      path: '/account-info/v3/details',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        return json(200, {
          portalId: Number(a.account.id),
          accountType: 'STANDARD',
          timeZone: 'US/Eastern',
          companyCurrency: 'USD',
          additionalCurrencies: [],
          utcOffset: '-05:00',
          utcOffsetMilliseconds: -18000000,
          uiDomain: a.account.uiDomain,
          dataHostingLocation: 'na1',
        });
      },
    },
    {
      method: 'GET',
      path: '/oauth/v1/access-tokens/:token',
      handler(req, ctx) {
        const a = ctx.authorize({ ...req, headers: { ...req.headers, authorization: `Bearer ${req.params.token}` } });
        if ('error' in a) return json(404, { status: 'error', message: 'Token not found', correlationId: randomUUID() });
        return json(200, {
          token: req.params.token,
          user: a.account.email,
          hub_domain: a.account.hub_domain,
          scopes: a.scope,
          hub_id: Number(a.account.id),
          app_id: 123456,
          expires_in: 1800,
          user_id: 7777777,
          token_type: 'access',
        });
      },
    },
    {
      method: 'GET',
      path: '/crm/v3/pipelines/deals',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        return json(200, {
          results: ctx.state.pipelines.map((p) => ({ ...p, createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-01-01T00:00:00Z' })),
        });
      },
    },
    {
      method: 'POST',
      path: '/crm/v3/objects/contacts',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const answer = create('contacts', req, ctx.state, ctx.now());
        if (answer.status === 201) emitEvents(ctx, [{ portalId: a.account.id, type: 'contact.creation', objectId: (answer.body as { id: string }).id }]);
        return answer;
      },
    },
    {
      method: 'POST',
      path: '/crm/v3/objects/deals',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const answer = create('deals', req, ctx.state, ctx.now());
        if (answer.status === 201) emitEvents(ctx, [{ portalId: a.account.id, type: 'deal.creation', objectId: (answer.body as { id: string }).id }]);
        return answer;
      },
    },
    {
      method: 'POST',
      path: '/crm/v3/objects/:kind/search',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        if (req.params.kind !== 'contacts' && req.params.kind !== 'deals') return hsError(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${req.params.kind}`);
        const limited = searchRateLimited(req, ctx);
        if (limited) return limited;
        return searchRecords(req.params.kind, req, ctx.state);
      },
    },
    {
      method: 'GET',
      path: '/crm/v3/objects/:kind/:id',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const list = req.params.kind === 'contacts' ? ctx.state.contacts : req.params.kind === 'deals' ? ctx.state.deals : undefined;
        const record = list?.find((r) => r.id === req.params.id);
        return record ? json(200, output(record)) : json(404, { status: 'error', message: 'resource not found', correlationId: randomUUID(), category: 'OBJECT_NOT_FOUND' });
      },
    },
    {
      method: 'PATCH',
      path: '/crm/v3/objects/:kind/:id',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        if (req.params.kind !== 'contacts' && req.params.kind !== 'deals')
          return json(404, { status: 'error', message: 'resource not found', correlationId: randomUUID(), category: 'OBJECT_NOT_FOUND' });
        return update(req.params.kind, req, ctx, a.account.id);
      },
    },
  ],
};
