import {
  ArrayOptions,
  IntegerOptions,
  NumberOptions,
  ObjectOptions,
  SchemaOptions,
  Static,
  StringOptions,
  TObject,
  TOptional,
  TProperties,
  TSchema,
  Type,
} from '@sinclair/typebox';
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

/*
 * Schema builders: each answers a TypeBox schema, so an action's TypeScript input and output types
 * are `Static<typeof schema>` (defineAction infers them) and cannot drift from the JSON Schema the
 * server validates. TypeBox's builders put their options before their own keys; ours pass `type`
 * (and the like) first in the options so the JSON keeps the key order it always had.
 */

/** Our keywords beside JSON Schema's: `x-options` names the connector's option source offering a property's values. */
type Keywords = { 'x-options'?: string };

/** A string: `str('Title', { …more })`, `str({ …no title })`, or just `str()`. */
export const str = (title: string | (StringOptions & Keywords) = {}, extra: StringOptions & Keywords = {}) => Type.String(head('string', title, extra));
export const int = (title: string | (IntegerOptions & Keywords) = {}, extra: IntegerOptions & Keywords = {}) => Type.Integer(head('integer', title, extra));
export const num = (title: string | NumberOptions = {}, extra: NumberOptions = {}) => Type.Number(head('number', title, extra));
export const bool = (title: string | SchemaOptions = {}, extra: SchemaOptions = {}) => Type.Boolean(head('boolean', title, extra));
const head = (type: string, title: string | SchemaOptions, extra: SchemaOptions) => (typeof title === 'string' ? { type, title, ...extra } : { type, ...title });
/** An array of `items`; `title` and `description` come before `items` in the JSON, other options after. */
export const arr = <T extends TSchema>(items: T, { title, description, ...extra }: ArrayOptions = {}) =>
  Type.Array(items, { type: 'array', ...(title === undefined ? {} : { title }), ...(description === undefined ? {} : { description }), items, ...extra });
/** One of the strings in `enum`. */
export const oneOf = <const E extends readonly string[]>(options: SchemaOptions & Keywords & { enum: E }) => Type.Unsafe<E[number]>({ type: 'string', ...options });
/** A value of any of the JSON types named, e.g. `['string', 'null']`. */
export const types = <const N extends readonly (keyof JsonTypes)[]>(type: N, extra: SchemaOptions = {}) => Type.Unsafe<JsonTypes[N[number]]>({ type, ...extra });
type JsonTypes = { string: string; number: number; integer: number; boolean: boolean; null: null; object: Record<string, unknown>; array: unknown[] };
/** `schema`, or null. */
export const nullable = <T extends TSchema>(schema: T) =>
  Type.Unsafe<Static<T> | null>(Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, key === 'type' ? [value, 'null'] : value])));
/** Exactly `value`. */
export const literal = <const V extends string | number | boolean>(value: V) => Type.Unsafe<V>({ const: value });
/** An object whose properties are not described (JSON the caller passes through, e.g. Notion's filter). */
export const anyObject = (extra: ObjectOptions = {}) => Type.Unsafe<Record<string, unknown>>({ type: 'object', ...extra });
/** An object mapping any keys to `values`; `title` and `description` come before `additionalProperties` in the JSON. */
export const dict = <T extends TSchema>(values: T, { title, description, ...extra }: ObjectOptions = {}) =>
  Type.Unsafe<Record<string, Static<T>>>({
    type: 'object',
    ...(title === undefined ? {} : { title }),
    ...(description === undefined ? {} : { description }),
    additionalProperties: values,
    ...extra,
  });

/** The listed properties required, the others optional (in the Static type as in the JSON). */
type RequiredOnly<P extends TProperties, R extends keyof P> = { [K in keyof P]: K extends R ? P[K] : TOptional<P[K]> };

function object<P extends TProperties, R extends keyof P & string>(properties: P, required: readonly R[], options: ObjectOptions): TObject<RequiredOnly<P, R>> {
  const marked = Object.fromEntries(Object.entries(properties).map(([key, schema]) => [key, required.includes(key as R) ? schema : Type.Optional(schema)])) as RequiredOnly<P, R>;
  const schema = Type.Object(marked, { type: 'object', properties: marked, required: [...required], ...options });
  // TypeBox lists required keys in property order; the JSON keeps the order they were written in.
  return Object.assign(schema, { required: [...required] });
}

/** An input object schema: no properties besides those described. */
export const obj = <P extends TProperties, const R extends readonly (keyof P & string)[] = []>(properties: P, required?: R, extra: ObjectOptions = {}) =>
  object<P, R[number]>(properties, required ?? [], { additionalProperties: false, ...extra });
/** An output object schema (providers add fields over time, so extra properties are allowed). */
export const res = <P extends TProperties, const R extends readonly (keyof P & string)[] = []>(properties: P, required?: R) => object<P, R[number]>(properties, required ?? [], {});
