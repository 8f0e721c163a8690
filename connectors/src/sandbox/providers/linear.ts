/**
 * Linear's GraphQL API (POST https://api.linear.app/graphql) on the graphql-lite core: viewer,
 * organization, teams, workflow states and issues with Linear's filters (`{ field: { gte: … } }`,
 * and/or, nested team/state/assignee), relay pagination (`first`/`after`, `pageInfo { hasNextPage
 * endCursor }`, newest first by createdAt or updatedAt), and the mutations issueCreate,
 * issueUpdate and commentCreate. Errors come in `errors[]`: HTTP 400 for a document that does not
 * validate, 401 for authentication (AUTHENTICATION_ERROR), 429 for rate limiting (RATELIMITED,
 * with X-RateLimit-Requests-* headers), HTTP 200 with a null field for a resolver's failure (an
 * unknown entity, a bad input).
 */
import { randomUUID } from 'node:crypto';
import { bearerToken, decodeCursor, encodeCursor, json, ProviderModule, SandboxAccount, SandboxResponse } from '../core';
import { connectionTypes, execute, GqlError, pageInfoType, Schema } from './graphql-lite';
import { overBudget, throttle, Throttle } from './throttle';

export interface LinearStoredIssue {
  id: string;
  teamId: string;
  number: number;
  title: string;
  description: string | null;
  priority: number;
  stateId: string;
  assigneeId: string | null;
  creatorId: string;
  labelIds: string[];
  createdAt: number;
  updatedAt: number;
}

export interface LinearState {
  users: { id: string; name: string; displayName: string; email: string; admin: boolean }[];
  teams: { id: string; key: string; name: string; description: string | null }[];
  states: { id: string; teamId: string; name: string; type: 'backlog' | 'unstarted' | 'started' | 'completed' | 'canceled'; color: string; position: number }[];
  labels: { id: string; name: string; color: string }[];
  issues: LinearStoredIssue[];
  comments: { id: string; issueId: string; userId: string; body: string; createdAt: number }[];
  lastSyncId: number;
  rateLimit: Throttle;
}

const ORG = { id: 'c2bd1d9e-8a7b-4a1f-9d3e-1b5b6f0a7e11', name: 'Acme', urlKey: 'acme' };
const PRIORITY_LABELS = ['No priority', 'Urgent', 'High', 'Medium', 'Low'];
const STATE_TEMPLATE = [
  { name: 'Backlog', type: 'backlog', color: '#bec2c8' },
  { name: 'Todo', type: 'unstarted', color: '#e2e2e2' },
  { name: 'In Progress', type: 'started', color: '#f2c94c' },
  { name: 'Done', type: 'completed', color: '#5e6ad2' },
  { name: 'Canceled', type: 'canceled', color: '#95a2b3' },
] as const;

