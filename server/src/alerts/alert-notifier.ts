import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import type { Transporter } from 'nodemailer';
import { DataSource } from 'typeorm';
import { TenantId } from '../common/tenancy/tenant-id';
import { tenantSql } from '../common/tenancy/tenant-sql';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ProviderClientService } from '../connections/provider-client.service';
import { WebhookEventsService } from '../webhooks/webhook-events.service';
import type { AlertChannel, AlertChannels, AlertKind, AlertParams, IncidentStatus } from './alert.entities';

/** Attempts per notice (one per evaluation) before it is given up, with notify_error saying why. */
export const MAX_NOTIFY_ATTEMPTS = 5;
/** How long a worker holds an incident's notices while it sends them. */
const LEASE_SECONDS = 120;

interface Pending {
  id: string;
  rule_id: string;
  subject: string;
  status: IncidentStatus;
  value: number;
  fired_at: Date;
  resolved_at: Date | null;
  notified: string[];
  name: string;
  kind: AlertKind;
  params: AlertParams;
  channels: AlertChannels;
}

const UNITS: Record<AlertKind, (value: number, p: AlertParams) => string> = {
  flow_failure_rate: (v, p) => `${v}% of finished runs failed in the last ${p.windowMinutes} min (threshold ${p.threshold}%)`,
  flow_failures: (v, p) => `${v} runs failed in the last ${p.windowMinutes} min (threshold ${p.threshold})`,
  connection_needs_reauth: () => 'the connection needs to be reconnected by its end user',
  webhook_endpoint_disabled: () => 'the webhook endpoint is disabled',
  tenant_near_cap: (v, p) => `${v}% of the cap used (threshold ${p.threshold}%)`,
};

/**
 * Sends the notices incidents are owed — one when an incident fires, one when it resolves — on each
 * of its rule's channels. An incident is claimed with a lease before sending, so two workers never
 * both send it; each channel is marked in `notified` as soon as it succeeded, so a retry (the next
 * evaluation, up to MAX_NOTIFY_ATTEMPTS) repeats only the channels that failed.
 */
@Injectable()
export class AlertNotifier implements OnModuleDestroy {
  private mailer: Transporter | null = null;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly providers: ProviderClientService,
    private readonly webhooks: WebhookEventsService,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('AlertNotifier');
  }

  /** Sends every notice the tenant's incidents are owed; answers how many notices went out. */
  async notify(tenantId: TenantId): Promise<number> {
    const claimed: Pending[] = await tenantSql(this.db)
      .query(
        tenantId,
        `UPDATE alert_incidents i SET notify_lease_until = now() + make_interval(secs => $2), notify_attempts = i.notify_attempts + 1
         FROM alert_rules r
        WHERE i.tenant_id = $1 AND r.tenant_id = $1 AND r.id = i.rule_id
          AND i.notify_attempts < $3 AND (i.notify_lease_until IS NULL OR i.notify_lease_until < now())
          AND NOT (ARRAY(SELECT i.status || ':' || c FROM jsonb_object_keys(r.channels) c) <@ i.notified)
        RETURNING i.id, i.rule_id, i.subject, i.status, i.value, i.fired_at, i.resolved_at, i.notified, r.name, r.kind, r.params, r.channels`,
        [LEASE_SECONDS, MAX_NOTIFY_ATTEMPTS],
      )
      .then((result: [Pending[], number]) => result[0]);
    let sent = 0;
    for (const incident of claimed) {
      const errors: string[] = [];
      for (const channel of Object.keys(incident.channels) as AlertChannel[]) {
        const notice = `${incident.status}:${channel}`;
        if (incident.notified.includes(notice)) continue;
        try {
          await this.send(tenantId, channel, incident);
          await tenantSql(this.db).query(tenantId, `UPDATE alert_incidents SET notified = array_append(notified, $3) WHERE tenant_id = $1 AND id = $2`, [incident.id, notice]);
          sent++;
        } catch (error) {
          // The message only: a provider's or SMTP server's error never carries the credentials we sent.
          errors.push(`${channel}: ${(error as Error).message}`.slice(0, 500));
          this.logger.warn({ tenantId, incidentId: incident.id, channel, err: (error as Error).message }, 'alert notice failed; retried on the next evaluation');
        }
      }
      await tenantSql(this.db).query(tenantId, `UPDATE alert_incidents SET notify_lease_until = NULL, notify_error = $3 WHERE tenant_id = $1 AND id = $2`, [
        incident.id,
        errors.length > 0 ? errors.join('; ') : null,
      ]);
    }
    return sent;
  }

  private async send(tenantId: TenantId, channel: AlertChannel, incident: Pending): Promise<void> {
    const firing = incident.status === 'firing';
    const subject = `[${firing ? 'FIRING' : 'RESOLVED'}] ${incident.name}: ${incident.subject}`;
    const detail = firing ? UNITS[incident.kind](incident.value, incident.params) : `resolved at ${new Date(incident.resolved_at!).toISOString()}`;
    const text = `${subject}\n${detail}\nRule: ${incident.kind} (${incident.rule_id})`;
    if (channel === 'webhook') {
      await this.webhooks.publish(tenantId, firing ? 'alert.fired' : 'alert.resolved', {
        alert: {
          incidentId: incident.id,
          ruleId: incident.rule_id,
          ruleName: incident.name,
          kind: incident.kind,
          subject: incident.subject,
          status: incident.status,
          value: incident.value,
          firedAt: new Date(incident.fired_at).toISOString(),
          resolvedAt: incident.resolved_at ? new Date(incident.resolved_at).toISOString() : null,
        },
      });
    } else if (channel === 'slack') {
      const { connectionId, channel: slackChannel } = incident.channels.slack!;
      const { http } = await this.providers.forConnection(tenantId, connectionId);
      const response = await http.request<{ ok?: boolean; error?: string }>({ method: 'POST', path: 'chat.postMessage', body: { channel: slackChannel, text } });
      if (response.status >= 300 || response.data?.ok !== true) throw new Error(`Slack answered ${response.status} ${response.data?.error ?? ''}`.trim());
    } else {
      const mailer = this.transport();
      if (!mailer) throw new Error('SMTP_URL is not set: email notices cannot be sent');
      await mailer.sendMail({ from: this.config.alerts.from, to: incident.channels.email, subject, text });
    }
  }

  private transport(): Transporter | null {
    if (!this.config.alerts.smtpUrl) return null;
    // One transport per process, without nodemailer's logger, so the URL's credentials are never printed.
    // Required on the first email notice: a process that sends none does not carry nodemailer.
    const { createTransport } = require('nodemailer') as typeof import('nodemailer');
    this.mailer ??= createTransport(this.config.alerts.smtpUrl, { from: this.config.alerts.from });
    return this.mailer;
  }

  onModuleDestroy(): void {
    this.mailer?.close();
  }
}
