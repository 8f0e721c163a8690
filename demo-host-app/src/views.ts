import type { Company, Customer, Deal, ReceivedEvent, Ticket, User } from './store';
import { DEMO_LOGINS, STAGES } from './store';

export interface Flash {
  kind: 'success' | 'error' | 'info';
  text: string;
}

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON inside a <script> element: nothing in it can close the element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const money = (amount: number) => `$${amount.toLocaleString('en-US')}`;
const day = (iso: string) => new Date(iso).toLocaleDateString('en-US', { month: 'short', day: 'numeric' });
const when = (iso: string) => new Date(iso).toLocaleString('en-US', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

const LOGO = `<svg width="28" height="28" viewBox="0 0 28 28" aria-hidden="true"><rect width="28" height="28" rx="7" fill="#4f46e5"/><path d="M8 20 14 7l6 13M10.6 15h6.8" stroke="#fff" stroke-width="2.4" fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

export function layout(input: { title: string; user?: User; company?: Company; active?: string; flash?: Flash; body: string }): string {
  const nav = input.user
    ? `<header class="topbar">
  <a class="brand" href="/deals">${LOGO}<span>Acme CRM</span></a>
  <nav aria-label="Main">
    ${[
      ['deals', 'Deals', '/deals'],
      ['customers', 'Customers', '/customers'],
      ['support', 'Support', '/support'],
      ['integrations', 'Integrations', '/integrations'],
      ['events', 'Event log', '/events'],
    ]
      .map(([id, label, href]) => `<a href="${href}"${input.active === id ? ' aria-current="page"' : ''}>${label}</a>`)
      .join('')}
  </nav>
  <div class="account">
    <span class="company" data-testid="company-name">${escapeHtml(input.company?.name)}</span>
    <span class="avatar" title="${escapeHtml(input.user.name)}">${escapeHtml(initials(input.user.name))}</span>
    <form method="post" action="/logout"><button class="link" type="submit">Sign out</button></form>
  </div>
</header>`
    : '';
  const flash = input.flash ? `<div class="flash flash-${input.flash.kind}" role="${input.flash.kind === 'error' ? 'alert' : 'status'}">${escapeHtml(input.flash.text)}</div>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)} · Acme CRM</title>
<link rel="icon" href="/assets/logo.svg">
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
${nav}
<main class="${input.user ? 'page' : 'centered'}">
${flash}
${input.body}
</main>
</body>
</html>`;
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .map((part) => part[0] ?? '')
    .join('')
    .slice(0, 2)
    .toUpperCase();
}

export function loginPage(error?: string, email = ''): string {
  return layout({
    title: 'Sign in',
    body: `<section class="card login">
  <div class="login-brand">${LOGO}<span>Acme CRM</span></div>
  <h1>Sign in to your workspace</h1>
  ${error ? `<div class="flash flash-error" role="alert">${escapeHtml(error)}</div>` : ''}
  <form method="post" action="/login" class="stack">
    <label>Work email <input type="email" name="email" autocomplete="username" required value="${escapeHtml(email)}"></label>
    <label>Password <input type="password" name="password" autocomplete="current-password" required></label>
    <button class="primary" type="submit">Sign in</button>
  </form>
  <aside class="hint">
    <strong>Demo accounts</strong>
    <ul>${DEMO_LOGINS.map((l) => `<li>${escapeHtml(l.company)}: <code>${escapeHtml(l.email)}</code> / <code>${escapeHtml(l.password)}</code></li>`).join('')}</ul>
  </aside>
</section>`,
  });
}

export function dealsPage(input: { user: User; company: Company; deals: Deal[]; flash?: Flash }): string {
  const columns = STAGES.map((stage) => {
    const deals = input.deals.filter((d) => d.stage === stage.id).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const total = deals.reduce((sum, d) => sum + d.amount, 0);
    const cards = deals
      .map(
        (d) => `<article class="deal" data-deal-id="${escapeHtml(d.id)}" aria-label="${escapeHtml(d.name)}">
  <h3>${escapeHtml(d.name)}</h3>
  <p class="muted">${escapeHtml(d.account)}</p>
  <p class="amount">${money(d.amount)}</p>
  <footer><span class="owner">${escapeHtml(d.owner)}</span>${
    d.stage === 'won'
      ? `<span class="badge badge-won">Won${d.wonAt ? ` ${escapeHtml(day(d.wonAt))}` : ''}</span>`
      : `<form method="post" action="/deals/${encodeURIComponent(d.id)}/won"><button class="small" type="submit">Mark won</button></form>`
  }</footer>
