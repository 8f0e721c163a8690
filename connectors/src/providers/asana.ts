import type { Static } from '@sinclair/typebox';
import { send } from '../runtime';
import { ActionContext, defineAction, defineConnector, definePollTrigger, OptionItem } from '../types';
import { anyObject, bool, logo, matches, nullable, obj, res, str } from './shared';

/** Asana's list answer: `data` and the next page's offset token (null on the last page). */
interface AsanaList<T> {
  data: T[];
  next_page: { offset: string; path: string; uri: string } | null;
}

export interface AsanaTask {
  gid: string;
  name: string;
  notes?: string;
  completed?: boolean;
  due_on?: string | null;
  created_at: string;
  modified_at?: string;
  permalink_url?: string;
  assignee?: { gid: string; name?: string } | null;
}

const TASK_FIELDS = 'name,notes,completed,due_on,created_at,modified_at,permalink_url,assignee.name';
const GID = { pattern: '^[0-9]+$' };

const taskOutput = res(
  {
    gid: str('Task id'),
    name: str('Name'),
    notes: str('Notes'),
    completed: bool('Completed'),
    due_on: nullable(str('Due on')),
    created_at: str('Created'),
    modified_at: str('Modified'),
    permalink_url: str('Link'),
    assignee: nullable(anyObject({ title: 'Assignee' })),
  },
  ['gid', 'name'],
);

function task(t: AsanaTask): Static<typeof taskOutput> {
  return {
    gid: t.gid,
    name: t.name,
    notes: t.notes ?? '',
    completed: t.completed ?? false,
    due_on: t.due_on ?? null,
    created_at: t.created_at,
    modified_at: t.modified_at ?? t.created_at,
    permalink_url: t.permalink_url,
    assignee: t.assignee ? { gid: t.assignee.gid, name: t.assignee.name } : null,
  };
}

/** Every page of a list (bounded: `maxPages` of 100). */
async function listAll<T>(ctx: ActionContext, path: string, query: Record<string, string | number | undefined>, maxPages = 10): Promise<{ items: T[]; complete: boolean }> {
  const items: T[] = [];
  let offset: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const answer = await send<AsanaList<T>>(ctx, { method: 'GET', path, query: { ...query, limit: 100, offset } });
    items.push(...answer.data);
    if (!answer.next_page) return { items, complete: true };
    offset = answer.next_page.offset;
  }
  return { items, complete: false };
}

/** Asana gids are decimal strings: longer is larger. */
function compareGid(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function byCreated(a: AsanaTask, b: AsanaTask): number {
  return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : compareGid(a.gid, b.gid);
}

const PROJECT = str('Project', { ...GID, 'x-options': 'projects' });

const createTask = defineAction({
  name: 'Create task',
  description: 'Creates a task in a project (POST /tasks).',
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      project: PROJECT,
      name: str('Name', { minLength: 1 }),
      notes: str('Notes', { description: 'Plain text description' }),
      assignee: str('Assignee', { description: 'A user gid, an email address, or "me"' }),
      due_on: str('Due on', { format: 'date' }),
    },
    ['project', 'name'],
  ),
  output: taskOutput,
  async run(ctx, input) {
    const { project, ...fields } = input;
    const { data } = await send<{ data: AsanaTask }>(ctx, {
      method: 'POST',
      path: 'tasks',
      query: { opt_fields: TASK_FIELDS },
      body: { data: { ...fields, projects: [project] } },
    });
    return task(data);
  },
});

const updateTask = defineAction({
  name: 'Update task',
  description: 'Changes a task’s name, notes, due date, assignee or completion (PUT /tasks/{task_gid}).',
  // PUT sets the given fields: a repeat changes nothing.
  readOnly: false,
  retrySafe: true,
  input: obj(
    {
      task_gid: str('Task id', GID),
      name: str('Name', { minLength: 1 }),
      notes: str('Notes'),
      completed: bool('Completed'),
      due_on: nullable(str('Due on', { format: 'date' })),
      assignee: nullable(str('Assignee', { description: 'A user gid, an email address, "me", or null to unassign' })),
    },
    ['task_gid'],
    { minProperties: 2 },
  ),
  output: taskOutput,
  async run(ctx, input) {
    const { task_gid, ...fields } = input;
    const { data } = await send<{ data: AsanaTask }>(ctx, {
      method: 'PUT',
      path: `tasks/${encodeURIComponent(task_gid)}`,
      query: { opt_fields: TASK_FIELDS },
      body: { data: fields },
    });
    return task(data);
  },
});

const addComment = defineAction({
  name: 'Comment on task',
  description: 'Adds a comment to a task (POST /tasks/{task_gid}/stories).',
  readOnly: false,
  retrySafe: false,
  input: obj({ task_gid: str('Task id', GID), text: str('Comment', { minLength: 1 }) }, ['task_gid', 'text']),
  output: res({ gid: str('Comment id'), text: str('Text'), created_at: str('Created') }, ['gid']),
  async run(ctx, input) {
    const { data } = await send<{ data: { gid: string; text: string; created_at: string } }>(ctx, {
      method: 'POST',
      path: `tasks/${encodeURIComponent(input.task_gid)}/stories`,
      body: { data: { text: input.text } },
    });
    return { gid: data.gid, text: data.text, created_at: data.created_at };
  },
});

