import { send } from '../runtime';
import { ActionContext, defineAction, defineConnector, definePollTrigger } from '../types';
import { arr, int, logo, matches, nullable, obj, pageLocally, res, str } from './shared';
import { HighWater } from './high-water';
import { isHighWater, pollWindow } from './poll';

const FIELDS = ['summary', 'status', 'issuetype', 'project', 'created', 'updated', 'assignee', 'priority', 'labels'];

export interface JiraIssue {
  id: string;
  key: string;
  self: string;
  fields: {
    summary: string;
    status?: { name: string; statusCategory?: { key: string } };
    issuetype?: { id: string; name: string };
    project?: { id: string; key: string; name: string };
    created: string;
    updated: string;
    assignee?: { accountId: string; displayName: string } | null;
    priority?: { name: string } | null;
    labels?: string[];
  };
}

/** What actions and triggers answer for an issue: flat, with the names people filter on. */
function issueOut(issue: JiraIssue) {
  const f = issue.fields;
  return {
    id: issue.id,
    key: issue.key,
    self: issue.self,
    summary: f.summary,
    status: f.status?.name ?? null,
    issue_type: f.issuetype?.name ?? null,
    project: f.project?.key ?? null,
    created: f.created,
    updated: f.updated,
    assignee: f.assignee?.displayName ?? null,
    assignee_account_id: f.assignee?.accountId ?? null,
    priority: f.priority?.name ?? null,
    labels: f.labels ?? [],
  };
}

const issueSchema = res(
  {
    id: str('Id'),
    key: str('Key', { description: 'e.g. SUP-12' }),
    self: str('API link'),
    summary: str('Summary'),
    status: nullable(str('Status')),
    issue_type: nullable(str('Issue type')),
    project: nullable(str('Project key')),
    created: str('Created'),
    updated: str('Updated'),
    assignee: nullable(str('Assignee')),
    assignee_account_id: nullable(str('Assignee account id')),
    priority: nullable(str('Priority')),
    labels: arr(str()),
  },
  ['id', 'key', 'summary'],
);

/** Jira answers `2026-01-15T12:00:00.000+0000`; Date.parse wants the offset with a colon. */
export function jiraTime(value: string): number {
  return Date.parse(value.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
}

/** JQL dates are minutes in the user's own time zone (`2026-01-15 13:00`). */
export function jqlDate(ms: number, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/** Plain text as an Atlassian Document (v3 takes rich text only in this format): a paragraph per line. */
export function adf(text: string) {
  return {
    type: 'doc',
    version: 1,
    content: text.split(/\r?\n/).map((line) => ({ type: 'paragraph', content: line ? [{ type: 'text', text: line }] : [] })),
  };
}

const jqlQuote = (value: string) => `"${value.replace(/(["\\])/g, '\\$1')}"`;

async function searchJql(ctx: ActionContext, jql: string, maxResults: number, nextPageToken?: string) {
  return send<{ issues: JiraIssue[]; nextPageToken?: string; isLast?: boolean }>(ctx, {
    method: 'POST',
    path: 'rest/api/3/search/jql',
    body: { jql, maxResults, fields: FIELDS, nextPageToken },
  });
}

const PROJECT = str('Project', { description: 'Project key, e.g. SUP', 'x-options': 'projects' });
const issueKey = str('Issue key', { description: 'e.g. SUP-12', pattern: '^[A-Z][A-Z0-9_]+-[0-9]+$' });

const createIssue = defineAction({
  name: 'Create issue',
  description: 'Creates an issue in a project (POST /rest/api/3/issue).',
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      project: PROJECT,
      issue_type: str('Issue type', { description: 'Issue type id', 'x-options': 'issue_types' }),
      summary: str('Summary', { minLength: 1, maxLength: 255 }),
      description: str('Description', { description: 'Plain text; each line becomes a paragraph' }),
      labels: arr(str({ pattern: '^\\S+$' }), { title: 'Labels' }),
      priority: str('Priority', { description: 'Priority name, e.g. High' }),
      assignee_account_id: str('Assignee account id'),
    },
    ['project', 'issue_type', 'summary'],
  ),
  output: res({ id: str('Id'), key: str('Key'), self: str('API link') }, ['id', 'key']),
  async run(ctx, input) {
    const fields: Record<string, unknown> = { project: { key: input.project }, issuetype: { id: input.issue_type }, summary: input.summary };
    if (input.description) fields.description = adf(input.description);
    if (input.labels) fields.labels = input.labels;
    if (input.priority) fields.priority = { name: input.priority };
    if (input.assignee_account_id) fields.assignee = { accountId: input.assignee_account_id };
    return send<{ id: string; key: string; self: string }>(ctx, { method: 'POST', path: 'rest/api/3/issue', body: { fields } });
  },
});

