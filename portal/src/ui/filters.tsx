import type { Signal } from '@preact/signals';
import { Field } from './field';

/** The end-user id box of a filter bar; the surrounding form's submit applies it. */
export function EndUserFilter({ draft }: { draft: Signal<string> }) {
  return (
    <Field label="End user" class="filter filter-grow">
      {(aria) => (
        <span class="filter-search">
          <input {...aria} type="search" class="input-small" placeholder="Their id in your app" value={draft.value} onInput={(e) => (draft.value = e.currentTarget.value)} />
          <button type="submit" class="btn btn-secondary btn-small">
            Apply
          </button>
        </span>
      )}
    </Field>
  );
}

export function ClearFilters({ onClear }: { onClear: () => void }) {
  return (
    <button type="button" class="link-button filter-clear" onClick={onClear}>
      Clear filters
    </button>
  );
}
