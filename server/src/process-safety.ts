import { dependencyOutage } from './common/errors/dependency-errors';

/** Rejections no code awaited, since boot; exported as `process_unhandled_rejections_total`. */
export const unhandledRejections = { total: 0 };

type Log = (fields: Record<string, unknown>, message: string) => void;

/**
 * Process-level policy, installed first thing by main.ts and worker.ts. An unhandled rejection is a
 * bug in one piece of work (a promise nobody awaited), not a corrupt process: it is logged with its
 * stack and counted, and the process goes on serving everyone else; exiting would turn one bad
 * promise — typically a PostgreSQL or Redis outage meeting a fire-and-forget call — into an outage of
 * every request and run in flight. An uncaught exception is different: it unwound a stack mid-way,
 * so state may be half-changed; it is logged and the process exits (1) for its supervisor to restart
 * (runs resume from their checkpoints).
 */
export function installProcessSafety(log: { warn: Log; error: Log; fatal: Log }): void {
  process.on('unhandledRejection', (reason) => {
    unhandledRejections.total++;
    const outage = dependencyOutage(reason);
    // During an outage these are expected noise; anything else is a bug to fix.
    if (outage) log.warn({ err: reason, outage }, 'unhandled promise rejection during a dependency outage (the process goes on)');
    else log.error({ err: reason }, 'unhandled promise rejection (the process goes on)');
  });
  process.on('uncaughtException', (error) => {
    log.fatal({ err: error }, 'uncaught exception: exiting');
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100).unref();
  });
}
