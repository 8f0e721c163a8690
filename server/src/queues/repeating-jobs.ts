import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { JobOptions, Queue } from 'bull';
import { PinoLogger } from 'nestjs-pino';
import { queueUnavailable, within } from '../common/errors/dependency-errors';

/** How often each process checks that every repeating job is still registered in Redis. */
export const REPEATING_JOBS_CHECK_MS = 5000;

interface Schedule {
  queue: Queue;
  name: string;
  every: number;
  options: JobOptions;
}

/**
 * The one way periodic work (run recovery, schedules, token refresh, purges, webhook recovery and
 * pruning, alert evaluation) is registered. A Bull repeatable job lives only in Redis: a Redis restart without
 * persistence forgets it, and nothing would run until a process restarted. So every process (API
 * and worker) keeps the list in memory and puts back what Redis lost — at once when a queue's
 * connection becomes ready again, and every REPEATING_JOBS_CHECK_MS in any case (a reconnect can be
 * missed, or Redis flushed without one). Registering is idempotent (Bull keys a repeatable job by
 * name and interval), so several processes doing it is harmless, and exactly one worker still
 * handles each tick.
 */
@Injectable()
export class RepeatingJobs implements OnModuleDestroy {
  private readonly schedules: Schedule[] = [];
  private readonly watched = new Set<Queue>();
  private timer: NodeJS.Timeout | null = null;
  private checking = false;

  constructor(private readonly logger: PinoLogger) {
    logger.setContext('RepeatingJobs');
  }

  /**
   * Registers `schedule` (job name → interval in ms) on `queue`, dropping a registration whose
   * interval changed in configuration. Never fails the boot: with Redis down, the checks register
   * everything once it is back.
   */
  async register(queue: Queue, schedule: Record<string, number>, options: JobOptions = {}): Promise<void> {
    for (const [name, every] of Object.entries(schedule)) this.schedules.push({ queue, name, every, options });
    if (!this.watched.has(queue)) {
      this.watched.add(queue);
      queue.client.on('ready', () => void this.check('Redis reconnected'));
    }
    if (!this.timer) {
      this.timer = setInterval(() => void this.check('periodic check'), REPEATING_JOBS_CHECK_MS);
      this.timer.unref();
    }
    try {
      for (const job of await within(queue.getRepeatableJobs(), REPEATING_JOBS_CHECK_MS, queueUnavailable)) {
        if (job.name in schedule && Number(job.every) !== schedule[job.name]) await queue.removeRepeatableByKey(job.key);
      }
      for (const [name, every] of Object.entries(schedule)) await within(this.add(queue, name, every, options), REPEATING_JOBS_CHECK_MS, queueUnavailable);
    } catch (error) {
      this.logger.warn({ queue: queue.name, err: (error as Error).message }, 'could not register repeating jobs at boot (Redis unavailable); the periodic check will');
    }
  }

  private add(queue: Queue, name: string, every: number, options: JobOptions) {
    return queue.add(name, {}, { ...options, repeat: { every } });
  }

  /** Puts back every repeating job Redis no longer has. Never throws: Redis may still be down (the next check tries again). */
  async check(why: string): Promise<string[]> {
    if (this.checking) return [];
    this.checking = true;
    const restored: string[] = [];
    try {
      for (const queue of this.watched) {
        // Bounded like register(): a Redis that hangs instead of refusing must not leave `checking` stuck.
        const present = new Set((await within(queue.getRepeatableJobs(), REPEATING_JOBS_CHECK_MS, queueUnavailable)).map((job) => `${job.name}:${Number(job.every)}`));
        for (const { name, every, options } of this.schedules.filter((s) => s.queue === queue)) {
          if (present.has(`${name}:${every}`)) continue;
          await within(this.add(queue, name, every, options), REPEATING_JOBS_CHECK_MS, queueUnavailable);
          restored.push(`${queue.name}/${name}`);
        }
      }
    } catch (error) {
      this.logger.debug({ err: (error as Error).message }, 'could not check repeating jobs (Redis unavailable); trying again');
    } finally {
      this.checking = false;
    }
    if (restored.length > 0) this.logger.warn({ restored, why }, 're-registered repeating jobs Redis had lost');
    return restored;
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
