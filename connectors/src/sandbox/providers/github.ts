import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { intParam, isoNow, json, ProviderContext, ProviderModule, SandboxRequest, SandboxResponse } from '../core';

export interface GitHubRepo {
  id: number;
  node_id: string;
  name: string;
  full_name: string;
  private: boolean;
  owner: { login: string; id: number; type: string };
  html_url: string;
  description: string | null;
  fork: boolean;
  url: string;
  default_branch: string;
  visibility: 'public' | 'private';
  has_issues: boolean;
  open_issues_count: number;
  created_at: string;
  updated_at: string;
  pushed_at: string;
}

export interface GitHubIssue {
  id: number;
  node_id: string;
  number: number;
  repository: string;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  labels: { id: number; name: string; color: string }[];
  assignees: { login: string; id: number }[];
  comments: { id: number; body: string; user: string; created_at: string }[];
  user: string;
  created_at: string;
  updated_at: string;
  /** Set when the issue is a pull request (they share numbers and the issues list). */
  pull_request?: { id: number; head: string; base: string; head_sha: string; draft: boolean };
}

/** A repository webhook (POST /repos/{owner}/{repo}/hooks). */
export interface GitHubHook {
  id: number;
  repository: string;
  events: string[];
  active: boolean;
  config: { url: string; content_type: 'json' | 'form'; secret?: string; insecure_ssl: '0' | '1' };
  created_at: string;
  updated_at: string;
}

export interface GitHubState {
  repos: GitHubRepo[];
  issues: GitHubIssue[];
  hooks: GitHubHook[];
  /** `owner/name:branch` → head commit sha (branches never pushed to sit at a fixed initial commit). */
  heads: Record<string, string>;
  /** `owner/name:branch:path` → the file's blob sha and base64 content (PUT contents). */
  files: Record<string, { sha: string; content: string }>;
  nextId: number;
  /** How many times tick() ran: picks the next repository and title. */
  ticks: number;
}

const DOCS = 'https://docs.github.com/rest';

/** GitHub's timestamps have whole seconds: 2026-01-15T12:00:00Z. */
function githubTime(ms: number): string {
  return isoNow(ms).replace(/\.\d{3}Z$/, 'Z');
}

function ghError(status: number, message: string, extra: Record<string, unknown> = {}): SandboxResponse {
  return json(status, { message, documentation_url: DOCS, status: String(status), ...extra }, { 'x-github-request-id': 'SANDBOX:1' });
}

function tokenError(code: string, description: string, anchor: string): SandboxResponse {
  // GitHub answers token errors with HTTP 200.
  return json(200, {
    error: code,
    error_description: description,
    error_uri: `https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#${anchor}`,
  });
}

function seedRepos(now: number): GitHubRepo[] {
  const repos: GitHubRepo[] = [];
  const names = ['website', 'api', 'mobile-app', 'infra', 'docs', 'design-system'];
  for (let i = 0; i < 130; i++) names.push(`service-${String(i + 1).padStart(3, '0')}`);
  names.forEach((name, i) => {
    const owner = i % 3 === 0 ? { login: 'octo-jane', id: 583231, type: 'User' } : { login: 'acme-inc', id: 9919, type: 'Organization' };
    const full = `${owner.login}/${name}`;
    const updated = githubTime(now - i * 3600_000);
    repos.push({
      id: 700000 + i,
      node_id: `R_kgDO${(700000 + i).toString(36)}`,
      name,
      full_name: full,
      private: i % 4 === 1,
      owner,
      html_url: `https://github.com/${full}`,
      description: i < 6 ? `The ${name.replace('-', ' ')}` : `Microservice #${i - 5}`,
      fork: false,
      url: `https://api.github.com/repos/${full}`,
      default_branch: 'main',
      visibility: i % 4 === 1 ? 'private' : 'public',
      has_issues: name !== 'infra',
      open_issues_count: 0,
      created_at: '2021-03-01T10:00:00Z',
      updated_at: updated,
      pushed_at: updated,
    });
  });
  return repos;
}

