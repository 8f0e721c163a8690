import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../src/config/app-config';
import { ScheduleService } from '../src/triggers/schedule.service';
import { WorkerModule } from '../src/worker.module';
import { createTenant, Http, startApi, TenantFixture, TestApi } from './harness';

/**
 * A worker application, like `startWorker`, but handing out its ScheduleService: the tests call
 * `fireDue(at)` with a clock of their choosing (nobody waits for 09:00 tomorrow), while the
 * workers' own ticks keep running on the real clock beside them.
 */
async function startWorkerApp(config: AppConfig): Promise<{ app: INestApplicationContext; schedules: ScheduleService }> {
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, { logDestination: { write: () => undefined } }), { logger: false });
  await app.init();
  return { app, schedules: app.get(ScheduleService, { strict: false }) };
}

/** The end user picks when; the time zone is theirs, from the host's metadata. */
const digest = {
  key: 'daily-digest',
  name: 'Daily digest',
  trigger: { type: 'schedule', cron: '=$inputs.when', timezone: '=$endUser.metadata.timezone' },
  connectors: [],
  inputs: { when: { type: 'string', title: 'When', default: '0 9 * * *' } },
  steps: [{ id: 'tick', type: 'transform', output: { scheduledAt: '=$trigger.scheduledAt', firedAt: '=$trigger.firedAt', who: '=$endUser.externalId' } }],
};

const hourly = {
  key: 'hourly',
  name: 'Hourly',
  trigger: { type: 'schedule', cron: '0 * * * *', timezone: 'UTC' },
  connectors: [],
  inputs: {},
  steps: [{ id: 'tick', type: 'transform', output: '=$trigger.scheduledAt' }],
};

const minutely = { ...hourly, key: 'minutely', name: 'Every minute', trigger: { type: 'schedule', cron: '* * * * *', timezone: 'UTC' } };

const HOUR = 3600_000;
const wallClock = (at: string, timeZone: string) =>
  new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date(at));

