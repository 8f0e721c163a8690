import { AppError } from '../errors/app-error';

/** Deepest nesting of arrays and objects accepted in an API body. */
export const MAX_API_JSON_DEPTH = 64;
/** Deepest nesting accepted in a webhook-trigger payload (senders we do not control nest more than our own API does). */
export const MAX_TRIGGER_JSON_DEPTH = 128;

export type Problem = { path: string; message: string };

/**
 * Nesting depth of a JSON text, measured on the bytes before it is parsed, so that a body of a
 * million `[` costs one pass instead of a slow parse and a stack overflow further on.
 * Returns true when it goes deeper than `max`.
 */
export function jsonTooDeep(text: Buffer | string, max: number): boolean {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

export const tooDeep = (max: number, where = 'body') =>
  new AppError('json_too_deep', `${where}: JSON nested deeper than ${max} levels is refused`, {
    limit: max,
    errors: [{ path: where, message: `nested deeper than ${max} levels` }],
  });

/** A UTF-16 surrogate without its pair: valid in JS strings, refused by PostgreSQL text and jsonb. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** Keys that change an object's prototype when copied with assignment. */
const FORBIDDEN_KEYS = new Set(['__proto__']);

function stringProblem(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain NUL (\\u0000) characters';
  if (LONE_SURROGATE.test(value)) return 'must not contain unpaired UTF-16 surrogates (\\ud800–\\udfff)';
  return null;
}

/**
 * Everything PostgreSQL cannot store or that would be dangerous to copy: NUL characters and lone
 * surrogates in strings and keys, and `__proto__` keys. Iterative, so any depth is safe to walk.
 */
export function findUnstorable(root: unknown, rootPath = ''): Problem[] {
  const found: Problem[] = [];
  const stack: Array<[unknown, string]> = [[root, rootPath]];
  while (stack.length > 0 && found.length < 20) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      const problem = stringProblem(value);
      if (problem) found.push({ path: path || 'body', message: problem });
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push([item, path ? `${path}.${i}` : String(i)]));
    } else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        const keyProblem = FORBIDDEN_KEYS.has(key) ? `the key ${key} is not allowed` : stringProblem(key);
        if (keyProblem) found.push({ path: path || 'body', message: keyProblem.replace(/^must/, 'keys must') });
        stack.push([item, path ? `${path}.${key}` : key]);
      }
    }
  }
  return found;
}

export function invalidInput(problems: Problem[]): AppError {
  return new AppError('validation_failed', problems.map((p) => `${p.path}: ${p.message}`).join('; ') || 'The request is invalid', {
    errors: problems,
  });
}

/** Throws validation_failed naming every unstorable value (see findUnstorable). */
export function assertStorable(value: unknown, rootPath = ''): void {
  const problems = findUnstorable(value, rootPath);
  if (problems.length > 0) throw invalidInput(problems);
}

/**
 * A copy PostgreSQL can store, for data a provider sent that is nobody's input to correct (a polled
 * item): NUL characters and lone surrogates become U+FFFD, `__proto__` keys are dropped.
 */
export function storable<T>(value: T): T {
  if (findUnstorable(value).length === 0) return value;
  const clean = (s: string) => s.replace(/\u0000/g, '\uFFFD').replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD');
  return JSON.parse(
    JSON.stringify(value, (key, item) => (FORBIDDEN_KEYS.has(key) ? undefined : typeof item === 'string' ? clean(item) : item)),
    (key, item) => (FORBIDDEN_KEYS.has(key) ? undefined : item),
  ) as T;
}