const updateIssue = defineAction({
  name: 'Update issue',
  description: 'Sets fields of an issue (PUT /rest/api/3/issue/{key}) and answers the issue as it now is.',
  // A PUT setting the same fields again changes nothing.
  readOnly: false,
  retrySafe: true,
  input: obj(
    {
      issue_key: issueKey,
      summary: str('Summary', { minLength: 1, maxLength: 255 }),
      description: str('Description', { description: 'Plain text; replaces the description' }),
      labels: arr(str({ pattern: '^\\S+$' }), { title: 'Labels', description: 'Replaces the labels' }),
      priority: str('Priority', { description: 'Priority name, e.g. High' }),
      assignee_account_id: str('Assignee account id'),
    },
    ['issue_key'],
    { minProperties: 2 },
  ),
  output: issueSchema,
  async run(ctx, input) {
    const fields: Record<string, unknown> = {};
    if (input.summary !== undefined) fields.summary = input.summary;
    if (input.description !== undefined) fields.description = adf(input.description);
    if (input.labels !== undefined) fields.labels = input.labels;
    if (input.priority !== undefined) fields.priority = { name: input.priority };
    if (input.assignee_account_id !== undefined) fields.assignee = { accountId: input.assignee_account_id };
    const path = `rest/api/3/issue/${encodeURIComponent(input.issue_key)}`;
    await send(ctx, { method: 'PUT', path, body: { fields } });
    return issueOut(await send<JiraIssue>(ctx, { method: 'GET', path, query: { fields: FIELDS.join(',') } }));
  },
});

const addComment = defineAction({
  name: 'Comment on issue',
  description: 'Adds a comment to an issue (POST /rest/api/3/issue/{key}/comment).',
  readOnly: false,
  retrySafe: false,
  input: obj({ issue_key: issueKey, body: str('Comment', { minLength: 1, description: 'Plain text' }) }, ['issue_key', 'body']),
  output: res({ id: str('Id'), self: str('API link'), created: str('Created') }, ['id']),
  async run(ctx, input) {
    const comment = await send<{ id: string; self: string; created: string }>(ctx, {
      method: 'POST',
      path: `rest/api/3/issue/${encodeURIComponent(input.issue_key)}/comment`,
      body: { body: adf(input.body) },
    });
    return { id: comment.id, self: comment.self, created: comment.created };
  },
});

const findIssues = defineAction({
  name: 'Find issues (JQL)',
  description: 'Searches issues with JQL (POST /rest/api/3/search/jql). The query must be bounded, e.g. by project or date.',
  readOnly: true,
  retrySafe: true,
  input: obj(
    {
      jql: str('JQL', { minLength: 1, examples: ['project = SUP AND status = "To Do" ORDER BY created DESC'] }),
      max_results: int('Page size', { minimum: 1, maximum: 100, default: 50 }),
      page_token: str('Page token', { description: 'next_page_token of the previous page' }),
    },
    ['jql'],
  ),
  output: res({ issues: arr(issueSchema), next_page_token: str('Next page token') }, ['issues']),
  async run(ctx, input) {
    const page = await searchJql(ctx, input.jql, input.max_results ?? 50, input.page_token);
    return page.nextPageToken ? { issues: page.issues.map(issueOut), next_page_token: page.nextPageToken } : { issues: page.issues.map(issueOut) };
  },
});

/** The cursor of Jira's poll triggers: the high-water mark, and the user's time zone JQL dates are read in. */
export interface JiraCursor {
  mark: HighWater;
  timeZone: string;
}

function issueTrigger(field: 'created' | 'updated') {
  const updated = field === 'updated';
  return definePollTrigger<JiraCursor>()({
    name: updated ? 'Issue created or updated' : 'New issue',
    description: updated ? 'An issue was created or changed (JQL updated >= …, oldest first); each change runs once.' : 'An issue was created (JQL created >= …, oldest first).',
    input: obj({ project: { ...PROJECT, description: 'Only issues of this project (default: every project)' } }),
    output: issueSchema,
    intervalSeconds: 300,
    minIntervalSeconds: 60,
    async poll(ctx, { input, cursor, limit }) {
      const timeZone = cursor?.timeZone ?? (await send<{ timeZone?: string }>(ctx, { method: 'GET', path: 'rest/api/3/myself' })).timeZone ?? 'UTC';
      const mark = isHighWater(cursor?.mark) ? cursor!.mark : null;
      if (mark && limit === 0) return { items: [], cursor: cursor! };
      const scope = input.project ? `project = ${jqlQuote(input.project)} AND ` : '';
      // JQL is bounded by minutes: ask from the mark's minute and drop what the mark already covers.
      const jql = mark
        ? `${scope}${field} >= ${jqlQuote(jqlDate(Date.parse(mark.at), timeZone))} ORDER BY ${field} ASC, key ASC`
        : `${scope}${field} >= -30d ORDER BY ${field} DESC`;
      const found: JiraIssue[] = [];
      let token: string | undefined;
      for (let i = 0; i < 5; i++) {
        const page = await searchJql(ctx, jql, 100, token);
        found.push(...page.issues);
        token = page.nextPageToken;
        if (!mark || !token || found.length > limit + 100) break;
      }
      const page = pollWindow(
        found,
        mark,
        limit,
        (issue) => new Date(jiraTime(issue.fields[field])).toISOString(),
        (issue) => issue.id,
        (issue) => ({ id: issue.id, ...(updated ? { dedupeKey: `${issue.id}:${issue.fields.updated}` } : {}), data: issueOut(issue) }),
        { moreAtProvider: Boolean(token) },
      );
      return { items: page.items, cursor: { mark: page.cursor, timeZone }, more: page.more };
    },
  });
}

