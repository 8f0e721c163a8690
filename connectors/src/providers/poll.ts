import { TriggerItem } from '../types';
import { advance, HighWater, newest, seen } from './high-water';

/** Whether a stored cursor is a HighWater (the engine keeps cursors as JSON). */
export function isHighWater(value: unknown): value is HighWater {
  const v = value as HighWater | null;
  return Boolean(v && typeof v === 'object' && typeof v.at === 'string' && Array.isArray(v.ids));
}

/**
 * One poll over the items a provider returned for a window (any order, duplicates allowed), on
 * the shared HighWater cursor. `atOf` gives an ISO timestamp. With no cursor: the newest `limit`
 * (oldest first) and a cursor at the newest, or at `emptyAt` when the window held nothing (then
 * older items outside the window do not come back as new). Else the oldest `limit` after the
 * cursor; `more` when some remain here or, says `moreAtProvider`, at the provider.
 */
export function pollWindow<T>(
  found: T[],
  cursor: HighWater | null,
  limit: number,
  atOf: (item: T) => string,
  idOf: (item: T) => string,
  toItem: (item: T) => TriggerItem,
  options: { moreAtProvider?: boolean; emptyAt?: () => string } = {},
): { items: TriggerItem[]; cursor: HighWater; more: boolean } {
  const unique = new Map<string, T>();
  for (const item of found) unique.set(`${idOf(item)}@${atOf(item)}`, item);
  const oldestFirst = [...unique.values()].sort((a, b) => Date.parse(atOf(a)) - Date.parse(atOf(b)) || (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));
  if (!cursor) {
    const first = newest([...oldestFirst].reverse(), limit, atOf, idOf);
    const start = oldestFirst.length ? first.cursor : { at: options.emptyAt?.() ?? new Date().toISOString(), ids: [] };
    return { items: first.taken.map(toItem), cursor: start, more: false };
  }
  const from = Date.parse(cursor.at);
  const candidates = oldestFirst.filter((item) => Date.parse(atOf(item)) >= from && !seen(cursor, atOf(item), idOf(item)));
  const next = advance(candidates, cursor, limit, atOf, idOf, options.moreAtProvider ?? false);
  return { items: next.taken.map(toItem), cursor: next.cursor, more: next.more };
}
