/** Checks on regular expressions that tenants give us and our processes then run. */

/**
 * Whether a regular expression can backtrack exponentially: a quantified group that itself holds a
 * quantifier or an alternation (`(a+)+`, `(a|a)*`). End users' input is matched against a tenant's
 * patterns on the server (custom providers' `connectionConfig`, imported OpenAPI schemas), so such a
 * pattern would stall every tenant's requests.
 */
export function hasNestedQuantifier(pattern: string): boolean {
  const groups: boolean[] = [];
  let risky = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      // A character class quantifies nothing inside it.
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      continue;
    }
    if (c === '(') groups.push(false);
    else if (c === ')') {
      const inner = groups.pop() ?? false;
      const next = pattern[i + 1];
      if (inner && (next === '*' || next === '+' || next === '{')) risky = true;
      if (groups.length > 0) groups[groups.length - 1] ||= inner;
    } else if ((c === '*' || c === '+' || c === '{' || c === '|') && groups.length > 0) groups[groups.length - 1] = true;
  }
  return risky;
}