</article>`,
      )
      .join('');
    return `<section class="column column-${stage.id}" aria-label="${stage.label}">
  <header><h2>${stage.label}</h2><span class="count">${deals.length}</span><span class="total">${money(total)}</span></header>
  ${cards || '<p class="empty">No deals</p>'}
</section>`;
  }).join('');
  return layout({
    title: 'Deals',
    user: input.user,
    company: input.company,
    active: 'deals',
    flash: input.flash,
    body: `<div class="page-head">
  <div><h1>Deals</h1><p class="muted">Your pipeline. Marking a deal won tells your connected apps through Switchboard.</p></div>
  <details class="new-deal"><summary class="button primary">New deal</summary>
    <form method="post" action="/deals" class="inline-form">
      <label>Deal <input name="name" required maxlength="120" placeholder="Initech licences"></label>
      <label>Account <input name="account" required maxlength="120" placeholder="Initech"></label>
      <label>Amount (USD) <input name="amount" type="number" min="0" max="100000000" step="1" required placeholder="25000"></label>
      <button class="primary" type="submit">Add deal</button>
    </form>
  </details>
</div>
<div class="board">${columns}</div>`,
  });
}

export function customersPage(input: { user: User; company: Company; customers: Customer[]; flash?: Flash }): string {
  const rows = input.customers
    .map(
      (c) => `<tr>
  <td>${escapeHtml(c.firstName)} ${escapeHtml(c.lastName)}</td><td>${escapeHtml(c.email)}</td><td>${escapeHtml(c.company)}</td>
  <td>${escapeHtml(when(c.createdAt))}</td>
  <td>${c.sync ? `<span class="badge badge-${c.sync.status}" title="${escapeHtml(c.sync.detail)}">${escapeHtml(syncLabel(c.sync.status))}</span> <span class="muted small">${escapeHtml(c.sync.detail)}</span>` : ''}</td>
</tr>`,
    )
    .join('');
  return layout({
    title: 'Customers',
    user: input.user,
    company: input.company,
    active: 'customers',
    flash: input.flash,
    body: `<div class="page-head"><div><h1>Customers</h1><p class="muted">New customers are sent to HubSpot when the “New customers to HubSpot” flow is on in Integrations.</p></div></div>
<div class="split">
  <section class="card">
    <h2>New customer</h2>
    <form method="post" action="/customers" class="stack">
      <div class="row"><label>First name <input name="firstName" required maxlength="80"></label><label>Last name <input name="lastName" required maxlength="80"></label></div>
      <label>Email <input name="email" type="email" required maxlength="254"></label>
      <label>Company <input name="company" maxlength="120"></label>
      <button class="primary" type="submit">Add customer</button>
    </form>
  </section>
  <section class="card grow">
    <h2>Recent customers</h2>
    ${rows ? `<table><thead><tr><th>Name</th><th>Email</th><th>Company</th><th>Added</th><th>HubSpot</th></tr></thead><tbody>${rows}</tbody></table>` : '<p class="empty">No customers yet.</p>'}
  </section>
</div>`,
  });
}

/** A customer each company's HubSpot (the sandbox's) knows, so the AI agent's lookup finds someone. */
const SAMPLE_TICKET_EMAIL: Record<string, string> = { globex: 'maria@globex.test', initech: 'li@initech.test' };

export interface TicketForm {
  email: string;
  subject: string;
  message: string;
}

export function supportPage(input: { user: User; company: Company; tickets: Ticket[]; flash?: Flash; form?: TicketForm; error?: string }): string {
  const form = input.form ?? { email: SAMPLE_TICKET_EMAIL[input.company.id] ?? '', subject: '', message: '' };
  const rows = input.tickets
    .map(
      (t) => `<tr data-ticket-id="${escapeHtml(t.id)}">
  <td><strong>${escapeHtml(t.subject)}</strong><div class="muted small ticket-message">${escapeHtml(t.message)}</div></td>
  <td>${escapeHtml(t.email)}</td>
  <td>${escapeHtml(t.filedBy)}<div class="muted small">${escapeHtml(when(t.createdAt))}</div></td>
  <td>${t.sent ? `<span class="badge badge-${ticketTone(t.sent.status)}">${escapeHtml(ticketLabel(t.sent.status))}</span> <span class="muted small">${escapeHtml(t.sent.detail)}</span>` : ''}</td>