function userJson(login: string) {
  return { login, id: login === 'octo-jane' ? 583231 : 583232, node_id: 'MDQ6VXNlcjU4MzIzMQ==', type: 'User', site_admin: false, html_url: `https://github.com/${login}` };
}

function findRepo(state: GitHubState, req: SandboxRequest): GitHubRepo | undefined {
  const full = `${req.params.owner}/${req.params.repo}`.toLowerCase();
  return state.repos.find((r) => r.full_name.toLowerCase() === full);
}

function apiRepoUrl(full: string): string {
  return `https://api.github.com/repos/${full}`;
}

function issueJson(issue: GitHubIssue) {
  const api = apiRepoUrl(issue.repository);
  const html = `https://github.com/${issue.repository}`;
  return {
    id: issue.id,
    node_id: issue.node_id,
    url: `${api}/issues/${issue.number}`,
    repository_url: api,
    html_url: issue.pull_request ? `${html}/pull/${issue.number}` : `${html}/issues/${issue.number}`,
    number: issue.number,
    state: issue.state,
    title: issue.title,
    body: issue.body,
    user: userJson(issue.user),
    labels: issue.labels,
    assignee: issue.assignees[0] ?? null,
    assignees: issue.assignees,
    comments: issue.comments.length,
    locked: false,
    created_at: issue.created_at,
    updated_at: issue.updated_at,
    closed_at: null,
    author_association: 'OWNER',
    // The issues API lists pull requests too, marked by this key.
    ...(issue.pull_request
      ? {
          pull_request: {
            url: `${api}/pulls/${issue.number}`,
            html_url: `${html}/pull/${issue.number}`,
            diff_url: `${html}/pull/${issue.number}.diff`,
            patch_url: `${html}/pull/${issue.number}.patch`,
            merged_at: null,
          },
        }
      : {}),
  };
}

function branchJson(repo: GitHubRepo, ref: string, sha: string) {
  return { label: `${repo.owner.login}:${ref}`, ref, sha, user: userJson(repo.owner.login), repo };
}

function pullJson(issue: GitHubIssue, repo: GitHubRepo) {
  const pr = issue.pull_request!;
  const api = apiRepoUrl(repo.full_name);
  const html = `https://github.com/${repo.full_name}/pull/${issue.number}`;
  return {
    url: `${api}/pulls/${issue.number}`,
    id: pr.id,
    node_id: `PR_kwDO${pr.id.toString(36)}`,
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${issue.number}`,
    number: issue.number,
    state: issue.state,
    locked: false,
    title: issue.title,
    user: userJson(issue.user),
    body: issue.body,
    created_at: issue.created_at,
    updated_at: issue.updated_at,
    closed_at: null,
    merged_at: null,
    merge_commit_sha: null,
    assignee: issue.assignees[0] ?? null,
    assignees: issue.assignees,
    requested_reviewers: [],
    labels: issue.labels,
    draft: pr.draft,
    head: branchJson(repo, pr.head, pr.head_sha),
    base: branchJson(repo, pr.base, '6dcb09b5b57875f334f61aebed695e2e4193db5e'),
    author_association: 'OWNER',
    merged: false,
    mergeable: null,
    comments: issue.comments.length,
    commits: 1,
    additions: 12,
    deletions: 3,
    changed_files: 2,
  };
}

function hookJson(hook: GitHubHook) {
  const url = `${apiRepoUrl(hook.repository)}/hooks/${hook.id}`;
  const { secret, ...config } = hook.config;
  return {
    type: 'Repository',
    id: hook.id,
    name: 'web',
    active: hook.active,
    events: hook.events,
    // GitHub never shows a hook's secret back.
    config: secret ? { ...config, secret: '********' } : config,
    updated_at: hook.updated_at,
    created_at: hook.created_at,
    url,
    test_url: `${url}/test`,
    ping_url: `${url}/pings`,
    deliveries_url: `${url}/deliveries`,
    last_response: { code: null, status: 'unused', message: null },
  };
}

/** GitHub's page-number paging: a slice and a Link header (next/last, prev/first). */
function paginated<T>(items: T[], req: SandboxRequest, publicPath: string): SandboxResponse {
  const perPage = intParam(req.query.get('per_page'), 30, 1, 100);
  const pageNo = intParam(req.query.get('page'), 1, 1, 100000);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const query = new URLSearchParams(req.query);
  const pageUrl = (n: number) => {
    query.set('page', String(n));
    return `<https://api.github.com${publicPath}?${query}>`;
  };
  const links: string[] = [];
  if (pageNo < last) links.push(`${pageUrl(pageNo + 1)}; rel="next"`, `${pageUrl(last)}; rel="last"`);
  if (pageNo > 1) links.push(`${pageUrl(pageNo - 1)}; rel="prev"`, `${pageUrl(1)}; rel="first"`);
  return json(200, items.slice((pageNo - 1) * perPage, pageNo * perPage), links.length ? { link: links.join(', ') } : {});
}

