/**
 * Jira Cloud behind Atlassian's OAuth 2.0 (3LO) gateway: auth.atlassian.com for consent and tokens,
 * api.atlassian.com for accessible-resources (which sites a grant covers) and the REST API v3 under
 * /ex/jira/{cloudId}. Searches take JQL (the subset flows use: AND-ed clauses, ORDER BY), read dates
 * in the user's time zone, refuse unbounded queries and page with nextPageToken.
 */
import { bearerToken, decodeCursor, encodeCursor, intParam, json, ProviderContext, ProviderModule, SandboxAccount, SandboxRequest, SandboxResponse } from '../core';
import { overBudget, throttle, Throttle } from './throttle';

export interface JiraStoredIssue {
  id: string;
  key: string;
  projectKey: string;
  issueTypeId: string;
  summary: string;
  description: unknown;
  status: string;
  labels: string[];
  priority: string;
  assigneeAccountId: string | null;
  reporterAccountId: string;
  created: number;
  updated: number;
  comments: { id: string; body: unknown; authorAccountId: string; created: number }[];
}

export interface JiraState {
  projects: { id: string; key: string; name: string; projectTypeKey: string }[];
  issueTypes: { id: string; name: string; description: string; subtask: boolean; hierarchyLevel: number }[];
  issues: JiraStoredIssue[];
  nextId: number;
  rateLimit: Throttle;
}

const PRIORITIES = ['Highest', 'High', 'Medium', 'Low', 'Lowest'];
const API = (cloudId: string) => `https://api.atlassian.com/ex/jira/${cloudId}`;

/** Jira's timestamp format: `2026-01-15T12:00:00.000+0000`. */
const jiraTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');

function jiraError(status: number, errorMessages: string[], errors: Record<string, string> = {}, headers: Record<string, string> = {}): SandboxResponse {
  return json(status, { errorMessages, errors }, headers);
}

function seed(): JiraState {
  const now = Date.now();
  const projects = [
    { id: '10000', key: 'SUP', name: 'Customer Support', projectTypeKey: 'service_desk' },
    { id: '10001', key: 'ENG', name: 'Engineering', projectTypeKey: 'software' },
    { id: '10002', key: 'MKT', name: 'Marketing', projectTypeKey: 'business' },
  ];
  // Enough projects to page the option source (50 a page).
  for (let i = 1; i <= 60; i++)
    projects.push({ id: String(10100 + i), key: `P${String(i).padStart(3, '0')}`, name: `Product line ${String(i).padStart(3, '0')}`, projectTypeKey: 'software' });
  const issues: JiraStoredIssue[] = [];
  const titles = ['Checkout page times out', 'Add SSO to admin console', 'Refund not showing in portal', 'Update pricing page copy', 'Export to CSV drops rows'];
  titles.forEach((summary, i) => {
    const projectKey = i % 2 === 0 ? 'SUP' : 'ENG';
    const created = now - (titles.length - i) * 3_600_000;
    issues.push({
      id: String(10010 + i),
      key: `${projectKey}-${issues.filter((x) => x.projectKey === projectKey).length + 1}`,
      projectKey,
      issueTypeId: i % 2 === 0 ? '10002' : '10001',
      summary,
      description: null,
      status: 'To Do',
      labels: [],
      priority: 'Medium',
      assigneeAccountId: null,
      reporterAccountId: '5b10ac8d82e05b22cc7d4ef5',
      created,
      updated: created,
      comments: [],
    });
  });
  return {
    projects,
    issueTypes: [
      { id: '10001', name: 'Task', description: 'A small, distinct piece of work.', subtask: false, hierarchyLevel: 0 },
      { id: '10002', name: 'Bug', description: 'A problem or error.', subtask: false, hierarchyLevel: 0 },
      { id: '10003', name: 'Story', description: 'Functionality or a feature expressed as a user goal.', subtask: false, hierarchyLevel: 0 },
      { id: '10004', name: 'Epic', description: 'A collection of related bugs, stories, and tasks.', subtask: false, hierarchyLevel: 1 },
      { id: '10005', name: 'Subtask', description: 'A small piece of work that is part of a larger task.', subtask: true, hierarchyLevel: -1 },
    ],
    issues,
    nextId: 10100,
    rateLimit: throttle(),
  };
}