describe('schedule triggers', () => {
  let api: TestApi;
  let workerA: { app: INestApplicationContext; schedules: ScheduleService };
  let workerB: { app: INestApplicationContext; schedules: ScheduleService } | null = null;
  let tenant: TenantFixture;
  let db: Client;
  /** Instances a test switched on; switched off after it, so the next test's clock fires only its own. */
  let enabled: string[] = [];

  async function enable(key: string, endUserId: string, settings: Record<string, unknown> = {}) {
    const res = await tenant.host.post(`/v1/end-users/${endUserId}/flows/${key}/enable`, { settings });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    enabled.push(`/v1/end-users/${endUserId}/flows/${key}/disable`);
    return res.body.instance as { id: string; nextRunAt: string | null };
  }

  async function instance(key: string, endUserId: string) {
    return (await tenant.host.get(`/v1/end-users/${endUserId}/flows`)).body.data.find((f: { key: string }) => f.key === key).instance;
  }

  /** Every run of one instance, as the host sees them. */
  async function runsOf(instanceId: string) {
    const runs: Array<{ id: string; instanceId: string; trigger: { scheduledAt: string; firedAt: string }; status: string; result: unknown }> = [];
    let cursor: string | null = null;
    do {
      const page = (await tenant.host.get(`/v1/runs?limit=200${cursor ? `&cursor=${cursor}` : ''}`)).body;
      runs.push(...page.data);
      cursor = page.nextCursor;
    } while (cursor);
    return runs.filter((r) => r.instanceId === instanceId).sort((a, b) => a.trigger.scheduledAt.localeCompare(b.trigger.scheduledAt));
  }

  async function waitForRun(id: string) {
    for (let i = 0; i < 300; i++) {
      const run = (await tenant.host.get(`/v1/runs/${id}`)).body;
      if (['succeeded', 'failed', 'cancelled'].includes(run.status)) return run;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`run ${id} did not finish`);
  }

  beforeAll(async () => {
    api = await startApi({ MAINTENANCE_INTERVAL_SECONDS: '1' });
    workerA = await startWorkerApp(api.config);
    tenant = await createTenant(api, 'Schedules Co');
    db = new Client({ connectionString: api.config.database.url });
    await db.connect();
    for (const definition of [digest, hourly, minutely]) {
      await tenant.owner.post('/v1/admin/flow-templates', { definition });
      expect((await tenant.owner.post(`/v1/admin/flow-templates/${definition.key}/publish`)).status).toBe(201);
    }
  });
  afterEach(async () => {
    for (const path of enabled) expect((await tenant.host.post(path)).status).toBe(200);
    enabled = [];
  });
  afterAll(async () => {
    await db.end();
    await workerB?.app.close();
    await workerA.app.close();
    await api.close();
  });

  it('refuses an invalid cron expression or time zone at validate and publish, naming the path', async () => {
    const broken = { ...hourly, key: 'broken', trigger: { type: 'schedule', cron: '61 * * * *', timezone: 'Mars/Olympus_Mons' } };
    await tenant.owner.post('/v1/admin/flow-templates', { definition: broken });
    const validated = await tenant.owner.post('/v1/admin/flow-templates/broken/validate', {});
    expect(validated.body).toEqual({
      valid: false,
      errors: expect.arrayContaining([
        { path: 'trigger.cron', message: 'invalid cron expression: Constraint error, got value 61 expected range 0-59' },
        { path: 'trigger.timezone', message: "unknown time zone 'Mars/Olympus_Mons' (use an IANA name like 'Europe/Paris' or 'UTC')" },
      ]),
    });
    const published = await tenant.owner.post('/v1/admin/flow-templates/broken/publish');
    expect(published.status).toBe(400);
    expect(published.body.error.details.errors.map((e: { path: string }) => e.path).sort()).toEqual(['definition.trigger.cron', 'definition.trigger.timezone']);
  });

  it("computes the next run from the end user's own schedule and time zone, and refuses bad ones with the setting's path", async () => {
    await tenant.host.put('/v1/end-users/paris', { metadata: { timezone: 'Europe/Paris' } });
    const enabled = await enable('daily-digest', 'paris');
    const next = enabled.nextRunAt!;
    expect(wallClock(next, 'Europe/Paris')).toBe('09:00:00');
    expect(Date.parse(next) - Date.now()).toBeGreaterThan(0);
    expect(Date.parse(next) - Date.now()).toBeLessThanOrEqual(24 * HOUR + HOUR); // a day, give or take a DST hour

    const bad = await tenant.host.patch('/v1/end-users/paris/flows/daily-digest', { settings: { when: '0 25 * * *' } });
    expect(bad).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed', details: { errors: [{ path: 'settings.when', message: expect.stringMatching(/^invalid cron expression: /) }] } } },
    });
    const changed = await tenant.host.patch('/v1/end-users/paris/flows/daily-digest', { settings: { when: '30 17 * * 1-5' } });
    expect(wallClock(changed.body.instance.nextRunAt, 'Europe/Paris')).toBe('17:30:00');

    await tenant.host.put('/v1/end-users/nowhere', { metadata: { timezone: 'Europe/Pariss' } });
    const noZone = await tenant.host.post('/v1/end-users/nowhere/flows/daily-digest/enable', { settings: {} });
    expect(noZone).toMatchObject({
      status: 400,
      body: { error: { details: { errors: [{ path: 'trigger.timezone', message: "unknown time zone 'Europe/Pariss' (use an IANA name like 'Europe/Paris' or 'UTC')" }] } } },
    });
    await tenant.host.put('/v1/end-users/nozone', {});
    const missing = await tenant.host.post('/v1/end-users/nozone/flows/daily-digest/enable', { settings: {} });
    expect(missing.body.error.details.errors[0]).toMatchObject({ path: 'trigger.timezone', message: expect.stringContaining('must be a non-empty string') });
  });

  it('fires at the scheduled time, once, with $trigger = { scheduledAt, firedAt }, then moves to the next fire', async () => {
    await tenant.host.put('/v1/end-users/tokyo', { metadata: { timezone: 'Asia/Tokyo' } });
    const { id, nextRunAt } = await enable('daily-digest', 'tokyo');
    const due = Date.parse(nextRunAt!);
    expect(wallClock(nextRunAt!, 'Asia/Tokyo')).toBe('09:00:00');

    // Counted per instance: other test files' schedules share the database and may be due too.
    await workerA.schedules.fireDue(new Date(due - 1000));
    expect(await runsOf(id)).toHaveLength(0);
    const firedAt = new Date(due + 400);
    await workerA.schedules.fireDue(firedAt);
    await workerA.schedules.fireDue(firedAt);

    const runs = await runsOf(id);
    expect(runs).toHaveLength(1);
    const run = await waitForRun(runs[0].id);
    expect(run).toMatchObject({ status: 'succeeded', triggerType: 'schedule', trigger: { scheduledAt: nextRunAt, firedAt: firedAt.toISOString() } });
    expect(run.result).toEqual({ scheduledAt: nextRunAt, firedAt: firedAt.toISOString(), who: 'tokyo' });
    expect(Date.parse((await instance('daily-digest', 'tokyo')).nextRunAt)).toBe(due + 24 * HOUR); // Tokyo has no DST
  });

  it('never doubles a fire when two workers claim at once', async () => {
    workerB = await startWorkerApp(api.config);
    const instances: Array<{ id: string; first: number }> = [];
    for (let i = 0; i < 12; i++) {
      await tenant.host.put(`/v1/end-users/race-${i}`, {});
      const { id, nextRunAt } = await enable('hourly', `race-${i}`);
      instances.push({ id, first: Date.parse(nextRunAt!) });
    }
    // Three fires due for each instance, both workers firing repeatedly at the same instant.
    const at = Math.min(...instances.map((i) => i.first)) + 2 * HOUR + 1000;
    const expected = instances.map(({ first }) => [0, 1, 2].map((h) => first + h * HOUR).filter((t) => t <= at));
    await Promise.all([0, 1, 2].flatMap(() => [workerA.schedules.fireDue(new Date(at)), workerB!.schedules.fireDue(new Date(at))]));
    for (const [i, { id }] of instances.entries()) {
      const runs = await runsOf(id);
      expect(runs.map((r) => r.trigger.scheduledAt)).toEqual(expected[i].map((t) => new Date(t).toISOString()));
    }
  });

  it('catches up missed fires after every worker was stopped, up to the policy, and skips none of a short outage', async () => {
    await tenant.host.put('/v1/end-users/sleeper', {});
    const { id, nextRunAt } = await enable('hourly', 'sleeper');
    const first = Date.parse(nextRunAt!);
    await workerB!.app.close();
    workerB = null;
    await workerA.app.close();

    // Back after three hours and a bit: every fire of the outage runs, oldest first.
    workerA = await startWorkerApp(api.config);
    await workerA.schedules.fireDue(new Date(first + 3 * HOUR + 60_000));
    expect((await runsOf(id)).map((r) => r.trigger.scheduledAt)).toEqual([0, 1, 2, 3].map((h) => new Date(first + h * HOUR).toISOString()));
    expect(Date.parse((await instance('hourly', 'sleeper')).nextRunAt)).toBe(first + 4 * HOUR);

    // Back after two days: only the 10 most recent fires of the last 24 hours run.
    const later = first + 4 * HOUR + 48 * HOUR;
    await workerA.schedules.fireDue(new Date(later + 60_000));
    const runs = await runsOf(id);
    expect(runs).toHaveLength(14);
    expect(runs.slice(4).map((r) => r.trigger.scheduledAt)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map((h) => new Date(later - h * HOUR).toISOString()));
    expect(Date.parse((await instance('hourly', 'sleeper')).nextRunAt)).toBe(later + HOUR);
  });

  it('stops firing while disabled and restarts from now when enabled again', async () => {
    await tenant.host.put('/v1/end-users/pauser', {});
    const { id, nextRunAt } = await enable('hourly', 'pauser');
    const off = await tenant.host.post('/v1/end-users/pauser/flows/hourly/disable');
    expect(off.body.instance).toMatchObject({ enabled: false, nextRunAt: null });
    await workerA.schedules.fireDue(new Date(Date.parse(nextRunAt!) + 5 * HOUR));
    expect(await runsOf(id)).toHaveLength(0);
    const on = await enable('hourly', 'pauser');
    const next = Date.parse(on.nextRunAt!);
    expect(next).toBeGreaterThan(Date.now());
    expect(next).toBeLessThanOrEqual(Date.now() + HOUR);
    expect(next % HOUR).toBe(0);
  });

  it('gives a schedule to instances enabled before trigger state existed, when a worker boots', async () => {
    await tenant.host.put('/v1/end-users/legacy', {});
    const { id, nextRunAt } = await enable('hourly', 'legacy');
    // What a database from before the flow_instance_triggers migration looks like.
    await db.query(`DELETE FROM flow_instance_triggers WHERE id = $1`, [id]);
    expect((await instance('hourly', 'legacy')).nextRunAt).toBeNull();
    const booted = await startWorkerApp(api.config);
    await booted.app.close();
    // The same next fire (or the one after, should the hour have turned meanwhile).
    expect([nextRunAt, new Date(Date.parse(nextRunAt!) + HOUR).toISOString()]).toContain((await instance('hourly', 'legacy')).nextRunAt);
  });

  it("fires on the workers' own tick, on the real clock", async () => {
    await tenant.host.put('/v1/end-users/now', {});
    const { id } = await enable('minutely', 'now');
    // Make this minute's fire due right now instead of waiting for the next minute.
    const { rows } = await db.query(`UPDATE flow_instance_triggers SET next_fire_at = date_trunc('minute', now()) WHERE id = $1 RETURNING next_fire_at`, [id]);
    const due = (rows[0].next_fire_at as Date).toISOString();
    let runs: Awaited<ReturnType<typeof runsOf>> = [];
    for (let i = 0; i < 100 && runs.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      runs = await runsOf(id);
    }
    expect(runs[0]?.trigger.scheduledAt).toBe(due);
    expect((await waitForRun(runs[0].id)).result).toBe(due);
    expect(Date.parse((await instance('minutely', 'now')).nextRunAt)).toBeGreaterThan(Date.parse(due));
  });
});
