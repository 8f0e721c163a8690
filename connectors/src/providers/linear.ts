import { ensureOk } from '../runtime';
import { ActionContext, defineAction, defineConnector, definePollTrigger, HttpError, ProviderError } from '../types';
import { arr, int, logo, nullable, obj, oneOf, res, str } from './shared';
import { HighWater } from './high-water';
import { isHighWater, pollWindow } from './poll';

interface GraphQLError {
  message: string;
  extensions?: { code?: string; userPresentableMessage?: string };
}

/**
 * One GraphQL call. Linear answers errors in `errors[]` whatever the HTTP status (200 when a field
 * failed, 400 for a bad document), so the code decides: RATELIMITED becomes a retryable 429
 * HttpError, AUTHENTICATION_ERROR a 401, anything else a ProviderError with Linear's code.
 */
export async function linearQuery<T>(ctx: Pick<ActionContext, 'http'>, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const request = { method: 'POST' as const, path: 'graphql', body: { query, variables } };
  const response = await ctx.http.request<{ data?: T; errors?: GraphQLError[] }>(request);
  const errors = response.data && typeof response.data === 'object' ? response.data.errors : undefined;
  if (!errors?.length) return ensureOk(response, request).data.data as T;
  const first = errors[0]!;
  const code = first.extensions?.code ?? 'GRAPHQL_ERROR';
  const message = first.extensions?.userPresentableMessage ?? first.message;
  if (code === 'RATELIMITED') {
    const reset = Number(response.headers['x-ratelimit-requests-reset']);
    const wait = Number.isFinite(reset) && reset > 0 ? Math.max(1, Math.ceil((reset - Date.now()) / 1000)) : 60;
    throw new HttpError(`Linear rate limit: ${message}`, 429, response.data, { ...response.headers, 'retry-after': String(wait) });
  }
  if (code === 'AUTHENTICATION_ERROR') throw new HttpError(`Linear: ${message}`, 401, response.data, response.headers);
  throw new ProviderError(`Linear: ${message}`, code, errors);
}

const ISSUE_FIELDS = 'id identifier number title description priority priorityLabel url createdAt updatedAt state { id name type } team { id key name } assignee { id name email }';

export interface LinearIssue {
  id: string;
  identifier: string;
  number: number;
  title: string;
  description: string | null;
  priority: number;
  priorityLabel: string;
  url: string;
  createdAt: string;
  updatedAt: string;
  state: { id: string; name: string; type: string };
  team: { id: string; key: string; name: string };
  assignee: { id: string; name: string; email: string } | null;
}

function issueOut(i: LinearIssue) {
  return {
    id: i.id,
    identifier: i.identifier,
    title: i.title,
    description: i.description,
    priority: i.priority,
    priority_label: i.priorityLabel,
    url: i.url,
    state: i.state.name,
    state_type: i.state.type,
    team_key: i.team.key,
    team_id: i.team.id,
    assignee: i.assignee?.name ?? null,
    assignee_id: i.assignee?.id ?? null,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
  };
}

const issueSchema = res(
  {
    id: str('Id'),
    identifier: str('Identifier', { description: 'e.g. ENG-123' }),
    title: str('Title'),
    description: nullable(str('Description')),
    priority: int('Priority', { description: '0 none, 1 urgent, 2 high, 3 medium, 4 low' }),
    priority_label: str('Priority label'),
    url: str('Link'),
    state: str('State'),
    state_type: str('State type', { description: 'backlog, unstarted, started, completed, canceled, triage' }),
    team_key: str('Team key'),
    team_id: str('Team id'),
    assignee: nullable(str('Assignee')),
    assignee_id: nullable(str('Assignee id')),
    created_at: str('Created'),
    updated_at: str('Updated'),
  },
  ['id', 'identifier', 'title', 'url'],
);

const TEAM = str('Team', { 'x-options': 'teams' });
const STATE = str('State', { 'x-options': 'workflow_states', description: 'A workflow state of the issue’s team' });
const PRIORITY = int('Priority', { minimum: 0, maximum: 4, description: '0 none, 1 urgent, 2 high, 3 medium, 4 low' });
const ISSUE_ID = str('Issue', { description: 'Id or identifier (ENG-123)', minLength: 1 });

interface IssuePayload {
  success: boolean;
  issue: LinearIssue;
}

const createIssue = defineAction({
  name: 'Create issue',
  description: 'Creates an issue in a team (mutation issueCreate).',
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      team_id: TEAM,
      title: str('Title', { minLength: 1 }),
      description: str('Description', { description: 'Markdown' }),
      priority: PRIORITY,
      state_id: STATE,
      assignee_id: str('Assignee id'),
      label_ids: arr(str(), { title: 'Label ids' }),
    },
    ['team_id', 'title'],
  ),
  output: issueSchema,
  async run(ctx, input) {
    const out = await linearQuery<{ issueCreate: IssuePayload }>(
      ctx,
      `mutation IssueCreate($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { ${ISSUE_FIELDS} } } }`,
      {
        input: {
          teamId: input.team_id,
          title: input.title,
          description: input.description,
          priority: input.priority,
          stateId: input.state_id,
          assigneeId: input.assignee_id,
          labelIds: input.label_ids,
        },
      },
    );
    return issueOut(out.issueCreate.issue);
  },
});

