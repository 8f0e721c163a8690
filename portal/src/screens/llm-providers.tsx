import { useSignal } from '@preact/signals';
import { api, ApiError, messageOf, type LlmProvider } from '../api';
import { Link, navigate } from '../router';
import { can } from '../session';
import { Alert, Badge } from '../ui/alert';
import { FormActions } from '../ui/confirm-dialog';
import { Field, TextField } from '../ui/field';
import { Breadcrumb, EmptyState, PageHeader, RoleNotice } from '../ui/page';
import { Loaded, useResource } from '../ui/resource';
import { Switch } from '../ui/switch';
import { Time } from '../ui/time';
import { toast } from '../ui/toast';
import { FlushCard, Table } from '../ui/table';

/** The path segment of the "new provider" form: never a provider key (keys are kebab-case letters and digits). */
export const NEW_LLM_PROVIDER = '_new';

const KINDS: Record<LlmProvider['kind'], { label: string; baseUrl: string; model: string }> = {
  openai: { label: 'OpenAI', baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o-mini' },
  anthropic: { label: 'Anthropic', baseUrl: 'https://api.anthropic.com/v1', model: 'claude-sonnet-4-5' },
  'openai-compatible': { label: 'OpenAI-compatible (vLLM, Ollama, LiteLLM, a gateway…)', baseUrl: 'https://llm.example.com/v1', model: 'llama3.1:8b' },
};

const KIND_BADGE: Record<LlmProvider['kind'], string> = { openai: 'OpenAI', anthropic: 'Anthropic', 'openai-compatible': 'OpenAI-compatible' };

interface Draft {
  key: string;
  kind: LlmProvider['kind'];
  name: string;
  baseUrl: string;
  apiKey: string;
  removeApiKey: boolean;
  defaultModel: string;
}

const draftOf = (p: LlmProvider | null): Draft => ({
  key: p?.key ?? '',
  kind: p?.kind ?? 'openai',
  name: p?.name ?? '',
  baseUrl: p?.baseUrl ?? '',
  apiKey: '',
  removeApiKey: false,
  defaultModel: p?.defaultModel ?? '',
});

const FIELDS: Array<keyof Draft> = ['key', 'kind', 'name', 'baseUrl', 'apiKey', 'defaultModel'];

export function LlmProviders({ providerKey }: { providerKey: string | null }) {
  const creating = providerKey === NEW_LLM_PROVIDER;
  return (
    <>
      {providerKey !== null && (
        <Breadcrumb to="llm-providers" section="AI models">
          {creating ? 'New' : providerKey}
        </Breadcrumb>
      )}
      <PageHeader
        title={providerKey === null ? 'AI models' : creating ? 'New model provider' : 'Edit model provider'}
        description="The LLM providers your flows' agent steps call: OpenAI, Anthropic, or any server that speaks the OpenAI API. Keys are stored encrypted and never shown again; every call goes through the outbound network guard."
        actions={
          providerKey === null && can('admin') ? (
            <Link to={`llm-providers/${NEW_LLM_PROVIDER}`} class="btn btn-primary">
              Add provider
            </Link>
          ) : undefined
        }
      />
      {providerKey === null ? (
        <ProviderList />
      ) : !can('admin') ? (
        <RoleNotice needed="admin" what="change model providers" />
      ) : creating ? (
        <ProviderForm provider={null} />
      ) : (
        <ExistingProvider providerKey={providerKey} />
      )}
    </>
  );
}

function ProviderList() {
  const providers = useResource(() => api.llmProviders(), []);
  const admin = can('admin');
  return (
    <FlushCard titleId="llm-providers-title" title="Model providers">
      <Loaded resource={providers} what="the model providers">
        {(page) =>
          page.data.length === 0 ? (
            <EmptyState title="No model providers yet">
              {admin ? 'Add one with its API key; flows name it by its key in an agent step.' : 'An admin adds them; flows name them by key in an agent step.'}
            </EmptyState>
          ) : (
            <Table columns={['Provider', 'Key', 'Default model', 'API key', 'Changed']}>
              {page.data.map((p) => (
                <tr key={p.id} data-llm-provider={p.key}>
                  <th scope="row">
                    {admin ? (
                      <Link to={`llm-providers/${p.key}`} class="cell-link">
                        {p.name}
                      </Link>
                    ) : (
                      p.name
                    )}
                    <div class="muted small">
                      {KIND_BADGE[p.kind] ?? p.kind}
                      {p.baseUrl && <span class="mono"> · {p.baseUrl}</span>}
                    </div>
                  </th>
                  <td class="mono small nowrap">{p.key}</td>
                  <td class="mono small">{p.defaultModel ?? <span class="muted">none (steps name one)</span>}</td>
                  <td>{p.hasApiKey ? <Badge tone="success">Stored</Badge> : <Badge tone="neutral">None</Badge>}</td>
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

function ExistingProvider({ providerKey }: { providerKey: string }) {
  const existing = useResource(() => api.llmProvider(providerKey), [providerKey]);
  return (
    <Loaded
      resource={existing}
      what="the model provider"
      missing={
        <EmptyState title="There is no such model provider in this tenant.">
          <Link to="llm-providers">See every model provider</Link>
        </EmptyState>
      }
    >
      {(provider) => <ProviderForm provider={provider} />}
    </Loaded>
  );
}

function ProviderForm({ provider }: { provider: LlmProvider | null }) {
  const draft = useSignal<Draft>(draftOf(provider));
  const errors = useSignal<Record<string, string>>({});
  const formError = useSignal<string | null>(null);
  const busy = useSignal(false);

  const f = draft.value;
  const set =
    <K extends keyof Draft>(field: K) =>
    (value: Draft[K]) =>
      (draft.value = { ...draft.value, [field]: value });
  const kind = KINDS[f.kind];
  const compatible = f.kind === 'openai-compatible';

  async function save(event: Event) {
    event.preventDefault();
    busy.value = true;
    errors.value = {};
    formError.value = null;
    const d = draft.value;
    const common = { kind: d.kind, name: d.name.trim(), baseUrl: d.baseUrl.trim() || null, defaultModel: d.defaultModel.trim() || null };
    try {
      const saved = provider
        ? await api.updateLlmProvider(provider.key, { ...common, ...(d.apiKey ? { apiKey: d.apiKey } : d.removeApiKey ? { apiKey: null } : {}) })
        : await api.createLlmProvider({ ...common, key: d.key.trim(), ...(d.apiKey ? { apiKey: d.apiKey } : {}) });
      toast(`Saved ${saved.name}`);
      navigate('llm-providers');
    } catch (caught) {
      if (caught instanceof ApiError && Object.keys(caught.fieldErrors).length) {
        const mapped: Record<string, string> = {};
        const rest: string[] = [];
        for (const [path, message] of Object.entries(caught.fieldErrors)) {
          if ((FIELDS as string[]).includes(path) && !mapped[path]) mapped[path] = message;
          else rest.push(`${path}: ${message}`);
        }
        errors.value = mapped;
        formError.value = caught.code === 'provider_key_taken' ? caught.message : ['Some fields need a change; each says what is wrong.', ...rest].join(' ');
      } else formError.value = messageOf(caught);
    } finally {
      busy.value = false;
    }
  }

  const storedKey = provider?.hasApiKey && !f.removeApiKey;
  return (
    <form class="card" onSubmit={save} noValidate aria-labelledby="llm-provider-form-title">
      <h2 id="llm-provider-form-title" class="card-title">
        {provider ? provider.name : 'Connect a model provider'}
      </h2>
      {formError.value && (
        <Alert tone="error" title="Not saved">
          {formError.value}
        </Alert>
      )}
      <fieldset class="plain-fieldset" disabled={busy.value}>
        <legend class="sr-only">Model provider</legend>
        {provider ? (
          <Field label="Key" hint="The key cannot change: agent steps name the provider by it.">
            {(aria) => <input {...aria} name="key" value={provider.key} readOnly class="mono" />}
          </Field>
        ) : (
          <TextField
            label="Key"
            name="key"
            value={f.key}
            onValue={set('key')}
            error={errors.value.key}
            spellcheck={false}
            autoComplete="off"
            placeholder="openai-main"
            hint="Lower-case words joined by dashes; an agent step names the provider by it."
          />
        )}
        <Field label="Kind" error={errors.value.kind}>
          {(aria) => (
            <select {...aria} name="kind" value={f.kind} onChange={(e) => set('kind')(e.currentTarget.value as Draft['kind'])}>
              {Object.entries(KINDS).map(([value, k]) => (
                <option key={value} value={value}>
                  {k.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <TextField
          label="Name"
          name="name"
          value={f.name}
          onValue={set('name')}
          error={errors.value.name}
          placeholder={compatible ? 'Our vLLM cluster' : `${KIND_BADGE[f.kind]} (production)`}
        />
        <TextField
          label="Base URL"
          name="baseUrl"
          value={f.baseUrl}
          onValue={set('baseUrl')}
          error={errors.value.baseUrl}
          optional={!compatible}
          spellcheck={false}
          placeholder={kind.baseUrl}
          hint={
            compatible
              ? "The server's OpenAI API root (before /chat/completions). https only; plain http only for an address this deployment's outbound allow-list permits."
              : `Leave empty for ${kind.baseUrl}; set it to go through a proxy or gateway (https).`
          }
        />
        <TextField
          label="API key"
          name="apiKey"
          type="password"
          autoComplete="new-password"
          value={f.apiKey}
          onValue={(v) => (draft.value = { ...draft.value, apiKey: v, removeApiKey: v ? false : draft.value.removeApiKey })}
          error={errors.value.apiKey}
          optional={compatible || Boolean(storedKey)}
          placeholder={storedKey ? '•••••••• stored; type to replace' : ''}
          hint={storedKey ? 'A key is stored (encrypted). It is never shown again; type a new one to replace it.' : 'Write-only: stored encrypted and never shown again.'}
        />
        {provider?.hasApiKey && compatible && (
          <Switch
            label="Remove the stored key"
            hint="For a server that needs no key. Typing a new key replaces the stored one instead."
            checked={f.removeApiKey}
            disabled={Boolean(f.apiKey)}
            onChange={set('removeApiKey')}
          />
        )}
        <TextField
          label="Default model"
          name="defaultModel"
          value={f.defaultModel}
          onValue={set('defaultModel')}
          error={errors.value.defaultModel}
          optional
          spellcheck={false}
          placeholder={kind.model}
          hint="Used by agent steps that do not name a model."
        />
      </fieldset>
      <FormActions
        editing={provider}
        submitLabel={provider ? 'Save changes' : 'Add provider'}
        deleteLabel="Delete provider"
        busy={busy}
        onDelete={async () => {
          await api.deleteLlmProvider(provider!.key);
          toast(`Deleted ${provider!.name}`);
          navigate('llm-providers');
        }}
        consequences={
          provider && (
            <>
              Its stored key is deleted with it. Agent steps that name <span class="mono">{provider.key}</span> fail until a provider with that key is added again.
            </>
          )
        }
      />
    </form>
  );
}
