/**
 * A fake Pipedrive API v1 at the company domain the token response names (api_domain: this
 * provider's sandbox URL): users/me, pipelines, stages, deals, persons, notes and recents, with
 * Pipedrive's `success`/`data`/`additional_data.pagination` answers, its error bodies, and a burst
 * limit per token (429 with Retry-After and x-ratelimit-* headers).
 */
import { intParam, json, ProviderContext, ProviderModule, SandboxRequest, SandboxResponse } from '../core';
import { overBudget, throttle, Throttle } from './throttle';

interface Stage {
  id: number;
  name: string;
  pipeline_id: number;
  order_nr: number;
  active_flag: boolean;
}
interface Deal {
  id: number;
  title: string;
  value: number;
  currency: string;
  status: 'open' | 'won' | 'lost' | 'deleted';
  stage_id: number;
  pipeline_id: number;
  person_id: number | null;
  org_id: number | null;
  user_id: number;
  expected_close_date: string | null;
  add_time: string;
  update_time: string;
  won_time: string | null;
  lost_time: string | null;
}

export interface PipedriveState {
  company: { id: number; name: string; domain: string };
  users: { id: number; name: string; email: string }[];
  pipelines: { id: number; name: string; active: boolean; order_nr: number }[];
  stages: Stage[];
  deals: Deal[];
  persons: {
    id: number;
    name: string;
    email: { value: string; primary: boolean; label: string }[];
    phone: { value: string; primary: boolean; label: string }[];
    org_id: number | null;
    add_time: string;
    update_time: string;
  }[];
  organizations: { id: number; name: string }[];
  notes: { id: number; content: string; deal_id: number | null; person_id: number | null; org_id: number | null; user_id: number; add_time: string; update_time: string }[];
  nextId: number;
  /** Requests per 2-second window per user (Pipedrive's burst limit). */
  burst: Throttle;
}

const INFO = 'Please check developers.pipedrive.com for more information about Pipedrive API.';

function pdError(status: number, error: string, headers: Record<string, string> = {}): SandboxResponse {
  return json(status, { success: false, error, error_info: INFO, data: null, additional_data: null }, headers);
}

/** Pipedrive's UTC timestamps: "YYYY-MM-DD HH:MM:SS". */
function pdTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

function seed(): PipedriveState {
  const state: PipedriveState = {
    company: { id: 7001, name: 'Acme Sales', domain: 'acme' },
    users: [
      { id: 12001, name: 'Jane Cooper', email: 'jane@acme.test' },
      { id: 12002, name: 'Hank Scorpio', email: 'hank@globex.test' },
    ],
    pipelines: [
      { id: 1, name: 'Sales', active: true, order_nr: 1 },
      { id: 2, name: 'Partnerships', active: true, order_nr: 2 },
      { id: 3, name: 'Old pipeline', active: false, order_nr: 3 },
    ],
    stages: [],
    deals: [],
    persons: [],
    organizations: [{ id: 1, name: 'Globex' }],
    notes: [],
    nextId: 100,
    burst: throttle(10_000, 2),
  };
  let stageId = 1;
  const names: [number, string[]][] = [
    [1, ['Qualified', 'Contact made', 'Demo scheduled', 'Proposal made', 'Negotiations started']],
    [2, ['Intro', 'Pilot', 'Signed']],
    [3, ['Waiting']],
  ];
  for (const [pipeline, stages] of names) stages.forEach((name, i) => state.stages.push({ id: stageId++, name, pipeline_id: pipeline, order_nr: i + 1, active_flag: true }));
  // Enough stages for a second page of 100.
  for (let i = 1; i <= 110; i++) state.stages.push({ id: stageId++, name: `Step ${String(i).padStart(3, '0')}`, pipeline_id: 2, order_nr: 3 + i, active_flag: true });
  const at = pdTime(Date.parse('2026-01-10T09:00:00Z'));
  state.persons.push({ id: 1, name: 'Maria Johnson', email: [{ value: 'maria@globex.test', primary: true, label: 'work' }], phone: [], org_id: 1, add_time: at, update_time: at });
  ['Globex renewal', 'Initech pilot'].forEach((title, i) => {
    const t = pdTime(Date.parse('2026-01-10T09:00:00Z') + i * 60_000);
    state.deals.push({
      id: state.nextId++,
      title,
      value: 5000 * (i + 1),
      currency: 'EUR',
      status: 'open',
      stage_id: 1,
      pipeline_id: 1,
      person_id: 1,
      org_id: 1,
      user_id: 12001,
      expected_close_date: null,
      add_time: t,
      update_time: t,
      won_time: null,
      lost_time: null,
    });
  });
  return state;
}

