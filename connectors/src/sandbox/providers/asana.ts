/**
 * A fake Asana API (https://app.asana.com/api/1.0): users/me, workspaces, projects, tasks and
 * comment stories, with Asana's `data` envelope, offset-token paging (`next_page`), compact records
 * unless `opt_fields` asks for more, `modified_since`, its error bodies and a per-token rate limit
 * (429 with Retry-After).
 */
import { decodeCursor, encodeCursor, isoNow, json, ProviderContext, ProviderModule, SandboxRequest, SandboxResponse } from '../core';
import { overBudget, throttle, Throttle } from './throttle';

interface Workspace {
  gid: string;
  name: string;
  is_organization: boolean;
}
interface Project {
  gid: string;
  name: string;
  workspace: string;
  archived: boolean;
  created_at: string;
}
interface Task {
  gid: string;
  name: string;
  notes: string;
  completed: boolean;
  due_on: string | null;
  assignee: string | null;
  projects: string[];
  workspace: string;
  created_at: string;
  modified_at: string;
}
interface Story {
  gid: string;
  task: string;
  text: string;
  created_by: string;
  created_at: string;
}

export interface AsanaState {
  users: { gid: string; name: string; email: string }[];
  workspaces: Workspace[];
  projects: Project[];
  tasks: Task[];
  stories: Story[];
  nextGid: number;
  /** Requests a minute per user (Asana: 150 on free plans, 1,500 on paid ones). */
  rateLimit: Throttle;
}

const HELP = 'For more information on API status codes and how to handle them, read the docs on errors: https://developers.asana.com/docs/errors';
const BASE = '/api/1.0';

function asanaError(status: number, message: string, headers: Record<string, string> = {}): SandboxResponse {
  return json(status, { errors: [{ message, help: HELP }] }, headers);
}

function gid(state: AsanaState): string {
  return String(state.nextGid++);
}

function seed(): AsanaState {
  const state: AsanaState = {
    users: [
      { gid: '1201000000000001', name: 'Jane Cooper', email: 'jane@acme.test' },
      { gid: '1201000000000002', name: 'Hank Scorpio', email: 'hank@globex.test' },
    ],
    workspaces: [
      { gid: '1202000000000001', name: 'Acme', is_organization: true },
      { gid: '1202000000000002', name: 'Personal Projects', is_organization: false },
    ],
    projects: [],
    tasks: [],
    stories: [],
    nextGid: 1204000000000001,
    rateLimit: throttle(),
  };
  const at = '2026-01-05T09:00:00.000Z';
  const names = ['Website relaunch', 'Q3 Roadmap', 'Customer onboarding', 'Hiring'];
  for (const name of names) state.projects.push({ gid: gid(state), name, workspace: '1202000000000001', archived: false, created_at: at });
  state.projects.push({ gid: gid(state), name: 'Old intranet', workspace: '1202000000000001', archived: true, created_at: at });
  // Enough for more than one page of projects (100 a page).
  for (let i = 1; i <= 120; i++)
    state.projects.push({ gid: gid(state), name: `Campaign ${String(i).padStart(3, '0')}`, workspace: '1202000000000001', archived: false, created_at: at });
  state.projects.push({ gid: gid(state), name: 'Garden', workspace: '1202000000000002', archived: false, created_at: at });
  const relaunch = state.projects[0]!.gid;
  ['Draft the sitemap', 'Pick a typeface', 'Write the launch post'].forEach((name, i) => {
    const created = new Date(Date.parse('2026-01-06T09:00:00.000Z') + i * 3600_000).toISOString();
    state.tasks.push({
      gid: gid(state),
      name,
      notes: '',
      completed: false,
      due_on: null,
      assignee: null,
      projects: [relaunch],
      workspace: '1202000000000001',
      created_at: created,
      modified_at: created,
    });
  });
  return state;
}

/** Offset-token paging as Asana answers it. */
function page<T>(req: SandboxRequest, ctx: ProviderContext, items: T[], render: (item: T) => unknown): SandboxResponse {
  const limitText = req.query.get('limit');
  const limit = limitText === null ? 100 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) return asanaError(400, 'limit: Must be an integer between 1 and 100');
  const offset = req.query.get('offset');
  const start = offset ? decodeCursor(offset) : 0;
  if (start === null) return asanaError(400, 'offset: Your pagination token is invalid.');
  const end = start + limit;
  let next_page: { offset: string; path: string; uri: string } | null = null;
  if (end < items.length) {
    const q = new URLSearchParams(req.query);
    q.set('limit', String(limit));
    q.set('offset', encodeCursor(end));
    const path = `${req.path.slice(BASE.length)}?${q}`;
    next_page = { offset: encodeCursor(end), path, uri: `${ctx.providerUrl}${BASE}${path}` };
  }
  return json(200, { data: items.slice(start, end).map(render), next_page });
}

/** What opt_fields asks for (top-level names; `assignee.name` asks for the assignee). */
function optFields(req: SandboxRequest): Set<string> | null {
  const raw = req.query.get('opt_fields');
  return raw ? new Set(raw.split(',').map((f) => f.trim().split('.')[0]!)) : null;
}

