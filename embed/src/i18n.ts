/**
 * Every string the widget shows, in one place. Hosts translate with `init({ messages: { … } })`;
 * `{name}` placeholders are filled in by `t()`.
 */
export const messages = {
  title: 'Integrations',
  subtitle: 'Connect the tools you use with {tenant}.',
  close: 'Close',
  back: 'All integrations',
  search: 'Search integrations',
  categories: 'Categories',
  allCategories: 'All',
  noMatches: 'No integrations match “{query}”.',
  noIntegrations: 'No integrations are available yet.',
  connected: 'Connected',
  needsReauth: 'Needs attention',
  connectionError: 'Connection error',
  notConnected: 'Not connected',
  connect: 'Connect {name}',
  reconnect: 'Reconnect',
  disconnect: 'Disconnect',
  connecting: 'Finish connecting in the window that opened…',
  cancel: 'Cancel',
  tryAgain: 'Try again',
  retry: 'Retry',
  popupBlocked: 'Your browser blocked the connect window. Allow pop-ups for this site, or try again.',
  popupClosed: 'The connect window was closed before {name} was connected.',
  reauthHint: '{name} needs you to sign in again: your access expired or was revoked.',
  connectedAs: 'Connected as {account}',
  disconnectTitle: 'Disconnect {name}?',
  disconnectBody: 'Automations that use {account} will stop until you connect again.',
  disconnected: '{name} was disconnected.',
  connectedToast: '{name} is connected.',
  automations: 'Automations',
  noFlows: 'There are no automations for {name} yet.',
  connectFirst: 'Connect {name} to turn automations on.',
  enable: 'Turn on',
  enableFlow: 'Turn on {name}',
  on: 'On',
  off: 'Off',
  paused: 'Paused',
  pausedMissing: 'Paused: {name} was disconnected. Connect {name} again and this automation resumes on its own.',
  pausedReauth: 'Paused: {name} needs you to sign in again. Reconnect {name} and this automation resumes on its own.',
  triggerWhen: 'When {event} in {name}',
  triggerWaiting: 'Checking {name} for the first time…',
  triggerChecked: 'Checked {time}',
  triggerListening: 'Listening for {name} events',
  triggerRetry: 'Trying again {time}',
  triggerRetrySoon: 'Trying again shortly',
  settings: 'Settings',
  save: 'Save',
  saving: 'Saving…',
  saved: 'Saved.',
  flowEnabled: '{name} is on.',
  flowDisabled: '{name} is off.',
  upgrade: 'A newer version is available.',
  required: 'Required',
  optional: 'optional',
  fieldRequired: '{field} is required.',
  fieldNumber: '{field} must be a number.',
  fieldInteger: '{field} must be a whole number.',
  fieldMin: '{field} must be at least {min}.',
  fieldMax: '{field} must be at most {max}.',
  fieldMinLength: '{field} must be at least {min} characters.',
  fieldMaxLength: '{field} must be at most {max} characters.',
  fieldPattern: '{field} is not in the expected format.',
  fieldMinItems: 'Choose at least {min} for {field}.',
  fieldMaxItems: 'Choose at most {max} for {field}.',
  fixErrors: 'Check the highlighted fields.',
  choose: 'Choose…',
  searchOptions: 'Type to search',
  loading: 'Loading…',
  loadMore: 'Load more',
  noOptions: 'Nothing found.',
  optionsFailed: 'Could not load the choices: {message}',
  remove: 'Remove {label}',
  recentRuns: 'Recent activity',
  noRuns: 'Nothing has run yet.',
  run_queued: '{name} is about to run',
  run_running: '{name} is running',
  run_waiting: '{name} is waiting to go on',
  run_succeeded: '{name} ran and finished',
  run_failed: '{name} did not finish',
  run_cancelled: '{name} was cancelled',
  run_unknown: '{name} may not have finished',
  runUnknownWhy: 'It may have gone through anyway: it was interrupted before the service answered. Check there before trying again.',
  runMaybeTwice: 'This may have happened twice: it was sent again after an interruption.',
  approvals: 'Waiting for your approval',
  assistantAsks: 'Your AI assistant asks',
  pendingOne: 'A request is waiting for your approval.',
  pendingMany: '{n} requests are waiting for your approval.',
  review: 'Review',
  approve: 'Approve',
  reject: 'Reject',
  comment: 'Comment (optional)',
  showMore: 'Show more',
  showLess: 'Show less',
  approved: 'Approved.',
  rejected: 'Rejected.',
  expires: 'Expires {time}',
  justNow: 'just now',
  minutesAgo: '{n} min ago',
  hoursAgo: '{n} h ago',
  daysAgo: '{n} d ago',
  todayAt: 'Today at {time}',
  yesterdayAt: 'Yesterday at {time}',
  dateAt: '{date} at {time}',
  inMinutes: 'in {n} min',
  inHours: 'in {n} h',
  sessionExpiredTitle: 'Session expired',
  sessionExpired: 'Your session has expired. Reload the page to continue.',
  networkError: 'Could not reach Switchboard. Check your connection and try again.',
  originNotAllowedTitle: 'This page is not allowed to use Switchboard',
  originNotAllowed: '{origin} is not in this app’s allowed origins. Its developer can add it in the Switchboard portal under Settings → Allowed origins.',
  timeout: 'Switchboard took too long to answer. Try again.',
  serverError: 'Something went wrong on our side. Try again in a moment.',
  notEnabled: '{name} is not available here.',
  loadFailed: 'Could not load your integrations.',
  preview: 'Preview',
  category_crm: 'CRM',
  category_hr: 'HR',
  category_ai: 'AI',
  secured: 'Secured by Switchboard · credentials are encrypted and never shown to this page',
};

export type MessageKey = keyof typeof messages;

let current: Record<string, string> = messages;

export function setMessages(overrides: Partial<Record<string, string>> = {}): void {
  current = { ...messages };
  for (const [key, value] of Object.entries(overrides)) if (typeof value === 'string') current[key] = value;
}

export function t(key: MessageKey, vars: Record<string, string | number> = {}): string {
  return (current[key] ?? messages[key] ?? key).replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** "5 min ago", "in 2 h". */
export function relativeTime(iso: string, now = Date.now()): string {
  const minutes = Math.round((Date.parse(iso) - now) / 60_000);
  const n = Math.abs(minutes);
  if (minutes > 0) return n < 60 ? t('inMinutes', { n }) : t('inHours', { n: Math.round(n / 60) });
  if (n < 1) return t('justNow');
  if (n < 60) return t('minutesAgo', { n });
  if (n < 60 * 24) return t('hoursAgo', { n: Math.round(n / 60) });
  return t('daysAgo', { n: Math.round(n / 1440) });
}

/**
 * When something happened, with its date once it is older than an hour: "5 min ago", "Today at
 * 2:05 PM", "Yesterday at 9:30 AM", "Dec 3 at 4:10 PM" (with the year when it is not this year).
 */
export function when(iso: string, now = Date.now()): string {
  const date = new Date(iso);
  if (now - date.getTime() < 3_600_000) return relativeTime(iso, now);
  const time = date.toLocaleTimeString(undefined, { hour: 'numeric', minute: '2-digit' });
  const today = new Date(now);
  const day = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((day(today) - day(date)) / 86_400_000);
  if (days === 0) return t('todayAt', { time });
  if (days === 1) return t('yesterdayAt', { time });
  const options: Intl.DateTimeFormatOptions = { month: 'short', day: 'numeric' };
  if (date.getFullYear() !== today.getFullYear()) options.year = 'numeric';
  return t('dateAt', { date: date.toLocaleDateString(undefined, options), time });
}
