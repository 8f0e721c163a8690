import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';

const callbacks = new WeakMap<QueryRunner, Array<() => void>>();

/** Runs callbacks queued on a transaction's query runner once its outermost COMMIT is done; drops them on rollback. */
class AfterCommitSubscriber implements EntitySubscriberInterface {
  afterTransactionCommit(event: TransactionCommitEvent): void {
    if (event.queryRunner.isTransactionActive) return; // a savepoint was released; the outer transaction goes on
    const queued = callbacks.get(event.queryRunner) ?? [];
    callbacks.delete(event.queryRunner);
    for (const callback of queued) callback();
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    if (!event.queryRunner.isTransactionActive) callbacks.delete(event.queryRunner);
  }
}

export function installAfterCommit(db: DataSource): void {
  if (!db.subscribers.some((s) => s instanceof AfterCommitSubscriber)) db.subscribers.push(new AfterCommitSubscriber());
}

/**
 * Calls `callback` after the transaction `manager` belongs to commits (never if it rolls back), or
 * right away when there is no transaction. Jobs enqueued this way never run before their rows exist.
 */
export function afterCommit(manager: EntityManager | undefined, callback: () => void): void {
  const runner = manager?.queryRunner;
  if (!runner || !runner.isTransactionActive) return callback();
  const queued = callbacks.get(runner) ?? [];
  queued.push(callback);
  callbacks.set(runner, queued);
}
