import { TriggerItem } from '../types';

/** A poll trigger's high-water mark: the last item's timestamp (ms) and id, the tiebreak within one timestamp. */
export interface Mark {
  at: number;
  id: string;
}

/** Orders ids numerically when both are numbers (Zendesk 9 < 10), else as text. */
function compareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareMarks(a: Mark, b: Mark): number {
  return a.at - b.at || compareIds(a.id, b.id);
}

/**
 * The page a poll answers out of the items the provider returned (any order, duplicates allowed):
 * with no cursor the newest `limit` (the engine's backfill, cursor at the newest); else the oldest
 * `limit` after the cursor, with `more` when some remain. Oldest first either way. `empty` is the
 * cursor to keep when nothing was seen yet (now, for a first poll of an empty account).
 */
export function pollPage<T>(
  found: T[],
  markOf: (item: T) => Mark,
  toItem: (item: T, mark: Mark) => TriggerItem,
  cursor: Mark | null,
  limit: number,
  empty: () => Mark,
): { items: TriggerItem[]; cursor: Mark; more: boolean } {
  const seen = new Map<string, { item: T; mark: Mark }>();
  for (const item of found) {
    const mark = markOf(item);
    if (!cursor || compareMarks(mark, cursor) > 0) seen.set(`${mark.id}@${mark.at}`, { item, mark });
  }
  const sorted = [...seen.values()].sort((a, b) => compareMarks(a.mark, b.mark));
  const page = cursor ? sorted.slice(0, limit) : sorted.slice(-limit);
  const last = page[page.length - 1]?.mark;
  return {
    items: page.map((p) => toItem(p.item, p.mark)),
    cursor: last ?? cursor ?? empty(),
    more: cursor ? sorted.length > page.length : false,
  };
}

/** Whether a stored cursor looks like a Mark (the engine keeps it as JSON). */
export function asMark(cursor: unknown): Mark | null {
  if (cursor && typeof cursor === 'object' && typeof (cursor as Mark).at === 'number' && typeof (cursor as Mark).id === 'string') return cursor as Mark;
  return null;
}
