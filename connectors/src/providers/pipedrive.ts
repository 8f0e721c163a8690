import type { Static } from '@sinclair/typebox';
import { send } from '../runtime';
import { ActionContext, defineAction, defineConnector, definePollTrigger, TriggerItem } from '../types';
import { int, logo, matches, nullable, num, obj, oneOf, pageLocally, res, str } from './shared';

/** Pipedrive v1 answers: `data` and, for lists, `additional_data.pagination`. */
interface PipedriveList<T> {
  success: boolean;
  data: T[] | null;
  additional_data?: { pagination?: { start: number; limit: number; more_items_in_collection: boolean; next_start?: number }; last_timestamp_on_page?: string };
}

/** A reference field: v1 answers an object with `value` (the id) where it was given a number. */
type Ref = number | { value: number; name?: string } | null;

export interface PipedriveDeal {
  id: number;
  title: string;
  value: number;
  currency: string;
  status: 'open' | 'won' | 'lost' | 'deleted';
  stage_id: number;
  pipeline_id: number;
  person_id: Ref;
  org_id: Ref;
  expected_close_date: string | null;
  /** UTC, "YYYY-MM-DD HH:MM:SS". */
  add_time: string;
  update_time: string;
}

const refId = (r: Ref): number | null => (r === null || r === undefined ? null : typeof r === 'number' ? r : r.value);

const dealOutput = res(
  {
    id: int('Deal id'),
    title: str('Title'),
    value: num('Value'),
    currency: str('Currency'),
    status: oneOf({ enum: ['open', 'won', 'lost', 'deleted'], title: 'Status' }),
    stage_id: int('Stage id'),
    pipeline_id: int('Pipeline id'),
    person_id: nullable(int('Person id')),
    org_id: nullable(int('Organization id')),
    expected_close_date: nullable(str('Expected close date')),
    add_time: str('Created (UTC)'),
    update_time: str('Updated (UTC)'),
  },
  ['id', 'title', 'status'],
);

function deal(d: PipedriveDeal): Static<typeof dealOutput> {
  return {
    id: d.id,
    title: d.title,
    value: d.value,
    currency: d.currency,
    status: d.status,
    stage_id: d.stage_id,
    pipeline_id: d.pipeline_id,
    person_id: refId(d.person_id),
    org_id: refId(d.org_id),
    expected_close_date: d.expected_close_date,
    add_time: d.add_time,
    update_time: d.update_time,
  };
}

const dealFields = {
  title: str('Title', { minLength: 1 }),
  value: num('Value', { minimum: 0 }),
  currency: str('Currency', { pattern: '^[A-Z]{3}$', description: 'ISO 4217, e.g. EUR' }),
  pipeline_id: int('Pipeline', { 'x-options': 'pipelines' }),
  stage_id: int('Stage', { 'x-options': 'stages', description: 'Sets the pipeline too' }),
  person_id: int('Person id'),
  org_id: int('Organization id'),
  expected_close_date: str('Expected close date', { format: 'date' }),
  status: oneOf({ enum: ['open', 'won', 'lost'], title: 'Status' }),
};

const createDeal = defineAction({
  name: 'Create deal',
  description: 'Adds a deal (POST /v1/deals).',
  readOnly: false,
  retrySafe: false,
  input: obj(dealFields, ['title']),
  output: dealOutput,
  async run(ctx, input) {
    const { data } = await send<{ data: PipedriveDeal }>(ctx, { method: 'POST', path: 'deals', body: input });
    return deal(data);
  },
});

const updateDeal = defineAction({
  name: 'Update deal',
  description: 'Changes a deal’s fields, e.g. moves it to another stage or marks it won (PUT /v1/deals/{id}).',
  // PUT sets the given fields: a repeat changes nothing.
  readOnly: false,
  retrySafe: true,
  input: obj({ deal_id: int('Deal id', { minimum: 1 }), ...dealFields }, ['deal_id'], { minProperties: 2 }),
  output: dealOutput,
  async run(ctx, input) {
    const { deal_id, ...fields } = input;
    const { data } = await send<{ data: PipedriveDeal }>(ctx, { method: 'PUT', path: `deals/${deal_id}`, body: fields });
    return deal(data);
  },
});

