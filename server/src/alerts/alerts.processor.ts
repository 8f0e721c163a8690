import { Process, Processor } from '@nestjs/bull';
import { PinoLogger } from 'nestjs-pino';
import { QUEUES } from '../queues/queues.module';
import { AlertEvaluator } from './alert-evaluator';
import { AlertNotifier } from './alert-notifier';
import { EVALUATE_ALERTS_JOB } from './alerts.scheduler';

/** The worker's alert tick: evaluate each tenant's rules, then send the notices owed. */
@Processor(QUEUES.alerts)
export class AlertsProcessor {
  constructor(
    private readonly evaluator: AlertEvaluator,
    private readonly notifier: AlertNotifier,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('AlertsProcessor');
  }

  @Process(EVALUATE_ALERTS_JOB)
  async evaluate(): Promise<{ tenants: number; fired: number; resolved: number; notices: number }> {
    const totals = { tenants: 0, fired: 0, resolved: 0, notices: 0 };
    for (const tenantId of await this.evaluator.tenants()) {
      try {
        const result = await this.evaluator.evaluate(tenantId);
        if (!result.evaluated) continue;
        totals.tenants++;
        totals.fired += result.fired;
        totals.resolved += result.resolved;
        totals.notices += await this.notifier.notify(tenantId);
      } catch (error) {
        // One tenant's failure (a bad rule, a timeout) must not stop the others' alerts.
        this.logger.error({ tenantId, err: (error as Error).message }, 'alert evaluation failed for a tenant');
      }
    }
    return totals;
  }
}
