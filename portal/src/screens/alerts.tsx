import { useSignal } from '@preact/signals';
import { api, ApiError, messageOf, type AlertIncident, type Connection, type AlertKind, type AlertRule, type AlertRuleInput } from '../api';
import { Link, navigate } from '../router';
import { can } from '../session';
import { Alert, Badge } from '../ui/alert';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { Field, TextField } from '../ui/field';
import { Breadcrumb, EmptyState, PageHeader, RoleNotice } from '../ui/page';
import { Loaded, useResource } from '../ui/resource';
import { Switch } from '../ui/switch';
import { Time } from '../ui/time';
import { toast } from '../ui/toast';
import { FlushCard, Table } from '../ui/table';

/** The path segment of the "new rule" form: never a rule id (ids are UUIDs). */
export const NEW_ALERT_RULE = '_new';

/** Each kind's label and which parameters it takes (the server checks the same). */
const KINDS: Record<AlertKind, { label: string; flow?: true; window?: true; threshold?: string; minRuns?: true }> = {
  flow_failure_rate: { label: 'Flow failure rate', flow: true, window: true, threshold: 'Failed runs, % of finished', minRuns: true },
  flow_failures: { label: 'Flow failures', flow: true, window: true, threshold: 'Failed runs' },
  connection_needs_reauth: { label: 'Connection needs reauthorization' },
  webhook_endpoint_disabled: { label: 'Webhook endpoint disabled' },
  tenant_near_cap: { label: 'Near a cap (monthly tokens, concurrent runs)', threshold: '% of the cap used' },
};

function describe(rule: AlertRule): string {
  const p = rule.params;
  switch (rule.kind) {
    case 'flow_failure_rate':
      return `${p.flowKey ?? 'any flow'}: ≥ ${p.threshold}% failed over ${p.windowMinutes} min`;
    case 'flow_failures':
      return `${p.flowKey ?? 'any flow'}: ≥ ${p.threshold} failed over ${p.windowMinutes} min`;
    case 'tenant_near_cap':
      return `≥ ${p.threshold}% of a cap`;
    default:
      return 'while it lasts';
  }
}

const channelsOf = (rule: AlertRule) =>
  [
    rule.channels.email?.length ? `Email (${rule.channels.email.length})` : null,
    rule.channels.slack ? `Slack ${rule.channels.slack.channel}` : null,
    rule.channels.webhook ? 'Webhook' : null,
  ]
    .filter(Boolean)
    .join(' · ');

export function Alerts({ ruleId }: { ruleId: string | null }) {
  const creating = ruleId === NEW_ALERT_RULE;
  return (
    <>
      {ruleId !== null && (
        <Breadcrumb to="alerts" section="Alerts">
          {creating ? 'New' : 'Rule'}
        </Breadcrumb>
      )}
      <PageHeader
        title={ruleId === null ? 'Alerts' : creating ? 'New alert rule' : 'Edit alert rule'}
        description="Be told when your customers' integrations break: failing flows, connections that need reauthorizing, disabled webhook endpoints, caps nearly reached. Each condition notifies once when it starts and once when it clears, by email, Slack or webhook."
        actions={
          ruleId === null && can('admin') ? (
            <Link to={`alerts/${NEW_ALERT_RULE}`} class="btn btn-primary">
              Add rule
            </Link>
          ) : undefined
        }
      />
      {ruleId === null ? (
        <>
          <RuleList />
          <Incidents />
        </>
      ) : !can('admin') ? (
        <RoleNotice needed="admin" what="change alert rules" />
      ) : creating ? (
        <RuleForm rule={null} />
      ) : (
        <ExistingRule ruleId={ruleId} />
      )}
    </>
  );
}

function RuleList() {
  const rules = useResource(() => api.alertRules(), []);
  const admin = can('admin');
  return (
    <FlushCard titleId="alert-rules-title" title="Rules">
      <Loaded resource={rules} what="the alert rules">
        {(page) =>
          page.data.length === 0 ? (
            <EmptyState title="No alert rules yet">{admin ? 'Add one to be told when an integration breaks.' : 'An admin adds them.'}</EmptyState>
          ) : (
            <Table columns={['Rule', 'Condition', 'Channels', 'State']}>
              {page.data.map((r) => (
                <tr key={r.id} data-alert-rule={r.name}>
                  <th scope="row">
                    {admin ? (
                      <Link to={`alerts/${r.id}`} class="cell-link">
                        {r.name}
                      </Link>
                    ) : (
                      r.name
                    )}
                    <div class="muted small">{KINDS[r.kind]?.label ?? r.kind}</div>
                  </th>
                  <td class="small">{describe(r)}</td>
                  <td class="small">{channelsOf(r)}</td>
                  <td>{r.enabled ? <Badge tone="success">On</Badge> : <Badge tone="neutral">Off</Badge>}</td>
                </tr>
              ))}
            </Table>
          )
        }
      </Loaded>
    </FlushCard>
  );
}

