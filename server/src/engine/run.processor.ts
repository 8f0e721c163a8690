import { InjectQueue, Process, Processor } from '@nestjs/bull';
import { Inject } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { trustedTenantId } from '../common/tenancy/tenant-id';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { QUEUES } from '../queues/queues.module';
import { RunExecution } from './run-execution';
import { publishRunFinished, RunFinished } from './run-events';
import { RunJob } from './run-jobs';
import { RunLimiter } from './run-limits';
import { RunStore } from './run-store';

export type { RunJob } from './run-jobs';
export { POISON_AFTER_CRASHES } from './run-execution';

/** A run over its tenant's cap (or executing elsewhere): the job is failed with a backoff and comes back. */
class RunDeferred extends Error {
  constructor(reason: string) {
    super(`postponed: ${reason}`);
    this.stack = this.message;
  }
}

/**
 * The runs queue's adapter: settles a timed-out approval a job names, takes the tenant's run slot
 * (or postpones the job), has RunExecution execute the run, then releases the execution and the
 * slot, announcing a finish to waiting callers.
 */
@Processor(QUEUES.runs)
export class RunProcessor {
  /** Executions that ended while PostgreSQL could not be told (released with the next one). */
  private readonly unreleased = new Set<string>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectQueue(QUEUES.runs) private readonly runsQueue: Queue<RunJob>,
    private readonly execution: RunExecution,
    private readonly store: RunStore,
    private readonly limiter: RunLimiter,
  ) {}

  @Process({ concurrency: 50 })
  async process(job: Job<RunJob>): Promise<void> {
    try {
      const { runId, expireApproval } = job.data;
      const tenantId = job.data.tenantId ? trustedTenantId(job.data.tenantId) : await this.store.tenantOf(runId);
      if (!tenantId) return; // deleted meanwhile
      if (expireApproval) await this.store.expireApproval(tenantId, expireApproval);
      const slot = await this.limiter.acquire(tenantId, runId, String(job.id), this.wake);
      if (slot.answer !== 'acquired') {
        // Postponed, never failed: the same job comes back later. Over the tenant's cap it waits in
        // line and a release wakes it; the delay is only the fallback (a lapsed lease, a lost wake-up).
        // The same run executing elsewhere: back after a short, growing pause.
        const pause = slot.answer === 'tenant_busy' ? this.config.queue.lockDurationMs : Math.min(200 * 2 ** Math.min(job.attemptsMade, 3), 1600);
        job.opts.attempts = Number.MAX_SAFE_INTEGER;
        job.opts.backoff = { type: 'fixed', delay: Math.round(pause * (0.75 + Math.random() / 2)) };
        throw new RunDeferred(slot.answer);
      }
      let finished: RunFinished | null = null;
      let released = false;
      try {
        ({ finished, released } = await this.execution.execute(tenantId, runId, job.data.reply === true));
      } finally {
        if (!released || this.unreleased.size > 0) await this.releaseExecution(runId);
        // Announce the finish to waiting callers in the same round trip as the slot's release.
        await slot.release(finished ? (batch) => publishRunFinished(batch, this.config.redis.prefix, finished!) : undefined);
      }
    } catch (error) {
      if (!(error instanceof RunDeferred)) job.discard(); // an infrastructure failure: recovery re-enqueues the run later
      throw error;
    }
  }

  /**
   * The execution ended (finished, parked, failed, cancelled, or stopped by an infrastructure
   * failure), with this process alive: it did not crash it. When PostgreSQL is down the release is
   * kept and written later, so an outage is never mistaken for a crash.
   */
  private async releaseExecution(runId: string): Promise<void> {
    const ids = [runId, ...this.unreleased];
    try {
      await this.store.release(ids);
      for (const id of ids) this.unreleased.delete(id); // not clear(): a release failing meanwhile keeps its id
    } catch {
      this.unreleased.add(runId);
    }
  }

  /**
   * Brings postponed jobs back now. One still active is between joining the line and being
   * postponed: answered, to be woken by the next release. Others (woke by themselves, gone) are dropped.
   */
  private readonly wake = async (jobIds: string[]): Promise<string[]> => {
    const notYet: string[] = [];
    for (const id of jobIds) {
      const job = await this.runsQueue.getJob(id);
      // Active: another worker is postponing it right now (a few ms); delayed: it just was.
      for (let tries = 0; job && tries < 10; tries++) {
        const promoted = await job.promote().then(
          () => true,
          () => false,
        );
        if (promoted) break;
        const state = await job.getState();
        if (state === 'delayed') continue;
        if (state !== 'active') break; // woke by itself, or gone
        if (tries === 9) notYet.push(id);
        else await new Promise((r) => setTimeout(r, 10));
      }
    }
    return notYet;
  };
}
