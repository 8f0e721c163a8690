import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderSubscriptionsService } from '../connections/provider-subscriptions.service';
import { InstanceTriggersService } from './instance-triggers.service';
import { PollService } from './poll.service';

/** How often a worker with nothing due looks again: polls start at most this late. */
export const POLL_TICK_MS = 1000;
/** How often instances missing their provider subscription (after a reconnect) are looked for. */
const RESUBSCRIBE_EVERY_MS = 15_000;

/**
 * Every worker runs two loops: the poller (PollService.pump: lanes fed by fair claims) and the
 * provider subscriptions' reconcile. Neither needs Redis: claims and leases live in PostgreSQL, so
 * polls go on, and nothing is lost, while Redis is away.
 */
@Injectable()
export class TriggersLoop implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly stop = new AbortController();
  private running: Promise<void> | null = null;

  constructor(
    private readonly polls: PollService,
    private readonly subscriptions: ProviderSubscriptionsService,
    private readonly triggers: InstanceTriggersService,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('TriggersLoop');
  }

  onApplicationBootstrap(): void {
    if (process.env.TRIGGERS_LOOP === 'off') return; // tests that drive pollDue() themselves
    this.running = Promise.all([this.polls.pump(this.stop.signal, POLL_TICK_MS), this.subscriptionsLoop()]).then(() => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    this.stop.abort();
    await this.running;
  }

  /** Provider subscriptions: made and removed as wanted, and wanted again where a rebind left one missing. */
  private async subscriptionsLoop(): Promise<void> {
    let failing = false;
    let resubscribedAt = 0;
    while (!this.stop.signal.aborted) {
      let busy = false;
      try {
        if (Date.now() - resubscribedAt > RESUBSCRIBE_EVERY_MS) {
          resubscribedAt = Date.now();
          const wanted = await this.triggers.resubscribeMissing();
          if (wanted) this.logger.info({ wanted }, 'provider webhooks wanted again for instances that had none on their connection');
        }
        busy = (await this.subscriptions.reconcileDue()) > 0;
        if (failing) this.logger.info('provider subscriptions resumed');
        failing = false;
      } catch (error) {
        // PostgreSQL away: rows claimed come back after their lease.
        if (!failing) this.logger.warn({ err: error }, 'provider subscriptions paused: could not read them; retrying every second');
        failing = true;
      }
      if (!busy) await sleep(POLL_TICK_MS, undefined, { signal: this.stop.signal }).catch(() => undefined);
    }
  }
}