function Incidents() {
  const status = useSignal<'firing' | 'resolved' | null>(null);
  const incidents = useResource(() => api.alertIncidents(status.value), [status.value]);
  const rules = useResource(() => api.alertRules(), []);
  const nameOf = (i: AlertIncident) => rules.data.value?.data.find((r) => r.id === i.ruleId)?.name ?? 'a deleted rule';
  return (
    <FlushCard
      titleId="alert-incidents-title"
      title="Incidents"
      aside={
        <label>
          <span class="sr-only">Show</span>
          <select class="select-small" value={status.value ?? ''} onChange={(e) => (status.value = (e.currentTarget.value || null) as typeof status.value)}>
            <option value="">All</option>
            <option value="firing">Firing</option>
            <option value="resolved">Resolved</option>
          </select>
        </label>
      }
    >
      <Loaded resource={incidents} what="the incidents">
        {(page) =>
          page.data.length === 0 ? (
            <EmptyState title={status.value === 'firing' ? 'Nothing is firing' : 'No incidents'}>Rules are evaluated every minute.</EmptyState>
          ) : (
            <Table columns={['Status', 'Rule', 'About', 'Value', 'Fired', 'Resolved']}>
              {page.data.map((i) => (
                <tr key={i.id} data-alert-incident={i.status}>
                  <td>{i.status === 'firing' ? <Badge tone="danger">Firing</Badge> : <Badge tone="success">Resolved</Badge>}</td>
                  <td>
                    {nameOf(i)}
                    {i.notifyError && <div class="field-error">{i.notifyError}</div>}
                  </td>
                  <td class="mono small">{i.subject}</td>
                  <td class="small">{i.value}</td>
                  <td>
                    <Time iso={i.firedAt} relative />
                  </td>
                  <td>{i.resolvedAt ? <Time iso={i.resolvedAt} relative /> : <span class="muted">—</span>}</td>
                </tr>
              ))}
            </Table>
          )
        }
      </Loaded>
    </FlushCard>
  );
}

/** How many Slack connections the picker lists at once; past that it offers a search. */
const SLACK_PAGE = 100;

/** Picks one of the tenant's active Slack connections (any end user's: typically one for the team itself). */
function SlackConnectionField({ value, onValue, error }: { value: string; onValue: (id: string) => void; error: string | undefined }) {
  const search = useSignal('');
  const found = useResource(() => api.connections({ connector: 'slack', status: 'active', search: search.value.trim(), limit: SLACK_PAGE }), [search.value]);
  const page = found.data.value;
  const listed = page?.data ?? [];
  // What each picked connection is called, for when a search hides it from the list.
  const picked = useSignal<Record<string, string>>({});
  const label = (c: Connection) => `${c.endUserId} · ${c.accountName}`;
  // The chosen connection may be off this page, or (a saved rule's) no longer active: keep it chosen rather than silently dropping it.
  const current = page && value && !listed.some((c) => c.id === value) ? value : null;
  const searching = search.value !== '' || Boolean(page?.nextCursor);
  const none = page !== null && listed.length === 0 && search.value === '';
  return (
    <>
      {searching && (
        <TextField
          label="Find a Slack connection"
          name="slackSearch"
          value={search.value}
          onValue={(text) => (search.value = text)}
          spellcheck={false}
          placeholder="end user id or workspace"
          hint={page?.nextCursor ? `Showing the newest ${SLACK_PAGE}; type to narrow them down.` : undefined}
        />
      )}
      <Field
        label="Slack connection"
        error={error ?? found.error.value ?? undefined}
        optional
        hint={
          none ? (
            <>
              None yet: connect Slack for one of your team's end users first (in your product, through the widget), then pick it here. <Link to="end-users">See end users</Link>
            </>
          ) : (
            "An active Slack connection of one of your end users: usually your own team's. Notices are posted as that workspace's app."
          )
        }
      >
        {(aria) => (
          <select
            {...aria}
            name="slackConnectionId"
            value={page === null ? '' : value}
            disabled={page === null}
            onChange={(ev) => {
              const id = ev.currentTarget.value;
              const chosen = listed.find((c) => c.id === id);
              if (chosen) picked.value = { ...picked.value, [id]: label(chosen) };
              onValue(id);
            }}
          >
            <option value="">{page === null ? 'Loading Slack connections…' : 'No Slack notices'}</option>
            {current && <option value={current}>{picked.value[current] ?? 'The current connection (no longer active)'}</option>}
            {listed.map((c) => (
              <option key={c.id} value={c.id}>
                {label(c)}
              </option>
            ))}
          </select>
        )}
      </Field>
    </>
  );
}

