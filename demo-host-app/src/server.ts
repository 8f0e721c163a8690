import { Switchboard, SwitchboardError, type WebhookEvent, WebhookVerificationError } from '@switchboard/sdk';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APP_CSS, LOGO_SVG } from './assets';
import { type Company, type Customer, type Deal, hashPassword, Store, type Ticket, type User, verifyPassword } from './store';
import { customersPage, dealsPage, eventsPage, type Flash, integrationsPage, loginPage, notFoundPage, supportPage, type TicketForm } from './views';

export interface AcmeCrmOptions {
  /** Switchboard's public URL: the browser loads the widget from it and the SDK calls it. */
  switchboardUrl: string;
  /** Acme's secret key (sk_…) for the SDK. */
  secretKey: string;
  /** The signing secret (whsec_…) of Acme's webhook endpoint in Switchboard; without it, webhooks are refused. */
  webhookSecret?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Keep the data in this JSON file across restarts (default: in memory only). */
  dataFile?: string;
  log?: (line: string) => void;
}

export interface AcmeCrm {
  url: string;
  port: number;
  store: Store;
  close(): Promise<void>;
}

interface Session {
  userId: string;
  expiresAt: number;
  flash?: Flash;
}

const COOKIE = 'acme_session';
const SESSION_TTL_MS = 8 * 3600_000;
const FORM_LIMIT = 64 * 1024;
const WEBHOOK_LIMIT = 1024 * 1024;
/** Spent on unknown emails too, so sign-in time does not tell which emails exist. */
const DUMMY_HASH = hashPassword(randomBytes(16).toString('hex'));

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Acme CRM: a small SaaS app that is a Switchboard tenant. Its customers are companies (end users
 * in Switchboard); their people sign in here. Server-rendered pages, sessions in an httpOnly cookie.
 */
