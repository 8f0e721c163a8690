import type { Connector } from '../api';
import { findNodeAtLocation, type Node as JsonNode, type Segment } from 'jsonc-parser';

/** A readable outline of a flow definition's trigger and steps, and the path helpers the editor uses. */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

/** `new_issue` → `new issue`. */
const humanize = (key: string): string => key.replace(/[_.]+/g, ' ');

/** `PT1H30M` → `1 h 30 min`. */
const isoDuration = (iso: string): string =>
  iso
    .replace(/^PT/, '')
    .replace(/(\d+)([HMS])/g, (_, n: string, unit: 'H' | 'M' | 'S') => `${n} ${{ H: 'h', M: 'min', S: 's' }[unit]} `)
    .trim();

/**
 * One line for a flow's trigger. With the connector catalogue at hand, a connector's trigger reads
 * with names ("When new issue in GitHub"), else with keys ("When new issue in github").
 */
export function triggerSummary(trigger: unknown, connectors?: Pick<Connector, 'key' | 'name' | 'triggers'>[]): string {
  if (!isObject(trigger)) return 'No trigger yet';
  const connector = connectors?.find((c) => c.key === trigger.connector);
  const app = connector?.name ?? str(trigger.connector) ?? '?';
  const triggerName = connector?.triggers.find((t) => t.key === trigger.event)?.name;
  const what = triggerName ? triggerName.charAt(0).toLowerCase() + triggerName.slice(1) : humanize(str(trigger.event) ?? '?');
  switch (trigger.type) {
    case 'event':
      return `When the app sends “${str(trigger.event) ?? '?'}”`;
    case 'request':
      return 'When your backend runs it';
    case 'schedule':
      return `On a schedule: ${str(trigger.cron) ?? '?'}${str(trigger.timezone) ? ` (${String(trigger.timezone)})` : ''}`;
    case 'webhook':
      return str(trigger.connector) && str(trigger.event)
        ? `When ${what} in ${app} (${app} pushes it)`
        : `When a webhook arrives${str(trigger.connector) ? ` from ${String(trigger.connector)}` : ''}`;
    case 'poll':
      return `When ${what} in ${app} (checked ${str(trigger.interval) ? `every ${isoDuration(String(trigger.interval))}` : 'on its interval'})`;
    default:
      return `Trigger “${String(trigger.type ?? '?')}”`;
  }
}

const STEP_ICONS: Record<string, string> = {
  action: 'M4 10h9M10 6l4 4-4 4',
  request: 'M3 10h14M10 3c2.5 2 2.5 12 0 14M10 3c-2.5 2-2.5 12 0 14',
  transform: 'M8 4c-2 0-2 1.5-2 3s-1 3-2 3c1 0 2 1.5 2 3s0 3 2 3M12 4c2 0 2 1.5 2 3s1 3 2 3c-1 0-2 1.5-2 3s0 3-2 3',
  branch: 'M6 3v14M6 8c0 3 8 2 8 6v3',
  loop: 'M15 8a5 5 0 10-1.5 5.5M15 4v4h-4',
  delay: 'M10 5v5l3 2M10 17a7 7 0 100-14 7 7 0 000 14z',
  approval: 'M5 10.5l3 3 7-7',
  respond: 'M16 10H5M9 6l-4 4 4 4',
  agent: 'M10 3l1.8 4.2L16 9l-4.2 1.8L10 15l-1.8-4.2L4 9l4.2-1.8z',
};

function stepSummary(step: Json): string {
  const expr = (v: unknown) => (typeof v === 'string' ? v.replace(/^=/, '') : JSON.stringify(v));
  switch (step.type) {
    case 'action':
      return `${str(step.connector) ?? '?'} → ${str(step.action) ?? '?'}`;
    case 'request':
      return `${str(step.method) ?? 'GET'} ${str(step.connector) ?? '?'} ${str(step.path) ?? ''}`.trim();
    case 'transform':
      return 'Computes a value';
    case 'branch':
      return 'if' in step ? `If ${expr(step.if)}` : `Switch on ${expr(step.switch)}`;
    case 'loop':
      return `For each of ${expr(step.over)}`;
    case 'delay':
      return 'for' in step ? `Wait ${typeof step.for === 'number' ? `${step.for} ms` : String(step.for)}` : `Wait until ${expr(step.until)}`;
    case 'approval':
      return `Ask: ${expr(step.title)}`;
    case 'respond':
      return 'Answers the caller';
    case 'agent': {
      const tools = Array.isArray(step.tools) ? step.tools.map(String) : [];
      const gated = Array.isArray(step.approve) ? step.approve.length : 0;
      const uses = tools.length ? `uses ${tools.join(', ')}${gated ? ` (${gated} after approval)` : ''}` : 'no tools';
      return `AI agent (${str(step.provider) ?? '?'}${str(step.model) ? ` · ${String(step.model)}` : ''}): ${uses}`;
    }
    default:
      return '';
  }
}

