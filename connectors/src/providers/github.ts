import { createHmac, timingSafeEqual } from 'node:crypto';
import { ensureOk, send } from '../runtime';
import { ActionContext, defineAction, defineConnector, definePollTrigger, defineWebhookTrigger, HttpRequest, ProviderError, TriggerItem, WebhookEvent } from '../types';
import { arr, bool, int, logo, matches, nullable, obj, oneOf, res, str } from './shared';

const REPOSITORY_PATTERN = '^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$';
const REPOSITORY = str('Repository', { description: 'owner/name', pattern: REPOSITORY_PATTERN, 'x-options': 'repos' });

function repoPath(repository: string): string {
  const [owner, name] = repository.split('/');
  return `repos/${encodeURIComponent(owner!)}/${encodeURIComponent(name!)}`;
}

interface GitHubRepo {
  id: number;
  name: string;
  full_name: string;
  private: boolean;
  html_url: string;
  description: string | null;
  default_branch: string;
  updated_at: string;
}

const createIssue = defineAction({
  name: 'Create issue',
  description: 'Opens an issue in a repository (POST /repos/{owner}/{repo}/issues).',
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      repository: REPOSITORY,
      title: str('Title', { minLength: 1, maxLength: 256 }),
      body: str('Body', { description: 'Markdown' }),
      labels: arr(str(), { title: 'Labels' }),
      assignees: arr(str(), { title: 'Assignees', description: 'GitHub logins' }),
    },
    ['repository', 'title'],
  ),
  output: res({ id: int('Id'), number: int('Number'), url: str('Link'), state: str('State'), title: str('Title') }, ['id', 'number', 'url']),
  async run(ctx, input) {
    const issue = await send<{ id: number; number: number; html_url: string; state: string; title: string }>(ctx, {
      method: 'POST',
      path: `${repoPath(input.repository)}/issues`,
      body: { title: input.title, body: input.body, labels: input.labels, assignees: input.assignees },
    });
    return { id: issue.id, number: issue.number, url: issue.html_url, state: issue.state, title: issue.title };
  },
});

const addComment = defineAction({
  name: 'Comment on issue or pull request',
  description: 'Adds a comment to an issue or pull request (POST /repos/{owner}/{repo}/issues/{number}/comments).',
  readOnly: false,
  retrySafe: false,
  input: obj({ repository: REPOSITORY, issue_number: int('Issue or PR number', { minimum: 1 }), body: str('Comment', { minLength: 1, description: 'Markdown' }) }, [
    'repository',
    'issue_number',
    'body',
  ]),
  output: res({ id: int('Id'), url: str('Link') }, ['id', 'url']),
  async run(ctx, input) {
    const comment = await send<{ id: number; html_url: string }>(ctx, {
      method: 'POST',
      path: `${repoPath(input.repository)}/issues/${input.issue_number}/comments`,
      body: { body: input.body },
    });
    return { id: comment.id, url: comment.html_url };
  },
});

const listRepos = defineAction({
  name: 'List repositories',
  description: 'Lists repositories the user can access, most recently updated first (GET /user/repos).',
  readOnly: true,
  retrySafe: true,
  input: obj({
    visibility: oneOf({ enum: ['all', 'public', 'private'], default: 'all', title: 'Visibility' }),
    per_page: int('Page size', { minimum: 1, maximum: 100, default: 30 }),
    page: int('Page', { minimum: 1, default: 1 }),
  }),
  output: res(
    {
      repos: arr(res({ full_name: str('Name'), private: bool(), url: str('Link'), description: nullable(str()), default_branch: str('Default branch') }, ['full_name'])),
      next_page: int('Next page'),
    },
    ['repos'],
  ),
  async run(ctx, input) {
    const perPage = input.per_page ?? 30;
    const page = input.page ?? 1;
    const repos = await send<GitHubRepo[]>(ctx, {
      method: 'GET',
      path: 'user/repos',
      query: { visibility: input.visibility ?? 'all', sort: 'updated', per_page: perPage, page },
    });
    const out = repos.map((r) => ({ full_name: r.full_name, private: r.private, url: r.html_url, description: r.description, default_branch: r.default_branch }));
    return repos.length === perPage ? { repos: out, next_page: page + 1 } : { repos: out };
  },
});