function renderTask(state: AsanaState, t: Task, fields: Set<string> | null, full: boolean): Record<string, unknown> {
  const user = t.assignee ? state.users.find((u) => u.gid === t.assignee) : undefined;
  const all: Record<string, unknown> = {
    gid: t.gid,
    resource_type: 'task',
    resource_subtype: 'default_task',
    name: t.name,
    notes: t.notes,
    completed: t.completed,
    due_on: t.due_on,
    created_at: t.created_at,
    modified_at: t.modified_at,
    permalink_url: `https://app.asana.com/0/${t.projects[0] ?? '0'}/${t.gid}`,
    assignee: user ? { gid: user.gid, resource_type: 'user', name: user.name } : null,
    projects: t.projects.map((p) => ({ gid: p, resource_type: 'project' })),
    workspace: { gid: t.workspace, resource_type: 'workspace' },
  };
  if (!fields) return full ? all : { gid: t.gid, resource_type: 'task', name: t.name, resource_subtype: 'default_task' };
  return Object.fromEntries(Object.entries(all).filter(([k]) => k === 'gid' || k === 'resource_type' || fields.has(k)));
}

/** An assignee as the API takes it: a user gid, an email, or "me". */
function resolveUser(state: AsanaState, value: unknown, me: string): string | null | undefined {
  if (value === null) return null;
  const v = String(value);
  if (v === 'me') return me;
  return state.users.find((u) => u.gid === v || u.email === v)?.gid;
}

function unknownObject(kind: string, id: string): SandboxResponse {
  return asanaError(404, `${kind}: Unknown object: ${id}`);
}

/** Applies the writable task fields; answers a 400 when one is wrong. */
function applyTaskFields(state: AsanaState, t: Task, data: Record<string, unknown>, me: string): SandboxResponse | undefined {
  if (data.name !== undefined) t.name = String(data.name);
  if (data.notes !== undefined) t.notes = String(data.notes);
  if (data.completed !== undefined) {
    if (typeof data.completed !== 'boolean') return asanaError(400, 'completed: Not a boolean: ' + String(data.completed));
    t.completed = data.completed;
  }
  if (data.due_on !== undefined) {
    if (data.due_on !== null && !/^\d{4}-\d{2}-\d{2}$/.test(String(data.due_on))) return asanaError(400, `due_on: Not a date: ${String(data.due_on)}`);
    t.due_on = data.due_on === null ? null : String(data.due_on);
  }
  if (data.assignee !== undefined) {
    const user = resolveUser(state, data.assignee, me);
    if (user === undefined) return asanaError(400, `assignee: Not a recognized ID: ${String(data.assignee)}`);
    t.assignee = user;
  }
  return undefined;
}

type Handler = (req: SandboxRequest, ctx: ProviderContext<AsanaState>, me: string) => SandboxResponse;

function route(method: string, path: string, handler: Handler) {
  return {
    method,
    path: `${BASE}${path}`,
    handler(req: SandboxRequest, ctx: ProviderContext<AsanaState>): SandboxResponse {
      const a = ctx.authorize(req);
      if ('error' in a) return a.error;
      const me = ctx.state.users[a.accountIndex]?.gid ?? ctx.state.users[0]!.gid;
      const wait = overBudget(ctx.state.rateLimit, me, ctx.now());
      if (wait !== null) return asanaError(429, 'You have made too many requests recently. Please, be chill.', { 'retry-after': String(wait) });
      return handler(req, ctx, me);
    },
  };
}

function body(req: SandboxRequest): Record<string, unknown> | undefined {
  const data = (req.body as { data?: unknown } | undefined)?.data;
  return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
}

