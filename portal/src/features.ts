import { signal } from '@preact/signals';

/**
 * Which optional admin routes this server has, read once from its OpenAPI document, so the UI can
 * hide actions (retry, cancel, webhooks…) a server without them would answer with route_not_found.
 */
/** null while loading; 'unknown' when the document could not be read. */
export const features = signal<Set<string> | 'unknown' | null>(null);

let loading: Promise<void> | null = null;

export function loadFeatures(): Promise<void> {
  loading ??= fetch('/openapi.json', { credentials: 'same-origin' })
    .then((res) => (res.ok ? (res.json() as Promise<{ paths?: Record<string, Record<string, unknown>> }>) : { paths: {} }))
    .then((doc) => {
      const routes = new Set<string>();
      for (const [path, methods] of Object.entries(doc.paths ?? {})) for (const method of Object.keys(methods)) routes.add(`${method.toUpperCase()} ${path}`);
      features.value = routes;
    })
    .catch(() => {
      // Unknown: offer everything; a missing route then shows its error.
      features.value = 'unknown';
    });
  return loading;
}

/** Whether the server has `METHOD /path/{param}`: false while loading, true if it cannot be known. */
export function hasRoute(route: string): boolean {
  const known = features.value;
  if (known === null) return false;
  return known === 'unknown' || known.has(route);
}