function ok(data: unknown, additional?: Record<string, unknown>): SandboxResponse {
  return json(200, { success: true, data, ...(additional ? { additional_data: additional } : {}) });
}

/** start/limit paging with Pipedrive's pagination block. */
function paged<T>(req: SandboxRequest, items: T[], render: (t: T) => unknown, extra: Record<string, unknown> = {}): SandboxResponse {
  const start = intParam(req.query.get('start'), 0, 0, Number.MAX_SAFE_INTEGER);
  const limit = intParam(req.query.get('limit'), 100, 1, 500);
  const page = items.slice(start, start + limit);
  const more = start + limit < items.length;
  return ok(page.map(render), { ...extra, pagination: { start, limit, more_items_in_collection: more, ...(more ? { next_start: start + limit } : {}) } });
}

function renderDeal(state: PipedriveState, d: Deal): Record<string, unknown> {
  const person = state.persons.find((p) => p.id === d.person_id);
  const org = state.organizations.find((o) => o.id === d.org_id);
  const user = state.users.find((u) => u.id === d.user_id);
  return {
    ...d,
    person_id: person ? { active_flag: true, name: person.name, email: person.email, phone: person.phone, value: person.id } : null,
    org_id: org ? { name: org.name, people_count: 1, active_flag: true, value: org.id } : null,
    user_id: user ? { id: user.id, name: user.name, email: user.email, value: user.id } : null,
    person_name: person?.name ?? null,
    org_name: org?.name ?? null,
    stage_order_nr: state.stages.find((s) => s.id === d.stage_id)?.order_nr ?? null,
    active: d.status === 'open',
    deleted: d.status === 'deleted',
  };
}

/** Applies deal fields as POST/PUT take them; answers Pipedrive's 400 when one is wrong. */
function applyDeal(state: PipedriveState, d: Deal, input: Record<string, unknown>, now: number): SandboxResponse | undefined {
  if (input.title !== undefined) {
    if (typeof input.title !== 'string' || !input.title.trim()) return pdError(400, 'Title must be given.');
    d.title = input.title;
  }
  if (input.value !== undefined) d.value = Number(input.value);
  if (input.currency !== undefined) d.currency = String(input.currency);
  if (input.pipeline_id !== undefined) {
    const pipeline = state.pipelines.find((p) => p.id === Number(input.pipeline_id));
    if (!pipeline) return pdError(400, 'Pipeline not found.');
    d.pipeline_id = pipeline.id;
    if (input.stage_id === undefined) d.stage_id = state.stages.find((s) => s.pipeline_id === pipeline.id)!.id;
  }
  if (input.stage_id !== undefined) {
    const stage = state.stages.find((s) => s.id === Number(input.stage_id));
    if (!stage) return pdError(400, 'Stage not found.');
    d.stage_id = stage.id;
    d.pipeline_id = stage.pipeline_id;
  }
  if (input.person_id !== undefined) {
    if (input.person_id !== null && !state.persons.some((p) => p.id === Number(input.person_id))) return pdError(400, 'Person not found.');
    d.person_id = input.person_id === null ? null : Number(input.person_id);
  }
  if (input.org_id !== undefined) {
    if (input.org_id !== null && !state.organizations.some((o) => o.id === Number(input.org_id))) return pdError(400, 'Organization not found.');
    d.org_id = input.org_id === null ? null : Number(input.org_id);
  }
  if (input.expected_close_date !== undefined) d.expected_close_date = input.expected_close_date === null ? null : String(input.expected_close_date);
  if (input.status !== undefined) {
    if (!['open', 'won', 'lost', 'deleted'].includes(String(input.status))) return pdError(400, 'Invalid status.');
    d.status = input.status as Deal['status'];
    d.won_time = d.status === 'won' ? pdTime(now) : null;
    d.lost_time = d.status === 'lost' ? pdTime(now) : null;
  }
  return undefined;
}

