/**
 * Group commit: calls that arrive while a batch is being written wait, and go together in the
 * next one. A call that finds nothing in flight goes at once, so one caller alone waits for nothing
 * extra, and N concurrent callers cost one statement instead of N. Per key (a tenant), so every
 * statement stays scoped to one tenant. Items with the same `identity` never share a batch (a
 * statement joining on it would update one row twice). A batch that fails is written again one item
 * at a time, so an item the database refuses fails alone.
 */
export class GroupCommit<I, O> {
  private readonly lanes = new Map<string, { queued: Array<{ item: I; resolve: (o: O) => void; reject: (e: unknown) => void }>; writing: boolean }>();

  constructor(
    /** Writes one batch of one key; answers one result per item, in order. */
    private readonly write: (key: string, items: I[]) => Promise<O[]>,
    private readonly identity: (item: I) => string,
    private readonly maxItems = 100,
  ) {}

  add(key: string, item: I): Promise<O> {
    let lane = this.lanes.get(key);
    if (!lane) this.lanes.set(key, (lane = { queued: [], writing: false }));
    const queued = lane.queued;
    const done = new Promise<O>((resolve, reject) => queued.push({ item, resolve, reject }));
    this.next(key);
    return done;
  }

  private next(key: string): void {
    const lane = this.lanes.get(key)!;
    if (lane.writing) return;
    if (lane.queued.length === 0) {
      this.lanes.delete(key);
      return;
    }
    const batch: typeof lane.queued = [];
    const taken = new Set<string>();
    const rest: typeof lane.queued = [];
    for (const entry of lane.queued) {
      const id = this.identity(entry.item);
      if (batch.length < this.maxItems && !taken.has(id)) {
        taken.add(id);
        batch.push(entry);
      } else rest.push(entry);
    }
    lane.queued = rest;
    lane.writing = true;
    const alone = (entry: (typeof batch)[number]) =>
      this.write(key, [entry.item]).then(
        ([result]) => entry.resolve(result),
        (error: unknown) => entry.reject(error),
      );
    this.write(
      key,
      batch.map((b) => b.item),
    )
      .then(
        (results): unknown => batch.forEach((b, i) => b.resolve(results[i])),
        (error: unknown): unknown => (batch.length === 1 ? batch[0].reject(error) : Promise.all(batch.map(alone))),
      )
      .finally(() => {
        lane.writing = false;
        this.next(key);
      });
  }
}
