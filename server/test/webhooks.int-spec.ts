import { consentInSandbox, Sandbox, startSandbox } from '@switchboard/connectors/dist/sandbox';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustedTenantId } from '../src/common/tenancy/tenant-id';
import type { WebhookEventType } from '../src/webhooks/event-types';
import { WebhookDeliveryProcessor } from '../src/webhooks/webhook-delivery.processor';
import { deliverJobId, WebhookEventsService } from '../src/webhooks/webhook-events.service';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { rotateVault } from '../src/vault/rotate';
import { keyIdOf, Vault } from '../src/vault/vault';
import { addMember, connectionChanged, createTenant, freePort, freshDatabase, Http, LogLine, startApi, TenantFixture, TestApi } from './harness';

const HOST_ORIGIN = 'https://host.example';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}
type Answer = { status: number; headers?: Record<string, string>; body?: string };

/** A real HTTP receiver on 127.0.0.1: records every request; each path answers what `answers[path]` says (200 by default). */
async function startReceiver() {
  const received: Received[] = [];
  const answers: Record<string, (hit: number) => Answer> = {};
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = answers[path]?.(received.filter((r) => r.path === path).length) ?? { status: 200 };
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body ?? 'thanks');
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    received,
    answers,
    at: (path: string) => received.filter((r) => r.path === path),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Polls until `check` returns something truthy; the test's own timeout bounds it. */
async function eventually<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The worker, with its logs kept (to prove no secret is ever logged). */
async function startWorkerWithLogs(config: TestApi['config']) {
  const { NestFactory } = await import('@nestjs/core');
  const { WorkerModule } = await import('../src/worker.module');
  const logs: LogLine[] = [];
  const app = await NestFactory.createApplicationContext(
    WorkerModule.forRoot(config, { logDestination: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) } }),
    { logger: false },
  );
  await app.init();
  return { app, logs, close: () => app.close() };
}