/** An issue (or pull request) as the REST API and webhook payloads show it. */
interface GitHubIssue {
  id: number;
  number: number;
  title: string;
  body: string | null;
  html_url: string;
  state: string;
  user: { login: string } | null;
  labels: { name: string }[];
  created_at: string;
  /** Present when the issue is a pull request. */
  pull_request?: unknown;
}

interface GitHubPull extends GitHubIssue {
  draft: boolean;
  head: { ref: string };
  base: { ref: string };
}

const ISSUE_OUTPUT = res(
  {
    id: int('Id'),
    number: int('Number'),
    title: str('Title'),
    body: nullable(str('Body')),
    url: str('Link'),
    state: str('State'),
    author: str('Author (login)'),
    labels: arr(str(), { title: 'Labels' }),
    repository: str('Repository'),
    created_at: str('Opened at', { format: 'date-time' }),
  },
  ['id', 'number', 'title', 'url', 'repository', 'created_at'],
);

function issueItem(issue: GitHubIssue, repository: string): TriggerItem {
  return {
    id: String(issue.id),
    data: {
      id: issue.id,
      number: issue.number,
      title: issue.title,
      body: issue.body,
      url: issue.html_url,
      state: issue.state,
      author: issue.user?.login ?? '',
      labels: issue.labels.map((l) => l.name),
      repository,
      created_at: issue.created_at,
    },
  };
}

/** The webhook's repository when it is the instance's (owner/name, case-insensitive), else null. */
function repositoryOf(event: WebhookEvent, input: { repository: string }): string | null {
  const fullName = (event.data.repository as { full_name?: string } | undefined)?.full_name;
  return fullName && fullName.toLowerCase() === input.repository.toLowerCase() ? fullName : null;
}

const issueOpened = defineWebhookTrigger({
  name: 'Issue opened',
  description: 'Runs when someone opens an issue in the repository (repository webhook, `issues` event).',
  events: ['issues.opened'],
  input: obj({ repository: REPOSITORY }, ['repository']),
  output: ISSUE_OUTPUT,
  map(event, input) {
    const repository = repositoryOf(event, input);
    const issue = event.data.issue as GitHubIssue | undefined;
    return repository && issue ? issueItem(issue, repository) : null;
  },
});

const pullRequestOpened = defineWebhookTrigger({
  name: 'Pull request opened',
  description: 'Runs when someone opens a pull request in the repository (repository webhook, `pull_request` event).',
  events: ['pull_request.opened'],
  input: obj({ repository: REPOSITORY }, ['repository']),
  output: res(
    {
      id: int('Id'),
      number: int('Number'),
      title: str('Title'),
      body: nullable(str('Description')),
      url: str('Link'),
      author: str('Author (login)'),
      head: str('From branch'),
      base: str('Into branch'),
      draft: bool('Draft'),
      repository: str('Repository'),
      created_at: str('Opened at', { format: 'date-time' }),
    },
    ['id', 'number', 'title', 'url', 'head', 'base', 'repository', 'created_at'],
  ),
  map(event, input) {
    const repository = repositoryOf(event, input);
    const pull = event.data.pull_request as GitHubPull | undefined;
    if (!repository || !pull) return null;
    return {
      id: String(pull.id),
      data: {
        id: pull.id,
        number: pull.number,
        title: pull.title,
        body: pull.body,
        url: pull.html_url,
        author: pull.user?.login ?? '',
        head: pull.head.ref,
        base: pull.base.ref,
        draft: pull.draft,
        repository,
        created_at: pull.created_at,
      },
    };
  },
});

