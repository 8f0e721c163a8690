import { type Signal, useSignal } from '@preact/signals';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { ApiError, messageOf } from '../api';
import { Alert, Spinner } from './alert';

export interface Resource<T> {
  data: Signal<T | null>;
  error: Signal<string | null>;
  /** The HTTP status of the last failure (404: it does not exist). */
  status: Signal<number | null>;
  reload: () => Promise<void>;
}

/** Loads something from the API when `deps` change; `reload()` fetches it again, keeping what is shown until it arrives. */
export function useResource<T>(load: () => Promise<T>, deps: unknown[]): Resource<T> {
  const data = useSignal<T | null>(null);
  const error = useSignal<string | null>(null);
  const status = useSignal<number | null>(null);
  const latest = useRef(load);
  latest.current = load;
  const generation = useRef(0);
  const reload = async () => {
    const mine = ++generation.current;
    try {
      const value = await latest.current();
      if (mine !== generation.current) return;
      data.value = value;
      error.value = null;
      status.value = null;
    } catch (caught) {
      if (mine !== generation.current) return;
      error.value = messageOf(caught);
      status.value = caught instanceof ApiError ? caught.status : null;
    }
  };
  useEffect(() => {
    data.value = null;
    error.value = null;
    void reload();
  }, deps);
  return { data, error, status, reload };
}

/** The spinner while loading, the error (with "Try again") if it failed, else the children. */
export function Loaded<T>({
  resource,
  what,
  missing,
  children,
}: {
  resource: Resource<T>;
  what: string;
  /** Shown instead when it does not exist (404, or 400 for an id that cannot be one). */
  missing?: ComponentChildren;
  children: (data: T) => ComponentChildren;
}) {
  if (missing && (resource.status.value === 404 || resource.status.value === 400)) return <>{missing}</>;
  if (resource.error.value && resource.data.value === null) {
    return (
      <div class="card-pad">
        <Alert tone="error" title={`Could not load ${what}`}>
          {resource.error.value}{' '}
          <button type="button" class="link-button" onClick={() => void resource.reload()}>
            Try again
          </button>
        </Alert>
      </div>
    );
  }
  if (resource.data.value === null) {
    return (
      <div class="card-pad card-pad-bottom">
        <Spinner label={`Loading ${what}…`} />
      </div>
    );
  }
  return <>{children(resource.data.value)}</>;
}