type Handler = (req: SandboxRequest, ctx: ProviderContext<PipedriveState>, me: number) => SandboxResponse;

function route(method: string, path: string, handler: Handler) {
  return {
    method,
    path: `/api/v1${path}`,
    handler(req: SandboxRequest, ctx: ProviderContext<PipedriveState>): SandboxResponse {
      const a = ctx.authorize(req);
      if ('error' in a) return a.error;
      const me = ctx.state.users[a.accountIndex]?.id ?? ctx.state.users[0]!.id;
      const now = ctx.now();
      const burst = ctx.state.burst;
      const wait = overBudget(burst, String(me), now);
      const window = burst.windows[String(me)]!;
      const limitHeaders = {
        'x-ratelimit-limit': String(burst.limit),
        'x-ratelimit-remaining': String(Math.max(0, burst.limit - window.count)),
        'x-ratelimit-reset': String(Math.max(1, Math.ceil((window.start + burst.windowSeconds * 1000 - now) / 1000))),
      };
      if (wait !== null) return json(429, { success: false, error: 'Request over limit', errorCode: 429, error_info: INFO }, { ...limitHeaders, 'retry-after': String(wait) });
      const answer = handler(req, ctx, me);
      return { ...answer, headers: { ...limitHeaders, ...answer.headers } };
    },
  };
}

function input(req: SandboxRequest): Record<string, unknown> {
  return req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};
}

function contacts(value: unknown): { value: string; primary: boolean; label: string }[] {
  if (typeof value === 'string') return [{ value, primary: true, label: 'work' }];
  if (!Array.isArray(value)) return [];
  return value.map((v, i) =>
    typeof v === 'string' ? { value: v, primary: i === 0, label: 'work' } : { value: String(v.value), primary: Boolean(v.primary ?? i === 0), label: String(v.label ?? 'work') },
  );
}

function newDeal(state: PipedriveState, data: Record<string, unknown>, me: number, now: number): { deal: Deal } | { error: SandboxResponse } {
  if (typeof data.title !== 'string' || !data.title.trim()) return { error: pdError(400, 'Title must be given.') };
  const t = pdTime(now);
  const d: Deal = {
    id: state.nextId++,
    title: '',
    value: 0,
    currency: 'EUR',
    status: 'open',
    stage_id: 1,
    pipeline_id: 1,
    person_id: null,
    org_id: null,
    user_id: me,
    expected_close_date: null,
    add_time: t,
    update_time: t,
    won_time: null,
    lost_time: null,
  };
  const problem = applyDeal(state, d, data, now);
  if (problem) return { error: problem };
  state.deals.push(d);
  return { deal: d };
}

