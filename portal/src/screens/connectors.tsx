import { useSignal } from '@preact/signals';
import { useEffect, useMemo } from 'preact/hooks';
import { api, ApiError, messageOf, type Connector, type ConnectorPatch } from '../api';
import { Link, navigate, query, setQuery } from '../router';
import { ConnectorOpenApi } from './connector-openapi';
import { can } from '../session';
import { Alert, Badge } from '../ui/alert';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { CopyBox } from '../ui/copy-box';
import { Field, TextField } from '../ui/field';
import { ClearFilters } from '../ui/filters';
import { Breadcrumb, EmptyState, PageHeader } from '../ui/page';
import { Loaded, useResource } from '../ui/resource';
import { Switch } from '../ui/switch';
import { toast } from '../ui/toast';

const AUTH_LABELS: Record<Connector['authType'], string> = {
  oauth2: 'OAuth 2.0',
  oauth2_client_credentials: 'OAuth client credentials',
  api_key: 'API key',
  basic: 'Username and password',
};

/** The connector's logo: from its cacheable URL in lists, else the SVG inline (an <img> never runs scripts inside the SVG). */
export function ConnectorLogo({ connector, size = 36 }: { connector: Pick<Connector, 'logo' | 'logoUrl'>; size?: number }) {
  const src = connector.logoUrl ?? `data:image/svg+xml;charset=utf-8,${encodeURIComponent(connector.logo ?? '')}`;
  return <img class="connector-logo" src={src} width={size} height={size} alt="" loading="lazy" />;
}

function ConnectorState({ connector }: { connector: Connector }) {
  return (
    <span class="badge-row">
      {connector.config.enabled ? <Badge tone="success">Enabled</Badge> : <Badge tone="neutral">Off</Badge>}
      {connector.config.settings.useSandbox && <Badge tone="accent">Sandbox</Badge>}
    </span>
  );
}

const SHOW_OPTIONS = [
  { value: '', label: 'All' },
  { value: 'enabled', label: 'Enabled' },
  { value: 'off', label: 'Off' },
];

/** "developer-tools" → "Developer tools". */
const CATEGORY_LABELS: Record<string, string> = { crm: 'CRM', hr: 'HR', ai: 'AI' };
export const categoryLabel = (slug: string): string => CATEGORY_LABELS[slug] ?? (slug.charAt(0).toUpperCase() + slug.slice(1)).replace(/-/g, ' ');

/** Enabled first, then by name: what the tenant runs is what it comes here for most. */
const byEnabledThenName = (a: Connector, b: Connector) => Number(b.config.enabled) - Number(a.config.enabled) || a.name.localeCompare(b.name);

export function Connectors() {
  const connectors = useResource(() => api.connectors(), []);
  return (
    <>
      <PageHeader title="Connectors" description="The apps your customers can connect. Switch one on, give it your OAuth app's credentials, and it appears in the widget." />
      <Loaded resource={connectors} what="the connectors">
        {(page) =>
          page.data.length === 0 ? (
            <EmptyState title="No connectors on this deployment" />
          ) : (
            <ConnectorList all={page.data} onChanged={(next) => (connectors.data.value = { ...page, data: page.data.map((c) => (c.key === next.key ? next : c)) })} />
          )
        }
      </Loaded>
    </>
  );
}

