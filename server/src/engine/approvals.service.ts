import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { DataSource, In } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { AppError } from '../common/errors/app-error';
import type { TenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { redisAfterCommit } from '../queues/after-commit-redis';
import { QUEUES } from '../queues/queues.module';
import { PinoLogger } from 'nestjs-pino';
import { Approval, ApprovalStatus } from './approval.entity';
import { RunJob, runJobIds, runJobOptions } from './run-jobs';
import { decodeTimeCursor, encodeTimeCursor } from '../common/http/cursors';

export interface ApprovalFilters {
  status?: ApprovalStatus;
  /** The end user's external id. */
  endUserId?: string;
  cursor?: string;
  limit: number;
}

/** Who decides: the end user (by their internal id, and only their own approvals) or the host backend. */
export type Decider = { via: 'end_user'; endUserId: string; externalId: string } | { via: 'host'; name?: string };

@Injectable()
export class ApprovalsService {
  constructor(
    @InjectTenantScoped(Approval) private readonly approvals: TenantScopedRepository<Approval>,
    @InjectDataSource() private readonly db: DataSource,
    @InjectQueue(QUEUES.runs) private readonly queue: Queue<RunJob>,
    private readonly audit: AuditService,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('ApprovalsService');
  }

  /** Newest first. `ownEndUserId` (internal id) restricts to one end user's approvals. */
  async list(tenantId: TenantId, filters: ApprovalFilters, ownEndUserId?: string): Promise<{ data: Approval[]; nextCursor: string | null }> {
    const q = this.approvals.query(tenantId, 'a');
    if (ownEndUserId) q.andWhere('a.endUserId = :own', { own: ownEndUserId });
    if (filters.status) q.andWhere('a.status = :status', { status: filters.status });
    if (filters.endUserId) q.andWhere('a.endUserExternalId = :externalId', { externalId: filters.endUserId });
    if (filters.cursor) {
      const { at, id } = decodeTimeCursor(filters.cursor);
      q.andWhere('(a.createdAt, a.id) < (:at, :id)', { at: at.toISOString(), id });
    }
    const rows = await q
      .orderBy('a.createdAt', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .limit(filters.limit + 1)
      .getMany();
    const data = rows.slice(0, filters.limit);
    const last = data[data.length - 1];
    return { data, nextCursor: rows.length > filters.limit && last ? encodeTimeCursor(last.createdAt, last.id) : null };
  }

  get(tenantId: TenantId, id: string, ownEndUserId?: string): Promise<Approval> {
    return this.approvals.get(tenantId, ownEndUserId ? { id, endUserId: ownEndUserId } : { id }, id);
  }

  /**
   * Approves or rejects a pending approval and resumes its run. The update is conditional on
   * `pending` (and on the approver rule), so of two concurrent decisions exactly one wins; the
   * other gets 409 approval_already_decided.
   */
  async decide(actor: Actor, id: string, approved: boolean, decider: Decider, comment?: string): Promise<Approval> {
    const own = decider.via === 'end_user' ? decider.endUserId : undefined;
    const decided = await this.db.transaction(async (manager) => {
      const repo = this.approvals.with(manager);
      const changed = await repo.update(
        actor.tenantId,
        { id, status: 'pending', approvers: In(['any', decider.via]), ...(own ? { endUserId: own } : {}) },
        {
          status: approved ? 'approved' : 'rejected',
          approved,
          decidedVia: decider.via,
          decidedBy: decider.via === 'end_user' ? decider.externalId : (decider.name ?? 'host'),
          comment: comment ?? null,
          decidedAt: new Date(),
        },
      );
      const approval = await repo.get(actor.tenantId, own ? { id, endUserId: own } : { id }, id);
      if (changed === 0) {
        if (approval.approvers !== 'any' && approval.approvers !== decider.via) {
          throw new AppError('forbidden', `Approval ${id} can only be decided by the ${approval.approvers === 'host' ? 'host application' : 'end user'}`, {
            approvers: approval.approvers,
          });
        }
        throw new AppError('approval_already_decided', `Approval ${id} was already decided (${approval.status})`, {
          status: approval.status,
          decidedAt: approval.decidedAt?.toISOString() ?? null,
        });
      }
      await this.audit.record(actor, approved ? 'approval.approved' : 'approval.rejected', { type: 'approval', id }, { runId: approval.runId, stepId: approval.stepId }, manager);
      return approval;
    });
    // The run resumes from its checkpoint and reads the decision (one job per approval: a repeat is a no-op).
    await redisAfterCommit(this.logger, 'enqueue a decided approval', { runId: decided.runId, approvalId: id }, () =>
      this.queue.add({ runId: decided.runId, tenantId: actor.tenantId }, runJobOptions(runJobIds.decided(decided.runId, id))),
    );
    return decided;
  }
}
