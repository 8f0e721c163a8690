import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { api, messageOf, type FlowTemplate, type Rollout, type RolloutItem, type RolloutTarget } from '../api';
import { Link } from '../router';
import { can } from '../session';
import { Alert, Badge, Spinner } from '../ui/alert';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { Field } from '../ui/field';
import { LoadMore } from '../ui/load-more';
import { EmptyState } from '../ui/page';
import { Switch } from '../ui/switch';
import { Time } from '../ui/time';
import { toast } from '../ui/toast';
import { Table } from '../ui/table';

const POLL_MS = 1000;
const STATUS: Record<Rollout['status'], [tone: 'neutral' | 'success' | 'danger' | 'warning' | 'accent', label: string]> = {
  running: ['accent', 'Running'],
  stopped: ['warning', 'Stopped'],
  completed: ['success', 'Completed'],
  rolling_back: ['warning', 'Rolling back'],
  rolled_back: ['neutral', 'Rolled back'],
};
const active = (r: Rollout) => r.status === 'running' || r.status === 'rolling_back';

function targetText(t: Rollout['target']): string {
  if (t.all) return 'every instance';
  if (t.percent !== undefined) return `${t.percent}% of instances`;
  return `${t.endUserIds?.length ?? 0} end user${t.endUserIds?.length === 1 ? '' : 's'}`;
}