interface Child {
  label: string | null;
  path: string;
  steps: unknown[];
}

/** The nested step lists of a container step, with the path of each list. */
function childrenOf(step: Json, path: string): Child[] {
  const out: Child[] = [];
  const list = (key: string, label: string | null) => Array.isArray(step[key]) && out.push({ label, path: `${path}.${key}`, steps: step[key] as unknown[] });
  if (step.type === 'branch') {
    list('then', 'Then');
    list('else', 'Else');
    if (Array.isArray(step.cases)) {
      step.cases.forEach((c, i) => {
        if (isObject(c) && Array.isArray(c.steps)) out.push({ label: `When ${JSON.stringify(c.when)}`, path: `${path}.cases.${i}.steps`, steps: c.steps });
      });
    }
    list('default', 'Otherwise');
  }
  if (step.type === 'loop') list('steps', null);
  return out;
}

function StepList({ steps, path, onPick }: { steps: unknown[]; path: string; onPick: (path: string) => void }) {
  return (
    <ol class="outline-steps">
      {steps.map((raw, i) => {
        const step = isObject(raw) ? raw : {};
        const here = `${path}.${i}`;
        const type = str(step.type) ?? '?';
        return (
          <li key={here}>
            <button type="button" class="outline-step" onClick={() => onPick(here)} title="Show in the editor">
              <span class={`outline-icon outline-${type}`} aria-hidden="true">
                <svg viewBox="0 0 20 20" width="14" height="14">
                  <path d={STEP_ICONS[type] ?? 'M5 10h10'} fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" />
                </svg>
              </span>
              <span class="outline-text">
                <span class="outline-id">{str(step.id) ?? `(step ${i + 1})`}</span>
                <span class="outline-type">{type}</span>
                <span class="outline-summary">{stepSummary(step)}</span>
              </span>
            </button>
            {childrenOf(step, here).map((child) => (
              <div class="outline-children" key={child.path}>
                {child.label && <span class="outline-children-label">{child.label}</span>}
                <StepList steps={child.steps} path={child.path} onPick={onPick} />
              </div>
            ))}
          </li>
        );
      })}
    </ol>
  );
}

/** Trigger, connectors, inputs and the step tree; picking an entry shows it in the editor. */
export function Outline({ definition, onPick, catalogue }: { definition: unknown; onPick: (path: string) => void; catalogue?: Connector[] }) {
  if (!isObject(definition)) return <p class="muted">The outline appears once the document is a JSON object.</p>;
  const steps = Array.isArray(definition.steps) ? definition.steps : [];
  const inputs = isObject(definition.inputs) ? Object.entries(definition.inputs) : [];
  const connectors = Array.isArray(definition.connectors) ? definition.connectors.filter((c): c is string => typeof c === 'string') : [];
  return (
    <div class="outline">
      <button type="button" class="outline-trigger" onClick={() => onPick('trigger')}>
        <span class="outline-kicker">Trigger</span>
        <span>{triggerSummary(definition.trigger, catalogue)}</span>
      </button>
      {(connectors.length > 0 || inputs.length > 0) && (
        <dl class="outline-facts">
          {connectors.length > 0 && (
            <>
              <dt>Connectors</dt>
              <dd>{connectors.join(', ')}</dd>
            </>
          )}
          {inputs.length > 0 && (
            <>
              <dt>Settings</dt>
              <dd>{inputs.map(([key, spec]) => (isObject(spec) && str(spec.title)) || key).join(', ')}</dd>
            </>
          )}
        </dl>
      )}
      {steps.length === 0 ? <p class="muted small">No steps yet.</p> : <StepList steps={steps} path="steps" onPick={onPick} />}
    </div>
  );
}

/**
 * The API's error paths (`steps.1.input.channel`, `output["a.b"]`, `definition.` in front when they
 * come from the publish endpoint) as segments for jsonc-parser.
 */
export function segmentsOf(path: string): Segment[] {
  const out: Segment[] = [];
  const text = path.replace(/^definition(\.|$)/, '');
  const pattern = /\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]|([^.[\]]+)/g;
  for (const match of text.matchAll(pattern)) {
    if (match[1] !== undefined) out.push(JSON.parse(`"${match[1]}"`) as string);
    else if (match[2] !== undefined) out.push(Number(match[2]));
    else if (match[3] !== undefined) out.push(/^\d+$/.test(match[3]) ? Number(match[3]) : match[3]);
  }
  return out;
}

/** Where a path is in the text: the deepest node that exists along it (a missing property points at its parent). */
export function locate(root: JsonNode | undefined, path: string): { offset: number; length: number } | null {
  if (!root) return null;
  const segments = segmentsOf(path);
  for (let n = segments.length; n >= 0; n--) {
    const node = findNodeAtLocation(root, segments.slice(0, n));
    if (!node) continue;
    // A property's value: select "key": value, so the key is visible too.
    const target = node.parent?.type === 'property' ? node.parent : node;
    return { offset: target.offset, length: target.length };
  }
  return null;
}