/** Event names a repository hook may subscribe to ('*' = all). */
const HOOK_EVENTS = new Set([
  '*',
  'branch_protection_rule',
  'check_run',
  'check_suite',
  'code_scanning_alert',
  'commit_comment',
  'create',
  'delete',
  'dependabot_alert',
  'deploy_key',
  'deployment',
  'deployment_status',
  'discussion',
  'discussion_comment',
  'fork',
  'gollum',
  'issue_comment',
  'issues',
  'label',
  'member',
  'merge_group',
  'meta',
  'milestone',
  'package',
  'page_build',
  'public',
  'pull_request',
  'pull_request_review',
  'pull_request_review_comment',
  'pull_request_review_thread',
  'push',
  'registry_package',
  'release',
  'repository',
  'repository_dispatch',
  'secret_scanning_alert',
  'star',
  'status',
  'watch',
  'workflow_dispatch',
  'workflow_job',
  'workflow_run',
]);

function hookValidationError(message: string): SandboxResponse {
  return ghError(422, 'Validation Failed', { errors: [{ resource: 'Hook', code: 'custom', message }] });
}

/**
 * Sends an event to the repository's active hooks that listen to it (and `ping` to one new hook), as
 * GitHub does: JSON or form-encoded `payload=`, signed with the hook's secret (HMAC-SHA256 and the
 * legacy SHA-1), with the delivery headers.
 */
function deliverEvent(ctx: ProviderContext<GitHubState>, repo: GitHubRepo, event: string, payload: Record<string, unknown>, only?: GitHubHook): void {
  const hooks = only ? [only] : ctx.state.hooks.filter((h) => h.repository === repo.full_name && h.active && (h.events.includes(event) || h.events.includes('*')));
  for (const hook of hooks) {
    const text = JSON.stringify(payload);
    const body = hook.config.content_type === 'form' ? new URLSearchParams({ payload: text }).toString() : text;
    const headers: Record<string, string> = {
      'content-type': hook.config.content_type === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
      'user-agent': 'GitHub-Hookshot/6a1c4b2',
      'x-github-event': event,
      'x-github-delivery': randomUUID(),
      'x-github-hook-id': String(hook.id),
      'x-github-hook-installation-target-type': 'repository',
      'x-github-hook-installation-target-id': String(repo.id),
    };
    if (hook.config.secret) {
      headers['x-hub-signature'] = `sha1=${createHmac('sha1', hook.config.secret).update(body).digest('hex')}`;
      headers['x-hub-signature-256'] = `sha256=${createHmac('sha256', hook.config.secret).update(body).digest('hex')}`;
    }
    ctx.deliver({ url: hook.config.url, headers, body });
  }
}