</tr>`,
    )
    .join('');
  return layout({
    title: 'Support',
    user: input.user,
    company: input.company,
    active: 'support',
    flash: input.flash,
    body: `<div class="page-head"><div><h1>Support</h1><p class="muted">Tickets your customers raise. With “Triage new support tickets with AI” on in Integrations, an AI agent looks the customer up in HubSpot and drafts a summary for Slack, which waits for your approval there.</p></div></div>
<div class="split">
  <section class="card">
    <h2>New ticket</h2>
    ${input.error ? `<div class="flash flash-error" role="alert">${escapeHtml(input.error)}</div>` : ''}
    <form method="post" action="/support" class="stack">
      <label>Customer email <input name="email" type="email" required maxlength="254" value="${escapeHtml(form.email)}"></label>
      <label>Subject <input name="subject" required maxlength="150" value="${escapeHtml(form.subject)}" placeholder="Cannot export the quarterly report"></label>
      <label>Message <textarea name="message" required maxlength="4000" rows="6" placeholder="What happened, and what the customer needs">${escapeHtml(form.message)}</textarea></label>
      <button class="primary" type="submit">File ticket</button>
    </form>
    <p class="muted small">The email is prefilled with a customer the sandbox HubSpot knows.</p>
  </section>
  <section class="card grow">
    <h2>Recent tickets</h2>
    ${rows ? `<table><thead><tr><th>Ticket</th><th>Customer</th><th>Filed</th><th>Automations</th></tr></thead><tbody>${rows}</tbody></table>` : '<p class="empty">No tickets yet.</p>'}
  </section>
</div>`,
  });
}

function ticketLabel(status: NonNullable<Ticket['sent']>['status']): string {
  return { started: 'Triaging', none: 'No automation', failed: 'Not sent' }[status];
}

function ticketTone(status: NonNullable<Ticket['sent']>['status']): 'ok' | 'warn' | 'bad' {
  return { started: 'ok', none: 'warn', failed: 'bad' }[status] as 'ok' | 'warn' | 'bad';
}

function syncLabel(status: NonNullable<Customer['sync']>['status']): string {
  return { synced: 'In HubSpot', pending: 'Sending', failed: 'Failed', not_sent: 'Not sent' }[status];
}

export function integrationsPage(input: { user: User; company: Company; nonce: string; switchboardUrl: string; token: string | null; error?: string }): string {
  const loader = `${input.switchboardUrl}/embed/v1/loader.js`;
  // The snippet from Switchboard's docs, then init with the session our backend minted, and an
  // inline mount. When the session runs out, the widget asks our backend for a new one.
  const script = input.token
    ? `<script nonce="${input.nonce}">
