import { send } from '../runtime';
import { ActionContext, defineAction, defineConnector, definePollTrigger, HttpError, TriggerItem } from '../types';
import { googleAccount, googleAuth, GOOGLE_USERINFO } from './google-common';
import { arr, bool, int, logo, matches, obj, oneOf, res, str } from './shared';

type EventTime = { dateTime?: string; date?: string; timeZone?: string };

export interface CalendarEvent {
  id: string;
  status: 'confirmed' | 'tentative' | 'cancelled';
  summary?: string;
  description?: string;
  location?: string;
  htmlLink?: string;
  start: EventTime;
  end: EventTime;
  created: string;
  updated: string;
  attendees?: { email: string; responseStatus?: string }[];
  organizer?: { email?: string };
}

interface EventList {
  items: CalendarEvent[];
  nextPageToken?: string;
}

const CALENDAR = str('Calendar', { description: 'Calendar id, or primary', default: 'primary', 'x-options': 'calendars' });
const TIME = str('Time', { description: 'RFC 3339 date-time (2026-03-01T10:00:00+01:00), or a date (2026-03-01) for an all-day event' });

const timeSchema = res({ dateTime: str('Date-time'), date: str('Date (all-day)'), timeZone: str('Time zone') });
const eventSchema = res(
  {
    id: str('Event id'),
    status: oneOf({ enum: ['confirmed', 'tentative', 'cancelled'] }),
    summary: str('Title'),
    description: str('Description'),
    location: str('Location'),
    htmlLink: str('Link'),
    start: timeSchema,
    end: timeSchema,
    created: str('Created', { format: 'date-time' }),
    updated: str('Updated', { format: 'date-time' }),
    attendees: arr(res({ email: str('Email'), responseStatus: str('Response') }, ['email'])),
    organizer: res({ email: str('Email') }),
  },
  ['id', 'status', 'start', 'end'],
);

function eventsPath(calendarId: string, eventId?: string): string {
  return `calendars/${encodeURIComponent(calendarId)}/events${eventId ? `/${encodeURIComponent(eventId)}` : ''}`;
}

/** A date means an all-day event; a date-time keeps its offset, or is read in `timeZone`. */
function eventTime(value: string, timeZone?: string): EventTime {
  if (/^\d{4}-\d\d-\d\d$/.test(value)) return { date: value };
  return timeZone ? { dateTime: value, timeZone } : { dateTime: value };
}

export interface EventFields {
  summary?: string;
  description?: string;
  location?: string;
  start?: string;
  end?: string;
  time_zone?: string;
  attendees?: string[];
}

function eventBody(input: EventFields): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const key of ['summary', 'description', 'location'] as const) if (input[key] !== undefined) body[key] = input[key];
  if (input.start) body.start = eventTime(input.start, input.time_zone);
  if (input.end) body.end = eventTime(input.end, input.time_zone);
  if (input.attendees) body.attendees = input.attendees.map((email) => ({ email }));
  return body;
}

const fields = {
  summary: str('Title', { maxLength: 1024 }),
  description: str('Description'),
  location: str('Location'),
  start: { ...TIME, title: 'Starts' },
  end: { ...TIME, title: 'Ends', description: 'Exclusive: an all-day event on March 1 ends 2026-03-02' },
  time_zone: str('Time zone', { description: 'IANA name, e.g. Europe/Berlin, for date-times without an offset' }),
  attendees: arr(str('Email', { format: 'email' }), { title: 'Attendees', maxItems: 100 }),
};
const sendUpdates = oneOf({ title: 'Notify guests', enum: ['all', 'externalOnly', 'none'], default: 'none' });