export async function startAcmeCrm(options: AcmeCrmOptions): Promise<AcmeCrm> {
  const store = new Store(options.dataFile);
  const switchboardUrl = options.switchboardUrl.replace(/\/+$/, '');
  const switchboardOrigin = new URL(switchboardUrl).origin;
  const sb = new Switchboard({ secretKey: options.secretKey, baseUrl: switchboardUrl, timeoutMs: 15_000 });
  const sessions = new Map<string, Session>();
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));

  const sessionKey = (token: string) => createHash('sha256').update(token).digest('hex');

  function currentSession(req: IncomingMessage): { session: Session; user: User; company: Company } | null {
    const token = readCookie(req, COOKIE);
    if (!token) return null;
    const session = sessions.get(sessionKey(token));
    if (!session || session.expiresAt < Date.now()) return null;
    const user = store.user(session.userId);
    const company = user && store.company(user.companyId);
    if (!user || !company) return null;
    session.expiresAt = Date.now() + SESSION_TTL_MS;
    return { session, user, company };
  }

  function html(res: ServerResponse, status: number, body: string, nonce?: string): void {
    res.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': [
        "default-src 'self'",
        `script-src 'self' ${switchboardOrigin}${nonce ? ` 'nonce-${nonce}'` : ''}`,
        `connect-src 'self' ${switchboardOrigin}`,
        `img-src 'self' data: ${switchboardOrigin}`,
        `frame-src ${switchboardOrigin}`,
        "style-src 'self' 'unsafe-inline'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
      ].join('; '),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
    });
    res.end(body);
  }

  function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
    res.writeHead(303, { location, 'cache-control': 'no-store', ...headers }).end();
  }

  function json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  }

  async function receiveWebhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!options.webhookSecret) return json(res, 503, { error: 'This app has no webhook secret configured (SWITCHBOARD_WEBHOOK_SECRET).' });
    const raw = await readBody(req, WEBHOOK_LIMIT);
    let event: WebhookEvent;
    try {
      event = sb.webhooks.verify(raw, req.headers, options.webhookSecret);
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      log(`acme-crm: refused a webhook: ${error.message}`);
      return json(res, 400, { error: error.message });
    }
    const company = 'endUserId' in event.data ? store.companyByEndUser(event.data.endUserId) : undefined;
    // Signed by Switchboard, but about an end user we do not know (deleted, say): acknowledged, not shown.
    if (company) {
      store.addEvent({
        id: String(req.headers['webhook-id']),
        companyId: company.id,
        type: event.type,
        timestamp: event.timestamp,
        receivedAt: new Date().toISOString(),
        data: event.data,
      });
    }
    res.writeHead(204).end();
  }

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    const email = form.get('email') ?? '';
    const password = form.get('password') ?? '';
    const user = store.userByEmail(email);
    const ok = verifyPassword(password, user?.passwordHash ?? DUMMY_HASH) && user !== undefined;
    if (!ok || !user) return html(res, 401, loginPage('That email and password do not match an account.', email));
    for (const [key, session] of sessions) if (session.expiresAt < Date.now()) sessions.delete(key);
    const token = randomBytes(32).toString('base64url');
    sessions.set(sessionKey(token), { userId: user.id, expiresAt: Date.now() + SESSION_TTL_MS });
    redirect(res, '/deals', { 'set-cookie': `${COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_TTL_MS / 1000}` });
  }

  async function markWon(res: ServerResponse, me: { session: Session; user: User; company: Company }, deal: Deal): Promise<void> {
    if (!store.markWon(deal)) return redirect(res, '/deals');
    try {
      const runs = await sb.events.send('deal.won', {
        endUserId: me.company.endUserId,
        payload: { id: deal.id, name: deal.name, account: deal.account, amount: deal.amount, currency: 'USD', owner: deal.owner, wonBy: me.user.name, wonAt: deal.wonAt },
        idempotencyKey: `deal-won:${deal.id}`,
      });
      me.session.flash = runs.length
        ? { kind: 'success', text: `${deal.name} is won. Switchboard started ${runs.length} automation${runs.length === 1 ? '' : 's'}.` }
        : { kind: 'info', text: `${deal.name} is won. No automation started: switch one on in Integrations (or reconnect the account a paused one uses).` };
    } catch (error) {
      me.session.flash = { kind: 'error', text: `${deal.name} is won, but Switchboard could not be told: ${describe(error)}` };
    }
    redirect(res, '/deals');
  }

  async function addCustomer(req: IncomingMessage, res: ServerResponse, me: { session: Session; user: User; company: Company }): Promise<void> {
    const form = await readForm(req);
    const firstName = field(form, 'firstName', 80);
    const lastName = field(form, 'lastName', 80);
    const email = field(form, 'email', 254);
    const company = form.get('company')?.trim().slice(0, 120) ?? '';
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new HttpError(422, 'email: is not an email address');
    const customer = store.addCustomer({ companyId: me.company.id, firstName, lastName, email, company });
    try {
      const run = await sb.flows.run('new-customer-to-hubspot', {
        endUserId: me.company.endUserId,
        input: { email, firstname: firstName, lastname: lastName, company },
        idempotencyKey: `new-customer:${customer.id}`,
        wait: true,
        timeoutMs: 15_000,
      });
      const contactId = (run.result as { contactId?: string } | null)?.contactId;
      const sync: Customer['sync'] =
        run.status === 'succeeded'
          ? { status: 'synced', detail: contactId ? `contact ${contactId}` : 'sent', runId: run.id }
          : run.status === 'failed'
            ? { status: 'failed', detail: run.error?.message ?? 'the flow failed', runId: run.id }
            : { status: 'pending', detail: 'still running', runId: run.id };
      store.updateCustomer(customer, sync);
      me.session.flash =
        sync.status === 'failed'
          ? { kind: 'error', text: `${firstName} ${lastName} was added, but HubSpot said: ${sync.detail}` }
          : { kind: 'success', text: `${firstName} ${lastName} was added and ${sync.status === 'synced' ? 'sent' : 'is on its way'} to HubSpot.` };
    } catch (error) {
      const notOn = error instanceof SwitchboardError && error.status === 404;
      // The flow is on but its HubSpot connection was disconnected or needs signing in again.
      const paused = error instanceof SwitchboardError && error.code === 'flow_paused';
      store.updateCustomer(customer, { status: 'not_sent', detail: notOn ? 'the HubSpot flow is off' : paused ? 'HubSpot is disconnected' : describe(error) });
      me.session.flash = notOn
        ? { kind: 'info', text: `${firstName} ${lastName} was added. Switch on “New customers to HubSpot” in Integrations to send new customers to HubSpot.` }
        : paused
          ? { kind: 'info', text: `${firstName} ${lastName} was added, but not sent: HubSpot is disconnected. Reconnect HubSpot in Integrations and new customers are sent again.` }
          : { kind: 'error', text: `${firstName} ${lastName} was added, but Switchboard could not be reached: ${describe(error)}` };
    }
    redirect(res, '/customers');
  }

  /**
   * A support ticket: kept here, then Switchboard is told (`ticket.created`), which starts the
   * company's automations on it, the AI triage agent among them. A form that does not validate
   * comes back with what was typed and the field named (422).
   */
  async function fileTicket(req: IncomingMessage, res: ServerResponse, me: { session: Session; user: User; company: Company }): Promise<void> {
    const form = await readForm(req);
    const typed: TicketForm = { email: form.get('email')?.trim() ?? '', subject: form.get('subject')?.trim() ?? '', message: form.get('message')?.trim() ?? '' };
    let ticket: Ticket;
    try {
      const email = field(form, 'email', 254);
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new HttpError(422, 'email: is not an email address');
      ticket = store.addTicket({ companyId: me.company.id, email, subject: field(form, 'subject', 150), message: field(form, 'message', 4000), filedBy: me.user.name });
    } catch (error) {
      if (!(error instanceof HttpError) || error.status !== 422) throw error;
      return html(res, 422, supportPage({ ...me, tickets: store.tickets(me.company.id), form: typed, error: error.message }));
    }
    try {
      const runs = await sb.events.send('ticket.created', {
        endUserId: me.company.endUserId,
        payload: { id: ticket.id, subject: ticket.subject, message: ticket.message, email: ticket.email, filedBy: ticket.filedBy, filedAt: ticket.createdAt },
        idempotencyKey: `ticket-created:${ticket.id}`,
      });
      store.updateTicket(
        ticket,
        runs.length
          ? { status: 'started', detail: `${runs.length} automation${runs.length === 1 ? '' : 's'}`, runIds: runs.map((r) => r.id) }
          : { status: 'none', detail: 'none is on', runIds: [] },
      );
      me.session.flash = runs.length
        ? { kind: 'success', text: `Ticket “${ticket.subject}” was filed. The AI agent is triaging it: approve its Slack post in Integrations.` }
        : {
            kind: 'info',
            text: `Ticket “${ticket.subject}” was filed. No automation started: switch on “Triage new support tickets with AI” in Integrations (or reconnect the account a paused one uses).`,
          };
    } catch (error) {
      store.updateTicket(ticket, { status: 'failed', detail: describe(error), runIds: [] });
      me.session.flash = { kind: 'error', text: `Ticket “${ticket.subject}” was filed, but Switchboard could not be told: ${describe(error)}` };
    }
    redirect(res, '/support');
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://acme.invalid');
    const method = req.method ?? 'GET';
    const path = url.pathname;

    if (method === 'GET' && path === '/assets/app.css') return void res.writeHead(200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=300' }).end(APP_CSS);
    if (method === 'GET' && path === '/assets/logo.svg') return void res.writeHead(200, { 'content-type': 'image/svg+xml', 'cache-control': 'max-age=300' }).end(LOGO_SVG);
    if (method === 'GET' && path === '/healthz') return json(res, 200, { ok: true });
    // Machine to machine: authenticated by its signature, not by a cookie.
    if (method === 'POST' && path === '/webhooks/switchboard') return receiveWebhook(req, res);

    // Every other state change must come from our own pages (the cookie is SameSite=Lax too).
    if (method === 'POST' && !sameOrigin(req)) throw new HttpError(403, 'Cross-site request refused');
    if (path === '/login' && method === 'GET') return currentSession(req) ? redirect(res, '/deals') : html(res, 200, loginPage());
    if (path === '/login' && method === 'POST') return login(req, res);

    const me = currentSession(req);
    if (!me) {
      if (method === 'GET') return redirect(res, '/login');
      throw new HttpError(401, 'Sign in first');
    }
    const flash = () => {
      const f = me.session.flash;
      delete me.session.flash;
      return f;
    };

    if (path === '/logout' && method === 'POST') {
      sessions.delete(sessionKey(readCookie(req, COOKIE)!));
      return redirect(res, '/login', { 'set-cookie': `${COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0` });
    }
    if (path === '/' && method === 'GET') return redirect(res, '/deals');
    if (path === '/deals' && method === 'GET') return html(res, 200, dealsPage({ ...me, deals: store.deals(me.company.id), flash: flash() }));
    if (path === '/deals' && method === 'POST') {
      const form = await readForm(req);
      const amount = Number(form.get('amount'));
      if (!Number.isInteger(amount) || amount < 0 || amount > 100_000_000) throw new HttpError(422, 'amount: must be a whole number of dollars');
      const deal = store.addDeal({ companyId: me.company.id, name: field(form, 'name', 120), account: field(form, 'account', 120), amount, owner: me.user.name });
      me.session.flash = { kind: 'success', text: `${deal.name} was added to Lead.` };
      return redirect(res, '/deals');
    }
    const won = /^\/deals\/([^/]+)\/won$/.exec(path);
    if (won && method === 'POST') {
      const deal = store.deal(me.company.id, decodeURIComponent(won[1]!));
      if (!deal) throw new HttpError(404, 'No such deal');
      return markWon(res, me, deal);
    }
    if (path === '/customers' && method === 'GET') return html(res, 200, customersPage({ ...me, customers: store.customers(me.company.id), flash: flash() }));
    if (path === '/customers' && method === 'POST') return addCustomer(req, res, me);
    if (path === '/support' && method === 'GET') return html(res, 200, supportPage({ ...me, tickets: store.tickets(me.company.id), flash: flash() }));
    if (path === '/support' && method === 'POST') return fileTicket(req, res, me);
    if (path === '/integrations' && method === 'GET') {
      const nonce = randomBytes(16).toString('base64');
      try {
        const session = await sb.sessions.create({ endUserId: me.company.endUserId, displayName: me.company.name, metadata: { plan: me.company.plan } });
        return html(res, 200, integrationsPage({ ...me, nonce, switchboardUrl, token: session.token }), nonce);
      } catch (error) {
        return html(res, 502, integrationsPage({ ...me, nonce, switchboardUrl, token: null, error: `Switchboard could not be reached: ${describe(error)}` }));
      }
    }
    // The widget's onSessionExpired: a fresh end-user session for the signed-in user's company.
    if (path === '/api/switchboard/session' && method === 'POST') {
      const session = await sb.sessions.create({ endUserId: me.company.endUserId, displayName: me.company.name, metadata: { plan: me.company.plan } });
      return json(res, 200, { token: session.token, expiresAt: session.expiresAt });
    }
    if (path === '/events' && method === 'GET') return html(res, 200, eventsPage({ ...me, events: store.events(me.company.id), configured: Boolean(options.webhookSecret) }));
    html(res, 404, notFoundPage(me.user, me.company));
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      if (status === 500) log(`acme-crm: ${(error as Error).stack ?? String(error)}`);
      if (res.headersSent) return void res.end();
      const message = error instanceof HttpError ? error.message : 'Something went wrong';
      if ((req.headers.accept ?? '').includes('text/html'))
        html(
          res,
          status,
          `<!doctype html><title>Error</title><link rel="stylesheet" href="/assets/app.css"><main class="centered"><section class="card" role="alert"><h1>${status}</h1><p>${message.replace(/[<>&]/g, '')}</p><p><a href="/deals">Back to deals</a></p></section></main>`,
        );
      else json(res, status, { error: message });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://localhost:${port}`,
    port,
    store,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A browser's POST from our own pages: its Origin (or Sec-Fetch-Site) says so. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin) {
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }
  const site = req.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin' || site === 'none';
}

function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, `The body is larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) throw new HttpError(415, 'Send a form (application/x-www-form-urlencoded)');
  return new URLSearchParams(await readBody(req, FORM_LIMIT));
}

function field(form: URLSearchParams, name: string, max: number): string {
  const value = form.get(name)?.trim() ?? '';
  if (!value) throw new HttpError(422, `${name}: is required`);
  if (value.length > max) throw new HttpError(422, `${name}: must be at most ${max} characters`);
  return value;
}
