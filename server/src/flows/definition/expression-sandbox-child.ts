/**
 * A sandbox child (see expression-sandbox.ts): evaluates one job at a time and answers over IPC.
 * Runs with a capped heap and an empty environment; its parent kills it when a job overruns.
 */
import { Worker } from 'node:worker_threads';
import { EXPRESSION_LIMITS, type SandboxJob, type SandboxReply } from './expression-sandbox';
import { evaluateInProcess, ExpressionError } from './expressions';

// JSONata's own (cooperative) timeout: the parent's budget, handed over as the first argument.
EXPRESSION_LIMITS.timeoutMs = Number(process.argv[2]) || EXPRESSION_LIMITS.timeoutMs;

/**
 * The watchdog: a thread that SIGKILLs this process when its parent is gone (a parent killed with
 * SIGKILL cannot kill us, and a main thread stuck in a native regex never sees 'disconnect') or
 * when a job outlives twice its budget (should the parent's timer ever not fire).
 */
const jobStartedAt = new Float64Array(new SharedArrayBuffer(8));
new Worker(
  `const { workerData } = require('node:worker_threads');
  const started = new Float64Array(workerData.started);
  setInterval(() => {
    if (process.ppid !== workerData.parent || (started[0] > 0 && Date.now() - started[0] > workerData.budgetMs)) process.kill(process.pid, 'SIGKILL');
  }, 250);`,
  { eval: true, workerData: { started: jobStartedAt.buffer, parent: process.ppid, budgetMs: 2 * EXPRESSION_LIMITS.timeoutMs + 1000 } },
).unref();

async function run(job: SandboxJob): Promise<SandboxReply> {
  if (job.op === 'test') return { ok: true, json: JSON.stringify(new RegExp(job.pattern, 'u').test(job.value)) };
  let value: unknown;
  try {
    value = await evaluateInProcess(job.template, JSON.parse(job.bindings));
  } catch (error) {
    if (!(error instanceof ExpressionError)) return { ok: false, error: { message: error instanceof Error ? error.message : String(error) } };
    // JSONata's own timeout (checked between its steps) is the same bound as the parent's kill timer.
    if (error.code === 'D1012') return { ok: false, limit: 'expression_timeout', expression: error.expression, path: error.path };
    return { ok: false, error: { message: error.message, expression: error.expression, code: error.code, position: error.position, path: error.path } };
  }
  if (value === undefined) return { ok: true };
  const json = JSON.stringify(value);
  const bytes = Buffer.byteLength(json);
  if (bytes > EXPRESSION_LIMITS.maxResultBytes) return { ok: false, limit: 'expression_result_too_large', bytes };
  return { ok: true, json };
}

process.on('message', (job: SandboxJob) => {
  jobStartedAt[0] = Date.now();
  void run(job)
    .finally(() => (jobStartedAt[0] = 0))
    .catch((error: unknown): SandboxReply => ({ ok: false, error: { message: error instanceof Error ? error.message : String(error) } }))
    .then((reply) => process.send!(reply));
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
