import { describe, expect, it } from 'vitest';
import { dueFires, isTimeZone, nextFire, scheduleProblems } from './schedule';

const iso = (d: Date) => d.toISOString();
/** The next `n` fires after `from`. */
function fires(cron: string, timezone: string, from: string, n: number): string[] {
  const out: string[] = [];
  let at = new Date(from);
  for (let i = 0; i < n; i++) out.push(iso((at = nextFire({ cron, timezone }, at))));
  return out;
}

describe('schedule arithmetic', () => {
  it('fires at wall-clock times of the time zone, following its offset through the year', () => {
    // 09:00 in Paris is 08:00Z in winter (CET) and 07:00Z in summer (CEST).
    expect(fires('0 9 * * *', 'Europe/Paris', '2026-03-27T12:00:00Z', 4)).toEqual([
      '2026-03-28T08:00:00.000Z',
      '2026-03-29T07:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
      '2026-03-31T07:00:00.000Z',
    ]);
    expect(fires('0 9 * * MON-FRI', 'America/New_York', '2026-01-02T15:00:00Z', 2)).toEqual(['2026-01-05T14:00:00.000Z', '2026-01-06T14:00:00.000Z']);
  });

  it('fires a time skipped by spring-forward once, an hour later by the wall clock', () => {
    // Paris, 2026-03-29: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist that night.
    expect(fires('30 2 * * *', 'Europe/Paris', '2026-03-27T12:00:00Z', 3)).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:30:00.000Z', // 03:30 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
    // Santiago skips midnight (00:00 → 01:00) on 2026-09-06: the daily midnight fire comes at 01:00.
    expect(fires('0 0 * * *', 'America/Santiago', '2026-09-04T12:00:00Z', 3)).toEqual(['2026-09-05T04:00:00.000Z', '2026-09-06T04:00:00.000Z', '2026-09-07T03:00:00.000Z']);
  });

  it('fires a time repeated by fall-back once, the first time', () => {
    // Paris, 2026-10-25: 03:00 CEST falls back to 02:00 CET, so 02:30 happens twice.
    expect(fires('30 2 * * *', 'Europe/Paris', '2026-10-23T12:00:00Z', 3)).toEqual([
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T00:30:00.000Z', // 02:30 CEST, not again at 02:30 CET
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('keeps an interval schedule on its real-time rhythm through fall-back', () => {
    expect(fires('*/30 * * * *', 'Europe/Paris', '2026-10-25T00:10:00Z', 4)).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T01:30:00.000Z',
      '2026-10-25T02:00:00.000Z',
    ]);
  });

  it('answers a single due fire and the next one in normal operation', () => {
    const schedule = { cron: '* * * * *', timezone: 'UTC' };
    const plan = dueFires(schedule, new Date('2026-05-01T10:00:00Z'), new Date('2026-05-01T10:00:00.400Z'));
    expect(plan).toEqual({ fires: [new Date('2026-05-01T10:00:00Z')], skipped: false, next: new Date('2026-05-01T10:01:00Z') });
  });

  it('catches up every missed fire after a short outage, oldest first', () => {
    const plan = dueFires({ cron: '0 * * * *', timezone: 'Europe/Paris' }, new Date('2026-05-01T10:00:00Z'), new Date('2026-05-01T13:20:00Z'));
    expect(plan.fires.map(iso)).toEqual(['2026-05-01T10:00:00.000Z', '2026-05-01T11:00:00.000Z', '2026-05-01T12:00:00.000Z', '2026-05-01T13:00:00.000Z']);
    expect(plan.skipped).toBe(false);
    expect(iso(plan.next)).toBe('2026-05-01T14:00:00.000Z');
  });

  it('keeps only the most recent fires, and none older than the window, after a long outage', () => {
    const policy = { windowMs: 24 * 3600_000, maxFires: 10 };
    const minutely = dueFires({ cron: '* * * * *', timezone: 'UTC' }, new Date('2026-05-01T10:00:00Z'), new Date('2026-05-01T12:00:30Z'), policy);
    expect(minutely.fires).toHaveLength(10);
    expect(iso(minutely.fires[0])).toBe('2026-05-01T11:51:00.000Z');
    expect(iso(minutely.fires[9])).toBe('2026-05-01T12:00:00.000Z');
    expect(minutely.skipped).toBe(true);

    // A daily schedule down for three days: only the fire within the last 24 hours runs.
    const daily = dueFires({ cron: '0 9 * * *', timezone: 'Europe/Paris' }, new Date('2026-05-01T07:00:00Z'), new Date('2026-05-04T06:00:00Z'), policy);
    expect(daily.fires.map(iso)).toEqual(['2026-05-03T07:00:00.000Z']);
    expect(daily.skipped).toBe(true);
    expect(iso(daily.next)).toBe('2026-05-04T07:00:00.000Z');
  });

  it('reports a bad cron expression or time zone with a message that says what is wrong', () => {
    expect(scheduleProblems({ cron: '0 9 * * 1-5', timezone: 'Europe/Paris' })).toEqual([]);
    expect(scheduleProblems({ cron: '0 0 9 * * *', timezone: 'UTC' })).toEqual([
      { field: 'cron', message: 'invalid cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got 6' },
    ]);
    expect(scheduleProblems({ cron: '61 9 * * *', timezone: 'Europe/Pariss' })).toEqual([
      { field: 'timezone', message: "unknown time zone 'Europe/Pariss' (use an IANA name like 'Europe/Paris' or 'UTC')" },
      { field: 'cron', message: 'invalid cron expression: Constraint error, got value 61 expected range 0-59' },
    ]);
    expect(isTimeZone('+02:00')).toBe(false);
    expect(isTimeZone('America/Argentina/Buenos_Aires')).toBe(true);
  });
});