const createPerson = defineAction({
  name: 'Create person',
  description: 'Adds a contact person (POST /v1/persons).',
  readOnly: false,
  retrySafe: false,
  input: obj({ name: str('Name', { minLength: 1 }), email: str('Email', { format: 'email' }), phone: str('Phone'), org_id: int('Organization id') }, ['name']),
  output: res({ id: int('Person id'), name: str('Name'), email: nullable(str('Email')) }, ['id', 'name']),
  async run(ctx, input) {
    const body = {
      name: input.name,
      org_id: input.org_id,
      email: input.email ? [{ value: input.email, primary: true, label: 'work' }] : undefined,
      phone: input.phone ? [{ value: input.phone, primary: true, label: 'work' }] : undefined,
    };
    const { data } = await send<{ data: { id: number; name: string; email: { value: string; primary: boolean }[] } }>(ctx, { method: 'POST', path: 'persons', body });
    return { id: data.id, name: data.name, email: data.email.find((e) => e.primary)?.value || null };
  },
});

const addNote = defineAction({
  name: 'Add note',
  description: 'Adds a note to a deal, person or organization (POST /v1/notes); give at least one of them.',
  readOnly: false,
  retrySafe: false,
  input: obj({ content: str('Note', { minLength: 1, description: 'HTML allowed' }), deal_id: int('Deal id'), person_id: int('Person id'), org_id: int('Organization id') }, [
    'content',
  ]),
  output: res({ id: int('Note id'), content: str('Note'), add_time: str('Created (UTC)') }, ['id']),
  async run(ctx, input) {
    const { data } = await send<{ data: { id: number; content: string; add_time: string } }>(ctx, { method: 'POST', path: 'notes', body: input });
    return { id: data.id, content: data.content, add_time: data.add_time };
  },
});

type DealCursor = { time: string; id: number };

const after = (time: string, id: number, c: DealCursor) => time > c.time || (time === c.time && id > c.id);

/** Deals changed since `since` (GET /v1/recents?items=deal), bounded to a few pages. */
async function recentDeals(ctx: ActionContext, since: string): Promise<{ deals: PipedriveDeal[]; complete: boolean }> {
  const deals: PipedriveDeal[] = [];
  let start = 0;
  for (let page = 0; page < 5; page++) {
    const answer = await send<PipedriveList<{ item: string; id: number; data: PipedriveDeal }>>(ctx, {
      method: 'GET',
      path: 'recents',
      query: { since_timestamp: since, items: 'deal', start, limit: 500 },
    });
    for (const r of answer.data ?? []) if (r.item === 'deal' && r.data) deals.push(r.data);
    const pagination = answer.additional_data?.pagination;
    if (!pagination?.more_items_in_collection) return { deals, complete: true };
    start = pagination.next_start ?? start + 500;
  }
  return { deals, complete: false };
}

/** A poll over deals by one of their timestamps: the newest first time, then what /recents shows changed. */
function dealPoll(field: 'add_time' | 'update_time', dedupe: boolean) {
  return async (ctx: ActionContext, { cursor, limit }: { cursor: DealCursor | null; limit: number }) => {
    const toItem = (d: PipedriveDeal): TriggerItem => ({ id: String(d.id), ...(dedupe ? { dedupeKey: `${d.id}:${d.update_time}` } : {}), data: deal(d) });
    if (cursor === null) {
      // The cursor sits at the newest deal even when none is asked for (limit 0: from now).
      const answer = await send<PipedriveList<PipedriveDeal>>(ctx, {
        method: 'GET',
        path: 'deals',
        query: { status: 'all_not_deleted', sort: `${field} DESC`, limit: Math.min(500, Math.max(1, limit)) },
      });
      const deals = answer.data ?? [];
      const top = deals[0];
      return { items: deals.slice(0, limit).reverse().map(toItem), cursor: top ? { time: top[field], id: top.id } : { time: '1970-01-01 00:00:00', id: 0 } };
    }
    const { deals, complete } = await recentDeals(ctx, cursor.time);
    const fresh = deals.filter((d) => d.status !== 'deleted' && after(d[field], d.id, cursor)).sort((a, b) => (a[field] < b[field] ? -1 : a[field] > b[field] ? 1 : a.id - b.id));
    const items = fresh.slice(0, limit);
    const last = items.at(-1);
    return { items: items.map(toItem), cursor: last ? { time: last[field], id: last.id } : cursor, more: fresh.length > limit || !complete };
  };
}