/** Opens an issue or pull request (numbers are shared), sending `issues` or `pull_request` "opened" events. */
function openIssue(
  ctx: ProviderContext<GitHubState>,
  repo: GitHubRepo,
  fields: { title: string; body: string | null; labels?: unknown[]; assignees?: unknown[]; pull?: { head: string; base: string; draft: boolean } },
  login: string,
): GitHubIssue {
  const number = ctx.state.issues.filter((i) => i.repository === repo.full_name).length + 1;
  const id = ctx.state.nextId++;
  const now = githubTime(ctx.now());
  const issue: GitHubIssue = {
    id,
    node_id: `I_kwDO${id.toString(36)}`,
    number,
    repository: repo.full_name,
    title: fields.title,
    body: fields.body,
    state: 'open',
    labels: (fields.labels ?? []).map((name, i) => ({ id: 100 + i, name: String(name), color: 'ededed' })),
    assignees: (fields.assignees ?? []).map((assignee) => ({ login: String(assignee), id: 583000 })),
    comments: [],
    user: login,
    created_at: now,
    updated_at: now,
    ...(fields.pull ? { pull_request: { id: ctx.state.nextId++, ...fields.pull, head_sha: randomBytes(20).toString('hex') } } : {}),
  };
  ctx.state.issues.push(issue);
  repo.open_issues_count++;
  const common = { repository: repo, sender: userJson(login) };
  if (issue.pull_request) deliverEvent(ctx, repo, 'pull_request', { action: 'opened', number, pull_request: pullJson(issue, repo), ...common });
  else deliverEvent(ctx, repo, 'issues', { action: 'opened', issue: issueJson(issue), ...common });
  return issue;
}

/** The commit a branch points at. */
function headOf(state: GitHubState, repo: GitHubRepo, branch: string): string {
  return state.heads[`${repo.full_name}:${branch}`] ?? createHash('sha1').update(`${repo.full_name}:initial`).digest('hex');
}

/**
 * Creates or updates a file with a commit on the branch (PUT /repos/{owner}/{repo}/contents/{path}),
 * sending the `push` event that commit causes.
 */
function commitFile(
  ctx: ProviderContext<GitHubState>,
  repo: GitHubRepo,
  account: { login: string; name: string; email: string },
  change: { path: string; branch: string; message: string; content: string },
): { created: boolean; body: Record<string, unknown> } {
  const key = `${repo.full_name}:${change.branch}:${change.path}`;
  const created = !ctx.state.files[key];
  const blobSha = createHash('sha1')
    .update(`blob ${Buffer.from(change.content, 'base64').length}\0`)
    .update(Buffer.from(change.content, 'base64'))
    .digest('hex');
  ctx.state.files[key] = { sha: blobSha, content: change.content };
  const before = headOf(ctx.state, repo, change.branch);
  const after = randomBytes(20).toString('hex');
  ctx.state.heads[`${repo.full_name}:${change.branch}`] = after;
  const timestamp = githubTime(ctx.now());
  repo.pushed_at = timestamp;
  const html = `https://github.com/${repo.full_name}`;
  const person = { name: account.name, email: account.email, date: timestamp };
  const commit = {
    sha: after,
    node_id: `C_kwDO${after.slice(0, 12)}`,
    url: `${apiRepoUrl(repo.full_name)}/git/commits/${after}`,
    html_url: `${html}/commit/${after}`,
    author: person,
    committer: person,
    message: change.message,
    tree: { sha: randomBytes(20).toString('hex'), url: `${apiRepoUrl(repo.full_name)}/git/trees/${after}` },
    parents: [{ sha: before, url: `${apiRepoUrl(repo.full_name)}/git/commits/${before}`, html_url: `${html}/commit/${before}` }],
  };
  const pushedCommit = {
    id: after,
    tree_id: commit.tree.sha,
    distinct: true,
    message: change.message,
    timestamp,
    url: commit.html_url,
    author: { name: account.name, email: account.email, username: account.login },
    committer: { name: account.name, email: account.email, username: account.login },
    added: created ? [change.path] : [],
    removed: [],
    modified: created ? [] : [change.path],
  };
  deliverEvent(ctx, repo, 'push', {
    ref: `refs/heads/${change.branch}`,
    before,
    after,
    repository: repo,
    pusher: { name: account.login, email: account.email },
    sender: userJson(account.login),
    created: false,
    deleted: false,
    forced: false,
    base_ref: null,
    compare: `${html}/compare/${before.slice(0, 12)}...${after.slice(0, 12)}`,
    commits: [pushedCommit],
    head_commit: pushedCommit,
  });
  const name = change.path.split('/').pop()!;
  return {
    created,
    body: {
      content: {
        name,
        path: change.path,
        sha: blobSha,
        size: Buffer.from(change.content, 'base64').length,
        url: `${apiRepoUrl(repo.full_name)}/contents/${change.path}?ref=${change.branch}`,
        html_url: `${html}/blob/${change.branch}/${change.path}`,
        git_url: `${apiRepoUrl(repo.full_name)}/git/blobs/${blobSha}`,
        download_url: `https://raw.githubusercontent.com/${repo.full_name}/${change.branch}/${change.path}`,
        type: 'file',
      },
      commit,
    },
  };
}