export const asanaSandbox: ProviderModule<AsanaState> = {
  key: 'asana',
  displayName: 'Asana',
  accounts: [
    { id: '1201000000000001', name: 'Jane Cooper', email: 'jane@acme.test' },
    { id: '1201000000000002', name: 'Hank Scorpio', email: 'hank@globex.test' },
  ],
  tokenPrefix: { access: '2/1201000000000001/', refresh: '2/1201000000000001:' },
  oauth: {
    authorizePath: '/-/oauth_authorize',
    tokenPath: '/-/oauth_token',
    defaultTtlSeconds: 3600,
    tokenResponse(issued, account) {
      return {
        access_token: issued.accessToken,
        token_type: 'bearer',
        expires_in: Number.isFinite(issued.expiresIn) ? issued.expiresIn : undefined,
        refresh_token: issued.refreshToken,
        data: { id: account.id, gid: account.id, name: account.name, email: account.email },
      };
    },
  },
  authError: () => asanaError(401, 'Not Authorized'),
  seed,
  routes: [
    route('GET', '/users/me', (_req, ctx, me) => {
      const user = ctx.state.users.find((u) => u.gid === me)!;
      return json(200, {
        data: {
          gid: user.gid,
          resource_type: 'user',
          name: user.name,
          email: user.email,
          workspaces: ctx.state.workspaces.map((w) => ({ gid: w.gid, resource_type: 'workspace', name: w.name })),
        },
      });
    }),
    route('GET', '/workspaces', (req, ctx) => page(req, ctx, ctx.state.workspaces, (w) => ({ gid: w.gid, resource_type: 'workspace', name: w.name }))),
    route('GET', '/projects', (req, ctx) => {
      const workspace = req.query.get('workspace');
      if (!workspace) return asanaError(400, 'workspace: Missing input');
      if (!ctx.state.workspaces.some((w) => w.gid === workspace)) return unknownObject('workspace', workspace);
      const archived = req.query.get('archived');
      const projects = ctx.state.projects.filter((p) => p.workspace === workspace && (archived === null || String(p.archived) === archived));
      return page(req, ctx, projects, (p) => ({ gid: p.gid, resource_type: 'project', name: p.name }));
    }),
    route('GET', '/tasks', (req, ctx) => {
      const project = req.query.get('project');
      if (!project) return asanaError(400, 'Must specify exactly one of project, tag, section, user task list, or assignee + workspace');
      if (!ctx.state.projects.some((p) => p.gid === project)) return unknownObject('project', project);
      const since = req.query.get('modified_since');
      if (since !== null && Number.isNaN(Date.parse(since))) return asanaError(400, `modified_since: Not a date-time: ${since}`);
      const fields = optFields(req);
      const tasks = ctx.state.tasks.filter((t) => t.projects.includes(project) && (since === null || Date.parse(t.modified_at) >= Date.parse(since)));
      return page(req, ctx, tasks, (t) => renderTask(ctx.state, t, fields, false));
    }),
    route('POST', '/tasks', (req, ctx, me) => {
      const data = body(req);
      if (!data) return asanaError(400, 'data: Missing input');
      const projects = Array.isArray(data.projects) ? data.projects.map(String) : [];
      for (const p of projects) if (!ctx.state.projects.some((x) => x.gid === p)) return unknownObject('project', p);
      const workspace = data.workspace ? String(data.workspace) : ctx.state.projects.find((p) => p.gid === projects[0])?.workspace;
      if (!workspace) return asanaError(400, 'You should specify one of workspace, parent, projects');
      const at = isoNow(ctx.now());
      const t: Task = { gid: gid(ctx.state), name: '', notes: '', completed: false, due_on: null, assignee: null, projects, workspace, created_at: at, modified_at: at };
      const problem = applyTaskFields(ctx.state, t, data, me);
      if (problem) return problem;
      ctx.state.tasks.push(t);
      return json(201, { data: renderTask(ctx.state, t, optFields(req), true) });
    }),
    route('GET', '/tasks/:gid', (req, ctx) => {
      const t = ctx.state.tasks.find((x) => x.gid === req.params.gid);
      return t ? json(200, { data: renderTask(ctx.state, t, optFields(req), true) }) : unknownObject('task', req.params.gid!);
    }),
    route('PUT', '/tasks/:gid', (req, ctx, me) => {
      const t = ctx.state.tasks.find((x) => x.gid === req.params.gid);
      if (!t) return unknownObject('task', req.params.gid!);
      const data = body(req);
      if (!data) return asanaError(400, 'data: Missing input');
      const copy = { ...t };
      const problem = applyTaskFields(ctx.state, copy, data, me);
      if (problem) return problem;
      Object.assign(t, copy, { modified_at: isoNow(ctx.now()) });
      return json(200, { data: renderTask(ctx.state, t, optFields(req), true) });
    }),
    route('POST', '/tasks/:gid/stories', (req, ctx, me) => {
      const t = ctx.state.tasks.find((x) => x.gid === req.params.gid);
      if (!t) return unknownObject('task', req.params.gid!);
      const data = body(req);
      if (!data || (typeof data.text !== 'string' && typeof data.html_text !== 'string')) return asanaError(400, 'text: Missing input');
      const at = isoNow(ctx.now());
      const story: Story = { gid: gid(ctx.state), task: t.gid, text: String(data.text ?? data.html_text), created_by: me, created_at: at };
      ctx.state.stories.push(story);
      t.modified_at = at;
      const user = ctx.state.users.find((u) => u.gid === me)!;
      return json(201, {
        data: {
          gid: story.gid,
          resource_type: 'story',
          resource_subtype: 'comment_added',
          type: 'comment',
          text: story.text,
          created_at: at,
          created_by: { gid: user.gid, resource_type: 'user', name: user.name },
          target: { gid: t.gid, resource_type: 'task', name: t.name },
        },
      });
    }),
  ],
  tick(ctx) {
    const project = ctx.state.projects[0];
    if (!project) return;
    const at = isoNow(ctx.now());
    const n = ctx.state.tasks.length + 1;
    ctx.state.tasks.push({
      gid: gid(ctx.state),
      name: `Follow up on request #${n}`,
      notes: 'Added by a teammate',
      completed: false,
      due_on: null,
      assignee: null,
      projects: [project.gid],
      workspace: project.workspace,
      created_at: at,
      modified_at: at,
    });
    // A churning demo sandbox stays bounded: the newest tasks are kept.
    if (ctx.state.tasks.length > 5000) ctx.state.tasks.splice(0, ctx.state.tasks.length - 5000);
  },
};
