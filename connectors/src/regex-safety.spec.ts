import { describe, expect, it } from 'vitest';
import { hasNestedQuantifier } from './regex-safety';

describe('hasNestedQuantifier', () => {
  it('flags groups that repeat a repetition or an alternation', () => {
    for (const pattern of ['(a+)+', '(a*)*b', '([a-z]+\\.)+com', '(a|aa)*', '((ab)*c)+', '(x+){2,}']) expect(hasNestedQuantifier(pattern), pattern).toBe(true);
  });

  it('lets linear patterns through, escapes and character classes included', () => {
    for (const pattern of ['[a-z0-9-]+', '[a-z][a-z0-9]*(-[a-z0-9]+)?', '\\(a+\\)+', '[(a+)]+', '(eu|us)\\.api', 'https://[^/]+', '(ab)+'])
      expect(hasNestedQuantifier(pattern), pattern).toBe(false);
  });
});
