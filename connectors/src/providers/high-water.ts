/**
 * A poll cursor for providers whose "new since" filter is "at or after a timestamp" and whose
 * timestamps are coarse (Notion: minutes) or tie (HubSpot imports): the newest timestamp seen and
 * the ids already seen at exactly that timestamp, which the next poll skips.
 */
export interface HighWater {
  /** The newest item's timestamp, as the provider wrote it. */
  at: string;
  /** Ids of the items seen whose timestamp is exactly `at`. */
  ids: string[];
}

/** Before anything was seen: every item is newer. */
export const EPOCH: HighWater = { at: '1970-01-01T00:00:00.000Z', ids: [] };

function time(value: string): number {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? Number(value) : ms;
}

/** Whether the item was returned by an earlier poll (same timestamp as the cursor, id seen). */
export function seen(cursor: HighWater, at: string, id: string): boolean {
  return time(at) === time(cursor.at) && cursor.ids.includes(id);
}

/**
 * Takes the first `limit` of `candidates` (at or after cursor.at, oldest first, none seen yet)
 * and moves the cursor to the last one taken.
 */
export function advance<T>(
  candidates: T[],
  cursor: HighWater,
  limit: number,
  atOf: (item: T) => string,
  idOf: (item: T) => string,
  moreAtProvider = false,
): { taken: T[]; cursor: HighWater; more: boolean } {
  const taken = candidates.slice(0, limit);
  let next = cursor;
  for (const item of taken) {
    const at = atOf(item);
    next = time(at) === time(next.at) ? { at: next.at, ids: [...next.ids, idOf(item)] } : { at, ids: [idOf(item)] };
  }
  return { taken, cursor: next, more: candidates.length > limit || moreAtProvider };
}

/**
 * The first poll: the newest `limit` items, oldest first, and the cursor after the newest. Give it a
 * full page (newest first), not just `limit` items: every item sharing the newest timestamp goes
 * into the cursor, so that ones left out by the limit do not come back as new.
 */
export function newest<T>(newestFirst: T[], limit: number, atOf: (item: T) => string, idOf: (item: T) => string): { taken: T[]; cursor: HighWater } {
  const taken = newestFirst.slice(0, limit).reverse();
  const top = newestFirst[0];
  if (!top) return { taken, cursor: EPOCH };
  const at = atOf(top);
  return { taken, cursor: { at, ids: newestFirst.filter((t) => time(atOf(t)) === time(at)).map(idOf) } };
}
