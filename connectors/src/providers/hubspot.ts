import { send } from '../runtime';
import { defineAction, defineConnector } from '../types';
import { logo, matches, obj, pageLocally, res, str } from './shared';

export interface HubSpotObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

const propertiesSchema = {
  type: 'object',
  title: 'Other properties',
  description: 'HubSpot property internal names to values',
  additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
};

const objectOutput = res(
  { id: str('Id'), properties: { type: 'object', additionalProperties: { type: ['string', 'null'] } }, createdAt: str('Created'), updatedAt: str('Updated') },
  ['id', 'properties'],
);

function clean(values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== null) out[k] = String(v);
  return out;
}

const createContact = defineAction<
  { email: string; firstname?: string; lastname?: string; phone?: string; company?: string; properties?: Record<string, unknown> },
  HubSpotObject
>({
  name: 'Create contact',
  description: 'Creates a contact (POST /crm/v3/objects/contacts). Fails with 409 if the email exists.',
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

const updateContact = defineAction<{ contact_id: string; properties: Record<string, unknown> }, HubSpotObject>({
  name: 'Update contact',
  description: 'Updates properties of a contact (PATCH /crm/v3/objects/contacts/{id}).',
  // PATCH setting the same properties again changes nothing.
  retrySafe: true,
  input: obj({ contact_id: str('Contact id', { pattern: '^[0-9]+$' }), properties: { ...propertiesSchema, title: 'Properties', minProperties: 1 } }, [
    'contact_id',
    'properties',
  ]),
  output: objectOutput,
  async run(ctx, input) {
    return send<HubSpotObject>(ctx, {
      method: 'PATCH',
      path: `crm/v3/objects/contacts/${encodeURIComponent(input.contact_id)}`,
      body: { properties: clean(input.properties) },
    });
  },
});

const createDeal = defineAction<
  { dealname: string; amount?: number; pipeline?: string; dealstage?: string; closedate?: string; contact_id?: string; properties?: Record<string, unknown> },
  HubSpotObject
>({
  name: 'Create deal',
  description: 'Creates a deal, optionally associated with a contact (POST /crm/v3/objects/deals).',
  retrySafe: false,
  input: obj(
    {
      dealname: str('Deal name', { minLength: 1 }),
      amount: { type: 'number', title: 'Amount' },
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
  actions: { create_contact: createContact, update_contact: updateContact, create_deal: createDeal },
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

