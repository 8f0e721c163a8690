import { createHmac, timingSafeEqual } from 'node:crypto';
import { send } from '../runtime';
import { ActionContext, defineAction, defineConnector, definePollTrigger, defineWebhookTrigger, ProviderWebhooks, WebhookEvent, WebhookRequest } from '../types';
import { advance, HighWater, newest, seen } from './high-water';
import { bool, dict, int, logo, matches, nullable, num, obj, pageLocally, res, str, types } from './shared';

export interface HubSpotObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

const propertiesSchema = dict(types(['string', 'number', 'boolean', 'null']), { title: 'Other properties', description: 'HubSpot property internal names to values' });

const objectOutput = res({ id: str('Id'), properties: dict(nullable(str())), createdAt: str('Created'), updatedAt: str('Updated') }, ['id', 'properties']);

function clean(values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== null) out[k] = String(v);
  return out;
}

const createContact = defineAction({
  name: 'Create contact',
  description: 'Creates a contact (POST /crm/v3/objects/contacts). Fails with 409 if the email exists.',
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      email: str('Email', { format: 'email' }),
      firstname: str('First name'),
      lastname: str('Last name'),
      phone: str('Phone'),
      company: str('Company'),
      properties: propertiesSchema,
    },
    ['email'],
  ),
  output: objectOutput,
  async run(ctx, input) {
    const { properties, ...known } = input;
    return send<HubSpotObject>(ctx, { method: 'POST', path: 'crm/v3/objects/contacts', body: { properties: clean({ ...properties, ...known }) } });
  },
});

const updateContact = defineAction({
  name: 'Update contact',
  description: 'Updates properties of a contact (PATCH /crm/v3/objects/contacts/{id}).',
  // PATCH setting the same properties again changes nothing.
  readOnly: false,
  retrySafe: true,
  input: obj({ contact_id: str('Contact id', { pattern: '^[0-9]+$' }), properties: { ...propertiesSchema, title: 'Properties', minProperties: 1 } }, ['contact_id', 'properties']),
  output: objectOutput,
  async run(ctx, input) {
    return send<HubSpotObject>(ctx, {
      method: 'PATCH',
      path: `crm/v3/objects/contacts/${encodeURIComponent(input.contact_id)}`,
      body: { properties: clean(input.properties) },
    });
  },
});

const CONTACT_PROPERTIES = ['email', 'firstname', 'lastname', 'phone', 'company', 'jobtitle', 'lifecyclestage', 'createdate', 'lastmodifieddate'];

const findContact = defineAction({
  name: 'Find contact',
  description: 'Looks a contact up by email, with its name, company, phone and lifecycle stage (POST /crm/v3/objects/contacts/search).',
  readOnly: true,
  retrySafe: true,
  input: obj({ email: str('Email', { format: 'email' }) }, ['email']),
  output: res({ found: bool('Found'), contact: nullable(objectOutput) }, ['found', 'contact']),
  async run(ctx, input) {
    const { results } = await send<{ results: HubSpotObject[] }>(ctx, {
      method: 'POST',
      path: 'crm/v3/objects/contacts/search',
      body: { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: input.email }] }], properties: CONTACT_PROPERTIES, limit: 1 },
    });
    return { found: results.length > 0, contact: results[0] ?? null };
  },
});

const createDeal = defineAction({
  name: 'Create deal',
  description: 'Creates a deal, optionally associated with a contact (POST /crm/v3/objects/deals).',
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      dealname: str('Deal name', { minLength: 1 }),
      amount: num('Amount'),
      pipeline: str('Pipeline', { 'x-options': 'pipelines', default: 'default' }),
      dealstage: str('Stage', { description: 'Stage id in the pipeline, e.g. appointmentscheduled' }),
      closedate: str('Close date', { description: 'ISO 8601 date-time' }),
      contact_id: str('Associated contact id', { pattern: '^[0-9]+$' }),
      properties: propertiesSchema,
    },
    ['dealname'],
  ),
  output: objectOutput,
  async run(ctx, input) {
    const { properties, contact_id, ...known } = input;
    const body: Record<string, unknown> = { properties: clean({ pipeline: 'default', ...properties, ...known }) };
    if (contact_id) {
      // 3 = HUBSPOT_DEFINED "deal to contact".
      body.associations = [{ to: { id: contact_id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 3 }] }];
    }
    return send<HubSpotObject>(ctx, { method: 'POST', path: 'crm/v3/objects/deals', body });
  },
});

