import { AppError } from '../errors/app-error';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export const invalidCursor = () =>
  new AppError('invalid_cursor', 'cursor: is not a cursor this API returned (pass nextCursor from the previous page as it is)', {
    errors: [{ path: 'cursor', message: 'is not a cursor this API returned' }],
  });

/** Keyset position of lists ordered by (timestamp, uuid), newest first: opaque base64url of `<ISO instant>|<uuid>`. */
export function encodeTimeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}

/** The position a cursor from encodeTimeCursor names; anything else is 400 invalid_cursor. */
export function decodeTimeCursor(cursor: string): { at: Date; id: string } {
  const [at, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !ISO_INSTANT.test(at ?? '') || !UUID.test(id ?? '')) throw invalidCursor();
  const date = new Date(at);
  if (Number.isNaN(date.getTime()) || date.toISOString() !== at) throw invalidCursor();
  return { at: date, id };
}

const MAX_BIGINT = 2n ** 63n - 1n;

/** Keyset position of lists ordered by a bigint id (audit events): the id itself, as a decimal string. */
export function decodeBigintCursor(cursor: string): string {
  if (!/^\d{1,19}$/.test(cursor) || BigInt(cursor) > MAX_BIGINT) throw invalidCursor();
  return cursor;
}