/** The offset of `timeZone` from UTC at `ms`, in ms. */
function zoneOffset(ms: number, timeZone: string): number {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(ms))
      .map((x) => [x.type, Number(x.value)]),
  );
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - Math.floor(ms / 1000) * 1000;
}

/** A JQL date value: `2026-01-15 13:05`, `2026/01/15`, or relative `-30d`, `-4h`, `-15m`, `-2w`; local to the user. */
function jqlDateValue(value: string, timeZone: string, now: number): number | null {
  const rel = /^([-+]?)(\d+)([wdhm])$/.exec(value);
  if (rel) {
    const unit = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000 }[rel[3] as 'w' | 'd' | 'h' | 'm'];
    return now + (rel[1] === '-' ? -1 : 1) * Number(rel[2]) * unit;
  }
  const abs = /^(\d{4})[-/](\d{2})[-/](\d{2})(?: (\d{2}):(\d{2}))?$/.exec(value);
  if (!abs) return null;
  const local = Date.UTC(Number(abs[1]), Number(abs[2]) - 1, Number(abs[3]), Number(abs[4] ?? 0), Number(abs[5] ?? 0));
  return local - zoneOffset(local, timeZone);
}

type Token = { kind: 'word' | 'string' | 'op' | 'punct'; text: string };

