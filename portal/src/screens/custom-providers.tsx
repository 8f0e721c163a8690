import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { api, ApiError, CONNECTOR_CATEGORIES, messageOf, type CustomProvider } from '../api';
import { Link, navigate } from '../router';
import { can } from '../session';
import { Alert, Badge } from '../ui/alert';
import { FormActions } from '../ui/confirm-dialog';
import { Field, TextField } from '../ui/field';
import { Breadcrumb, EmptyState, PageHeader, RoleNotice } from '../ui/page';
import { Loaded, useResource } from '../ui/resource';
import { Time } from '../ui/time';
import { toast } from '../ui/toast';
import { FlushCard, Table } from '../ui/table';

const AUTH_LABELS: Record<string, string> = {
  oauth2: 'OAuth 2 (authorization code)',
  oauth2_client_credentials: 'OAuth 2 (client credentials)',
  api_key: 'API key',
  basic: 'Username and password',
};

/**
 * The common fields of a provider, flat, as the form edits them. Everything else of a definition
 * (pagination, rate limits, connection config…) is kept from the advanced editor's JSON.
 */
interface Draft {
  key: string;
  name: string;
  description: string;
  category: string;
  color: string;
  initials: string;
  docsUrl: string;
  authType: string;
  authorizationUrl: string;
  tokenUrl: string;
  scopes: string;
  pkce: boolean;
  keyIn: string;
  keyName: string;
  keyPrefix: string;
  baseUrl: string;
  verifyPath: string;
  accountId: string;
  accountName: string;
}

type Definition = Record<string, any>;

const EMPTY: Draft = {
  key: '',
  name: '',
  description: '',
  category: 'other',
  color: '#3559e0',
  initials: '',
  docsUrl: '',
  authType: 'api_key',
  authorizationUrl: '',
  tokenUrl: '',
  scopes: '',
  pkce: true,
  keyIn: 'header',
  keyName: 'Authorization',
  keyPrefix: 'Bearer ',
  baseUrl: '',
  verifyPath: '',
  accountId: 'id',
  accountName: '',
};

function draftOf(key: string, d: Definition): Draft {
  const auth = d.auth ?? {};
  return {
    key,
    name: d.name ?? '',
    description: d.description ?? '',
    category: d.categories?.[0] ?? 'other',
    color: d.logo?.color ?? EMPTY.color,
    initials: d.logo?.text ?? '',
    docsUrl: d.docsUrl ?? '',
    authType: auth.type ?? 'api_key',
    authorizationUrl: auth.authorizationUrl ?? '',
    tokenUrl: auth.tokenUrl ?? '',
    scopes: (auth.scopes ?? []).join(' '),
    pkce: auth.pkce !== false,
    keyIn: auth.in ?? 'header',
    keyName: auth.name ?? EMPTY.keyName,
    keyPrefix: auth.prefix ?? '',
    baseUrl: d.baseUrl ?? '',
    verifyPath: d.verify?.path ?? '',
    accountId: d.verify?.accountId ?? 'id',
    accountName: d.verify?.accountName ?? '',
  };
}

const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== '' && v !== undefined));

/** The definition the form describes, on top of `base` (the advanced fields the form does not show survive). */
function definitionOf(f: Draft, base: Definition): Definition {
  const scopes = f.scopes.split(/[\s,]+/).filter(Boolean);
  const previous = base.auth?.type === f.authType ? base.auth : {};
  const auth =
    f.authType === 'oauth2'
      ? {
          ...previous,
          type: 'oauth2',
          authorizationUrl: f.authorizationUrl.trim(),
          tokenUrl: f.tokenUrl.trim(),
          scopes,
          refreshable: previous.refreshable ?? true,
          ...(f.pkce ? { pkce: undefined } : { pkce: false }),
        }
      : f.authType === 'oauth2_client_credentials'
        ? { ...previous, type: 'oauth2_client_credentials', tokenUrl: f.tokenUrl.trim(), ...(scopes.length ? { scopes } : {}) }
        : f.authType === 'api_key'
          ? { ...previous, type: 'api_key', in: f.keyIn, name: f.keyName.trim(), ...(f.keyPrefix ? { prefix: f.keyPrefix } : { prefix: undefined }) }
          : { ...previous, type: 'basic' };
  return {
    ...base,
    name: f.name.trim(),
    description: f.description.trim(),
    categories: [f.category, ...(base.categories ?? []).filter((c: string) => c !== f.category)],
    logo: defined({ color: f.color, text: f.initials.trim() }),
    docsUrl: f.docsUrl.trim(),
    auth: JSON.parse(JSON.stringify(auth)),
    baseUrl: f.baseUrl.trim(),
    verify: { ...(base.verify ?? {}), ...defined({ path: f.verifyPath.trim(), accountId: f.accountId.trim(), accountName: f.accountName.trim() || undefined }) },
  };
}