export const pipedriveSandbox: ProviderModule<PipedriveState> = {
  key: 'pipedrive',
  displayName: 'Pipedrive',
  accounts: [
    { id: '12001', name: 'Jane Cooper', email: 'jane@acme.test' },
    { id: '12002', name: 'Hank Scorpio', email: 'hank@globex.test' },
  ],
  tokenPrefix: { access: 'v1u:', refresh: '12001:7001:' },
  oauth: {
    authorizePath: '/oauth/authorize',
    tokenPath: '/oauth/token',
    requireBasicClientAuth: true,
    defaultTtlSeconds: 3599,
    tokenResponse(issued, _account, ctx) {
      return {
        access_token: issued.accessToken,
        token_type: 'Bearer',
        refresh_token: issued.refreshToken,
        scope: 'base,deals:full,contacts:full,recents:read',
        expires_in: Number.isFinite(issued.expiresIn) ? issued.expiresIn : undefined,
        // The company's own host; here, this provider's sandbox URL.
        api_domain: ctx.providerUrl,
      };
    },
  },
  authError: () => json(401, { success: false, error: 'unauthorized access', errorCode: 401, error_info: INFO }),
  seed,
  routes: [
    route('GET', '/users/me', (_req, ctx, me) => {
      const user = ctx.state.users.find((u) => u.id === me)!;
      const c = ctx.state.company;
      return ok({
        id: user.id,
        name: user.name,
        email: user.email,
        company_id: c.id,
        company_name: c.name,
        company_domain: c.domain,
        active_flag: true,
        is_admin: 1,
        timezone_name: 'Europe/Tallinn',
        locale: 'en_US',
      });
    }),
    route('GET', '/pipelines', (_req, ctx) => ok(ctx.state.pipelines.map((p) => ({ ...p, url_title: p.name.toLowerCase(), selected: p.id === 1 })))),
    route('GET', '/stages', (req, ctx) => {
      const pipelineId = req.query.get('pipeline_id');
      const stages = ctx.state.stages.filter((s) => pipelineId === null || s.pipeline_id === Number(pipelineId));
      return paged(req, stages, (s) => ({ ...s, pipeline_name: ctx.state.pipelines.find((p) => p.id === s.pipeline_id)!.name, deal_probability: 100 }));
    }),
    route('GET', '/deals', (req, ctx) => {
      const status = req.query.get('status') ?? 'all_not_deleted';
      let deals = ctx.state.deals.filter((d) => (status === 'all_not_deleted' ? d.status !== 'deleted' : d.status === status));
      const sort = req.query.get('sort');
      if (sort) {
        const [field, direction] = sort.trim().split(/\s+/);
        if (!['add_time', 'update_time', 'id', 'title', 'value'].includes(field!)) return pdError(400, `Invalid sort field: ${field}`);
        const sign = (direction ?? 'ASC').toUpperCase() === 'DESC' ? -1 : 1;
        const key = field as keyof Deal;
        deals = deals.slice().sort((a, b) => sign * ((a[key]! < b[key]! ? -1 : a[key]! > b[key]! ? 1 : 0) || a.id - b.id));
      }
      return paged(req, deals, (d) => renderDeal(ctx.state, d));
    }),
    route('GET', '/deals/:id', (req, ctx) => {
      const d = ctx.state.deals.find((x) => String(x.id) === req.params.id && x.status !== 'deleted');
      return d ? ok(renderDeal(ctx.state, d)) : pdError(404, 'Deal not found');
    }),
    route('POST', '/deals', (req, ctx, me) => {
      const made = newDeal(ctx.state, input(req), me, ctx.now());
      return 'error' in made ? made.error : json(201, { success: true, data: renderDeal(ctx.state, made.deal) });
    }),
    route('PUT', '/deals/:id', (req, ctx) => {
      const d = ctx.state.deals.find((x) => String(x.id) === req.params.id && x.status !== 'deleted');
      if (!d) return pdError(404, 'Deal not found');
      const copy = { ...d };
      const problem = applyDeal(ctx.state, copy, input(req), ctx.now());
      if (problem) return problem;
      Object.assign(d, copy, { update_time: pdTime(ctx.now()) });
      return ok(renderDeal(ctx.state, d));
    }),
    route('POST', '/persons', (req, ctx) => {
      const data = input(req);
      if (typeof data.name !== 'string' || !data.name.trim()) return pdError(400, 'Name must be given.');
      if (data.org_id !== undefined && !ctx.state.organizations.some((o) => o.id === Number(data.org_id))) return pdError(400, 'Organization not found.');
      const t = pdTime(ctx.now());
      const person = {
        id: ctx.state.nextId++,
        name: data.name,
        email: contacts(data.email),
        phone: contacts(data.phone),
        org_id: data.org_id === undefined ? null : Number(data.org_id),
        add_time: t,
        update_time: t,
      };
      if (person.email.length === 0) person.email = [{ value: '', primary: true, label: '' }];
      ctx.state.persons.push(person);
      return json(201, { success: true, data: person });
    }),
    route('POST', '/notes', (req, ctx, me) => {
      const data = input(req);
      if (typeof data.content !== 'string' || !data.content.trim()) return pdError(400, 'Content must be given.');
      if (data.deal_id === undefined && data.person_id === undefined && data.org_id === undefined && data.lead_id === undefined) {
        return pdError(400, 'Note must be attached to a deal, person, organization or lead.');
      }
      if (data.deal_id !== undefined && !ctx.state.deals.some((d) => d.id === Number(data.deal_id))) return pdError(404, 'Deal not found');
      if (data.person_id !== undefined && !ctx.state.persons.some((p) => p.id === Number(data.person_id))) return pdError(404, 'Person not found');
      const t = pdTime(ctx.now());
      const note = {
        id: ctx.state.nextId++,
        content: data.content,
        deal_id: data.deal_id === undefined ? null : Number(data.deal_id),
        person_id: data.person_id === undefined ? null : Number(data.person_id),
        org_id: data.org_id === undefined ? null : Number(data.org_id),
        user_id: me,
        add_time: t,
        update_time: t,
      };
      ctx.state.notes.push(note);
      const deal = ctx.state.deals.find((d) => d.id === note.deal_id);
      if (deal) deal.update_time = t;
      return json(201, { success: true, data: { ...note, active_flag: true } });
    }),
    route('GET', '/recents', (req, ctx) => {
      const since = req.query.get('since_timestamp');
      if (!since || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(since)) return pdError(400, 'since_timestamp is required in format YYYY-MM-DD HH:MM:SS');
      const items = (req.query.get('items') ?? 'deal').split(',');
      // Changes since the timestamp, oldest change first.
      const deals = items.includes('deal')
        ? ctx.state.deals.filter((d) => d.update_time >= since).sort((a, b) => (a.update_time < b.update_time ? -1 : a.update_time > b.update_time ? 1 : a.id - b.id))
        : [];
      const lastOnPage = deals.at(-1)?.update_time ?? since;
      return paged(req, deals, (d) => ({ item: 'deal', id: d.id, data: renderDeal(ctx.state, d) }), { since_timestamp: since, last_timestamp_on_page: lastOnPage });
    }),
  ],
  tick(ctx) {
    const state = ctx.state;
    const open = state.deals.filter((d) => d.status === 'open');
    // Alternately a new deal and a stage move, as a sales team would make.
    if (open.length > 0 && state.deals.length % 2 === 1) {
      const d = open[0]!;
      const next = state.stages.find((s) => s.pipeline_id === d.pipeline_id && s.order_nr === (state.stages.find((x) => x.id === d.stage_id)?.order_nr ?? 0) + 1);
      if (next) {
        d.stage_id = next.id;
        d.update_time = pdTime(ctx.now());
        return;
      }
    }
    newDeal(state, { title: `Inbound lead #${state.deals.length + 1}`, value: 1200, person_id: 1 }, state.users[0]!.id, ctx.now());
    // A churning demo sandbox stays bounded: the newest deals are kept.
    if (state.deals.length > 5000) state.deals.splice(0, state.deals.length - 5000);
  },
};