function ExistingRule({ ruleId }: { ruleId: string }) {
  const existing = useResource(() => api.alertRule(ruleId), [ruleId]);
  if (existing.status.value === 404) {
    return (
      <EmptyState title="There is no such alert rule in this tenant.">
        <Link to="alerts">See every alert rule</Link>
      </EmptyState>
    );
  }
  return (
    <Loaded resource={existing} what="the alert rule">
      {(rule) => <RuleForm rule={rule} />}
    </Loaded>
  );
}

interface Draft {
  name: string;
  kind: AlertKind;
  flowKey: string;
  threshold: string;
  windowMinutes: string;
  minRuns: string;
  email: string;
  slackConnectionId: string;
  slackChannel: string;
  webhook: boolean;
  enabled: boolean;
}

const draftOf = (r: AlertRule | null): Draft => ({
  name: r?.name ?? '',
  kind: r?.kind ?? 'flow_failure_rate',
  flowKey: r?.params.flowKey ?? '',
  threshold: String(r?.params.threshold ?? ''),
  windowMinutes: String(r?.params.windowMinutes ?? '15'),
  minRuns: String(r?.params.minRuns ?? ''),
  email: r?.channels.email?.join(', ') ?? '',
  slackConnectionId: r?.channels.slack?.connectionId ?? '',
  slackChannel: r?.channels.slack?.channel ?? '',
  webhook: r?.channels.webhook ?? false,
  enabled: r?.enabled ?? true,
});

const int = (value: string) => (value.trim() === '' ? undefined : Number(value));

