import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { api, ApiError, messageOf, type Run, type StepRecord } from '../api';
import { hasRoute, loadFeatures } from '../features';
import { formatCount, formatDateTime, formatDuration } from '../format';
import { Link } from '../router';
import { can } from '../session';
import { Alert, Badge } from '../ui/alert';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { JsonBlock } from '../ui/json-block';
import { Breadcrumb, EmptyState, PageHeader } from '../ui/page';
import { Loaded, useResource } from '../ui/resource';
import { RunStatusBadge } from '../ui/status';
import { Time } from '../ui/time';
import { toast } from '../ui/toast';
import { FlushCard } from '../ui/table';
import { AgentStepItem, groupSteps } from './run-agent';
import { useVisiblePolling } from './runs';

const RUN_POLL_MS = 2000;
const isFinished = (run: Run) => run.status === 'succeeded' || run.status === 'failed' || run.status === 'cancelled';

export function RunDetail({ runId }: { runId: string }) {
  const run = useResource(() => api.run(runId), [runId]);
  const templates = useResource(() => api.templates(), []);
  const current = run.data.value;
  const flowName = current?.flow ? (templates.data.value?.data.find((t) => t.key === current.flow)?.name ?? current.flow) : null;
  useEffect(() => void loadFeatures(), []);
  useVisiblePolling(() => void run.reload(), RUN_POLL_MS, current !== null && !isFinished(current));

  return (
    <>
      <Breadcrumb to="runs" section="Runs" class="mono">
        {runId.slice(0, 8)}
      </Breadcrumb>
      <PageHeader
        title={current ? (current.flow ? `Run of ${flowName ?? 'a flow'}` : current.tool ? `MCP call of ${current.tool}` : 'Run') : 'Run'}
        description={<span class="mono small">{runId}</span>}
        actions={current && <RunActions run={current} onChanged={(next) => (run.data.value = next)} />}
      />
      {run.status.value === 404 || run.status.value === 400 ? (
        <EmptyState title="There is no such run in this tenant.">
          <Link to="runs">See every run</Link>
        </EmptyState>
      ) : (
        <Loaded resource={run} what="the run">
          {(r) => <RunBody run={r} flowName={flowName} />}
        </Loaded>
      )}
    </>
  );
}

