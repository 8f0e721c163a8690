/**
 * A sandbox child (see expression-sandbox.ts): evaluates one job at a time and answers over IPC.
 * Runs with a capped heap and an empty environment; its parent kills it when a job overruns.
 */
import { EXPRESSION_LIMITS, type SandboxJob, type SandboxReply } from './expression-sandbox';
import { evaluateInProcess, ExpressionError } from './expressions';

// JSONata's own (cooperative) timeout: the parent's budget, handed over as the first argument.
EXPRESSION_LIMITS.timeoutMs = Number(process.argv[2]) || EXPRESSION_LIMITS.timeoutMs;

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
  void run(job)
    .catch((error: unknown): SandboxReply => ({ ok: false, error: { message: error instanceof Error ? error.message : String(error) } }))
    .then((reply) => process.send!(reply));
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
