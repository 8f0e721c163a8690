import { CronExpressionParser } from 'cron-parser';

/**
 * Schedule arithmetic, pure: which instants a 5-field cron expression fires at in an IANA time zone.
 * cron-parser walks wall-clock time in the zone, so daylight saving is handled the way people
 * expect: a time that does not exist (02:30 on the spring-forward night) fires once, an hour later
 * by the wall clock; a time that happens twice (02:30 on the fall-back night) fires once, the first
 * time; an interval (`*\/30 * * * *`) keeps its real-time rhythm through both.
 */

/** How late a missed fire may still be caught up after an outage, and how many at most per instance. */
export const CATCH_UP = { windowMs: 24 * 60 * 60 * 1000, maxFires: 10 } as const;

export interface Schedule {
  cron: string;
  timezone: string;
}

/** What is wrong with a 5-field cron expression, as a message fit for an error; null when fine. */
export function cronProblem(cron: string): string | null {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) return `invalid cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  try {
    CronExpressionParser.parse(cron, { tz: 'UTC' }).next();
    return null;
  } catch (error) {
    return `invalid cron expression: ${(error as Error).message}`;
  }
}

/** What is wrong with a time zone name; null when it is an IANA zone. */
export function timeZoneProblem(zone: string): string | null {
  return isTimeZone(zone) ? null : `unknown time zone '${zone}' (use an IANA name like 'Europe/Paris' or 'UTC')`;
}

/** Both checks, for a schedule evaluated from settings (the validator checks literal fields one by one). */
export function scheduleProblems(schedule: Schedule): Array<{ field: 'cron' | 'timezone'; message: string }> {
  const problems: Array<{ field: 'cron' | 'timezone'; message: string }> = [];
  const zone = timeZoneProblem(schedule.timezone);
  if (zone) problems.push({ field: 'timezone', message: zone });
  const cron = cronProblem(schedule.cron);
  if (cron) problems.push({ field: 'cron', message: cron });
  return problems;
}

/** The first fire strictly after `after`. */
export function nextFire(schedule: Schedule, after: Date): Date {
  return CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone, currentDate: after }).next().toDate();
}

/**
 * The fires due at `now` for an instance whose next fire was `due` (itself a fire of the schedule,
 * `due <= now`), oldest first, after the catch-up policy: fires older than the window, and all but
 * the most recent `maxFires`, are skipped (`skipped` says whether any was). Also answers the next
 * fire after `now`.
 */
export function dueFires(schedule: Schedule, due: Date, now: Date, policy: { windowMs: number; maxFires: number } = CATCH_UP): { fires: Date[]; skipped: boolean; next: Date } {
  const windowStart = now.getTime() - policy.windowMs;
  const fires: Date[] = [];
  let skipped = false;
  // Walk forward only (cron-parser's prev() is not consistent with next() across DST changes),
  // from the window's start at the earliest, so a long outage costs one window of iterations.
  let cursor = due;
  if (due.getTime() >= windowStart) fires.push(due);
  else {
    skipped = true;
    cursor = new Date(windowStart - 1);
  }
  const keepRecent = () => {
    if (fires.length <= policy.maxFires) return;
    fires.splice(0, fires.length - policy.maxFires);
    skipped = true;
  };
  for (;;) {
    const fire = nextFire(schedule, cursor);
    if (fire.getTime() > now.getTime()) {
      keepRecent();
      return { fires, skipped, next: fire };
    }
    fires.push(fire);
    cursor = fire;
    if (fires.length > policy.maxFires * 2) keepRecent(); // bounded memory for frequent schedules
  }
}

export function isTimeZone(zone: string): boolean {
  // IANA names ('Europe/Paris', 'UTC', 'EST5EDT'); not raw offsets like '+02:00', which ignore daylight saving.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
