import { intParam, isoNow, json, ProviderModule, SandboxRequest, SandboxResponse } from '../core';

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
}

export interface GitHubState {
  repos: GitHubRepo[];
  issues: GitHubIssue[];
  nextId: number;
}

const DOCS = 'https://docs.github.com/rest';

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
    const updated = isoNow(now - i * 3600_000);
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

function issueJson(issue: GitHubIssue) {
  const [owner, repo] = issue.repository.split('/');
  return {
    id: issue.id,
    node_id: issue.node_id,
    url: `https://api.github.com/repos/${owner}/${repo}/issues/${issue.number}`,
    repository_url: `https://api.github.com/repos/${owner}/${repo}`,
    html_url: `https://github.com/${owner}/${repo}/issues/${issue.number}`,
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
    updated_at: issue.created_at,
    closed_at: null,
    author_association: 'OWNER',
  };
}

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
  seed: () => ({ repos: seedRepos(Date.parse('2026-01-15T12:00:00Z')), issues: [], nextId: 2000000 }),
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
        const perPage = intParam(req.query.get('per_page'), 30, 1, 100);
        const pageNo = intParam(req.query.get('page'), 1, 1, 100000);
        const visibility = req.query.get('visibility') ?? 'all';
        let repos = ctx.state.repos.filter((r) => visibility === 'all' || r.visibility === visibility);
        if ((req.query.get('sort') ?? 'full_name') === 'full_name') repos = [...repos].sort((x, y) => x.full_name.localeCompare(y.full_name));
        else repos = [...repos].sort((x, y) => y.updated_at.localeCompare(x.updated_at));
        const slice = repos.slice((pageNo - 1) * perPage, pageNo * perPage);
        const last = Math.max(1, Math.ceil(repos.length / perPage));
        const base = `https://api.github.com/user/repos?per_page=${perPage}`;
        const links: string[] = [];
        if (pageNo < last) links.push(`<${base}&page=${pageNo + 1}>; rel="next"`, `<${base}&page=${last}>; rel="last"`);
        if (pageNo > 1) links.push(`<${base}&page=${pageNo - 1}>; rel="prev"`, `<${base}&page=1>; rel="first"`);
        return json(200, slice, links.length ? { link: links.join(', ') } : {});
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
        const number = ctx.state.issues.filter((i) => i.repository === repo.full_name).length + 1;
        const id = ctx.state.nextId++;
        const issue: GitHubIssue = {
          id,
          node_id: `I_kwDO${id.toString(36)}`,
          number,
          repository: repo.full_name,
          title: body.title,
          body: typeof body.body === 'string' ? body.body : null,
          state: 'open',
          labels: (Array.isArray(body.labels) ? body.labels : []).map((name, i) => ({ id: 100 + i, name: String(name), color: 'ededed' })),
          assignees: (Array.isArray(body.assignees) ? body.assignees : []).map((login) => ({ login: String(login), id: 583000 })),
          comments: [],
          user: a.account.login!,
          created_at: isoNow(ctx.now()),
        };
        ctx.state.issues.push(issue);
        repo.open_issues_count++;
        return json(201, issueJson(issue), { location: `https://api.github.com/repos/${repo.full_name}/issues/${number}` });
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
        const created = isoNow(ctx.now());
        issue.comments.push({ id, body: body.body, user: a.account.login!, created_at: created });
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
  ],
};
