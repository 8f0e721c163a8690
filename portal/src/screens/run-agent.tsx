import type { JSX } from 'preact';
import type { Connector, StepRecord, TokenUsage } from '../api';
import { capitalize, formatCount, formatDuration } from '../format';
import { Link } from '../router';
import { Alert, Badge } from '../ui/alert';
import { JsonBlock } from '../ui/json-block';
import { Time } from '../ui/time';

/**
 * AI agent steps on the run page. An agent step records itself at `<path>` (type `agent`), its model
 * calls at `<path>/turn[i]` (type `model`) and their tool calls at `<path>/turn[i]/call[j]` (type
 * `tool`); the timeline shows the agent as one expandable group with those nested under it, in order.
 */

export type TimelineItem = { kind: 'step'; step: StepRecord } | { kind: 'agent'; agent: StepRecord; subSteps: StepRecord[] };

/** The run's steps with each agent's sub-steps gathered under it (grouped by path prefix, order kept). */
export function groupSteps(steps: StepRecord[]): TimelineItem[] {
  const agents = new Map<string, { kind: 'agent'; agent: StepRecord; subSteps: StepRecord[] }>();
  for (const step of steps) if (step.type === 'agent') agents.set(step.path, { kind: 'agent', agent: step, subSteps: [] });
  const items: TimelineItem[] = [];
  for (const step of steps) {
    const group = agents.get(step.path);
    if (group && group.agent === step) {
      items.push(group);
      continue;
    }
    const owner = step.type === 'model' || step.type === 'tool' ? agentOf(step.path, agents) : undefined;
    if (owner) owner.subSteps.push(step);
    else items.push({ kind: 'step', step });
  }
  return items;
}

/** The agent a sub-step belongs to: the path before one of its `/turn[` segments that names an agent step. */
function agentOf<T>(path: string, agents: Map<string, T>): T | undefined {
  for (let at = path.indexOf('/turn['); at !== -1; at = path.indexOf('/turn[', at + 1)) {
    const found = agents.get(path.slice(0, at));
    if (found) return found;
  }
  return undefined;
}

interface ModelOutput {
  text?: string;
  toolCalls?: { id: string; name: string; input: unknown }[];
  finishReason?: string;
  model?: string;
}

interface AgentSummary {
  provider?: string;
  model?: string | null;
  instructions?: string;
  input?: unknown;
  tools?: string[];
}

/** What a tool name the model sees (`slack_send_message`) stands for: "Send message in Slack". */
type ToolNames = (name: string) => string;

const humanize = (key: string): string => capitalize(key.replace(/[_-]+/g, ' ').trim());

function toolNamer(summary: AgentSummary, connectors: Connector[] | null): ToolNames {
  const names = new Map<string, string>();
  for (const ref of Array.isArray(summary.tools) ? summary.tools : []) {
    if (typeof ref !== 'string') continue;
    const dot = ref.lastIndexOf('.');
    if (dot < 1) continue;
    const connectorKey = ref.slice(0, dot).split(':')[0]!;
    const actionKey = ref.slice(dot + 1);
    const connector = connectors?.find((c) => c.key === connectorKey);
    const action = connector?.actions.find((a) => a.key === actionKey)?.name ?? humanize(actionKey);
    names.set(ref.replace(/[.:]/g, '_'), `${action} in ${connector?.name ?? humanize(connectorKey)}`);
  }
  return (name) => names.get(name) ?? name;
}

const tokens = (usage: TokenUsage | undefined): string | null =>
  usage && usage.totalTokens > 0 ? `${formatCount(usage.inputTokens)} in · ${formatCount(usage.outputTokens)} out` : null;

const FINISH: Record<string, string> = {
  stop: 'It finished its answer.',
  'tool-calls': 'It chose tools to call.',
  length: 'It stopped at its output token limit.',
  'content-filter': "The provider's content filter stopped it.",
  error: 'The provider reported an error.',
};

const DECIDED_VIA: Record<string, string> = { end_user: 'the end user', host: 'the host app', timeout: 'timeout', cancel: 'cancellation' };