const updateDeal = defineAction({
  name: 'Update deal',
  description: 'Updates properties of a deal, e.g. its stage or amount (PATCH /crm/v3/objects/deals/{id}).',
  // PATCH setting the same properties again changes nothing.
  readOnly: false,
  retrySafe: true,
  input: obj({ deal_id: str('Deal id', { pattern: '^[0-9]+$' }), properties: { ...propertiesSchema, title: 'Properties', minProperties: 1 } }, ['deal_id', 'properties']),
  output: objectOutput,
  async run(ctx, input) {
    return send<HubSpotObject>(ctx, { method: 'PATCH', path: `crm/v3/objects/deals/${encodeURIComponent(input.deal_id)}`, body: { properties: clean(input.properties) } });
  },
});

// ---- Webhooks (app-level: one target URL per HubSpot app, events for every portal that installed it)

/** HubSpot's validation guide: refuse requests whose timestamp is older than five minutes (replays). */
const SIGNATURE_MAX_AGE_MS = 5 * 60 * 1000;

/** The characters HubSpot decodes in the URI before signing (its v3 validation guide). */
const SIGNED_URI_DECODED = /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi;

export function hubspotSignedUri(url: string): string {
  return url.replace(SIGNED_URI_DECODED, (m) => decodeURIComponent(m));
}

/** X-HubSpot-Signature-v3: base64 HMAC-SHA256(client secret, method + URI + body + timestamp). */
export function hubspotSignatureV3(clientSecret: string, method: string, url: string, rawBody: string | Buffer, timestamp: string): string {
  return createHmac('sha256', clientSecret)
    .update(`${method.toUpperCase()}${hubspotSignedUri(url)}`)
    .update(rawBody)
    .update(timestamp)
    .digest('base64');
}

/** One event of a delivery (deliveries are JSON arrays of up to 100). */
interface HubSpotEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  changeSource?: string;
  changeFlag?: string;
  propertyName?: string;
  propertyValue?: string;
}

const hubspotWebhooks: ProviderWebhooks = {
  routing: 'app',
  secret: 'client_secret',
  verify(req: WebhookRequest, clientSecret, now) {
    const signature = req.headers['x-hubspot-signature-v3'];
    const timestamp = req.headers['x-hubspot-request-timestamp'];
    if (!signature || !timestamp) return 'missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp';
    if (!/^\d+$/.test(timestamp) || Math.abs(now - Number(timestamp)) > SIGNATURE_MAX_AGE_MS) return 'timestamp too old';
    const expected = Buffer.from(hubspotSignatureV3(clientSecret, req.method, req.publicUrl, req.rawBody, timestamp));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given) ? null : 'signature mismatch';
  },
  events(req) {
    if (!Array.isArray(req.body)) return [];
    return (req.body as HubSpotEvent[])
      .filter((e) => e && e.eventId !== undefined && typeof e.subscriptionType === 'string')
      .map((e) => ({ id: String(e.eventId), type: e.subscriptionType, account: String(e.portalId), data: e as unknown as Record<string, unknown> }));
  },
  accountKey(connection) {
    // account() names a connection by its portal (hub) id.
    return connection.accountId;
  },
};

const eventOutput = res(
  {
    objectId: int('Record id'),
    portalId: int('Portal id'),
    occurredAt: int('When (ms since epoch)'),
    subscriptionType: str('Event type'),
    changeSource: str('Change source'),
    eventId: int('Event id'),
  },
  ['objectId', 'portalId', 'subscriptionType'],
);