/** A stable UUID-looking id (seeded data keeps the same ids across resets). */
const uuid = (kind: number, n: number) => `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

function seed(): LinearState {
  const now = Date.now();
  const teams = [
    { id: uuid(1, 1), key: 'ENG', name: 'Engineering', description: 'Product engineering' },
    { id: uuid(1, 2), key: 'DES', name: 'Design', description: null },
    { id: uuid(1, 3), key: 'OPS', name: 'Operations', description: null },
  ];
  for (let i = 1; i <= 50; i++) teams.push({ id: uuid(1, 100 + i), key: `SQ${i}`, name: `Squad ${String(i).padStart(3, '0')}`, description: null });
  const states: LinearState['states'] = [];
  teams.forEach((t, ti) => STATE_TEMPLATE.forEach((s, si) => states.push({ id: uuid(2, ti * 10 + si), teamId: t.id, name: s.name, type: s.type, color: s.color, position: si })));
  const users = [
    { id: uuid(3, 1), name: 'Karri Saarinen', displayName: 'karri', email: 'karri@acme.test', admin: true },
    { id: uuid(3, 2), name: 'Nan Yu', displayName: 'nan', email: 'nan@globex.test', admin: false },
  ];
  const titles = ['Onboarding flow drops users', 'Rate limit the export API', 'Dark mode for settings', 'Flaky checkout test'];
  const issues = titles.map((title, i) => {
    const at = now - (titles.length - i) * 3_600_000;
    return {
      id: uuid(4, i + 1),
      teamId: teams[0]!.id,
      number: i + 1,
      title,
      description: null,
      priority: 3,
      stateId: states[1]!.id,
      assigneeId: null,
      creatorId: users[0]!.id,
      labelIds: [],
      createdAt: at,
      updatedAt: at,
    };
  });
  return {
    users,
    teams,
    states,
    labels: [
      { id: uuid(5, 1), name: 'Bug', color: '#eb5757' },
      { id: uuid(5, 2), name: 'Feature', color: '#bb87fc' },
    ],
    issues,
    comments: [],
    lastSyncId: 1000,
    rateLimit: throttle(),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
const slug = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);

const COMPARATORS = ['eq', 'eqIgnoreCase', 'neq', 'in', 'nin', 'gt', 'gte', 'lt', 'lte', 'contains', 'containsIgnoreCase', 'notContains', 'startsWith', 'endsWith', 'null'];

function compare(have: unknown, op: string, want: any): boolean {
  const date = (v: unknown) => (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? Date.parse(v) : v);
  const h = date(have) as any;
  const w = Array.isArray(want) ? want.map(date) : (date(want) as any);
  switch (op) {
    case 'eq':
      return h === w;
    case 'eqIgnoreCase':
      return String(h ?? '').toLowerCase() === String(w).toLowerCase();
    case 'neq':
      return h !== w;
    case 'in':
      return Array.isArray(w) && w.includes(h);
    case 'nin':
      return Array.isArray(w) && !w.includes(h);
    case 'gt':
      return h > w;
    case 'gte':
      return h >= w;
    case 'lt':
      return h < w;
    case 'lte':
      return h <= w;
    case 'contains':
      return String(h ?? '').includes(String(w));
    case 'containsIgnoreCase':
      return String(h ?? '')
        .toLowerCase()
        .includes(String(w).toLowerCase());
    case 'notContains':
      return !String(h ?? '').includes(String(w));
    case 'startsWith':
      return String(h ?? '').startsWith(String(w));
    case 'endsWith':
      return String(h ?? '').endsWith(String(w));
    default:
      return (h === null || h === undefined) === Boolean(w);
  }
}

/** Linear's filter objects over a plain view of the entity; unknown fields are an input error. */
function matchesFilter(view: Record<string, unknown>, filter: Record<string, any> | undefined | null, type: string): boolean {
  if (!filter) return true;
  return Object.entries(filter).every(([key, cond]) => {
    if (cond === undefined || cond === null) return true;
    if (key === 'and') return (cond as Record<string, any>[]).every((f) => matchesFilter(view, f, type));
    if (key === 'or') return (cond as Record<string, any>[]).some((f) => matchesFilter(view, f, type));
    if (!(key in view)) throw new GqlError(`Field "${key}" is not defined by type "${type}".`, { code: 'GRAPHQL_VALIDATION_FAILED' });
    const have = view[key];
    const ops = Object.keys(cond);
    if (ops.every((op) => COMPARATORS.includes(op))) return ops.every((op) => compare(have, op, cond[op]));
    if (have === null) return false;
    return matchesFilter(have as Record<string, unknown>, cond, `${key[0]!.toUpperCase()}${key.slice(1)}Filter`);
  });
}

/** A relay page of `items` (already in order). */
function page<T extends { id: string }>(items: T[], args: { first?: number; after?: string }) {
  const first = args.first ?? 50;
  if (first < 1 || first > 250) throw new GqlError('first must be between 1 and 250', { code: 'INVALID_INPUT', type: 'invalid input' });
  const start = args.after ? decodeCursor(args.after) : 0;
  if (start === null) throw new GqlError('Invalid cursor', { code: 'INVALID_INPUT', type: 'invalid input' });
  const nodes = items.slice(start, start + first);
  const cursors = nodes.map((_, i) => encodeCursor(start + i + 1));
  return {
    nodes,
    cursors,
    pageInfo: { hasNextPage: start + first < items.length, hasPreviousPage: start > 0, startCursor: cursors[0] ?? null, endCursor: cursors[cursors.length - 1] ?? null },
  };
}

function inputError(message: string): GqlError {
  return new GqlError('Argument Validation Error', { code: 'INVALID_INPUT', type: 'invalid input', userError: true, userPresentableMessage: message });
}

function notFound(entity: string): GqlError {
  return new GqlError(`Entity not found: ${entity}`, {
    code: 'INPUT_ERROR',
    type: 'invalid input',
    userError: true,
    userPresentableMessage: `Could not find referenced ${entity}.`,
  });
}

/** The schema, bound to the state and the calling user. */
function schemaFor(state: LinearState, viewer: SandboxAccount, now: number): Schema {
  const team = (id: string) => state.teams.find((t) => t.id === id)!;
  const issueView = (i: LinearStoredIssue) => {
    const s = state.states.find((x) => x.id === i.stateId)!;
    const t = team(i.teamId);
    const a = state.users.find((u) => u.id === i.assigneeId) ?? null;
    return {
      id: i.id,
      title: i.title,
      description: i.description,
      priority: i.priority,
      number: i.number,
      createdAt: iso(i.createdAt),
      updatedAt: iso(i.updatedAt),
      team: { id: t.id, key: t.key, name: t.name },
      state: { id: s.id, name: s.name, type: s.type },
      assignee: a && { id: a.id, name: a.name, email: a.email },
    };
  };
  const findIssue = (id: string) => {
    const m = /^([A-Z0-9]+)-(\d+)$/.exec(id);
    const found = m ? state.issues.find((i) => team(i.teamId).key === m[1] && i.number === Number(m[2])) : state.issues.find((i) => i.id === id);
    if (!found) throw notFound('Issue');
    return found;
  };
  const sorted = (items: LinearStoredIssue[], orderBy: string | undefined) => {
    const key = orderBy === 'updatedAt' ? 'updatedAt' : 'createdAt';
    // Newest first, like Linear's lists.
    return [...items].sort((x, y) => y[key] - x[key] || (x.id < y.id ? 1 : -1));
  };
  const applyIssueInput = (issue: LinearStoredIssue, input: Record<string, any>) => {
    if (input.title !== undefined) {
      if (typeof input.title !== 'string' || !input.title.trim()) throw inputError('Title cannot be empty.');
      issue.title = input.title;
    }
    if (input.description !== undefined) issue.description = input.description;
    if (input.priority !== undefined) {
      if (!Number.isInteger(input.priority) || input.priority < 0 || input.priority > 4) throw inputError('priority must be an integer from 0 to 4.');
      issue.priority = input.priority;
    }
    if (input.stateId !== undefined) {
      const s = state.states.find((x) => x.id === input.stateId);
      if (!s) throw notFound('WorkflowState');
      if (s.teamId !== issue.teamId) throw inputError('The workflow state does not belong to the issue’s team.');
      issue.stateId = s.id;
    }
    if (input.assigneeId !== undefined) {
      if (input.assigneeId !== null && !state.users.some((u) => u.id === input.assigneeId)) throw notFound('User');
      issue.assigneeId = input.assigneeId;
    }
    if (input.labelIds !== undefined) {
      if (!input.labelIds.every((l: string) => state.labels.some((x) => x.id === l))) throw notFound('IssueLabel');
      issue.labelIds = input.labelIds;
    }
  };
  const user = (id: string | null) => state.users.find((u) => u.id === id) ?? null;
  return {
    Query: {
      viewer: { type: 'User', resolve: () => state.users.find((u) => u.email === viewer.email) ?? state.users[0] },
      organization: { type: 'Organization', resolve: () => ORG },
      teams: {
        type: 'TeamConnection',
        resolve: (_, a) =>
          page(
            state.teams.filter((t) => matchesFilter({ id: t.id, key: t.key, name: t.name }, a.filter, 'TeamFilter')),
            a,
          ),
      },
      team: {
        type: 'Team',
        resolve: (_, a) =>
          state.teams.find((t) => t.id === a.id) ??
          (() => {
            throw notFound('Team');
          })(),
      },
      workflowStates: {
        type: 'WorkflowStateConnection',
        resolve: (_, a) =>
          page(
            state.states.filter((s) =>
              matchesFilter({ id: s.id, name: s.name, type: s.type, team: { id: s.teamId, key: team(s.teamId).key, name: team(s.teamId).name } }, a.filter, 'WorkflowStateFilter'),
            ),
            a,
          ),
      },
      issues: {
        type: 'IssueConnection',
        resolve: (_, a) =>
          page(
            sorted(
              state.issues.filter((i) => matchesFilter(issueView(i), a.filter, 'IssueFilter')),
              a.orderBy,
            ),
            a,
          ),
      },
      issue: { type: 'Issue', resolve: (_, a) => findIssue(String(a.id)) },
    },
    Mutation: {
      issueCreate: {
        type: 'IssuePayload',
        resolve: (_, a) => {
          const input = (a.input ?? {}) as Record<string, any>;
          const t = state.teams.find((x) => x.id === input.teamId);
          if (!t) throw notFound('Team');
          const issue: LinearStoredIssue = {
            id: randomUUID(),
            teamId: t.id,
            number: Math.max(0, ...state.issues.filter((i) => i.teamId === t.id).map((i) => i.number)) + 1,
            title: '',
            description: null,
            priority: 0,
            stateId: state.states.find((s) => s.teamId === t.id && s.type === 'unstarted')!.id,
            assigneeId: null,
            creatorId: (state.users.find((u) => u.email === viewer.email) ?? state.users[0]!).id,
            labelIds: [],
            createdAt: creationTime(state.issues, now),
            updatedAt: creationTime(state.issues, now),
          };
          applyIssueInput(issue, { title: input.title ?? '', ...input });
          state.issues.push(issue);
          return { success: true, lastSyncId: ++state.lastSyncId, issue };
        },
      },
      issueUpdate: {
        type: 'IssuePayload',
        resolve: (_, a) => {
          const issue = findIssue(String(a.id));
          applyIssueInput(issue, (a.input ?? {}) as Record<string, any>);
          issue.updatedAt = Math.max(now, issue.updatedAt + 1);
          return { success: true, lastSyncId: ++state.lastSyncId, issue };
        },
      },
      commentCreate: {
        type: 'CommentPayload',
        resolve: (_, a) => {
          const input = (a.input ?? {}) as Record<string, any>;
          const issue = findIssue(String(input.issueId ?? ''));
          if (typeof input.body !== 'string' || !input.body.trim()) throw inputError('Comment body cannot be empty.');
          const comment = {
            id: randomUUID(),
            issueId: issue.id,
            userId: (state.users.find((u) => u.email === viewer.email) ?? state.users[0]!).id,
            body: input.body,
            createdAt: now,
          };
          state.comments.push(comment);
          issue.updatedAt = Math.max(now, issue.updatedAt + 1);
          return { success: true, lastSyncId: ++state.lastSyncId, comment };
        },
      },
    },
    User: {
      id: { type: 'ID', resolve: (u) => u.id },
      name: { type: 'String', resolve: (u) => u.name },
      displayName: { type: 'String', resolve: (u) => u.displayName },
      email: { type: 'String', resolve: (u) => u.email },
      admin: { type: 'Boolean', resolve: (u) => u.admin },
      active: { type: 'Boolean', resolve: () => true },
      url: { type: 'String', resolve: (u) => `https://linear.app/${ORG.urlKey}/profiles/${u.displayName}` },
      organization: { type: 'Organization', resolve: () => ORG },
    },
    Organization: {
      id: { type: 'ID', resolve: (o) => o.id },
      name: { type: 'String', resolve: (o) => o.name },
      urlKey: { type: 'String', resolve: (o) => o.urlKey },
    },
    Team: {
      id: { type: 'ID', resolve: (t) => t.id },
      key: { type: 'String', resolve: (t) => t.key },
      name: { type: 'String', resolve: (t) => t.name },
      description: { type: 'String', resolve: (t) => t.description },
      private: { type: 'Boolean', resolve: () => false },
    },
    WorkflowState: {
      id: { type: 'ID', resolve: (s) => s.id },
      name: { type: 'String', resolve: (s) => s.name },
      type: { type: 'String', resolve: (s) => s.type },
      color: { type: 'String', resolve: (s) => s.color },
      position: { type: 'Float', resolve: (s) => s.position },
      team: { type: 'Team', resolve: (s) => team(s.teamId) },
    },
    IssueLabel: {
      id: { type: 'ID', resolve: (l) => l.id },
      name: { type: 'String', resolve: (l) => l.name },
      color: { type: 'String', resolve: (l) => l.color },
    },
    Issue: {
      id: { type: 'ID', resolve: (i) => i.id },
      identifier: { type: 'String', resolve: (i) => `${team(i.teamId).key}-${i.number}` },
      number: { type: 'Float', resolve: (i) => i.number },
      title: { type: 'String', resolve: (i) => i.title },
      description: { type: 'String', resolve: (i) => i.description },
      priority: { type: 'Float', resolve: (i) => i.priority },
      priorityLabel: { type: 'String', resolve: (i) => PRIORITY_LABELS[i.priority] },
      url: { type: 'String', resolve: (i) => `https://linear.app/${ORG.urlKey}/issue/${team(i.teamId).key}-${i.number}/${slug(i.title)}` },
      createdAt: { type: 'DateTime', resolve: (i) => iso(i.createdAt) },
      updatedAt: { type: 'DateTime', resolve: (i) => iso(i.updatedAt) },
      archivedAt: { type: 'DateTime', resolve: () => null },
      state: { type: 'WorkflowState', resolve: (i) => state.states.find((s) => s.id === i.stateId) },
      team: { type: 'Team', resolve: (i) => team(i.teamId) },
      assignee: { type: 'User', resolve: (i) => user(i.assigneeId) },
      creator: { type: 'User', resolve: (i) => user(i.creatorId) },
      labels: {
        type: 'IssueLabelConnection',
        resolve: (i, a) =>
          page(
            state.labels.filter((l) => i.labelIds.includes(l.id)),
            a,
          ),
      },
      comments: {
        type: 'CommentConnection',
        resolve: (i, a) =>
          page(
            state.comments.filter((c) => c.issueId === i.id),
            a,
          ),
      },
    },
    Comment: {
      id: { type: 'ID', resolve: (c) => c.id },
      body: { type: 'String', resolve: (c) => c.body },
      createdAt: { type: 'DateTime', resolve: (c) => iso(c.createdAt) },
      updatedAt: { type: 'DateTime', resolve: (c) => iso(c.createdAt) },
      url: {
        type: 'String',
        resolve: (c) => {
          const i = state.issues.find((x) => x.id === c.issueId)!;
          return `https://linear.app/${ORG.urlKey}/issue/${team(i.teamId).key}-${i.number}#comment-${c.id.slice(0, 8)}`;
        },
      },
      user: { type: 'User', resolve: (c) => user(c.userId) },
      issue: { type: 'Issue', resolve: (c) => state.issues.find((x) => x.id === c.issueId) },
    },
    IssuePayload: {
      success: { type: 'Boolean', resolve: (p) => p.success },
      lastSyncId: { type: 'Float', resolve: (p) => p.lastSyncId },
      issue: { type: 'Issue', resolve: (p) => p.issue },
    },
    CommentPayload: {
      success: { type: 'Boolean', resolve: (p) => p.success },
      lastSyncId: { type: 'Float', resolve: (p) => p.lastSyncId },
      comment: { type: 'Comment', resolve: (p) => p.comment },
    },
    ...connectionTypes('Team'),
    ...connectionTypes('WorkflowState'),
    ...connectionTypes('Issue'),
    ...connectionTypes('IssueLabel'),
    ...connectionTypes('Comment'),
    ...pageInfoType,
  };
}

