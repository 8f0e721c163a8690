import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopExpressionSandbox } from '../src/flows/definition/expression-sandbox';
import { createTenant, startApi, TenantFixture, TestApi } from './harness';

/**
 * Tenant-authored expressions and patterns the API evaluates itself (a schedule's cron from the
 * instance's settings, an input's pattern against an end user's value) run in the sandbox: a
 * catastrophic one is refused with a validation error, and the API keeps answering meanwhile.
 */

/** Minutes of backtracking if it ran in-process; the sandbox stops it at 1 s. */
const SLOW = `"${'a'.repeat(32)}!"`;

describe('hostile expressions evaluated by the API', () => {
  let api: TestApi;
  let tenant: TenantFixture;

  beforeAll(async () => {
    api = await startApi();
    tenant = await createTenant(api, 'Hostile');
    const definitions = [
      {
        key: 'hostile-schedule',
        name: 'Hostile schedule',
        trigger: { type: 'schedule', cron: `=$exists($match(${SLOW}, /^(a+)+$/)) ? "0 9 * * *" : "0 10 * * *"`, timezone: 'UTC' },
        connectors: [],
        inputs: {},
        steps: [{ id: 'tick', type: 'transform', output: '=$trigger.scheduledAt' }],
      },
      {
        key: 'hostile-pattern',
        name: 'Hostile pattern',
        trigger: { type: 'request' },
        connectors: [],
        inputs: { code: { type: 'string', title: 'Code', pattern: '^(a+)+$' } },
        steps: [{ id: 'echo', type: 'transform', output: '=$inputs.code' }],
      },
    ];
    for (const definition of definitions) {
      expect((await tenant.owner.post('/v1/admin/flow-templates', { definition })).status).toBe(201);
      expect((await tenant.owner.post(`/v1/admin/flow-templates/${definition.key}/publish`)).status).toBe(201);
    }
    await tenant.host.put('/v1/end-users/u1', {});
  });

  afterAll(async () => {
    await api.close();
    await stopExpressionSandbox();
  });

  /** Runs `call` while probing the API; returns its answer and the slowest probe. */
  async function whileProbing<T>(call: () => Promise<T>): Promise<{ answer: T; slowestProbeMs: number }> {
    let done = false;
    let slowest = 0;
    const probes = (async () => {
      while (!done) {
        const started = Date.now();
        await fetch(`${api.url}/healthz`);
        slowest = Math.max(slowest, Date.now() - started);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const answer = await call().finally(() => (done = true));
    await probes;
    return { answer, slowestProbeMs: slowest };
  }

  it('refuses a schedule whose cron expression runs away, naming it, while the API keeps answering', async () => {
    const { answer, slowestProbeMs } = await whileProbing(() => tenant.host.post('/v1/end-users/u1/flows/hostile-schedule/enable', { settings: {} }));
    expect(answer).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'validation_failed',
          details: { errors: [{ path: 'trigger.cron', message: expect.stringMatching(/^Expression ".*" ran longer than the 1000 ms an evaluation may take$/) }] },
        },
      },
    });
    expect(slowestProbeMs).toBeLessThan(1000);
  });

  it('refuses a setting whose input pattern backtracks catastrophically, naming the setting, while the API keeps answering', async () => {
    const { answer, slowestProbeMs } = await whileProbing(() => tenant.host.post('/v1/end-users/u1/flows/hostile-pattern/enable', { settings: { code: `${'a'.repeat(32)}!` } }));
    expect(answer).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'validation_failed',
          details: { errors: [{ path: 'settings.code', message: 'must match ^(a+)+$ (checking it was stopped: The pattern ^(a+)+$ took longer than 1000 ms to check)' }] },
        },
      },
    });
    expect(slowestProbeMs).toBeLessThan(1000);
    const fine = await tenant.host.post('/v1/end-users/u1/flows/hostile-pattern/enable', { settings: { code: 'aaa' } });
    expect(fine.status).toBe(200);
  });
});