const updateIssue = defineAction({
  name: 'Update issue',
  description: 'Sets fields of an issue: title, description, priority, state, assignee (mutation issueUpdate).',
  // Setting the same fields again changes nothing.
  readOnly: false,
  retrySafe: true,
  input: obj(
    {
      issue_id: ISSUE_ID,
      title: str('Title', { minLength: 1 }),
      description: str('Description', { description: 'Markdown' }),
      priority: PRIORITY,
      state_id: STATE,
      assignee_id: nullable(str('Assignee id', { description: 'null unassigns' })),
    },
    ['issue_id'],
    { minProperties: 2 },
  ),
  output: issueSchema,
  async run(ctx, input) {
    const out = await linearQuery<{ issueUpdate: IssuePayload }>(
      ctx,
      `mutation IssueUpdate($id: String!, $input: IssueUpdateInput!) { issueUpdate(id: $id, input: $input) { success issue { ${ISSUE_FIELDS} } } }`,
      {
        id: input.issue_id,
        input: { title: input.title, description: input.description, priority: input.priority, stateId: input.state_id, assigneeId: input.assignee_id },
      },
    );
    return issueOut(out.issueUpdate.issue);
  },
});

const addComment = defineAction({
  name: 'Comment on issue',
  description: 'Adds a comment to an issue (mutation commentCreate).',
  readOnly: false,
  retrySafe: false,
  input: obj({ issue_id: ISSUE_ID, body: str('Comment', { minLength: 1, description: 'Markdown' }) }, ['issue_id', 'body']),
  output: res({ id: str('Id'), url: str('Link'), created_at: str('Created') }, ['id', 'url']),
  async run(ctx, input) {
    const out = await linearQuery<{ commentCreate: { success: boolean; comment: { id: string; url: string; createdAt: string } } }>(
      ctx,
      'mutation CommentCreate($input: CommentCreateInput!) { commentCreate(input: $input) { success comment { id url createdAt } } }',
      { input: { issueId: input.issue_id, body: input.body } },
    );
    const c = out.commentCreate.comment;
    return { id: c.id, url: c.url, created_at: c.createdAt };
  },
});

