import { randomBytes, randomUUID, scryptSync, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** One of Acme CRM's customers. In Switchboard terms: an end user, under `endUserId`. */
export interface Company {
  id: string;
  name: string;
  endUserId: string;
  plan: string;
}

export interface User {
  id: string;
  companyId: string;
  name: string;
  email: string;
  passwordHash: string;
}

export const STAGES = [
  { id: 'lead', label: 'Lead' },
  { id: 'qualified', label: 'Qualified' },
  { id: 'proposal', label: 'Proposal' },
  { id: 'won', label: 'Won' },
] as const;
export type Stage = (typeof STAGES)[number]['id'];

export interface Deal {
  id: string;
  companyId: string;
  name: string;
  /** The prospect the deal is with. */
  account: string;
  amount: number;
  stage: Stage;
  owner: string;
  createdAt: string;
  wonAt?: string;
}

export interface Customer {
  id: string;
  companyId: string;
  firstName: string;
  lastName: string;
  email: string;
  company: string;
  createdAt: string;
  /** What the "new customer" flow did with it. */
  sync?: { status: 'synced' | 'pending' | 'failed' | 'not_sent'; detail: string; runId?: string };
}

/** A support ticket one of the company's people filed about one of its customers. */
export interface Ticket {
  id: string;
  companyId: string;
  /** The customer the ticket is about. */
  email: string;
  subject: string;
  message: string;
  filedBy: string;
  createdAt: string;
  /** What telling Switchboard did: how many automations started, or why none. */
  sent?: { status: 'started' | 'none' | 'failed'; detail: string; runIds: string[] };
}

/** A Switchboard webhook that passed signature verification. */
export interface ReceivedEvent {
  /** The `webhook-id` header: the same delivery retried keeps it. */
  id: string;
  companyId: string;
  type: string;
  timestamp: string;
  receivedAt: string;
  data: Record<string, unknown>;
}

interface Data {
  companies: Company[];
  users: User[];
  deals: Deal[];
  customers: Customer[];
  /** Absent in data files written before the Support page. */
  tickets?: Ticket[];
  events: ReceivedEvent[];
}

/** The demo logins, printed by `npm run demo` and shown on the sign-in page. */
export const DEMO_LOGINS = [
  { company: 'Globex Corporation', email: 'maria@globex.test', password: 'globex-demo' },
  { company: 'Initech', email: 'peter@initech.test', password: 'initech-demo' },
] as const;

const EVENTS_KEPT_PER_COMPANY = 200;

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('base64')}$${scryptSync(password, salt, 32).toString('base64')}`;
}

export function verifyPassword(password: string, stored: string): boolean {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  return timingSafeEqual(scryptSync(password, Buffer.from(salt, 'base64'), expected.length), expected);
}

function seed(): Data {
  const now = Date.now();
  const at = (daysAgo: number) => new Date(now - daysAgo * 86_400_000).toISOString();
  const companies: Company[] = [
    { id: 'globex', name: 'Globex Corporation', endUserId: 'company_globex', plan: 'Business' },
    { id: 'initech', name: 'Initech', endUserId: 'company_initech', plan: 'Starter' },
  ];
  const users: User[] = [
    { id: 'u_maria', companyId: 'globex', name: 'Maria Johnson', email: DEMO_LOGINS[0].email, passwordHash: hashPassword(DEMO_LOGINS[0].password) },
    { id: 'u_hank', companyId: 'globex', name: 'Hank Scorpio', email: 'hank@globex.test', passwordHash: hashPassword(DEMO_LOGINS[0].password) },
    { id: 'u_peter', companyId: 'initech', name: 'Peter Gibbons', email: DEMO_LOGINS[1].email, passwordHash: hashPassword(DEMO_LOGINS[1].password) },
  ];
  const deal = (companyId: string, name: string, account: string, amount: number, stage: Stage, owner: string, age: number): Deal => ({
    id: `d_${randomUUID().slice(0, 8)}`,
    companyId,
    name,
    account,
    amount,
    stage,
    owner,
    createdAt: at(age),
    ...(stage === 'won' ? { wonAt: at(age - 1) } : {}),
  });
  const deals: Deal[] = [
    deal('globex', 'Umbrella renewal', 'Umbrella Corp', 48_000, 'proposal', 'Maria Johnson', 12),
    deal('globex', 'Stark platform deal', 'Stark Industries', 120_000, 'proposal', 'Hank Scorpio', 20),
    deal('globex', 'Soylent expansion', 'Soylent', 12_500, 'qualified', 'Maria Johnson', 6),
    deal('globex', 'Wayne pilot', 'Wayne Enterprises', 7_800, 'lead', 'Hank Scorpio', 3),
    deal('globex', 'Cyberdyne seats', 'Cyberdyne Systems', 3_200, 'lead', 'Maria Johnson', 1),
    deal('globex', 'Tyrell rollout', 'Tyrell Corp', 23_000, 'won', 'Maria Johnson', 30),
    deal('initech', 'Vandelay imports', 'Vandelay Industries', 18_000, 'qualified', 'Peter Gibbons', 9),
    deal('initech', 'Pied Piper compression', 'Pied Piper', 64_000, 'proposal', 'Peter Gibbons', 15),
    deal('initech', 'Dunder Mifflin paper', 'Dunder Mifflin', 5_400, 'lead', 'Peter Gibbons', 2),
  ];
  return { companies, users, deals, customers: [], events: [] };
}

/**
 * Acme CRM's data: in memory, written to a JSON file after each change when `file` is given
 * (it is a demo; a real app has a database).
 */
export class Store {
  private readonly data: Data;

  constructor(private readonly file?: string) {
    this.data = file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Data) : seed();
    this.save();
  }

  company(id: string): Company | undefined {
    return this.data.companies.find((c) => c.id === id);
  }

  companyByEndUser(endUserId: string): Company | undefined {
    return this.data.companies.find((c) => c.endUserId === endUserId);
  }

  user(id: string): User | undefined {
    return this.data.users.find((u) => u.id === id);
  }

  userByEmail(email: string): User | undefined {
    return this.data.users.find((u) => u.email === email.trim().toLowerCase());
  }

  deals(companyId: string): Deal[] {
    return this.data.deals.filter((d) => d.companyId === companyId);
  }

  deal(companyId: string, id: string): Deal | undefined {
    return this.data.deals.find((d) => d.companyId === companyId && d.id === id);
  }

  addDeal(input: Omit<Deal, 'id' | 'createdAt' | 'stage'>): Deal {
    const deal: Deal = { ...input, id: `d_${randomUUID().slice(0, 8)}`, stage: 'lead', createdAt: new Date().toISOString() };
    this.data.deals.push(deal);
    this.save();
    return deal;
  }

  /** Moves a deal to Won; false when it already was (so a double click sends one event). */
  markWon(deal: Deal): boolean {
    if (deal.stage === 'won') return false;
    deal.stage = 'won';
    deal.wonAt = new Date().toISOString();
    this.save();
    return true;
  }

  customers(companyId: string): Customer[] {
    return this.data.customers.filter((c) => c.companyId === companyId).reverse();
  }

  addCustomer(input: Omit<Customer, 'id' | 'createdAt'>): Customer {
    const customer: Customer = { ...input, id: `c_${randomUUID().slice(0, 8)}`, createdAt: new Date().toISOString() };
    this.data.customers.push(customer);
    this.save();
    return customer;
  }

  updateCustomer(customer: Customer, sync: Customer['sync']): void {
    customer.sync = sync;
    this.save();
  }

  tickets(companyId: string): Ticket[] {
    return (this.data.tickets ?? []).filter((t) => t.companyId === companyId).reverse();
  }

  addTicket(input: Omit<Ticket, 'id' | 'createdAt' | 'sent'>): Ticket {
    const ticket: Ticket = { ...input, id: `t_${randomUUID().slice(0, 8)}`, createdAt: new Date().toISOString() };
    (this.data.tickets ??= []).push(ticket);
    this.save();
    return ticket;
  }

  updateTicket(ticket: Ticket, sent: Ticket['sent']): void {
    ticket.sent = sent;
    this.save();
  }

  events(companyId: string): ReceivedEvent[] {
    return this.data.events.filter((e) => e.companyId === companyId).reverse();
  }

  /** Records a verified webhook once per `webhook-id` (deliveries are at-least-once); false for a repeat. */
  addEvent(event: ReceivedEvent): boolean {
    if (this.data.events.some((e) => e.id === event.id)) return false;
    this.data.events.push(event);
    const mine = this.data.events.filter((e) => e.companyId === event.companyId);
    if (mine.length > EVENTS_KEPT_PER_COMPANY) this.data.events.splice(this.data.events.indexOf(mine[0]!), 1);
    this.save();
    return true;
  }

  private save(): void {
    if (!this.file) return;
    writeFileSync(`${this.file}.tmp`, JSON.stringify(this.data, null, 2), { mode: 0o600 });
    renameSync(`${this.file}.tmp`, this.file);
  }
}
