import { describe, expect, it } from 'vitest';
import { findUnstorable, storable } from './hostile-input';

describe('storable', () => {
  it('keeps storable data as it is (the same object)', () => {
    const data = { title: 'Login page is blank', labels: ['bug'], n: 1 };
    expect(storable(data)).toBe(data);
  });

  it('replaces NUL and unpaired surrogates with U+FFFD and drops __proto__ keys, at any depth', () => {
    const data = JSON.parse('{"a":"x\\u0000y","b":[{"c":"\\ud800z"}],"__proto__":{"polluted":true},"ok":"\\ud83d\\ude00"}');
    const clean = storable(data);
    expect(clean).toEqual({ a: 'x\uFFFDy', b: [{ c: '\uFFFDz' }], ok: '😀' });
    expect(findUnstorable(clean)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
