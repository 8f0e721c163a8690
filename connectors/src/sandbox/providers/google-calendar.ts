import { createHash } from 'node:crypto';
import { ProviderContext, ProviderModule, SandboxRequest, intParam, json } from '../core';
import { googleError, googleIdentity, guard, invalid, notFound, pageToken, readPageToken, userinfoRoute } from './google-common';
import { throttle, Throttle } from './throttle';

export interface CalendarEntry {
  id: string;
  summary: string;
  timeZone: string;
  accessRole: 'owner' | 'writer' | 'reader' | 'freeBusyReader';
  primary?: boolean;
  backgroundColor: string;
}

type EventTime = { dateTime?: string; date?: string; timeZone?: string };

export interface CalendarEvent {
  calendarId: string;
  id: string;
  status: 'confirmed' | 'tentative' | 'cancelled';
  summary?: string;
  description?: string;
  location?: string;
  start: EventTime;
  end: EventTime;
  attendees?: { email: string; responseStatus: string; organizer?: boolean; self?: boolean }[];
  created: string;
  updated: string;
  sequence: number;
}

export interface CalendarState {
  calendars: CalendarEntry[];
  events: CalendarEvent[];
  nextId: number;
  throttle: Throttle;
}

const OWNER = 'jane@acme.test';

/** Event ids use base32hex characters (a–v, 0–9), as Google's do. */
function eventId(n: number): string {
  return createHash('sha1').update(`event-${n}`).digest('hex').replace(/[w-z]/g, 'a').slice(0, 26);
}

function seed(): CalendarState {
  const calendars: CalendarEntry[] = [
    { id: OWNER, summary: OWNER, timeZone: 'Europe/Berlin', accessRole: 'owner', primary: true, backgroundColor: '#9fe1e7' },
    { id: 'c_sbx0team@group.calendar.google.com', summary: 'Team events', timeZone: 'Europe/Berlin', accessRole: 'owner', backgroundColor: '#f691b2' },
    { id: 'en.usa#holiday@group.v.calendar.google.com', summary: 'Holidays in United States', timeZone: 'Europe/Berlin', accessRole: 'reader', backgroundColor: '#16a765' },
  ];
  for (let i = 1; i <= 57; i++) {
    calendars.push({
      id: `c_sbx${String(i).padStart(3, '0')}room@resource.calendar.google.com`,
      summary: `Room ${String(i).padStart(2, '0')}`,
      timeZone: 'Europe/Berlin',
      accessRole: 'writer',
      backgroundColor: '#a4bdfc',
    });
  }
  const state: CalendarState = { calendars, events: [], nextId: 1, throttle: throttle() };
  const base = Date.parse('2026-01-12T09:00:00Z');
  for (let i = 0; i < 12; i++) {
    const start = base + i * 86400_000;
    const at = new Date(Date.parse('2026-01-02T08:00:00Z') + i * 3600_000).toISOString();
    state.events.push({
      calendarId: OWNER,
      id: eventId(state.nextId++),
      status: 'confirmed',
      summary: i % 3 === 0 ? `Customer call ${i + 1}` : `Standup ${i + 1}`,
      start: { dateTime: new Date(start).toISOString().replace('.000Z', 'Z'), timeZone: 'Europe/Berlin' },
      end: { dateTime: new Date(start + 1800_000).toISOString().replace('.000Z', 'Z'), timeZone: 'Europe/Berlin' },
      created: at,
      updated: at,
      sequence: 0,
    });
  }
  state.events.push({
    calendarId: 'en.usa#holiday@group.v.calendar.google.com',
    id: '20260119_sbxmlkday',
    status: 'confirmed',
    summary: 'Martin Luther King Jr. Day',
    start: { date: '2026-01-19' },
    end: { date: '2026-01-20' },
    created: '2025-06-01T00:00:00.000Z',
    updated: '2025-06-01T00:00:00.000Z',
    sequence: 0,
  });
  return state;
}

type Ctx = ProviderContext<CalendarState>;

