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
 * Every worker runs this loop: it polls what is due (PollService.pollDue), makes and removes
 * provider webhook subscriptions (ProviderSubscriptionsService.reconcileDue), and when nothing was
 * due waits a tick. It needs no Redis: claims and leases live in PostgreSQL, so polls go on, and
 * nothing is lost, while Redis is away.
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
    this.running = this.loop();
  }

  async onModuleDestroy(): Promise<void> {
    this.stop.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
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
        const outcomes = await this.polls.pollDue();
        const reconciled = await this.subscriptions.reconcileDue();
        busy = (outcomes.length > 0 && outcomes.every((o) => o !== 'lost')) || reconciled > 0;
        if (failing) this.logger.info('triggers resumed');
        failing = false;
      } catch (error) {
        // PostgreSQL away: nothing was claimed or everything claimed comes back after its lease.
        if (!failing) this.logger.warn({ err: error }, 'triggers paused: could not claim due polls or subscriptions; retrying every second');
        failing = true;
      }
      if (!busy) await sleep(POLL_TICK_MS, undefined, { signal: this.stop.signal }).catch(() => undefined);
    }
  }
}