const TICK_TITLES = [
  'Login page shows a blank screen on Safari',
  'Add dark mode to settings',
  'Export to CSV drops the last row',
  'Typo in onboarding email',
  'Slow search on large projects',
];

export const githubSandbox: ProviderModule<GitHubState> = {
  key: 'github',
  displayName: 'GitHub',
  accounts: [
    { id: '583231', name: 'Jane Cooper', email: 'jane@acme.test', login: 'octo-jane' },
    { id: '583232', name: 'Hank Scorpio', email: 'hank@globex.test', login: 'hank-globex' },
  ],
  tokenPrefix: { access: 'ghu_sandbox', refresh: 'ghr_sandbox' },
  oauth: {
    authorizePath: '/login/oauth/authorize',
    tokenPath: '/login/oauth/access_token',
    defaultTtlSeconds: 28800,
    formUnlessJsonAccepted: true,
    tokenError(kind, description) {
      switch (kind) {
        case 'invalid_code':
          return tokenError('bad_verification_code', 'The code passed is incorrect or expired.', 'bad-verification-code');
        case 'invalid_refresh_token':
          return tokenError('bad_refresh_token', 'The refresh token passed is incorrect or expired.', 'bad-refresh-token');
        case 'invalid_client':
          return tokenError('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.', 'incorrect-client-credentials');
        case 'redirect_uri_mismatch':
          return tokenError('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.', 'redirect-uri-mismatch');
        default:
          return tokenError('unsupported_grant_type', description, 'unsupported-grant-type');
      }
    },
    tokenResponse(issued) {
      return {
        access_token: issued.accessToken,
        expires_in: Number.isFinite(issued.expiresIn) ? issued.expiresIn : undefined,
        refresh_token: issued.refreshToken,
        refresh_token_expires_in: issued.refreshToken ? 15811200 : undefined,
        token_type: 'bearer',
        scope: issued.scope.join(','),
      };
    },
  },
  authError(reason) {
    return ghError(401, reason === 'missing' ? 'Requires authentication' : 'Bad credentials');
  },
  seed: () => ({ repos: seedRepos(Date.parse('2026-01-15T12:00:00Z')), issues: [], hooks: [], heads: {}, files: {}, nextId: 2000000, ticks: 0 }),
  routes: [
    {
      method: 'GET',
      path: '/user',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        return json(200, {
          ...userJson(a.account.login!),
          id: Number(a.account.id),
          avatar_url: `https://avatars.githubusercontent.com/u/${a.account.id}?v=4`,
          url: `https://api.github.com/users/${a.account.login}`,
          name: a.account.name,
          company: '@acme-inc',
          email: a.account.email,
          public_repos: 42,
          created_at: '2014-02-10T09:00:00Z',
        });
      },
    },
    {
      method: 'GET',
      path: '/user/repos',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const visibility = req.query.get('visibility') ?? 'all';
        let repos = ctx.state.repos.filter((r) => visibility === 'all' || r.visibility === visibility);
        if ((req.query.get('sort') ?? 'full_name') === 'full_name') repos = [...repos].sort((x, y) => x.full_name.localeCompare(y.full_name));
        else repos = [...repos].sort((x, y) => y.updated_at.localeCompare(x.updated_at));
        return paginated(repos, req, '/user/repos');
      },
    },
    {
      method: 'POST',
      path: '/repos/:owner/:repo/issues',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const repo = findRepo(ctx.state, req);
        if (!repo) return ghError(404, 'Not Found');
        if (!repo.has_issues) return ghError(410, 'Issues are disabled for this repo');
        const body = (req.body ?? {}) as Record<string, unknown>;
        if (typeof body.title !== 'string' || !body.title.trim()) {
          return ghError(422, 'Validation Failed', { errors: [{ resource: 'Issue', code: 'missing_field', field: 'title' }] });
        }
        const issue = openIssue(
          ctx,
          repo,
          {
            title: body.title,
            body: typeof body.body === 'string' ? body.body : null,
            labels: Array.isArray(body.labels) ? body.labels : [],
            assignees: Array.isArray(body.assignees) ? body.assignees : [],
          },
          a.account.login!,
        );
        return json(201, issueJson(issue), { location: `${apiRepoUrl(repo.full_name)}/issues/${issue.number}` });
      },
    },
    {
      method: 'GET',
      path: '/repos/:owner/:repo/issues/:number',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const repo = findRepo(ctx.state, req);
        const issue = repo && ctx.state.issues.find((i) => i.repository === repo.full_name && i.number === Number(req.params.number));
        return issue ? json(200, issueJson(issue)) : ghError(404, 'Not Found');
      },
    },
    {
      method: 'POST',
      path: '/repos/:owner/:repo/issues/:number/comments',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const repo = findRepo(ctx.state, req);
        const issue = repo && ctx.state.issues.find((i) => i.repository === repo.full_name && i.number === Number(req.params.number));
        if (!issue) return ghError(404, 'Not Found');
        const body = (req.body ?? {}) as Record<string, unknown>;
        if (typeof body.body !== 'string' || !body.body) {
          return ghError(422, 'Validation Failed', { errors: [{ resource: 'IssueComment', code: 'missing_field', field: 'body' }] });
        }
        const id = ctx.state.nextId++;
        const created = githubTime(ctx.now());
        issue.comments.push({ id, body: body.body, user: a.account.login!, created_at: created });
        issue.updated_at = created;
        return json(201, {
          id,
          node_id: `IC_kwDO${id.toString(36)}`,
          url: `https://api.github.com/repos/${issue.repository}/issues/comments/${id}`,
          html_url: `https://github.com/${issue.repository}/issues/${issue.number}#issuecomment-${id}`,
          issue_url: `https://api.github.com/repos/${issue.repository}/issues/${issue.number}`,
          body: body.body,
          user: userJson(a.account.login!),
          created_at: created,
          updated_at: created,
          author_association: 'OWNER',
        });
      },
    },
    {
      method: 'GET',
      path: '/repos/:owner/:repo/issues',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const repo = findRepo(ctx.state, req);
        if (!repo) return ghError(404, 'Not Found');
        const state = req.query.get('state') ?? 'open';
        const sort = req.query.get('sort') ?? 'created';
        const direction = req.query.get('direction') ?? 'desc';
        const since = req.query.get('since');
        if (!['open', 'closed', 'all'].includes(state) || !['created', 'updated', 'comments'].includes(sort) || !['asc', 'desc'].includes(direction)) {
          return ghError(422, 'Validation Failed', { errors: [{ resource: 'Issue', code: 'invalid', field: 'state/sort/direction' }] });
        }
        if (since && Number.isNaN(Date.parse(since))) return ghError(422, 'Validation Failed', { errors: [{ resource: 'Issue', code: 'invalid', field: 'since' }] });
        const key = (i: GitHubIssue) => (sort === 'updated' ? i.updated_at : sort === 'comments' ? String(i.comments.length).padStart(9, '0') : i.created_at);
        const issues = ctx.state.issues
          .filter((i) => i.repository === repo.full_name && (state === 'all' || i.state === state) && (!since || Date.parse(i.updated_at) >= Date.parse(since)))
          .sort((x, y) => (direction === 'asc' ? 1 : -1) * (key(x).localeCompare(key(y)) || x.id - y.id));
        return paginated(issues.map(issueJson), req, `/repos/${repo.full_name}/issues`);
      },
    },
    {
      method: 'POST',
      path: '/repos/:owner/:repo/pulls',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const repo = findRepo(ctx.state, req);
        if (!repo) return ghError(404, 'Not Found');
        const body = (req.body ?? {}) as Record<string, unknown>;
        for (const field of ['title', 'head', 'base']) {
          if (typeof body[field] !== 'string' || !(body[field] as string).trim()) {
            return ghError(422, 'Validation Failed', { errors: [{ resource: 'PullRequest', code: 'missing_field', field }] });
          }
        }
        const head = String(body.head).replace(/^[^:]+:/, '');
        if (head === body.base)
          return ghError(422, 'Validation Failed', { errors: [{ resource: 'PullRequest', code: 'custom', message: `No commits between ${body.base} and ${head}` }] });
        const issue = openIssue(
          ctx,
          repo,
          { title: String(body.title), body: typeof body.body === 'string' ? body.body : null, pull: { head, base: String(body.base), draft: body.draft === true } },
          a.account.login!,
        );
        return json(201, pullJson(issue, repo), { location: `${apiRepoUrl(repo.full_name)}/pulls/${issue.number}` });
      },
    },
    {
      method: 'GET',
      path: '/repos/:owner/:repo/hooks',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const repo = findRepo(ctx.state, req);
        if (!repo) return ghError(404, 'Not Found');
        return paginated(ctx.state.hooks.filter((h) => h.repository === repo.full_name).map(hookJson), req, `/repos/${repo.full_name}/hooks`);
      },
    },
    {
      method: 'POST',
      path: '/repos/:owner/:repo/hooks',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const repo = findRepo(ctx.state, req);
        if (!repo) return ghError(404, 'Not Found');
        const body = (req.body ?? {}) as { name?: unknown; active?: unknown; events?: unknown; config?: Record<string, unknown> };
        if (body.name !== undefined && body.name !== 'web') return hookValidationError(`Name must be "web"`);
        const config = body.config ?? {};
        if (typeof config.url !== 'string' || !/^https?:\/\/[^\s]+$/.test(config.url)) return hookValidationError('Config must contain a valid URL');
        const contentType = config.content_type ?? 'form';
        if (contentType !== 'json' && contentType !== 'form') return hookValidationError('Content type must be json or form');
        const events = body.events === undefined ? ['push'] : body.events;
        if (!Array.isArray(events) || events.length === 0) return hookValidationError('Events must be a non-empty list');
        const unknown = events.find((e) => typeof e !== 'string' || !HOOK_EVENTS.has(e));
        if (unknown !== undefined) return hookValidationError(`"${String(unknown)}" is not a valid event name`);
        if (ctx.state.hooks.some((h) => h.repository === repo.full_name && h.config.url === config.url)) return hookValidationError('Hook already exists on this repository');
        const now = githubTime(ctx.now());
        const hook: GitHubHook = {
          id: ctx.state.nextId++,
          repository: repo.full_name,
          events: [...new Set(events as string[])],
          active: body.active !== false,
          config: {
            url: config.url,
            content_type: contentType,
            ...(typeof config.secret === 'string' && config.secret ? { secret: config.secret } : {}),
            insecure_ssl: config.insecure_ssl === '1' || config.insecure_ssl === 1 ? '1' : '0',
          },
          created_at: now,
          updated_at: now,
        };
        ctx.state.hooks.push(hook);
        // A new hook is pinged at once.
        if (hook.active)
          deliverEvent(
            ctx,
            repo,
            'ping',
            { zen: 'Keep it logically awesome.', hook_id: hook.id, hook: hookJson(hook), repository: repo, sender: userJson(a.account.login!) },
            hook,
          );
        return json(201, hookJson(hook), { location: `${apiRepoUrl(repo.full_name)}/hooks/${hook.id}` });
      },
    },
    {
      method: 'GET',
      path: '/repos/:owner/:repo/hooks/:id',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const repo = findRepo(ctx.state, req);
        const hook = repo && ctx.state.hooks.find((h) => h.repository === repo.full_name && h.id === Number(req.params.id));
        return hook ? json(200, hookJson(hook)) : ghError(404, 'Not Found');
      },
    },
    {
      method: 'PATCH',
      path: '/repos/:owner/:repo/hooks/:id',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const repo = findRepo(ctx.state, req);
        const hook = repo && ctx.state.hooks.find((h) => h.repository === repo.full_name && h.id === Number(req.params.id));
        if (!hook) return ghError(404, 'Not Found');
        const body = (req.body ?? {}) as { active?: unknown; events?: unknown; config?: Record<string, unknown> };
        const config = { ...hook.config, ...(body.config ?? {}) } as Record<string, unknown>;
        if (typeof config.url !== 'string' || !/^https?:\/\/[^\s]+$/.test(config.url)) return hookValidationError('Config must contain a valid URL');
        if (config.content_type !== 'json' && config.content_type !== 'form') return hookValidationError('Content type must be json or form');
        if (body.events !== undefined) {
          if (!Array.isArray(body.events) || body.events.length === 0) return hookValidationError('Events must be a non-empty list');
          const unknown = body.events.find((e) => typeof e !== 'string' || !HOOK_EVENTS.has(e));
          if (unknown !== undefined) return hookValidationError(`"${String(unknown)}" is not a valid event name`);
          hook.events = [...new Set(body.events as string[])];
        }
        hook.config = {
          url: config.url,
          content_type: config.content_type,
          ...(typeof config.secret === 'string' && config.secret ? { secret: config.secret } : {}),
          insecure_ssl: config.insecure_ssl === '1' || config.insecure_ssl === 1 ? '1' : '0',
        };
        if (typeof body.active === 'boolean') hook.active = body.active;
        hook.updated_at = githubTime(ctx.now());
        return json(200, hookJson(hook));
      },
    },
    {
      method: 'DELETE',
      path: '/repos/:owner/:repo/hooks/:id',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const repo = findRepo(ctx.state, req);
        const hook = repo && ctx.state.hooks.find((h) => h.repository === repo.full_name && h.id === Number(req.params.id));
        if (!hook) return ghError(404, 'Not Found');
        ctx.state.hooks = ctx.state.hooks.filter((h) => h !== hook);
        return { status: 204 };
      },
    },
    {
      method: 'PUT',
      path: /^\/repos\/(?<owner>[^/]+)\/(?<repo>[^/]+)\/contents\/(?<path>.+)$/,
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const repo = findRepo(ctx.state, req);
        if (!repo) return ghError(404, 'Not Found');
        const body = (req.body ?? {}) as Record<string, unknown>;
        for (const field of ['message', 'content']) {
          if (typeof body[field] !== 'string') return ghError(422, `Invalid request.\n\n"${field}" wasn't supplied.`);
        }
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(String(body.content).replace(/\s/g, ''))) return ghError(422, 'content is not valid Base64');
        const branch = typeof body.branch === 'string' ? body.branch : repo.default_branch;
        if (branch !== repo.default_branch && !ctx.state.heads[`${repo.full_name}:${branch}`]) return ghError(404, `Branch ${branch} not found`);
        const existing = ctx.state.files[`${repo.full_name}:${branch}:${req.params.path}`];
        if (existing && typeof body.sha !== 'string') return ghError(422, `Invalid request.\n\n"sha" wasn't supplied.`);
        if (existing && body.sha !== existing.sha) return ghError(409, `${req.params.path} does not match ${body.sha}`);
        const account = { login: a.account.login!, name: a.account.name, email: a.account.email };
        const result = commitFile(ctx, repo, account, { path: req.params.path!, branch, message: String(body.message), content: String(body.content).replace(/\s/g, '') });
        return json(result.created ? 201 : 200, result.body);
      },
    },
  ],
  /** Someone opens an issue in one of the main repositories (round robin), as a user would. */
  tick(ctx) {
    const repos = ctx.state.repos.slice(0, 6).filter((r) => r.has_issues);
    const n = ctx.state.ticks++;
    openIssue(ctx, repos[n % repos.length]!, { title: TICK_TITLES[n % TICK_TITLES.length]!, body: 'Reported from the sandbox.' }, 'hank-globex');
  },
};
