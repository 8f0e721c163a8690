import { computed, signal } from '@preact/signals';
import type { ComponentChildren } from 'preact';

/** The portal lives under /portal; routes are the rest of the path (`/runs/<id>`), plus a query string for filters. */
export const BASE = '/portal';

export type RouteName =
  | 'home'
  | 'dashboard'
  | 'runs'
  | 'run'
  | 'approvals'
  | 'flows'
  | 'flow'
  | 'connectors'
  | 'connector'
  | 'custom-providers'
  | 'custom-provider'
  | 'end-users'
  | 'end-user'
  | 'mcp'
  | 'settings'
  | 'webhooks'
  | 'webhook'
  | 'api-keys'
  | 'members'
  | 'environments'
  | 'audit-log'
  | 'accept-invite'
  | 'llm-providers'
  | 'llm-provider'
  | 'alerts'
  | 'alert'
  | 'not-found';

export interface Route {
  name: RouteName;
  /** The path segment after the section, decoded (`/runs/<id>` → id). */
  param: string | null;
}

const SECTIONS: Record<string, [list: RouteName, item: RouteName | null]> = {
  '': ['home', null],
  dashboard: ['dashboard', null],
  runs: ['runs', 'run'],
  approvals: ['approvals', null],
  flows: ['flows', 'flow'],
  connectors: ['connectors', 'connector'],
  'custom-providers': ['custom-providers', 'custom-provider'],
  'end-users': ['end-users', 'end-user'],
  mcp: ['mcp', null],
  settings: ['settings', null],
  webhooks: ['webhooks', 'webhook'],
  'api-keys': ['api-keys', null],
  members: ['members', null],
  environments: ['environments', null],
  'audit-log': ['audit-log', null],
  'accept-invite': ['accept-invite', null],
  'llm-providers': ['llm-providers', 'llm-provider'],
  alerts: ['alerts', 'alert'],
};

function routeOf(pathname: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const segments = rest.replace(/^\/+|\/+$/g, '').split('/');
  const section = SECTIONS[segments[0] ?? ''];
  if (!section) return { name: 'not-found', param: null };
  if (segments.length === 1) return { name: section[0], param: null };
  if (segments.length === 2 && section[1]) {
    try {
      return { name: section[1], param: decodeURIComponent(segments[1]) };
    } catch {
      return { name: 'not-found', param: null };
    }
  }
  return { name: 'not-found', param: null };
}

/** The current address below BASE (`/runs?status=failed`). */
const where = signal({ pathname: location.pathname, search: location.search });

export const route = computed<Route>(() => routeOf(where.value.pathname));
export const query = computed(() => new URLSearchParams(where.value.search));

/** Bumped on every navigation between pages, so the page can move focus to the new heading. */
export const navigationCount = signal(0);

/** `/runs/abc` → `/portal/runs/abc`. */
export const hrefOf = (to: string): string => (to === '' || to === '/' || to === 'home' ? `${BASE}/` : `${BASE}/${to.replace(/^\/+/, '')}`);

/** Goes to a portal path (`runs`, `runs/<id>`, `runs?status=failed`). `replace` rewrites the current entry and keeps focus. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const href = hrefOf(to);
  const before = route.value;
  if (options.replace) history.replaceState(null, '', href);
  else if (location.pathname + location.search !== href) history.pushState(null, '', href);
  where.value = { pathname: location.pathname, search: location.search };
  const after = route.value;
  if (!options.replace && (before.name !== after.name || before.param !== after.param)) navigationCount.value++;
}

/** Changes the query string of the current page in place (filters), without a new history entry. */
export function setQuery(values: Record<string, string | null | undefined>): void {
  const params = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(values)) {
    if (value) params.set(key, value);
    else params.delete(key);
  }
  const search = params.toString();
  history.replaceState(null, '', `${location.pathname}${search ? `?${search}` : ''}`);
  where.value = { pathname: location.pathname, search: location.search };
}

addEventListener('popstate', () => {
  const before = route.value;
  where.value = { pathname: location.pathname, search: location.search };
  // A fragment- or query-only change is not a navigation between pages.
  if (before.name !== route.value.name || before.param !== route.value.param) navigationCount.value++;
});

interface LinkProps {
  to: string;
  class?: string;
  /** Marks the link as the current page when the route's section matches. */
  section?: RouteName[];
  'aria-label'?: string;
  children: ComponentChildren;
}

/** A real link (middle-click, copy link, keyboard all work) that navigates without reloading. */
export function Link({ to, children, class: className, section, 'aria-label': label }: LinkProps) {
  const current = section ? section.includes(route.value.name) : false;
  return (
    <a
      class={className}
      href={hrefOf(to)}
      aria-label={label}
      aria-current={current ? 'page' : undefined}
      onClick={(event) => {
        if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}
