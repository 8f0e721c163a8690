import { formatDateTime, formatRelative } from '../format';

/** A time, relative ("5 minutes ago") or absolute, with the exact time on hover. */
export function Time({ iso, relative }: { iso: string; relative?: boolean }) {
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {relative ? formatRelative(iso) : formatDateTime(iso)}
    </time>
  );
}