const createEvent = defineAction({
  name: 'Create event',
  description: 'Creates an event (events.insert); attendees get invitations when notify guests says so.',
  readOnly: false,
  retrySafe: false,
  input: obj({ calendar_id: CALENDAR, ...fields, send_updates: sendUpdates }, ['summary', 'start', 'end']),
  output: eventSchema,
  async run(ctx, input) {
    return send<CalendarEvent>(ctx, {
      method: 'POST',
      path: eventsPath(input.calendar_id ?? 'primary'),
      query: { sendUpdates: input.send_updates ?? 'none' },
      body: eventBody(input),
    });
  },
});

const updateEvent = defineAction({
  name: 'Update event',
  description: 'Changes the given fields of an event (events.patch); attendees, when given, replace the list.',
  // A PATCH setting the same fields again changes nothing.
  readOnly: false,
  retrySafe: true,
  input: obj({ calendar_id: CALENDAR, event_id: str('Event id', { minLength: 1 }), ...fields, send_updates: sendUpdates }, ['event_id'], { minProperties: 2 }),
  output: eventSchema,
  async run(ctx, input) {
    return send<CalendarEvent>(ctx, {
      method: 'PATCH',
      path: eventsPath(input.calendar_id ?? 'primary', input.event_id),
      query: { sendUpdates: input.send_updates ?? 'none' },
      body: eventBody(input),
    });
  },
});

const deleteEvent = defineAction({
  name: 'Delete event',
  description: 'Deletes (cancels) an event; one already deleted counts as done.',
  readOnly: false,
  retrySafe: true,
  input: obj({ calendar_id: CALENDAR, event_id: str('Event id', { minLength: 1 }), send_updates: sendUpdates }, ['event_id']),
  output: res({ deleted: bool(), already_deleted: bool() }, ['deleted', 'already_deleted']),
  async run(ctx, input) {
    try {
      await send(ctx, { method: 'DELETE', path: eventsPath(input.calendar_id ?? 'primary', input.event_id), query: { sendUpdates: input.send_updates ?? 'none' } });
      return { deleted: true, already_deleted: false };
    } catch (error) {
      // 410 Gone: deleted before (a repeat of this step, or someone else).
      if (error instanceof HttpError && error.status === 410) return { deleted: true, already_deleted: true };
      throw error;
    }
  },
});

const findEvents = defineAction({
  name: 'Find events',
  description: 'Lists events by start time between two times, optionally matching text; recurring events come as their occurrences.',
  readOnly: true,
  retrySafe: true,
  input: obj({
    calendar_id: CALENDAR,
    q: str('Text', { description: 'Matches title, description, location, attendees' }),
    time_min: str('From', { format: 'date-time', description: 'Events ending after this' }),
    time_max: str('Until', { format: 'date-time', description: 'Events starting before this' }),
    max_results: int('Max events', { minimum: 1, maximum: 250, default: 50 }),
  }),
  output: res({ events: arr(eventSchema) }, ['events']),
  async run(ctx, input) {
    const data = await send<EventList>(ctx, {
      method: 'GET',
      path: eventsPath(input.calendar_id ?? 'primary'),
      query: { q: input.q, timeMin: input.time_min, timeMax: input.time_max, singleEvents: true, orderBy: 'startTime', maxResults: input.max_results ?? 50 },
    });
    return { events: data.items };
  },
});

/** The trigger's cursor: the last event looked at, by last modification (updated, then id). */
export interface CalendarCursor {
  updated: string;
  id: string;
}

const after = (a: { at: string; id: string }, b: { at: string; id: string }) => a.at > b.at || (a.at === b.at && a.id > b.id);

