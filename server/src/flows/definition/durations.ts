import { PATTERNS } from './flow-definition.schema';

const ISO_DURATION = new RegExp(PATTERNS.isoDuration);

/**
 * Milliseconds of an ISO-8601 duration made of weeks, days, hours, minutes and seconds
 * ('PT15M', 'P1DT12H', 'PT0.5S'); undefined if it is not one. Years and months are refused: they
 * have no fixed length.
 */
export function parseIsoDuration(value: string): number | undefined {
  if (!ISO_DURATION.test(value)) return undefined;
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value);
  if (!m) return undefined;
  const [, w, d, h, min, s] = m;
  const n = (x: string | undefined) => (x ? Number(x) : 0);
  return Math.round(((((n(w) * 7 + n(d)) * 24 + n(h)) * 60 + n(min)) * 60 + n(s)) * 1000);
}

/**
 * The milliseconds a delay's `for` value stands for: a number of milliseconds or an ISO-8601
 * duration (what the literal field or its expression gives). Undefined when it is neither.
 */
export function durationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value === 'string') return parseIsoDuration(value);
  return undefined;
}