function calendarOf(ctx: Ctx, id: string, email: string): CalendarEntry | undefined {
  return ctx.state.calendars.find((c) => c.id === (id === 'primary' ? email : id));
}

function startMs(t: EventTime): number {
  return t.dateTime ? Date.parse(t.dateTime) : Date.parse(`${t.date}T00:00:00Z`);
}

function resource(e: CalendarEvent, email: string) {
  const { calendarId: _c, ...rest } = e;
  return {
    kind: 'calendar#event',
    etag: `"${3500000000000000 + e.sequence * 1000 + (Date.parse(e.updated) % 1000)}"`,
    ...rest,
    htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${e.id} ${e.calendarId}`).toString('base64url')}`,
    creator: { email, self: true },
    organizer: { email: e.calendarId, self: e.calendarId === email },
    iCalUID: `${e.id}@google.com`,
    reminders: { useDefault: true },
    eventType: 'default',
  };
}

function validTime(t: unknown): t is EventTime {
  if (!t || typeof t !== 'object') return false;
  const v = t as EventTime;
  if (v.dateTime !== undefined)
    return (
      typeof v.dateTime === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?$/.test(v.dateTime) && (/(Z|[+-]\d\d:\d\d)$/.test(v.dateTime) || !!v.timeZone)
    );
  return typeof v.date === 'string' && /^\d{4}-\d\d-\d\d$/.test(v.date);
}

/** Writes `body` onto the event (insert: all fields; patch: those given); an error answer, or null. */
function apply(e: Partial<CalendarEvent>, body: Record<string, unknown>, insert: boolean) {
  if (insert && body.start === undefined) return googleError(400, 'INVALID_ARGUMENT', 'Missing start time.', 'required');
  if (insert && body.end === undefined) return googleError(400, 'INVALID_ARGUMENT', 'Missing end time.', 'required');
  for (const key of ['start', 'end'] as const) if (body[key] !== undefined && !validTime(body[key])) return invalid(`Invalid ${key} time.`);
  const start = (body.start as EventTime | undefined) ?? e.start!;
  const end = (body.end as EventTime | undefined) ?? e.end!;
  if (startMs(end) <= startMs(start)) return googleError(400, 'INVALID_ARGUMENT', 'The specified time range is empty.', 'timeRangeEmpty');
  if (body.attendees !== undefined) {
    if (!Array.isArray(body.attendees) || body.attendees.some((a) => typeof a?.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(a.email))) return invalid('Invalid attendee email.');
    e.attendees = (body.attendees as { email: string }[]).map((a) => ({ email: a.email, responseStatus: 'needsAction' }));
  }
  e.start = start;
  e.end = end;
  for (const key of ['summary', 'description', 'location'] as const) if (typeof body[key] === 'string') e[key] = body[key] as string;
  if (body.status === 'tentative' || body.status === 'confirmed') e.status = body.status;
  return null;
}