/** Every event modified since `updatedMin` (all of them without it), by last modification then id. */
async function modifiedSince(ctx: ActionContext, calendarId: string, updatedMin?: string): Promise<CalendarEvent[]> {
  const out: CalendarEvent[] = [];
  let pageToken: string | undefined;
  do {
    const page = await send<EventList>(ctx, { method: 'GET', path: eventsPath(calendarId), query: { updatedMin, orderBy: 'updated', maxResults: 250, pageToken } });
    out.push(...page.items);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out.sort((a, b) => a.updated.localeCompare(b.updated) || a.id.localeCompare(b.id));
}

const item = (e: CalendarEvent): TriggerItem => ({ id: e.id, data: { ...e } });

const newEvent = definePollTrigger<CalendarCursor>()({
  name: 'New event',
  description: 'An event is created in the calendar, oldest first (events modified since the last poll, by updatedMin).',
  input: obj({ calendar_id: CALENDAR }),
  output: eventSchema,
  intervalSeconds: 300,
  minIntervalSeconds: 60,
  async poll(ctx, { input, cursor, limit }) {
    const calendarId = input.calendar_id ?? 'primary';
    if (!cursor) {
      const all = await modifiedSince(ctx, calendarId);
      const last = all[all.length - 1];
      const created = all.filter((e) => e.status !== 'cancelled').sort((a, b) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id));
      return { items: created.slice(-limit).map(item), cursor: last ? { updated: last.updated, id: last.id } : { updated: '1970-01-01T00:00:00.000Z', id: '' } };
    }
    const since = { at: cursor.updated, id: cursor.id };
    const changed = (await modifiedSince(ctx, calendarId, cursor.updated)).filter((e) => after({ at: e.updated, id: e.id }, since));
    const items: TriggerItem[] = [];
    let next = cursor;
    let more = false;
    for (const e of changed) {
      // Events only edited since (created before the mark) move the cursor without a run.
      const isNew = e.status !== 'cancelled' && after({ at: e.created, id: e.id }, since);
      if (isNew && items.length === limit) {
        more = true;
        break;
      }
      if (isNew) items.push(item(e));
      next = { updated: e.updated, id: e.id };
    }
    return { items, cursor: next, ...(more ? { more } : {}) };
  },
});

export const googleCalendarConnector = defineConnector({
  key: 'google-calendar',
  name: 'Google Calendar',
  description: 'Create, update, delete and find Google Calendar events, and start flows when events are created.',
  logo: logo(
    '#4285F4',
    '<rect x="14" y="16" width="36" height="34" rx="4" fill="#fff"/><path d="M14 26h36" stroke="#4285F4" stroke-width="4"/><path d="M24 12v8M40 12v8" stroke="#fff" stroke-width="4" stroke-linecap="round"/>',
  ),
  categories: ['scheduling', 'productivity'],
  docsUrl: 'https://developers.google.com/workspace/calendar/api/v3/reference',
  auth: googleAuth(['https://www.googleapis.com/auth/calendar.readonly', 'https://www.googleapis.com/auth/calendar.events']),
  baseUrl: 'https://www.googleapis.com/calendar/v3',
  baseUrls: { oauth2: GOOGLE_USERINFO },
  pagination: { style: 'cursor', cursorParam: 'pageToken', nextCursorPath: 'nextPageToken', limitParam: 'maxResults' },
  actions: { create_event: createEvent, update_event: updateEvent, delete_event: deleteEvent, find_events: findEvents },
  options: {
    calendars: {
      name: 'Calendars',
      description: 'Calendars the account can add events to',
      async run(ctx, { search, cursor }) {
        // calendarList has no text search: each page of it is filtered here.
        const data = await send<{ items: { id: string; summary: string; primary?: boolean; accessRole: string }[]; nextPageToken?: string }>(ctx, {
          method: 'GET',
          path: 'users/me/calendarList',
          query: { minAccessRole: 'writer', maxResults: 50, pageToken: cursor },
        });
        const options = data.items
          .filter((c) => matches(search, c.summary, c.id))
          .map((c) => ({ value: c.primary ? 'primary' : c.id, label: c.summary, description: c.primary ? 'Primary calendar' : c.accessRole }));
        return data.nextPageToken ? { options, nextCursor: data.nextPageToken } : { options };
      },
    },
  },
  triggers: { new_event: newEvent },
  account: googleAccount,
});
