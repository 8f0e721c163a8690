import { randomUUID } from 'node:crypto';
import { isoNow, json, ProviderModule, SandboxRequest, SandboxResponse } from '../core';

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
  pipelines: { id: string; label: string; displayOrder: number; archived: boolean; stages: { id: string; label: string; displayOrder: number; metadata: Record<string, string> }[] }[];
  nextId: number;
}

function hsError(status: number, category: string, message: string, extra: Record<string, unknown> = {}): SandboxResponse {
  return json(status, { status: 'error', message, correlationId: randomUUID(), category, ...extra });
}

const CONTACT_PROPERTIES = ['email', 'firstname', 'lastname', 'phone', 'company', 'website', 'jobtitle', 'lifecyclestage', 'city', 'country'];
const DEAL_PROPERTIES = ['dealname', 'amount', 'pipeline', 'dealstage', 'closedate', 'hubspot_owner_id', 'description', 'dealtype'];

function stage(id: string, label: string, order: number, probability: string, closed = false) {
  return { id, label, displayOrder: order, metadata: { isClosed: String(closed), probability }, createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-01-01T00:00:00Z', archived: false };
}

function seed(): HubSpotState {
  const now = isoNow(Date.parse('2026-01-10T09:00:00Z'));
  const contact = (id: string, email: string, firstname: string, lastname: string): HubSpotRecord => ({
    id,
    properties: { email, firstname, lastname, createdate: now, lastmodifieddate: now, hs_object_id: id },
    createdAt: now,
    updatedAt: now,
    archived: false,
    associations: [],
  });
  return {
    contacts: [contact('51', 'maria@globex.test', 'Maria', 'Johnson'), contact('101', 'li@initech.test', 'Li', 'Chen')],
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
  };
}

function validate(props: unknown, allowed: string[]): SandboxResponse | Record<string, string> {
  if (!props || typeof props !== 'object' || Array.isArray(props)) {
    return hsError(400, 'VALIDATION_ERROR', 'Invalid input JSON on line 1 : properties must be an object');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props as Record<string, unknown>)) {
    if (!allowed.includes(k)) {
      return hsError(400, 'VALIDATION_ERROR', `Property values were not valid: [{"isValid":false,"message":"Property \\"${k}\\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"${k}"}]`);
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
    properties: { ...properties, createdate: at, lastmodifieddate: at, hs_object_id: id },
    createdAt: at,
    updatedAt: at,
    archived: false,
    associations,
  };
  state[kind].push(record);
  return json(201, output(record));
}

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
      return { token_type: 'bearer', refresh_token: issued.refreshToken, access_token: issued.accessToken, expires_in: Number.isFinite(issued.expiresIn) ? issued.expiresIn : undefined };
    },
  },
  authError(reason) {
    if (reason === 'expired') return hsError(401, 'EXPIRED_AUTHENTICATION', 'The OAuth token used to make this call expired 1 second(s) ago.');
    if (reason === 'missing') return hsError(401, 'INVALID_AUTHENTICATION', 'Authentication credentials not found. This API supports OAuth 2.0 authentication.');
    return hsError(401, 'INVALID_AUTHENTICATION', 'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview');
  },
  seed,
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
        return create('contacts', req, ctx.state, ctx.now());
      },
    },
    {
      method: 'POST',
      path: '/crm/v3/objects/deals',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        return create('deals', req, ctx.state, ctx.now());
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
      path: '/crm/v3/objects/contacts/:id',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const record = ctx.state.contacts.find((c) => c.id === req.params.id);
        if (!record) return json(404, { status: 'error', message: 'resource not found', correlationId: randomUUID(), category: 'OBJECT_NOT_FOUND' });
        const props = validate((req.body as Record<string, unknown> | undefined)?.properties, CONTACT_PROPERTIES);
        if ('status' in props && typeof props.status === 'number') return props as SandboxResponse;
        const at = isoNow(ctx.now());
        Object.assign(record.properties, props, { lastmodifieddate: at });
        record.updatedAt = at;
        return json(200, output(record));
      },
    },
  ],
};