function RuleForm({ rule }: { rule: AlertRule | null }) {
  const draft = useSignal<Draft>(draftOf(rule));
  const errors = useSignal<Record<string, string>>({});
  const formError = useSignal<string | null>(null);
  const busy = useSignal(false);
  const confirmingDelete = useSignal(false);
  const deleteError = useSignal<string | null>(null);
  const f = draft.value;
  const kind = KINDS[f.kind];
  const set =
    <K extends keyof Draft>(field: K) =>
    (value: Draft[K]) =>
      (draft.value = { ...draft.value, [field]: value });

  async function save(event: Event) {
    event.preventDefault();
    busy.value = true;
    errors.value = {};
    formError.value = null;
    const d = draft.value;
    const params = {
      ...(kind.flow && d.flowKey.trim() ? { flowKey: d.flowKey.trim() } : {}),
      ...(kind.threshold ? { threshold: int(d.threshold) } : {}),
      ...(kind.window ? { windowMinutes: int(d.windowMinutes) } : {}),
      ...(kind.minRuns && int(d.minRuns) !== undefined ? { minRuns: int(d.minRuns) } : {}),
    };
    const email = d.email
      .split(/[\s,;]+/)
      .map((e) => e.trim())
      .filter(Boolean);
    const channels: AlertRuleInput['channels'] = {
      ...(email.length ? { email } : {}),
      ...(d.slackConnectionId.trim() ? { slack: { connectionId: d.slackConnectionId.trim(), channel: d.slackChannel.trim() } } : {}),
      ...(d.webhook ? { webhook: true } : {}),
    };
    try {
      const saved = rule
        ? await api.updateAlertRule(rule.id, { name: d.name.trim(), params, channels, enabled: d.enabled })
        : await api.createAlertRule({ name: d.name.trim(), kind: d.kind, params, channels, enabled: d.enabled });
      toast(`Saved ${saved.name}`);
      navigate('alerts');
    } catch (caught) {
      if (caught instanceof ApiError && Object.keys(caught.fieldErrors).length) {
        errors.value = caught.fieldErrors;
        formError.value = 'Some fields need a change; each says what is wrong.';
      } else formError.value = messageOf(caught);
    } finally {
      busy.value = false;
    }
  }

  async function remove() {
    if (!rule) return;
    busy.value = true;
    try {
      await api.deleteAlertRule(rule.id);
      toast(`Deleted ${rule.name}`);
      navigate('alerts');
    } catch (caught) {
      deleteError.value = messageOf(caught);
    } finally {
      busy.value = false;
    }
  }

  const e = errors.value;
  return (
    <form class="card" onSubmit={save} noValidate aria-labelledby="alert-rule-form-title">
      <h2 id="alert-rule-form-title" class="card-title">
        {rule ? rule.name : 'What to watch'}
      </h2>
      {formError.value && (
        <Alert tone="error" title="Not saved">
          {formError.value}
        </Alert>
      )}
      <fieldset class="plain-fieldset" disabled={busy.value}>
        <legend class="sr-only">Alert rule</legend>
        <TextField label="Name" name="name" value={f.name} onValue={set('name')} error={e.name} placeholder="Salesforce sync failing" />
        <Field label="Kind" error={e.kind} hint={rule ? 'The kind cannot change; add another rule instead.' : undefined}>
          {(aria) => (
            <select {...aria} name="kind" value={f.kind} disabled={Boolean(rule)} onChange={(ev) => set('kind')(ev.currentTarget.value as AlertKind)}>
              {Object.entries(KINDS).map(([value, k]) => (
                <option key={value} value={value}>
                  {k.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        {kind.flow && (
          <TextField
            label="Flow"
            name="flowKey"
            value={f.flowKey}
            onValue={set('flowKey')}
            error={e['params.flowKey']}
            optional
            spellcheck={false}
            placeholder="every flow"
            hint="A flow template's key; empty watches every flow, each on its own."
          />
        )}
        {kind.threshold && (
          <TextField
            label={kind.threshold}
            name="threshold"
            inputMode="numeric"
            value={f.threshold}
            onValue={set('threshold')}
            error={e['params.threshold']}
            hint="Fires at or above it."
          />
        )}
        {kind.window && (
          <TextField label="Window (minutes)" name="windowMinutes" inputMode="numeric" value={f.windowMinutes} onValue={set('windowMinutes')} error={e['params.windowMinutes']} />
        )}
        {kind.minRuns && (
          <TextField
            label="Minimum finished runs"
            name="minRuns"
            inputMode="numeric"
            value={f.minRuns}
            onValue={set('minRuns')}
            error={e['params.minRuns']}
            optional
            hint="So one failed run out of one does not count as 100%."
          />
        )}
        <h3 class="form-section-title">Where to send notices</h3>
        {e.channels && <Alert tone="error">{e.channels}</Alert>}
        <TextField
          label="Email recipients"
          name="email"
          value={f.email}
          onValue={set('email')}
          error={e['channels.email']}
          optional
          placeholder="oncall@example.com, team@example.com"
          hint="Sent through this deployment's SMTP server."
        />
        <SlackConnectionField value={f.slackConnectionId} onValue={set('slackConnectionId')} error={e['channels.slack.connectionId'] ?? e['channels.slack']} />
        {f.slackConnectionId.trim() && (
          <TextField
            label="Slack channel"
            name="slackChannel"
            value={f.slackChannel}
            onValue={set('slackChannel')}
            error={e['channels.slack.channel']}
            placeholder="#integrations-alerts"
          />
        )}
        <Switch label="Webhook" hint="alert.fired and alert.resolved to your endpoints subscribed to them." checked={f.webhook} onChange={set('webhook')} />
        <Switch label="Enabled" hint="Disabling resolves what it has firing, without a notice." checked={f.enabled} onChange={set('enabled')} />
      </fieldset>
      <div class="form-actions form-actions-split">
        <div class="form-actions-left">
          {rule && (
            <button type="button" class="btn btn-danger-quiet" onClick={() => (confirmingDelete.value = true)}>
              Delete
            </button>
          )}
        </div>
        <button type="submit" class="btn btn-primary" disabled={busy.value}>
          {rule ? 'Save changes' : 'Add rule'}
        </button>
      </div>
      {confirmingDelete.value && rule && (
        <ConfirmDialog
          title={`Delete ${rule.name}?`}
          confirmLabel="Delete rule"
          busy={busy.value}
          error={deleteError.value}
          onConfirm={remove}
          onCancel={() => {
            confirmingDelete.value = false;
            deleteError.value = null;
          }}
        >
          Its incidents are deleted with it; nothing more is sent for them.
        </ConfirmDialog>
      )}
    </form>
  );
}
