import { useSignal } from '@preact/signals';
import { useEffect, useId, useRef } from 'preact/hooks';
import { t, relativeTime, when } from '../i18n';
import type { Approval, Flow, Run, TriggerHealth } from '../types';
import type { Widget } from '../widget';
import { SettingsForm } from './settings-form';

type Tab = 'settings' | 'activity' | 'approvals';

/** An automation: on/off switch, then its settings, recent runs and pending approvals. */
export function FlowCard({ widget, flow, connected }: { widget: Widget; flow: Flow; connected: boolean }) {
  const id = useId();
  const enabled = flow.instance?.enabled ?? false;
  const paused = flow.instance?.status === 'paused';
  const problem = paused ? flow.instance!.connectionProblems[0] : undefined;
  const problemName = problem ? (widget.integrations.value.find((i) => i.key === problem.connector)?.name ?? problem.connector) : '';
  const hasInputs = Object.keys(flow.inputs).length > 0;
  const settingUp = useSignal(false);
  const busy = useSignal(false);
  const failure = useSignal<string | null>(null);
  const approvals = widget.approvals.value.filter((a) => a.flow === flow.key);
  const tab = useSignal<Tab>(approvals.length > 0 ? 'approvals' : 'settings');
  const open = enabled || settingUp.value;
  const switchRef = useRef<HTMLButtonElement>(null);
  const trigger = flow.trigger?.connector && flow.trigger.event ? flow.trigger : undefined;
  const triggerName = trigger ? (widget.integrations.value.find((i) => i.key === trigger.connector)?.name ?? trigger.connector!) : '';
  // Paused says more than a failing trigger: the connection itself is the problem.
  const health = enabled && !paused ? flow.instance!.triggerHealth : null;

  const toggle = async () => {
    failure.value = null;
    if (!enabled && hasInputs) {
      // Turning on asks for the settings first; the form's button enables.
      settingUp.value = !settingUp.value;
      tab.value = 'settings';
      return;
    }
    busy.value = true;
    try {
      if (enabled) await widget.disableFlow(flow.key);
      else await widget.enableFlow(flow.key, {});
      widget.say(t(enabled ? 'flowDisabled' : 'flowEnabled', { name: flow.name }));
    } catch (error) {
      failure.value = (error as Error).message;
    } finally {
      busy.value = false;
    }
  };

  const tabs: Array<[Tab, string, number?]> = [[hasInputs ? 'settings' : 'activity', hasInputs ? t('settings') : t('recentRuns')]];
  if (hasInputs && enabled) tabs.push(['activity', t('recentRuns')]);
  if (approvals.length > 0) tabs.push(['approvals', t('approvals'), approvals.length]);
  const current = tabs.some(([key]) => key === tab.value) ? tab.value : tabs[0]![0];

  return (
    <article class="flow" aria-labelledby={`${id}n`}>
      <div class="flow-head">
        <div class="grow">
          <h3 id={`${id}n`}>{flow.name}</h3>
          {flow.description && <p>{flow.description}</p>}
          {trigger && (
            <p class="small flow-trigger">
              {t('triggerWhen', { event: trigger.event!.replace(/[_.]+/g, ' '), name: triggerName })}
              {health && health.status !== 'failing' && ` · ${healthLine(health, triggerName)}`}
            </p>
          )}
        </div>
        <span class="small muted" aria-hidden="true" style={{ marginTop: '3px' }}>
          {paused ? t('paused') : enabled ? t('on') : t('off')}
        </span>
        <button
          type="button"
          ref={switchRef}
          role="switch"
          class="switch"
          aria-checked={enabled}
          aria-label={t('enableFlow', { name: flow.name })}
          disabled={busy.value || (!enabled && !connected)}
          onClick={toggle}
        />
      </div>
      {problem && (
        <p class="alert warn flow-paused" style={{ margin: '0 16px 14px' }}>
          {t(problem.reason === 'connection_missing' ? 'pausedMissing' : 'pausedReauth', { name: problemName })}
        </p>
      )}
      {health?.status === 'failing' && trigger && <TriggerFailing widget={widget} health={health} connector={trigger.connector!} />}
      {!paused && flow.instance?.note && (
        <p class={`alert ${flow.instance.note.code === 'needs_settings' ? 'warn' : 'info'} flow-note`} style={{ margin: '0 16px 14px' }}>
          {flow.instance.note.message}
        </p>
      )}
      {failure.value && (
        <p class="alert bad" role="alert" style={{ margin: '0 16px 14px' }}>
          {failure.value}
        </p>
      )}
      {open && (
        <div class="flow-body">
          {tabs.length > 1 && (
            <div class="tabs" role="tablist" aria-label={flow.name}>
              {tabs.map(([key, label, count]) => (
                <button
                  key={key}
                  type="button"
                  role="tab"
                  id={`${id}${key}`}
                  class="tab"
                  aria-selected={current === key}
                  aria-controls={`${id}p`}
                  tabIndex={current === key ? 0 : -1}
                  onClick={() => (tab.value = key)}
                  onKeyDown={(e) => {
                    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
                    const i = tabs.findIndex(([k]) => k === current);
                    const next = tabs[(i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length]![0];
                    tab.value = next;
                    ((e.currentTarget.parentElement as HTMLElement).querySelector(`#${CSS.escape(`${id}${next}`)}`) as HTMLElement | null)?.focus();
                  }}
                >
                  {label}
                  {count ? <span class="count">{count}</span> : null}
                </button>
              ))}
            </div>
          )}
          <div id={`${id}p`} role={tabs.length > 1 ? 'tabpanel' : undefined} aria-labelledby={tabs.length > 1 ? `${id}${current}` : undefined}>
            {current === 'settings' && (
              <SettingsForm
                widget={widget}
                flow={flow}
                enabling={!enabled}
                onDone={() => {
                  if (!enabled) {
                    widget.say(t('flowEnabled', { name: flow.name }));
                    // The form's button gives way to tabs: keep keyboard focus on this flow.
                    setTimeout(() => switchRef.current?.focus(), 0);
                  }
                  settingUp.value = false;
                }}
              />
            )}
            {current === 'activity' && <Runs widget={widget} flow={flow} />}
            {current === 'approvals' && <Approvals widget={widget} approvals={approvals} />}
          </div>
        </div>
      )}
    </article>
  );
}

function healthLine(health: TriggerHealth, name: string): string {
  if (health.status === 'waiting') return t('triggerWaiting', { name });
  return health.lastCheckedAt ? t('triggerChecked', { time: relativeTime(health.lastCheckedAt) }) : t('triggerListening', { name });
}

/** The trigger's last error, when it is tried again, and Reconnect when the connection is what failed. */
function TriggerFailing({ widget, health, connector }: { widget: Widget; health: TriggerHealth; connector: string }) {
  const error = health.error;
  const retryAt = error?.retryAt && Date.parse(error.retryAt) - Date.now() > 30_000 ? error.retryAt : null;
  const connection = widget.integrations.value.find((i) => i.key === connector)?.connection;
  const reconnect = connection && error && (error.code.startsWith('connection_') || error.code === 'provider_auth_failed');
  return (
    <div class="alert warn flow-failing" style={{ margin: '0 16px 14px' }}>
      <span class="grow">
        {error?.message}
        <span class="small retry">{retryAt ? t('triggerRetry', { time: relativeTime(retryAt) }) : t('triggerRetrySoon')}</span>
      </span>
      {reconnect && (
        <button
          type="button"
          class="btn secondary"
          disabled={widget.connecting.value[connector]?.phase === 'waiting'}
          onClick={() => widget.connect(connector, { connectionId: connection.id }).catch(() => undefined)}
        >
          {t('reconnect')}
        </button>
      )}
    </div>
  );
}

function Runs({ widget, flow }: { widget: Widget; flow: Flow }) {
  const runs = useSignal<Run[] | null>(null);
  const failure = useSignal<string | null>(null);
  const load = () => {
    failure.value = null;
    widget.listRuns({ flow: flow.key, limit: 5 }).then(
      (page) => (runs.value = page.data),
      (error: Error) => (failure.value = error.message),
    );
  };
  useEffect(load, [flow.key]);
  if (failure.value) {
    return (
      <div class="alert bad" role="alert">
        <span class="grow">{failure.value}</span>
        <button type="button" class="btn secondary" onClick={load}>
          {t('retry')}
        </button>
      </div>
    );
  }
  if (!runs.value) return <p class="muted">{t('loading')}</p>;
  if (runs.value.length === 0) return <p class="muted">{t('noRuns')}</p>;
  return (
    <ul class="runs">
      {runs.value.map((run) => {
        // A call that timed out or was cut off may still have taken effect: not simply "failed".
        const unknown = run.steps?.some((s) => s.outcome === 'unknown') ?? false;
        const twice = run.steps?.some((s) => s.possibleDuplicate) ?? false;
        const status = unknown && run.status === 'failed' ? 'unknown' : run.status;
        return (
          <li key={run.id}>
            <span class={`dot ${status}`} aria-hidden="true" />
            <div class="grow">
              <strong>{t(`run_${status}` as 'run_failed', { name: flow.name })}</strong>
              <time dateTime={run.createdAt} title={new Date(run.createdAt).toLocaleString()}>
                {when(run.createdAt)}
              </time>
              {unknown ? <p class="why">{t('runUnknownWhy')}</p> : run.status === 'failed' && run.error && <p class="why">{run.error.message}</p>}
              {twice && <p class="why">{t('runMaybeTwice')}</p>}
            </div>
          </li>
        );
      })}
    </ul>
  );
}

function Approvals({ widget, approvals }: { widget: Widget; approvals: Approval[] }) {
  // Asks with the same title (an agent wanting the same kind of call twice) are numbered for screen readers, so each region has its own name.
  const seen: Record<string, number> = {};
  return (
    <div>
      {approvals.map((approval) => {
        const nth = (seen[approval.title] = (seen[approval.title] ?? 0) + 1);
        const twin = approvals.filter((a) => a.title === approval.title).length > 1;
        return <ApprovalItem key={approval.id} widget={widget} approval={approval} nth={twin ? nth : 0} />;
      })}
    </div>
  );
}

export function ApprovalItem({ widget, approval, nth = 0 }: { widget: Widget; approval: Approval; nth?: number }) {
  const id = useId();
  const comment = useSignal('');
  const busy = useSignal(false);
  const failure = useSignal<string | null>(null);
  const decide = async (decision: 'approve' | 'reject') => {
    busy.value = true;
    failure.value = null;
    try {
      await widget.decideApproval(approval.id, decision, { comment: comment.value.trim() || undefined });
    } catch (error) {
      failure.value = (error as Error).message;
      busy.value = false;
    }
  };
  return (
    <section class="approval" aria-labelledby={`${id}t`}>
      <h3 id={`${id}t`}>
        {approval.title}
        {nth > 0 && <span class="sr"> ({nth})</span>}
      </h3>
      {approval.description && <Description text={approval.description} />}
      {approval.expiresAt && <p class="small muted">{t('expires', { time: relativeTime(approval.expiresAt) })}</p>}
      <label class="sr" for={`${id}c`}>
        {t('comment')}
      </label>
      <textarea id={`${id}c`} class="input" placeholder={t('comment')} value={comment.value} onInput={(e) => (comment.value = e.currentTarget.value)} maxLength={1000} />
      {failure.value && (
        <p class="alert bad" role="alert">
          {failure.value}
        </p>
      )}
      <div class="actions">
        <button type="button" class="btn primary" disabled={busy.value} onClick={() => decide('approve')}>
          {t('approve')}
        </button>
        <button type="button" class="btn secondary" disabled={busy.value} onClick={() => decide('reject')}>
          {t('reject')}
        </button>
      </div>
    </section>
  );
}

/**
 * "Field: value" lines (what an AI agent wants to do, say) as a list of fields; an indented line
 * (how the server writes a multi-line value), or one that names no field, continues the value
 * above. Null when the text is not of that form.
 */
export function fieldLines(text: string): [string, string][] | null {
  const fields: [string, string][] = [];
  for (const line of text.split('\n')) {
    const m = /^([^:\n]{1,60}): (.*)$/.exec(line);
    if (line.startsWith('  ') && fields.length) fields[fields.length - 1]![1] += `\n${line.slice(2)}`;
    else if (m) fields.push([m[1]!, m[2]!]);
    else if (fields.length) fields[fields.length - 1]![1] += `\n${line}`;
    else return null;
  }
  return fields.length ? fields : null;
}

function Description({ text }: { text: string }) {
  const fields = fieldLines(text);
  if (!fields) return <p class="desc">{text}</p>;
  return (
    <dl class="fields">
      {fields.map(([name, value], i) => (
        <div key={i}>
          <dt>{name}</dt>
          <dd>
            <Clipped text={value} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** A long value shows its first lines, with "Show more". */
function Clipped({ text }: { text: string }) {
  const open = useSignal(false);
  const id = useId();
  if (text.length <= 180 && text.split('\n').length <= 3) return <>{text}</>;
  return (
    <>
      <span id={id} class={open.value ? 'val' : 'val clip'}>
        {text}
      </span>
      <button type="button" class="link more" aria-expanded={open.value} aria-controls={id} onClick={() => (open.value = !open.value)}>
        {t(open.value ? 'showLess' : 'showMore')}
      </button>
    </>
  );
}
