import type { JobOptions } from 'bull';

/** Jobs carry ids only; everything else is read from PostgreSQL. */
export interface RunJob {
  runId: string;
  /** Lets the worker take the tenant's run slot before reading anything (older jobs may lack it). */
  tenantId?: string;
  /** A timed-out approval to settle before resuming the run. */
  expireApproval?: string;
  /** A caller waits for the run: its finish is announced with the run itself. */
  reply?: true;
}

/**
 * Options of every run job. `attempts` is unbounded because a run over its tenant's concurrency
 * cap is postponed by failing its job with a backoff (the same job id, so nothing doubles); any
 * other failure discards the job (see RunProcessor).
 */
export const runJobOptions = (jobId: string, delay?: number): JobOptions => ({
  jobId,
  delay,
  attempts: Number.MAX_SAFE_INTEGER,
  removeOnComplete: true,
  removeOnFail: 1000,
  stackTraceLimit: 1,
});

/** The job of attempt `attempt` of a retried run (a fresh id: the first attempt's job may still be kept as failed). */
export const retryJobId = (runId: string, attempt: number) => `${runId}:retry:${attempt}`;

/** Every id a run job is added under, in one place: the id decides whether two adds are one job. */
export const runJobIds = {
  /** The run's first execution (and recovery's re-enqueue of it). */
  start: (runId: string) => runId,
  retry: retryJobId,
  /** The wake-up of a delay: one per moment, so two delays of one run never collide. */
  wake: (runId: string, until: number) => `${runId}:wake:${until}`,
  /** The resume after an approval's decision. */
  decided: (runId: string, approvalId: string) => `${runId}:approval:${approvalId}`,
  /** An approval's timeout: added again on every resume, deduplicated by this id. */
  approvalTimeout: (approvalId: string) => `approval:${approvalId}:timeout`,
};
