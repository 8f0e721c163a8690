import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createTenant, Http, startApi, TenantFixture, TestApi, uniqueEmail } from './harness';

interface AuditEvent {
  id: string;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  data: Record<string, any>;
  requestId: string | null;
  ip: string | null;
  createdAt: string;
}

const rid = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;
const q = (params: Record<string, string | number>) => new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
const paths = (res: { body: any }) => (res.body.error.details.errors as Array<{ path: string }>).map((e) => e.path);

describe('audit log', () => {
  let api: TestApi;
  let tenant: TenantFixture;
  let ownerUserId: string;
  /** Everything the scenario did, in order, with what its audit event must say. */
  const expected: Array<Omit<AuditEvent, 'id' | 'createdAt' | 'ip' | 'data'> & { data: Record<string, unknown> }> = [];
  /** Secrets handed out during the scenario: none may reach the audit log. */
  const secrets: string[] = [];
  let invitedMembershipId: string;
  let invitedUserId: string;
  let joinRequestId: string;

  async function events(params: Record<string, string | number> = {}, browser: Http = tenant.owner): Promise<AuditEvent[]> {
    const res = await browser.get(`/v1/admin/audit-events?${q({ limit: 200, ...params })}`);
    if (res.status !== 200) throw new Error(`audit list failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.data;
  }

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api, 'Audit Co');
    ownerUserId = (await tenant.owner.get('/v1/auth/me')).body.userId;
    secrets.push(tenant.owner.cookie!.split('=')[1]);
    const member = (actorId: string) => ({ actorType: 'member', actorId });
    const host = { actorType: 'api_key', actorId: tenant.apiKeyId };

    // API keys
    let r = rid('key-create');
    const key = await tenant.owner.post('/v1/admin/api-keys', { name: 'audited key' }, { 'x-request-id': r });
    secrets.push(key.body.secret);
    const keyId = key.body.apiKey.id;
    expected.push({ action: 'api_key.created', ...member(ownerUserId), targetType: 'api_key', targetId: keyId, requestId: r, data: { name: 'audited key' } });
    r = rid('key-revoke');
    expect((await tenant.owner.delete(`/v1/admin/api-keys/${keyId}`, { 'x-request-id': r })).status).toBe(204);
    expected.push({ action: 'api_key.revoked', ...member(ownerUserId), targetType: 'api_key', targetId: keyId, requestId: r, data: { name: 'audited key' } });

    // Members: invite, join, change role, remove
    const email = uniqueEmail('audited');
    r = rid('invite');
    const invite = await tenant.owner.post('/v1/admin/members', { email, role: 'viewer' }, { 'x-request-id': r });
    secrets.push(invite.body.inviteToken);
    invitedMembershipId = invite.body.member.id;
    invitedUserId = invite.body.member.userId;
    expected.push({ action: 'member.invited', ...member(ownerUserId), targetType: 'membership', targetId: invitedMembershipId, requestId: r, data: { email, role: 'viewer' } });
    joinRequestId = rid('join');
    const joiner = new Http(api.url, { origin: api.origin });
    const accepted = await joiner.post('/v1/auth/accept-invite', { token: invite.body.inviteToken, password: 'joiner-password-1' }, { 'x-request-id': joinRequestId });
    expect(accepted.status).toBe(200);
    secrets.push(joiner.cookie!.split('=')[1]);
    // requestId of member.joined is checked on its own below.
    expected.push({
      action: 'member.joined',
      ...member(invitedUserId),
      targetType: 'membership',
      targetId: invitedMembershipId,
      requestId: null,
      data: { email, role: 'viewer', via: 'new_account' },
    });
    r = rid('role');
    expect((await tenant.owner.patch(`/v1/admin/members/${invitedMembershipId}`, { role: 'developer' }, { 'x-request-id': r })).status).toBe(200);
    expected.push({
      action: 'member.role_changed',
      ...member(ownerUserId),
      targetType: 'membership',
      targetId: invitedMembershipId,
      requestId: r,
      data: { email, from: 'viewer', to: 'developer' },
    });
    r = rid('remove');
    expect((await tenant.owner.delete(`/v1/admin/members/${invitedMembershipId}`, { 'x-request-id': r })).status).toBe(204);
    expected.push({ action: 'member.removed', ...member(ownerUserId), targetType: 'membership', targetId: invitedMembershipId, requestId: r, data: { email, role: 'developer' } });

    // Tenant settings
    r = rid('tenant');
    expect((await tenant.owner.patch('/v1/admin/tenant', { name: 'Audit Inc.' }, { 'x-request-id': r })).status).toBe(200);
    expected.push({
      action: 'tenant.updated',
      ...member(ownerUserId),
      targetType: 'tenant',
      targetId: tenant.tenantId,
      requestId: r,
      data: { name: { from: 'Audit Co', to: 'Audit Inc.' } },
    });

    // End users, by the host backend
    r = rid('eu-create');
    const created = await tenant.host.put('/v1/end-users/cust-1', { displayName: 'Cust One' }, { 'x-request-id': r });
    expect(created.status).toBe(201);
    const endUserId = created.body.id;
    expected.push({ action: 'end_user.created', ...host, targetType: 'end_user', targetId: endUserId, requestId: r, data: { externalId: 'cust-1', fields: ['displayName'] } });
    r = rid('eu-update');
    expect((await tenant.host.put('/v1/end-users/cust-1', { email: 'one@customer.test' }, { 'x-request-id': r })).status).toBe(200);
    expected.push({ action: 'end_user.updated', ...host, targetType: 'end_user', targetId: endUserId, requestId: r, data: { externalId: 'cust-1', fields: ['email'] } });
    r = rid('eu-delete');
    expect((await tenant.host.delete('/v1/end-users/cust-1', { 'x-request-id': r })).status).toBe(204);
    expected.push({ action: 'end_user.deleted', ...host, targetType: 'end_user', targetId: endUserId, requestId: r, data: { externalId: 'cust-1' } });
  });
  afterAll(() => api.close());

  it('records every state change with its actor, target, data and the request id that caused it, newest first', async () => {
    const all = await events();
    // Everything from the scenario's first event on, and nothing else.
    const first = all.findIndex((e) => e.action === expected[0].action && e.targetId === expected[0].targetId);
    expect(first).toBeGreaterThanOrEqual(0);
    const scenario = all.slice(0, first + 1);
    const pick = ({ action, actorType, actorId, targetType, targetId, requestId, data }: AuditEvent) => ({
      action,
      actorType,
      actorId,
      targetType,
      targetId,
      requestId: action === 'member.joined' ? null : requestId,
      data,
    });
    expect(scenario.map(pick)).toEqual([...expected].reverse());
    for (const e of scenario) {
      expect(e.id).toMatch(/^\d+$/);
      expect(Date.now() - Date.parse(e.createdAt)).toBeLessThan(60_000);
      if (e.action !== 'member.joined') expect(e.ip).toBeTruthy();
    }
  });

  it('gives member.joined the request id of the accept-invite request', async () => {
    const [joined] = await events({ action: 'member.joined', targetId: invitedMembershipId });
    expect(joined).toMatchObject({ actorType: 'member', actorId: invitedUserId, requestId: joinRequestId, ip: expect.any(String) });
  });

  it('orders events newest first by id and returns only this tenant’s events', async () => {
    const all = await events();
    const ids = all.map((e) => BigInt(e.id));
    for (let i = 1; i < ids.length; i++) expect(ids[i] < ids[i - 1]).toBe(true);
    const other = await createTenant(api, 'Other Audit Co');
    const theirs = await events({}, other.owner);
    expect(theirs.length).toBeGreaterThan(0);
    expect(theirs.some((e) => all.some((mine) => mine.id === e.id))).toBe(false);
    expect(await events({ targetId: tenant.tenantId }, other.owner)).toEqual([]);
  });

  it('walks every page with a cursor: no duplicates, no gaps, the last page has no cursor', async () => {
    const all = await events();
    expect(all.length).toBeGreaterThan(7);
    const walked: AuditEvent[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: { data: AuditEvent[]; nextCursor: string | null } } = await tenant.owner.get(
        `/v1/admin/audit-events?${q(cursor ? { limit: 3, cursor } : { limit: 3 })}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(3);
      if (res.body.nextCursor !== null) {
        expect(res.body.data).toHaveLength(3);
        expect(res.body.nextCursor).toBe(res.body.data[2].id);
      }
      walked.push(...res.body.data);
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    expect(cursor).toBeNull();
    expect(pages).toBe(Math.ceil(all.length / 3));
    expect(walked.map((e) => e.id)).toEqual(all.map((e) => e.id));
    expect(new Set(walked.map((e) => e.id)).size).toBe(walked.length);
  });

  it('pages filtered results too', async () => {
    const first = await tenant.owner.get(`/v1/admin/audit-events?${q({ action: 'member.', limit: 2 })}`);
    expect(first.body.data).toHaveLength(2);
    const second = await tenant.owner.get(`/v1/admin/audit-events?${q({ action: 'member.', limit: 2, cursor: first.body.nextCursor })}`);
    const all = await events({ action: 'member.' });
    expect([...first.body.data, ...second.body.data].map((e: AuditEvent) => e.id)).toEqual(all.slice(0, 4).map((e) => e.id));
  });

  it('filters by exact action and by a prefix ending in a dot', async () => {
    const exact = await events({ action: 'member.role_changed' });
    expect(exact.map((e) => e.targetId)).toEqual([invitedMembershipId]);

    const prefix = await events({ action: 'member.' });
    expect(prefix.every((e) => e.action.startsWith('member.'))).toBe(true);
    expect(prefix.filter((e) => e.targetId === invitedMembershipId).map((e) => e.action)).toEqual(['member.removed', 'member.role_changed', 'member.joined', 'member.invited']);
    // The owner's own join at signup is a member event too.
    expect(prefix.some((e) => e.action === 'member.joined' && e.actorId === ownerUserId)).toBe(true);

    // Without the dot it is an exact name, which no event has.
    expect(await events({ action: 'member' })).toEqual([]);
    expect(await events({ action: 'end_user.' })).toHaveLength(3);
    expect((await events({ action: 'api_key.' })).map((e) => e.action)).toEqual(expect.arrayContaining(['api_key.revoked', 'api_key.created']));
  });

  it('filters by actor type, actor id and target id', async () => {
    const byKey = await events({ actorType: 'api_key' });
    expect(byKey.map((e) => e.action)).toEqual(['end_user.deleted', 'end_user.updated', 'end_user.created']);
    expect(byKey.every((e) => e.actorId === tenant.apiKeyId)).toBe(true);

    const byMember = await events({ actorType: 'member' });
    expect(byMember.length).toBeGreaterThan(0);
    expect(byMember.every((e) => e.actorType === 'member')).toBe(true);

    const byJoiner = await events({ actorId: invitedUserId });
    expect(byJoiner.map((e) => e.action)).toEqual(['member.joined']);

    const byTarget = await events({ targetId: invitedMembershipId });
    expect(byTarget.map((e) => e.action)).toEqual(['member.removed', 'member.role_changed', 'member.joined', 'member.invited']);
    expect(await events({ targetId: 'nothing-has-this-id' })).toEqual([]);
  });

  it('filters by time: since is inclusive, until is exclusive', async () => {
    const stamp = async (name: string) => {
      const res = await tenant.owner.post('/v1/admin/api-keys', { name });
      const [event] = await events({ targetId: res.body.apiKey.id });
      await sleep(25);
      return event;
    };
    const a = await stamp('time a');
    const b = await stamp('time b');
    const c = await stamp('time c');
    const names = (list: AuditEvent[]) => list.filter((e) => e.action === 'api_key.created').map((e) => e.data.name);

    expect(names(await events({ since: b.createdAt }))).toEqual(['time c', 'time b']);
    expect(names(await events({ since: b.createdAt, until: c.createdAt }))).toEqual(['time b']);
    expect(names(await events({ until: b.createdAt, since: a.createdAt }))).toEqual(['time a']);
    expect(await events({ since: new Date(Date.now() + 3_600_000).toISOString() })).toEqual([]);
  });

  it('refuses bad cursors, limits and filters with 400 naming the parameter', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ cursor: 'abc' }, 'cursor'],
      [{ cursor: '-1' }, 'cursor'],
      [{ cursor: '12345678901234567890' }, 'cursor'],
      [{ limit: '0' }, 'limit'],
      [{ limit: '201' }, 'limit'],
      [{ limit: 'ten' }, 'limit'],
      [{ limit: '2.5' }, 'limit'],
      [{ actorType: 'robot' }, 'actorType'],
      [{ since: 'yesterday' }, 'since'],
      [{ until: 'not-a-date' }, 'until'],
      [{ colour: 'red' }, 'colour'],
    ];
    for (const [params, path] of cases) {
      const res = await tenant.owner.get(`/v1/admin/audit-events?${q(params)}`);
      const code = path === 'cursor' ? 'invalid_cursor' : 'validation_failed';
      expect({ params, status: res.status, code: res.body?.error?.code }).toEqual({ params, status: 400, code });
      expect(paths(res)).toContain(path);
    }
  });

  it('refuses a numeric cursor beyond the id range with 400, not a server error', async () => {
    // 19 digits passes the cursor pattern but exceeds PostgreSQL's bigint.
    const res = await tenant.owner.get(`/v1/admin/audit-events?cursor=9999999999999999999`);
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'invalid_cursor', details: { errors: [{ path: 'cursor' }] } } } });
  });

  it('never holds a secret: no API key, invitation token or session token in any event', async () => {
    const all = await events();
    const text = JSON.stringify(all);
    expect(text).not.toMatch(/sk_|inv_|msess_/);
    for (const secret of secrets) expect(text).not.toContain(secret);
    const rows = await api.app.get(DataSource).query(`SELECT * FROM audit_events WHERE tenant_id = $1`, [tenant.tenantId]);
    expect(rows.length).toBe(all.length);
    const raw = JSON.stringify(rows);
    expect(raw).not.toMatch(/sk_|inv_|msess_/);
    for (const secret of secrets) expect(raw).not.toContain(secret);
  });

  it('is readable by developers and up, not by viewers', async () => {
    const [developer, viewer] = await Promise.all([addMember(api, tenant, 'developer'), addMember(api, tenant, 'viewer')]);
    expect((await developer.browser.get('/v1/admin/audit-events?limit=1')).status).toBe(200);
    expect(await viewer.browser.get('/v1/admin/audit-events')).toMatchObject({ status: 403, body: { error: { code: 'insufficient_role' } } });
    expect((await tenant.host.get('/v1/admin/audit-events')).status).toBe(401);
  });

  it('names actors and targets: members by email, API keys by name (revoked ones too), end users by external id', async () => {
    const session = await tenant.host.post('/v1/sessions', { endUserId: 'cust-2' });
    expect(session.status).toBe(201);
    const all = (await events()) as Array<AuditEvent & { actorName: string | null; targetName: string | null }>;
    const find = (action: string) => all.find((e) => e.action === action)!;
    expect(find('end_user_session.created')).toMatchObject({ actorType: 'api_key', actorName: 'test key', targetType: 'end_user', targetName: 'cust-2' });
    // The key was revoked since: still named.
    expect(find('api_key.revoked')).toMatchObject({ actorName: tenant.email, targetName: 'audited key' });
    // A member removed since: still named by email.
    const joined = find('member.joined');
    expect(joined.actorName).toBe(joined.data.email);
    // A deleted end user is no longer found: no name, the event's data still says who.
    expect(find('end_user.deleted')).toMatchObject({ actorName: 'test key', targetName: null, data: { externalId: 'cust-1' } });
    expect(find('tenant.updated')).toMatchObject({ targetName: null });
  });
});
