import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { unhandledRejections } from '../process-safety';

/** One registry per process, so tests that boot several apps in one process do not collide. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const queueJobs = new Gauge({
    name: 'queue_jobs',
    help: 'Jobs per Bull queue and state, read at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
  });
  new Counter({
    name: 'process_unhandled_rejections_total',
    help: 'Promise rejections no code awaited, since the process started (logged; the process goes on)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(unhandledRejections.total);
    },
  });
  // Counters kept in PostgreSQL (token_usage, written by whichever worker made the call), read at scrape time.
  const llmTokens = new Gauge({
    name: 'llm_tokens_total',
    help: 'Tokens used by AI agent steps, all tenants, since the deployment began (by input/output)',
    labelNames: ['direction'] as const,
    registers: [registry],
  });
  const llmCalls = new Gauge({ name: 'llm_model_calls_total', help: 'Model calls made by AI agent steps, all tenants, since the deployment began', registers: [registry] });
  return { registry, httpDuration, queueJobs, llmTokens, llmCalls };
}

export type Metrics = ReturnType<typeof createMetrics>;
export const METRICS = Symbol('METRICS');
