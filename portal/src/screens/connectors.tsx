import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { api, ApiError, messageOf, type Connector, type ConnectorPatch } from '../api';
import { Link } from '../router';
import { ConnectorOpenApi } from './connector-openapi';
import { can } from '../session';
import { Alert, Badge } from '../ui/alert';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { CopyBox } from '../ui/copy-box';
import { Field, TextField } from '../ui/field';
import { EmptyState, PageHeader } from '../ui/page';
import { Loaded, useResource } from '../ui/resource';
import { Switch } from '../ui/switch';
import { toast } from '../ui/toast';

const AUTH_LABELS: Record<Connector['authType'], string> = {
  oauth2: 'OAuth 2.0',
  oauth2_client_credentials: 'OAuth client credentials',
  api_key: 'API key',
  basic: 'Username and password',
};

/** The connector's SVG logo as an image (an <img> never runs scripts inside the SVG). */
export function ConnectorLogo({ connector, size = 36 }: { connector: Pick<Connector, 'logo'>; size?: number }) {
  return <img class="connector-logo" src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(connector.logo)}`} width={size} height={size} alt="" />;
}

function ConnectorState({ connector }: { connector: Connector }) {
  return (
    <span class="badge-row">
      {connector.config.enabled ? <Badge tone="success">Enabled</Badge> : <Badge tone="neutral">Off</Badge>}
      {connector.config.settings.useSandbox && <Badge tone="accent">Sandbox</Badge>}
    </span>
  );
}

export function Connectors() {
  const connectors = useResource(() => api.connectors(), []);
  return (
    <>
      <PageHeader
        title="Connectors"
        description="The apps your customers can connect. Switch one on, give it your OAuth app's credentials, and it appears in the widget."
      />
      <Loaded resource={connectors} what="the connectors">
        {(page) =>
          page.data.length === 0 ? (
            <EmptyState title="No connectors on this deployment" />
          ) : (
            <>
              <p class="section-note muted">
                {page.data.filter((c) => c.config.enabled).length} of {page.data.length} enabled
              </p>
              <ul class="connector-grid">
                {page.data.map((c) => (
                  <li key={c.key}>
                    <Link to={`connectors/${c.key}`} class="connector-card">
                      <span class="connector-card-head">
                        <ConnectorLogo connector={c} />
                        <span class="connector-card-name">{c.name}</span>
                        <ConnectorState connector={c} />
                      </span>
                      <span class="connector-card-desc">{c.description}</span>
                      <span class="connector-card-meta">
                        {AUTH_LABELS[c.authType]} · {c.actions.length} action{c.actions.length === 1 ? '' : 's'}
                      </span>
                    </Link>
                  </li>
                ))}
              </ul>
            </>
          )
        }
      </Loaded>
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
      <nav aria-label="Breadcrumb" class="breadcrumb">
        <Link to="connectors">Connectors</Link>
        <span aria-hidden="true">/</span>
        <span aria-current="page">{found?.name ?? connectorKey}</span>
      </nav>
      <PageHeader
        title={found?.name ?? 'Connector'}
        description={found?.description ?? ''}
        actions={found && <ConnectorState connector={found} />}
      />
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
  const enabled = useSignal(connector.config.enabled);
  const sandbox = useSignal(Boolean(connector.config.settings.useSandbox));
  const endUserApp = useSignal(Boolean(connector.config.settings.endUserApp));
  const clientId = useSignal(connector.config.clientId ?? '');
  const clientSecret = useSignal('');
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
    if (oauth) {
      const id = clientId.value.trim();
      if (id !== (connector.config.clientId ?? '')) patch.clientId = id || null;
      if (clientSecret.value) patch.clientSecret = clientSecret.value;
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
        {!editable && (
          <Alert tone="info">You can look but not change: connector settings need the admin role.</Alert>
        )}
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
              <h3 class="form-section-title">OAuth app</h3>
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
                hint={connector.config.hasClientSecret ? 'A secret is stored (encrypted). It is never shown again; type a new one to replace it.' : 'Write-only: stored encrypted and never shown again.'}
                error={said('Client secret', errors.value.clientSecret)}
                optional={sandbox.value}
              />
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
      </aside>
    </div>
  );
}