function listEvents(req: SandboxRequest, ctx: Ctx, cal: CalendarEntry) {
  const q = req.query;
  const orderBy = q.get('orderBy');
  const single = q.get('singleEvents') === 'true';
  if (orderBy && orderBy !== 'startTime' && orderBy !== 'updated') return invalid(`Invalid value for orderBy: ${orderBy}`);
  if (orderBy === 'startTime' && !single) return googleError(400, 'INVALID_ARGUMENT', 'The requested ordering is not available for the particular query.', 'badRequest');
  for (const name of ['timeMin', 'timeMax', 'updatedMin']) {
    const v = q.get(name);
    if (v !== null && (!/(Z|[+-]\d\d:\d\d)$/.test(v) || Number.isNaN(Date.parse(v)))) return googleError(400, 'INVALID_ARGUMENT', 'Bad Request', 'badRequest');
  }
  const timeMin = q.get('timeMin') ? Date.parse(q.get('timeMin')!) : null;
  const timeMax = q.get('timeMax') ? Date.parse(q.get('timeMax')!) : null;
  const updatedMin = q.get('updatedMin') ? Date.parse(q.get('updatedMin')!) : null;
  // Deleted events come back with updatedMin whatever showDeleted says.
  const showDeleted = q.get('showDeleted') === 'true' || updatedMin !== null;
  const text = q.get('q')?.toLowerCase();
  const max = intParam(q.get('maxResults'), 250, 1, 2500);
  const offset = readPageToken(q.get('pageToken'));
  if (offset === null) return invalid('Invalid page token');
  const found = ctx.state.events
    .filter(
      (e) =>
        e.calendarId === cal.id &&
        (showDeleted || e.status !== 'cancelled') &&
        (timeMin === null || startMs(e.end) > timeMin) &&
        (timeMax === null || startMs(e.start) < timeMax) &&
        (updatedMin === null || Date.parse(e.updated) >= updatedMin) &&
        (!text || [e.summary, e.description, e.location].some((t) => t?.toLowerCase().includes(text))),
    )
    .sort((a, b) => (orderBy === 'updated' ? a.updated.localeCompare(b.updated) : startMs(a.start) - startMs(b.start)) || a.id.localeCompare(b.id));
  const page = found.slice(offset, offset + max);
  const account = ctx.state.calendars.find((c) => c.primary)!.id;
  const body: Record<string, unknown> = {
    kind: 'calendar#events',
    etag: `"p3${found.length}"`,
    summary: cal.summary,
    updated: found.reduce((m, e) => (e.updated > m ? e.updated : m), '2026-01-01T00:00:00.000Z'),
    timeZone: cal.timeZone,
    accessRole: cal.accessRole,
    defaultReminders: cal.accessRole === 'owner' ? [{ method: 'popup', minutes: 10 }] : [],
    items: page.map((e) => resource(e, account)),
  };
  if (offset + max < found.length) body.nextPageToken = pageToken(offset + max);
  return json(200, body);
}

function guarded(handler: (req: SandboxRequest, ctx: Ctx, email: string) => ReturnType<typeof json>) {
  return (req: SandboxRequest, ctx: Ctx) => {
    const g = guard(req, ctx);
    return 'error' in g ? g.error : handler(req, ctx, g.account.email);
  };
}

function writable(ctx: Ctx, req: SandboxRequest, email: string): CalendarEntry | ReturnType<typeof json> {
  const cal = calendarOf(ctx, req.params.calendarId!, email);
  if (!cal) return notFound();
  if (cal.accessRole !== 'owner' && cal.accessRole !== 'writer')
    return googleError(403, 'PERMISSION_DENIED', 'You need to have writer access to this calendar.', 'requiredAccessLevel');
  return cal;
}

const isCalendar = (v: unknown): v is CalendarEntry => !!v && typeof v === 'object' && 'accessRole' in v;

