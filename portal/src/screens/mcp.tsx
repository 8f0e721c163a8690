import { useSignal } from '@preact/signals';
import { api, ApiError, messageOf, type McpConnector, type McpSettings } from '../api';
import { can } from '../session';
import { Alert, Badge } from '../ui/alert';
import { CopyBox } from '../ui/copy-box';
import { Field } from '../ui/field';
import { EmptyState, PageHeader } from '../ui/page';
import { Loaded, useResource } from '../ui/resource';
import { toast } from '../ui/toast';
import { Table } from '../ui/table';

/**
 * What end users' AI assistants may do over MCP: per connector, the actions offered as tools and
 * those needing the end user's approval; how a gated call answers. Nothing is exposed until set here.
 */
export function Mcp() {
  const settings = useResource(() => api.mcp(), []);
  return (
    <>
      <PageHeader
        title="AI agents (MCP)"
        description="Your customers' AI assistants (Claude Desktop, any MCP client) act in their connected accounts through this MCP server, within what you allow here."
      />
      <Loaded resource={settings} what="the MCP settings">
        {(s) => (
          <>
            <ServerCard settings={s} />
            <ApprovalCard settings={s} onSaved={(next) => (settings.data.value = next)} />
            {s.connectors.length === 0 ? (
              <section class="card">
                <EmptyState title="No connectors switched on">Switch a connector on under Connectors; its actions can then be offered to AI assistants here.</EmptyState>
              </section>
            ) : (
              s.connectors.map((c) => <ConnectorCard key={c.key} connector={c} onSaved={(next) => (settings.data.value = next)} />)
            )}
          </>
        )}
      </Loaded>
    </>
  );
}

function ServerCard({ settings }: { settings: McpSettings }) {
  const exposed = settings.connectors.reduce((n, c) => n + c.actions.filter((a) => a.exposed && c.enabled).length, 0);
  return (
    <section class="card" aria-labelledby="mcp-server-title">
      <h2 id="mcp-server-title" class="card-title">
        Server
      </h2>
      <p class="muted card-lede">
        MCP clients connect to this URL with the end user's session token or a JWT you signed (<code>Authorization: Bearer …</code>), or from your backend with a secret key and the
        end user's id in <code>X-Switchboard-End-User</code>. Each end user sees only their own connected accounts.
      </p>
      <CopyBox label="MCP server URL" value={settings.url} />
      {!can('admin') && <p class="small muted mcp-note">You can see these settings; admins and owners change them.</p>}
      {exposed === 0 ? (
        <div class="mcp-note">
          <Alert tone="info" title="Nothing is exposed yet">
            No action is offered as a tool until you switch it on below: AI assistants connecting now see an empty tool list.
          </Alert>
        </div>
      ) : (
        <p class="small mcp-note" data-testid="mcp-exposed-count">
          {exposed} action{exposed === 1 ? '' : 's'} offered as tools.
        </p>
      )}
    </section>
  );
}

function ApprovalCard({ settings, onSaved }: { settings: McpSettings; onSaved: (s: McpSettings) => void }) {
  const editable = can('admin');
  const mode = useSignal(settings.approvalMode);
  const seconds = useSignal(String(settings.approvalWaitSeconds));
  const error = useSignal<string | undefined>(undefined);
  const busy = useSignal(false);
  const changed = mode.value !== settings.approvalMode || seconds.value !== String(settings.approvalWaitSeconds);

  async function save(event: Event) {
    event.preventDefault();
    const wait = Number(seconds.value);
    if (!Number.isInteger(wait) || wait < 1 || wait > 300) {
      error.value = 'Enter a whole number of seconds from 1 to 300.';
      return;
    }
    busy.value = true;
    error.value = undefined;
    try {
      onSaved(await api.updateMcpApproval({ approvalMode: mode.value, approvalWaitSeconds: wait }));
      toast('Approval behaviour saved');
    } catch (caught) {
      error.value = caught instanceof ApiError ? (caught.fieldErrors.approvalWaitSeconds ?? caught.message) : messageOf(caught);
    } finally {
      busy.value = false;
    }
  }

  return (
    <section class="card" aria-labelledby="mcp-approval-title">
      <h2 id="mcp-approval-title" class="card-title">
        Calls that need approval
      </h2>
      <p class="muted card-lede">The end user approves or rejects each such call in the widget's approvals. Meanwhile the assistant gets:</p>
      <form onSubmit={save} noValidate>
        <fieldset class="checkbox-group mcp-modes" disabled={!editable}>
          <legend class="sr-only">Approval behaviour</legend>
          <label class="checkbox">
            <input type="radio" name="approvalMode" value="pending" checked={mode.value === 'pending'} onChange={() => (mode.value = 'pending')} />
            <span>
              <strong>An answer at once</strong>: the call is pending, with its id; the assistant asks for the outcome later.
            </span>
          </label>
          <label class="checkbox">
            <input type="radio" name="approvalMode" value="wait" checked={mode.value === 'wait'} onChange={() => (mode.value = 'wait')} />
            <span>
              <strong>The result</strong>: the call waits for the decision, up to the time below, then answers the result (or pending).
            </span>
          </label>
        </fieldset>
        <div class="inline-form">
          <Field label="Wait at most (seconds)" error={error.value} hint="1 to 300, used in the second mode. Most AI assistants give up after 60 seconds: stay below that.">
            {(aria) => (
              <input
                {...aria}
                type="number"
                name="approvalWaitSeconds"
                min={1}
                max={300}
                value={seconds.value}
                disabled={!editable}
                onInput={(e) => (seconds.value = e.currentTarget.value)}
              />
            )}
          </Field>
          {editable && (
            <button type="submit" class="btn btn-secondary" disabled={busy.value || !changed}>
              {busy.value ? 'Saving…' : 'Save'}
            </button>
          )}
        </div>
      </form>
    </section>
  );
}