/** Search, a category and an enabled/off filter (kept in the URL), and a switch on each card. */
function ConnectorList({ all, onChanged }: { all: Connector[]; onChanged: (next: Connector) => void }) {
  const search = useSignal(query.value.get('q') ?? '');
  const category = query.value.get('category') ?? '';
  const show = query.value.get('show') ?? '';
  const confirmingOff = useSignal<Connector | null>(null);
  const busy = useSignal<string | null>(null);
  const categories = useMemo(() => {
    const counts = new Map<string, number>();
    for (const c of all) for (const k of c.categories) counts.set(k, (counts.get(k) ?? 0) + 1);
    return [...counts].sort(([a], [b]) => categoryLabel(a).localeCompare(categoryLabel(b)));
  }, [all]);
  const haystacks = useMemo(() => new Map(all.map((c) => [c.key, `${c.name} ${c.key} ${c.description} ${c.categories.map(categoryLabel).join(' ')}`.toLowerCase()])), [all]);
  const q = search.value.trim().toLowerCase();
  const shown = all
    .filter((c) => (!q || haystacks.get(c.key)!.includes(q)) && (!category || c.categories.includes(category)) && (!show || c.config.enabled === (show === 'enabled')))
    .sort(byEnabledThenName);
  const enabledCount = all.filter((c) => c.config.enabled).length;
  const filtered = Boolean(q || category || show);

  async function setEnabled(connector: Connector, enabled: boolean) {
    busy.value = connector.key;
    try {
      onChanged(await api.updateConnector(connector.key, { enabled }));
      toast(`${connector.name} ${enabled ? 'enabled' : 'switched off'}`);
      confirmingOff.value = null;
    } catch (caught) {
      // An OAuth connector needs its app's credentials first: that is on its own page.
      if (enabled && caught instanceof ApiError && caught.code === 'validation_failed') navigate(`connectors/${connector.key}`);
      toast(messageOf(caught));
    } finally {
      busy.value = null;
    }
  }

  return (
    <>
      <form class="filters connector-filters card" role="search" aria-label="Filter connectors" onSubmit={(e) => e.preventDefault()}>
        <Field label="Search" class="filter-grow">
          {(aria) => (
            <input
              {...aria}
              type="search"
              class="input-small"
              placeholder="Name, category or what it does"
              autoComplete="off"
              value={search.value}
              onInput={(e) => {
                search.value = e.currentTarget.value;
                setQuery({ q: search.value.trim() || null });
              }}
            />
          )}
        </Field>
        <Field label="Category" class="filter">
          {(aria) => (
            <select {...aria} class="select-small" value={category} onChange={(e) => setQuery({ category: e.currentTarget.value || null })}>
              <option value="">All categories ({all.length})</option>
              {categories.map(([key, count]) => (
                <option key={key} value={key}>
                  {categoryLabel(key)} ({count})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Show" class="filter">
          {(aria) => (
            <select {...aria} class="select-small" value={show} onChange={(e) => setQuery({ show: e.currentTarget.value || null })}>
              {SHOW_OPTIONS.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        {filtered && (
          <ClearFilters
            onClear={() => {
              search.value = '';
              setQuery({ q: null, category: null, show: null });
            }}
          />
        )}
      </form>
      <p class="section-note muted" role="status">
        {enabledCount} of {all.length} enabled{filtered ? ` · ${shown.length} shown` : ''}
      </p>
      {shown.length === 0 ? (
        <EmptyState title={q ? `No connector matches “${search.value.trim()}”` : 'No connector matches these filters'} />
      ) : (
        <ul class="connector-grid">
          {shown.map((c) => (
            <li key={c.key} class="connector-item">
              <Link to={`connectors/${c.key}`} class="connector-card">
                <span class="connector-card-head">
                  <ConnectorLogo connector={c} />
                  {/* The badges on their own line under the name: every card's head has the same shape, however long the name. */}
                  <span class="connector-card-title">
                    <span class="connector-card-name">{c.name}</span>
                    <ConnectorState connector={c} />
                  </span>
                </span>
                <span class="connector-card-desc">{c.description}</span>
                <span class="connector-card-meta">
                  {AUTH_LABELS[c.authType]} · {c.actions.length} action{c.actions.length === 1 ? '' : 's'}
                </span>
              </Link>
              {can('admin') && (
                <input
                  type="checkbox"
                  role="switch"
                  class="switch connector-quick-switch"
                  aria-label={`${c.name} enabled`}
                  // On while it is being saved; what is stored once saved or refused.
                  checked={c.config.enabled || busy.value === c.key}
                  disabled={busy.value === c.key}
                  onChange={(e) => {
                    if (e.currentTarget.checked) return void setEnabled(c, true);
                    e.currentTarget.checked = true; // still on until confirmed
                    confirmingOff.value = c;
                  }}
                />
              )}
            </li>
          ))}
        </ul>
      )}
      {confirmingOff.value && (
        <ConfirmDialog
          title={`Switch ${confirmingOff.value.name} off?`}
          confirmLabel="Switch off"
          busy={busy.value === confirmingOff.value.key}
          onConfirm={() => void setEnabled(confirmingOff.value!, false)}
          onCancel={() => (confirmingOff.value = null)}
        >
          <p>End users can no longer connect {confirmingOff.value.name}, and flows that use it fail until you switch it back on. Existing connections are kept.</p>
        </ConfirmDialog>
      )}
    </>
  );
}

const hostOf = (url: string): string => {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
};

const splitScopes = (text: string): string[] =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

export function ConnectorDetail({ connectorKey }: { connectorKey: string }) {
  const connector = useResource(() => api.connector(connectorKey), [connectorKey]);
  const found = connector.data.value;
  return (
    <>
      <Breadcrumb to="connectors" section="Connectors">
        {found?.name ?? connectorKey}
      </Breadcrumb>
      <PageHeader title={found?.name ?? 'Connector'} description={found?.description ?? ''} actions={found && <ConnectorState connector={found} />} />
      {connector.status.value === 404 ? (
        <EmptyState title={`There is no connector called “${connectorKey}”.`}>
          <Link to="connectors">See every connector</Link>
        </EmptyState>
      ) : (
        <Loaded resource={connector} what="the connector">
          {(c) => (
            <>
              <ConnectorForm connector={c} onSaved={(next) => (connector.data.value = next)} />
              <ConnectorOpenApi connectorKey={c.key} onChanged={() => void connector.reload()} />
            </>
          )}
        </Loaded>
      )}
    </>
  );
}

function ConnectorForm({ connector, onSaved }: { connector: Connector; onSaved: (next: Connector) => void }) {
  const editable = can('admin');
  const oauth = connector.authType === 'oauth2' || connector.authType === 'oauth2_client_credentials';
  // Client-credentials connections bring the end user's own API client; only authorization-code ones need the tenant's app.
  const tenantApp = connector.authType === 'oauth2';
  const enabled = useSignal(connector.config.enabled);
  const sandbox = useSignal(Boolean(connector.config.settings.useSandbox));
  const endUserApp = useSignal(Boolean(connector.config.settings.endUserApp));
  const clientId = useSignal(connector.config.clientId ?? '');
  const clientSecret = useSignal('');
  const signingSecret = useSignal('');
  // The provider sends every end user's events to one URL of the tenant's app (Slack Events API, HubSpot webhooks).
  const appWebhooks = connector.webhooks?.routing === 'app' ? connector.webhooks : null;
  const scopes = useSignal((connector.config.scopes ?? connector.defaultScopes).join(' '));
  const saving = useSignal(false);
  const errors = useSignal<Record<string, string>>({});
  const formError = useSignal<string | null>(null);
  const confirmingOff = useSignal(false);

  // A fresh copy from the server (after saving) resets the form to what is stored.
  useEffect(() => {
    enabled.value = connector.config.enabled;
    sandbox.value = Boolean(connector.config.settings.useSandbox);
    endUserApp.value = Boolean(connector.config.settings.endUserApp);
    clientId.value = connector.config.clientId ?? '';
    clientSecret.value = '';
    signingSecret.value = '';
    scopes.value = (connector.config.scopes ?? connector.defaultScopes).join(' ');
  }, [connector]);

  async function save(event: Event) {
    event.preventDefault();
    if (saving.value) return;
    // Switching a live connector off is destructive: ask first.
    if (connector.config.enabled && !enabled.value && !confirmingOff.value) {
      confirmingOff.value = true;
      return;
    }
    await store();
  }

  async function store() {
    const patch: ConnectorPatch = { enabled: enabled.value, settings: { useSandbox: sandbox.value, ...(connector.authType === 'oauth2' ? { endUserApp: endUserApp.value } : {}) } };
    if (tenantApp) {
      const id = clientId.value.trim();
      if (id !== (connector.config.clientId ?? '')) patch.clientId = id || null;
      if (clientSecret.value) patch.clientSecret = clientSecret.value;
    }
    if (appWebhooks?.secret === 'signing_secret' && signingSecret.value) patch.webhookSigningSecret = signingSecret.value;
    if (oauth) {
      const wanted = splitScopes(scopes.value);
      const current = connector.config.scopes ?? connector.defaultScopes;
      if (wanted.join(' ') !== current.join(' ')) patch.scopes = wanted.length ? wanted : null;
    }
    saving.value = true;
    errors.value = {};
    formError.value = null;
    try {
      const next = await api.updateConnector(connector.key, patch);
      onSaved(next);
      toast(`Saved ${connector.name}`);
    } catch (caught) {
      if (caught instanceof ApiError && Object.keys(caught.fieldErrors).length) {
        errors.value = caught.fieldErrors;
        formError.value = caught.message;
      } else formError.value = messageOf(caught);
    } finally {
      saving.value = false;
      confirmingOff.value = false;
    }
  }

  const scopeError = Object.entries(errors.value).find(([path]) => path.startsWith('scopes'))?.[1];
  /** The API's field messages are fragments ("is required…"); they read better after the field's name. */
  const said = (label: string, message: string | undefined) => (message && /^[a-z]/.test(message) ? `${label} ${message}` : message);
  return (
    <div class="two-column">
      <form class="card" onSubmit={save} noValidate aria-labelledby="connector-settings-title">
        <h2 id="connector-settings-title" class="card-title">
          Settings
        </h2>
        {!editable && <Alert tone="info">You can look but not change: connector settings need the admin role.</Alert>}
        {formError.value && (
          <Alert tone="error" title="Not saved">
            {formError.value}
          </Alert>
        )}
        <fieldset class="plain-fieldset" disabled={!editable || saving.value}>
          <legend class="sr-only">Connector settings</legend>
          <Switch
            label="Enabled"
            checked={enabled.value}
            onChange={(v) => (enabled.value = v)}
            hint={enabled.value ? 'End users can connect it in the widget.' : 'Hidden from end users; existing connections stay but cannot be used by flows.'}
          />
          <Switch
            label="Use the sandbox"
            checked={sandbox.value}
            onChange={(v) => (sandbox.value = v)}
            hint="For demos and tests: connect to Switchboard's local fake provider instead of the real one. No OAuth app needed."
          />
          {errors.value['settings.useSandbox'] && <p class="field-error">Sandbox: {errors.value['settings.useSandbox']}</p>}
          {connector.authType === 'oauth2' && (
            <Switch
              label="End users bring their own OAuth app"
              checked={endUserApp.value}
              onChange={(v) => (endUserApp.value = v)}
              hint="The connect window asks each end user for the client ID and secret of their own app; yours below is not needed."
            />
          )}

          {oauth && (
            <>
              <h3 class="form-section-title">{tenantApp ? 'OAuth app' : 'OAuth client'}</h3>
              {!tenantApp && (
                <p class="muted small form-section-lede">
                  Each end user enters the client ID and secret of an API client they created in {connector.name} when they connect; you need no app of your own.
                </p>
              )}
              {tenantApp && (
                <>
                  <p class="muted small form-section-lede">
                    Create an OAuth app in your {connector.name} developer settings, register the callback URL below, and paste its credentials here.
                  </p>
                  <CopyBox label="Callback URL" value={connector.config.callbackUrl} />
                  <div class="field-gap" />
                  <TextField
                    label="Client ID"
                    name="clientId"
                    autoComplete="off"
                    spellcheck={false}
                    value={clientId.value}
                    onValue={(v) => (clientId.value = v)}
                    error={said('Client ID', errors.value.clientId)}
                    optional={sandbox.value || endUserApp.value}
                  />
                  <TextField
                    label="Client secret"
                    name="clientSecret"
                    type="password"
                    autoComplete="new-password"
                    value={clientSecret.value}
                    onValue={(v) => (clientSecret.value = v)}
                    placeholder={connector.config.hasClientSecret ? '•••••••• stored; type to replace' : ''}
                    hint={
                      connector.config.hasClientSecret
                        ? 'A secret is stored (encrypted). It is never shown again; type a new one to replace it.'
                        : 'Write-only: stored encrypted and never shown again.'
                    }
                    error={said('Client secret', errors.value.clientSecret)}
                    optional={sandbox.value}
                  />
                </>
              )}
              <Field label="Scopes" error={said('Scopes', scopeError)} hint={`Separated by spaces. Default: ${connector.defaultScopes.join(' ') || 'none'}.`}>
                {(aria) => (
                  <textarea
                    {...aria}
                    name="scopes"
                    class="textarea mono"
                    rows={2}
                    spellcheck={false}
                    value={scopes.value}
                    onInput={(e) => (scopes.value = e.currentTarget.value)}
                  />
                )}
              </Field>
            </>
          )}

          {appWebhooks && (
            <>
              <h3 class="form-section-title">Webhooks</h3>
              <p class="muted small form-section-lede">
                {connector.name} sends the events that start flows to one URL of your app. Set it as the events (webhook) URL in your {connector.name} app's settings
                {appWebhooks.secret === 'client_secret' ? '; deliveries are signed with the client secret above' : ''}.
              </p>
              {connector.config.webhookUrl ? (
                <CopyBox label="Webhook URL" value={connector.config.webhookUrl} />
              ) : (
                <p class="muted small">Save the connector once to get its webhook URL.</p>
              )}
              {appWebhooks.secret === 'signing_secret' && (
                <>
                  <div class="field-gap" />
                  <TextField
                    label="Webhook signing secret"
                    name="webhookSigningSecret"
                    type="password"
                    autoComplete="new-password"
                    value={signingSecret.value}
                    onValue={(v) => (signingSecret.value = v)}
                    placeholder={connector.config.hasWebhookSigningSecret ? '•••••••• stored; type to replace' : ''}
                    hint={
                      connector.config.hasWebhookSigningSecret
                        ? 'A signing secret is stored (encrypted). It is never shown again; type a new one to replace it.'
                        : `From your ${connector.name} app's credentials: Switchboard checks each delivery's signature with it. Write-only: stored encrypted and never shown again.`
                    }
                    error={said('Webhook signing secret', errors.value.webhookSigningSecret)}
                    optional
                  />
                </>
              )}
            </>
          )}
        </fieldset>
        {editable && (
          <div class="form-actions">
            <button type="submit" class="btn btn-primary" disabled={saving.value}>
              {saving.value ? 'Saving…' : 'Save changes'}
            </button>
          </div>
        )}
      </form>
      {confirmingOff.value && (
        <ConfirmDialog
          title={`Switch ${connector.name} off?`}
          confirmLabel="Switch off"
          busy={saving.value}
          error={formError.value}
          onConfirm={() => void store()}
          onCancel={() => (confirmingOff.value = false)}
        >
          <p>End users can no longer connect {connector.name}, and flows that use it fail until you switch it back on. Existing connections are kept.</p>
        </ConfirmDialog>
      )}
      <aside class="card side-card" aria-labelledby="connector-about-title">
        <h2 id="connector-about-title" class="card-title">
          About
        </h2>
        <dl class="facts">
          <dt>Key</dt>
          <dd>
            <code>{connector.key}</code>
          </dd>
          <dt>Sign-in</dt>
          <dd>{AUTH_LABELS[connector.authType]}</dd>
          <dt>Categories</dt>
          <dd>{connector.categories.join(', ') || '—'}</dd>
          <dt>Docs</dt>
          <dd>
            <a href={connector.docsUrl} target="_blank" rel="noopener noreferrer">
              {hostOf(connector.docsUrl)}
            </a>
          </dd>
        </dl>
        <h3 class="form-section-title">Actions flows can use</h3>
        {connector.actions.length === 0 ? (
          <p class="muted">None: flows call its API with request steps.</p>
        ) : (
          <ul class="action-list">
            {connector.actions.map((a) => (
              <li key={a.key}>
                <code>{a.key}</code>
                <span class="muted small block">{a.description || a.name}</span>
              </li>
            ))}
          </ul>
        )}
        {connector.triggers.length > 0 && (
          <>
            <h3 class="form-section-title">Triggers flows can start on</h3>
            <ul class="action-list">
              {connector.triggers.map((tr) => (
                <li key={tr.key}>
                  <code>{tr.key}</code> <span class="muted small">({tr.kind === 'poll' ? 'checked on an interval' : 'pushed by the provider'})</span>
                  <span class="muted small block">{tr.description || tr.name}</span>
                </li>
              ))}
            </ul>
          </>
        )}
      </aside>
    </div>
  );
}
