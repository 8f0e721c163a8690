import { OptionItem } from '../types';

/** A small original logo: a rounded square in the given colour with simple shapes on it. */
export function logo(background: string, shapes: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64" role="img">` + `<rect width="64" height="64" rx="14" fill="${background}"/>${shapes}</svg>`
  );
}

/** Case-insensitive match of a search string against any of the texts. */
export function matches(search: string | undefined, ...texts: (string | undefined | null)[]): boolean {
  if (!search) return true;
  const needle = search.trim().toLowerCase();
  return texts.some((t) => typeof t === 'string' && t.toLowerCase().includes(needle));
}

/** Pages an in-memory list with an offset cursor (for providers that return everything at once). */
export function pageLocally(items: OptionItem[], cursor: string | undefined, size = 50): { options: OptionItem[]; nextCursor?: string } {
  const start = cursor ? Math.max(0, Number.parseInt(cursor, 10) || 0) : 0;
  const options = items.slice(start, start + size);
  return start + size < items.length ? { options, nextCursor: String(start + size) } : { options };
}

/** JSON Schema building blocks. */
export const str = (title: string, extra: Record<string, unknown> = {}) => ({ type: 'string', title, ...extra });
export const int = (title: string, extra: Record<string, unknown> = {}) => ({ type: 'integer', title, ...extra });
export const bool = (title: string, extra: Record<string, unknown> = {}) => ({ type: 'boolean', title, ...extra });
export const obj = (properties: Record<string, unknown>, required: string[] = [], extra: Record<string, unknown> = {}) => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
  ...extra,
});
/** An output object schema (providers add fields over time, so extra properties are allowed). */
export const res = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', properties, required });