function creationTrigger(kind: 'deal' | 'contact') {
  return defineWebhookTrigger({
    name: kind === 'deal' ? 'Deal created' : 'Contact created',
    description: `A ${kind} is created in the portal (app webhook ${kind}.creation); $trigger.objectId is its id.`,
    events: [`${kind}.creation`],
    output: eventOutput,
    map(event: WebhookEvent) {
      const data = event.data as unknown as HubSpotEvent;
      return { id: String(data.objectId), data: event.data };
    },
  });
}

// ---- Poll triggers: the CRM search API, by creation or last-modified time

const DEAL_PROPERTIES = ['dealname', 'amount', 'pipeline', 'dealstage', 'closedate', 'createdate', 'hs_lastmodifieddate', 'hs_object_id'];
/** The search API's largest page. */
const SEARCH_PAGE = 200;
/** Pages one poll reads at most (past items already seen at the cursor's timestamp). */
const SEARCH_PAGES_PER_POLL = 5;

interface SearchPage {
  total: number;
  results: HubSpotObject[];
  paging?: { next?: { after: string } };
}

function search(ctx: ActionContext, property: string, body: { gte?: string; direction: 'ASCENDING' | 'DESCENDING'; limit: number; after?: string }): Promise<SearchPage> {
  return send<SearchPage>(ctx, {
    method: 'POST',
    path: 'crm/v3/objects/deals/search',
    body: {
      // Datetime filters take milliseconds since the epoch.
      filterGroups: body.gte ? [{ filters: [{ propertyName: property, operator: 'GTE', value: String(Date.parse(body.gte)) }] }] : [],
      sorts: [{ propertyName: property, direction: body.direction }],
      properties: DEAL_PROPERTIES,
      limit: body.limit,
      after: body.after,
    },
  });
}

/**
 * Deals by `property` (createdate or hs_lastmodifieddate) after the cursor. The search API sorts by
 * one property only, so ties are not ordered: the filter is "at or after" the cursor's time and the
 * ids seen at that time are skipped.
 */
async function pollDeals(ctx: ActionContext, property: string, cursor: HighWater | null, limit: number) {
  const atOf = (d: HubSpotObject) => d.properties[property] ?? d.updatedAt;
  if (!cursor) {
    const page = await search(ctx, property, { direction: 'DESCENDING', limit: SEARCH_PAGE });
    return { ...newest(page.results, limit, atOf, (d) => d.id), more: false };
  }
  const candidates: HubSpotObject[] = [];
  let after: string | undefined;
  for (let i = 0; i < SEARCH_PAGES_PER_POLL; i++) {
    const page = await search(ctx, property, { gte: cursor.at, direction: 'ASCENDING', limit: SEARCH_PAGE, after });
    candidates.push(...page.results.filter((d) => !seen(cursor, atOf(d), d.id)));
    after = page.paging?.next?.after;
    if (!after || candidates.length > limit) break;
  }
  return advance(candidates, cursor, limit, atOf, (d) => d.id, after !== undefined);
}

const dealOutput = res(
  {
    id: str('Deal id'),
    properties: res(Object.fromEntries(DEAL_PROPERTIES.map((p) => [p, nullable(str())]))),
    createdAt: str('Created'),
    updatedAt: str('Updated'),
  },
  ['id', 'properties'],
);

const newDeal = definePollTrigger<HighWater>()({
  name: 'New deal',
  description: 'A deal is created (CRM search by createdate).',
  intervalSeconds: 300,
  // The search API allows 5 requests a second per account; deals show up in it within seconds.
  minIntervalSeconds: 60,
  output: dealOutput,
  async poll(ctx, { cursor, limit }) {
    const { taken, cursor: next, more } = await pollDeals(ctx, 'createdate', cursor, limit);
    return { items: taken.map((d) => ({ id: d.id, data: d as unknown as Record<string, unknown> })), cursor: next, more };
  },
});