/** Moving many end users to a published version at once: start, watch, stop, roll back. */
export function Rollouts({ template, onChanged, onMoved }: { template: FlowTemplate; onChanged: (t: FlowTemplate) => void; onMoved: () => void }) {
  const editable = can('developer');
  const rollouts = useSignal<Rollout[] | null>(null);
  const error = useSignal<string | null>(null);
  const selected = useSignal<string | null>(null);

  async function load() {
    try {
      const moved = (list: Rollout[]) => list.map((r) => `${r.counts.upgraded}/${r.counts.rolled_back}`).join();
      const before = rollouts.value && moved(rollouts.value);
      rollouts.value = (await api.rollouts(template.key)).data;
      error.value = null;
      // Who runs which version changed: the versions list below reads it again.
      if (before !== null && before !== moved(rollouts.value)) onMoved();
    } catch (caught) {
      error.value = messageOf(caught);
    }
  }

  useEffect(() => {
    void load();
  }, [template.key, template.latestVersion]);
  // While one runs, its progress is read again every second.
  const running = rollouts.value?.some(active) ?? false;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => void load(), POLL_MS);
    return () => clearInterval(timer);
  }, [running]);

  const shown = rollouts.value?.find((r) => r.id === selected.value) ?? rollouts.value?.[0] ?? null;
  return (
    <section class="card" aria-labelledby="rollouts-title">
      <div class="card-header">
        <h2 id="rollouts-title" class="card-title">
          Rollouts
        </h2>
      </div>
      <div class="card-pad rollouts">
        <p class="muted small">
          End users stay on the version they switched on. A rollout moves many of them to a published version at once; one whose settings the new version cannot take stays where it
          is (or, if you choose, moves paused until its end user completes it) and is listed below.
        </p>
        <Switch
          label="End users may upgrade themselves in the widget"
          checked={template.allowEndUserUpgrade}
          disabled={!editable}
          hint="Off: only rollouts (and your backend) move end users to a new version."
          onChange={async (checked) => {
            try {
              onChanged(await api.setTemplateOptions(template.key, { allowEndUserUpgrade: checked }));
              toast(checked ? 'End users may upgrade themselves' : 'Only rollouts move end users now');
            } catch (caught) {
              toast(messageOf(caught));
            }
          }}
        />
        {editable && <StartRollout template={template} disabled={running} onStarted={(r) => ((selected.value = r.id), void load())} />}
        {error.value && <Alert tone="error">{error.value}</Alert>}
        {rollouts.value === null && !error.value && <Spinner label="Loading rollouts…" />}
        {rollouts.value && rollouts.value.length === 0 && <EmptyState title="No rollouts yet">Every end user upgrades on their own, or stays where they are.</EmptyState>}
        {shown && <RolloutDetail key={shown.id} template={template} rollout={shown} onChanged={load} />}
        {rollouts.value && rollouts.value.length > 1 && (
          <Table columns={['Started', 'Version', 'Target', 'Status', 'Upgraded']} caption={<caption class="sr-only">Earlier rollouts</caption>}>
            {rollouts.value.map((r) => (
              <tr key={r.id} aria-selected={r.id === shown?.id}>
                <th scope="row">
                  <button type="button" class="link-button" onClick={() => (selected.value = r.id)}>
                    <Time iso={r.createdAt} relative />
                  </button>
                </th>
                <td>v{r.version}</td>
                <td>{targetText(r.target)}</td>
                <td>
                  <Badge tone={STATUS[r.status][0]}>{STATUS[r.status][1]}</Badge>
                </td>
                <td>
                  {r.counts.upgraded} / {r.total}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </div>
    </section>
  );
}

function StartRollout({ template, disabled, onStarted }: { template: FlowTemplate; disabled: boolean; onStarted: (r: Rollout) => void }) {
  const version = useSignal(template.latestVersion);
  const kind = useSignal<'all' | 'percent' | 'endUserIds'>('all');
  const percent = useSignal('10');
  const endUserIds = useSignal('');
  const whenSettingsMissing = useSignal<'stay' | 'pause'>('stay');
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);

  async function start(e: Event) {
    e.preventDefault();
    const target: RolloutTarget =
      kind.value === 'all' ? { all: true } : kind.value === 'percent' ? { percent: Number(percent.value) } : { endUserIds: endUserIds.value.split(/[\s,]+/).filter(Boolean) };
    busy.value = true;
    error.value = null;
    try {
      const started = await api.startRollout(template.key, version.value, target, whenSettingsMissing.value);
      toast(`Rolling v${started.version} out to ${started.total} end user${started.total === 1 ? '' : 's'}`);
      onStarted(started);
    } catch (caught) {
      error.value = messageOf(caught);
    } finally {
      busy.value = false;
    }
  }

  return (
    <form class="rollout-form" onSubmit={start} aria-label="Start a rollout">
      <Field label="Version">
        {(aria) => (
          <select {...aria} value={version.value} onChange={(e) => (version.value = Number(e.currentTarget.value))}>
            {template.versions.map((v) => (
              <option key={v.version} value={v.version}>
                v{v.version}
                {v.version === template.latestVersion ? ' (latest)' : ''}
              </option>
            ))}
          </select>
        )}
      </Field>
      <fieldset class="rollout-target">
        <legend>To</legend>
        <label class="check-inline">
          <input type="radio" name="rollout-target" checked={kind.value === 'all'} onChange={() => (kind.value = 'all')} /> Every end user on an older version
        </label>
        <label class="check-inline">
          <input type="radio" name="rollout-target" checked={kind.value === 'percent'} onChange={() => (kind.value = 'percent')} /> A share
          <input
            type="number"
            min={1}
            max={100}
            class="input-narrow"
            aria-label="Percent of end users"
            value={percent.value}
            onFocus={() => (kind.value = 'percent')}
            onInput={(e) => (percent.value = e.currentTarget.value)}
          />
          %
        </label>
        <label class="check-inline">
          <input type="radio" name="rollout-target" checked={kind.value === 'endUserIds'} onChange={() => (kind.value = 'endUserIds')} /> These end users
        </label>
        {kind.value === 'endUserIds' && (
          <textarea
            aria-label="End user ids (your ids, one per line or comma-separated)"
            rows={3}
            placeholder="acme-42, acme-43"
            value={endUserIds.value}
            onInput={(e) => (endUserIds.value = e.currentTarget.value)}
          />
        )}
      </fieldset>
      <fieldset class="rollout-target">
        <legend>When an end user lacks a setting or connection the version needs</legend>
        <label class="check-inline">
          <input type="radio" name="rollout-missing" checked={whenSettingsMissing.value === 'stay'} onChange={() => (whenSettingsMissing.value = 'stay')} /> Leave them on their
          version, running as before
        </label>
        <label class="check-inline">
          <input type="radio" name="rollout-missing" checked={whenSettingsMissing.value === 'pause'} onChange={() => (whenSettingsMissing.value = 'pause')} /> Move them and pause
          the flow until they complete it in the widget
        </label>
      </fieldset>
      {error.value && <Alert tone="error">{error.value}</Alert>}
      <div>
        <button type="submit" class="btn btn-primary" disabled={busy.value || disabled}>
          {busy.value ? 'Starting…' : 'Start rollout'}
        </button>
        {disabled && <span class="muted small"> A rollout is in progress.</span>}
      </div>
    </form>
  );
}

function RolloutDetail({ template, rollout, onChanged }: { template: FlowTemplate; rollout: Rollout; onChanged: () => Promise<void> }) {
  const editable = can('developer');
  const confirming = useSignal<'stop' | 'rollback' | null>(null);
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const c = rollout.counts;
  const done = c.upgraded + c.paused + c.needs_settings + c.skipped + c.failed + c.rolled_back;
  const pct = (n: number) => (rollout.total ? (n / rollout.total) * 100 : 0);

  async function act(what: 'stop' | 'rollback') {
    busy.value = true;
    error.value = null;
    try {
      await (what === 'stop' ? api.stopRollout(template.key, rollout.id) : api.rollBack(template.key, rollout.id));
      confirming.value = null;
      toast(what === 'stop' ? 'Rollout stopped' : 'Rolling back');
      await onChanged();
    } catch (caught) {
      error.value = messageOf(caught);
    } finally {
      busy.value = false;
    }
  }

  return (
    <div class="rollout-detail" aria-label={`Rollout of v${rollout.version}`}>
      <div class="rollout-head">
        <span>
          <strong>v{rollout.version}</strong> to {targetText(rollout.target)} · started <Time iso={rollout.createdAt} relative />{' '}
          <Badge tone={STATUS[rollout.status][0]}>{STATUS[rollout.status][1]}</Badge>
        </span>
        {editable && (
          <span class="rollout-actions">
            {rollout.status === 'running' && (
              <button type="button" class="btn btn-secondary btn-small" onClick={() => (confirming.value = 'stop')}>
                Stop
              </button>
            )}
            {(rollout.status === 'running' || rollout.status === 'stopped' || rollout.status === 'completed') && (
              <button type="button" class="btn btn-danger-quiet btn-small" onClick={() => (confirming.value = 'rollback')}>
                Roll back
              </button>
            )}
          </span>
        )}
      </div>
      <div
        class="rollout-bar"
        role="progressbar"
        aria-label="Progress"
        aria-valuemin={0}
        aria-valuemax={rollout.total}
        aria-valuenow={done}
        aria-valuetext={`${done} of ${rollout.total} done`}
      >
        <span class="rollout-bar-upgraded" style={{ width: `${pct(c.upgraded)}%` }} />
        <span class="rollout-bar-back" style={{ width: `${pct(c.rolled_back)}%` }} />
        <span class="rollout-bar-attention" style={{ width: `${pct(c.paused + c.needs_settings + c.failed)}%` }} />
        <span class="rollout-bar-skipped" style={{ width: `${pct(c.skipped)}%` }} />
      </div>
      <dl class="rollout-counts">
        {(
          [
            ['Upgraded', c.upgraded],
            ['Waiting', c.pending],
            ['Paused', c.paused],
            ['Need settings', c.needs_settings],
            ['Failed', c.failed],
            ['Skipped', c.skipped],
            ['Rolled back', c.rolled_back],
          ] as const
        ).map(([label, n]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{n}</dd>
          </div>
        ))}
      </dl>
      {error.value && <Alert tone="error">{error.value}</Alert>}
      {c.paused + c.needs_settings + c.failed > 0 && <Problems template={template} rollout={rollout} />}
      {confirming.value && (
        <ConfirmDialog
          title={confirming.value === 'stop' ? 'Stop this rollout?' : 'Roll this rollout back?'}
          confirmLabel={confirming.value === 'stop' ? 'Stop' : 'Roll back'}
          busy={busy.value}
          error={error.value}
          onConfirm={() => void act(confirming.value!)}
          onCancel={() => (confirming.value = null)}
        >
          {confirming.value === 'stop'
            ? 'End users already upgraded stay on the new version; the rest stay where they are.'
            : `The ${c.upgraded + c.paused} end user${c.upgraded + c.paused === 1 ? '' : 's'} it moved go back to the version and settings they had.`}
        </ConfirmDialog>
      )}
    </div>
  );
}

/** The instances that need attention: a setting or connection the new version needs, or a failure. */
function Problems({ template, rollout }: { template: FlowTemplate; rollout: Rollout }) {
  const rows = useSignal<RolloutItem[] | null>(null);
  const cursor = useSignal<string | null>(null);
  const loading = useSignal(false);
  const attention = rollout.counts.paused + rollout.counts.needs_settings + rollout.counts.failed;

  async function load(reset: boolean) {
    loading.value = true;
    try {
      const page = await api.rolloutItems(template.key, rollout.id, { status: 'paused,needs_settings,failed', cursor: reset ? null : cursor.value });
      rows.value = reset ? page.data : [...(rows.value ?? []), ...page.data];
      cursor.value = page.nextCursor;
    } finally {
      loading.value = false;
    }
  }
  useEffect(() => {
    void load(true);
  }, [rollout.id, attention]);

  if (!rows.value) return <Spinner label="Loading the end users that need attention…" />;
  return (
    <div class="table-wrap">
      <table class="table">
        <caption class="rollout-caption">Need attention</caption>
        <thead>
          <tr>
            <th scope="col">End user</th>
            <th scope="col">Was on</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          {rows.value.map((r) => (
            <tr key={r.instanceId}>
              <th scope="row">
                <Link to={`end-users/${encodeURIComponent(r.endUserId)}`} class="cell-link">
                  {r.endUserName || r.endUserId}
                </Link>
              </th>
              <td>v{r.previousVersion}</td>
              <td>
                <Badge tone={r.status === 'failed' ? 'danger' : 'warning'}>{r.status === 'failed' ? 'Failed' : r.status === 'paused' ? 'Paused' : 'Needs settings'}</Badge>{' '}
                <span class="small">{r.error}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <LoadMore hasMore={cursor.value !== null} loading={loading.value} onMore={() => load(false)} />
    </div>
  );
}