export const asanaConnector = defineConnector({
  key: 'asana',
  name: 'Asana',
  description: 'Create, update and comment on tasks in Asana projects; start flows on new tasks.',
  logo: logo('#F06A6A', '<circle cx="32" cy="22" r="9" fill="#fff"/><circle cx="19" cy="42" r="9" fill="#fff"/><circle cx="45" cy="42" r="9" fill="#fff"/>'),
  categories: ['project-management', 'productivity'],
  docsUrl: 'https://developers.asana.com/reference/rest-api-reference',
  auth: {
    type: 'oauth2',
    authorizationUrl: 'https://app.asana.com/-/oauth_authorize',
    tokenUrl: 'https://app.asana.com/-/oauth_token',
    // Granular scopes; an app registered for "Full permissions" must ask for [default] instead (the two modes exclude each other).
    scopes: ['users:read', 'workspaces:read', 'projects:read', 'tasks:read', 'tasks:write', 'stories:write'],
    scopeSeparator: ' ',
    refreshable: true,
  },
  baseUrl: 'https://app.asana.com/api/1.0',
  pagination: { style: 'cursor', cursorParam: 'offset', nextCursorPath: 'next_page.offset', limitParam: 'limit' },
  // Free plans: 150 requests a minute per token; paid: 1,500. A 429 says how long in Retry-After.
  rateLimit: { requestsPerSecond: 2 },
  actions: { create_task: createTask, update_task: updateTask, add_comment: addComment },
  options: {
    workspaces: {
      name: 'Workspaces',
      async run(ctx, { search, cursor }) {
        const page = await send<AsanaList<{ gid: string; name: string }>>(ctx, { method: 'GET', path: 'workspaces', query: { limit: 100, offset: cursor } });
        const options = page.data.filter((w) => matches(search, w.name)).map((w) => ({ value: w.gid, label: w.name }));
        return page.next_page ? { options, nextCursor: page.next_page.offset } : { options };
      },
    },
    projects: {
      name: 'Projects',
      description: 'Active projects of every workspace the user is in',
      async run(ctx, { search, cursor }) {
        // Cursor: "<workspace index>:<Asana offset>"; a workspace's last page moves on to the next one.
        const [indexText, offset] = (cursor ?? '0:').split(/:(.*)/s);
        let index = Number.parseInt(indexText ?? '0', 10) || 0;
        let pageOffset = offset || undefined;
        const { data: me } = await send<{ data: { workspaces: { gid: string; name: string }[] } }>(ctx, {
          method: 'GET',
          path: 'users/me',
          query: { opt_fields: 'workspaces.name' },
        });
        const options: OptionItem[] = [];
        while (index < me.workspaces.length && options.length < 50) {
          const workspace = me.workspaces[index]!;
          const page = await send<AsanaList<{ gid: string; name: string }>>(ctx, {
            method: 'GET',
            path: 'projects',
            query: { workspace: workspace.gid, archived: 'false', limit: 100, offset: pageOffset },
          });
          for (const p of page.data) if (matches(search, p.name)) options.push({ value: p.gid, label: p.name, description: workspace.name });
          if (page.next_page) pageOffset = page.next_page.offset;
          else {
            index += 1;
            pageOffset = undefined;
          }
        }
        return index < me.workspaces.length ? { options, nextCursor: `${index}:${pageOffset ?? ''}` } : { options };
      },
    },
  },
  triggers: {
    new_task: definePollTrigger<{ createdAt: string; gid: string }>()({
      name: 'New task',
      description: 'A task is added to a project (GET /tasks?project=…&modified_since=…, newest by created_at).',
      input: obj({ project: PROJECT }, ['project']),
      output: taskOutput,
      intervalSeconds: 120,
      minIntervalSeconds: 60,
      async poll(ctx, { input, cursor, limit }) {
        // A task created after the cursor was modified after it too: modified_since narrows the list.
        const { items: tasks, complete } = await listAll<AsanaTask>(ctx, 'tasks', { project: input.project, opt_fields: TASK_FIELDS, modified_since: cursor?.createdAt });
        const sorted = tasks.sort(byCreated);
        if (cursor === null) {
          // The cursor sits at the newest task even when none is asked for (limit 0: from now);
          // an empty project starts at the beginning of time, i.e. every task that comes.
          const newest = limit > 0 ? sorted.slice(-limit) : [];
          const last = sorted.at(-1);
          return {
            items: newest.map((t) => ({ id: t.gid, data: task(t) })),
            cursor: last ? { createdAt: last.created_at, gid: last.gid } : { createdAt: '1970-01-01T00:00:00.000Z', gid: '0' },
          };
        }
        const fresh = sorted.filter((t) => t.created_at > cursor.createdAt || (t.created_at === cursor.createdAt && compareGid(t.gid, cursor.gid) > 0));
        const items = fresh.slice(0, limit);
        const last = items.at(-1);
        return {
          items: items.map((t) => ({ id: t.gid, data: task(t) })),
          cursor: last ? { createdAt: last.created_at, gid: last.gid } : cursor,
          more: fresh.length > limit || !complete,
        };
      },
    }),
  },
  async account(ctx) {
    const { data } = await send<{ data: { gid: string; name: string; email: string; workspaces: { gid: string; name: string }[] } }>(ctx, {
      method: 'GET',
      path: 'users/me',
      query: { opt_fields: 'name,email,workspaces.name' },
    });
    return { id: data.gid, name: `${data.name} (${data.email})`, details: { email: data.email, workspaces: data.workspaces.map((w) => w.name) } };
  },
});