interface Connection<T> {
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const findIssues = defineAction({
  name: 'Find issues',
  description: 'Lists issues matching a filter, most recently updated first (query issues).',
  readOnly: true,
  retrySafe: true,
  input: obj({
    team_id: TEAM,
    title_contains: str('Title contains'),
    state_type: oneOf({ title: 'State type', enum: ['triage', 'backlog', 'unstarted', 'started', 'completed', 'canceled'] }),
    assignee_id: str('Assignee id'),
    first: int('Page size', { minimum: 1, maximum: 250, default: 50 }),
    after: str('Page cursor', { description: 'next_cursor of the previous page' }),
  }),
  output: res({ issues: arr(issueSchema), next_cursor: str('Next page cursor') }, ['issues']),
  async run(ctx, input) {
    const filter: Record<string, unknown> = {};
    if (input.team_id) filter.team = { id: { eq: input.team_id } };
    if (input.title_contains) filter.title = { containsIgnoreCase: input.title_contains };
    if (input.state_type) filter.state = { type: { eq: input.state_type } };
    if (input.assignee_id) filter.assignee = { id: { eq: input.assignee_id } };
    const out = await linearQuery<{ issues: Connection<LinearIssue> }>(
      ctx,
      `query Issues($filter: IssueFilter, $first: Int, $after: String) { issues(filter: $filter, first: $first, after: $after, orderBy: updatedAt) { nodes { ${ISSUE_FIELDS} } pageInfo { hasNextPage endCursor } } }`,
      { filter, first: input.first ?? 50, after: input.after },
    );
    const issues = out.issues.nodes.map(issueOut);
    return out.issues.pageInfo.hasNextPage && out.issues.pageInfo.endCursor ? { issues, next_cursor: out.issues.pageInfo.endCursor } : { issues };
  },
});

function issueTrigger(field: 'createdAt' | 'updatedAt') {
  const updated = field === 'updatedAt';
  return definePollTrigger<HighWater>()({
    name: updated ? 'Issue created or updated' : 'New issue',
    description: updated ? 'An issue was created or changed (issues filtered by updatedAt); each change runs once.' : 'An issue was created (issues filtered by createdAt).',
    input: obj({ team_id: { ...TEAM, description: 'Only issues of this team (default: every team)' } }),
    output: issueSchema,
    intervalSeconds: 300,
    minIntervalSeconds: 60,
    async poll(ctx, { input, cursor, limit }) {
      const mark = isHighWater(cursor) ? cursor : null;
      if (mark && limit === 0) return { items: [], cursor: mark };
      // From the mark (inclusive: the same millisecond may hold more), or the last 30 days on a first poll.
      const filter: Record<string, unknown> = { [field]: { gte: mark ? mark.at : new Date(Date.now() - 30 * 86_400_000).toISOString() } };
      if (input.team_id) filter.team = { id: { eq: input.team_id } };
      const found: LinearIssue[] = [];
      let after: string | undefined;
      for (let i = 0; i < 5; i++) {
        const out = await linearQuery<{ issues: Connection<LinearIssue> }>(
          ctx,
          `query Poll($filter: IssueFilter, $first: Int, $after: String) { issues(filter: $filter, first: $first, after: $after, orderBy: ${field}) { nodes { ${ISSUE_FIELDS} } pageInfo { hasNextPage endCursor } } }`,
          { filter, first: 100, after },
        );
        found.push(...out.issues.nodes);
        after = out.issues.pageInfo.hasNextPage ? (out.issues.pageInfo.endCursor ?? undefined) : undefined;
        // The window is read whole (up to 500) and ordered here, whatever order Linear lists it in.
        if (!after) break;
      }
      return pollWindow(
        found,
        mark,
        limit,
        (i) => i[field],
        (i) => i.id,
        (i) => ({ id: i.id, ...(updated ? { dedupeKey: `${i.id}:${i.updatedAt}` } : {}), data: issueOut(i) }),
        { moreAtProvider: Boolean(after) },
      );
    },
  });
}

export const linearConnector = defineConnector({
  key: 'linear',
  name: 'Linear',
  description: 'Create, update, comment on and find issues in Linear; start flows when issues are created or updated.',
  logo: logo(
    '#5E6AD2',
    '<circle cx="32" cy="32" r="18" fill="none" stroke="#fff" stroke-width="5"/><path d="M18 38l8 8M16 30l18 18M20 22l22 22" stroke="#fff" stroke-width="4" stroke-linecap="round"/>',
  ),
  categories: ['project-management', 'developer-tools'],
  docsUrl: 'https://linear.app/developers/oauth-2-0-authentication',
  auth: {
    type: 'oauth2',
    authorizationUrl: 'https://linear.app/oauth/authorize',
    tokenUrl: 'https://api.linear.app/oauth/token',
    scopes: ['read', 'write'],
    scopeSeparator: ',',
    authorizationParams: { prompt: 'consent' },
    refreshable: true,
  },
  baseUrl: 'https://api.linear.app',
  // A bad token: AUTHENTICATION_ERROR in errors[] (checked whatever the status, besides 401).
  authFailure: { status: [401], bodyPath: 'errors.0.extensions.code', bodyValues: ['AUTHENTICATION_ERROR'] },
  actions: { create_issue: createIssue, update_issue: updateIssue, add_comment: addComment, find_issues: findIssues },
  options: {
    teams: {
      name: 'Teams',
      async run(ctx, { search, cursor }) {
        const out = await linearQuery<{ teams: Connection<{ id: string; key: string; name: string }> }>(
          ctx,
          'query Teams($filter: TeamFilter, $after: String) { teams(filter: $filter, first: 50, after: $after) { nodes { id key name } pageInfo { hasNextPage endCursor } } }',
          { filter: search ? { or: [{ name: { containsIgnoreCase: search } }, { key: { eqIgnoreCase: search } }] } : undefined, after: cursor },
        );
        const options = out.teams.nodes.map((t) => ({ value: t.id, label: t.name, description: t.key }));
        return out.teams.pageInfo.hasNextPage && out.teams.pageInfo.endCursor ? { options, nextCursor: out.teams.pageInfo.endCursor } : { options };
      },
    },
    workflow_states: {
      name: 'Workflow states',
      description: 'Every team’s states, as “TEAM · State”',
      async run(ctx, { search, cursor }) {
        const out = await linearQuery<{ workflowStates: Connection<{ id: string; name: string; type: string; team: { key: string } }> }>(
          ctx,
          'query States($filter: WorkflowStateFilter, $after: String) { workflowStates(filter: $filter, first: 50, after: $after) { nodes { id name type team { key } } pageInfo { hasNextPage endCursor } } }',
          { filter: search ? { or: [{ name: { containsIgnoreCase: search } }, { team: { key: { eqIgnoreCase: search } } }] } : undefined, after: cursor },
        );
        const options = out.workflowStates.nodes.map((s) => ({ value: s.id, label: `${s.team.key} · ${s.name}`, description: s.type }));
        return out.workflowStates.pageInfo.hasNextPage && out.workflowStates.pageInfo.endCursor ? { options, nextCursor: out.workflowStates.pageInfo.endCursor } : { options };
      },
    },
  },
  triggers: { new_issue: issueTrigger('createdAt'), updated_issue: issueTrigger('updatedAt') },
  async account(ctx) {
    const out = await linearQuery<{ viewer: { id: string; name: string; email: string }; organization: { id: string; name: string; urlKey: string } }>(
      ctx,
      '{ viewer { id name email } organization { id name urlKey } }',
    );
    return { id: out.viewer.id, name: `${out.viewer.name} <${out.viewer.email}> (${out.organization.name})`, details: { organization: out.organization } };
  },
});
