import { describe, expect, it } from 'vitest';
import { deadline } from './deadline';

describe('deadline', () => {
  it('aborts with a TimeoutError after its time, like AbortSignal.timeout', async () => {
    const { signal } = deadline(10);
    await new Promise((r) => setTimeout(r, 30));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as DOMException).name).toBe('TimeoutError');
  });

  it("aborts with its parent's reason, at once if the parent already was", () => {
    const parent = new AbortController();
    const bounded = deadline(10_000, parent.signal);
    parent.abort(new Error('cancelled'));
    expect((bounded.signal.reason as Error).message).toBe('cancelled');
    bounded.done();
    expect(deadline(10_000, parent.signal).signal.aborted).toBe(true);
  });

  it('never aborts once done', async () => {
    const parent = new AbortController();
    const bounded = deadline(10, parent.signal);
    bounded.done();
    parent.abort();
    await new Promise((r) => setTimeout(r, 30));
    expect(bounded.signal.aborted).toBe(false);
  });
});