/** `definition.auth.tokenUrl` → the form field that shows it. */
const FIELD_OF: Record<string, keyof Draft> = {
  key: 'key',
  'definition.name': 'name',
  'definition.description': 'description',
  'definition.categories': 'category',
  'definition.logo': 'color',
  'definition.logo.color': 'color',
  'definition.logo.text': 'initials',
  'definition.docsUrl': 'docsUrl',
  'definition.auth.type': 'authType',
  'definition.auth.authorizationUrl': 'authorizationUrl',
  'definition.auth.tokenUrl': 'tokenUrl',
  'definition.auth.scopes': 'scopes',
  'definition.auth.in': 'keyIn',
  'definition.auth.name': 'keyName',
  'definition.auth.prefix': 'keyPrefix',
  'definition.baseUrl': 'baseUrl',
  'definition.verify.path': 'verifyPath',
  'definition.verify.accountId': 'accountId',
  'definition.verify.accountName': 'accountName',
};

const fieldOf = (path: string): keyof Draft | undefined => FIELD_OF[path] ?? FIELD_OF[path.replace(/\.\d+$/, '')];

export function CustomProviders({ id }: { id: string | null }) {
  return (
    <>
      {id !== null && (
        <Breadcrumb to="custom-providers" section="Custom providers">
          {id === 'new' ? 'New' : 'Edit'}
        </Breadcrumb>
      )}
      <PageHeader
        title={id === null ? 'Custom providers' : id === 'new' ? 'New custom provider' : 'Edit custom provider'}
        description="Your own APIs and providers, described as data: once saved, each one is enabled, configured and connected under Connectors like the built-in ones, and only your tenant sees it."
        actions={
          id === null && can('admin') ? (
            <Link to="custom-providers/new" class="btn btn-primary">
              New provider
            </Link>
          ) : undefined
        }
      />
      {id === null ? <ProviderList /> : !can('admin') ? <RoleNotice needed="admin" what="define custom providers" /> : <ProviderEditor id={id === 'new' ? null : id} key={id} />}
    </>
  );
}

function ProviderList() {
  const providers = useResource(() => api.customProviders(), []);
  return (
    <FlushCard titleId="providers-title" title="Your providers">
      <Loaded resource={providers} what="the custom providers">
        {(page) =>
          page.data.length === 0 ? (
            <EmptyState title="No custom providers yet">
              Define one for an API the built-in connectors do not cover: its URLs, how it authenticates, and how to name the connected account.
            </EmptyState>
          ) : (
            <Table columns={['Provider', 'Key', 'Auth', 'Changed']}>
              {page.data.map((p) => (
                <tr key={p.id} data-provider={p.key}>
                  <th scope="row">
                    <Link to={`custom-providers/${p.id}`} class="cell-link">
                      {p.name}
                    </Link>
                  </th>
                  <td class="mono small">{p.key}</td>
                  <td>
                    <Badge tone="neutral">{AUTH_LABELS[p.authType] ?? p.authType}</Badge>
                  </td>
                  <td>
                    <Time iso={p.updatedAt} relative />
                  </td>
                </tr>
              ))}
            </Table>
          )
        }
      </Loaded>
    </FlushCard>
  );
}

function ProviderEditor({ id }: { id: string | null }) {
  if (id === null) return <ProviderForm provider={null} />;
  return <ExistingProvider id={id} />;
}

function ExistingProvider({ id }: { id: string }) {
  const existing = useResource(() => api.customProvider(id), [id]);
  return (
    <Loaded
      resource={existing}
      what="the provider"
      missing={
        <EmptyState title="There is no such provider in this tenant.">
          <Link to="custom-providers">See every custom provider</Link>
        </EmptyState>
      }
    >
      {(provider) => <ProviderForm provider={provider} />}
    </Loaded>
  );
}