const dealUpdated = definePollTrigger<HighWater>()({
  name: 'Deal updated',
  description: 'A deal is created or changed (CRM search by hs_lastmodifieddate); one run per change.',
  intervalSeconds: 300,
  minIntervalSeconds: 60,
  output: dealOutput,
  async poll(ctx, { cursor, limit }) {
    const { taken, cursor: next, more } = await pollDeals(ctx, 'hs_lastmodifieddate', cursor, limit);
    return {
      items: taken.map((d) => ({ id: d.id, dedupeKey: `${d.id}:${d.properties.hs_lastmodifieddate ?? d.updatedAt}`, data: d as unknown as Record<string, unknown> })),
      cursor: next,
      more,
    };
  },
});

export const hubspotConnector = defineConnector({
  key: 'hubspot',
  name: 'HubSpot',
  description: 'Create and update contacts and deals in HubSpot CRM.',
  logo: logo(
    '#FF7A59',
    '<circle cx="36" cy="36" r="10" fill="none" stroke="#fff" stroke-width="5"/><circle cx="18" cy="18" r="5" fill="#fff"/>' +
      '<path d="M21 21l9 9M36 14v12" stroke="#fff" stroke-width="4" stroke-linecap="round"/><circle cx="36" cy="12" r="4" fill="#fff"/>',
  ),
  categories: ['crm', 'marketing'],
  docsUrl: 'https://developers.hubspot.com/docs/api-reference/crm-contacts-v3/guide',
  auth: {
    type: 'oauth2',
    authorizationUrl: 'https://app.hubspot.com/oauth/authorize',
    tokenUrl: 'https://api.hubapi.com/oauth/v1/token',
    scopes: ['oauth', 'crm.objects.contacts.read', 'crm.objects.contacts.write', 'crm.objects.deals.read', 'crm.objects.deals.write'],
    scopeSeparator: ' ',
    pkce: false,
    clientAuthentication: 'client_secret_post',
    // Errors look like { status: 'BAD_REFRESH_TOKEN', message, correlationId } (HTTP 400).
    tokenResponse: { error: 'status' },
    invalidGrantErrors: ['BAD_AUTH_CODE', 'BAD_REFRESH_TOKEN'],
    // Access tokens live 30 minutes.
    refreshable: true,
  },
  baseUrl: 'https://api.hubapi.com',
  pagination: { style: 'cursor', cursorParam: 'after', nextCursorPath: 'paging.next.after', limitParam: 'limit' },
  // Public apps: 110 requests per 10 seconds per account.
  rateLimit: { requestsPerSecond: 10 },
  actions: { create_contact: createContact, update_contact: updateContact, find_contact: findContact, create_deal: createDeal, update_deal: updateDeal },
  triggers: { deal_created: creationTrigger('deal'), contact_created: creationTrigger('contact'), new_deal: newDeal, deal_updated: dealUpdated },
  webhooks: hubspotWebhooks,
  options: {
    pipelines: {
      name: 'Deal pipelines',
      async run(ctx, { search, cursor }) {
        const data = await send<{ results: { id: string; label: string; archived: boolean; stages: { id: string; label: string }[] }[] }>(ctx, {
          method: 'GET',
          path: 'crm/v3/pipelines/deals',
        });
        const items = data.results
          .filter((p) => !p.archived && matches(search, p.label, p.id))
          .map((p) => ({ value: p.id, label: p.label, description: `${p.stages.length} stages: ${p.stages.map((s) => s.label).join(', ')}` }));
        return pageLocally(items, cursor);
      },
    },
  },
  async account(ctx) {
    const info = await send<{ portalId: number; uiDomain?: string; accountType?: string; timeZone?: string }>(ctx, {
      method: 'GET',
      path: 'account-info/v3/details',
    });
    return {
      id: String(info.portalId),
      name: `HubSpot account ${info.portalId}${info.uiDomain ? ` (${info.uiDomain})` : ''}`,
      details: { accountType: info.accountType, timeZone: info.timeZone },
    };
  },
});