function RunActions({ run, onChanged }: { run: Run; onChanged: (run: Run) => void }) {
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const confirming = useSignal(false);
  // Retry and cancel exist only on servers whose engine has them; the buttons are hidden otherwise.
  const canRetry = can('developer') && run.status === 'failed' && hasRoute('POST /v1/admin/runs/{id}/retry');
  const canCancel = can('developer') && !isFinished(run) && hasRoute('POST /v1/admin/runs/{id}/cancel');

  async function act(action: 'retry' | 'cancel') {
    busy.value = true;
    error.value = null;
    try {
      const next = action === 'retry' ? await api.retryRun(run.id) : await api.cancelRun(run.id);
      onChanged(next);
      confirming.value = false;
      toast(action === 'retry' ? 'Retrying from the failed step' : 'Cancelling the run');
    } catch (caught) {
      error.value = caught instanceof ApiError && caught.code === 'route_not_found' ? 'This server cannot do that yet.' : messageOf(caught);
    } finally {
      busy.value = false;
    }
  }

  return (
    <div class="run-actions">
      <RunStatusBadge status={run.status} />
      {canRetry && (
        <button type="button" class="btn btn-primary" disabled={busy.value} onClick={() => act('retry')}>
          {busy.value ? 'Retrying…' : 'Retry from failed step'}
        </button>
      )}
      {canCancel && (
        <button type="button" class="btn btn-secondary" disabled={busy.value} onClick={() => (confirming.value = true)}>
          Cancel run
        </button>
      )}
      {error.value && !confirming.value && (
        <p class="field-error" role="alert">
          {error.value}
        </p>
      )}
      {confirming.value && (
        <ConfirmDialog
          title="Cancel this run?"
          confirmLabel="Cancel run"
          busy={busy.value}
          error={error.value}
          onConfirm={() => act('cancel')}
          onCancel={() => (confirming.value = false)}
        >
          <p>Steps already done stay done; nothing after the current step runs. A cancelled run cannot be resumed.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

const eventName = (run: Run): string | null => {
  const trigger = run.trigger as { event?: unknown } | null;
  return run.triggerType === 'event' && trigger && typeof trigger.event === 'string' ? trigger.event : null;
};

function RunBody({ run, flowName }: { run: Run; flowName: string | null }) {
  return (
    <>
      {run.error && (
        <Alert tone="error" title={`Failed${run.error.step ? ` at step “${run.error.step}”` : ''}: ${run.error.code}`}>
          {run.error.message}
        </Alert>
      )}
      <section class="card" aria-labelledby="run-facts-title">
        <h2 id="run-facts-title" class="sr-only">
          Summary
        </h2>
        <dl class="fact-grid">
          <div>
            <dt>Flow</dt>
            <dd>{run.flow ? <Link to={`flows/${run.flow}`}>{flowName ?? run.flow}</Link> : run.tool ? `None: an AI assistant's call of ${run.tool} (MCP)` : '—'}</dd>
          </div>
          <div>
            <dt>End user</dt>
            <dd>{run.endUserId ? <Link to={`end-users/${encodeURIComponent(run.endUserId)}`}>{run.endUserId}</Link> : '—'}</dd>
          </div>
          <div>
            <dt>Trigger</dt>
            <dd>
              {run.triggerType}
              {eventName(run) && <code class="small"> {eventName(run)}</code>}
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              <Time iso={run.createdAt} />
            </dd>
          </div>
          <div>
            <dt>Finished</dt>
            <dd>{run.finishedAt ? <Time iso={run.finishedAt} /> : '—'}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{formatDuration(run.durationMs)}</dd>
          </div>
          <div>
            <dt>Attempt</dt>
            <dd>{run.attempt ?? 1}</dd>
          </div>
          {run.usage && run.usage.totalTokens > 0 && (
            <div>
              <dt>AI tokens</dt>
              <dd>
                {formatCount(run.usage.totalTokens)}{' '}
                <span class="muted small nowrap">
                  ({formatCount(run.usage.inputTokens)} in · {formatCount(run.usage.outputTokens)} out)
                </span>
              </dd>
            </div>
          )}
        </dl>
      </section>
      <Timeline run={run} />
      <div class="two-equal">
        <section class="card" aria-labelledby="trigger-title">
          <h2 id="trigger-title" class="card-title">
            Trigger payload
          </h2>
          <JsonBlock value={run.trigger} label="Trigger payload" />
        </section>
        <section class="card" aria-labelledby="result-title">
          <h2 id="result-title" class="card-title">
            Result
          </h2>
          {run.result === null || run.result === undefined ? (
            <p class="muted">{isFinished(run) ? 'No result.' : 'Not finished yet.'}</p>
          ) : (
            <JsonBlock value={run.result} label="Result" />
          )}
        </section>
      </div>
    </>
  );
}

const STEP_TONE: Record<StepRecord['status'], 'success' | 'danger' | 'neutral' | 'warning'> = {
  succeeded: 'success',
  failed: 'danger',
  skipped: 'neutral',
  waiting: 'warning',
  running: 'neutral',
  cancelled: 'neutral',
};

/** The steps in order, each with a bar placing it in the run's time, and its input, output and error. */
function Timeline({ run }: { run: Run }) {
  // The span the steps cover (a retried run's steps are from its latest attempt, long after it was created).
  const starts = run.steps.map((s) => Date.parse(s.startedAt));
  const start = starts.length ? Math.min(...starts) : Date.parse(run.startedAt ?? run.createdAt);
  const end = Math.max(...run.steps.map((s) => Date.parse(s.startedAt) + s.durationMs), start + 1);
  const span = end - start;
  const items = groupSteps(run.steps);
  const hasAgents = items.some((item) => item.kind === 'agent');
  // Tool calls are named "<Action> in <Connector>" from the catalogue (loaded only for runs with agents).
  const connectors = useResource(() => (hasAgents ? api.connectors().then((page) => page.data) : Promise.resolve(null)), [hasAgents]);
  const bar = (step: StepRecord) => {
    const offset = ((Date.parse(step.startedAt) - start) / span) * 100;
    const width = Math.max(0.6, (step.durationMs / span) * 100);
    return (
      <span class="timeline-bar" aria-hidden="true">
        <svg width="100%" height="8" viewBox="0 0 100 8" preserveAspectRatio="none">
          <rect class="timeline-track" x="0" y="0" width="100" height="8" rx="2" />
          <rect
            class={`timeline-fill timeline-fill-${step.status}`}
            x={Math.min(99.4, Math.max(0, offset))}
            y="0"
            width={Math.min(width, 100 - Math.max(0, offset))}
            height="8"
            rx="2"
          />
        </svg>
      </span>
    );
  };
  return (
    <FlushCard
      titleId="timeline-title"
      title="Steps"
      aside={
        <span class="muted small">
          {items.length} step{items.length === 1 ? '' : 's'}
          {run.startedAt ? ` · started ${formatDateTime(run.startedAt)}` : ''}
        </span>
      }
    >
      {run.steps.length === 0 ? (
        <EmptyState title={run.status === 'queued' ? 'Waiting for a worker to pick this run up' : 'No steps ran'} />
      ) : (
        <ol class="timeline">
          {items.map((item) => {
            if (item.kind === 'agent') {
              return (
                <AgentStepItem
                  key={item.agent.path}
                  agent={item.agent}
                  subSteps={item.subSteps}
                  connectors={connectors.data.value}
                  bar={bar}
                  tone={(status) => STEP_TONE[status]}
                />
              );
            }
            const step = item.step;
            return (
              <li key={step.path} class={`timeline-step timeline-${step.status}`} data-step={step.path}>
                <details open={step.status === 'failed' || step.status === 'cancelled' || step.possibleDuplicate === true}>
                  <summary>
                    <span class="timeline-marker" aria-hidden="true" />
                    <span class="timeline-name">
                      <span class="cell-strong">{step.id}</span>
                      <span class="muted small"> {step.type}</span>
                      {step.path !== step.id && <code class="timeline-path">{step.path}</code>}
                    </span>
                    {bar(step)}
                    <span class="timeline-meta">
                      <Badge tone={STEP_TONE[step.status]}>{step.status}</Badge>
                      {step.outcome === 'unknown' && <Badge tone="warning">outcome unknown</Badge>}
                      {step.possibleDuplicate && <Badge tone="warning">possible duplicate</Badge>}
                      <span class="nowrap">{formatDuration(step.durationMs)}</span>
                      <span class="nowrap muted small">
                        {step.attempts} attempt{step.attempts === 1 ? '' : 's'}
                      </span>
                    </span>
                  </summary>
                  <div class="timeline-detail">
                    {step.outcome === 'unknown' && (
                      <Alert tone="warning" title="Outcome unknown — the provider may have received this request">
                        The call was abandoned before {step.status === 'cancelled' ? 'the run was cancelled' : 'it answered'}, so it may still have taken effect. Check the provider
                        before retrying
                        {step.idempotencyKey ? (
                          <>
                            {' '}
                            (idempotency key <code>{step.idempotencyKey}</code>)
                          </>
                        ) : null}
                        .
                      </Alert>
                    )}
                    {step.possibleDuplicate && (
                      <Alert tone="warning" title="Possible duplicate">
                        This call was sent again after an earlier attempt may already have reached the provider (a worker stopped mid-call, or the run was retried after an unknown
                        outcome). Providers that honour the idempotency key
                        {step.idempotencyKey ? (
                          <>
                            {' '}
                            <code>{step.idempotencyKey}</code>
                          </>
                        ) : null}{' '}
                        act only once; others may have acted twice.
                      </Alert>
                    )}
                    {step.error && (
                      <Alert tone="error" title={step.error.code}>
                        {step.error.message}
                      </Alert>
                    )}
                    <div class="two-equal">
                      <div>
                        <h3 class="detail-title">Input</h3>
                        {step.input === undefined ? <p class="muted small">None recorded.</p> : <JsonBlock value={step.input} label={`Input of ${step.id}`} />}
                      </div>
                      <div>
                        <h3 class="detail-title">Output</h3>
                        {step.output === undefined ? <p class="muted small">None.</p> : <JsonBlock value={step.output} label={`Output of ${step.id}`} />}
                      </div>
                    </div>
                    <p class="muted small">
                      Started <Time iso={step.startedAt} />
                    </p>
                  </div>
                </details>
              </li>
            );
          })}
        </ol>
      )}
    </FlushCard>
  );
}