function ConnectorCard({ connector, onSaved }: { connector: McpConnector; onSaved: (s: McpSettings) => void }) {
  const editable = can('admin');
  const exposed = useSignal(new Set(connector.actions.filter((a) => a.exposed).map((a) => a.key)));
  const gated = useSignal(new Set(connector.actions.filter((a) => a.requireApproval).map((a) => a.key)));
  const error = useSignal<string | null>(null);
  const busy = useSignal(false);
  const saved = (key: string) => connector.actions.find((a) => a.key === key)!;
  const changed = connector.actions.some((a) => a.exposed !== exposed.value.has(a.key) || a.requireApproval !== gated.value.has(a.key));
  const titleId = `mcp-${connector.key}-title`;

  function toggle(set: 'exposed' | 'gated', key: string, on: boolean) {
    const next = new Set(set === 'exposed' ? exposed.value : gated.value);
    if (on) next.add(key);
    else next.delete(key);
    if (set === 'exposed') {
      exposed.value = next;
      // A write newly offered needs approval unless the admin says otherwise; nothing hidden stays gated.
      if (on && !saved(key).readOnly && !saved(key).exposed) gated.value = new Set([...gated.value, key]);
      if (!on) gated.value = new Set([...gated.value].filter((k) => k !== key));
    } else gated.value = next;
  }

  async function save() {
    busy.value = true;
    error.value = null;
    try {
      const body = { exposed: [...exposed.value], requireApproval: [...gated.value].filter((k) => exposed.value.has(k)) };
      onSaved(await api.updateMcpConnector(connector.key, body));
      toast(`${connector.name}: saved`);
    } catch (caught) {
      error.value = messageOf(caught);
    } finally {
      busy.value = false;
    }
  }

  return (
    <section class="card card-flush" aria-labelledby={titleId} data-connector={connector.key}>
      <div class="card-header">
        <h2 id={titleId} class="card-title">
          {connector.name}
        </h2>
        {!connector.enabled && <Badge tone="warning">Switched off: no tools offered</Badge>}
      </div>
      {error.value && (
        <div class="card-pad">
          <Alert tone="error" title="Not saved" onDismiss={() => (error.value = null)}>
            {error.value}
          </Alert>
        </div>
      )}
      <Table columns={['Action', 'Tool name', 'Offered to assistants', 'Needs approval']}>
        {connector.actions.map((a) => (
          <tr key={a.key} data-action={a.key}>
            <th scope="row">
              <span class="cell-strong">{a.name}</span> {a.readOnly ? <Badge tone="neutral">Reads</Badge> : <Badge tone="accent">Writes</Badge>}
              <span class="muted small block">{a.description}</span>
            </th>
            <td>
              <code class="small">{a.tool}</code>
            </td>
            <td>
              <label class="checkbox">
                <input
                  type="checkbox"
                  checked={exposed.value.has(a.key)}
                  disabled={!editable}
                  aria-label={`Offer ${a.name} to AI assistants`}
                  onChange={(e) => toggle('exposed', a.key, e.currentTarget.checked)}
                />
                <span aria-hidden="true">{exposed.value.has(a.key) ? 'Yes' : 'No'}</span>
              </label>
            </td>
            <td>
              <label class="checkbox">
                <input
                  type="checkbox"
                  checked={gated.value.has(a.key)}
                  disabled={!editable || !exposed.value.has(a.key)}
                  aria-label={`${a.name} needs the end user's approval`}
                  onChange={(e) => toggle('gated', a.key, e.currentTarget.checked)}
                />
                <span aria-hidden="true">{gated.value.has(a.key) ? 'Yes' : 'No'}</span>
              </label>
            </td>
          </tr>
        ))}
      </Table>
      {editable && (
        <div class="card-pad form-actions">
          <button type="button" class="btn btn-primary" disabled={busy.value || !changed} onClick={() => void save()}>
            {busy.value ? 'Saving…' : `Save ${connector.name}`}
          </button>
        </div>
      )}
    </section>
  );
}