export const pipedriveConnector = defineConnector({
  key: 'pipedrive',
  name: 'Pipedrive',
  description: 'Create and move deals, add people and notes in Pipedrive; start flows on new or changed deals.',
  logo: logo('#1A1A1A', '<circle cx="34" cy="26" r="10" fill="none" stroke="#fff" stroke-width="6"/><path d="M24 26v24" stroke="#fff" stroke-width="6" stroke-linecap="round"/>'),
  categories: ['crm'],
  docsUrl: 'https://developers.pipedrive.com/docs/api/v1',
  auth: {
    type: 'oauth2',
    authorizationUrl: 'https://oauth.pipedrive.com/oauth/authorize',
    tokenUrl: 'https://oauth.pipedrive.com/oauth/token',
    // Scopes are chosen on the app in Pipedrive's Developer Hub, not asked for.
    scopes: [],
    pkce: false,
    clientAuthentication: 'client_secret_basic',
    // The company's own API host (https://acme.pipedrive.com) comes with the token.
    connectionConfigFromToken: { api_domain: 'api_domain' },
    refreshable: true,
  },
  connectionConfig: {
    api_domain: { title: 'Company API domain', fromToken: true, example: 'https://acme.pipedrive.com' },
  },
  baseUrl: '{{api_domain}}/api/v1',
  pagination: { style: 'offset', offsetParam: 'start', limitParam: 'limit' },
  actions: { create_deal: createDeal, update_deal: updateDeal, create_person: createPerson, add_note: addNote },
  options: {
    pipelines: {
      name: 'Pipelines',
      async run(ctx, { search, cursor }) {
        const answer = await send<PipedriveList<{ id: number; name: string; active: boolean }>>(ctx, { method: 'GET', path: 'pipelines' });
        const items = (answer.data ?? []).filter((p) => p.active && matches(search, p.name)).map((p) => ({ value: String(p.id), label: p.name }));
        return pageLocally(items, cursor);
      },
    },
    stages: {
      name: 'Stages',
      description: 'Every pipeline’s stages, in pipeline order',
      async run(ctx, { search, cursor }) {
        const answer = await send<PipedriveList<{ id: number; name: string; pipeline_id: number; pipeline_name: string; active_flag: boolean }>>(ctx, {
          method: 'GET',
          path: 'stages',
          query: { start: cursor ? Number.parseInt(cursor, 10) || 0 : 0, limit: 100 },
        });
        const options = (answer.data ?? [])
          .filter((s) => s.active_flag && matches(search, s.name, s.pipeline_name))
          .map((s) => ({ value: String(s.id), label: `${s.pipeline_name} › ${s.name}` }));
        const pagination = answer.additional_data?.pagination;
        return pagination?.more_items_in_collection ? { options, nextCursor: String(pagination.next_start) } : { options };
      },
    },
  },
  triggers: {
    new_deal: definePollTrigger<DealCursor>()({
      name: 'New deal',
      description: 'A deal is added (deals changed since the last poll, per GET /v1/recents, added after it).',
      input: obj({}),
      output: dealOutput,
      intervalSeconds: 60,
      minIntervalSeconds: 30,
      poll: (ctx, params) => dealPoll('add_time', false)(ctx, params),
    }),
    deal_updated: definePollTrigger<DealCursor>()({
      name: 'Deal updated',
      description: 'A deal is added or changed (a stage move, a value, won or lost), once per change.',
      input: obj({}),
      output: dealOutput,
      intervalSeconds: 60,
      minIntervalSeconds: 30,
      poll: (ctx, params) => dealPoll('update_time', true)(ctx, params),
    }),
  },
  async account(ctx) {
    const { data } = await send<{ data: { id: number; name: string; email: string; company_id: number; company_name: string; company_domain: string } }>(ctx, {
      method: 'GET',
      path: 'users/me',
    });
    return { id: String(data.id), name: `${data.name} (${data.email}), ${data.company_name}`, details: { companyId: data.company_id, companyDomain: data.company_domain } };
  },
});
