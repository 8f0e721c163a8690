import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit';

describe('GroupCommit', () => {
  it('writes a lone call at once and groups the calls that arrive while a batch is written', async () => {
    const batches: number[][] = [];
    const group = new GroupCommit<number, number>(
      async (_key, items) => {
        batches.push(items);
        await new Promise((r) => setTimeout(r, 5));
        return items.map((i) => i * 10);
      },
      (i) => String(i),
    );
    expect(await group.add('t', 1)).toBe(10);
    const results = await Promise.all([2, 3, 4, 5].map((i) => group.add('t', i)));
    expect(results).toEqual([20, 30, 40, 50]);
    // The first batch is still settling when the four arrive: they go together.
    expect(batches).toEqual([[1], [2, 3, 4, 5]]);
  });

  it('keeps keys apart and never puts one identity twice in a batch', async () => {
    const batches: Array<[string, string[]]> = [];
    const group = new GroupCommit<string, string>(
      async (key, items) => {
        batches.push([key, items]);
        await new Promise((r) => setTimeout(r, 5));
        return items.map((i) => `${key}:${i}`);
      },
      (item) => item,
    );
    const results = await Promise.all([group.add('a', 'x'), group.add('b', 'x'), group.add('a', 'y'), group.add('a', 'y'), group.add('a', 'z')]);
    expect(results).toEqual(['a:x', 'b:x', 'a:y', 'a:y', 'a:z']);
    expect(batches).toEqual([
      ['a', ['x']],
      ['b', ['x']],
      ['a', ['y', 'z']],
      ['a', ['y']],
    ]);
  });

  it('writes a failed batch again item by item, so only the item refused fails', async () => {
    const group = new GroupCommit<number, number>(
      async (_key, items) => {
        await new Promise((r) => setTimeout(r, 1));
        if (items.includes(13)) throw new Error('refused 13');
        return items;
      },
      (i) => String(i),
    );
    const first = group.add('t', 1);
    const settled = await Promise.allSettled([first, group.add('t', 12), group.add('t', 13), group.add('t', 14)]);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([1, 12, 'refused 13', 14]);
  });
});
