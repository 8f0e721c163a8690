import { signal } from '@preact/signals';
import type { ComponentChildren } from 'preact';

/** The portal lives under /portal; routes are the rest of the path. */
export const BASE = '/portal';

export type Route = 'api-keys' | 'members' | 'audit-log' | 'accept-invite' | 'home' | 'not-found';

function routeOf(pathname: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const segment = rest.replace(/^\/+|\/+$/g, '');
  switch (segment) {
    case '':
      return 'home';
    case 'api-keys':
    case 'members':
    case 'audit-log':
    case 'accept-invite':
      return segment;
    default:
      return 'not-found';
  }
}

export const route = signal<Route>(routeOf(location.pathname));

/** Bumped on every navigation, so the page can move focus to the new heading. */
export const navigationCount = signal(0);

export function hrefOf(to: Exclude<Route, 'not-found'>): string {
  return to === 'home' ? `${BASE}/` : `${BASE}/${to}`;
}

export function navigate(to: Exclude<Route, 'not-found'>, options: { replace?: boolean } = {}): void {
  const href = hrefOf(to);
  if (options.replace) history.replaceState(null, '', href);
  else if (location.pathname !== href) history.pushState(null, '', href);
  route.value = to;
  if (!options.replace) navigationCount.value++;
}

addEventListener('popstate', () => {
  const next = routeOf(location.pathname);
  // A fragment-only change is not a navigation between pages.
  if (next === route.value) return;
  route.value = next;
  navigationCount.value++;
});

interface LinkProps {
  to: Exclude<Route, 'not-found'>;
  class?: string;
  children: ComponentChildren;
}

/** A real link (middle-click, copy link, keyboard all work) that navigates without reloading. */
export function Link({ to, children, class: className }: LinkProps) {
  return (
    <a
      class={className}
      href={hrefOf(to)}
      aria-current={route.value === to ? 'page' : undefined}
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