function ProviderForm({ provider }: { provider: CustomProvider | null }) {
  const draft = useSignal<Draft>(provider ? draftOf(provider.key, provider.definition) : EMPTY);
  /** The definition as last saved or typed in the advanced editor: the fields the form does not show live here. */
  const base = useSignal<Definition>(provider?.definition ?? {});
  const advanced = useSignal(false);
  const json = useSignal('');
  const jsonError = useSignal<string | null>(null);
  const errors = useSignal<Record<string, string>>({});
  const otherErrors = useSignal<string[]>([]);
  const formError = useSignal<string | null>(null);
  const busy = useSignal(false);

  useEffect(() => {
    if (advanced.value) json.value = JSON.stringify(definitionOf(draft.value, base.value), null, 2);
  }, [advanced.value]);

  const set = (field: keyof Draft) => (value: string | boolean) => (draft.value = { ...draft.value, [field]: value });
  const f = draft.value;
  const err = (field: keyof Draft) => errors.value[field];

  /** The definition to send: the JSON editor's when it is open, else the form's. */
  function current(): Definition | null {
    if (!advanced.value) return definitionOf(draft.value, base.value);
    try {
      const parsed = JSON.parse(json.value) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('The definition must be a JSON object');
      jsonError.value = null;
      return parsed as Definition;
    } catch (error) {
      jsonError.value = (error as Error).message;
      return null;
    }
  }

  function toggleAdvanced() {
    if (advanced.value) {
      const parsed = current();
      if (!parsed) return;
      base.value = parsed;
      draft.value = draftOf(draft.value.key, parsed);
    }
    advanced.value = !advanced.value;
  }

  async function save(event: Event) {
    event.preventDefault();
    const definition = current();
    if (!definition) return;
    busy.value = true;
    errors.value = {};
    otherErrors.value = [];
    formError.value = null;
    try {
      const body = { key: draft.value.key.trim(), definition };
      const saved = provider ? await api.replaceCustomProvider(provider.id, body) : await api.createCustomProvider(body);
      toast(`Saved ${saved.name}. Enable it under Connectors.`);
      navigate(`connectors/${saved.key}`);
    } catch (caught) {
      if (caught instanceof ApiError && Object.keys(caught.fieldErrors).length) {
        const mapped: Record<string, string> = {};
        const rest: string[] = [];
        for (const [path, message] of Object.entries(caught.fieldErrors)) {
          const field = advanced.value ? undefined : fieldOf(path);
          if (field && !mapped[field]) mapped[field] = message;
          else rest.push(`${path}: ${message}`);
        }
        errors.value = mapped;
        otherErrors.value = rest;
        formError.value = caught.code === 'provider_key_taken' ? caught.message : 'Some fields need a change; each says what is wrong.';
      } else formError.value = messageOf(caught);
    } finally {
      busy.value = false;
    }
  }

  const oauth = f.authType === 'oauth2';
  return (
    <form class="card" onSubmit={save} noValidate aria-labelledby="provider-form-title">
      <h2 id="provider-form-title" class="card-title">
        {provider ? provider.name : 'Describe the provider'}
      </h2>
      {formError.value && (
        <Alert tone="error" title="Not saved">
          {formError.value}
          {otherErrors.value.length > 0 && (
            <ul class="error-list">
              {otherErrors.value.map((e) => (
                <li key={e} class="mono small">
                  {e}
                </li>
              ))}
            </ul>
          )}
        </Alert>
      )}
      <fieldset class="plain-fieldset" disabled={busy.value}>
        <legend class="sr-only">Provider</legend>
        <TextField
          label="Key"
          name="key"
          value={f.key}
          onValue={set('key')}
          error={err('key')}
          spellcheck={false}
          autoComplete="off"
          placeholder="acme-crm"
          hint={provider ? 'The key cannot change: connections and flows name the provider by it.' : 'Lower-case words joined by dashes; flows and the widget use it.'}
        />
        {!advanced.value && (
          <>
            <TextField label="Name" name="name" value={f.name} onValue={set('name')} error={err('name')} placeholder="Acme CRM" />
            <TextField
              label="Description"
              name="description"
              value={f.description}
              onValue={set('description')}
              error={err('description')}
              placeholder="What end users connect it for"
            />
            <Field label="Category" error={err('category')}>
              {(aria) => (
                <select {...aria} name="category" value={f.category} onChange={(e) => set('category')(e.currentTarget.value)}>
                  {CONNECTOR_CATEGORIES.map((c) => (
                    <option key={c} value={c}>
                      {c}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <TextField
              label="Logo colour"
              name="color"
              value={f.color}
              onValue={set('color')}
              error={err('color')}
              hint="A #rrggbb colour; the logo is a monogram of the initials."
            />
            <TextField label="Logo initials" name="initials" value={f.initials} onValue={set('initials')} error={err('initials')} optional placeholder="AC" />
            <TextField label="Documentation URL" name="docsUrl" value={f.docsUrl} onValue={set('docsUrl')} error={err('docsUrl')} placeholder="https://developer.acme.example" />
            <h3 class="form-section-title">Authentication</h3>
            <Field label="How end users authenticate" error={err('authType')}>
              {(aria) => (
                <select {...aria} name="authType" value={f.authType} onChange={(e) => set('authType')(e.currentTarget.value)}>
                  {Object.entries(AUTH_LABELS).map(([value, label]) => (
                    <option key={value} value={value}>
                      {label}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            {oauth && (
              <TextField
                label="Authorization URL"
                name="authorizationUrl"
                value={f.authorizationUrl}
                onValue={set('authorizationUrl')}
                error={err('authorizationUrl')}
                placeholder="https://acme.example/oauth/authorize"
              />
            )}
            {(oauth || f.authType === 'oauth2_client_credentials') && (
              <>
                <TextField label="Token URL" name="tokenUrl" value={f.tokenUrl} onValue={set('tokenUrl')} error={err('tokenUrl')} placeholder="https://acme.example/oauth/token" />
                <TextField label="Scopes" name="scopes" value={f.scopes} onValue={set('scopes')} error={err('scopes')} optional={!oauth} hint="Separated by spaces." />
              </>
            )}
            {f.authType === 'api_key' && (
              <>
                <Field label="The key goes in" error={err('keyIn')}>
                  {(aria) => (
                    <select {...aria} name="keyIn" value={f.keyIn} onChange={(e) => set('keyIn')(e.currentTarget.value)}>
                      <option value="header">a header</option>
                      <option value="query">a query parameter</option>
                    </select>
                  )}
                </Field>
                <TextField label={f.keyIn === 'header' ? 'Header name' : 'Parameter name'} name="keyName" value={f.keyName} onValue={set('keyName')} error={err('keyName')} />
                <TextField
                  label="Prefix"
                  name="keyPrefix"
                  value={f.keyPrefix}
                  onValue={set('keyPrefix')}
                  error={err('keyPrefix')}
                  optional
                  hint='Put before the key, e.g. "Bearer ".'
                />
              </>
            )}
            <h3 class="form-section-title">API</h3>
            <TextField
              label="Base URL"
              name="baseUrl"
              value={f.baseUrl}
              onValue={set('baseUrl')}
              error={err('baseUrl')}
              placeholder="https://api.acme.example/v1"
              hint="https only (plain http only for hosts this deployment's outbound allow-list permits)."
            />
            <TextField
              label="Account check path"
              name="verifyPath"
              value={f.verifyPath}
              onValue={set('verifyPath')}
              error={err('verifyPath')}
              placeholder="me"
              hint="Called after connecting: proves the credentials work and names the account."
            />
            <TextField
              label="Account id field"
              name="accountId"
              value={f.accountId}
              onValue={set('accountId')}
              error={err('accountId')}
              hint="A dot path into its answer, e.g. id or user.id."
            />
            <TextField
              label="Account name field"
              name="accountName"
              value={f.accountName}
              onValue={set('accountName')}
              error={err('accountName')}
              optional
              placeholder="user.email"
            />
          </>
        )}
        {advanced.value && (
          <Field
            label="Definition (JSON)"
            error={jsonError.value ?? undefined}
            hint="The full catalogue entry: pagination, rate limits, connection config, extra headers and more. See docs/connectors.md."
          >
            {(aria) => (
              <textarea
                {...aria}
                name="definitionJson"
                class="textarea mono"
                rows={24}
                spellcheck={false}
                value={json.value}
                onInput={(e) => (json.value = e.currentTarget.value)}
              />
            )}
          </Field>
        )}
      </fieldset>
      <FormActions
        editing={provider}
        submitLabel={provider ? 'Save changes' : 'Create provider'}
        deleteLabel="Delete provider"
        busy={busy}
        left={
          <button type="button" class="btn btn-secondary" onClick={toggleAdvanced} aria-pressed={advanced.value}>
            {advanced.value ? 'Back to the form' : 'Advanced (JSON)'}
          </button>
        }
        onDelete={async () => {
          await api.deleteCustomProvider(provider!.id);
          toast(`Deleted ${provider!.name}`);
          navigate('custom-providers');
        }}
        consequences="Its connector settings and imported OpenAPI document go with it. A provider with connections or switched-on flows cannot be deleted: remove them first."
      />
    </form>
  );
}