/** An error answer outside GraphQL execution; the HTTP status is the one in extensions.statusCode. */
function linearError(status: number, message: string, code: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): SandboxResponse {
  return json(status, { errors: [{ message, extensions: { code, statusCode: status, ...extra } }] }, headers);
}

export const linearSandbox: ProviderModule<LinearState> = {
  key: 'linear',
  displayName: 'Linear',
  accounts: [
    { id: uuid(3, 1), name: 'Karri Saarinen', email: 'karri@acme.test' },
    { id: uuid(3, 2), name: 'Nan Yu', email: 'nan@globex.test' },
  ],
  tokenPrefix: { access: 'lin_oauth_', refresh: 'lin_refresh_' },
  oauth: {
    authorizePath: '/oauth/authorize',
    tokenPath: '/oauth/token',
    defaultTtlSeconds: 86_399,
    tokenResponse(issued) {
      return { access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn, scope: issued.scope.join(' '), refresh_token: issued.refreshToken };
    },
  },
  authError() {
    return linearError(401, 'Authentication required, not authenticated', 'AUTHENTICATION_ERROR', {
      type: 'authentication error',
      userError: true,
      userPresentableMessage: 'You need to authenticate to access this operation.',
    });
  },
  seed,
  tick(ctx) {
    const eng = ctx.state.teams[0]!;
    const n = ctx.state.issues.filter((i) => i.teamId === eng.id).length + 1;
    const at = creationTime(ctx.state.issues, ctx.now());
    ctx.state.issues.push({
      id: randomUUID(),
      teamId: eng.id,
      number: Math.max(0, ...ctx.state.issues.filter((i) => i.teamId === eng.id).map((i) => i.number)) + 1,
      title: `Bug report from a customer (#${n})`,
      description: null,
      priority: 2,
      stateId: ctx.state.states.find((s) => s.teamId === eng.id && s.type === 'backlog')!.id,
      assigneeId: null,
      creatorId: ctx.state.users[1]!.id,
      labelIds: [ctx.state.labels[0]!.id],
      createdAt: at,
      updatedAt: at,
    });
    // A churning demo keeps the newest 5,000.
    if (ctx.state.issues.length > 5000) ctx.state.issues.splice(0, ctx.state.issues.length - 5000);
  },
  routes: [
    {
      method: 'POST',
      path: '/graphql',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const wait = overBudget(ctx.state.rateLimit, bearerToken(req) ?? '', ctx.now());
        if (wait !== null) {
          return linearError(
            429,
            'Rate limit exceeded',
            'RATELIMITED',
            { type: 'ratelimited', userError: true, userPresentableMessage: 'Too many API requests.' },
            {
              'x-ratelimit-requests-limit': String(ctx.state.rateLimit.limit),
              'x-ratelimit-requests-remaining': '0',
              'x-ratelimit-requests-reset': String(ctx.now() + wait * 1000),
            },
          );
        }
        const answer = execute(schemaFor(ctx.state, a.account, ctx.now()), req.body);
        return json(answer.status, answer.body);
      },
    },
  ],
};

/** Issues created within one millisecond still get distinct, increasing creation times, as Linear's do: "newest first" is then one order. */
function creationTime(issues: Array<{ createdAt: number }>, now: number): number {
  let newest = 0;
  for (const issue of issues) if (issue.createdAt > newest) newest = issue.createdAt;
  return Math.max(now, newest + 1);
}
