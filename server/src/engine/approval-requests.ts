import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { DataSource } from 'typeorm';
import { tenantSql } from '../common/tenancy/tenant-sql';
import { trustedTenantId } from '../common/tenancy/tenant-id';
import { APPROVAL_DEFAULTS, type ApprovalStep } from '../flows/definition/flow-definition.schema';
import { QUEUES } from '../queues/queues.module';
import { WebhookEventsService } from '../webhooks/webhook-events.service';
import type { Approval } from './approval.entity';
import { approvalView } from './approvals.dto';
import type { ApprovalOutcome, Asked } from './executor';
import { RunJob, runJobIds, runJobOptions } from './run-jobs';
import type { LoadedRun } from './run-store';

interface ApprovalRow {
  id: string;
  status: string;
  approved: boolean | null;
  decided_via: string | null;
  decided_by: string | null;
  comment: string | null;
  decided_at: Date | null;
  expires_at: Date | null;
  created_at: Date;
  created: boolean;
}

const COLUMNS = 'id, status, approved, decided_via, decided_by, comment, decided_at, expires_at, created_at';
/** The approval of a step of a run's attempt: $2 run, $3 step path, $4 attempt. */
const FIND = `SELECT ${COLUMNS}, false AS created FROM approvals WHERE tenant_id = $1 AND run_id = $2 AND step_path = $3 AND run_attempt = $4`;

/** The approvals approval steps (and agents' gated tool calls) ask, as the worker finds or creates them. */
@Injectable()
export class ApprovalRequests {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectQueue(QUEUES.runs) private readonly queue: Queue<RunJob>,
    private readonly webhooks: WebhookEventsService,
  ) {}

  /**
   * The approval of one step (path) of one attempt of a run: created the first time the run
   * reaches it, found again on every resume (so never asked twice). Its outcome once decided, else
   * `{ pending }` (with its timeout job in place).
   */
  async findOrCreate(run: LoadedRun, flowName: string, path: string, step: ApprovalStep, ask: Asked | (() => Promise<Asked>)): Promise<ApprovalOutcome | { pending: string }> {
    const tenantId = trustedTenantId(run.tenant_id);
    // Found again on every resume: what it asks is computed (possibly from the provider) only the first time.
    const [existing]: ApprovalRow[] = await tenantSql(this.db).query(tenantId, FIND, [run.id, path, run.attempt]);
    if (existing) return this.outcome(run, existing);
    const asked = typeof ask === 'function' ? await ask() : ask;
    const expiresAt = step.timeoutMs ? new Date(Date.now() + step.timeoutMs) : null;
    // The CTE's insert is invisible to the second SELECT (same snapshot): exactly one row either way.
    // The approval.requested webhook is written in the insert's transaction (outbox).
    const row = await this.db.transaction(async (manager) => {
      const [found]: ApprovalRow[] = await tenantSql(manager).query(
        tenantId,
        `WITH created AS (
           INSERT INTO approvals (tenant_id, run_id, run_attempt, step_path, step_id, end_user_id, end_user_external_id, flow_key, flow_name, title, description, approvers, on_timeout, expires_at)
           VALUES ($1, $2, $4, $3, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
           ON CONFLICT (run_id, step_path, run_attempt) DO NOTHING
           RETURNING ${COLUMNS}, true AS created)
         SELECT * FROM created
         UNION ALL
         ${FIND}`,
        [
          run.id,
          path,
          run.attempt,
          step.id,
          run.end_user_id,
          run.external_id,
          run.flow_key,
          flowName,
          asked.title,
          asked.description,
          step.approvers ?? APPROVAL_DEFAULTS.approvers,
          step.onTimeout ?? APPROVAL_DEFAULTS.onTimeout,
          expiresAt,
        ],
      );
      if (found.created) {
        const approval = {
          id: found.id,
          runId: run.id,
          flowKey: run.flow_key,
          flowName,
          stepId: step.id,
          endUserExternalId: run.external_id,
          title: asked.title,
          description: asked.description,
          approvers: step.approvers ?? APPROVAL_DEFAULTS.approvers,
          status: 'pending',
          decidedBy: null,
          decidedVia: null,
          comment: null,
          createdAt: new Date(found.created_at),
          expiresAt: found.expires_at ? new Date(found.expires_at) : null,
          decidedAt: null,
        } as Approval;
        await this.webhooks.publish(tenantId, 'approval.requested', { endUserId: run.external_id, approval: approvalView(approval) }, manager);
      }
      return found;
    });
    return this.outcome(run, row);
  }

  /** A found or created approval: its decision, or pending (with its timeout job in place). */
  private async outcome(run: LoadedRun, row: ApprovalRow): Promise<ApprovalOutcome | { pending: string }> {
    const tenantId = trustedTenantId(run.tenant_id);
    if (row.status === 'pending') {
      if (row.expires_at) {
        // Added on every resume too (a crash may have come between the insert and this); the job id dedups it.
        await this.queue.add(
          { runId: run.id, tenantId, expireApproval: row.id },
          runJobOptions(runJobIds.approvalTimeout(row.id), Math.max(0, new Date(row.expires_at).getTime() - Date.now())),
        );
      }
      return { pending: row.id };
    }
    return {
      approved: row.approved === true,
      decidedBy: row.decided_by,
      decidedVia: row.decided_via ?? 'timeout',
      comment: row.comment,
      decidedAt: new Date(row.decided_at ?? Date.now()).toISOString(),
    };
  }
}