export const jiraConnector = defineConnector({
  key: 'jira',
  name: 'Jira',
  description: 'Create, update, comment on and search issues in Jira Cloud; start flows when issues are created or updated.',
  logo: logo('#0052CC', '<path d="M32 12l20 20-20 20-20-20z" fill="none" stroke="#fff" stroke-width="5" stroke-linejoin="round"/><circle cx="32" cy="32" r="6" fill="#fff"/>'),
  categories: ['project-management', 'developer-tools'],
  docsUrl: 'https://developer.atlassian.com/cloud/jira/platform/rest/v3/intro/',
  auth: {
    type: 'oauth2',
    authorizationUrl: 'https://auth.atlassian.com/authorize',
    tokenUrl: 'https://auth.atlassian.com/oauth/token',
    scopes: ['offline_access', 'read:jira-work', 'write:jira-work', 'read:jira-user'],
    scopeSeparator: ' ',
    pkce: false,
    authorizationParams: { audience: 'api.atlassian.com', prompt: 'consent' },
    tokenRequestFormat: 'json',
    // Rotating refresh tokens; access tokens live an hour.
    refreshable: true,
  },
  connectionConfig: { cloud_id: { title: 'Atlassian site (cloud) ID', fromAccount: true } },
  // Paths: rest/api/3/…
  baseUrl: 'https://api.atlassian.com/ex/jira/{{cloud_id}}',
  baseUrls: { atlassian: 'https://api.atlassian.com' },
  pagination: { style: 'offset', offsetParam: 'startAt', limitParam: 'maxResults' },
  actions: { create_issue: createIssue, update_issue: updateIssue, add_comment: addComment, find_issues: findIssues },
  options: {
    projects: {
      name: 'Projects',
      description: 'Projects the user can browse, by name',
      async run(ctx, { search, cursor }) {
        const startAt = cursor ? Number.parseInt(cursor, 10) || 0 : 0;
        const page = await send<{ values: { id: string; key: string; name: string; projectTypeKey?: string }[]; startAt: number; maxResults: number; isLast: boolean }>(ctx, {
          method: 'GET',
          path: 'rest/api/3/project/search',
          query: { query: search || undefined, startAt, maxResults: 50, orderBy: 'name' },
        });
        const options = page.values.map((p) => ({ value: p.key, label: `${p.name} (${p.key})`, description: p.projectTypeKey }));
        return page.isLast ? { options } : { options, nextCursor: String(page.startAt + page.values.length) };
      },
    },
    issue_types: {
      name: 'Issue types',
      description: 'Issue types the user can see',
      async run(ctx, { search, cursor }) {
        const types = await send<{ id: string; name: string; description?: string; subtask: boolean; scope?: { project?: { id: string } } }[]>(ctx, {
          method: 'GET',
          path: 'rest/api/3/issuetype',
        });
        const items = types
          .filter((t) => matches(search, t.name, t.description))
          .map((t) => ({ value: t.id, label: t.subtask ? `${t.name} (sub-task)` : t.name, description: t.description || undefined }));
        return pageLocally(items, cursor);
      },
    },
  },
  triggers: { new_issue: issueTrigger('created'), updated_issue: issueTrigger('updated') },
  async account(ctx) {
    // Also proves which site (cloud id) the grant covers: the API base needs it.
    const sites = await send<{ id: string; url: string; name: string; scopes: string[] }[]>(ctx, { method: 'GET', base: 'atlassian', path: 'oauth/token/accessible-resources' });
    const site = sites.find((s) => s.scopes.some((scope) => scope.includes('jira'))) ?? sites[0];
    if (!site) throw new Error('The grant covers no Atlassian site');
    return { id: site.id, name: `${site.name} (${new URL(site.url).host})`, details: { url: site.url, scopes: site.scopes }, config: { cloud_id: site.id } };
  },
});
