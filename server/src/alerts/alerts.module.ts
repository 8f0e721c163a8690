import { Module } from '@nestjs/common';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { ConnectionsModule } from '../connections/connections.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { AlertEvaluator } from './alert-evaluator';
import { AlertNotifier } from './alert-notifier';
import { AlertRulesService } from './alert-rules.service';
import { AlertIncident, AlertRule } from './alert.entities';
import { AlertsController } from './alerts.controller';
import { AlertsScheduler } from './alerts.scheduler';

/**
 * Alerts for a tenant's team: the rules' admin API, the evaluator and the notifier (email, Slack
 * through one of the tenant's connections, outbound webhooks). The worker adds AlertsProcessor.
 */
@Module({
  imports: [ConnectionsModule, WebhooksModule],
  controllers: [AlertsController],
  providers: [
    AlertRulesService,
    AlertEvaluator,
    AlertNotifier,
    AlertsScheduler,
    provideTenantScoped(AlertRule, 'Alert rule'),
    provideTenantScoped(AlertIncident, 'Alert incident'),
  ],
  exports: [AlertEvaluator, AlertNotifier],
})
export class AlertsModule {}