(function(w,d,s,u){w.Switchboard=w.Switchboard||function(){(w.Switchboard.q=w.Switchboard.q||[]).push(arguments)};var j=d.createElement(s);j.async=1;j.src=u;d.head.appendChild(j)})(window,document,'script',${scriptJson(loader)});
Switchboard('init', {
  token: ${scriptJson(input.token)},
  onSessionExpired: function () {
    return fetch('/api/switchboard/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
      .then(function (r) { if (!r.ok) throw new Error('Could not renew the session'); return r.json(); })
      .then(function (b) { return b.token; });
  },
  theme: { accent: '#4f46e5', radius: '10px' }
});
Switchboard('mount', '#switchboard-widget');
// The widget's events reach the host page too: Acme just notes them under the widget.
var notes = { connected: 'An account was connected.', disconnected: 'An account was disconnected.', 'flow-enabled': 'An automation was turned on.', 'flow-disabled': 'An automation was turned off.' };
Object.keys(notes).forEach(function (name) {
  Switchboard('on', name, function () { document.getElementById('widget-activity').textContent = notes[name]; });
});
Switchboard('on', 'error', function (error) { document.getElementById('widget-activity').textContent = 'Integrations: ' + ((error && error.message) || 'something went wrong') + '.'; });
</script>`
    : '';
  return layout({
    title: 'Integrations',
    user: input.user,
    company: input.company,
    active: 'integrations',
    body: `<div class="page-head"><div><h1>Integrations</h1><p class="muted">Connect the tools ${escapeHtml(input.company.name)} uses and switch on automations. Powered by Switchboard.</p></div></div>
${
  input.error
    ? `<div class="flash flash-error" role="alert">${escapeHtml(input.error)}</div>`
    : `<div class="split">
  <section class="grow" aria-label="Your integrations">
    <div id="switchboard-widget" data-testid="switchboard-widget"><p class="muted loading">Loading integrations…</p></div>
    <p id="widget-activity" class="muted small" role="status"></p>
  </section>
  <aside class="card side">
    <h2>What Acme CRM can do for you</h2>
    <ul class="uses">
      <li><strong>Won deals in Slack.</strong> Pick a channel and a minimum amount; every deal you mark won above it is posted there.</li>
      <li><strong>New customers in HubSpot.</strong> Customers you add become HubSpot contacts.</li>
      <li><strong>Big deals, after approval.</strong> Deals above your threshold wait for your OK here before they are announced.</li>
      <li><strong>Support tickets, triaged by AI.</strong> An AI agent reads the customer in HubSpot and drafts a Slack summary; it is posted only once you approve it here.</li>
    </ul>
    <p class="muted small">Your accounts are connected through Switchboard: Acme CRM never sees your passwords or tokens.</p>
  </aside>
</div>`
}
${script}`,
  });
}

export function eventsPage(input: { user: User; company: Company; events: ReceivedEvent[]; configured: boolean }): string {
  const rows = input.events
    .map(
      (e) => `<li class="event" data-event-type="${escapeHtml(e.type)}">
  <span class="badge badge-${eventTone(e.type)}">${escapeHtml(e.type)}</span>
  <span class="event-summary">${escapeHtml(summarize(e))}</span>
  <time class="muted small" datetime="${escapeHtml(e.timestamp)}">${escapeHtml(when(e.timestamp))}</time>
  <details><summary>Payload</summary><pre>${escapeHtml(JSON.stringify(e.data, null, 2))}</pre></details>
</li>`,
    )
    .join('');
  return layout({
    title: 'Event log',
    user: input.user,
    company: input.company,
    active: 'events',
    body: `<div class="page-head"><div><h1>Event log</h1><p class="muted">Webhooks from Switchboard about ${escapeHtml(input.company.name)}, received at <code>POST /webhooks/switchboard</code>. Only deliveries with a valid signature are shown.</p></div>
<a class="button" href="/events">Refresh</a></div>
${input.configured ? '' : '<div class="flash flash-info" role="status">No webhook secret is configured (SWITCHBOARD_WEBHOOK_SECRET), so deliveries are refused.</div>'}
<section class="card">${rows ? `<ul class="events">${rows}</ul>` : '<p class="empty">No events yet. Connect an app or mark a deal won.</p>'}</section>`,
  });
}

function eventTone(type: string): 'ok' | 'bad' | 'warn' | 'neutral' {
  if (/\.(failed|deleted|needs_reauth)$/.test(type)) return 'bad';
  if (/\.(created|enabled|succeeded)$/.test(type)) return 'ok';
  return type === 'approval.requested' ? 'warn' : 'neutral';
}

/** One line a person can read, from the payload's object. */
function summarize(event: ReceivedEvent): string {
  const d = event.data as Record<string, any>;
  switch (event.type) {
    case 'connection.created':
    case 'connection.needs_reauth':
    case 'connection.deleted':
      return `${d.connection?.connector ?? 'A connection'}${d.connection?.accountName ? ` (${d.connection.accountName})` : ''}`;
    case 'flow.enabled':
    case 'flow.disabled':
      return `${d.flow ?? d.instance?.key ?? 'A flow'}${d.instance?.version ? ` (version ${d.instance.version})` : ''}`;
    case 'run.succeeded':
    case 'run.failed':
      return `${d.run?.flow ?? 'A run'}${d.run?.error?.message ? `: ${d.run.error.message}` : ''}`;
    case 'approval.requested':
      return d.approval?.title ?? 'An approval';
    default:
      return '';
  }
}

export function notFoundPage(user?: User, company?: Company): string {
  return layout({
    title: 'Not found',
    user,
    company,
    body: '<section class="card"><h1>Not found</h1><p>That page does not exist. <a href="/deals">Back to deals</a></p></section>',
  });
}