export const googleCalendarSandbox: ProviderModule<CalendarState> = {
  key: 'google-calendar',
  displayName: 'Google',
  ...googleIdentity,
  seed,
  routes: [
    userinfoRoute,
    {
      method: 'GET',
      path: '/calendar/v3/users/me/calendarList',
      handler: guarded((req, ctx) => {
        const roles = ['freeBusyReader', 'reader', 'writer', 'owner'];
        const min = req.query.get('minAccessRole');
        if (min && !roles.includes(min)) return invalid(`Invalid value for minAccessRole: ${min}`);
        const max = intParam(req.query.get('maxResults'), 100, 1, 250);
        const offset = readPageToken(req.query.get('pageToken'));
        if (offset === null) return invalid('Invalid page token');
        const found = ctx.state.calendars.filter((c) => !min || roles.indexOf(c.accessRole) >= roles.indexOf(min));
        const body: Record<string, unknown> = {
          kind: 'calendar#calendarList',
          etag: `"p3${found.length}"`,
          items: found.slice(offset, offset + max).map((c) => ({ kind: 'calendar#calendarListEntry', etag: `"${c.id.length}"`, ...c, selected: true, defaultReminders: [] })),
        };
        if (offset + max < found.length) body.nextPageToken = pageToken(offset + max);
        return json(200, body);
      }),
    },
    {
      method: 'GET',
      path: '/calendar/v3/calendars/:calendarId/events',
      handler: guarded((req, ctx, email) => {
        const cal = calendarOf(ctx, req.params.calendarId!, email);
        return cal ? listEvents(req, ctx, cal) : notFound();
      }),
    },
    {
      method: 'POST',
      path: '/calendar/v3/calendars/:calendarId/events',
      handler: guarded((req, ctx, email) => {
        const cal = writable(ctx, req, email);
        if (!isCalendar(cal)) return cal;
        const at = new Date(ctx.now()).toISOString();
        const e: Partial<CalendarEvent> = { calendarId: cal.id, id: eventId(ctx.state.nextId++), status: 'confirmed', created: at, updated: at, sequence: 0 };
        const problem = apply(e, (req.body ?? {}) as Record<string, unknown>, true);
        if (problem) return problem;
        ctx.state.events.push(e as CalendarEvent);
        return json(200, resource(e as CalendarEvent, email));
      }),
    },
    {
      method: 'GET',
      path: '/calendar/v3/calendars/:calendarId/events/:eventId',
      handler: guarded((req, ctx, email) => {
        const cal = calendarOf(ctx, req.params.calendarId!, email);
        const e = cal && ctx.state.events.find((x) => x.calendarId === cal.id && x.id === req.params.eventId);
        return e ? json(200, resource(e, email)) : notFound();
      }),
    },
    {
      method: 'PATCH',
      path: '/calendar/v3/calendars/:calendarId/events/:eventId',
      handler: guarded((req, ctx, email) => {
        const cal = writable(ctx, req, email);
        if (!isCalendar(cal)) return cal;
        const e = ctx.state.events.find((x) => x.calendarId === cal.id && x.id === req.params.eventId);
        if (!e) return notFound();
        if (e.status === 'cancelled') return googleError(410, 'GONE', 'Resource has been deleted', 'deleted');
        const draft = { ...e };
        const problem = apply(draft, (req.body ?? {}) as Record<string, unknown>, false);
        if (problem) return problem;
        Object.assign(e, draft, { updated: new Date(ctx.now()).toISOString(), sequence: e.sequence + 1 });
        return json(200, resource(e, email));
      }),
    },
    {
      method: 'DELETE',
      path: '/calendar/v3/calendars/:calendarId/events/:eventId',
      handler: guarded((req, ctx, email) => {
        const cal = writable(ctx, req, email);
        if (!isCalendar(cal)) return cal;
        const e = ctx.state.events.find((x) => x.calendarId === cal.id && x.id === req.params.eventId);
        if (!e) return notFound();
        if (e.status === 'cancelled') return googleError(410, 'GONE', 'Resource has been deleted', 'deleted');
        // Deleted events stay, cancelled, so incremental listings can report them.
        e.status = 'cancelled';
        e.updated = new Date(ctx.now()).toISOString();
        return { status: 204 };
      }),
    },
  ],
  tick(ctx) {
    const n = ctx.state.nextId;
    const start = Math.ceil(ctx.now() / 3600_000) * 3600_000 + 86400_000;
    const at = new Date(ctx.now()).toISOString();
    ctx.state.events.push({
      calendarId: OWNER,
      id: eventId(ctx.state.nextId++),
      status: 'confirmed',
      summary: `Demo with prospect ${n}`,
      location: 'Meeting room 2',
      start: { dateTime: new Date(start).toISOString().replace('.000Z', 'Z'), timeZone: 'Europe/Berlin' },
      end: { dateTime: new Date(start + 3600_000).toISOString().replace('.000Z', 'Z'), timeZone: 'Europe/Berlin' },
      attendees: [{ email: 'maria@globex.test', responseStatus: 'needsAction' }],
      created: at,
      updated: at,
      sequence: 0,
    });
  },
};