interface PushPayload {
  ref: string;
  before: string;
  after: string;
  deleted: boolean;
  compare: string;
  pusher: { name: string };
  commits: { id: string; message: string; url: string; timestamp: string; author: { name: string; username?: string } }[];
}

const pushed = defineWebhookTrigger({
  name: 'Commits pushed',
  description: 'Runs when commits are pushed to a branch of the repository (repository webhook, `push` event), optionally only one branch.',
  events: ['push'],
  input: obj({ repository: REPOSITORY, branch: str('Branch', { description: 'Only pushes to this branch (e.g. main); empty for every branch' }) }, ['repository']),
  output: res(
    {
      repository: str('Repository'),
      branch: str('Branch'),
      before: str('Previous head commit'),
      after: str('New head commit'),
      compare: str('Compare link'),
      pusher: str('Pushed by'),
      commits: arr(res({ id: str('Sha'), message: str('Message'), url: str('Link'), author: str('Author'), timestamp: str('Time', { format: 'date-time' }) }, ['id', 'message']), {
        title: 'Commits',
      }),
    },
    ['repository', 'branch', 'after', 'commits'],
  ),
  map(event, input) {
    const repository = repositoryOf(event, input);
    const push = event.data as unknown as PushPayload;
    // Branch pushes only: not tags, not a branch being deleted.
    if (!repository || !push.ref?.startsWith('refs/heads/') || push.deleted) return null;
    const branch = push.ref.slice('refs/heads/'.length);
    if (input.branch && input.branch !== branch) return null;
    return {
      id: `${push.ref}@${push.after}`,
      data: {
        repository,
        branch,
        before: push.before,
        after: push.after,
        compare: push.compare,
        pusher: push.pusher.name,
        commits: push.commits.map((c) => ({ id: c.id, message: c.message, url: c.url, author: c.author.username ?? c.author.name, timestamp: c.timestamp })),
      },
    };
  },
});

/** Where new_issue has read up to: the newest issue (or pull request) seen, by creation time then id. */
export interface IssueCursor {
  created: string | null;
  id: number;
}

/** Pages of 100 one poll reads at most (pull requests interleave with issues in the list). */
const MAX_POLL_PAGES = 10;

const newIssue = definePollTrigger<IssueCursor>()({
  name: 'New issue',
  description: 'Checks the repository for newly opened issues (not pull requests), oldest first.',
  intervalSeconds: 300,
  // 5,000 requests an hour per user: a minute per repository is plenty.
  minIntervalSeconds: 60,
  input: obj({ repository: REPOSITORY }, ['repository']),
  output: ISSUE_OUTPUT,
  async poll(ctx, { input, cursor, limit }) {
    const path = `${repoPath(input.repository)}/issues`;
    const read = (page: number, query: Record<string, string>) =>
      send<GitHubIssue[]>(ctx, { method: 'GET', path, query: { state: 'all', sort: 'created', per_page: 100, page, ...query } });
    if (!cursor) {
      // The newest issues; the cursor sits at the newest item of any kind.
      const newest: GitHubIssue[] = [];
      let top: GitHubIssue | undefined;
      for (let page = 1; page <= MAX_POLL_PAGES; page++) {
        const list = await read(page, { direction: 'desc' });
        top ??= list[0];
        newest.push(...list.filter((i) => !i.pull_request));
        if (list.length < 100 || newest.length >= limit) break;
      }
      return {
        items: newest
          .slice(0, limit)
          .reverse()
          .map((i) => issueItem(i, input.repository)),
        cursor: top ? { created: top.created_at, id: top.id } : { created: null, id: 0 },
      };
    }
    // `since` filters by update time (never before creation), so it keeps every issue created after
    // the cursor; ids grow with creation time, so the API's order is (created, id).
    const after = (i: GitHubIssue) =>
      cursor.created === null || Date.parse(i.created_at) > Date.parse(cursor.created) || (Date.parse(i.created_at) === Date.parse(cursor.created) && i.id > cursor.id);
    const found: GitHubIssue[] = [];
    let consumed: GitHubIssue | undefined;
    let more = false;
    scan: for (let page = 1; page <= MAX_POLL_PAGES; page++) {
      const list = await read(page, { direction: 'asc', ...(cursor.created ? { since: cursor.created } : {}) });
      for (const issue of list.filter(after).sort((x, y) => Date.parse(x.created_at) - Date.parse(y.created_at) || x.id - y.id)) {
        if (!issue.pull_request) {
          if (found.length === limit) {
            more = true;
            break scan;
          }
          found.push(issue);
        }
        consumed = issue;
      }
      if (list.length < 100) break;
      more = page === MAX_POLL_PAGES;
    }
    return {
      items: found.map((i) => issueItem(i, input.repository)),
      cursor: consumed ? { created: consumed.created_at, id: consumed.id } : cursor,
      ...(more ? { more } : {}),
    };
  },
});