/** One line per argument: `channel: #general`. */
function Arguments({ input }: { input: unknown }) {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return input === undefined ? null : <code class="small">{JSON.stringify(input)}</code>;
  const entries = Object.entries(input as Record<string, unknown>);
  if (entries.length === 0) return <span class="muted small">no arguments</span>;
  return (
    <dl class="agent-args">
      {entries.map(([key, value]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

interface ItemProps {
  agent: StepRecord;
  subSteps: StepRecord[];
  connectors: Connector[] | null;
  /** The step's bar in the run's time (the timeline's own). */
  bar: (step: StepRecord) => JSX.Element;
  tone: (status: StepRecord['status']) => 'success' | 'danger' | 'neutral' | 'warning';
}

/** The agent step as an expandable group: its answer and totals, then each model call and tool call. */
export function AgentStepItem({ agent, subSteps, connectors, bar, tone }: ItemProps) {
  const summary = (agent.input ?? {}) as AgentSummary;
  const output = (agent.output ?? null) as { answer?: unknown; modelCalls?: number; toolCalls?: number } | null;
  const nameOf = toolNamer(summary, connectors);
  const models = subSteps.filter((s) => s.type === 'model');
  const calls = subSteps.filter((s) => s.type === 'tool');
  const usage = agent.usage ?? sumUsage(models);
  const waiting = calls.some((c) => c.status === 'waiting');
  let turn = 0;
  return (
    <li class={`timeline-step timeline-${agent.status} timeline-agent`} data-step={agent.path}>
      <details open={agent.status === 'failed' || agent.status === 'waiting' || agent.status === 'cancelled'}>
        <summary>
          <span class="timeline-marker" aria-hidden="true" />
          <span class="timeline-name">
            <span class="cell-strong">{agent.id}</span>
            <span class="muted small"> AI agent</span>
            {agent.path !== agent.id && <code class="timeline-path">{agent.path}</code>}
          </span>
          {bar(agent)}
          <span class="timeline-meta">
            <Badge tone={tone(agent.status)}>{agent.status}</Badge>
            {waiting && <Badge tone="warning">Waiting for approval</Badge>}
            {usage.totalTokens > 0 && <span class="nowrap small">{formatCount(usage.totalTokens)} tokens</span>}
            <span class="nowrap">{formatDuration(agent.durationMs)}</span>
          </span>
        </summary>
        <div class="timeline-detail">
          {agent.error && (
            <Alert tone="error" title={agent.error.code}>
              {agent.error.message}
            </Alert>
          )}
          <p class="agent-totals small">
            {plural(output?.modelCalls ?? models.length, 'model call')} · {plural(output?.toolCalls ?? calls.length, 'tool call')}
            {usage.totalTokens > 0 && ` · ${formatCount(usage.totalTokens)} tokens (${tokens(usage)})`}
            {summary.model ? ` · model ${summary.model}` : ''}
            {summary.provider ? ` · provider ${summary.provider}` : ''}
          </p>
          {output && 'answer' in output && (
            <div class="agent-answer">
              <h3 class="detail-title">Final answer</h3>
              {typeof output.answer === 'string' ? <p class="agent-text">{output.answer}</p> : <JsonBlock value={output.answer} label={`Final answer of ${agent.id}`} />}
            </div>
          )}
          <details class="agent-given">
            <summary>What the agent was given</summary>
            {summary.instructions && (
              <>
                <h3 class="detail-title">Instructions</h3>
                <p class="agent-text">{summary.instructions}</p>
              </>
            )}
            {summary.tools && summary.tools.length > 0 && (
              <>
                <h3 class="detail-title">Tools it may use</h3>
                <p>{summary.tools.map((ref) => nameOf(ref.replace(/[.:]/g, '_'))).join(', ')}</p>
              </>
            )}
            <h3 class="detail-title">Input</h3>
            {summary.input === undefined || summary.input === null ? <p class="muted small">None.</p> : <JsonBlock value={summary.input} label={`Input of ${agent.id}`} />}
          </details>
          {subSteps.length === 0 ? (
            <p class="muted small">No model call yet.</p>
          ) : (
            <ol class="agent-steps" aria-label={`What ${agent.id} did`}>
              {subSteps.map((step) =>
                step.type === 'model' ? (
                  <ModelCall key={step.path} step={step} index={++turn} nameOf={nameOf} bar={bar} tone={tone} />
                ) : (
                  <ToolCall key={step.path} step={step} nameOf={nameOf} bar={bar} tone={tone} />
                ),
              )}
            </ol>
          )}
          <p class="muted small">
            Started <Time iso={agent.startedAt} />
          </p>
        </div>
      </details>
    </li>
  );
}

const plural = (n: number, what: string) => `${formatCount(n)} ${what}${n === 1 ? '' : 's'}`;

function sumUsage(steps: StepRecord[]): TokenUsage {
  const total = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  for (const s of steps) {
    total.inputTokens += s.usage?.inputTokens ?? 0;
    total.outputTokens += s.usage?.outputTokens ?? 0;
    total.totalTokens += s.usage?.totalTokens ?? 0;
  }
  return total;
}

interface SubProps {
  step: StepRecord;
  nameOf: ToolNames;
  bar: (step: StepRecord) => JSX.Element;
  tone: (status: StepRecord['status']) => 'success' | 'danger' | 'neutral' | 'warning';
}

/** One model call: which model, how long, the tokens, what it answered and which tools it chose. */
function ModelCall({ step, index, nameOf, bar, tone }: SubProps & { index: number }) {
  const out = (step.output ?? {}) as ModelOutput;
  const usage = tokens(step.usage);
  const chosen = Array.isArray(out.toolCalls) ? out.toolCalls : [];
  const messages = (step.input as { messages?: number } | undefined)?.messages;
  return (
    <li class={`agent-step agent-model timeline-${step.status}`} data-step={step.path}>
      <details open={step.status === 'failed'}>
        <summary>
          <span class="timeline-marker" aria-hidden="true" />
          <span class="timeline-name">
            <span class="cell-strong">Model call {index}</span>
            {out.model && <span class="muted small"> {out.model}</span>}
          </span>
          {bar(step)}
          <span class="timeline-meta">
            {step.status !== 'succeeded' && <Badge tone={tone(step.status)}>{step.status}</Badge>}
            {usage && <span class="nowrap small">{usage} tokens</span>}
            <span class="nowrap">{formatDuration(step.durationMs)}</span>
          </span>
        </summary>
        <div class="agent-step-detail">
          {step.error && (
            <Alert tone="error" title={step.error.code}>
              {step.error.message}
            </Alert>
          )}
          {out.text ? (
            <>
              <h3 class="detail-title">It answered</h3>
              <p class="agent-text">{out.text}</p>
            </>
          ) : (
            step.status === 'succeeded' && chosen.length === 0 && <p class="muted small">It answered with no text.</p>
          )}
          {chosen.length > 0 && (
            <>
              <h3 class="detail-title">It chose to call</h3>
              <ul class="agent-chosen">
                {chosen.map((call) => (
                  <li key={call.id}>
                    <span class="cell-strong">{nameOf(call.name)}</span>
                    <Arguments input={call.input} />
                  </li>
                ))}
              </ul>
            </>
          )}
          <p class="muted small">
            {[
              out.finishReason ? (FINISH[out.finishReason] ?? `It stopped: ${out.finishReason}.`) : null,
              typeof messages === 'number' ? `It was sent the conversation so far (${plural(messages, 'message')}).` : null,
              step.usage ? `${formatCount(step.usage.totalTokens)} tokens: ${formatCount(step.usage.inputTokens)} in, ${formatCount(step.usage.outputTokens)} out.` : null,
            ]
              .filter(Boolean)
              .join(' ')}{' '}
            Started <Time iso={step.startedAt} />
          </p>
        </div>
      </details>
    </li>
  );
}

/** One tool call: the action in plain words, its input, its output or error, and the approval decision. */
function ToolCall({ step, nameOf, bar, tone }: SubProps) {
  const approval = step.approval;
  const rejected = step.status === 'skipped' && step.error?.code === 'approval_rejected';
  const waiting = step.status === 'waiting';
  const who = approval?.decidedBy ?? (approval?.decidedVia === 'timeout' ? null : 'someone');
  const decision = approval ? (approval.approved ? `Approved by ${who ?? 'someone'}` : approval.decidedVia === 'timeout' ? 'Not approved in time' : `Rejected by ${who}`) : null;
  return (
    <li class={`agent-step agent-tool timeline-${step.status}`} data-step={step.path}>
      <details open={step.status === 'failed' || waiting || rejected}>
        <summary>
          <span class="timeline-marker" aria-hidden="true" />
          <span class="timeline-name">
            <span class="cell-strong">{nameOf(step.id)}</span>
            <span class="muted small"> tool</span>
          </span>
          {bar(step)}
          <span class="timeline-meta">
            {waiting ? (
              <Badge tone="warning">Waiting for approval</Badge>
            ) : rejected ? (
              <Badge tone="danger">{decision ?? 'Rejected'}</Badge>
            ) : (
              <>
                <Badge tone={tone(step.status)}>{step.status}</Badge>
                {approval?.approved && <Badge tone="success">{decision}</Badge>}
              </>
            )}
            <span class="nowrap">{waiting || rejected ? '—' : formatDuration(step.durationMs)}</span>
          </span>
        </summary>
        <div class="agent-step-detail">
          {waiting && (
            <Alert tone="warning" title="Waiting for approval">
              The agent asked a person to approve this call; the run goes on once it is decided. <Link to="approvals?status=pending">See pending approvals</Link>
            </Alert>
          )}
          {approval && (
            <p class={`agent-decision ${approval.approved ? 'agent-approved' : 'agent-rejected'}`}>
              <span class="cell-strong">{decision}</span>
              {approval.decidedVia && approval.decidedVia !== 'timeout' && DECIDED_VIA[approval.decidedVia] && <span class="muted"> ({DECIDED_VIA[approval.decidedVia]})</span>}
              {' · '}
              <Time iso={approval.decidedAt} />
              {approval.comment && <> · “{approval.comment}”</>}
            </p>
          )}
          {step.error && !rejected && (
            <Alert tone="error" title={step.error.code}>
              {step.error.message}
            </Alert>
          )}
          {rejected && step.error && <p class="muted small">{step.error.message}. The agent was told and went on without it.</p>}
          <div class="two-equal">
            <div>
              <h3 class="detail-title">Input</h3>
              {step.input === undefined ? <p class="muted small">None recorded.</p> : <JsonBlock value={step.input} label={`Input of ${nameOf(step.id)}`} />}
            </div>
            <div>
              <h3 class="detail-title">Output</h3>
              {waiting || rejected || step.output === undefined ? (
                <p class="muted small">{waiting ? 'Not made yet.' : rejected ? 'Not made.' : 'None.'}</p>
              ) : (
                <JsonBlock value={step.output} label={`Output of ${nameOf(step.id)}`} />
              )}
            </div>
          </div>
          {!waiting && !rejected && (
            <p class="muted small">
              Started <Time iso={step.startedAt} />
            </p>
          )}
        </div>
      </details>
    </li>
  );
}