describe('outbound webhooks', () => {
  let sandbox: Sandbox;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let unlisted: Awaited<ReturnType<typeof startReceiver>>;
  let api: TestApi;
  let worker: Awaited<ReturnType<typeof startWorkerWithLogs>>;
  let tenant: TenantFixture;
  let other: TenantFixture;
  const secrets: string[] = [];

  async function createEndpoint(t: TenantFixture, body: Record<string, unknown>) {
    const res = await t.owner.post('/v1/admin/webhook-endpoints', body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    secrets.push(res.body.secret);
    return res.body as { id: string; secret: string; url: string };
  }

  async function connectSlack(t: TenantFixture, endUserId: string): Promise<string> {
    const session = (await t.host.post('/v1/sessions', { endUserId })).body.token;
    const start = await fetch(`${api.url}/connect/slack?${new URLSearchParams({ session, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
    const page = await fetch(await consentInSandbox(start.headers.get('location')!));
    const id = /"connectionId":"([^"]+)"/.exec(await page.text())?.[1];
    if (!id) throw new Error('connect failed');
    return id;
  }

  const publish = (t: TenantFixture, type: WebhookEventType, data: Record<string, unknown>) =>
    api.app.get(WebhookEventsService, { strict: false }).publish(trustedTenantId(t.tenantId), type, { endUserId: 'cust-x', ...data });

  const deliveries = async (t: TenantFixture, endpointId: string) =>
    (await t.owner.get(`/v1/admin/webhook-endpoints/${endpointId}/deliveries`)).body.data as Array<Record<string, any>>;

  beforeAll(async () => {
    sandbox = await startSandbox();
    receiver = await startReceiver();
    unlisted = await startReceiver();
    api = await startApi({
      SANDBOX_URL: sandbox.url,
      OUTBOUND_ALLOWLIST: `127.0.0.1:${sandbox.port},127.0.0.1:${receiver.port}`,
      WEBHOOK_RETRY_SCHEDULE_MS: '100,200',
      WEBHOOK_DISABLE_AFTER_FAILURES: '2',
    });
    worker = await startWorkerWithLogs(api.config);
    tenant = await createTenant(api, 'Hooks Co');
    other = await createTenant(api, 'Other Hooks Co');
    await tenant.owner.patch('/v1/admin/tenant', { allowedOrigins: [HOST_ORIGIN] });
    await tenant.owner.put('/v1/admin/connectors/slack', { enabled: true, settings: { useSandbox: true } });
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await Promise.all([sandbox?.close(), receiver?.close(), unlisted?.close()]);
  });

  describe('endpoints (admin API)', () => {
    it('creates an endpoint and shows its secret only on create and rotate', async () => {
      const created = await createEndpoint(tenant, { url: receiver.url('/admin'), description: 'CRM backend', eventTypes: ['connection.created', 'run.failed'] });
      expect(created).toMatchObject({
        url: receiver.url('/admin'),
        description: 'CRM backend',
        eventTypes: ['connection.created', 'run.failed'],
        enabled: true,
        disabledReason: null,
      });
      expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      const listed = await tenant.owner.get('/v1/admin/webhook-endpoints');
      expect(listed.body).toMatchObject({ data: [{ id: created.id }], nextCursor: null });
      const got = await tenant.owner.get(`/v1/admin/webhook-endpoints/${created.id}`);
      expect(got.body).not.toHaveProperty('secret');
      expect(JSON.stringify([listed.body, got.body])).not.toContain(created.secret.slice(6));

      const rotated = await tenant.owner.post(`/v1/admin/webhook-endpoints/${created.id}/rotate-secret`);
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(created.secret);
      secrets.push(rotated.body.secret);

      // Encrypted at rest, bound to its row.
      const [row] = await api.app.get(DataSource).query(`SELECT secret FROM webhook_endpoints WHERE id = $1`, [created.id]);
      expect(row.secret).toMatch(/^v1\./);
      expect(row.secret).not.toContain(rotated.body.secret.slice(6));

      const patched = await tenant.owner.patch(`/v1/admin/webhook-endpoints/${created.id}`, { description: null, eventTypes: ['run.failed'], enabled: false });
      expect(patched.body).toMatchObject({ description: null, eventTypes: ['run.failed'], enabled: false, disabledReason: 'Disabled by a team member' });
      expect((await tenant.owner.patch(`/v1/admin/webhook-endpoints/${created.id}`, { enabled: true })).body).toMatchObject({ enabled: true, disabledReason: null });
      const actions = (await tenant.owner.get(`/v1/admin/audit-events?action=webhook_endpoint.&targetId=${created.id}`)).body.data.map((e: { action: string }) => e.action);
      expect(actions).toEqual(['webhook_endpoint.updated', 'webhook_endpoint.updated', 'webhook_endpoint.secret_rotated', 'webhook_endpoint.created']);
      expect(JSON.stringify((await tenant.owner.get('/v1/admin/audit-events')).body)).not.toContain(rotated.body.secret.slice(6));

      expect((await tenant.owner.delete(`/v1/admin/webhook-endpoints/${created.id}`)).status).toBe(204);
      expect((await tenant.owner.get(`/v1/admin/webhook-endpoints/${created.id}`)).status).toBe(404);
    });

    it('is described in the OpenAPI document, the secret only in the create and rotate answers', async () => {
      const doc = await (await fetch(`${api.url}/openapi.json`)).json();
      const schemaOf = (path: string, method: string, status: string) => doc.paths[path][method].responses[status].content['application/json'].schema.$ref.split('/').pop();
      const withSecret = schemaOf('/v1/admin/webhook-endpoints', 'post', '201');
      expect(schemaOf('/v1/admin/webhook-endpoints/{id}/rotate-secret', 'post', '200')).toBe(withSecret);
      expect(Object.keys(doc.components.schemas[withSecret].properties)).toEqual(expect.arrayContaining(['id', 'url', 'eventTypes', 'enabled', 'disabledReason', 'secret']));
      const plain = schemaOf('/v1/admin/webhook-endpoints/{id}', 'get', '200');
      expect(doc.components.schemas[plain].properties).not.toHaveProperty('secret');
      const delivery = doc.components.schemas[schemaOf('/v1/admin/webhook-deliveries/{id}/resend', 'post', '202')];
      expect(Object.keys(delivery.properties).sort()).toEqual([
        'attempts',
        'createdAt',
        'error',
        'eventId',
        'eventType',
        'id',
        'lastAttemptAt',
        'latencyMs',
        'nextAttemptAt',
        'responseStatus',
        'status',
      ]);
    });

    it('refuses bad input with the path of the problem', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ url: 'ftp://example.com/x', eventTypes: ['run.failed'] }, 'url'],
        [{ url: 'not a url', eventTypes: ['run.failed'] }, 'url'],
        [{ url: 'https://user:pw@example.com/x', eventTypes: ['run.failed'] }, 'url'],
        [{ url: 'http://169.254.169.254/latest/meta-data', eventTypes: ['run.failed'] }, 'url'],
        [{ url: 'http://10.0.0.7/hook', eventTypes: ['run.failed'] }, 'url'],
        [{ url: 'https://example.com/x', eventTypes: ['run.exploded'] }, 'eventTypes'],
        [{ url: 'https://example.com/x', eventTypes: [] }, 'eventTypes'],
        [{ url: 'https://example.com/x', eventTypes: ['run.failed', 'run.failed'] }, 'eventTypes'],
        [{ url: 'https://example.com/x', eventTypes: ['run.failed'], secret: 'whsec_mine' }, 'secret'],
      ];
      for (const [body, path] of cases) {
        const res = await tenant.owner.post('/v1/admin/webhook-endpoints', body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
        expect(
          res.body.error.details.errors.map((e: { path: string }) => e.path),
          JSON.stringify(body),
        ).toContain(path);
      }
    });

    it('needs the admin role, and answers 404 for another tenant’s endpoints and deliveries', async () => {
      const developer = await addMember(api, tenant, 'developer');
      expect((await developer.browser.get('/v1/admin/webhook-endpoints')).status).toBe(403);
      expect((await tenant.host.get('/v1/admin/webhook-endpoints')).status).toBe(401);

      const theirs = await createEndpoint(other, { url: receiver.url('/other'), eventTypes: ['flow.enabled'] });
      const probes = [
        tenant.owner.get(`/v1/admin/webhook-endpoints/${theirs.id}`),
        tenant.owner.patch(`/v1/admin/webhook-endpoints/${theirs.id}`, { enabled: false }),
        tenant.owner.delete(`/v1/admin/webhook-endpoints/${theirs.id}`),
        tenant.owner.post(`/v1/admin/webhook-endpoints/${theirs.id}/rotate-secret`),
        tenant.owner.post(`/v1/admin/webhook-endpoints/${theirs.id}/test`),
        tenant.owner.get(`/v1/admin/webhook-endpoints/${theirs.id}/deliveries`),
      ];
      for (const res of await Promise.all(probes)) expect(res.status).toBe(404);

      await publish(other, 'flow.enabled', { instance: { id: 'i-1' } });
      const [delivery] = await eventually(async () => {
        const done = (await deliveries(other, theirs.id)).filter((d) => d.status === 'succeeded');
        return done.length > 0 && done;
      }, 'other tenant delivery');
      expect((await tenant.owner.post(`/v1/admin/webhook-deliveries/${delivery.id}/resend`)).status).toBe(404);
      expect((await tenant.owner.get(`/v1/admin/webhook-deliveries/${delivery.id}`)).status).toBe(404);
      expect((await other.owner.get(`/v1/admin/webhook-endpoints/${theirs.id}`)).body.enabled).toBe(true);
    });
  });

  describe('delivery', () => {
    it('sends connection events to subscribed endpoints, signed per Standard Webhooks', async () => {
      const all = await createEndpoint(tenant, { url: receiver.url('/conn-all'), eventTypes: ['connection.created', 'connection.needs_reauth', 'connection.deleted'] });
      const deletedOnly = await createEndpoint(tenant, { url: receiver.url('/conn-deleted'), eventTypes: ['connection.deleted'] });
      const off = await createEndpoint(tenant, { url: receiver.url('/conn-off'), eventTypes: ['connection.created'] });
      await tenant.owner.patch(`/v1/admin/webhook-endpoints/${off.id}`, { enabled: false });

      const connectionId = await connectSlack(tenant, 'cust-1');
      const [created] = await eventually(() => receiver.at('/conn-all').length >= 1 && receiver.at('/conn-all'), 'connection.created');
      const verified = new Webhook(all.secret.slice('whsec_'.length)).verify(created.body, created.headers as Record<string, string>) as Record<string, any>;
      expect(verified).toMatchObject({
        type: 'connection.created',
        data: { endUserId: 'cust-1', connection: { id: connectionId, connector: 'slack', status: 'active', endUserId: 'cust-1' } },
      });
      expect(Date.parse(verified.timestamp)).not.toBeNaN();
      expect(created.headers['content-type']).toBe('application/json');
      expect(created.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      // A wrong secret or a changed body does not verify.
      expect(() => new Webhook(deletedOnly.secret.slice(6)).verify(created.body, created.headers as Record<string, string>)).toThrow();
      expect(() => new Webhook(all.secret.slice(6)).verify(created.body.replace('cust-1', 'cust-2'), created.headers as Record<string, string>)).toThrow();

      // needs_reauth: the provider refuses the refresh token.
      sandbox.oauth.revokeAll('slack');
      await api.app.get(DataSource).query(`UPDATE connections SET expires_at = now() - interval '1 minute' WHERE id = $1`, [connectionId]);
      await connectionChanged(api, connectionId);
      expect((await tenant.host.get(`/v1/proxy/${connectionId}/auth.test`)).status).toBe(409);
      const reauth = await eventually(() => receiver.at('/conn-all').find((r) => JSON.parse(r.body).type === 'connection.needs_reauth'), 'connection.needs_reauth');
      expect(new Webhook(all.secret.slice(6)).verify(reauth.body, reauth.headers as Record<string, string>)).toMatchObject({
        data: { endUserId: 'cust-1', connection: { id: connectionId, status: 'needs_reauth' } },
      });

      expect((await tenant.host.delete(`/v1/connections/${connectionId}`)).status).toBe(204);
      const [deleted] = await eventually(() => receiver.at('/conn-deleted').length >= 1 && receiver.at('/conn-deleted'), 'connection.deleted');
      expect(new Webhook(deletedOnly.secret.slice(6)).verify(deleted.body, deleted.headers as Record<string, string>)).toMatchObject({
        type: 'connection.deleted',
        data: { endUserId: 'cust-1', connection: { id: connectionId } },
      });
      await eventually(() => receiver.at('/conn-all').some((r) => JSON.parse(r.body).type === 'connection.deleted'), 'connection.deleted to the first endpoint');

      expect(receiver.at('/conn-deleted')).toHaveLength(1);
      expect(receiver.at('/conn-off')).toHaveLength(0);
      expect(receiver.at('/conn-all').map((r) => JSON.parse(r.body).type)).toEqual(['connection.created', 'connection.needs_reauth', 'connection.deleted']);
      const log = await deliveries(tenant, all.id);
      expect(log.map((d) => [d.eventType, d.status, d.attempts, d.responseStatus])).toEqual([
        ['connection.deleted', 'succeeded', 1, 200],
        ['connection.needs_reauth', 'succeeded', 1, 200],
        ['connection.created', 'succeeded', 1, 200],
      ]);
      expect(log[0].latencyMs).toEqual(expect.any(Number));
      expect(log[2].eventId).toBe(created.headers['webhook-id']);
    });

    it('retries failures with backoff, with the same webhook-id, and logs every attempt', async () => {
      receiver.answers['/flaky'] = (hit) => (hit < 3 ? { status: 500, body: 'x'.repeat(5000) } : { status: 204 });
      const endpoint = await createEndpoint(tenant, { url: receiver.url('/flaky'), eventTypes: ['run.failed'] });
      await publish(tenant, 'run.failed', { run: { id: 'run-1', status: 'failed' } });
      const [delivery] = await eventually(async () => {
        const list = await deliveries(tenant, endpoint.id);
        return list[0]?.status === 'succeeded' && list;
      }, 'the third attempt to succeed');
      expect(delivery).toMatchObject({ attempts: 3, responseStatus: 204, error: null, nextAttemptAt: null });
      const hits = receiver.at('/flaky');
      expect(hits).toHaveLength(3);
      expect(new Set(hits.map((h) => h.headers['webhook-id']))).toEqual(new Set([delivery.eventId]));
      for (const hit of hits) expect(() => new Webhook(endpoint.secret.slice(6)).verify(hit.body, hit.headers as Record<string, string>)).not.toThrow();

      const detail = (await tenant.owner.get(`/v1/admin/webhook-deliveries/${delivery.id}`)).body;
      expect(detail.attemptLog.map((a: { responseStatus: number }) => a.responseStatus)).toEqual([500, 500, 204]);
      expect(detail.attemptLog[0].error).toBe('HTTP 500');
      expect(detail.attemptLog[0].responseBody).toHaveLength(1024);
      expect(JSON.parse(detail.payload)).toMatchObject({ type: 'run.failed', data: { run: { id: 'run-1' } } });
      // The schedule (100 ms, then 200 ms, ±10 %) spaces the attempts at least that far apart.
      const at = detail.attemptLog.map((a: { at: string }) => Date.parse(a.at));
      expect(at[1] - at[0]).toBeGreaterThanOrEqual(90);
      expect(at[2] - at[1]).toBeGreaterThanOrEqual(180);
    });

    it('waits at least as long as a 429 Retry-After asks', async () => {
      receiver.answers['/busy'] = (hit) => (hit === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 });
      const endpoint = await createEndpoint(tenant, { url: receiver.url('/busy'), eventTypes: ['run.failed'] });
      await publish(tenant, 'run.failed', { run: { id: 'run-2' } });
      const pending = await eventually(async () => (await deliveries(tenant, endpoint.id)).find((d) => d.attempts === 1 && d.status === 'pending'), 'the 429');
      expect(Date.parse(pending.nextAttemptAt) - Date.parse(pending.lastAttemptAt)).toBeGreaterThanOrEqual(2000);
      const done = await eventually(async () => (await deliveries(tenant, endpoint.id)).find((d) => d.status === 'succeeded'), 'the retry after 429');
      const detail = (await tenant.owner.get(`/v1/admin/webhook-deliveries/${done.id}`)).body;
      expect(detail.attemptLog.map((a: { responseStatus: number }) => a.responseStatus)).toEqual([429, 200]);
      expect(Date.parse(detail.attemptLog[1].at) - Date.parse(detail.attemptLog[0].at)).toBeGreaterThanOrEqual(2000);
    });

    it('disables an endpoint after sustained failure, with an audit event, and resends by hand', async () => {
      let down = true;
      receiver.answers['/down'] = () => (down ? { status: 503 } : { status: 200 });
      const endpoint = await createEndpoint(tenant, { url: receiver.url('/down'), eventTypes: ['flow.enabled'] });
      await publish(tenant, 'flow.enabled', { instance: { id: 'i-1' } });
      await eventually(async () => (await deliveries(tenant, endpoint.id)).some((d) => d.status === 'failed'), 'the first delivery to exhaust its retries');
      expect((await tenant.owner.get(`/v1/admin/webhook-endpoints/${endpoint.id}`)).body.enabled).toBe(true);
      await publish(tenant, 'flow.enabled', { instance: { id: 'i-2' } });
      const disabled = await eventually(async () => {
        const view = (await tenant.owner.get(`/v1/admin/webhook-endpoints/${endpoint.id}`)).body;
        return !view.enabled && view;
      }, 'the endpoint to be disabled');
      expect(disabled.disabledReason).toMatch(/2 deliveries in a row failed/);
      const audit = (await tenant.owner.get(`/v1/admin/audit-events?action=webhook_endpoint.disabled&targetId=${endpoint.id}`)).body.data;
      expect(audit).toMatchObject([{ actorType: 'system', data: { reason: disabled.disabledReason } }]);
      const failed = await deliveries(tenant, endpoint.id);
      expect(failed.map((d) => [d.status, d.attempts, d.responseStatus])).toEqual([
        ['failed', 3, 503],
        ['failed', 3, 503],
      ]);
      expect(receiver.at('/down')).toHaveLength(6);

      // A disabled endpoint gets nothing new…
      await publish(tenant, 'flow.enabled', { instance: { id: 'i-3' } });
      expect(await deliveries(tenant, endpoint.id)).toHaveLength(2);

      // …but a person can resend: one more attempt, same webhook-id.
      down = false;
      const resent = await tenant.owner.post(`/v1/admin/webhook-deliveries/${failed[0].id}/resend`);
      expect(resent.status).toBe(202);
      expect(resent.body).toMatchObject({ id: failed[0].id, status: 'pending' });
      const done = await eventually(async () => (await deliveries(tenant, endpoint.id)).find((d) => d.id === failed[0].id && d.status === 'succeeded'), 'the resend');
      expect(done).toMatchObject({ attempts: 4, responseStatus: 200 });
      expect(receiver.at('/down').at(-1)!.headers['webhook-id']).toBe(failed[0].eventId);
      expect((await tenant.owner.get(`/v1/admin/audit-events?action=webhook_delivery.resent&targetId=${failed[0].id}`)).body.data).toHaveLength(1);

      // Enabling it again starts afresh.
      expect((await tenant.owner.patch(`/v1/admin/webhook-endpoints/${endpoint.id}`, { enabled: true })).body).toMatchObject({ enabled: true, disabledReason: null });
      await publish(tenant, 'flow.enabled', { instance: { id: 'i-4' } });
      await eventually(async () => (await deliveries(tenant, endpoint.id)).filter((d) => d.status === 'succeeded').length === 2, 'delivery after re-enabling');
    });

    it('sends a signed ping on request', async () => {
      const endpoint = await createEndpoint(tenant, { url: receiver.url('/ping'), eventTypes: ['run.succeeded'] });
      const res = await tenant.owner.post(`/v1/admin/webhook-endpoints/${endpoint.id}/test`);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ eventType: 'ping', status: 'pending', attempts: 0 });
      const [hit] = await eventually(() => receiver.at('/ping').length > 0 && receiver.at('/ping'), 'the ping');
      expect(new Webhook(endpoint.secret.slice(6)).verify(hit.body, hit.headers as Record<string, string>)).toMatchObject({ type: 'ping', data: { endpointId: endpoint.id } });
      await eventually(async () => (await deliveries(tenant, endpoint.id))[0]?.status === 'succeeded', 'the ping to be logged');
    });

    it('signs with the new secret after a rotation', async () => {
      const endpoint = await createEndpoint(tenant, { url: receiver.url('/rotated'), eventTypes: ['run.succeeded'] });
      const { secret } = (await tenant.owner.post(`/v1/admin/webhook-endpoints/${endpoint.id}/rotate-secret`)).body;
      secrets.push(secret);
      await tenant.owner.post(`/v1/admin/webhook-endpoints/${endpoint.id}/test`);
      const [hit] = await eventually(() => receiver.at('/rotated').length > 0 && receiver.at('/rotated'), 'the ping');
      expect(() => new Webhook(endpoint.secret.slice(6)).verify(hit.body, hit.headers as Record<string, string>)).toThrow();
      expect(() => new Webhook(secret.slice(6)).verify(hit.body, hit.headers as Record<string, string>)).not.toThrow();
    });

    it('refuses private destinations that are not allowlisted, checked on the address connected to', async () => {
      // "localhost" passes the URL check (it is a name) but resolves to loopback, which is not allowed on this port.
      const endpoint = await createEndpoint(tenant, { url: `http://localhost:${unlisted.port}/hook`, eventTypes: ['run.failed'] });
      await publish(tenant, 'run.failed', { run: { id: 'run-3' } });
      const [delivery] = await eventually(async () => {
        const list = await deliveries(tenant, endpoint.id);
        return list[0]?.status === 'failed' && list;
      }, 'the refused delivery');
      expect(delivery).toMatchObject({ attempts: 3, responseStatus: null, error: expect.stringContaining('Refusing to connect') });
      expect(unlisted.received).toHaveLength(0);
    });

    it('writes nothing when the publishing transaction rolls back', async () => {
      const endpoint = await createEndpoint(tenant, { url: receiver.url('/outbox'), eventTypes: ['flow.enabled'] });
      const db = api.app.get(DataSource);
      const events = api.app.get(WebhookEventsService, { strict: false });
      await expect(
        db.transaction(async (manager) => {
          await events.publish(trustedTenantId(tenant.tenantId), 'flow.enabled', { endUserId: 'cust-x', instance: { id: 'rolled-back' } }, manager);
          throw new Error('the change failed');
        }),
      ).rejects.toThrow('the change failed');
      await db.transaction((manager) => events.publish(trustedTenantId(tenant.tenantId), 'flow.enabled', { endUserId: 'cust-x', instance: { id: 'committed' } }, manager));
      await eventually(() => receiver.at('/outbox').length > 0, 'the committed event');
      expect(receiver.at('/outbox').map((r) => JSON.parse(r.body).data.instance.id)).toEqual(['committed']);
      expect(await deliveries(tenant, endpoint.id)).toHaveLength(1);
    });

    it('re-enqueues a delivery whose job was lost (a crash between commit and enqueue)', async () => {
      const endpoint = await createEndpoint(tenant, { url: receiver.url('/lost'), eventTypes: ['run.succeeded'] });
      const db = api.app.get(DataSource);
      // The rows as publish writes them, without the enqueue that follows the commit.
      const [deliveryId] = await db.transaction((manager) =>
        api.app
          .get(WebhookEventsService, { strict: false })
          .record(manager, trustedTenantId(tenant.tenantId), 'run.succeeded', { endUserId: 'cust-x', run: { id: 'lost' } }, [endpoint.id], false),
      );
      await db.query(`UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 minute' WHERE id = $1`, [deliveryId]);
      const sweep = worker.app.get(WebhookDeliveryProcessor);
      expect(await sweep.recover()).toBe(1);
      await eventually(async () => (await deliveries(tenant, endpoint.id))[0]?.status === 'succeeded', 'the recovered delivery');
      expect(receiver.at('/lost')).toHaveLength(1);
      expect(await sweep.recover()).toBe(0);
    });

    it('re-enqueues a delivery whose job hash a Redis failure left without data (the sweep decides from PostgreSQL)', async () => {
      const endpoint = await createEndpoint(tenant, { url: receiver.url('/broken'), eventTypes: ['run.succeeded'] });
      const db = api.app.get(DataSource);
      const [deliveryId] = await db.transaction((manager) =>
        api.app
          .get(WebhookEventsService, { strict: false })
          .record(manager, trustedTenantId(tenant.tenantId), 'run.succeeded', { endUserId: 'cust-x', run: { id: 'broken' } }, [endpoint.id], false),
      );
      await db.query(`UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 minute' WHERE id = $1`, [deliveryId]);
      // A hash under the job's id, without data and in no list: neither completed nor failed to Bull.
      const redis = new Redis(api.config.redis.url);
      try {
        await redis.hset(`${api.config.redis.prefix}:bull:webhooks:${deliverJobId(deliveryId, 0)}`, 'attemptsMade', '0');
      } finally {
        redis.disconnect();
      }
      const sweep = worker.app.get(WebhookDeliveryProcessor);
      expect(await sweep.recover()).toBe(1);
      await eventually(async () => (await deliveries(tenant, endpoint.id))[0]?.status === 'succeeded', 'the recovered delivery');
      expect(receiver.at('/broken')).toHaveLength(1);
    });

    it('pages the delivery log, newest first', async () => {
      const endpoint = await createEndpoint(tenant, { url: receiver.url('/paged'), eventTypes: ['flow.disabled'] });
      for (const id of ['a', 'b', 'c']) await publish(tenant, 'flow.disabled', { instance: { id } });
      await eventually(() => receiver.at('/paged').length === 3, 'three deliveries');
      const first = (await tenant.owner.get(`/v1/admin/webhook-endpoints/${endpoint.id}/deliveries?limit=2`)).body;
      expect(first.data).toHaveLength(2);
      const second = (await tenant.owner.get(`/v1/admin/webhook-endpoints/${endpoint.id}/deliveries?limit=2&cursor=${first.nextCursor}`)).body;
      expect(second).toMatchObject({ data: [expect.any(Object)], nextCursor: null });
      // Newest first: the reverse of the order they were published in.
      const details = await Promise.all([...first.data, ...second.data].map((d: { id: string }) => tenant.owner.get(`/v1/admin/webhook-deliveries/${d.id}`)));
      expect(details.map((d) => JSON.parse(d.body.payload).data.instance.id)).toEqual(['c', 'b', 'a']);
      expect((await tenant.owner.get(`/v1/admin/webhook-endpoints/${endpoint.id}/deliveries?status=failed`)).body.data).toEqual([]);
      const bad = await tenant.owner.get(`/v1/admin/webhook-endpoints/${endpoint.id}/deliveries?cursor=garbage`);
      expect(bad.status).toBe(400);
      expect(bad.body.error.details.errors[0].path).toBe('cursor');
    });

    it('prunes events past retention, except ones still being delivered', async () => {
      const db = api.app.get(DataSource);
      const endpoint = await createEndpoint(tenant, { url: receiver.url('/old'), eventTypes: ['run.succeeded'] });
      const record = (body: string) =>
        db.transaction((manager) =>
          api.app
            .get(WebhookEventsService, { strict: false })
            .record(manager, trustedTenantId(tenant.tenantId), 'run.succeeded', { endUserId: 'cust-x', note: body }, [endpoint.id], false),
        );
      const [done] = await record('done');
      const [pending] = await record('pending');
      await db.query(`UPDATE webhook_deliveries SET status = 'succeeded' WHERE id = $1`, [done]);
      await db.query(`UPDATE webhook_deliveries SET next_attempt_at = now() + interval '1 hour' WHERE id = $1`, [pending]);
      await db.query(`UPDATE webhook_events SET created_at = now() - interval '400 days' WHERE id IN (SELECT event_id FROM webhook_deliveries WHERE id = ANY($1))`, [
        [done, pending],
      ]);
      expect(await worker.app.get(WebhookDeliveryProcessor).prune()).toBe(1);
      const left = await db.query(`SELECT id FROM webhook_deliveries WHERE id = ANY($1)`, [[done, pending]]);
      expect(left.map((r: { id: string }) => r.id)).toEqual([pending]);
    });

    it('counts attempts by outcome in /metrics and never logs a secret', async () => {
      const metrics = await (await fetch(`${api.url}/metrics`)).text();
      const count = (outcome: string) => Number(new RegExp(`webhook_delivery_attempts_total\\{outcome="${outcome}"\\} (\\d+)`).exec(metrics)?.[1]);
      expect(count('succeeded')).toBeGreaterThan(5);
      expect(count('retrying')).toBeGreaterThan(3);
      expect(count('failed')).toBeGreaterThanOrEqual(2);
      const logs = JSON.stringify([api.logs, worker.logs]);
      // API and worker share this process, and nestjs-pino one root logger: their lines may land in either list.
      expect([...api.logs, ...worker.logs].some((l) => l.msg === 'webhook delivery attempt')).toBe(true);
      for (const secret of secrets) {
        expect(logs).not.toContain(secret.slice(6));
        expect(logs).not.toContain(Buffer.from(secret.slice(6), 'base64').toString('hex'));
      }
    });
  });
  it('keeps endpoint secrets usable across `vault rotate`', async () => {
    // Its own database: rotation touches every row, and other files use other master keys.
    const database = await freshDatabase();
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('base64');
    const env = { DATABASE_URL: database.url, OUTBOUND_ALLOWLIST: `127.0.0.1:${receiver.port}` };
    let before: TestApi | undefined;
    let after: TestApi | undefined;
    let afterWorker: Awaited<ReturnType<typeof startWorkerWithLogs>> | undefined;
    try {
      before = await startApi({ ...env, MASTER_KEY: oldKey });
      const t = await createTenant(before, 'Rotate Co');
      const created = await t.owner.post('/v1/admin/webhook-endpoints', { url: receiver.url('/vault'), eventTypes: ['run.failed'] });
      expect(created.status).toBe(201);
      await before.close();
      before = undefined;

      const db = new DataSource({ type: 'postgres', url: database.url });
      await db.initialize();
      try {
        expect(await rotateVault(db, new Vault(Buffer.from(newKey, 'base64'), [Buffer.from(oldKey, 'base64')]), () => undefined)).toBeGreaterThan(0);
        const [row] = await db.query(`SELECT secret FROM webhook_endpoints WHERE id = $1`, [created.body.id]);
        expect(row.secret.split('.')[1]).toBe(keyIdOf(Buffer.from(newKey, 'base64')));
      } finally {
        await db.destroy();
      }

      // Under the new key alone, the endpoint still signs with the secret it was given.
      after = await startApi({ ...env, MASTER_KEY: newKey });
      afterWorker = await startWorkerWithLogs(after.config);
      const owner = new Http(after.url, { origin: after.origin });
      owner.cookie = t.owner.cookie; // the same signed-in member: sessions live in the database
      expect((await owner.post(`/v1/admin/webhook-endpoints/${created.body.id}/test`)).status).toBe(202);
      const [hit] = await eventually(() => receiver.at('/vault').length > 0 && receiver.at('/vault'), 'the ping after rotation');
      expect(new Webhook(created.body.secret.slice(6)).verify(hit.body, hit.headers as Record<string, string>)).toMatchObject({ type: 'ping' });
    } finally {
      await afterWorker?.close();
      await after?.close();
      await before?.close();
      await database.drop();
    }
  });
});
