import { send } from '../runtime';
import { defineAction, defineConnector } from '../types';
import { int, logo, matches, obj, res, str } from './shared';

const REPOSITORY = str('Repository', { description: 'owner/name', pattern: '^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$', 'x-options': 'repos' });

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

const createIssue = defineAction<
  { repository: string; title: string; body?: string; labels?: string[]; assignees?: string[] },
  { id: number; number: number; url: string; state: string; title: string }
>({
  name: 'Create issue',
  description: 'Opens an issue in a repository (POST /repos/{owner}/{repo}/issues).',
  retrySafe: false,
  input: obj(
    {
      repository: REPOSITORY,
      title: str('Title', { minLength: 1, maxLength: 256 }),
      body: str('Body', { description: 'Markdown' }),
      labels: { type: 'array', title: 'Labels', items: { type: 'string' } },
      assignees: { type: 'array', title: 'Assignees', items: { type: 'string' }, description: 'GitHub logins' },
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

const addComment = defineAction<{ repository: string; issue_number: number; body: string }, { id: number; url: string }>({
  name: 'Comment on issue or pull request',
  description: 'Adds a comment to an issue or pull request (POST /repos/{owner}/{repo}/issues/{number}/comments).',
  retrySafe: false,
  input: obj(
    { repository: REPOSITORY, issue_number: int('Issue or PR number', { minimum: 1 }), body: str('Comment', { minLength: 1, description: 'Markdown' }) },
    ['repository', 'issue_number', 'body'],
  ),
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

const listRepos = defineAction<
  { visibility?: 'all' | 'public' | 'private'; per_page?: number; page?: number },
  { repos: { full_name: string; private: boolean; url: string; description: string | null; default_branch: string }[]; next_page?: number }
>({
  name: 'List repositories',
  description: 'Lists repositories the user can access, most recently updated first (GET /user/repos).',
  retrySafe: true,
  input: obj({
    visibility: { type: 'string', enum: ['all', 'public', 'private'], default: 'all', title: 'Visibility' },
    per_page: int('Page size', { minimum: 1, maximum: 100, default: 30 }),
    page: int('Page', { minimum: 1, default: 1 }),
  }),
  output: res(
    {
      repos: {
        type: 'array',
        items: res(
          { full_name: str('Name'), private: { type: 'boolean' }, url: str('Link'), description: { type: ['string', 'null'] }, default_branch: str('Default branch') },
          ['full_name'],
        ),
      },
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

export const githubConnector = defineConnector({
  key: 'github',
  name: 'GitHub',
  description: 'Open issues, comment and list repositories on GitHub.',
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