/** Compares signatures in constant time. */
function sameSignature(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The id of the repository's hook that posts to `url`, if any. */
async function findHook(ctx: ActionContext, repository: string, url: string): Promise<number | undefined> {
  for (let page = 1; page <= 10; page++) {
    const hooks = await send<{ id: number; config: { url?: string } }[]>(ctx, { method: 'GET', path: `${repoPath(repository)}/hooks`, query: { per_page: 100, page } });
    const found = hooks.find((h) => h.config.url === url);
    if (found) return found.id;
    if (hooks.length < 100) return undefined;
  }
  return undefined;
}

/** A subscription id is `owner/name/<hook id>`. */
function parseHookId(id: string): { repository: string; hookId: string } {
  const m = /^([^/]+\/[^/]+)\/(\d+)$/.exec(id);
  if (!m) throw new ProviderError(`Not a GitHub hook id: ${id}`, 'invalid_subscription');
  return { repository: m[1]!, hookId: m[2]! };
}

export const githubConnector = defineConnector({
  key: 'github',
  name: 'GitHub',
  description: 'Open issues, comment and list repositories on GitHub; start flows when issues or pull requests are opened or commits are pushed.',
  logo: logo(
    '#24292F',
    '<circle cx="22" cy="20" r="6" fill="none" stroke="#fff" stroke-width="4"/><circle cx="22" cy="44" r="6" fill="none" stroke="#fff" stroke-width="4"/>' +
      '<circle cx="44" cy="26" r="6" fill="none" stroke="#fff" stroke-width="4"/><path d="M22 26v12M44 32c0 6-8 6-18 10" fill="none" stroke="#fff" stroke-width="4"/>',
  ),
  categories: ['developer-tools'],
  docsUrl: 'https://docs.github.com/en/rest',
  auth: {
    type: 'oauth2',
    authorizationUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    scopes: ['repo', 'read:user', 'user:email'],
    scopeSeparator: ' ',
    // GitHub accepts PKCE (S256 only) for OAuth and GitHub Apps since July 2025.
    pkce: true,
    clientAuthentication: 'client_secret_post',
    // GitHub answers token errors with HTTP 200 and { error, error_description, error_uri }.
    invalidGrantErrors: ['bad_verification_code', 'bad_refresh_token'],
    // GitHub App user tokens expire (8 h) with rotating refresh tokens; OAuth App tokens do not expire.
    refreshable: true,
  },
  baseUrl: 'https://api.github.com',
  defaultHeaders: { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'Switchboard' },
  pagination: { style: 'link_header' },
  // 5,000 requests an hour per user token; secondary limits answer 403/429 with Retry-After.
  rateLimit: { requestsPerSecond: 1 },
  actions: { create_issue: createIssue, add_comment: addComment, list_repos: listRepos },
  triggers: { issue_opened: issueOpened, pull_request_opened: pullRequestOpened, push: pushed, new_issue: newIssue },
  webhooks: {
    // A repository hook per enabled instance, signed with the secret Switchboard gives it.
    routing: 'instance',
    secret: 'subscription',
    verify(req, secret) {
      const header = req.headers['x-hub-signature-256'];
      if (!header) return 'missing X-Hub-Signature-256';
      const expected = `sha256=${createHmac('sha256', secret).update(req.rawBody).digest('hex')}`;
      return sameSignature(header, expected) ? null : 'signature mismatch';
    },
    events(req) {
      const name = req.headers['x-github-event'] ?? '';
      const delivery = req.headers['x-github-delivery'] ?? '';
      // A hook with content_type 'form' sends the JSON as `payload=`.
      const raw = req.body as Record<string, unknown>;
      const body = (typeof raw?.payload === 'string' ? JSON.parse(raw.payload) : raw) as Record<string, unknown>;
      const action = typeof body?.action === 'string' ? body.action : undefined;
      return name && delivery && body ? [{ id: delivery, type: action ? `${name}.${action}` : name, data: body }] : [];
    },
    async subscribe(ctx, { url, secret, events, input }) {
      const repository = String(input.repository ?? '');
      if (!new RegExp(REPOSITORY_PATTERN).test(repository)) throw new ProviderError(`Not a repository (owner/name): ${repository}`, 'invalid_input');
      const hook = {
        active: true,
        events: [...new Set(events.map((e) => e.split('.')[0]!))],
        config: { url, content_type: 'json', secret, insecure_ssl: '0' },
      };
      const create: HttpRequest = { method: 'POST', path: `${repoPath(repository)}/hooks`, body: { name: 'web', ...hook } };
      const created = await ctx.http.request<{ id: number; errors?: { message?: string }[] }>(create);
      if (created.status === 422 && created.data?.errors?.some((e) => /already exists/i.test(e.message ?? ''))) {
        // A retry after the hook was made (its answer lost): take it over with this secret.
        const existing = await findHook(ctx, repository, url);
        if (existing) {
          await send(ctx, { method: 'PATCH', path: `${repoPath(repository)}/hooks/${existing}`, body: hook });
          return { id: `${repository}/${existing}` };
        }
      }
      return { id: `${repository}/${ensureOk(created, create).data.id}` };
    },
    async unsubscribe(ctx, { id }) {
      const { repository, hookId } = parseHookId(id);
      const request: HttpRequest = { method: 'DELETE', path: `${repoPath(repository)}/hooks/${hookId}` };
      const response = await ctx.http.request(request);
      if (response.status !== 404) ensureOk(response, request);
    },
  },
  options: {
    repos: {
      name: 'Repositories',
      description: 'Repositories the user can access, most recently updated first',
      async run(ctx, { search, cursor }) {
        // /user/repos has no name filter: walk pages until enough matches (bounded). Cursor = page.
        let page = cursor ? Number.parseInt(cursor, 10) || 1 : 1;
        const options: { value: string; label: string; description?: string }[] = [];
        let more = false;
        for (let i = 0; i < (search ? 5 : 1); i++) {
          const repos = await send<GitHubRepo[]>(ctx, { method: 'GET', path: 'user/repos', query: { sort: 'updated', per_page: 100, page } });
          for (const r of repos) {
            if (matches(search, r.full_name, r.description)) {
              options.push({ value: r.full_name, label: r.full_name, description: r.description ?? (r.private ? 'Private' : undefined) });
            }
          }
          more = repos.length === 100;
          page += 1;
          if (!more || options.length >= 50) break;
        }
        return more ? { options, nextCursor: String(page) } : { options };
      },
    },
  },
  async account(ctx) {
    const user = await send<{ id: number; login: string; name: string | null; html_url: string }>(ctx, { method: 'GET', path: 'user' });
    return { id: String(user.id), name: user.name ? `${user.name} (@${user.login})` : `@${user.login}`, details: { login: user.login, url: user.html_url } };
  },
});