function tokenize(jql: string): Token[] | string {
  const tokens: Token[] = [];
  const re = /\s*(?:(["'])((?:\\.|(?!\1).)*)\1|(!=|>=|<=|!~|[=~<>])|([(),])|([^\s"'(),=!~<>]+))/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < jql.length && (m = re.exec(jql))) {
    at = re.lastIndex;
    if (m[1]) tokens.push({ kind: 'string', text: m[2]!.replace(/\\(.)/g, '$1') });
    else if (m[3]) tokens.push({ kind: 'op', text: m[3] });
    else if (m[4]) tokens.push({ kind: 'punct', text: m[4] });
    else if (m[5]) tokens.push({ kind: 'word', text: m[5] });
  }
  if (jql.slice(at).trim()) return `Error in the JQL Query: The character '${jql.slice(at).trim()[0]}' is a reserved JQL character.`;
  return tokens;
}

interface Clause {
  field: string;
  op: string;
  values: string[];
}

/** The supported JQL: `field op value` clauses joined by AND, then ORDER BY. */
function parseJql(jql: string): { clauses: Clause[]; order: { field: string; desc: boolean }[] } | string {
  const tokens = tokenize(jql);
  if (typeof tokens === 'string') return tokens;
  let i = 0;
  const peek = () => tokens[i];
  const word = (t: Token | undefined, w: string) => t?.kind === 'word' && t.text.toUpperCase() === w;
  const clauses: Clause[] = [];
  const order: { field: string; desc: boolean }[] = [];
  while (i < tokens.length && !word(peek(), 'ORDER')) {
    if (clauses.length > 0) {
      if (!word(peek(), 'AND')) return `Error in the JQL Query: Expecting either 'OR' or 'AND' but got '${peek()?.text}'.`;
      i++;
    }
    const field = tokens[i++];
    const op = tokens[i++];
    if (!field || field.kind === 'punct' || !op) return `Error in the JQL Query: Expecting a field name but got '${field?.text ?? 'the end of the query'}'.`;
    let opText = op.text;
    if (op.kind === 'word' && op.text.toUpperCase() === 'IN') opText = 'in';
    else if (op.kind !== 'op') return `Error in the JQL Query: Expecting operator but got '${op.text}'.`;
    const values: string[] = [];
    if (opText === 'in') {
      if (peek()?.text !== '(') return `Error in the JQL Query: Expecting '(' but got '${peek()?.text}'.`;
      i++;
      while (i < tokens.length && peek()!.text !== ')') {
        if (peek()!.text !== ',') values.push(peek()!.text);
        i++;
      }
      i++;
    } else {
      const v = tokens[i++];
      if (!v || v.kind === 'punct') return `Error in the JQL Query: Expecting either a value, list or function but got '${v?.text ?? 'the end of the query'}'.`;
      values.push(v.kind === 'word' && tokens[i]?.text === '(' && tokens[i + 1]?.text === ')' ? `${v.text}()` : v.text);
      if (tokens[i]?.text === '(') i += 2;
    }
    clauses.push({ field: field.text.toLowerCase(), op: opText, values });
  }
  if (word(peek(), 'ORDER')) {
    i++;
    if (!word(peek(), 'BY')) return "Error in the JQL Query: Expecting 'BY' after 'ORDER'.";
    i++;
    while (i < tokens.length) {
      const field = tokens[i++]!;
      if (field.text === ',') continue;
      let desc = false;
      if (word(peek(), 'ASC') || word(peek(), 'DESC')) desc = tokens[i++]!.text.toUpperCase() === 'DESC';
      order.push({ field: field.text.toLowerCase(), desc });
    }
  }
  return { clauses, order };
}

const FIELD_NAMES = ['project', 'created', 'updated', 'summary', 'text', 'status', 'issuetype', 'labels', 'assignee', 'key', 'priority', 'id'];

function clauseMatcher(c: Clause, state: JiraState, account: SandboxAccount, now: number): ((issue: JiraStoredIssue) => boolean) | string {
  if (!FIELD_NAMES.includes(c.field)) return `Field '${c.field}' does not exist or you do not have permission to view it.`;
  const eqAny = (value: string) => c.values.some((v) => v.toLowerCase() === value.toLowerCase());
  const compare = (a: number, b: number) => ({ '=': a === b, '!=': a !== b, '>': a > b, '>=': a >= b, '<': a < b, '<=': a <= b })[c.op as '='];
  switch (c.field) {
    case 'created':
    case 'updated': {
      const at = jqlDateValue(c.values[0]!, account.timeZone!, now);
      if (at === null)
        return `Date value '${c.values[0]}' for field '${c.field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.`;
      return (issue) => Boolean(compare(issue[c.field as 'created'], at));
    }
    case 'summary':
    case 'text':
      if (c.op !== '~') return `The operator '${c.op}' is not supported by the '${c.field}' field.`;
      return (issue) => issue.summary.toLowerCase().includes(c.values[0]!.toLowerCase().replace(/\*$/, ''));
    case 'project':
      if (c.values.some((v) => !state.projects.some((p) => p.key.toLowerCase() === v.toLowerCase() || p.id === v))) {
        return `The value '${c.values.find((v) => !state.projects.some((p) => p.key.toLowerCase() === v.toLowerCase() || p.id === v))}' does not exist for the field 'project'.`;
      }
      return (issue) => (c.op === '!=' ? !eqAny(issue.projectKey) : eqAny(issue.projectKey) || eqAny(state.projects.find((p) => p.key === issue.projectKey)!.id));
    case 'assignee':
      return (issue) => (c.values[0] === 'currentUser()' ? issue.assigneeAccountId === account.id : eqAny(issue.assigneeAccountId ?? '')) !== (c.op === '!=');
    case 'issuetype':
      return (issue) => eqAny(state.issueTypes.find((t) => t.id === issue.issueTypeId)!.name) || eqAny(issue.issueTypeId);
    case 'labels':
      return (issue) => issue.labels.some(eqAny);
    default: {
      const value = (issue: JiraStoredIssue) => ({ status: issue.status, key: issue.key, priority: issue.priority, id: issue.id })[c.field as 'status'];
      return (issue) => eqAny(value(issue)) !== (c.op === '!=');
    }
  }
}

function issueJson(issue: JiraStoredIssue, state: JiraState, cloudId: string, accounts: SandboxAccount[], fields?: string[]) {
  const project = state.projects.find((p) => p.key === issue.projectKey)!;
  const type = state.issueTypes.find((t) => t.id === issue.issueTypeId)!;
  const user = (accountId: string | null) => {
    const a = accounts.find((x) => x.id === accountId);
    return a ? { accountId: a.id, displayName: a.name, emailAddress: a.email, active: true, timeZone: a.timeZone, accountType: 'atlassian' } : null;
  };
  const all: Record<string, unknown> = {
    summary: issue.summary,
    description: issue.description,
    status: { name: issue.status, id: issue.status === 'Done' ? '10002' : '10000', statusCategory: { key: issue.status === 'Done' ? 'done' : 'new' } },
    issuetype: { id: type.id, name: type.name, subtask: type.subtask, hierarchyLevel: type.hierarchyLevel },
    project: { id: project.id, key: project.key, name: project.name, projectTypeKey: project.projectTypeKey },
    created: jiraTime(issue.created),
    updated: jiraTime(issue.updated),
    assignee: user(issue.assigneeAccountId),
    reporter: user(issue.reporterAccountId),
    priority: { name: issue.priority, id: String(PRIORITIES.indexOf(issue.priority) + 1) },
    labels: issue.labels,
    comment: { comments: [], maxResults: 0, total: issue.comments.length, startAt: 0 },
  };
  const wanted = !fields || fields.includes('*all') || fields.includes('*navigable') ? Object.keys(all) : fields;
  return {
    expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations',
    id: issue.id,
    self: `${API(cloudId)}/rest/api/3/issue/${issue.id}`,
    key: issue.key,
    fields: Object.fromEntries(wanted.filter((f) => f in all).map((f) => [f, all[f]])),
  };
}

const isAdf = (v: unknown) => Boolean(v && typeof v === 'object' && (v as { type?: unknown }).type === 'doc' && (v as { version?: unknown }).version === 1);

/** Checks the token, the site (cloud id) it covers and the request budget; answers the account or the gateway's error. */
function authorizeSite(req: SandboxRequest, ctx: ProviderContext<JiraState>): { account: SandboxAccount } | { error: SandboxResponse } {
  const a = ctx.authorize(req);
  if ('error' in a) return a;
  if (req.params.cloudId !== undefined && req.params.cloudId !== a.account.cloudId) return { error: json(401, { code: 401, message: 'Unauthorized; scope does not match' }) };
  const wait = overBudget(ctx.state.rateLimit, bearerToken(req) ?? '', ctx.now());
  if (wait !== null)
    return { error: jiraError(429, ['Rate limit exceeded.'], {}, { 'retry-after': String(wait), 'x-ratelimit-reset': new Date(ctx.now() + wait * 1000).toISOString() }) };
  return { account: a.account };
}

function findIssue(state: JiraState, idOrKey: string): JiraStoredIssue | undefined {
  return state.issues.find((i) => i.id === idOrKey || i.key.toLowerCase() === idOrKey.toLowerCase());
}

function createIssue(state: JiraState, fields: Record<string, any>, reporter: string, now: number): JiraStoredIssue | Record<string, string> {
  const errors: Record<string, string> = {};
  const project = state.projects.find((p) => p.key === fields.project?.key || p.id === fields.project?.id);
  if (!project) errors.project = 'Specify a valid project ID or key';
  const type = state.issueTypes.find((t) => t.id === fields.issuetype?.id || t.name === fields.issuetype?.name);
  if (!type) errors.issuetype = 'Specify an issue type';
  if (typeof fields.summary !== 'string' || !fields.summary.trim()) errors.summary = 'You must specify a summary of the issue.';
  if (fields.description !== undefined && fields.description !== null && !isAdf(fields.description))
    errors.description = 'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
  if (fields.priority && !PRIORITIES.includes(fields.priority.name)) errors.priority = `Specify the Priority (name) in the string format`;
  if (Object.keys(errors).length) return errors;
  const issue: JiraStoredIssue = {
    id: String(state.nextId++),
    key: `${project!.key}-${state.issues.filter((i) => i.projectKey === project!.key).length + 1}`,
    projectKey: project!.key,
    issueTypeId: type!.id,
    summary: fields.summary,
    description: fields.description ?? null,
    status: 'To Do',
    labels: Array.isArray(fields.labels) ? fields.labels.map(String) : [],
    priority: fields.priority?.name ?? 'Medium',
    assigneeAccountId: fields.assignee?.accountId ?? null,
    reporterAccountId: reporter,
    created: now,
    updated: now,
    comments: [],
  };
  state.issues.push(issue);
  return issue;
}

const REST = '/ex/jira/:cloudId/rest/api/3';

export const jiraSandbox: ProviderModule<JiraState> = {
  key: 'jira',
  displayName: 'Jira (Atlassian)',
  accounts: [
    { id: '5b10ac8d82e05b22cc7d4ef5', name: 'Mia Krystof', email: 'mia@acme.test', cloudId: '1324a887-45db-1bf4-1e99-ef0ff456d421', siteName: 'acme', timeZone: 'Europe/Berlin' },
    {
      id: '5b10a2844c20165700ede21g',
      name: 'Emma Richards',
      email: 'emma@globex.test',
      cloudId: '9f2c0e6a-7b1d-4c3e-8a5f-0d6b2e4c8a17',
      siteName: 'globex',
      timeZone: 'America/New_York',
    },
  ],
  tokenPrefix: { access: 'eyJraWQiOiJzYW5kYm94', refresh: 'eyJraWQiOiJyZWZyZXNo' },
  oauth: {
    authorizePath: '/authorize',
    tokenPath: '/oauth/token',
    defaultTtlSeconds: 3600,
    tokenResponse(issued) {
      return { access_token: issued.accessToken, refresh_token: issued.refreshToken, expires_in: issued.expiresIn, scope: issued.scope.join(' '), token_type: 'Bearer' };
    },
  },
  authError() {
    return json(401, { code: 401, message: 'Unauthorized' });
  },
  seed,
  tick(ctx) {
    const n = ctx.state.issues.length + 1;
    createIssue(ctx.state, { project: { key: 'SUP' }, issuetype: { id: '10002' }, summary: `Customer reports a problem (#${n})` }, '5b10ac8d82e05b22cc7d4ef5', ctx.now());
    // A churning demo keeps the newest 5,000.
    if (ctx.state.issues.length > 5000) ctx.state.issues.splice(0, ctx.state.issues.length - 5000);
  },
  routes: [
    {
      method: 'GET',
      path: '/oauth/token/accessible-resources',
      handler(req, ctx) {
        const a = authorizeSite(req, ctx);
        if ('error' in a) return a.error;
        return json(200, [
          {
            id: a.account.cloudId,
            url: `https://${a.account.siteName}.atlassian.net`,
            name: a.account.siteName,
            scopes: ['read:jira-work', 'write:jira-work', 'read:jira-user'],
            avatarUrl: 'https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png',
          },
        ]);
      },
    },
    {
      method: 'GET',
      path: `${REST}/myself`,
      handler(req, ctx) {
        const a = authorizeSite(req, ctx);
        if ('error' in a) return a.error;
        const u = a.account;
        return json(200, {
          self: `${API(u.cloudId!)}/rest/api/3/user?accountId=${u.id}`,
          accountId: u.id,
          accountType: 'atlassian',
          emailAddress: u.email,
          displayName: u.name,
          active: true,
          timeZone: u.timeZone,
          locale: 'en_US',
        });
      },
    },
    {
      method: 'GET',
      path: `${REST}/project/search`,
      handler(req, ctx) {
        const a = authorizeSite(req, ctx);
        if ('error' in a) return a.error;
        const query = (req.query.get('query') ?? '').toLowerCase();
        const startAt = intParam(req.query.get('startAt'), 0, 0, 1_000_000);
        const maxResults = intParam(req.query.get('maxResults'), 50, 1, 100);
        let projects = ctx.state.projects.filter((p) => !query || p.name.toLowerCase().includes(query) || p.key.toLowerCase().includes(query));
        if ((req.query.get('orderBy') ?? 'key').replace(/^\+/, '') === 'name') projects = [...projects].sort((x, y) => x.name.localeCompare(y.name));
        const values = projects.slice(startAt, startAt + maxResults);
        const isLast = startAt + values.length >= projects.length;
        const self = `${API(a.account.cloudId!)}/rest/api/3/project/search`;
        return json(200, {
          self: `${self}?startAt=${startAt}&maxResults=${maxResults}`,
          ...(isLast ? {} : { nextPage: `${self}?startAt=${startAt + maxResults}&maxResults=${maxResults}` }),
          maxResults,
          startAt,
          total: projects.length,
          isLast,
          values: values.map((p) => ({ ...p, self: `${API(a.account.cloudId!)}/rest/api/3/project/${p.id}`, simplified: false, style: 'classic', isPrivate: false })),
        });
      },
    },
    {
      method: 'GET',
      path: `${REST}/issuetype`,
      handler(req, ctx) {
        const a = authorizeSite(req, ctx);
        if ('error' in a) return a.error;
        return json(
          200,
          ctx.state.issueTypes.map((t) => ({ self: `${API(a.account.cloudId!)}/rest/api/3/issuetype/${t.id}`, ...t, untranslatedName: t.name, iconUrl: '', avatarId: 10300 })),
        );
      },
    },
    {
      method: 'POST',
      path: `${REST}/issue`,
      handler(req, ctx) {
        const a = authorizeSite(req, ctx);
        if ('error' in a) return a.error;
        const fields = (req.body as { fields?: Record<string, unknown> } | undefined)?.fields;
        if (!fields || typeof fields !== 'object') return jiraError(400, [], { fields: 'The request must contain fields.' });
        const created = createIssue(ctx.state, fields, a.account.id, ctx.now());
        if (!('id' in created)) return jiraError(400, [], created as Record<string, string>);
        const issue = created as JiraStoredIssue;
        return json(201, { id: issue.id, key: issue.key, self: `${API(a.account.cloudId!)}/rest/api/3/issue/${issue.id}` });
      },
    },
    {
      method: 'GET',
      path: `${REST}/issue/:key`,
      handler(req, ctx) {
        const a = authorizeSite(req, ctx);
        if ('error' in a) return a.error;
        const issue = findIssue(ctx.state, req.params.key!);
        if (!issue) return jiraError(404, ['Issue does not exist or you do not have permission to see it.']);
        const fields = req.query.get('fields')?.split(',');
        return json(200, issueJson(issue, ctx.state, a.account.cloudId!, jiraSandbox.accounts, fields));
      },
    },
    {
      method: 'PUT',
      path: `${REST}/issue/:key`,
      handler(req, ctx) {
        const a = authorizeSite(req, ctx);
        if ('error' in a) return a.error;
        const issue = findIssue(ctx.state, req.params.key!);
        if (!issue) return jiraError(404, ['Issue does not exist or you do not have permission to see it.']);
        const fields = ((req.body as { fields?: Record<string, any> } | undefined)?.fields ?? {}) as Record<string, any>;
        const errors: Record<string, string> = {};
        for (const name of Object.keys(fields)) {
          if (!['summary', 'description', 'labels', 'priority', 'assignee'].includes(name))
            errors[name] = `Field '${name}' cannot be set. It is not on the appropriate screen, or unknown.`;
        }
        if ('summary' in fields && (typeof fields.summary !== 'string' || !fields.summary.trim())) errors.summary = 'You must specify a summary of the issue.';
        if ('description' in fields && fields.description !== null && !isAdf(fields.description))
          errors.description = 'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
        if (fields.priority && !PRIORITIES.includes(fields.priority.name)) errors.priority = 'Specify the Priority (name) in the string format';
        if (Object.keys(errors).length) return jiraError(400, [], errors);
        if ('summary' in fields) issue.summary = fields.summary;
        if ('description' in fields) issue.description = fields.description;
        if ('labels' in fields) issue.labels = (fields.labels as unknown[]).map(String);
        if (fields.priority) issue.priority = fields.priority.name;
        if ('assignee' in fields) issue.assigneeAccountId = fields.assignee?.accountId ?? null;
        issue.updated = Math.max(ctx.now(), issue.updated + 1);
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: `${REST}/issue/:key/comment`,
      handler(req, ctx) {
        const a = authorizeSite(req, ctx);
        if ('error' in a) return a.error;
        const issue = findIssue(ctx.state, req.params.key!);
        if (!issue) return jiraError(404, ['Issue does not exist or you do not have permission to see it.']);
        const body = (req.body as { body?: unknown } | undefined)?.body;
        if (!isAdf(body)) return jiraError(400, [], { comment: 'Comment body can not be empty!' });
        const comment = { id: String(ctx.state.nextId++), body, authorAccountId: a.account.id, created: ctx.now() };
        issue.comments.push(comment);
        issue.updated = Math.max(comment.created, issue.updated + 1);
        const cloudId = a.account.cloudId!;
        return json(201, {
          self: `${API(cloudId)}/rest/api/3/issue/${issue.id}/comment/${comment.id}`,
          id: comment.id,
          author: { accountId: a.account.id, displayName: a.account.name, active: true },
          body,
          created: jiraTime(comment.created),
          updated: jiraTime(comment.created),
          jsdPublic: true,
        });
      },
    },
    {
      method: '*',
      path: `${REST}/search/jql`,
      handler(req, ctx) {
        const a = authorizeSite(req, ctx);
        if ('error' in a) return a.error;
        if (req.method !== 'GET' && req.method !== 'POST') return json(405, { errorMessages: ['Method Not Allowed'] });
        const b = (req.method === 'POST' ? (req.body ?? {}) : Object.fromEntries(req.query)) as Record<string, any>;
        const jql = typeof b.jql === 'string' ? b.jql : '';
        const parsed = parseJql(jql);
        if (typeof parsed === 'string') return jiraError(400, [parsed]);
        if (parsed.clauses.length === 0) return jiraError(400, ['Unbounded JQL queries are not allowed here. Please add a search restriction to your query.']);
        const matchers = parsed.clauses.map((c) => clauseMatcher(c, ctx.state, a.account, ctx.now()));
        const problem = matchers.find((m) => typeof m === 'string');
        if (problem) return jiraError(400, [problem as string]);
        let issues = ctx.state.issues.filter((i) => matchers.every((m) => (m as (x: JiraStoredIssue) => boolean)(i)));
        const order = parsed.order.length ? parsed.order : [{ field: 'created', desc: true }];
        const sortValue = (i: JiraStoredIssue, f: string): number | string =>
          f === 'created' || f === 'updated' ? i[f] : f === 'key' || f === 'id' ? Number(i.id) : String((i as any)[f] ?? '');
        issues = [...issues].sort((x, y) => {
          for (const o of order) {
            const vx = sortValue(x, o.field);
            const vy = sortValue(y, o.field);
            if (vx !== vy) return (vx < vy ? -1 : 1) * (o.desc ? -1 : 1);
          }
          return 0;
        });
        const maxResults = intParam(b.maxResults, 50, 1, 100);
        const start = decodeCursor(b.nextPageToken);
        if (start === null) return jiraError(400, ['The provided next page token is invalid or expired.']);
        const page = issues.slice(start, start + maxResults);
        const fields = Array.isArray(b.fields) ? b.fields.map(String) : typeof b.fields === 'string' ? b.fields.split(',') : ['id'];
        const more = start + maxResults < issues.length;
        return json(200, {
          issues: page.map((i) => issueJson(i, ctx.state, a.account.cloudId!, jiraSandbox.accounts, fields)),
          ...(more ? { nextPageToken: encodeCursor(start + maxResults) } : {}),
          isLast: !more,
        });
      },
    },
  ],
};
